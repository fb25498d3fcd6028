// Golden: prep.h5:/poi — POI category counts from the real Nanchang CSVs, on the Nanchang and the
// small grid, at 100 m, 500 m and 2000 m. The reference's channels are the K = 15 categories
// present in the files, sorted (label_map); ours are the fixed 21 of configs/poi_categories.yaml.
// Each golden channel is compared exactly with our channel of the same category; our channels of
// the 6 absent categories must be all zero.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>

#include "golden/golden_support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/blocks.hpp"
#include "zoomdiff/poi/poi_counts.hpp"
#include "zoomdiff/poi/poi_schema.hpp"

namespace zoomdiff::test {
namespace {

std::filesystem::path poi_inputs() {
    return golden_dir() / "inputs" / "POI_Nanchang";
}

// Channel `k` of a (..., K) array as a (...) array.
template <typename T>
NdArray<T> channel(const NdArray<T>& a, std::size_t k) {
    std::vector<std::size_t> shape(a.shape().begin(), a.shape().end() - 1);
    const std::size_t depth = a.shape().back();
    NdArray<T> out(shape);
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = a[i * depth + k];
    }
    return out;
}

template <typename T>
bool all_zero(const NdArray<T>& a) {
    return std::all_of(a.values().begin(), a.values().end(), [](T v) { return v == T{0}; });
}

TEST(GoldenPrep_poi, LabelMapFitsTheFixedSchemaOrder) {
    const auto prep = io::H5File::open_read(prep_h5());
    const poi::PoiSchema schema = poi::builtin_poi_schema();
    const auto label_map = prep.read_strings("/poi/label_map");
    ASSERT_EQ(label_map.size(), 15U);
    std::size_t previous = 0;
    for (std::size_t g = 0; g < label_map.size(); ++g) {
        const auto k = schema.index_of(label_map[g]);
        ASSERT_TRUE(k.has_value()) << label_map[g];
        EXPECT_EQ(schema.at(*k).name_cn, label_map[g]);
        // The reference sorts the present categories; the fixed order is that same sort.
        if (g > 0) {
            EXPECT_GT(*k, previous) << label_map[g];
        }
        previous = *k;
    }
}

TEST(GoldenPrep_poi, CountsMatchEveryGridAtEveryScale) {
    const auto prep = io::H5File::open_read(prep_h5());
    const poi::PoiSchema schema = poi::builtin_poi_schema();
    ASSERT_EQ(schema.size(), 21U);
    const auto label_map = prep.read_strings("/poi/label_map");
    const std::string city_filter = prep.attr_string("/poi", "city_filter_value");
    ASSERT_EQ(city_filter, "南昌市");

    std::vector<std::size_t> ours_of_golden;  // golden channel g → our channel
    std::set<std::size_t> golden_channels;
    for (const auto& name : label_map) {
        const auto k = schema.index_of(name);
        ASSERT_TRUE(k.has_value()) << name;
        ours_of_golden.push_back(*k);
        golden_channels.insert(*k);
    }

    std::size_t groups = 0;
    for (const auto& name : prep.children("/poi")) {
        const std::string g = "/poi/" + name;
        if (!prep.exists(g + "/poi_100m")) {
            continue;
        }
        ++groups;
        SCOPED_TRACE(g);
        const geo::CityGrid grid = grid_from_golden(prep, name);
        core::NullProgress progress;
        const auto started = std::chrono::steady_clock::now();
        const poi::PoiCounts counts =
            poi::count_pois(poi_inputs(), grid, schema, city_filter, progress);
        const double elapsed_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        std::printf("poi %s: %zu rows from %zu files in %.3f s\n", name.c_str(), counts.rows_read,
                    counts.files_used.size(), elapsed_s);

        EXPECT_EQ(static_cast<std::int64_t>(counts.rows_read),
                  prep.attr_int("/poi", "n_rows_read"));
        EXPECT_EQ(static_cast<std::int64_t>(counts.rows_kept),
                  prep.attr_int("/poi", "n_rows_after_city_filter_and_dropna"));
        EXPECT_EQ(static_cast<std::int64_t>(counts.rows_counted),
                  prep.attr_int(g, "total_counted"));
        EXPECT_EQ(counts.rows_excluded, 0U);
        const auto golden_files = prep.read_strings("/poi/files_used");
        EXPECT_EQ(std::set<std::string>(counts.files_used.begin(), counts.files_used.end()),
                  std::set<std::string>(golden_files.begin(), golden_files.end()));
        for (std::size_t k = 0; k < schema.size(); ++k) {
            EXPECT_EQ(counts.category_present[k], golden_channels.count(k) == 1)
                << schema.at(k).name_cn;
        }

        const NdArray<std::int32_t>& ours_100m = counts.counts;
        ASSERT_EQ(ours_100m.shape(), (std::vector<std::size_t>{grid.rows(), grid.cols(), 21}));
        const auto ours_500m = geo::sum_blocks_500m(ours_100m);
        const auto ours_2000m = geo::tile_blocks_2000m(ours_500m);
        const auto golden_100m = prep.read<std::int32_t>(g + "/poi_100m");
        const auto golden_500m = prep.read<std::int64_t>(g + "/poi_500m");
        const auto golden_2000m = prep.read<std::int64_t>(g + "/poi_2000m");
        ASSERT_EQ(golden_100m.shape().back(), label_map.size());
        for (std::size_t gc = 0; gc < label_map.size(); ++gc) {
            const std::size_t k = ours_of_golden[gc];
            const std::string what = g + " channel " + label_map[gc];
            expect_equal(channel(ours_100m, k), channel(golden_100m, gc), what + " 100m");
            expect_equal(channel(ours_500m, k), channel(golden_500m, gc), what + " 500m");
            expect_equal(channel(ours_2000m, k), channel(golden_2000m, gc), what + " 2000m");
        }
        for (std::size_t k = 0; k < schema.size(); ++k) {
            if (golden_channels.count(k) == 0) {
                EXPECT_TRUE(all_zero(channel(ours_100m, k)))
                    << g << ": absent category " << schema.at(k).name_cn << " is not zero";
            }
        }
    }
    EXPECT_EQ(groups, 2U) << "expected the nanchang and small groups under /poi";
}

// The small group stores every counted point (coordinates as float64 and golden channel): write
// them to a CSV of our own, count that, and compare with the golden 100 m counts. This pins the
// binning apart from the CSV files' text.
TEST(GoldenPrep_poi, StoredSmallPointsBinIntoTheGoldenCells) {
    const auto prep = io::H5File::open_read(prep_h5());
    const poi::PoiSchema schema = poi::builtin_poi_schema();
    const auto label_map = prep.read_strings("/poi/label_map");
    const auto lon = prep.read<double>("/poi/small/points_lon");
    const auto lat = prep.read<double>("/poi/small/points_lat");
    const auto cls = prep.read<std::int32_t>("/poi/small/points_class");
    ASSERT_EQ(lon.size(), cls.size());
    ASSERT_EQ(lat.size(), cls.size());
    ASSERT_EQ(static_cast<std::int64_t>(cls.size()), prep.attr_int("/poi/small", "total_counted"));

    TempDir dir;
    {
        std::ofstream csv(dir.path() / "points.csv", std::ios::binary);
        csv << "cityname,行业大类,wgs84_经度,wgs84_纬度\n";
        char line[128];
        for (std::size_t i = 0; i < cls.size(); ++i) {
            std::snprintf(line, sizeof line, "X,%s,%.17g,%.17g\n",
                          label_map.at(static_cast<std::size_t>(cls[i])).c_str(), lon[i], lat[i]);
            csv << line;
        }
    }
    const geo::CityGrid grid = grid_from_golden(prep, "small");
    core::NullProgress progress;
    const poi::PoiCounts counts = poi::count_pois(dir.path(), grid, schema, "X", progress);
    EXPECT_EQ(counts.rows_counted, cls.size());
    const auto golden_100m = prep.read<std::int32_t>("/poi/small/poi_100m");
    for (std::size_t gc = 0; gc < label_map.size(); ++gc) {
        const auto k = schema.index_of(label_map[gc]);
        ASSERT_TRUE(k.has_value());
        expect_equal(channel(counts.counts, *k), channel(golden_100m, gc),
                     "stored points, channel " + label_map[gc]);
    }
}

}  // namespace
}  // namespace zoomdiff::test
