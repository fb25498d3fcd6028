// env_extra stage timings on the Nanchang box of the goldens (real OSM layers and POI tables of
// ../shared/golden/inputs), next to the reference's timings stored in prep.h5 (seconds_*).
// Each stage runs in a forked child, so its peak RSS is its own. Prints a Markdown table.
//
//   env_extra_bench [golden_dir] [repeats]
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "run_in_child.hpp"
#include <gdal_priv.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/geo/population.hpp"
#include "zoomdiff/io/h5_file.hpp"
#include "zoomdiff/osm/layer_stats.hpp"
#include "zoomdiff/osm/osm_conditions.hpp"
#include "zoomdiff/poi/poi_counts.hpp"
#include "zoomdiff/poi/poi_schema.hpp"

namespace fs = std::filesystem;
using zoomdiff::geo::CityGrid;

namespace {

struct Measure {
    double seconds = 0;       ///< second call in the process (GDAL/PROJ/GEOS initialised)
    double cold_seconds = 0;  ///< first call in a fresh process
    long peak_rss_kb = 0;
};

/// Runs `work` twice in a child process, `repeats` times; best wall times, peak RSS of the child.
Measure measure(const std::function<void()>& work, int repeats) {
    Measure best{1e300, 1e300, 0};
    for (int r = 0; r < repeats; ++r) {
        using Times = std::array<double, 2>;
        const auto run = zoomdiff::bench::run_in_child<Times>([&] {
            Times s{};
            for (double& seconds : s) {
                const auto t0 = std::chrono::steady_clock::now();
                work();
                seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            }
            return s;
        });
        best.cold_seconds = std::min(best.cold_seconds, run.result[0]);
        best.seconds = std::min(best.seconds, run.result[1]);
        best.peak_rss_kb = std::max(best.peak_rss_kb, run.peak_rss_kb);
    }
    return best;
}

/// A WorldPop-like raster (3″ pixels, EPSG:4326, float32, nodata −99999) over the grid's box plus
/// a margin, with seeded values: no real raster of Nanchang is public here.
fs::path write_population_raster(const CityGrid& grid, const fs::path& dir) {
    const double px = 1.0 / 1200.0;
    const double west = grid.bbox.lon_min_deg - 0.02;
    const double north = grid.bbox.lat_max_deg + 0.02;
    const int width = static_cast<int>((grid.bbox.lon_max_deg - grid.bbox.lon_min_deg + 0.04) / px);
    const int height =
        static_cast<int>((grid.bbox.lat_max_deg - grid.bbox.lat_min_deg + 0.04) / px);
    const fs::path path = dir / "bench_population.tif";
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
    GDALDatasetUniquePtr ds(driver->Create(path.c_str(), width, height, 1, GDT_Float32, nullptr));
    double gt[6] = {west, px, 0, north, 0, -px};
    ds->SetGeoTransform(gt);
    ds->SetProjection(
        R"(GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]])");
    std::vector<float> values(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
    std::uint64_t state = 42;
    for (auto& v : values) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        const double u = static_cast<double>(state >> 11) / 9007199254740992.0;
        v = u < 0.08 ? -99999.0F : static_cast<float>(40.0 * u * u);
    }
    GDALRasterBand* band = ds->GetRasterBand(1);
    band->SetNoDataValue(-99999.0);
    if (band->RasterIO(GF_Write, 0, 0, width, height, values.data(), width, height, GDT_Float32, 0,
                       0) != CE_None) {
        std::exit(1);
    }
    return path;
}

}  // namespace

int main(int argc, char** argv) {
    GDALAllRegister();
    spdlog::set_level(spdlog::level::err);
    const fs::path golden =
        argc > 1 ? fs::path(argv[1]) : fs::path(ZOOMDIFF_SOURCE_DIR) / ".." / "shared" / "golden";
    const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
    const auto prep = zoomdiff::io::H5File::open_read(golden / "prep.h5");
    const auto box = prep.attr_doubles("/grids/nanchang", "bbox_lon_min_lat_min_lon_max_lat_max");
    const zoomdiff::geo::BBoxDeg bbox{box[0], box[1], box[2], box[3]};
    const fs::path osm = golden / "inputs" / "OSM_Jiangxi";
    const fs::path poi = golden / "inputs" / "POI_Nanchang";
    const auto layer = [&](const char* name) { return osm / (std::string(name) + ".shp"); };
    const fs::path tmp = fs::temp_directory_path() / ("zoomdiff-bench-" + std::to_string(getpid()));
    fs::create_directories(tmp);
    const CityGrid grid = CityGrid::from_bbox(bbox);
    const fs::path raster = write_population_raster(grid, tmp);
    zoomdiff::core::NullProgress progress;

    struct Row {
        std::string stage;
        std::string reference_key;
        Measure ours;
    };

    std::vector<Row> rows;
    rows.push_back({"grid (boundary box → 100 m UTM grid)", "",
                    measure([&] { (void)CityGrid::from_bbox(bbox); }, repeats)});
    rows.push_back({"population (3″ raster, window rule)", "",
                    measure([&] { (void)zoomdiff::geo::sample_population(raster, grid, progress); },
                            repeats)});
    rows.push_back({"OSM counts: pois + natural + natural_a (centroids)", "seconds_count",
                    measure(
                        [&] {
                            (void)zoomdiff::osm::count_layer_centroids(layer("gis_osm_pois_free_1"),
                                                                       grid, progress);
                            (void)zoomdiff::osm::count_layer_centroids(
                                layer("gis_osm_natural_free_1"), grid, progress);
                            (void)zoomdiff::osm::count_layer_centroids(
                                layer("gis_osm_natural_a_free_1"), grid, progress);
                        },
                        repeats)});
    rows.push_back({"OSM length: railways (stand-in for roads)", "seconds_railway_length",
                    measure(
                        [&] {
                            (void)zoomdiff::osm::layer_length_per_cell_m(
                                layer("gis_osm_railways_free_1"), grid, progress);
                        },
                        repeats)});
    rows.push_back({"OSM areas: pofw_a + traffic_a (stand-ins for water)", "seconds_areas",
                    measure(
                        [&] {
                            (void)zoomdiff::osm::layer_area_per_cell_m2(
                                layer("gis_osm_pofw_a_free_1"), grid, progress);
                            (void)zoomdiff::osm::layer_area_per_cell_m2(
                                layer("gis_osm_traffic_a_free_1"), grid, progress);
                        },
                        repeats)});
    rows.push_back({"POI tables: 15 CSVs, 72,317 rows", "",
                    measure(
                        [&] {
                            const auto schema = zoomdiff::poi::builtin_poi_schema();
                            (void)zoomdiff::poi::count_pois(poi, grid, schema, "南昌市", progress);
                        },
                        repeats)});

    std::printf(
        "env_extra stages on the golden Nanchang box (%zu x %zu cells of 100 m), best of %d, "
        "each stage in its own process (run twice: the second call is the one a whole run sees, "
        "GDAL/PROJ/GEOS already initialised)\n\n",
        grid.rows(), grid.cols(), repeats);
    std::printf(
        "| stage | ours (s) | ours, fresh process (s) | peak RSS (MiB) | reference (s) | speed-up "
        "|\n"
        "|---|---:|---:|---:|---:|---:|\n");
    for (const Row& row : rows) {
        std::string ref = "—";
        std::string speedup = "—";
        if (!row.reference_key.empty()) {
            const double r = prep.attr_double("/osm/nanchang", row.reference_key);
            ref = std::to_string(r).substr(0, 5);
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.0f×", r / row.ours.seconds);
            speedup = buf;
        }
        std::printf("| %s | %.4f | %.4f | %.1f | %s | %s |\n", row.stage.c_str(), row.ours.seconds,
                    row.ours.cold_seconds, static_cast<double>(row.ours.peak_rss_kb) / 1024.0,
                    ref.c_str(), speedup.c_str());
    }
    fs::remove_all(tmp);
    return 0;
}
