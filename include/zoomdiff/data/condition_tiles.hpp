#pragma once

// A city's conditions for generation (reference/MODEL.md §5.2, with its defects fixed): every
// 2000 m tile of the condition file, in file order, none dropped or copied.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "zoomdiff/data/city_tiles.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/io/results_store.hpp"

namespace zoomdiff::data {

struct ConditionTiles {
    std::string token;
    std::string city;
    std::filesystem::path cond_file;
    geo::CityGrid grid;
    std::int64_t tile_rows = 0;  ///< R
    std::int64_t tile_cols = 0;  ///< C
    std::int64_t tiles = 0;      ///< R * C, flat index R_idx * C + C_idx
    std::int64_t static_channels = 0;
    std::int64_t poi_channels = kPoiChannels;  ///< P
    std::vector<float> static_cond;            ///< (N, static_channels, 4, 4)
    std::vector<float> poi;                    ///< (N, P, 4, 4)
    std::vector<double> loc;                   ///< (N, 4): lat_min, lat_max, lon_min, lon_max
    std::vector<std::uint8_t>
        mask_500m;  ///< (4R, 4C) from /2000m/mask; empty when the file has none
    double pop_mean =
        0.0;  ///< mean of pop_2000m (calibration's population ratio); 0 under poi_only
    /// The reference keys interleaved to (4R, 4C[, 21]); empty (size 0) under poi_only, which
    /// reads none of them.
    io::Conditions500m conditions_500m;
    /// The cond file's root attribute: "patches" (uomo_import: tiles with no position, laid side
    /// by side on a placeholder grid, so no map can be drawn) or "grid" (a real city map).
    std::string tile_arrangement = "grid";
};

/// The condition file of `token` under `data_root` (<root>/<City>/cond/<City>_cond.h5). An
/// unknown city or a missing file throws zoomdiff::Error naming the path and env_extra.
CitySource locate_conditions(const std::filesystem::path& data_root, const std::string& token);

/// Read every tile. Missing keys, shapes off the file's grid, a POI axis other than
/// `poi_channels` (21 unless poi_only) and a NaN or infinite condition (named by key, tile and
/// cell) throw zoomdiff::Error naming the file. poi_only reads /2000m/poi_count, /loc_2000m and
/// /2000m/mask (when present) only.
ConditionTiles load_condition_tiles(const CitySource& source, StaticLayout layout,
                                    std::int64_t poi_channels = kPoiChannels);

/// Interleave tiles (R, C, 4, 4, D...) to a 500 m grid (4R, 4C, D...): element [4I + a, 4J + b] =
/// tile (I, J) cell (a, b) (MODEL.md §5.6 step 3). `depth` = product of the trailing axes.
template <typename T>
std::vector<T> interleave_tiles(const std::vector<T>& tiles, std::size_t rows, std::size_t cols,
                                std::size_t depth) {
    std::vector<T> out(tiles.size());
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j)
            for (std::size_t a = 0; a < 4; ++a)
                for (std::size_t b = 0; b < 4; ++b)
                    for (std::size_t d = 0; d < depth; ++d)
                        out[(((4 * i + a) * 4 * cols) + 4 * j + b) * depth + d] =
                            tiles[((((i * cols + j) * 4 + a) * 4) + b) * depth + d];
    return out;
}

/// Block means inside each tile: values (items, 4, 4) (any leading axes flattened into `items`) to
/// (items, k, k), each output cell the mean of its (4/k) x (4/k) block of cells; k = 1, 2 or 4.
/// The coarse scales of zoomdiff_infer (2000 m = k 1 of segment 0's end, 1000 m = k 2 of segment
/// 1's).
std::vector<float> pool_tile_cells(const std::vector<float>& values, std::size_t k);

/// Generated values of every tile, tile-major (R * C tiles, ns, 168, k, k) with tile t = I * C + J,
/// to a grid (R k, C k, ns, 168): element [k I + a, k J + b] = tile (I, J) cell (a, b); rows from
/// the south. k = 4 (500 m), 2 (1000 m) or 1 (2000 m).
std::vector<float> tiles_to_grid(const std::vector<float>& tiles, std::size_t rows,
                                 std::size_t cols, std::size_t nsample, std::size_t k);

}  // namespace zoomdiff::data
