#include "support/tiny_city.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace zoomdiff::test {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kHours = 168;
constexpr std::size_t kTileCells = geo::kCellsPer500m * geo::kCellsPer2000m;  // 20 cells of 100 m
constexpr std::size_t kPoiCategories = 21;
constexpr double kPi = 3.14159265358979323846;

/// splitmix64: a tiny generator with the same bits everywhere (no std distributions).
class Draw {
public:
    explicit Draw(std::uint64_t seed) : state_(seed) {}

    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }

    /// Uniform in [0, 1).
    double unit() { return static_cast<double>(next() >> 11U) * 0x1.0p-53; }

    double uniform(double lo, double hi) { return lo + (hi - lo) * unit(); }

    bool chance(double p) { return unit() < p; }

    /// A small count, 0 .. max.
    std::int32_t count(std::int32_t max) {
        return static_cast<std::int32_t>(unit() * static_cast<double>(max + 1));
    }

private:
    std::uint64_t state_;
};

/// Share of a cell's weekly peak at hour h: night low, day high, weekends a little lower.
double daily_cycle(std::size_t h) {
    const double hour = static_cast<double>(h % 24);
    const double day = 0.5 - 0.5 * std::cos(2.0 * kPi * (hour - 4.0) / 24.0);
    const double weekend = h / 24 >= 5 ? 0.8 : 1.0;
    return weekend * (0.15 + 0.85 * day);
}

}  // namespace

geo::CityGrid tiny_city_grid(std::size_t tile_rows, std::size_t tile_cols, double lon_min_deg,
                             double lat_min_deg) {
    if (tile_rows == 0 || tile_cols == 0) {
        throw std::invalid_argument("tiny_city_grid: at least one tile per side");
    }
    // Aim at the middle of the remainder: 20 R + 10 rows and 20 C + 10 columns of 100 m.
    const double want_rows = static_cast<double>(kTileCells * tile_rows + kTileCells / 2);
    const double want_cols = static_cast<double>(kTileCells * tile_cols + kTileCells / 2);
    double dlat = want_rows * 100.0 / 110946.0;
    double dlon = want_cols * 100.0 / (111320.0 * std::cos(lat_min_deg * kPi / 180.0));
    for (int attempt = 0; attempt < 8; ++attempt) {
        const geo::CityGrid grid = geo::CityGrid::from_bbox(
            {lon_min_deg, lat_min_deg, lon_min_deg + dlon, lat_min_deg + dlat});
        if (grid.rows_2000m() == tile_rows && grid.cols_2000m() == tile_cols) {
            return grid;
        }
        dlat *= want_rows / static_cast<double>(grid.rows());
        dlon *= want_cols / static_cast<double>(grid.cols());
    }
    throw std::runtime_error("tiny_city_grid: no box found for this tile count");
}

void write_tiny_city(const fs::path& root, const std::string& city, const std::string& datatype,
                     std::size_t tile_rows, std::size_t tile_cols, std::uint64_t seed) {
    TinyCityOptions options;
    options.seed = seed;
    write_tiny_city(root, city, datatype, tile_rows, tile_cols, options);
}

TinyCity write_tiny_city(const fs::path& root, const std::string& city, const std::string& datatype,
                         std::size_t tile_rows, std::size_t tile_cols,
                         const TinyCityOptions& options) {
    const geo::CityGrid grid =
        tiny_city_grid(tile_rows, tile_cols, options.lon_min_deg, options.lat_min_deg);
    const std::size_t rows = grid.rows();
    const std::size_t cols = grid.cols();
    Draw draw(options.seed);

    io::CityData data;
    data.grid = grid;
    data.datatype = datatype;
    data.units = datatype == "user" ? "users" : "MB";
    data.data_100m = NdArray<double>({rows, cols, kHours}, 0.0);
    data.residents_100m = NdArray<std::int32_t>({rows, cols}, 0);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
            data.residents_100m.at(r, c) = draw.count(40);
            if (!draw.chance(0.35)) {
                continue;  // no station in this cell
            }
            // Peaks spread over two orders of magnitude, as station loads are.
            const double peak = std::exp(draw.uniform(0.0, 4.6)) * (datatype == "user" ? 3.0 : 1.5);
            for (std::size_t h = 0; h < kHours; ++h) {
                const double value = peak * daily_cycle(h) * draw.uniform(0.9, 1.1);
                data.data_100m.at(r, c, h) = datatype == "user" ? std::round(value) : value;
            }
        }
    }

    io::CityConditions cond;
    cond.grid = grid;
    const std::vector<std::size_t> shape{rows, cols};
    cond.population = NdArray<float>(shape, 0.0F);
    cond.building_count = NdArray<std::int32_t>(shape, 0);
    cond.road_length_m = NdArray<double>(shape, 0.0);
    cond.waterway_length_m = NdArray<double>(shape, 0.0);
    cond.water_area_m2 = NdArray<double>(shape, 0.0);
    cond.natural_count = NdArray<std::int32_t>(shape, 0);
    cond.osm_poi_count = NdArray<std::int32_t>(shape, 0);
    cond.poi_count = NdArray<std::int32_t>({rows, cols, kPoiCategories}, 0);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
            cond.population.at(r, c) = static_cast<float>(draw.uniform(0.0, 250.0));
            cond.building_count.at(r, c) = draw.count(6);
            cond.road_length_m.at(r, c) = draw.uniform(0.0, 400.0);
            if (draw.chance(0.1)) {
                cond.waterway_length_m.at(r, c) = draw.uniform(20.0, 140.0);
            }
            if (draw.chance(0.08)) {
                cond.water_area_m2.at(r, c) = draw.uniform(100.0, 10000.0);
            }
            cond.natural_count.at(r, c) = draw.chance(0.1) ? draw.count(2) : 0;
            cond.osm_poi_count.at(r, c) = draw.count(3);
            for (std::size_t k = 0; k < kPoiCategories; ++k) {
                cond.poi_count.at(r, c, k) = draw.chance(0.15) ? 1 + draw.count(3) : 0;
            }
        }
    }
    for (std::size_t k = 0; k < kPoiCategories; ++k) {
        cond.poi_categories.push_back("category_" + std::to_string(k));
        cond.poi_category_present.push_back(1);
    }
    cond.mask_100m = NdArray<std::uint8_t>(shape, 1);
    cond.mask_500m = NdArray<std::uint8_t>({grid.rows_500m(), grid.cols_500m()}, 1);

    for (const std::size_t tile : options.zero_tiles) {
        set_tile_constant(data, tile, 0.0);
    }
    for (const std::size_t tile : options.nan_tiles) {
        cell_100m(data, tile, 1, 2, 3, 4, 100) = std::numeric_limits<double>::quiet_NaN();
    }
    if (options.edit) {
        options.edit(data, cond);
    }

    TinyCity out;
    out.grid = grid;
    out.data_file = io::DataRoot(root).data_file(city, datatype);
    out.cond_file = io::DataRoot(root).cond_file(city);
    const io::Provenance provenance{
        "tiny_city", "write_tiny_city " + city, options.seed, city, city, ""};
    if (options.write_data) {
        io::DataSummary summary;
        summary.layout = "corrected";
        io::write_data_file(out.data_file, data, summary, provenance);
    }
    if (options.write_cond) {
        io::write_cond_file(out.cond_file, cond, provenance);
    }
    return out;
}

double& cell_100m(io::CityData& data, std::size_t tile, std::size_t a, std::size_t b,
                  std::size_t row, std::size_t col, std::size_t hour) {
    const std::size_t tile_cols = data.grid.cols_2000m();
    const std::size_t r = (tile / tile_cols) * kTileCells + a * geo::kCellsPer500m + row;
    const std::size_t c = (tile % tile_cols) * kTileCells + b * geo::kCellsPer500m + col;
    return data.data_100m.at(r, c, hour);
}

void set_tile_constant(io::CityData& data, std::size_t tile, double value) {
    for (std::size_t a = 0; a < geo::kCellsPer2000m; ++a) {
        for (std::size_t b = 0; b < geo::kCellsPer2000m; ++b) {
            for (std::size_t row = 0; row < geo::kCellsPer500m; ++row) {
                for (std::size_t col = 0; col < geo::kCellsPer500m; ++col) {
                    const double v = row == 0 && col == 0 ? value : 0.0;
                    for (std::size_t h = 0; h < kHours; ++h) {
                        cell_100m(data, tile, a, b, row, col, h) = v;
                    }
                }
            }
        }
    }
}

}  // namespace zoomdiff::test
