#include "zoomdiff/data/city_tiles.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "support/errors.hpp"
#include "support/support.hpp"
#include "support/tiny_city.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/io/cond_store.hpp"
#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::data {
namespace {

namespace fs = std::filesystem;
using Ids = std::vector<std::int64_t>;

constexpr std::size_t kT = 168;  // hours

using test::error_of;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::vector<float> read_f32(const fs::path& file, const std::string& key) {
    const auto wide = io::H5File::open_read(file).read<double>(key);
    return std::vector<float>(wide.values().begin(), wide.values().end());
}

/// MODEL.md §4.2 step 5 written out plainly, with a full sort (the code uses nth_element).
double plain_p99(std::vector<float> v) {
    std::sort(v.begin(), v.end());
    const double h = 0.99 * static_cast<double>(v.size() - 1);
    const double lo = std::floor(h);
    const double t = h - lo;
    const auto i = static_cast<std::size_t>(lo);
    const auto d = static_cast<double>(v[i + 1] - v[i]);
    return t < 0.5 ? v[i] + d * t : v[i + 1] - d * (1 - t);
}

/// The reference's series of the given tiles, computed independently of the code under test:
/// reorder to (n, 168, 4, 4), clip to [0, P99], drop the last tile (reference), pool to g x g by
/// a row mean then a column mean, clip to the P99 of the result.
struct Expected {
    std::vector<float> series;
    float clip_first = 0;
    float clip_second = 0;
};

Expected expected_series(const std::vector<float>& data_2000m, Ids tiles, bool drop_last,
                         std::size_t g) {
    std::vector<float> s;
    for (const auto t : tiles) {
        for (std::size_t h = 0; h < kT; ++h) {
            for (std::size_t c = 0; c < 16; ++c) {
                s.push_back(data_2000m[(static_cast<std::size_t>(t) * 16 + c) * kT + h]);
            }
        }
    }
    Expected e;
    e.clip_first = static_cast<float>(plain_p99(s));
    for (auto& v : s) {
        v = std::min(std::max(v, 0.0F), e.clip_first);
    }
    if (drop_last) {
        s.resize(s.size() - kT * 16);
    }
    const std::size_t b = 4 / g;
    std::vector<float> pooled;
    for (std::size_t p = 0; p < s.size() / 16; ++p) {
        const float* x = s.data() + p * 16;
        for (std::size_t i = 0; i < g; ++i) {
            for (std::size_t j = 0; j < g; ++j) {
                float col_sum = 0.0F;
                for (std::size_t c = j * b; c < (j + 1) * b; ++c) {
                    float row_sum = 0.0F;
                    for (std::size_t r = i * b; r < (i + 1) * b; ++r) {
                        row_sum += x[r * 4 + c];
                    }
                    col_sum += row_sum / static_cast<float>(b);
                }
                pooled.push_back(col_sum / static_cast<float>(b));
            }
        }
    }
    e.clip_second = static_cast<float>(plain_p99(pooled));
    for (auto& v : pooled) {
        v = std::min(v, e.clip_second);
    }
    e.series = pooled;
    return e;
}

class CityTilesTest : public ::testing::Test {
protected:
    test::TinyCity write(const test::TinyCityOptions& options = {},
                         const std::string& city = "Testcity", std::size_t rows = 2,
                         std::size_t cols = 3) {
        return test::write_tiny_city(root_.path(), city, "traffic", rows, cols, options);
    }

    CitySource locate(const std::string& token = "Testcity") const {
        return locate_city(root_.path(), token, "traffic");
    }

    static TileOptions layout(StaticLayout l, int coarse = 3) {
        TileOptions o;
        o.layout = l;
        o.spatial_scale_coarse = coarse;
        return o;
    }

    test::TempDir root_;
};

TEST_F(CityTilesTest, CorrectedLayoutCarriesTheFilesArraysAtTheirTiles) {
    const auto files = write();
    const CityTiles t = load_city_tiles(locate(), layout(StaticLayout::kCorrected));
    ASSERT_EQ(t.tiles, 6);
    EXPECT_EQ(t.tile_rows, 2);
    EXPECT_EQ(t.tile_cols, 3);
    EXPECT_EQ(t.side, 4);
    EXPECT_EQ(t.static_channels, 5);
    EXPECT_EQ(t.tile_id, (Ids{0, 1, 2, 3, 4, 5}));
    EXPECT_FALSE(t.last_dropped);
    ASSERT_EQ(t.static_cond.size(), 6U * 5 * 16);
    ASSERT_EQ(t.poi.size(), 6U * 21 * 16);
    ASSERT_EQ(t.loc.size(), 6U * 4);

    const char* keys[] = {"/2000m/population", "/2000m/building_count", "/2000m/road_length_m",
                          "/2000m/waterway_length_m", "/2000m/water_area_m2"};
    for (std::size_t k = 0; k < 5; ++k) {
        const auto file = read_f32(files.cond_file, keys[k]);  // (R, C, 4, 4)
        for (std::size_t n = 0; n < 6; ++n) {
            for (std::size_t c = 0; c < 16; ++c) {
                ASSERT_EQ(t.static_cond[(n * 5 + k) * 16 + c], file[n * 16 + c])
                    << keys[k] << " tile " << n;
            }
        }
    }
    const auto poi = read_f32(files.cond_file, "/2000m/poi_count");  // (R, C, 4, 4, 21)
    const auto loc = read_f32(files.cond_file, "/loc_2000m");        // (R, C, 4)
    for (std::size_t n = 0; n < 6; ++n) {
        for (std::size_t c = 0; c < 16; ++c) {
            for (std::size_t k = 0; k < 21; ++k) {
                ASSERT_EQ(t.poi[(n * 21 + k) * 16 + c], poi[(n * 16 + c) * 21 + k]);
            }
        }
        for (std::size_t i = 0; i < 4; ++i) {
            EXPECT_EQ(t.loc[n * 4 + i], loc[n * 4 + i]);
        }
    }
    // Tile (R 1, C 2) lies north-east of tile (0, 0): larger lat_min and lon_min.
    EXPECT_GT(t.loc[5 * 4 + 0], t.loc[0]);
    EXPECT_GT(t.loc[5 * 4 + 2], t.loc[2]);
}

TEST_F(CityTilesTest, ReferenceLayoutReadsPopulationTwiceAndDropsTheLastTile) {
    const auto files = write();
    const CityTiles t = load_city_tiles(locate(), layout(StaticLayout::kReference));
    ASSERT_EQ(t.tiles, 5);
    EXPECT_EQ(t.static_channels, 4);
    EXPECT_TRUE(t.last_dropped);
    EXPECT_EQ(t.tile_id, (Ids{0, 1, 2, 3, 4}));
    const auto pop = read_f32(files.cond_file, "/pop_2000m");
    const auto road = read_f32(files.cond_file, "/roadlen_2000m");
    const auto water = read_f32(files.cond_file, "/water_area_2000m");
    const auto poi = read_f32(files.cond_file, "/poi_2000m");
    for (std::size_t n = 0; n < 5; ++n) {
        for (std::size_t c = 0; c < 16; ++c) {
            EXPECT_EQ(t.static_cond[(n * 4 + 0) * 16 + c], pop[n * 16 + c]);
            EXPECT_EQ(t.static_cond[(n * 4 + 1) * 16 + c], pop[n * 16 + c]);
            EXPECT_EQ(t.static_cond[(n * 4 + 2) * 16 + c], road[n * 16 + c]);
            EXPECT_EQ(t.static_cond[(n * 4 + 3) * 16 + c], water[n * 16 + c]);
            EXPECT_EQ(t.poi[(n * 21 + 20) * 16 + c], poi[(n * 16 + c) * 21 + 20]);
        }
    }
    // The roads of the reference include waterways: larger than ours wherever a waterway is.
    const auto ours = read_f32(files.cond_file, "/2000m/road_length_m");
    EXPECT_GT(std::accumulate(road.begin(), road.end(), 0.0),
              std::accumulate(ours.begin(), ours.end(), 0.0));
}

TEST_F(CityTilesTest, ClipBoundsAndSeriesEqualAnIndependentComputation) {
    const auto files = write();
    const auto raw = read_f32(files.data_file, "/data_2000m");
    for (const StaticLayout l : {StaticLayout::kCorrected, StaticLayout::kReference}) {
        const bool reference = l == StaticLayout::kReference;
        SCOPED_TRACE(reference ? "reference" : "corrected");
        const CityTiles t = load_city_tiles(locate(), layout(l));
        const Expected e = expected_series(raw, {0, 1, 2, 3, 4, 5}, reference, 4);
        EXPECT_EQ(t.clip_first, e.clip_first);
        EXPECT_EQ(t.clip_second, e.clip_second);
        EXPECT_LT(t.clip_second, t.clip_first);  // the double clip of D-10
        EXPECT_LT(t.clip_first, *std::max_element(raw.begin(), raw.end()));
        ASSERT_EQ(t.series.size(), e.series.size());
        EXPECT_EQ(t.series, e.series);
        EXPECT_EQ(*std::max_element(t.series.begin(), t.series.end()), t.clip_second);
    }
    // Series layout (N, 1, 168, 4, 4): hour 30 of cell (a 2, b 1) of tile 3 (below both clips).
    const CityTiles t = load_city_tiles(locate(), layout(StaticLayout::kCorrected));
    const float v = raw[(3 * 16 + 2 * 4 + 1) * kT + 30];
    ASSERT_LT(v, t.clip_second);
    EXPECT_EQ(t.series[((3 * kT + 30) * 4 + 2) * 4 + 1], v);
}

TEST_F(CityTilesTest, TemplateStatisticsCoverTheWholeRawFiles) {
    test::TinyCityOptions options;
    options.zero_tiles = {2};  // removed by the filter, still counted in the template statistics
    const auto files = write(options);
    const auto raw = read_f32(files.data_file, "/data_2000m");
    const auto pop = read_f32(files.cond_file, "/pop_2000m");
    const CityTiles t = load_city_tiles(locate(), layout(StaticLayout::kCorrected));
    double sum = 0.0;
    for (const float v : raw)
        sum += v;
    double pop_sum = 0.0;
    for (const float v : pop)
        pop_sum += v;
    EXPECT_EQ(t.template_stats.values, static_cast<std::int64_t>(raw.size()));
    EXPECT_NEAR(t.template_stats.data_mean, sum / static_cast<double>(raw.size()), 1e-9 * sum);
    EXPECT_EQ(t.template_stats.data_max, *std::max_element(raw.begin(), raw.end()));
    EXPECT_NEAR(t.template_stats.pop_mean, pop_sum / static_cast<double>(pop.size()),
                1e-9 * pop_sum);
    EXPECT_GT(t.template_stats.data_max, t.clip_first);
}

TEST_F(CityTilesTest, PrePoolingAveragesBlocksOfCells) {
    const auto files = write();
    const auto raw = read_f32(files.data_file, "/data_2000m");
    const auto pop = read_f32(files.cond_file, "/2000m/population");
    for (const int coarse : {1, 2}) {
        SCOPED_TRACE(coarse);
        const std::size_t g = coarse == 1 ? 1 : 2;
        const CityTiles t = load_city_tiles(locate(), layout(StaticLayout::kCorrected, coarse));
        EXPECT_EQ(t.side, static_cast<std::int64_t>(g));
        const Expected e = expected_series(raw, {0, 1, 2, 3, 4, 5}, false, g);
        EXPECT_EQ(t.series, e.series);
        EXPECT_EQ(t.clip_second, e.clip_second);
        ASSERT_EQ(t.static_cond.size(), 6 * 5 * g * g);
        ASSERT_EQ(t.poi.size(), 6 * 21 * g * g);
        // Population of tile 4, block (0, 0): the mean of its b x b cells.
        const std::size_t b = 4 / g;
        double sum = 0;
        for (std::size_t r = 0; r < b; ++r) {
            for (std::size_t c = 0; c < b; ++c) {
                sum += pop[4 * 16 + r * 4 + c];
            }
        }
        EXPECT_NEAR(t.static_cond[(4 * 5 + 0) * g * g], sum / static_cast<double>(b * b), 1e-3);
    }
    const std::string bad =
        error_of([&] { load_city_tiles(locate(), layout(StaticLayout::kCorrected, 4)); });
    EXPECT_TRUE(contains(bad, "spatial_scale_coarse")) << bad;
    EXPECT_THROW(load_city_tiles(locate(), layout(StaticLayout::kCorrected, 0)), Error);
}

TEST_F(CityTilesTest, ConstantAndNonFiniteTilesAreRemoved) {
    test::TinyCityOptions options;
    options.zero_tiles = {1};
    options.nan_tiles = {4};
    write(options);
    const CityTiles t = load_city_tiles(locate(), layout(StaticLayout::kCorrected));
    EXPECT_EQ(t.tile_id, (Ids{0, 2, 3, 5}));
    EXPECT_EQ(t.removed_constant, 1);
    EXPECT_EQ(t.removed_nonfinite, 1);
    EXPECT_TRUE(
        std::all_of(t.series.begin(), t.series.end(), [](float v) { return std::isfinite(v); }));
    const CityTiles r = load_city_tiles(locate(), layout(StaticLayout::kReference));
    EXPECT_EQ(r.tile_id, (Ids{0, 2, 3}));
}

TEST_F(CityTilesTest, NonFiniteStaticConditionRemovesTheTile) {
    test::TinyCityOptions options;
    options.edit = [](io::CityData&, io::CityConditions& cond) {
        // 100 m cell (row 25, col 45) lies in tile (R 1, C 2) = 5.
        cond.water_area_m2.at(25, 45) = std::numeric_limits<double>::infinity();
    };
    write(options);
    EXPECT_EQ(load_city_tiles(locate(), layout(StaticLayout::kCorrected)).tile_id,
              (Ids{0, 1, 2, 3, 4}));
    // The reference layout drops the non-finite tile, then its last tile.
    EXPECT_EQ(load_city_tiles(locate(), layout(StaticLayout::kReference)).tile_id,
              (Ids{0, 1, 2, 3}));
}

TEST_F(CityTilesTest, ConstantFilterFollowsNumpysPairwiseFloat32Mean) {
    // Found with numpy 1.24.2: for c = 775.6856689453125 np.var of 168 copies (contiguous, as in
    // the reference's transposed view) is 0; for c = 96.70409393310547 it is not, although a
    // sequential float32 mean would say the opposite for both.
    test::TinyCityOptions options;
    options.edit = [](io::CityData& data, io::CityConditions&) {
        test::set_tile_constant(data, 0, 775.6856689453125);
        test::set_tile_constant(data, 2, 96.70409393310547);
        // Tile 3: all cells zero but one, which varies: kept.
        test::set_tile_constant(data, 3, 0.0);
        test::cell_100m(data, 3, 3, 3, 0, 0, 7) = 1.0;
    };
    write(options);
    const CityTiles t = load_city_tiles(locate(), layout(StaticLayout::kCorrected));
    EXPECT_EQ(t.tile_id, (Ids{1, 2, 3, 4, 5}));
    EXPECT_EQ(t.removed_constant, 1);
}

TEST_F(CityTilesTest, MissingFilesNameTheFileAndTheToolThatWritesIt) {
    test::TinyCityOptions no_data;
    no_data.write_data = false;
    const auto files = write(no_data);
    const std::string data_error = error_of([&] { locate(); });
    EXPECT_TRUE(contains(data_error, files.data_file.string())) << data_error;
    EXPECT_TRUE(contains(data_error, "grid_meta --cityname Testcity --datatype traffic"))
        << data_error;

    test::TinyCityOptions no_cond;
    no_cond.write_cond = false;
    const auto other = write(no_cond, "Othercity");
    const std::string cond_error = error_of([&] { locate("Othercity"); });
    EXPECT_TRUE(contains(cond_error, other.cond_file.string())) << cond_error;
    EXPECT_TRUE(contains(cond_error, "env_extra --cityname Othercity")) << cond_error;
    // load_city_tiles checks again when handed a source directly.
    CitySource direct{"Othercity", "Othercity", other.data_file, other.cond_file};
    EXPECT_TRUE(contains(error_of([&] { load_city_tiles(direct, {}); }), "env_extra"));
}

TEST_F(CityTilesTest, UnknownCitySaysWhereItLooked) {
    const std::string e = error_of([&] { locate("Atlantis"); });
    EXPECT_TRUE(contains(e, "unknown city 'Atlantis'")) << e;
    EXPECT_TRUE(contains(e, (root_.path() / "Atlantis").string())) << e;
    // A city of the table resolves to its English folder, and the missing file is named there.
    const std::string known = error_of([&] { locate("南京"); });
    EXPECT_TRUE(
        contains(known, (root_.path() / "Nanjing" / "data" / "Nanjing_traffic_data.h5").string()))
        << known;
}

TEST_F(CityTilesTest, ChineseTokenFindsTheEnglishFolder) {
    write({}, "Nanjing", 1, 2);
    const CitySource s = locate("南京");
    EXPECT_EQ(s.city, "Nanjing");
    EXPECT_EQ(s.token, "南京");
    EXPECT_EQ(load_city_tiles(s, {}).token, "南京");
}

TEST_F(CityTilesTest, FilesOnDifferentGridsAreRefused) {
    test::TinyCityOptions options;
    options.edit = [](io::CityData&, io::CityConditions& cond) {
        cond.grid = test::tiny_city_grid(2, 3, 115.81, 28.60);
    };
    const auto files = write(options);
    const std::string e = error_of([&] { load_city_tiles(locate(), {}); });
    EXPECT_EQ(e.rfind(files.cond_file.string() + ": its /grid/x_edges_m", 0), 0U) << e;
    EXPECT_TRUE(contains(e, files.data_file.string())) << e;
}

TEST_F(CityTilesTest, PoiAxisOtherThan21IsRefused) {
    const auto files = write();
    // Rewrite the condition file by hand with 15 POI categories (the snapshot's count, D-36).
    const geo::CityGrid grid = files.grid;
    {
        io::H5File f = io::H5File::create(files.cond_file);
        io::write_standard_attributes(f, grid, 100.0,
                                      {"test", "test", 0, "Testcity", "Testcity", ""});
        io::write_grid(f, grid);
        const NdArray<double> cells({2, 3, 4, 4}, 1.0);
        for (const char* key : {"/pop_2000m", "/roadlen_2000m", "/water_area_2000m"}) {
            f.write(key, cells);
        }
        f.write("/poi_2000m", NdArray<double>({2, 3, 4, 4, 15}, 0.0));
        f.write("/loc_2000m", NdArray<double>({2, 3, 4}, 0.0));
        f.close();
    }
    const std::string e =
        error_of([&] { load_city_tiles(locate(), layout(StaticLayout::kReference)); });
    EXPECT_EQ(e.rfind(files.cond_file.string() + ": /poi_2000m has 15 POI categories", 0), 0U) << e;
    // The corrected layout needs the true quantities, which this file lacks.
    const std::string corrected = error_of([&] { load_city_tiles(locate(), {}); });
    EXPECT_TRUE(contains(corrected, "no dataset /2000m/population")) << corrected;
}

TEST_F(CityTilesTest, CityWithoutAUsableTileIsRefused) {
    test::TinyCityOptions options;
    options.zero_tiles = {0, 1};
    options.nan_tiles = {2};
    write(options, "Testcity", 1, 3);
    const std::string e = error_of([&] { load_city_tiles(locate(), {}); });
    EXPECT_TRUE(contains(e, "no tile of Testcity is left: 2 constant, 1 with NaN or inf")) << e;

    write({}, "Single", 1, 1);
    EXPECT_EQ(load_city_tiles(locate("Single"), {}).tiles, 1);
    const std::string one =
        error_of([&] { load_city_tiles(locate("Single"), layout(StaticLayout::kReference)); });
    EXPECT_TRUE(contains(one, "one usable tile")) << one;
}

TEST(CityTilesDatasetTest, SplitsTokensAndRefusesEmptyOrRepeatedCities) {
    EXPECT_EQ(split_dataset("Nanchang*南京*Milan"),
              (std::vector<std::string>{"Nanchang", "南京", "Milan"}));
    EXPECT_EQ(split_dataset("Nanchang"), (std::vector<std::string>{"Nanchang"}));
    EXPECT_TRUE(contains(error_of([] { split_dataset("Nanchang**Nanjing"); }), "--dataset: "));
    EXPECT_TRUE(contains(error_of([] { split_dataset(""); }), "empty city name"));
    const std::string twice = error_of([] { split_dataset("Nanjing*南京"); });
    EXPECT_TRUE(contains(twice, "names Nanjing twice")) << twice;
    EXPECT_EQ(static_channels(StaticLayout::kReference), 4);
    EXPECT_EQ(static_channels(StaticLayout::kCorrected), 5);
}

// Expected values printed by numpy 1.24.2: np.percentile(np.array(v, np.float32), q) (method
// "linear"), repr of the float64 result.
TEST(TilesPercentileTest, EqualsNumpyOnHandCases) {
    EXPECT_EQ(percentile_linear({5.0F}, 99), 5.0);  // n = 1
    EXPECT_EQ(percentile_linear({5.0F}, 0), 5.0);
    EXPECT_EQ(percentile_linear({4, 1, 3, 2}, 99), 3.9699999999999998);
    EXPECT_EQ(percentile_linear({4, 1, 3, 2}, 50), 2.5);
    EXPECT_EQ(percentile_linear({4, 1, 3, 2}, 37.5), 2.125);
    EXPECT_EQ(percentile_linear({4, 1, 3, 2}, 100), 4.0);
    EXPECT_EQ(percentile_linear({4, 1, 3, 2}, 0), 1.0);
    EXPECT_EQ(percentile_linear({2, 7, 2, 2, 2}, 99), 6.8);  // ties
    EXPECT_EQ(percentile_linear({2, 7, 2, 2, 2}, 50), 2.0);
    EXPECT_EQ(percentile_linear({1, 2}, 99), 1.99);
    EXPECT_EQ(percentile_linear({1, 2}, 37.5), 1.375);
    EXPECT_EQ(percentile_linear({0.0F, -1.5F, 3.25F, 3.25F, 1e-3F}, 99), 3.25);
    EXPECT_EQ(percentile_linear({0.0F, -1.5F, 3.25F, 3.25F, 1e-3F}, 50), 0.0010000000474974513);
    EXPECT_EQ(percentile_linear({0.0F, -1.5F, 3.25F, 3.25F, 1e-3F}, 37.5), 0.0005000000237487257);
    EXPECT_THROW(percentile_linear({}, 99), std::invalid_argument);
    EXPECT_THROW(percentile_linear({1.0F}, 101), std::invalid_argument);
}

TEST(TilesPercentileTest, EqualsNumpyOnLargerArrays) {
    // a = (np.arange(1001) * 7919 % 1000).astype(np.float32) / np.float32(7)
    std::vector<float> a;
    for (std::int64_t i = 0; i < 1001; ++i) {
        a.push_back(static_cast<float>(i * 7919 % 1000) / 7.0F);
    }
    EXPECT_EQ(percentile_linear(a, 99), 141.2857208251953);
    EXPECT_EQ(percentile_linear(a, 50), 71.28571319580078);
    EXPECT_EQ(percentile_linear(a, 1), 1.2857142686843872);
    // b = (np.arange(8064) * 104729 % 8191).astype(np.float32) / np.float32(3)
    std::vector<float> b;
    for (std::int64_t i = 0; i < 2688 * 3; ++i) {
        b.push_back(static_cast<float>(i * 104729 % 8191) / 3.0F);
    }
    EXPECT_EQ(percentile_linear(b, 99), 2701.4566455078125);
}

}  // namespace
}  // namespace zoomdiff::data
