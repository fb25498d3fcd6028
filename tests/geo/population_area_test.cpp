// PopulationRule::kAreaWeighted: conservation on the real Milan census rasters (checked against
// exact polygon overlaps computed here with OGR/GEOS, independent of the implementation), the two
// Milan rasters against each other, an aligned synthetic raster cell by cell, and the refusals of
// the reference rule that point to `--pop_rule area_weighted`.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/support.hpp"
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_api.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/geo/population.hpp"

namespace zoomdiff::geo {
namespace {

namespace fs = std::filesystem;

fs::path milan_dir() {
    return test::test_data_dir() / "milan_population";
}

fs::path milan_utm_raster() {
    return milan_dir() / "population_500m_epsg32632.tif";
}

fs::path milan_wgs84_raster() {
    return milan_dir() / "population_wgs84_0p005deg_sum.tif";
}

/// A box well inside the populated part of both Milan rasters (Città metropolitana).
CityGrid milan_inner_grid() {
    BBoxDeg box;
    box.lon_min_deg = 9.05;
    box.lat_min_deg = 45.38;
    box.lon_max_deg = 9.30;
    box.lat_max_deg = 45.54;
    return CityGrid::from_bbox(box);
}

/// About 275 rows × 250 cols of 100 m around Milan, inside both rasters' extents.
CityGrid milan_timing_grid() {
    BBoxDeg box;
    box.lon_min_deg = 9.03;
    box.lat_min_deg = 45.34;
    box.lon_max_deg = 9.35;
    box.lat_max_deg = 45.5875;
    return CityGrid::from_bbox(box);
}

PopulationOptions area_weighted() {
    PopulationOptions options;
    options.rule = PopulationRule::kAreaWeighted;
    return options;
}

double total_of(const NdArray<float>& a) {
    double sum = 0.0;
    for (std::size_t i = 0; i < a.shape()[0]; ++i) {
        for (std::size_t j = 0; j < a.shape()[1]; ++j) {
            sum += a.at(i, j);
        }
    }
    return sum;
}

/// One valid pixel of a raster as a polygon in the grid's UTM plane.
struct PixelPolygon {
    std::unique_ptr<OGRPolygon> polygon;
    OGREnvelope envelope;
    double area_m2 = 0;
    double value = 0;  ///< people
};

/// Every valid, non-zero pixel of band 1, its outline (each side densified to 16 segments)
/// transformed into the grid's UTM plane with OGR.
std::vector<PixelPolygon> pixel_polygons(const fs::path& raster, const CityGrid& grid) {
    std::vector<PixelPolygon> out;
    GDALDatasetUniquePtr ds(GDALDataset::Open(raster.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    if (!ds) {
        ADD_FAILURE() << "cannot open " << raster;
        return out;
    }
    OGRSpatialReference raster_srs(*ds->GetSpatialRef());
    raster_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    OGRSpatialReference utm;
    utm.importFromEPSG(grid.epsg);
    utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    const std::unique_ptr<OGRCoordinateTransformation> to_utm(
        OGRCreateCoordinateTransformation(&raster_srs, &utm));
    if (!to_utm) {
        ADD_FAILURE() << "no transformation to EPSG:" << grid.epsg;
        return out;
    }
    double gt[6];
    ds->GetGeoTransform(gt);
    const int cols = ds->GetRasterXSize();
    const int rows = ds->GetRasterYSize();
    std::vector<float> values(static_cast<std::size_t>(cols) * rows);
    GDALRasterBand* band = ds->GetRasterBand(1);
    EXPECT_EQ(band->RasterIO(GF_Read, 0, 0, cols, rows, values.data(), cols, rows, GDT_Float32, 0,
                             0, nullptr),
              CE_None);
    int has_nodata = 0;
    const double nodata = band->GetNoDataValue(&has_nodata);
    constexpr int kSteps = 16;
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
            const float v = values[static_cast<std::size_t>(r) * cols + c];
            if (std::isnan(v) || (has_nodata != 0 && v == static_cast<float>(nodata)) || v == 0) {
                continue;
            }
            std::vector<double> xs;
            std::vector<double> ys;
            const double pc[5] = {0, 1, 1, 0, 0};
            const double pr[5] = {0, 0, 1, 1, 0};
            for (int side = 0; side < 4; ++side) {
                for (int s = 0; s < kSteps; ++s) {
                    const double t = static_cast<double>(s) / kSteps;
                    const double col = c + pc[side] + t * (pc[side + 1] - pc[side]);
                    const double row = r + pr[side] + t * (pr[side + 1] - pr[side]);
                    xs.push_back(gt[0] + gt[1] * col + gt[2] * row);
                    ys.push_back(gt[3] + gt[4] * col + gt[5] * row);
                }
            }
            if (!to_utm->Transform(static_cast<int>(xs.size()), xs.data(), ys.data())) {
                ADD_FAILURE() << "transform failed for pixel " << r << ", " << c;
                continue;
            }
            auto ring = std::make_unique<OGRLinearRing>();
            for (std::size_t k = 0; k < xs.size(); ++k) {
                ring->addPoint(xs[k], ys[k]);
            }
            ring->closeRings();
            PixelPolygon p;
            p.polygon = std::make_unique<OGRPolygon>();
            p.polygon->addRingDirectly(ring.release());
            p.polygon->getEnvelope(&p.envelope);
            p.area_m2 = p.polygon->get_Area();
            p.value = v;
            out.push_back(std::move(p));
        }
    }
    return out;
}

std::unique_ptr<OGRPolygon> rectangle(double x0_m, double y0_m, double x1_m, double y1_m) {
    auto ring = std::make_unique<OGRLinearRing>();
    ring->addPoint(x0_m, y0_m);
    ring->addPoint(x1_m, y0_m);
    ring->addPoint(x1_m, y1_m);
    ring->addPoint(x0_m, y1_m);
    ring->closeRings();
    auto polygon = std::make_unique<OGRPolygon>();
    polygon->addRingDirectly(ring.release());
    return polygon;
}

/// Fraction of `pixel`'s area inside `rect` (exact polygon overlap by GEOS).
double inside_frac(const PixelPolygon& pixel, const OGRPolygon& rect) {
    OGREnvelope env;
    rect.getEnvelope(&env);
    if (!env.Intersects(pixel.envelope)) {
        return 0.0;
    }
    const std::unique_ptr<OGRGeometry> inside(pixel.polygon->Intersection(&rect));
    if (!inside) {
        ADD_FAILURE() << "GEOS intersection failed";
        return 0.0;
    }
    return OGR_G_Area(OGRGeometry::ToHandle(inside.get())) / pixel.area_m2;
}

/// The raster's people on the grid's metre rectangle, from exact polygon overlaps.
struct ExpectedTotals {
    double overlap = 0;        ///< Σ value × area inside / pixel area
    double wholly_inside = 0;  ///< Σ value of pixels entirely inside the rectangle
    double touching = 0;       ///< Σ value of pixels that overlap the rectangle at all
};

ExpectedTotals expected_totals(const std::vector<PixelPolygon>& pixels, const CityGrid& grid) {
    ExpectedTotals out;
    const auto rect = rectangle(grid.x_edges_m.front(), grid.y_edges_m.front(),
                                grid.x_edges_m.back(), grid.y_edges_m.back());
    for (const PixelPolygon& p : pixels) {
        const double frac = inside_frac(p, *rect);
        out.overlap += p.value * frac;
        if (frac > 0) {
            out.touching += p.value;
        }
        if (frac >= 1.0 - 1e-9) {
            out.wholly_inside += p.value;
        }
    }
    return out;
}

NdArray<float> area_weighted_sample(const fs::path& raster, const CityGrid& grid) {
    core::NullProgress progress;
    return sample_population(raster, grid, progress, area_weighted());
}

class MilanAreaWeightedTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(fs::exists(milan_utm_raster())) << test::missing_data(milan_utm_raster());
        ASSERT_TRUE(fs::exists(milan_wgs84_raster())) << test::missing_data(milan_wgs84_raster());
    }
};

void expect_conserved(const fs::path& raster) {
    const CityGrid grid = milan_inner_grid();
    const ExpectedTotals expected = expected_totals(pixel_polygons(raster, grid), grid);
    const double total = total_of(area_weighted_sample(raster, grid));
    ASSERT_GT(expected.overlap, 1e5) << "the box should hold a large part of Milan";
    // The requirement: the grid holds the people of the pixels inside its footprint.
    EXPECT_GE(total, expected.wholly_inside * (1 - 1e-3));
    EXPECT_LE(total, expected.touching * (1 + 1e-3));
    // Stronger: the exact polygon-overlap total, within 0.1 % (and, for exact clipping, 1e-6).
    const double rel_err = std::abs(total - expected.overlap) / expected.overlap;
    EXPECT_LT(rel_err, 1e-3) << "grid " << total << " vs exact overlap " << expected.overlap;
    EXPECT_LT(rel_err, 1e-6) << "exact clipping should leave only rounding";
    std::cout << "[ conserve ] " << raster.filename().string() << ": grid " << grid.rows() << "x"
              << grid.cols() << ", area-weighted total " << std::fixed << total
              << ", exact overlap " << expected.overlap << ", wholly inside "
              << expected.wholly_inside << ", touching " << expected.touching << ", rel err "
              << std::scientific << rel_err << std::defaultfloat << "\n";
}

TEST_F(MilanAreaWeightedTest, UtmCensusRasterIsConservedOnTheGrid) {
    expect_conserved(milan_utm_raster());
}

TEST_F(MilanAreaWeightedTest, Wgs84CensusRasterIsConservedOnTheGrid) {
    expect_conserved(milan_wgs84_raster());
}

TEST_F(MilanAreaWeightedTest, BothRastersOfTheSameCensusAgree) {
    const CityGrid grid = milan_inner_grid();
    const NdArray<float> utm = area_weighted_sample(milan_utm_raster(), grid);
    const NdArray<float> wgs84 = area_weighted_sample(milan_wgs84_raster(), grid);
    const double utm_total = total_of(utm);
    const double wgs84_total = total_of(wgs84);
    const double rel_diff = std::abs(utm_total - wgs84_total) / utm_total;
    EXPECT_LT(rel_diff, 0.01) << utm_total << " vs " << wgs84_total;
    // At 500 m the two should also agree cell by cell, up to the 0.005° resampling's blur.
    double abs_diff_sum = 0.0;
    for (std::size_t i = 0; i + 5 <= grid.rows(); i += 5) {
        for (std::size_t j = 0; j + 5 <= grid.cols(); j += 5) {
            double a = 0.0;
            double b = 0.0;
            for (std::size_t di = 0; di < 5; ++di) {
                for (std::size_t dj = 0; dj < 5; ++dj) {
                    a += utm.at(i + di, j + dj);
                    b += wgs84.at(i + di, j + dj);
                }
            }
            abs_diff_sum += std::abs(a - b);
        }
    }
    const double mean_abs_frac = abs_diff_sum / utm_total;
    EXPECT_LT(mean_abs_frac, 0.2) << "500 m cells disagree too much";
    std::cout << "[ agree    ] EPSG:32632 total " << std::fixed << utm_total << ", EPSG:4326 total "
              << wgs84_total << ", rel diff " << std::scientific << rel_diff
              << ", Σ|Δ| over 500 m cells / total " << std::defaultfloat << mean_abs_frac << "\n";
}

/// Each cell against its exact overlap sum (GEOS, densified pixel outlines), on a 30 × 30 block in
/// the city centre. The method clips straight quadrilaterals, so the only difference is the
/// curvature of the pixel edges (sagitta ≤ 1 cm for these pixels, over ≤ 4 × 100 m of cell edge)
/// and float32 storage: |error| ≤ ρ_max · 4 m² + 1e-5 · exact + 1e-3 people, with ρ_max the
/// highest density (people/m²) among the pixels touching the cell.
void expect_cells_within_bound(const fs::path& raster) {
    const CityGrid grid = milan_inner_grid();
    const std::vector<PixelPolygon> pixels = pixel_polygons(raster, grid);
    const NdArray<float> pop = area_weighted_sample(raster, grid);
    const std::size_t i0 = grid.rows() / 2 - 15;
    const std::size_t j0 = grid.cols() / 2 - 15;
    double max_abs_err = 0.0;
    double max_rel_to_bound = 0.0;
    double sum_abs_err = 0.0;
    double sum_exact = 0.0;
    for (std::size_t i = i0; i < i0 + 30; ++i) {
        for (std::size_t j = j0; j < j0 + 30; ++j) {
            const auto cell = rectangle(grid.x_edges_m[j], grid.y_edges_m[i], grid.x_edges_m[j + 1],
                                        grid.y_edges_m[i + 1]);
            double exact = 0.0;
            double max_density = 0.0;
            for (const PixelPolygon& p : pixels) {
                const double frac = inside_frac(p, *cell);
                if (frac > 0) {
                    exact += p.value * frac;
                    max_density = std::max(max_density, p.value / p.area_m2);
                }
            }
            const double err = std::abs(pop.at(i, j) - exact);
            const double bound = max_density * 4.0 + 1e-5 * exact + 1e-3;
            EXPECT_LE(err, bound) << "cell " << i << ", " << j << ": " << pop.at(i, j)
                                  << " vs exact " << exact;
            max_abs_err = std::max(max_abs_err, err);
            max_rel_to_bound = std::max(max_rel_to_bound, err / bound);
            sum_abs_err += err;
            sum_exact += exact;
        }
    }
    std::cout << "[ cells    ] " << raster.filename().string() << ": 900 cells, max |err| "
              << max_abs_err << " people, max |err|/bound " << max_rel_to_bound
              << ", Σ|err|/Σexact " << sum_abs_err / sum_exact << " (Σexact " << sum_exact << ")\n";
}

TEST_F(MilanAreaWeightedTest, UtmCellsMatchExactOverlapsWithinTheCurvatureBound) {
    expect_cells_within_bound(milan_utm_raster());
}

TEST_F(MilanAreaWeightedTest, Wgs84CellsMatchExactOverlapsWithinTheCurvatureBound) {
    expect_cells_within_bound(milan_wgs84_raster());
}

TEST_F(MilanAreaWeightedTest, TimingOnA250By275Grid) {
    const CityGrid grid = milan_timing_grid();
    for (const fs::path& raster : {milan_utm_raster(), milan_wgs84_raster()}) {
        const auto t0 = std::chrono::steady_clock::now();
        const NdArray<float> pop = area_weighted_sample(raster, grid);
        const double elapsed_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        EXPECT_GT(total_of(pop), 1e6);
        std::cout << "[ timing   ] " << raster.filename().string() << ": grid " << grid.rows()
                  << "x" << grid.cols() << " cells, total " << std::fixed << total_of(pop)
                  << std::defaultfloat << ", " << elapsed_s << " s\n";
    }
}

TEST_F(MilanAreaWeightedTest, ReferenceRuleRefusesTheUtmRasterAndNamesTheFlag) {
    core::NullProgress progress;
    try {
        sample_population(milan_utm_raster(), milan_inner_grid(), progress);
        ADD_FAILURE() << "no zoomdiff::Error for a raster in EPSG:32632";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_EQ(e.exit_code(), ExitCode::kInput);
        EXPECT_NE(msg.find("--pop_rule area_weighted"), std::string::npos) << msg;
        EXPECT_NE(msg.find("gdalwarp -t_srs EPSG:4326"), std::string::npos) << msg;
    }
}

TEST_F(MilanAreaWeightedTest, ReferenceRuleRefusesCoarsePixelsAndNamesTheFlag) {
    core::NullProgress progress;
    try {
        sample_population(milan_wgs84_raster(), milan_inner_grid(), progress);
        ADD_FAILURE() << "no zoomdiff::Error for 0.005° pixels";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("too coarse"), std::string::npos) << msg;
        EXPECT_NE(msg.find("--pop_rule area_weighted"), std::string::npos) << msg;
    }
}

TEST(PopulationAreaTest, RealWorldPopFileIsConservedOnTheGrid) {
    // WorldPop 2020 1 km aggregated (EPSG:4326, 30″, nodata −3.4e38), Sierra de Neiba crop.
    const fs::path raster = test::test_data_dir() / "worldpop_format_fixture" /
                            "ppp_2020_1km_Aggregated_sierra_de_neiba_crop.tif";
    ASSERT_TRUE(fs::exists(raster)) << test::missing_data(raster);
    BBoxDeg box;
    box.lon_min_deg = -71.75;
    box.lat_min_deg = 18.60;
    box.lon_max_deg = -71.40;
    box.lat_max_deg = 18.68;
    const CityGrid grid = CityGrid::from_bbox(box);
    const ExpectedTotals expected = expected_totals(pixel_polygons(raster, grid), grid);
    const double total = total_of(area_weighted_sample(raster, grid));
    ASSERT_GT(expected.overlap, 1000.0);
    const double rel_err = std::abs(total - expected.overlap) / expected.overlap;
    EXPECT_LT(rel_err, 1e-5) << total << " vs exact overlap " << expected.overlap;
    std::cout << "[ conserve ] WorldPop 1 km crop: grid " << grid.rows() << "x" << grid.cols()
              << ", area-weighted total " << std::fixed << total << ", exact overlap "
              << expected.overlap << std::defaultfloat << ", rel err " << rel_err << "\n";
}

// ---- synthetic: EPSG:32650, 200 m pixels aligned with a 100 m grid ----------------------------

constexpr double kOriginX = 400000.0;   // west edge of pixel column 0
constexpr double kOriginY = 3010000.0;  // north edge of pixel row 0
constexpr int kPixels = 20;             // 20 × 20 pixels of 200 m
constexpr float kNodata = -99999.0F;

float synthetic_value(int row, int col) {
    if (row == 12 && col == 5) {
        return kNodata;
    }
    if (row == 15 && col == 8) {
        return std::numeric_limits<float>::quiet_NaN();
    }
    return 1.0F + 20.0F * static_cast<float>(row) + static_cast<float>(col) + 0.375F;
}

fs::path write_synthetic(const fs::path& path) {
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
    if (driver == nullptr) {
        ADD_FAILURE() << "GTiff driver missing";
        return path;
    }
    GDALDatasetUniquePtr ds(
        driver->Create(path.c_str(), kPixels, kPixels, 1, GDT_Float32, nullptr));
    EXPECT_NE(ds, nullptr);
    double gt[6] = {kOriginX, 200.0, 0.0, kOriginY, 0.0, -200.0};
    ds->SetGeoTransform(gt);
    OGRSpatialReference srs;
    srs.importFromEPSG(32650);
    ds->SetSpatialRef(&srs);
    std::vector<float> values;
    for (int r = 0; r < kPixels; ++r) {
        for (int c = 0; c < kPixels; ++c) {
            values.push_back(synthetic_value(r, c));
        }
    }
    GDALRasterBand* band = ds->GetRasterBand(1);
    band->SetNoDataValue(kNodata);
    EXPECT_EQ(band->RasterIO(GF_Write, 0, 0, kPixels, kPixels, values.data(), kPixels, kPixels,
                             GDT_Float32, 0, 0, nullptr),
              CE_None);
    ds.reset();  // flush; GDAL 3.6 has no checked Close()
    return path;
}

/// 20 × 20 cells of 100 m in UTM 50N, x 400400..402400, y 3006000..3008000 (pixel columns 2..11,
/// rows 10..19). Degree edges are placeholders: the area-weighted rule only uses metre edges.
CityGrid synthetic_grid() {
    CityGrid grid;
    grid.utm_zone = 50;
    grid.north = true;
    grid.epsg = 32650;
    for (int k = 0; k <= 20; ++k) {
        grid.x_edges_m.push_back(kOriginX + 400.0 + 100.0 * k);
        grid.y_edges_m.push_back(3006000.0 + 100.0 * k);
        grid.lon_edges_deg.push_back(114.0 + 0.001 * k);
        grid.lat_edges_deg.push_back(27.0 + 0.001 * k);
    }
    return grid;
}

TEST(PopulationAreaTest, AlignedPixelsOfTwiceTheCellSplitIntoExactQuarters) {
    const test::TempDir dir;
    const fs::path raster = write_synthetic(dir.path() / "utm50_200m.tif");
    const CityGrid grid = synthetic_grid();
    const NdArray<float> pop = area_weighted_sample(raster, grid);
    ASSERT_EQ(pop.shape()[0], 20U);
    ASSERT_EQ(pop.shape()[1], 20U);
    double expected_total = 0.0;
    for (std::size_t i = 0; i < 20; ++i) {
        for (std::size_t j = 0; j < 20; ++j) {
            const double x_m = grid.x_edges_m[j] + 50.0;
            const double y_m = grid.y_edges_m[i] + 50.0;
            const int col = static_cast<int>(std::floor((x_m - kOriginX) / 200.0));
            const int row = static_cast<int>(std::floor((kOriginY - y_m) / 200.0));
            const float v = synthetic_value(row, col);
            const double expected = (std::isnan(v) || v == kNodata) ? 0.0 : v / 4.0;
            expected_total += expected;
            if (expected == 0.0) {
                EXPECT_EQ(pop.at(i, j), 0.0F) << "cell " << i << ", " << j;
            } else {
                EXPECT_NEAR(pop.at(i, j), expected, 1e-6 * expected) << "cell " << i << ", " << j;
            }
        }
    }
    EXPECT_NEAR(total_of(pop), expected_total, 1e-6 * expected_total);
}

TEST(PopulationAreaTest, RasterAwayFromTheGridIsAnError) {
    const test::TempDir dir;
    const fs::path raster = write_synthetic(dir.path() / "utm50_200m.tif");
    CityGrid grid = synthetic_grid();
    for (double& x : grid.x_edges_m) {
        x += 50000.0;  // 50 km east of the raster
    }
    core::NullProgress progress;
    try {
        sample_population(raster, grid, progress, area_weighted());
        ADD_FAILURE() << "no zoomdiff::Error for a raster that misses the grid";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("does not overlap"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace zoomdiff::geo
