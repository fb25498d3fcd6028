#include "zoomdiff/osm/layer_stats.hpp"

#include <cmath>
#include <fstream>
#include <numeric>
#include <string>

#include "osm/test_layers.hpp"
#include "support/support.hpp"
#include <cpl_vsi.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/osm/osm_conditions.hpp"

namespace zoomdiff::test {
namespace {

/// A /vsimem/ shapefile path unique to the running test.
std::string vsimem_path(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return fmt::format("/vsimem/osm_{}/{}.shp", info->name(), name);
}

template <typename T>
double total(const NdArray<T>& a) {
    return std::accumulate(a.values().begin(), a.values().end(), 0.0);
}

std::string point_wkt(double x, double y) {
    return fmt::format("POINT ({:.17g} {:.17g})", x, y);
}

// Areas are measured from UTM coordinates of ~3e6 m, so a cell's m² carry ~1e-8 m² of rounding.
constexpr double kAreaTolM2 = 1e-6;

class OsmLayerStatsTest : public ::testing::Test {
protected:
    void TearDown() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        VSIRmdirRecursive(fmt::format("/vsimem/osm_{}", info->name()).c_str());
    }

    geo::CityGrid grid_ = small_test_grid();
    core::NullProgress progress_;
    const std::vector<double>& x_ = grid_.x_edges_m;
    const std::vector<double>& y_ = grid_.y_edges_m;
};

TEST_F(OsmLayerStatsTest, LineAlongACellEdgeCountsInBothCells) {
    const std::string path = vsimem_path("edge_line");
    // 50 m along the vertical edge between columns 1 and 2 inside row 3, then 30 m inside cell
    // (3, 2) at mid-height.
    write_shapefile(path, grid_.epsg, wkbLineString,
                    {fmt::format("LINESTRING ({:.17g} {:.17g}, {:.17g} {:.17g})", x_[2], y_[3] + 10,
                                 x_[2], y_[3] + 60),
                     fmt::format("LINESTRING ({:.17g} {:.17g}, {:.17g} {:.17g})", x_[2] + 20,
                                 y_[3] + 50, x_[2] + 50, y_[3] + 50)});
    const auto length_m = osm::layer_length_per_cell_m(path, grid_, progress_);
    ASSERT_EQ(length_m.shape(), (std::vector<std::size_t>{grid_.rows(), grid_.cols()}));
    EXPECT_NEAR(length_m.at(3, 1), 50.0, 1e-9);
    EXPECT_NEAR(length_m.at(3, 2), 80.0, 1e-9);
    EXPECT_NEAR(total(length_m), 130.0, 1e-9);
}

TEST_F(OsmLayerStatsTest, LongDiagonalLineSumsToItsLength) {
    const std::string path = vsimem_path("diagonal");
    // Crosses many rows and columns, and leaves the grid on the east side.
    const double x0 = x_[3] + 17.0;
    const double y0 = y_[2] + 3.0;
    const double x1 = x_.back() + 500.0;
    const double y1 = y_[30] + 41.0;
    write_shapefile(path, grid_.epsg, wkbLineString,
                    {fmt::format("LINESTRING ({:.17g} {:.17g}, {:.17g} {:.17g})", x0, y0, x1, y1)});
    const auto length_m = osm::layer_length_per_cell_m(path, grid_, progress_);
    const double inside_fraction = (x_.back() - x0) / (x1 - x0);
    const double expected_m = std::hypot(x1 - x0, y1 - y0) * inside_fraction;
    EXPECT_NEAR(total(length_m), expected_m, 1e-9 * expected_m);
    EXPECT_GT(length_m.at(2, 3), 0.0);
}

TEST_F(OsmLayerStatsTest, CountUsesTheHalfOpenRuleAndDropsTheFarEdge) {
    const std::string path = vsimem_path("points");
    const std::size_t rows = grid_.rows();
    const std::size_t cols = grid_.cols();
    write_shapefile(path, grid_.epsg, wkbPoint,
                    {point_wkt(x_[0], y_[0]),          // south-west corner → (0, 0)
                     point_wkt(x_[2], y_[4] + 50),     // inner edge → east cell (4, 2)
                     point_wkt(x_[5] + 50, y_[7]),     // inner edge → north cell (7, 5)
                     point_wkt(x_[cols], y_[1] + 50),  // far east edge → dropped
                     point_wkt(x_[1] + 50, y_[rows]),  // far north edge → dropped
                     point_wkt(x_[cols] - 1e-6, y_[rows] - 1e-6),  // just inside → last cell
                     point_wkt(x_[0] - 1e-6, y_[1])});             // just west → dropped
    const auto counts = osm::count_layer_centroids(path, grid_, progress_);
    EXPECT_EQ(counts.at(0, 0), 1);
    EXPECT_EQ(counts.at(4, 2), 1);
    EXPECT_EQ(counts.at(7, 5), 1);
    EXPECT_EQ(counts.at(rows - 1, cols - 1), 1);
    EXPECT_EQ(total(counts), 4.0);
}

TEST_F(OsmLayerStatsTest, PolygonsAreCountedOnceAtTheirCentroid) {
    const std::string path = vsimem_path("polygons");
    // A 60 m square centred on the corner of four cells, shifted 10 m east and north: its
    // centroid lies in the north-east cell although it covers four cells.
    const double cx = x_[4] + 10;
    const double cy = y_[6] + 10;
    write_shapefile(
        path, grid_.epsg, wkbPolygon,
        {fmt::format("POLYGON (({0:.17g} {1:.17g}, {2:.17g} {1:.17g}, {2:.17g} {3:.17g}, "
                     "{0:.17g} {3:.17g}, {0:.17g} {1:.17g}))",
                     cx - 30, cy - 30, cx + 30, cy + 30)});
    const auto counts = osm::count_layer_centroids(path, grid_, progress_);
    EXPECT_EQ(counts.at(6, 4), 1);
    EXPECT_EQ(total(counts), 1.0);
}

TEST_F(OsmLayerStatsTest, AreaSplitAcrossFourCellsSumsToThePolygonArea) {
    const std::string path = vsimem_path("area");
    const double cx = x_[4];
    const double cy = y_[6];
    // Square of side 60 m centred on a cell corner (900 m² per cell), and a triangle crossing
    // several cells (area 0.5 · 250 · 130 m²).
    write_shapefile(
        path, grid_.epsg, wkbPolygon,
        {fmt::format("POLYGON (({0:.17g} {1:.17g}, {2:.17g} {1:.17g}, {2:.17g} {3:.17g}, "
                     "{0:.17g} {3:.17g}, {0:.17g} {1:.17g}))",
                     cx - 30, cy - 30, cx + 30, cy + 30),
         fmt::format("POLYGON (({0:.17g} {1:.17g}, {2:.17g} {1:.17g}, {0:.17g} {3:.17g}, "
                     "{0:.17g} {1:.17g}))",
                     x_[10] + 7, y_[10] + 3, x_[10] + 257, y_[10] + 133)});
    const auto area_m2 = osm::layer_area_per_cell_m2(path, grid_, progress_);
    EXPECT_NEAR(area_m2.at(5, 3), 900.0, kAreaTolM2);
    EXPECT_NEAR(area_m2.at(5, 4), 900.0, kAreaTolM2);
    EXPECT_NEAR(area_m2.at(6, 3), 900.0, kAreaTolM2);
    EXPECT_NEAR(area_m2.at(6, 4), 900.0, kAreaTolM2);
    EXPECT_NEAR(total(area_m2), 3600.0 + 0.5 * 250.0 * 130.0, kAreaTolM2);
}

TEST_F(OsmLayerStatsTest, InvalidPolygonIsRepairedNotFatal) {
    const std::string path = vsimem_path("bowtie");
    // A self-intersecting "bow tie" of two 50 m triangles inside one cell.
    const double x0 = x_[2] + 10;
    const double y0 = y_[2] + 10;
    write_shapefile(
        path, grid_.epsg, wkbPolygon,
        {fmt::format("POLYGON (({0:.17g} {1:.17g}, {2:.17g} {3:.17g}, {2:.17g} {1:.17g}, "
                     "{0:.17g} {3:.17g}, {0:.17g} {1:.17g}))",
                     x0, y0, x0 + 10, y0 + 10)});
    const auto area_m2 = osm::layer_area_per_cell_m2(path, grid_, progress_);
    EXPECT_NEAR(area_m2.at(2, 2), 50.0, kAreaTolM2);
}

TEST_F(OsmLayerStatsTest, LayerInDegreesIsProjectedToTheGrid) {
    const std::string path = vsimem_path("degrees");
    write_shapefile(path, 4326, wkbPoint, {"POINT (115.81 28.69)", "POINT (116.5 28.69)"});
    const auto counts = osm::count_layer_centroids(path, grid_, progress_);
    EXPECT_EQ(total(counts), 1.0);
    // Same point with no .prj: EPSG:4326 is assumed.
    const std::string no_crs = vsimem_path("no_crs");
    write_shapefile(no_crs, 0, wkbPoint, {"POINT (115.81 28.69)"});
    EXPECT_EQ(osm::count_layer_centroids(no_crs, grid_, progress_).values(), counts.values());
}

TEST_F(OsmLayerStatsTest, MissingLayerFileIsAnErrorNamingTheFile) {
    try {
        (void)osm::count_layer_centroids("/nonexistent/gis_osm_pois_free_1.shp", grid_, progress_);
        FAIL() << "expected zoomdiff::Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::kInput);
        EXPECT_NE(std::string(e.what()).find("gis_osm_pois_free_1.shp"), std::string::npos);
    }
}

TEST_F(OsmLayerStatsTest, EmptyLayerGivesZeros) {
    const auto folder = golden_dir() / "inputs" / "synthetic_for_env_extra_run";
    const auto length_m =
        osm::layer_length_per_cell_m(folder / "gis_osm_roads_free_1.shp", grid_, progress_);
    EXPECT_EQ(length_m.size(), grid_.rows() * grid_.cols());
    EXPECT_EQ(total(length_m), 0.0);
    const auto counts =
        osm::count_layer_centroids(folder / "gis_osm_buildings_a_free_1.shp", grid_, progress_);
    EXPECT_EQ(total(counts), 0.0);
}

// ---- compute_osm_conditions on a folder -------------------------------------------------------

TEST_F(OsmLayerStatsTest, FolderOfLayersFillsEveryArrayFromItsLayer) {
    TempDir dir;
    auto shp = [&](const char* name) {
        return (dir.path() / (std::string(name) + ".shp")).string();
    };
    const std::string square = fmt::format(
        "POLYGON (({0:.17g} {1:.17g}, {2:.17g} {1:.17g}, {2:.17g} {3:.17g}, {0:.17g} {3:.17g}, "
        "{0:.17g} {1:.17g}))",
        x_[1] + 10, y_[1] + 10, x_[1] + 30, y_[1] + 30);
    write_shapefile(shp("gis_osm_buildings_a_free_1"), grid_.epsg, wkbPolygon, {square, square});
    write_shapefile(shp("gis_osm_roads_free_1"), grid_.epsg, wkbLineString,
                    {fmt::format("LINESTRING ({:.17g} {:.17g}, {:.17g} {:.17g})", x_[1] + 10,
                                 y_[2] + 50, x_[1] + 40, y_[2] + 50)});
    write_shapefile(shp("gis_osm_waterways_free_1"), grid_.epsg, wkbLineString, {});
    write_shapefile(shp("gis_osm_water_a_free_1"), grid_.epsg, wkbPolygon, {square});
    write_shapefile(shp("gis_osm_natural_free_1"), grid_.epsg, wkbPoint,
                    {point_wkt(x_[3] + 1, y_[3] + 1)});
    write_shapefile(shp("gis_osm_natural_a_free_1"), grid_.epsg, wkbPolygon, {square});
    write_shapefile(shp("gis_osm_pois_free_1"), grid_.epsg, wkbPoint,
                    {point_wkt(x_[0] + 1, y_[0] + 1), point_wkt(x_[0] + 2, y_[0] + 2)});
    const auto c = osm::compute_osm_conditions(dir.path(), grid_, progress_);
    EXPECT_EQ(c.building_count.at(1, 1), 2);
    EXPECT_EQ(total(c.building_count), 2.0);
    EXPECT_NEAR(c.road_length_m.at(2, 1), 30.0, 1e-9);
    EXPECT_NEAR(total(c.road_length_m), 30.0, 1e-9);
    EXPECT_EQ(total(c.waterway_length_m), 0.0);
    EXPECT_NEAR(c.water_area_m2.at(1, 1), 400.0, kAreaTolM2);
    EXPECT_EQ(c.natural_count.at(3, 3), 1);
    EXPECT_EQ(c.natural_count.at(1, 1), 1);
    EXPECT_EQ(total(c.natural_count), 2.0);
    EXPECT_EQ(c.osm_poi_count.at(0, 0), 2);
}

TEST_F(OsmLayerStatsTest, FolderMissingALayerIsAnErrorNamingIt) {
    // The synthetic end-to-end folder has roads, waterways, water and buildings, but no natural
    // or pois layer.
    const auto folder = golden_dir() / "inputs" / "synthetic_for_env_extra_run";
    try {
        (void)osm::compute_osm_conditions(folder, grid_, progress_);
        FAIL() << "expected zoomdiff::Error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("gis_osm_natural_free_1.shp"), std::string::npos)
            << e.what();
    }
}

TEST_F(OsmLayerStatsTest, SourceThatIsNoOsmInputIsOneClearError) {
    TempDir dir;
    EXPECT_THROW((void)osm::compute_osm_conditions(dir.path(), grid_, progress_), Error);
    const auto text = dir.path() / "notes.txt";
    std::ofstream(text) << "not osm\n";
    EXPECT_THROW((void)osm::compute_osm_conditions(text, grid_, progress_), Error);
    EXPECT_THROW(
        (void)osm::compute_osm_conditions(dir.path() / "missing.osm.pbf", grid_, progress_), Error);
}

}  // namespace
}  // namespace zoomdiff::test
