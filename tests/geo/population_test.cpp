#include "zoomdiff/geo/population.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "support/support.hpp"
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/progress.hpp"

namespace zoomdiff::geo {
namespace {

namespace fs = std::filesystem;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

/// A test raster: 8×8 pixels of 0.125° (exact in binary) covering lon 10..11, lat 49..50,
/// value(row, col) = 10·row + col with rows from the north, as in the file.
struct TestRaster {
    int cols = 8;
    int rows = 8;
    double gt[6] = {10.0, 0.125, 0.0, 50.0, 0.0, -0.125};
    std::vector<float> values;
    std::optional<double> nodata = -99999.0;
    int epsg = 4326;  ///< 0 = no CRS

    TestRaster() : values(64) {
        for (int r = 0; r < rows; ++r) {
            for (int c = 0; c < cols; ++c) {
                values[static_cast<std::size_t>(r * cols + c)] = static_cast<float>(10 * r + c);
            }
        }
    }

    float& at(int row, int col) { return values[static_cast<std::size_t>(row * cols + col)]; }

    fs::path write(const fs::path& path) const {
        GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
        if (driver == nullptr) {
            ADD_FAILURE() << "GTiff driver missing";
            return path;
        }
        GDALDatasetUniquePtr ds(driver->Create(path.c_str(), cols, rows, 1, GDT_Float32, nullptr));
        EXPECT_NE(ds, nullptr);
        double gt_copy[6] = {gt[0], gt[1], gt[2], gt[3], gt[4], gt[5]};
        ds->SetGeoTransform(gt_copy);
        if (epsg != 0) {
            OGRSpatialReference srs;
            srs.importFromEPSG(epsg);
            ds->SetSpatialRef(&srs);
        }
        GDALRasterBand* band = ds->GetRasterBand(1);
        if (nodata) {
            band->SetNoDataValue(*nodata);
        }
        std::vector<float> copy = values;
        EXPECT_EQ(band->RasterIO(GF_Write, 0, 0, cols, rows, copy.data(), cols, rows, GDT_Float32,
                                 0, 0, nullptr),
                  CE_None);
        return path;
    }
};

/// A grid from degree edges (rows from the south); the metre edges only give the counts.
CityGrid grid_from_edges(std::vector<double> lon_edges, std::vector<double> lat_edges) {
    CityGrid grid;
    grid.lon_edges_deg = std::move(lon_edges);
    grid.lat_edges_deg = std::move(lat_edges);
    for (std::size_t k = 0; k < grid.lon_edges_deg.size(); ++k) {
        grid.x_edges_m.push_back(100.0 * static_cast<double>(k));
    }
    for (std::size_t k = 0; k < grid.lat_edges_deg.size(); ++k) {
        grid.y_edges_m.push_back(100.0 * static_cast<double>(k));
    }
    return grid;
}

/// 2×2 cells of 0.25° (2×2 pixels each) in the raster's south-west corner.
CityGrid corner_grid() {
    return grid_from_edges({10.0, 10.25, 10.5}, {49.0, 49.25, 49.5});
}

NdArray<float> sample(const fs::path& path, const CityGrid& grid) {
    core::NullProgress progress;
    return sample_population(path, grid, progress);
}

std::string error_of(const fs::path& path, const CityGrid& grid) {
    try {
        sample(path, grid);
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::kInput);
        EXPECT_EQ(e.subject(), path.string());
        return e.what();
    }
    ADD_FAILURE() << "no zoomdiff::Error for " << path;
    return {};
}

TEST(PopulationTest, WindowOfAnAlignedCellIsItsPixelRectangle) {
    const GeoTransformDeg gt = GeoTransformDeg::from_gdal(TestRaster().gt);
    const PixelWindow w = window_from_bounds(gt, 10.25, 49.25, 10.5, 49.5);
    EXPECT_EQ(w.col_off, 2.0);
    EXPECT_EQ(w.row_off, 4.0);
    EXPECT_EQ(w.width, 2.0);
    EXPECT_EQ(w.height, 2.0);
}

TEST(PopulationTest, OutputShapeRoundsHalfUp) {
    PixelWindow w;
    w.width = 2.5;
    w.height = 1.49;
    const WindowShape s = window_out_shape(w);
    EXPECT_EQ(s.cols, 3);
    EXPECT_EQ(s.rows, 1);
}

TEST(PopulationTest, CentreRulePicksThePixelUnderEachOutputCentre) {
    // Window 1.23 px wide, one output pixel: its centre is at 4.6 + 0.615 = 5.215 → pixel 5.
    EXPECT_EQ(centre_rule_pixel(4.6, 1.23, 1, 0), 5);
    // Window 3.6 px, 4 outputs of 0.9 px: centres 0.45, 1.35, 2.25, 3.15 → 0, 1, 2, 3.
    for (std::int64_t c = 0; c < 4; ++c) {
        EXPECT_EQ(centre_rule_pixel(0.0, 3.6, 4, c), c);
    }
    PixelWindow w;
    w.col_off = -1.0;
    w.row_off = 6.5;
    w.width = 2.0;
    w.height = 2.0;
    // Column −1 and row 8 lie outside an 8×8 raster.
    EXPECT_EQ(sampled_pixel_indices(w, 8, 8), (std::vector<std::int64_t>{-1, 56, -1, -1}));
}

TEST(PopulationTest, KnownValuesGiveKnownCellMeans) {
    test::TempDir dir;
    const auto path = TestRaster().write(dir.path() / "pop.tif");
    const NdArray<float> pop = sample(path, corner_grid());
    ASSERT_EQ(pop.shape(), (std::vector<std::size_t>{2, 2}));
    // Cell (0, 0) is the south-west one: raster rows 6–7, cols 0–1.
    EXPECT_EQ(pop.at(0, 0), (60.0F + 61.0F + 70.0F + 71.0F) / 4.0F);
    EXPECT_EQ(pop.at(0, 1), (62.0F + 63.0F + 72.0F + 73.0F) / 4.0F);
    EXPECT_EQ(pop.at(1, 0), (40.0F + 41.0F + 50.0F + 51.0F) / 4.0F);
    EXPECT_EQ(pop.at(1, 1), (42.0F + 43.0F + 52.0F + 53.0F) / 4.0F);
}

TEST(PopulationTest, NodataAndNanPixelsAreLeftOut) {
    test::TempDir dir;
    TestRaster raster;
    raster.at(6, 1) = -99999.0F;
    raster.at(7, 1) = kNan;
    raster.at(4, 2) = kNan;
    raster.at(4, 3) = -99999.0F;
    raster.at(5, 2) = -99999.0F;
    raster.at(5, 3) = kNan;  // cell (1, 1) has no valid pixel
    const NdArray<float> pop = sample(raster.write(dir.path() / "pop.tif"), corner_grid());
    EXPECT_EQ(pop.at(0, 0), 65.0F);  // mean of 60 and 70
    EXPECT_EQ(pop.at(1, 1), 0.0F);
    EXPECT_EQ(pop.at(1, 0), 45.5F);
}

TEST(PopulationTest, WithoutNodataValueThePlainMeanStillDropsNan) {
    test::TempDir dir;
    TestRaster raster;
    raster.nodata.reset();
    raster.at(7, 1) = kNan;
    const NdArray<float> pop = sample(raster.write(dir.path() / "pop.tif"), corner_grid());
    EXPECT_EQ(pop.at(0, 0), static_cast<float>((60.0 + 61.0 + 70.0) / 3.0));
}

TEST(PopulationTest, ANegativePixelIsRefusedNamingIt) {
    // issue 19: -1000 people per pixel (or a fill value the raster does not declare as nodata)
    // passed silently; the reference averages them in (REFCOMPAT deviation: we refuse).
    test::TempDir dir;
    TestRaster raster;
    raster.nodata.reset();
    raster.at(6, 0) = -99999.0F;
    raster.at(7, 3) = -1000.0F;
    const fs::path path = raster.write(dir.path() / "pop.tif");
    const std::string msg = error_of(path, corner_grid());
    EXPECT_NE(msg.find("row 6, column 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2 of the"), std::string::npos) << msg;
    EXPECT_NE(msg.find("gdal_edit.py -a_nodata"), std::string::npos) << msg;
    core::NullProgress progress;
    EXPECT_THROW(sample_population(path, corner_grid(), progress,
                                   PopulationOptions{PopulationRule::kAreaWeighted}),
                 Error)
        << "the area-weighted rule reads the same pixels";
    raster.nodata = -99999.0;
    raster.at(7, 3) = 3.0F;
    EXPECT_EQ(sample(raster.write(dir.path() / "declared.tif"), corner_grid()).at(0, 0),
              static_cast<float>((61.0 + 70.0 + 71.0) / 3.0))
        << "a declared nodata value is left out of the mean of the cell's pixels";
}

TEST(PopulationTest, AllNodataIsAnError) {
    test::TempDir dir;
    TestRaster raster;
    for (std::size_t k = 0; k < raster.values.size(); ++k) {
        raster.values[k] = k % 2 == 0 ? -99999.0F : kNan;
    }
    const std::string msg = error_of(raster.write(dir.path() / "pop.tif"), corner_grid());
    EXPECT_NE(msg.find("NaN/nodata everywhere"), std::string::npos) << msg;
}

TEST(PopulationTest, RasterWithoutCrsIsAnError) {
    test::TempDir dir;
    TestRaster raster;
    raster.epsg = 0;
    const std::string msg = error_of(raster.write(dir.path() / "pop.tif"), corner_grid());
    EXPECT_NE(msg.find("no coordinate reference system"), std::string::npos) << msg;
}

TEST(PopulationTest, RasterInAnotherCrsIsRefusedWithTheGdalwarpFix) {
    test::TempDir dir;
    TestRaster raster;
    raster.epsg = 32650;
    const std::string msg = error_of(raster.write(dir.path() / "pop.tif"), corner_grid());
    EXPECT_NE(msg.find("not EPSG:4326"), std::string::npos) << msg;
    EXPECT_NE(msg.find("gdalwarp -t_srs EPSG:4326"), std::string::npos) << msg;
}

TEST(PopulationTest, MissingOrUnreadableFileIsAnError) {
    test::TempDir dir;
    const std::string missing = error_of(dir.path() / "absent.tif", corner_grid());
    EXPECT_NE(missing.find("not found"), std::string::npos) << missing;
    const fs::path junk = dir.path() / "junk.tif";
    std::ofstream(junk) << "not a raster\n";
    const std::string unreadable = error_of(junk, corner_grid());
    EXPECT_NE(unreadable.find("not a readable raster"), std::string::npos) << unreadable;
}

TEST(PopulationTest, RasterOutsideTheGridIsAnError) {
    test::TempDir dir;
    const auto path = TestRaster().write(dir.path() / "pop.tif");
    const std::string msg = error_of(path, grid_from_edges({20.0, 20.25}, {49.0, 49.25}));
    EXPECT_NE(msg.find("does not overlap"), std::string::npos) << msg;
}

TEST(PopulationTest, CellsPartlyOutsideUseTheirInsidePixels) {
    test::TempDir dir;
    const auto path = TestRaster().write(dir.path() / "pop.tif");
    // One cell straddling the west edge: pixels at cols −1 and 0 of rows 6–7.
    const NdArray<float> pop = sample(path, grid_from_edges({9.875, 10.125}, {49.0, 49.25}));
    EXPECT_EQ(pop.at(0, 0), 65.0F);  // mean of 60 and 70
}

TEST(PopulationTest, RealWorldPopFixtureGivesThePixelAtEachCellCentre) {
    const fs::path dir = test::test_data_dir() / "worldpop_format_fixture";
    const fs::path path = dir / "ppp_2020_1km_Aggregated_sierra_de_neiba_crop.tif";
    ASSERT_TRUE(fs::exists(path)) << test::missing_data(path);
    GDALDatasetUniquePtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    ASSERT_NE(ds, nullptr);
    double gt[6];
    ASSERT_EQ(ds->GetGeoTransform(gt), CE_None);
    const int raster_cols = ds->GetRasterXSize();
    const int raster_rows = ds->GetRasterYSize();
    std::vector<float> pixels(static_cast<std::size_t>(raster_cols * raster_rows));
    ASSERT_EQ(ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, raster_cols, raster_rows, pixels.data(),
                                             raster_cols, raster_rows, GDT_Float32, 0, 0, nullptr),
              CE_None);

    // Cells one pixel wide, shifted a quarter pixel east and south of the pixel grid, inside
    // the raster: 6 rows × 10 cols starting at pixel col 20, row 3 (from the north).
    const int col0 = 20;
    const int row0 = 3;
    const std::size_t cols = 10;
    const std::size_t rows = 6;
    std::vector<double> lon_edges;
    std::vector<double> lat_edges;
    for (std::size_t k = 0; k <= cols; ++k) {
        lon_edges.push_back(gt[0] + (col0 + static_cast<double>(k) + 0.25) * gt[1]);
    }
    for (std::size_t k = 0; k <= rows; ++k) {  // south to north
        lat_edges.push_back(gt[3] + (row0 + static_cast<double>(rows - k) + 0.25) * gt[5]);
    }
    const CityGrid grid = grid_from_edges(lon_edges, lat_edges);
    const NdArray<float> pop = sample(path, grid);
    ASSERT_EQ(pop.shape(), (std::vector<std::size_t>{rows, cols}));
    for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
            const double lon_c = 0.5 * (lon_edges[j] + lon_edges[j + 1]);
            const double lat_c = 0.5 * (lat_edges[i] + lat_edges[i + 1]);
            const auto col = static_cast<int>(std::floor((lon_c - gt[0]) / gt[1]));
            const auto row = static_cast<int>(std::floor((lat_c - gt[3]) / gt[5]));
            const float expected = pixels[static_cast<std::size_t>(row * raster_cols + col)];
            EXPECT_TRUE(std::isfinite(pop.at(i, j)));
            EXPECT_GE(pop.at(i, j), 0.0F);
            EXPECT_EQ(pop.at(i, j), expected) << "cell " << i << "," << j;
        }
    }
}

}  // namespace
}  // namespace zoomdiff::geo
