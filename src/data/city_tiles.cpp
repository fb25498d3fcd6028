#include "zoomdiff/data/city_tiles.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

#include "data/detail/city_files.hpp"
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/star_list.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/geo/city_names.hpp"
#include "zoomdiff/io/cond_store.hpp"
#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::data {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kSide = geo::kCellsPer2000m;  // 500 m cells per tile side in the files
constexpr std::size_t kCells = kSide * kSide;       // 16 series per tile
constexpr auto kSteps = static_cast<std::size_t>(kHours);
constexpr double kClipPercent = 99.0;

std::string data_fix(const CitySource& s) {
    // The datatype is the middle of <City>_<datatype>_data.h5.
    std::string type = s.data_file.stem().string();
    const std::string prefix = s.city + "_";
    const std::string suffix = "_data";
    if (type.size() > prefix.size() + suffix.size() && type.rfind(prefix, 0) == 0 &&
        type.compare(type.size() - suffix.size(), suffix.size(), suffix) == 0) {
        type = type.substr(prefix.size(), type.size() - prefix.size() - suffix.size());
    } else {
        type = "<datatype>";
    }
    return fmt::format(
        "Write it with: grid_meta --cityname {} --datatype {} --data_path <stations> --out {}",
        s.city, type, s.data_file.string());
}

void require_files(const CitySource& s) {
    if (!fs::is_regular_file(s.data_file)) {
        throw Error(s.data_file.string(), fmt::format("no data file for {}", s.token), data_fix(s));
    }
    if (!fs::is_regular_file(s.cond_file)) {
        throw Error(s.cond_file.string(), fmt::format("no condition file for {}", s.token),
                    detail::cond_fix(s));
    }
}

/// One array of a city file, read as double and narrowed to float32 as numpy's astype does
/// (round to nearest; beyond the float range -> inf). Shape checked first, and (but for the
/// tiles' coordinates) that no value is negative.
std::vector<float> read_array(const io::H5File& file, const std::string& key,
                              const std::vector<std::size_t>& expected, const std::string& fix) {
    const std::vector<double> wide =
        key == "/loc_2000m" ? detail::read_checked<double>(file, key, expected, fix)
                            : detail::read_not_negative<double>(file, key, expected, fix);
    std::vector<float> narrow(wide.size());
    std::transform(wide.begin(), wide.end(), narrow.begin(),
                   [](double v) { return static_cast<float>(v); });
    return narrow;
}

void require_same_grid(const io::H5File& data, const io::H5File& cond, const CitySource& s) {
    const geo::CityGrid a = io::read_grid(data);
    const geo::CityGrid b = io::read_grid(cond);
    const auto check = [&](const char* key, const std::vector<double>& in_data,
                           const std::vector<double>& in_cond) {
        if (in_data != in_cond) {
            throw Error(s.cond_file.string(),
                        fmt::format("its {} ({} edges) differs from that of {} ({} edges): the two "
                                    "files are on different grids",
                                    key, in_cond.size(), s.data_file.string(), in_data.size()),
                        fmt::format("Write both files for the same city boundary (rerun env_extra "
                                    "--cityname {} or grid_meta)",
                                    s.city));
        }
    };
    check("/grid/x_edges_m", a.x_edges_m, b.x_edges_m);
    check("/grid/y_edges_m", a.y_edges_m, b.y_edges_m);
    check("/grid/lon_edges_deg", a.lon_edges_deg, b.lon_edges_deg);
    check("/grid/lat_edges_deg", a.lat_edges_deg, b.lat_edges_deg);
}

/// numpy's pairwise summation of float32 (umath loops, PW_BLOCKSIZE 128): what np.sum / np.mean
/// do along a contiguous axis.
float pairwise_sum(const float* a, std::size_t n) {
    if (n < 8) {
        float sum = 0.0F;
        for (std::size_t i = 0; i < n; ++i) {
            sum += a[i];
        }
        return sum;
    }
    if (n <= 128) {
        float r[8];
        for (std::size_t j = 0; j < 8; ++j) {
            r[j] = a[j];
        }
        std::size_t i = 8;
        for (; i < n - n % 8; i += 8) {
            for (std::size_t j = 0; j < 8; ++j) {
                r[j] += a[i + j];
            }
        }
        float sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) {
            sum += a[i];
        }
        return sum;
    }
    std::size_t half = n / 2;
    half -= half % 8;
    return pairwise_sum(a, half) + pairwise_sum(a + half, n - half);
}

/// np.var(series, axis=time) == 0 for one 168-hour float32 series, computed as numpy does.
/// REFCOMPAT: the reference transposes (N, 4, 4, 168) to (N, 168, 4, 4) as a view, so the time
/// axis stays contiguous and numpy sums it pairwise (not sequentially): the float32 mean of a
/// constant series equals the constant for some values and not for others (D-11).
bool zero_variance(const float* series) {
    const float steps = static_cast<float>(kSteps);
    const float mean = pairwise_sum(series, kSteps) / steps;
    float squares[kSteps];
    for (std::size_t h = 0; h < kSteps; ++h) {
        const float d = series[h] - mean;
        squares[h] = d * d;
    }
    return pairwise_sum(squares, kSteps) / steps == 0.0F;
}

bool all_finite(const float* begin, std::size_t count) {
    return std::all_of(begin, begin + count, [](float v) { return std::isfinite(v); });
}

/// Mean over b×b blocks of (planes, 4, 4) -> (planes, g, g), g = 4 / b: first the mean over each
/// block's rows, then over its columns, each a float32 sum from zero then a division, as the
/// reference's two numpy keep-axis means (scale_preprocess_spatial).
std::vector<float> pool_blocks(const std::vector<float>& in, std::size_t planes, std::size_t g) {
    if (g == kSide) {
        return in;  // blocks of one cell: x / 1 == x
    }
    const std::size_t b = kSide / g;
    const auto count = static_cast<float>(b);
    std::vector<float> out(planes * g * g);
    float rows[kSide][kSide];  // [block row][column]
    for (std::size_t p = 0; p < planes; ++p) {
        const float* x = in.data() + p * kCells;
        for (std::size_t i = 0; i < g; ++i) {
            for (std::size_t c = 0; c < kSide; ++c) {
                float sum = 0.0F;
                for (std::size_t r = i * b; r < (i + 1) * b; ++r) {
                    sum += x[r * kSide + c];
                }
                rows[i][c] = sum / count;
            }
        }
        for (std::size_t i = 0; i < g; ++i) {
            for (std::size_t j = 0; j < g; ++j) {
                float sum = 0.0F;
                for (std::size_t c = j * b; c < (j + 1) * b; ++c) {
                    sum += rows[i][c];
                }
                out[(p * g + i) * g + j] = sum / count;
            }
        }
    }
    return out;
}

std::size_t pooled_side(int spatial_scale_coarse) {
    if (spatial_scale_coarse < 1 || spatial_scale_coarse > 3) {
        throw Error("diffusion.multi_scale.spatial_scale_coarse",
                    fmt::format("{} pools the 4 x 4 cells of a tile into 2^({} - 1) per side",
                                spatial_scale_coarse, spatial_scale_coarse),
                    "Use 1, 2 or 3 (3, the reference's value, keeps the 4 x 4 cells)");
    }
    return std::size_t{1} << static_cast<unsigned>(spatial_scale_coarse - 1);
}

}  // namespace

std::int64_t static_channels(StaticLayout layout) {
    switch (layout) {
        case StaticLayout::kReference:
            return 4;
        case StaticLayout::kPoiOnly:
            return 0;
        case StaticLayout::kCorrected:
            break;
    }
    return 5;
}

std::vector<std::string> split_dataset(const std::string& dataset) {
    std::set<std::string> cities;
    std::vector<std::string> tokens =
        core::split_star_list(dataset, "--dataset", "city name", "Nanchang*Nanjing");
    for (const auto& token : tokens) {
        const std::string city = geo::resolve_city_names(token).en;
        if (!cities.insert(city).second) {
            throw Error("--dataset", fmt::format("'{}' names {} twice", dataset, city),
                        "List each city once");
        }
    }
    return tokens;
}

CitySource locate_city(const fs::path& data_root, const std::string& token,
                       const std::string& datatype) {
    CitySource s =
        detail::city_paths(data_root, token, datatype,
                           "Check the spelling, or prepare the city with grid_meta and env_extra");
    require_files(s);
    return s;
}

double percentile_linear(std::vector<float> values, double q) {
    if (values.empty()) {
        throw std::invalid_argument("percentile_linear: no values");
    }
    if (!(q >= 0.0 && q <= 100.0)) {
        throw std::invalid_argument("percentile_linear: q must be in [0, 100]");
    }
    const std::size_t n = values.size();
    // numpy: virtual index (n - 1) * (q / 100) in float64, neighbours v[lo] and v[lo + 1].
    const double h = static_cast<double>(n - 1) * (q / 100.0);
    if (h >= static_cast<double>(n - 1)) {
        return *std::max_element(values.begin(), values.end());
    }
    const double lo_d = std::floor(h);
    const auto lo = static_cast<std::ptrdiff_t>(lo_d);
    const auto lo_it = values.begin() + lo;
    std::nth_element(values.begin(), lo_it, values.end());
    const float below = *lo_it;
    const float above = *std::min_element(lo_it + 1, values.end());
    const double t = h - lo_d;
    // numpy's _lerp: the difference in float32, the interpolation in float64, from the nearer end.
    const auto d = static_cast<double>(above - below);
    return t < 0.5 ? static_cast<double>(below) + d * t
                   : static_cast<double>(above) - d * (1.0 - t);
}

namespace {

/// A city's two files as read (float32 as the reference's np.array(..., dtype=float32)), before
/// any filter: every array over all R x C tiles.
struct RawCity {
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<float> cells;                 // (R, C, 4, 4, 168)
    std::vector<std::vector<float>> statics;  // per static channel: (R, C, 4, 4)
    std::vector<float> poi;                   // (R, C, 4, 4, P)
    std::vector<float> loc;                   // (R, C, 4)
    std::vector<std::int64_t> labels;         // (R, C) split labels, empty when the file has none

    [[nodiscard]] std::size_t tiles() const { return rows * cols; }
};

/// /split_2000m of the data file (training_set.hpp): (R, C) of 0 / 1 / 2 when it has them.
std::vector<std::int64_t> read_split_labels(const io::H5File& data, const CitySource& source,
                                            std::size_t rows, std::size_t cols) {
    std::vector<std::int64_t> labels;
    if (!data.exists("/split_2000m"))
        return labels;
    labels = detail::read_checked<std::int64_t>(data, "/split_2000m", {rows, cols},
                                                "Write /split_2000m as (R, C) integers 0 train, 1 "
                                                "validation, 2 test (uomo_import does)");
    for (std::size_t t = 0; t < labels.size(); ++t) {
        if (labels[t] < kSplitTrain || labels[t] > kSplitTest) {
            throw Error(
                source.data_file.string(),
                fmt::format("/split_2000m is {} at tile (row {}, col {}): labels are 0 train, "
                            "1 validation, 2 test",
                            labels[t], t / cols, t % cols),
                "Rewrite the labels (uomo_import writes them from the upstream splits)");
        }
    }
    return labels;
}

RawCity read_city(const io::H5File& data, const io::H5File& cond, const CitySource& source,
                  const TileOptions& options) {
    const geo::CityGrid grid = io::read_grid(data);
    RawCity raw;
    raw.rows = grid.rows_2000m();
    raw.cols = grid.cols_2000m();
    const std::size_t rows = raw.rows;
    const std::size_t cols = raw.cols;
    if (raw.tiles() == 0) {
        throw Error(source.data_file.string(), "the city's grid holds no whole 2000 m tile",
                    "Use a larger city boundary (at least 2 km x 2 km)");
    }
    const std::string dfix = data_fix(source);
    const std::string cfix = detail::cond_fix(source);
    raw.cells = read_array(data, "/data_2000m", {rows, cols, kSide, kSide, kSteps}, dfix);
    for (const auto& key : detail::static_keys(options.layout))
        raw.statics.push_back(read_array(cond, key, {rows, cols, kSide, kSide}, cfix));
    if (options.poi_channels < 1) {
        throw std::invalid_argument("load_city_tiles: poi_channels must be positive");
    }
    const auto poi_channels = static_cast<std::size_t>(options.poi_channels);
    const std::string poi_key = detail::poi_key(options.layout);
    detail::require_poi_schema(cond, poi_key, source, options.poi_channels);
    raw.poi = read_array(cond, poi_key, {rows, cols, kSide, kSide, poi_channels}, cfix);
    raw.loc = read_array(cond, "/loc_2000m", {rows, cols, 4}, cfix);
    raw.labels = read_split_labels(data, source, rows, cols);
    return raw;
}

/// What a template city needs for calibration (MODEL.md §5.5), over the whole file. poi_only
/// reads no population: pop_mean stays 0 (calibration's population ratio 1).
TemplateStats template_stats(const RawCity& raw, const io::H5File& cond, const CitySource& source,
                             StaticLayout layout) {
    const std::vector<float> pop =
        layout == StaticLayout::kPoiOnly
            ? std::vector<float>()
            : read_array(cond, "/pop_2000m", {raw.rows, raw.cols, kSide, kSide},
                         detail::cond_fix(source));
    TemplateStats stats;
    double sum = 0.0;
    double max = -std::numeric_limits<double>::infinity();
    std::int64_t finite = 0;
    for (const float v : raw.cells) {
        if (!std::isfinite(v))
            continue;
        sum += v;
        max = std::max(max, static_cast<double>(v));
        ++finite;
    }
    stats.data_mean = finite > 0 ? sum / static_cast<double>(finite) : 0.0;
    stats.data_max = finite > 0 ? max : 0.0;
    double pop_sum = 0.0;
    for (const float v : pop)
        pop_sum += std::isfinite(v) ? v : 0.0F;
    stats.pop_mean = pop.empty() ? 0.0 : pop_sum / static_cast<double>(pop.size());
    stats.values = finite;
    stats.cell_levels = cell_level_quantiles(raw.cells.data(), raw.tiles());
    return stats;
}

/// The constant and finite filters (MODEL.md §4.2 steps 2 and 4): the tiles kept, in file
/// order; the removed counts go to `out`.
std::vector<std::size_t> usable_tiles(const RawCity& raw, const CitySource& source,
                                      CityTiles& out) {
    std::vector<std::size_t> kept;
    for (std::size_t t = 0; t < raw.tiles(); ++t) {
        const float* tile = raw.cells.data() + t * kCells * kSteps;
        bool constant = true;
        for (std::size_t c = 0; c < kCells && constant; ++c) {
            constant = zero_variance(tile + c * kSteps);
        }
        if (constant) {
            ++out.removed_constant;
            continue;
        }
        bool finite = all_finite(tile, kCells * kSteps);
        for (std::size_t k = 0; k < raw.statics.size() && finite; ++k) {
            finite = all_finite(raw.statics[k].data() + t * kCells, kCells);
        }
        if (!finite) {
            ++out.removed_nonfinite;
            continue;
        }
        kept.push_back(t);
    }
    if (kept.empty()) {
        throw Error(
            source.data_file.string(),
            fmt::format("no tile of {} is left: {} constant, {} with NaN or inf", source.city,
                        out.removed_constant, out.removed_nonfinite),
            "Check the station data of this city (grid_meta) and its conditions (env_extra)");
    }
    return kept;
}

/// The kept tiles' series as (N1, 168, 4, 4), clipped to [0, P99] (step 5); the bound goes to
/// `out.clip_first`.
std::vector<float> first_clipped_series(const RawCity& raw, const std::vector<std::size_t>& kept,
                                        CityTiles& out) {
    std::vector<float> series(kept.size() * kCells * kSteps);
    for (std::size_t n = 0; n < kept.size(); ++n) {
        const float* tile = raw.cells.data() + kept[n] * kCells * kSteps;
        float* dst = series.data() + n * kSteps * kCells;
        for (std::size_t c = 0; c < kCells; ++c) {
            for (std::size_t h = 0; h < kSteps; ++h) {
                dst[h * kCells + c] = tile[c * kSteps + h];
            }
        }
    }
    // The bound is a float64 percentile, cast to float32 by numpy 1.x's np.clip (D-31).
    out.clip_first = static_cast<float>(percentile_linear(series, kClipPercent));
    // np.clip's order of comparisons: max(x, 0) then min(., bound) (-0 becomes +0).
    for (float& v : series) {
        const float low = v > 0.0F ? v : 0.0F;
        v = low < out.clip_first ? low : out.clip_first;
    }
    return series;
}

/// The conditions of the kept tiles, channel-first, pre-pooled (§4.3 step 3), with their
/// extents, file indices and split labels.
void gather_conditions(const RawCity& raw, const std::vector<std::size_t>& kept, std::size_t g,
                       CityTiles& out) {
    const std::size_t n = kept.size();
    const std::size_t channels = raw.statics.size();
    const auto poi_channels = static_cast<std::size_t>(out.poi_channels);
    std::vector<float> static_cond(n * channels * kCells);
    std::vector<float> poi_cf(n * poi_channels * kCells);
    out.loc.resize(n * 4);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t t = kept[i];
        for (std::size_t k = 0; k < channels; ++k) {
            std::copy_n(raw.statics[k].data() + t * kCells, kCells,
                        static_cond.data() + (i * channels + k) * kCells);
        }
        for (std::size_t c = 0; c < kCells; ++c) {
            for (std::size_t k = 0; k < poi_channels; ++k) {
                poi_cf[(i * poi_channels + k) * kCells + c] =
                    raw.poi[(t * kCells + c) * poi_channels + k];
            }
        }
        std::copy_n(raw.loc.data() + t * 4, 4, out.loc.data() + i * 4);
        out.tile_id.push_back(static_cast<std::int64_t>(t));
        if (!raw.labels.empty())
            out.split_label.push_back(static_cast<std::int8_t>(raw.labels[t]));
    }
    out.static_cond = pool_blocks(static_cond, n * channels, g);
    out.poi = pool_blocks(poi_cf, n * poi_channels, g);
}

}  // namespace

CityTiles load_city_tiles(const CitySource& source, const TileOptions& options) {
    const std::size_t g = pooled_side(options.spatial_scale_coarse);
    require_files(source);
    const io::H5File data = io::H5File::open_read(source.data_file);
    const io::H5File cond = io::H5File::open_read(source.cond_file);
    require_same_grid(data, cond, source);
    const RawCity raw = read_city(data, cond, source, options);

    CityTiles out;
    out.poi_channels = options.poi_channels;
    out.template_stats = template_stats(raw, cond, source, options.layout);
    out.token = source.token;
    out.city = source.city;
    out.tile_rows = static_cast<std::int64_t>(raw.rows);
    out.tile_cols = static_cast<std::int64_t>(raw.cols);
    out.static_channels = static_cast<std::int64_t>(raw.statics.size());
    std::vector<std::size_t> kept = usable_tiles(raw, source, out);
    std::vector<float> series = first_clipped_series(raw, kept, out);

    // ---- last-tile drop (step 6, D-9) ------------------------------------------------------
    if (options.drop_last_tile()) {
        // REFCOMPAT: the reference slices [:-1], dropping the city's last kept tile.
        kept.pop_back();
        series.resize(kept.size() * kSteps * kCells);
        out.last_dropped = true;
        if (kept.empty()) {
            throw Error(
                source.data_file.string(),
                fmt::format("{} has one usable tile, and the reference layout drops the last one",
                            source.city),
                "Use a larger city, or condition_layout: corrected");
        }
    }
    const std::size_t n = kept.size();
    gather_conditions(raw, kept, g, out);

    // ---- pre-pooling (§4.3 step 3) and the second clip, upper only (step 4, D-10) ----------
    out.series = pool_blocks(series, n * kSteps, g);
    out.clip_second = static_cast<float>(percentile_linear(out.series, kClipPercent));
    for (float& v : out.series) {
        v = v < out.clip_second ? v : out.clip_second;
    }
    out.tiles = static_cast<std::int64_t>(n);
    out.side = static_cast<std::int64_t>(g);

    spdlog::info(
        "{}: {} of {} tiles ({} constant and {} non-finite removed{}), clip bounds {} and {}",
        source.city, n, raw.tiles(), out.removed_constant, out.removed_nonfinite,
        out.last_dropped ? ", last dropped" : "", out.clip_first, out.clip_second);
    return out;
}

}  // namespace zoomdiff::data
