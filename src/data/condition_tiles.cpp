#include "zoomdiff/data/condition_tiles.hpp"

#include <cmath>
#include <numeric>
#include <stdexcept>

#include "data/detail/city_files.hpp"
#include <fmt/format.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/geo/blocks.hpp"
#include "zoomdiff/io/cond_store.hpp"
#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::data {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kSide = 4;

/// A condition array, refused when a value is negative (but the tiles' coordinates and the mask).
template <typename T>
std::vector<T> read_checked(const io::H5File& file, const std::string& key,
                            const std::vector<std::size_t>& shape, const CitySource& s) {
    if (key == "/loc_2000m" || key == "/2000m/mask")
        return detail::read_checked<T>(file, key, shape, detail::cond_fix(s));
    return detail::read_not_negative<T>(file, key, shape, detail::cond_fix(s));
}

/// Throws naming the first non-finite value of a (R, C, 4, 4, depth) array.
template <typename T>
void require_finite(const std::vector<T>& values, const std::string& key, std::size_t cols,
                    std::size_t depth, const CitySource& s) {
    for (std::size_t k = 0; k < values.size(); ++k) {
        if (std::isfinite(static_cast<double>(values[k])))
            continue;
        const std::size_t cell = k / depth;
        const std::size_t tile = cell / 16;
        throw Error(s.cond_file.string(),
                    fmt::format("{} is {} at tile (row {}, col {}) cell (row {}, col {}){}", key,
                                values[k], tile / cols, tile % cols, (cell % 16) / 4, cell % 4,
                                depth > 1 ? fmt::format(" channel {}", k % depth) : std::string()),
                    "Fix the inputs of env_extra for that area and rewrite the condition file");
    }
}

}  // namespace

CitySource locate_conditions(const fs::path& data_root, const std::string& token) {
    CitySource s = detail::city_paths(data_root, token, "",
                                      "Check the spelling, or prepare the city with env_extra");
    s.data_file.clear();  // generation reads only the conditions
    if (!fs::is_regular_file(s.cond_file)) {
        throw Error(s.cond_file.string(), fmt::format("no condition file for {}", token),
                    detail::cond_fix(s));
    }
    return s;
}

ConditionTiles load_condition_tiles(const CitySource& source, StaticLayout layout,
                                    std::int64_t poi_channels) {
    if (poi_channels < 1)
        throw std::invalid_argument("load_condition_tiles: poi_channels must be positive");
    const auto kPoi = static_cast<std::size_t>(poi_channels);
    const io::H5File cond = io::H5File::open_read(source.cond_file);
    ConditionTiles out;
    out.token = source.token;
    out.city = source.city;
    out.cond_file = source.cond_file;
    out.grid = io::read_grid(cond);
    out.tile_arrangement = detail::tile_arrangement(cond);
    out.poi_channels = poi_channels;
    const std::size_t rows = out.grid.rows_2000m();
    const std::size_t cols = out.grid.cols_2000m();
    if (rows * cols == 0) {
        throw Error(source.cond_file.string(), "the city's grid holds no whole 2000 m tile",
                    "Use a larger city boundary (at least 2 km x 2 km)");
    }
    out.tile_rows = static_cast<std::int64_t>(rows);
    out.tile_cols = static_cast<std::int64_t>(cols);
    out.tiles = out.tile_rows * out.tile_cols;
    const std::size_t n = rows * cols;
    const std::vector<std::size_t> plane{rows, cols, kSide, kSide};
    const std::vector<std::size_t> poi_shape{rows, cols, kSide, kSide, kPoi};

    const std::vector<std::string> keys = detail::static_keys(layout);
    const std::size_t channels = keys.size();
    out.static_channels = static_cast<std::int64_t>(channels);
    out.static_cond.resize(n * channels * 16);
    for (std::size_t c = 0; c < channels; ++c) {
        const auto values = read_checked<double>(cond, keys[c], plane, source);
        require_finite(values, keys[c], cols, 1, source);
        for (std::size_t t = 0; t < n; ++t)
            for (std::size_t k = 0; k < 16; ++k)
                out.static_cond[(t * channels + c) * 16 + k] =
                    static_cast<float>(values[t * 16 + k]);
    }
    const std::string poi_key = detail::poi_key(layout);
    detail::require_poi_schema(cond, poi_key, source, poi_channels);
    const auto poi = read_checked<double>(cond, poi_key, poi_shape, source);
    require_finite(poi, poi_key, cols, kPoi, source);
    out.poi.resize(poi.size());
    for (std::size_t t = 0; t < n; ++t)  // (R, C, 4, 4, P) -> (N, P, 4, 4)
        for (std::size_t k = 0; k < 16; ++k)
            for (std::size_t p = 0; p < kPoi; ++p)
                out.poi[(t * kPoi + p) * 16 + k] = static_cast<float>(poi[(t * 16 + k) * kPoi + p]);
    out.loc = read_checked<double>(cond, "/loc_2000m", {rows, cols, 4}, source);
    if (cond.exists("/2000m/mask")) {
        out.mask_500m = geo::interleave_tiles(
            read_checked<std::uint8_t>(cond, "/2000m/mask", plane, source), rows, cols, 1);
    }

    if (layout == StaticLayout::kPoiOnly)
        return out;  // no population, no reference keys

    // The reference's 500 m keys (MODEL.md §5.7), true to the file's types.
    auto& c5 = out.conditions_500m;
    const std::vector<std::size_t> grid500{4 * rows, 4 * cols};
    const auto pop = read_checked<float>(cond, "/pop_2000m", plane, source);
    out.pop_mean = std::accumulate(pop.begin(), pop.end(), 0.0) / static_cast<double>(pop.size());
    c5.pop = NdArray<float>(grid500, geo::interleave_tiles(pop, rows, cols, 1));
    c5.building = NdArray<std::int64_t>(
        grid500,
        geo::interleave_tiles(read_checked<std::int64_t>(cond, "/building_2000m", plane, source),
                              rows, cols, 1));
    c5.roadlen = NdArray<double>(
        grid500, geo::interleave_tiles(read_checked<double>(cond, "/roadlen_2000m", plane, source),
                                       rows, cols, 1));
    c5.water_area = NdArray<double>(
        grid500,
        geo::interleave_tiles(read_checked<double>(cond, "/water_area_2000m", plane, source), rows,
                              cols, 1));
    c5.poi = NdArray<std::int64_t>(
        {4 * rows, 4 * cols, static_cast<std::size_t>(kPoiChannels)},
        geo::interleave_tiles(read_checked<std::int64_t>(cond, "/poi_2000m", poi_shape, source),
                              rows, cols, static_cast<std::size_t>(kPoiChannels)));
    return out;
}

}  // namespace zoomdiff::data
