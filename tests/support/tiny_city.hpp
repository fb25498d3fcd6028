#pragma once

// A small but realistic city for tests: the data file of grid_meta and the condition file of
// env_extra, written through the real writers (io::write_data_file, io::write_cond_file) under
// <root>/<City>/data/<City>_<datatype>_data.h5 and <root>/<City>/cond/<City>_cond.h5.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/io/cond_store.hpp"
#include "zoomdiff/io/data_root.hpp"
#include "zoomdiff/io/data_store.hpp"

namespace zoomdiff::test {

/// What write_tiny_city may change beyond size and seed.
struct TinyCityOptions {
    std::uint64_t seed = 1;
    double lon_min_deg = 115.80;  ///< south-west corner of the city box (near Nanchang)
    double lat_min_deg = 28.60;
    /// Tiles (flat index R_idx * C + C_idx) whose series are all zero (removed as constant).
    std::vector<std::size_t> zero_tiles;
    /// Tiles with one NaN hour in one 100 m cell (removed as non-finite).
    std::vector<std::size_t> nan_tiles;
    /// Called last, before writing: change any array, or the grid of one file.
    std::function<void(io::CityData& data, io::CityConditions& cond)> edit;
    bool write_data = true;
    bool write_cond = true;
};

/// What write_tiny_city wrote.
struct TinyCity {
    std::filesystem::path data_file;
    std::filesystem::path cond_file;
    geo::CityGrid grid;
};

/// A 100 m grid with exactly tile_rows x tile_cols whole 2000 m tiles (and a remainder of about
/// half a tile of 100 m cells to the north and east, as real boxes have).
geo::CityGrid tiny_city_grid(std::size_t tile_rows, std::size_t tile_cols,
                             double lon_min_deg = 115.80, double lat_min_deg = 28.60);

/// Writes both files of a city of tile_rows x tile_cols 2000 m tiles: a weekly series with a
/// daily cycle in about a third of the 100 m cells, population, buildings, roads, waterways,
/// water, natural and POI counts, all drawn from `seed` (same seed, same files).
void write_tiny_city(const std::filesystem::path& root, const std::string& city,
                     const std::string& datatype, std::size_t tile_rows, std::size_t tile_cols,
                     std::uint64_t seed);

/// The same with options (poisoned tiles, an edit hook, only one of the files).
TinyCity write_tiny_city(const std::filesystem::path& root, const std::string& city,
                         const std::string& datatype, std::size_t tile_rows, std::size_t tile_cols,
                         const TinyCityOptions& options);

/// For edit hooks: every 500 m cell of 2000 m tile `tile` gets the series `value` at every hour
/// (one 100 m cell of each 5 x 5 block holds it, the others 0, so the 500 m sum is exact).
void set_tile_constant(io::CityData& data, std::size_t tile, double value);

/// For edit hooks: the 100 m value of hour `hour` in cell (row, col) of the 500 m cell (a, b) of
/// 2000 m tile `tile` (a from the south, b from the west; row, col in 0..4).
double& cell_100m(io::CityData& data, std::size_t tile, std::size_t a, std::size_t b,
                  std::size_t row, std::size_t col, std::size_t hour);

}  // namespace zoomdiff::test
