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

}  // namespace zoomdiff::data
