// Golden: prep.h5:/osm/<grid> — OSM counts by centroid, line lengths and polygon areas per 100 m
// cell on the metre grid, plus their 500 m sums and 2000 m tiles, from the Geofabrik layers in
// golden/inputs/OSM_Jiangxi. Counts exact; lengths and areas within 1e-9 of the array's largest
// value (same GEOS 3.11.1 and PROJ 9.1.1 as the reference; the reference's own cross-check agreed
// to ~1e-13).
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>

#include "golden/golden_support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/geo/blocks.hpp"
#include "zoomdiff/osm/layer_stats.hpp"

namespace zoomdiff::test {
namespace {

constexpr double kRelTol = 1e-9;  // of max |golden| per array, metres or m²

std::filesystem::path layer(const char* name) {
    return golden_dir() / "inputs" / "OSM_Jiangxi" / (std::string(name) + ".shp");
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Our arrays for one grid, keyed by the golden dataset prefix (name without _100m/_500m/_2000m).
struct OurArrays {
    std::map<std::string, NdArray<std::int32_t>> counts;
    std::map<std::string, NdArray<double>> measures;
    double counts_s = 0;
    double railway_s = 0;
    double areas_s = 0;
};

OurArrays compute(const geo::CityGrid& grid) {
    core::NullProgress progress;
    OurArrays ours;
    auto start = std::chrono::steady_clock::now();
    ours.counts["pois_cnt"] =
        osm::count_layer_centroids(layer("gis_osm_pois_free_1"), grid, progress);
    auto natural = osm::count_layer_centroids(layer("gis_osm_natural_free_1"), grid, progress);
    ours.counts["natural_points_only_cnt"] = natural;
    const auto natural_a =
        osm::count_layer_centroids(layer("gis_osm_natural_a_free_1"), grid, progress);
    for (std::size_t i = 0; i < natural.size(); ++i) {
        natural[i] += natural_a[i];
    }
    ours.counts["natural_cnt"] = natural;
    ours.counts_s = seconds_since(start);

    start = std::chrono::steady_clock::now();
    ours.measures["railway_len_m"] =
        osm::layer_length_per_cell_m(layer("gis_osm_railways_free_1"), grid, progress);
    ours.railway_s = seconds_since(start);

    start = std::chrono::steady_clock::now();
    ours.measures["pofw_area_m2"] =
        osm::layer_area_per_cell_m2(layer("gis_osm_pofw_a_free_1"), grid, progress);
    ours.measures["traffic_area_m2"] =
        osm::layer_area_per_cell_m2(layer("gis_osm_traffic_a_free_1"), grid, progress);
    ours.areas_s = seconds_since(start);
    return ours;
}

/// Compares `ours` (100 m) with golden dataset `path` at resolution `res` ("100m", "500m",
/// "2000m").
template <typename T, typename Compare>
void compare_at(const io::H5File& prep, const std::string& path, const std::string& res,
                const NdArray<T>& ours, Compare compare) {
    if (res == "100m") {
        compare(ours, prep.read<T>(path));
    } else if (res == "500m") {
        compare(geo::sum_blocks_500m(ours), prep.read<geo::BlockSumT<T>>(path));
    } else if (res == "2000m") {
        compare(geo::tile_blocks_2000m(geo::sum_blocks_500m(ours)),
                prep.read<geo::BlockSumT<T>>(path));
    } else {
        ADD_FAILURE() << path << ": unknown resolution suffix " << res;
    }
}

double max_rel_diff(const NdArray<double>& ours, const NdArray<double>& golden) {
    double scale = 1.0;
    double worst = 0.0;
    for (std::size_t i = 0; i < golden.size(); ++i) {
        scale = std::max(scale, std::abs(golden[i]));
    }
    for (std::size_t i = 0; i < golden.size() && i < ours.size(); ++i) {
        worst = std::max(worst, std::abs(ours[i] - golden[i]));
    }
    return worst / scale;
}

TEST(GoldenPrep_osm, EveryGridMatchesTheReference) {
    const auto prep = io::H5File::open_read(prep_h5());
    const auto grids = prep.children("/osm");
    ASSERT_FALSE(grids.empty());
    for (const auto& name : grids) {
        SCOPED_TRACE(name);
        const std::string group = "/osm/" + name;
        const geo::CityGrid grid = grid_from_golden(prep, name);
        const OurArrays ours = compute(grid);
        std::printf(
            "osm/%s timings (ours vs reference): counts %.4f s vs %.4f s, railway length "
            "%.4f s vs %.4f s, areas %.4f s vs %.4f s\n",
            name.c_str(), ours.counts_s, prep.attr_double(group, "seconds_count"), ours.railway_s,
            prep.attr_double(group, "seconds_railway_length"), ours.areas_s,
            prep.attr_double(group, "seconds_areas"));

        const auto datasets = prep.children(group);
        ASSERT_FALSE(datasets.empty());
        for (const auto& dataset : datasets) {
            const std::string path = group + "/" + dataset;
            const auto cut = dataset.rfind('_');
            ASSERT_NE(cut, std::string::npos) << path;
            const std::string prefix = dataset.substr(0, cut);
            const std::string res = dataset.substr(cut + 1);
            if (const auto it = ours.counts.find(prefix); it != ours.counts.end()) {
                compare_at(prep, path, res, it->second,
                           [&](const auto& a, const auto& g) { expect_equal(a, g, path); });
            } else if (const auto jt = ours.measures.find(prefix); jt != ours.measures.end()) {
                compare_at(prep, path, res, jt->second, [&](const auto& a, const auto& g) {
                    expect_near_rel(a, g, kRelTol, path);
                    std::printf("  %s: max |diff| / max|golden| = %.3g\n", path.c_str(),
                                max_rel_diff(a, g));
                });
            } else {
                ADD_FAILURE() << path << ": no layer mapped to this golden dataset";
            }
        }
    }
}

}  // namespace
}  // namespace zoomdiff::test
