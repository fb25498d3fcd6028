#include "zoomdiff/io/results_store.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/support.hpp"
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/io/h5_file.hpp"
#include "zoomdiff/io/npz.hpp"

namespace zoomdiff::io {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kHours = 168;
constexpr std::size_t kTileRows = 2;  // R: non-square on purpose (rows and cols must not swap)
constexpr std::size_t kTileCols = 3;  // C
constexpr std::int64_t kNsample = 2;
constexpr int kEpsg = 32650;
constexpr double kX0M = 400000.0;
constexpr double kY0M = 3100000.0;

/// Every scale's value of cell (row, col), sample s, hour h: unique per cell and hour.
float sample_value(std::size_t row, std::size_t col, std::size_t s, std::size_t h) {
    return static_cast<float>(1.0 + 20.0 * static_cast<double>(row) + static_cast<double>(col) +
                              0.5 * static_cast<double>(s) + static_cast<double>(h) / 8.0);
}

float mean_value(std::size_t row, std::size_t col, std::size_t h) {
    return (sample_value(row, col, 0, h) + sample_value(row, col, 1, h)) / 2.0F;
}

/// Outside: the south-west and north-east corner cells; the north-west corner is inside.
bool inside(std::size_t row, std::size_t col, std::size_t rows, std::size_t cols) {
    return !(row == 0 && col == 0) && !(row == rows - 1 && col == cols - 1);
}

double lon_edge_deg(std::size_t c, double cell_size_m) {
    return 115.5 + 0.02 * static_cast<double>(c) * cell_size_m / 2000.0;
}

double lat_edge_deg(std::size_t r, double cell_size_m) {
    return 28.0 + 0.018 * static_cast<double>(r) * cell_size_m / 2000.0;
}

ScaleMaps make_scale(const std::string& name, double cell_size_m, std::size_t per_tile) {
    ScaleMaps s;
    s.name = name;
    s.cell_size_m = cell_size_m;
    s.rows = kTileRows * per_tile;
    s.cols = kTileCols * per_tile;
    const auto ns = static_cast<std::size_t>(kNsample);
    s.samples = NdArray<float>({s.rows, s.cols, ns, kHours});
    s.mean = NdArray<float>({s.rows, s.cols, kHours});
    s.mask = NdArray<std::uint8_t>({s.rows, s.cols});
    for (std::size_t r = 0; r < s.rows; ++r) {
        for (std::size_t c = 0; c < s.cols; ++c) {
            s.mask.at(r, c) = inside(r, c, s.rows, s.cols) ? 1 : 0;
            for (std::size_t h = 0; h < kHours; ++h) {
                s.mean.at(r, c, h) = mean_value(r, c, h);
                for (std::size_t k = 0; k < ns; ++k) {
                    s.samples[((r * s.cols + c) * ns + k) * kHours + h] = sample_value(r, c, k, h);
                }
            }
        }
    }
    for (std::size_t c = 0; c <= s.cols; ++c) {
        s.x_edges_m.push_back(kX0M + cell_size_m * static_cast<double>(c));
        s.lon_edges_deg.push_back(lon_edge_deg(c, cell_size_m));
    }
    for (std::size_t r = 0; r <= s.rows; ++r) {
        s.y_edges_m.push_back(kY0M + cell_size_m * static_cast<double>(r));
        s.lat_edges_deg.push_back(lat_edge_deg(r, cell_size_m));
    }
    return s;
}

/// A 2 × 3 tile city: 2000 m 2 × 3, 1000 m 4 × 6, 500 m 8 × 12.
CityMaps small_maps() {
    CityMaps m;
    m.city = "Nanchang";
    m.token = "南昌";
    m.datatype = "traffic";
    m.units = "traffic volume";
    m.epsg = kEpsg;
    m.nsample = kNsample;
    m.scales.push_back(make_scale("2000m", 2000.0, 1));
    m.scales.push_back(make_scale("1000m", 1000.0, 2));
    m.scales.push_back(make_scale("500m", 500.0, 4));
    const std::size_t rows = 4 * kTileRows;
    const std::size_t cols = 4 * kTileCols;
    Conditions500m& cond = m.conditions;
    cond.pop = NdArray<float>({rows, cols});
    cond.building = NdArray<std::int64_t>({rows, cols});
    cond.roadlen = NdArray<double>({rows, cols});
    cond.water_area = NdArray<double>({rows, cols});
    cond.poi = NdArray<std::int64_t>({rows, cols, 21});
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
            const std::size_t id = r * cols + c;
            cond.pop.at(r, c) = static_cast<float>(id) + 0.5F;
            cond.building.at(r, c) = static_cast<std::int64_t>(id) * 3;
            cond.roadlen.at(r, c) = 1.5 * static_cast<double>(id);
            cond.water_area.at(r, c) = 2.25 * static_cast<double>(id);
            for (std::size_t k = 0; k < 21; ++k) {
                cond.poi.at(r, c, k) = static_cast<std::int64_t>(id * 21 + k);
            }
        }
    }
    m.calibration = "template:Nanchang";
    m.model_run = "runs/sample";
    m.metrics_json = R"({"consistency_500m_2000m": 0.01})";
    m.provenance = {"zoomdiff_infer", "zoomdiff_infer --dataset 南昌", 7, "Nanchang", "南昌", "{}"};
    return m;
}

/// (row, col) of the masked cells of a rows × cols grid, row-major from the south-west.
std::vector<std::pair<std::size_t, std::size_t>> expected_cells(std::size_t rows,
                                                                std::size_t cols) {
    std::vector<std::pair<std::size_t, std::size_t>> cells;
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
            if (inside(r, c, rows, cols)) {
                cells.emplace_back(r, c);
            }
        }
    }
    return cells;
}

std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

GDALDatasetUniquePtr open_raster(const fs::path& path) {
    return GDALDatasetUniquePtr(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
}

/// One band of a raster, line by line from the top.
std::vector<float> read_band(GDALDataset& ds, int band) {
    const int w = ds.GetRasterXSize();
    const int h = ds.GetRasterYSize();
    std::vector<float> out(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
    EXPECT_EQ(ds.GetRasterBand(band)->RasterIO(GF_Read, 0, 0, w, h, out.data(), w, h, GDT_Float32,
                                               0, 0, nullptr),
              CE_None);
    return out;
}

// ---- HDF5 --------------------------------------------------------------------------------------

TEST(ResultsH5, CfCubesPerScaleNaNOutsideTheCityFinestAtTheRoot) {
    test::TempDir dir;
    const fs::path path = dir.path() / "Nanchang_traffic.h5";
    const CityMaps maps = small_maps();
    write_results_h5(path, maps);
    EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"Nanchang_traffic.h5"});

    const H5File f = H5File::open_read(path);
    EXPECT_EQ(f.attr_string("/", "root_scale"), "500m");
    EXPECT_FALSE(f.exists("/500m"));
    const OGRSpatialReference utm = [] {
        OGRSpatialReference srs;
        srs.importFromEPSG(kEpsg);
        srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        return srs;
    }();
    for (const auto& scale : maps.scales) {
        SCOPED_TRACE(scale.name);
        const std::string g = scale.name == "500m" ? "" : "/" + scale.name;
        const std::size_t rows = scale.rows;
        const std::size_t cols = scale.cols;
        const std::size_t cells = rows * cols;
        ASSERT_EQ(f.shape(g + "/samples"), (std::vector<std::size_t>{2, kHours, rows, cols}));
        ASSERT_EQ(f.shape(g + "/mean"), (std::vector<std::size_t>{kHours, rows, cols}));
        ASSERT_EQ(f.shape(g + "/lat"), (std::vector<std::size_t>{rows, cols}));
        const auto samples = f.read<float>(g + "/samples");
        const auto mean = f.read<float>(g + "/mean");
        for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t c = 0; c < cols; ++c) {
                const std::size_t cell = r * cols + c;
                for (std::size_t h : {std::size_t{0}, std::size_t{17}, kHours - 1}) {
                    if (inside(r, c, rows, cols)) {
                        EXPECT_EQ(mean[h * cells + cell], mean_value(r, c, h));
                        EXPECT_EQ(samples[(kHours + h) * cells + cell], sample_value(r, c, 1, h));
                    } else {
                        EXPECT_TRUE(std::isnan(mean[h * cells + cell]));
                        EXPECT_TRUE(std::isnan(samples[h * cells + cell]));
                    }
                }
            }
        }
        // Coordinates: cell centres in metres, and each centre projected to WGS 84.
        const auto x = f.read<double>(g + "/x");
        const auto y = f.read<double>(g + "/y");
        EXPECT_DOUBLE_EQ(x[1], kX0M + 1.5 * scale.cell_size_m);
        EXPECT_DOUBLE_EQ(y[0], kY0M + 0.5 * scale.cell_size_m);
        OGRSpatialReference wgs84;
        wgs84.importFromEPSG(4326);
        wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        std::unique_ptr<OGRCoordinateTransformation> t(
            OGRCreateCoordinateTransformation(&utm, &wgs84));
        double px = x[cols - 1];
        double py = y[rows - 1];
        ASSERT_TRUE(t->Transform(1, &px, &py));
        EXPECT_NEAR(f.read<double>(g + "/lon")[cells - 1], px, 1e-9);
        EXPECT_NEAR(f.read<double>(g + "/lat")[cells - 1], py, 1e-9);
        EXPECT_EQ(f.read<std::uint8_t>(g + "/mask").values(), scale.mask.values());
        EXPECT_EQ(f.read<double>(g + "/x_edges_m").values(), scale.x_edges_m);
        EXPECT_EQ(f.read<double>(g + "/lat_edges_deg").values(), scale.lat_edges_deg);
        EXPECT_EQ(f.read<double>(g + "/time")[167], 167.0);
        EXPECT_EQ(f.attr_string(g + "/time", "units"), "hours");
        // CF attributes: the unit words are no UDUNITS unit, so "1" and the words as a note.
        EXPECT_EQ(f.attr_string(g + "/samples", "units"), "1");
        EXPECT_EQ(f.attr_string(g + "/samples", "units_note"), "traffic volume");
        EXPECT_EQ(f.attr_string(g + "/samples", "grid_mapping"), "crs");
        EXPECT_EQ(f.attr_string(g + "/mean", "coordinates"), "lat lon");
        EXPECT_EQ(f.attr_string(g + "/crs", "grid_mapping_name"), "transverse_mercator");
        EXPECT_DOUBLE_EQ(f.attr_double(g + "/crs", "longitude_of_central_meridian"), 117.0);
        EXPECT_NE(f.attr_string(g + "/crs", "crs_wkt").find("UTM zone 50N"), std::string::npos);
        const std::string group = g.empty() ? "/" : g;
        EXPECT_DOUBLE_EQ(f.attr_double(group, "cell_size_m"), scale.cell_size_m);
        EXPECT_EQ(f.attr_int(group, "nsample"), kNsample);
        EXPECT_EQ(f.attr_string(group, "scale"), scale.name);
    }
}

TEST(ResultsH5, OpensInXarrayAndGdalWithCoordinatesAndCrs) {
    // The real clients of DESIGN §7: xarray with both netCDF engines, and GDAL.
    test::TempDir dir;
    const fs::path path = dir.path() / "Nanchang_traffic.h5";
    write_results_h5(path, small_maps());
    const test::ToolRun check = test::check_cf("results", path, dir.path());
    EXPECT_EQ(check.exit_code, 0) << check.stderr_text;
}

TEST(ResultsH5, RootAttributesCarryProvenanceAndRun) {
    test::TempDir dir;
    const fs::path path = dir.path() / "Nanchang_traffic.h5";
    write_results_h5(path, small_maps());
    const H5File f = H5File::open_read(path);
    EXPECT_EQ(f.attr_int("/", "epsg"), kEpsg);
    EXPECT_EQ(f.attr_string("/", "row_order"), "south_to_north");
    EXPECT_EQ(f.attr_string("/", "city"), "Nanchang");
    EXPECT_EQ(f.attr_string("/", "token"), "南昌");
    EXPECT_EQ(f.attr_string("/", "datatype"), "traffic");
    EXPECT_EQ(f.attr_string("/", "units"), "traffic volume");
    EXPECT_EQ(f.attr_string("/", "calibration"), "template:Nanchang");
    EXPECT_EQ(f.attr_string("/", "model_run"), "runs/sample");
    EXPECT_EQ(f.attr_string("/", "metrics"), R"({"consistency_500m_2000m": 0.01})");
    EXPECT_EQ(f.attr_string("/", "tool"), "zoomdiff_infer");
    EXPECT_EQ(f.attr_string("/", "command_line"), "zoomdiff_infer --dataset 南昌");
    EXPECT_EQ(f.attr_int("/", "seed"), 7);
    EXPECT_EQ(f.attr_string("/", "version"), ZOOMDIFF_VERSION);
    EXPECT_EQ(f.attr_string("/", "resolved_config"), "{}");
    EXPECT_DOUBLE_EQ(f.attr_double("/", "cell_size_m"), 500.0);
    EXPECT_EQ(f.attr_string("/", "format"), "zoomdiff-results 2");
    EXPECT_EQ(f.attr_string("/", "Conventions"), "CF-1.8");
    EXPECT_EQ(f.attr_string("/", "history"), "zoomdiff_infer --dataset 南昌");
}

// ---- the reference's .npz ----------------------------------------------------------------------

TEST(ResultsNpz, HasExactlyTheReferenceKeysShapesAndDtypes) {
    test::TempDir dir;
    const fs::path path = dir.path() / "南昌_500m_traffic.npz";
    write_reference_npz(path, small_maps());
    EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"南昌_500m_traffic.npz"});

    const NpzReader npz = NpzReader::open(path);
    const std::size_t m = 8 * 12 - 2;
    const std::map<std::string, std::pair<std::string, std::vector<std::size_t>>> expected{
        {"data_500m", {"<f4", {m, kHours}}},
        {"pop_500m", {"<f4", {m}}},
        {"building_500m", {"<i8", {m}}},
        {"roadlen_500m", {"<f8", {m}}},
        {"water_area_500m", {"<f8", {m}}},
        {"poi_500m", {"<i8", {m, 21}}},
        {"lat", {"<f8", {m}}},
        {"lon", {"<f8", {m}}}};
    std::vector<std::string> keys = npz.keys();
    std::sort(keys.begin(), keys.end());
    std::vector<std::string> expected_keys;
    for (const auto& [key, _] : expected) {
        expected_keys.push_back(key);
    }
    EXPECT_EQ(keys, expected_keys);
    for (const auto& [key, spec] : expected) {
        SCOPED_TRACE(key);
        const NpyInfo info = npz.info(key);
        EXPECT_EQ(info.dtype, spec.first);
        EXPECT_EQ(info.shape, spec.second);
        EXPECT_FALSE(info.fortran_order);
    }
}

TEST(ResultsNpz, ValuesAreTheMaskedCellsFromTheSouthWest) {
    test::TempDir dir;
    const fs::path path = dir.path() / "Nanchang_500m_traffic.npz";
    write_reference_npz(path, small_maps());
    const NpzReader npz = NpzReader::open(path);
    const auto data = npz.read_double("data_500m");
    const auto pop = npz.read_double("pop_500m");
    const auto building = npz.read_int64("building_500m");
    const auto roadlen = npz.read_double("roadlen_500m");
    const auto water = npz.read_double("water_area_500m");
    const auto poi = npz.read_int64("poi_500m");
    const auto lat = npz.read_double("lat");
    const auto lon = npz.read_double("lon");
    const auto cells = expected_cells(8, 12);
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const auto [r, c] = cells[i];
        const std::size_t id = r * 12 + c;
        EXPECT_EQ(data[i * kHours + 5], static_cast<double>(mean_value(r, c, 5)));
        EXPECT_EQ(pop[i], static_cast<double>(id) + 0.5);
        EXPECT_EQ(building[i], static_cast<std::int64_t>(id) * 3);
        EXPECT_DOUBLE_EQ(roadlen[i], 1.5 * static_cast<double>(id));
        EXPECT_DOUBLE_EQ(water[i], 2.25 * static_cast<double>(id));
        EXPECT_EQ(poi[i * 21 + 20], static_cast<std::int64_t>(id * 21 + 20));
        EXPECT_DOUBLE_EQ(lat[i], 0.5 * (lat_edge_deg(r, 500.0) + lat_edge_deg(r + 1, 500.0)));
        EXPECT_DOUBLE_EQ(lon[i], 0.5 * (lon_edge_deg(c, 500.0) + lon_edge_deg(c + 1, 500.0)));
    }
}

// ---- GeoTIFF -----------------------------------------------------------------------------------

TEST(ResultsGeoTiff, NorthUpWithGeotransformCrsAndNodata) {
    test::TempDir dir;
    const CityMaps maps = small_maps();
    const auto paths = write_geotiffs(dir.path() / "tif", maps);
    ASSERT_EQ(paths.size(), 3U);
    EXPECT_EQ(files_in(dir.path() / "tif"),
              (std::vector<std::string>{"Nanchang_traffic_1000m.tif", "Nanchang_traffic_2000m.tif",
                                        "Nanchang_traffic_500m.tif"}));
    for (std::size_t i = 0; i < paths.size(); ++i) {
        const ScaleMaps& scale = maps.scales[i];
        SCOPED_TRACE(scale.name);
        EXPECT_EQ(paths[i].filename(), "Nanchang_traffic_" + scale.name + ".tif");
        const GDALDatasetUniquePtr ds = open_raster(paths[i]);
        ASSERT_TRUE(ds);
        EXPECT_STREQ(ds->GetDriver()->GetDescription(), "GTiff");
        EXPECT_EQ(ds->GetRasterXSize(), static_cast<int>(scale.cols));
        EXPECT_EQ(ds->GetRasterYSize(), static_cast<int>(scale.rows));
        EXPECT_EQ(ds->GetRasterCount(), 169);
        EXPECT_EQ(ds->GetRasterBand(1)->GetRasterDataType(), GDT_Float32);
        double gt[6];
        ASSERT_EQ(ds->GetGeoTransform(gt), CE_None);
        EXPECT_DOUBLE_EQ(gt[0], kX0M);
        EXPECT_DOUBLE_EQ(gt[1], scale.cell_size_m);
        EXPECT_DOUBLE_EQ(gt[2], 0.0);
        EXPECT_DOUBLE_EQ(gt[3], kY0M + scale.cell_size_m * static_cast<double>(scale.rows));
        EXPECT_DOUBLE_EQ(gt[4], 0.0);
        EXPECT_DOUBLE_EQ(gt[5], -scale.cell_size_m);
        const OGRSpatialReference* srs = ds->GetSpatialRef();
        ASSERT_NE(srs, nullptr);
        ASSERT_NE(srs->GetAuthorityCode(nullptr), nullptr);
        EXPECT_STREQ(srs->GetAuthorityCode(nullptr), "32650");
        int has_nodata = 0;
        EXPECT_TRUE(std::isnan(ds->GetRasterBand(1)->GetNoDataValue(&has_nodata)));
        EXPECT_TRUE(has_nodata);

        const std::size_t rows = scale.rows;
        const std::size_t cols = scale.cols;
        const auto hour3 = read_band(*ds, 4);
        // Pixel (0, 0) is the north-west cell: row rows - 1, col 0.
        EXPECT_EQ(hour3[0], mean_value(rows - 1, 0, 3));
        // Line 0 ends in the north-east cell, the last line starts with the south-west one:
        // both outside the city.
        EXPECT_TRUE(std::isnan(hour3[cols - 1]));
        EXPECT_TRUE(std::isnan(hour3[(rows - 1) * cols]));
        EXPECT_EQ(hour3[(rows - 1) * cols + 1], mean_value(0, 1, 3));
    }
}

TEST(ResultsGeoTiff, CloudOptimisedWithUnitsAndOneFilePerSampleOnRequest) {
    test::TempDir dir;
    const CityMaps maps = small_maps();
    const auto paths = write_geotiffs(dir.path(), maps, true);
    ASSERT_EQ(paths.size(), 9U);  // per scale: the mean, then the 2 samples
    EXPECT_EQ(paths[1].filename(), "Nanchang_traffic_2000m_sample000.tif");
    EXPECT_EQ(paths[2].filename(), "Nanchang_traffic_2000m_sample001.tif");
    for (const auto& path : paths) {
        SCOPED_TRACE(path.filename().string());
        const GDALDatasetUniquePtr ds = open_raster(path);
        ASSERT_TRUE(ds);
        const char* layout = ds->GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE");
        ASSERT_NE(layout, nullptr);
        EXPECT_STREQ(layout, "COG");
        // "traffic volume" is no UDUNITS unit: "1", the words beside it.
        EXPECT_STREQ(ds->GetRasterBand(5)->GetUnitType(), "1");
        EXPECT_STREQ(ds->GetMetadataItem("units_note"), "traffic volume");
        EXPECT_STREQ(ds->GetRasterBand(5)->GetDescription(), "hour 004");
    }
    // Sample 1 of the 500 m map, hour 3: the north-west cell is row rows - 1, col 0.
    const ScaleMaps& fine = maps.scales[2];
    const GDALDatasetUniquePtr one = open_raster(paths[8]);
    ASSERT_TRUE(one);
    EXPECT_STREQ(one->GetMetadataItem("values"), "sample 1 of 2");
    EXPECT_EQ(read_band(*one, 4)[0], sample_value(fine.rows - 1, 0, 1, 3));
    EXPECT_STREQ(open_raster(paths[6])->GetMetadataItem("values"), "sample mean of 2 sample(s)");
}

TEST(ResultsGeoTiff, BandsAreTheHoursThenTheWeeklyMean) {
    test::TempDir dir;
    const CityMaps maps = small_maps();
    const auto paths = write_geotiffs(dir.path(), maps);
    const GDALDatasetUniquePtr ds = open_raster(paths.at(0));  // 2000 m: 2 × 3
    ASSERT_TRUE(ds);
    EXPECT_STREQ(ds->GetRasterBand(1)->GetDescription(), "hour 000");
    EXPECT_STREQ(ds->GetRasterBand(168)->GetDescription(), "hour 167");
    EXPECT_STREQ(ds->GetRasterBand(169)->GetDescription(), "weekly mean");
    std::vector<double> sum(6, 0.0);
    for (int b = 1; b <= 168; ++b) {
        const auto band = read_band(*ds, b);
        for (std::size_t p = 0; p < band.size(); ++p) {
            sum[p] += static_cast<double>(band[p]);
        }
    }
    const auto weekly = read_band(*ds, 169);
    for (std::size_t p = 0; p < weekly.size(); ++p) {
        if (std::isnan(weekly[p])) {
            EXPECT_TRUE(std::isnan(sum[p]));
        } else {
            EXPECT_NEAR(weekly[p], sum[p] / 168.0, 1e-5);
        }
    }
}

// ---- quicklooks --------------------------------------------------------------------------------

TEST(ResultsQuicklook, PngsAreRgbaNorthUpAndTransparentOutside) {
    test::TempDir dir;
    const CityMaps maps = small_maps();
    const auto paths = write_quicklooks(dir.path(), maps);
    ASSERT_EQ(paths.size(), 6U);
    EXPECT_EQ(files_in(dir.path()).size(), 6U);  // no temporary or .aux.xml left over
    for (std::size_t i = 0; i < paths.size(); ++i) {
        const ScaleMaps& scale = maps.scales[i / 2];
        const std::string kind = i % 2 == 0 ? "mean" : "peak";
        SCOPED_TRACE(paths[i].string());
        EXPECT_EQ(paths[i].filename(), "Nanchang_traffic_" + scale.name + "_" + kind + ".png");
        const GDALDatasetUniquePtr ds = open_raster(paths[i]);
        ASSERT_TRUE(ds);
        EXPECT_STREQ(ds->GetDriver()->GetDescription(), "PNG");
        ASSERT_EQ(ds->GetRasterCount(), 4);
        const int width = ds->GetRasterXSize();
        const int height = ds->GetRasterYSize();
        EXPECT_GE(width, 256);
        ASSERT_EQ(width % static_cast<int>(scale.cols), 0);
        const int factor = width / static_cast<int>(scale.cols);
        EXPECT_EQ(height, factor * static_cast<int>(scale.rows));
        const char* title = ds->GetMetadataItem("title");
        ASSERT_NE(title, nullptr);
        // Values grow with the hour, so the city's peak is the last hour.
        EXPECT_EQ(std::string(title), "Nanchang traffic " + scale.name + " (traffic volume), " +
                                          (kind == "mean" ? "weekly mean" : "peak hour 167"));
        const auto alpha = read_band(*ds, 4);
        const auto w = static_cast<std::size_t>(width);
        const auto h = static_cast<std::size_t>(height);
        EXPECT_EQ(alpha[0], 255.0F);                    // north-west: inside
        EXPECT_EQ(alpha[w - 1], 0.0F);                  // north-east: outside
        EXPECT_EQ(alpha[(h - 1) * w], 0.0F);            // south-west: outside
        EXPECT_EQ(alpha[(h - 1) * w + w - 1], 255.0F);  // south-east: inside
        // Values grow to the north: the north-west cell is brighter (more yellow) than the
        // cell east of the south-west corner.
        const auto green = read_band(*ds, 2);
        EXPECT_GT(green[0], green[(h - 1) * w + static_cast<std::size_t>(factor)]);
    }
}

TEST(ResultsEdgeCases, ACityWithNoMaskedCellsStillWritesEveryFile) {
    test::TempDir dir;
    CityMaps maps = small_maps();
    for (auto& scale : maps.scales) {
        scale.mask = NdArray<std::uint8_t>({scale.rows, scale.cols});
    }
    write_results_h5(dir.path() / "X.h5", maps);
    write_reference_npz(dir.path() / "X.npz", maps);
    EXPECT_EQ(write_geotiffs(dir.path(), maps).size(), 3U);
    EXPECT_EQ(write_quicklooks(dir.path(), maps).size(), 6U);
    const H5File f = H5File::open_read(dir.path() / "X.h5");
    // Every value NaN: the cube keeps the grid, the city has no cell of it.
    const auto mean = f.read<float>("/mean");
    EXPECT_EQ(mean.shape(), (std::vector<std::size_t>{kHours, 8, 12}));
    EXPECT_TRUE(std::all_of(mean.values().begin(), mean.values().end(),
                            [](float v) { return std::isnan(v); }));
    EXPECT_EQ(NpzReader::open(dir.path() / "X.npz").info("poi_500m").shape,
              (std::vector<std::size_t>{0, 21}));
}

// ---- failures ----------------------------------------------------------------------------------

TEST(ResultsErrors, OutputFolderThatIsAFileLeavesNothingAndNamesThePath) {
    test::TempDir dir;
    const fs::path blocker = dir.path() / "out";
    std::ofstream(blocker) << "not a folder";
    const CityMaps maps = small_maps();
    const auto expect_error = [&](const auto& write, const fs::path& named) {
        try {
            write();
            ADD_FAILURE() << "no error for " << named;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(named.string()), std::string::npos) << e.what();
            EXPECT_EQ(e.exit_code(), ExitCode::kInput);
        }
        EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"out"});
    };
    expect_error([&] { write_results_h5(blocker / "X.h5", maps); }, blocker / "X.h5");
    expect_error([&] { write_reference_npz(blocker / "X.npz", maps); }, blocker / "X.npz");
    expect_error([&] { (void)write_geotiffs(blocker, maps); }, blocker);
    expect_error([&] { (void)write_quicklooks(blocker, maps); }, blocker);
}

TEST(ResultsErrors, InconsistentMapsAreInternalErrorsAndWriteNothing) {
    test::TempDir dir;
    CityMaps wrong_mean = small_maps();
    wrong_mean.scales[1].mean = NdArray<float>({6, 4, kHours});  // cols × rows: swapped
    CityMaps wrong_nsample = small_maps();
    wrong_nsample.nsample = 3;
    CityMaps wrong_pop = small_maps();
    wrong_pop.conditions.pop = NdArray<float>({12, 8});
    CityMaps wrong_edges = small_maps();
    wrong_edges.scales[0].y_edges_m.pop_back();
    const fs::path h5 = dir.path() / "X.h5";
    for (const CityMaps* maps : {&wrong_mean, &wrong_nsample, &wrong_edges}) {
        try {
            write_results_h5(h5, *maps);
            ADD_FAILURE() << "no error";
        } catch (const Error& e) {
            EXPECT_EQ(e.exit_code(), ExitCode::kInternal) << e.what();
            EXPECT_EQ(e.subject(), h5.string());
        }
        EXPECT_THROW((void)write_geotiffs(dir.path(), *maps), Error);
        EXPECT_THROW((void)write_quicklooks(dir.path(), *maps), Error);
    }
    try {
        write_reference_npz(dir.path() / "X.npz", wrong_pop);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::kInternal) << e.what();
        EXPECT_NE(std::string(e.what()).find("pop"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(files_in(dir.path()).empty());
}

// ---- reading back ------------------------------------------------------------------------------

/// Every field of `maps` came back in `back`; values outside the mask read as 0.
void expect_same_maps(const CityMaps& back, const CityMaps& maps) {
    EXPECT_EQ(back.city, maps.city);
    EXPECT_EQ(back.token, maps.token);
    EXPECT_EQ(back.datatype, maps.datatype);
    EXPECT_EQ(back.units, maps.units);
    EXPECT_EQ(back.epsg, maps.epsg);
    EXPECT_EQ(back.nsample, maps.nsample);
    EXPECT_EQ(back.calibration, maps.calibration);
    EXPECT_EQ(back.model_run, maps.model_run);
    EXPECT_EQ(back.metrics_json, maps.metrics_json);
    EXPECT_EQ(back.provenance.tool, maps.provenance.tool);
    EXPECT_EQ(back.provenance.command_line, maps.provenance.command_line);
    EXPECT_EQ(back.provenance.seed, maps.provenance.seed);
    EXPECT_EQ(back.provenance.city_cn, maps.provenance.city_cn);
    EXPECT_EQ(back.provenance.resolved_config_json, maps.provenance.resolved_config_json);
    ASSERT_EQ(back.scales.size(), maps.scales.size());
    for (std::size_t k = 0; k < maps.scales.size(); ++k) {
        const ScaleMaps& a = maps.scales[k];
        const ScaleMaps& b = back.scales[k];
        SCOPED_TRACE(a.name);
        EXPECT_EQ(b.name, a.name);
        EXPECT_EQ(b.cell_size_m, a.cell_size_m);
        EXPECT_EQ(b.rows, a.rows);
        EXPECT_EQ(b.cols, a.cols);
        EXPECT_EQ(b.mask.values(), a.mask.values());
        EXPECT_EQ(b.x_edges_m, a.x_edges_m);
        EXPECT_EQ(b.y_edges_m, a.y_edges_m);
        EXPECT_EQ(b.lon_edges_deg, a.lon_edges_deg);
        EXPECT_EQ(b.lat_edges_deg, a.lat_edges_deg);
        ASSERT_EQ(b.samples.shape(), a.samples.shape());
        ASSERT_EQ(b.mean.shape(), a.mean.shape());
        // Inside the mask every value comes back; outside the file has none, so 0.
        for (std::size_t r = 0; r < a.rows; ++r) {
            for (std::size_t c = 0; c < a.cols; ++c) {
                const bool in = a.mask.at(r, c) != 0;
                for (std::size_t h = 0; h < kHours; ++h) {
                    EXPECT_EQ(b.mean.at(r, c, h), in ? a.mean.at(r, c, h) : 0.0F);
                    for (std::size_t s = 0; s < static_cast<std::size_t>(kNsample); ++s) {
                        const std::size_t i = ((r * a.cols + c) * kNsample + s) * kHours + h;
                        EXPECT_EQ(b.samples[i], in ? a.samples[i] : 0.0F);
                    }
                }
            }
        }
    }
}

TEST(ResultsH5Read, RoundTripRestoresEveryScaleAndAttribute) {
    test::TempDir dir;
    const fs::path path = dir.path() / "Nanchang_traffic.h5";
    const CityMaps maps = small_maps();
    write_results_h5(path, maps);
    const CityMaps back = read_results_h5(path);
    expect_same_maps(back, maps);
    // What was read writes the same file again (the writer's checks accept it).
    const fs::path again = dir.path() / "again.h5";
    write_results_h5(again, back);
    EXPECT_EQ(read_results_h5(again).scales[2].mean.values(), back.scales[2].mean.values());
}

TEST(ResultsH5Read, TheFirstLayoutIsStillRead) {
    // tests/data/results_v1: small_maps() as the first layout wrote it (cell lists, row/col).
    const fs::path v1 = test::test_data_dir() / "results_v1" / "Nanchang_traffic.h5";
    ASSERT_TRUE(fs::exists(v1)) << v1;
    EXPECT_EQ(H5File::open_read(v1).attr_string("/", "format"), "zoomdiff-results 1");
    expect_same_maps(read_results_h5(v1), small_maps());
}

TEST(ResultsH5Read, OtherFilesAreRefusedByName) {
    test::TempDir dir;
    const fs::path missing = dir.path() / "none.h5";
    try {
        (void)read_results_h5(missing);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.subject(), missing.string());
        EXPECT_EQ(e.exit_code(), ExitCode::kInput);
    }
    const fs::path other = dir.path() / "other.h5";
    {
        H5File f = H5File::create(other);
        f.set_attr("/", "format", "zoomdiff-cond 1");
        f.close();
    }
    try {
        (void)read_results_h5(other);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.subject(), other.string());
        EXPECT_NE(std::string(e.what()).find("not a zoomdiff-results file"), std::string::npos)
            << e.what();
    }
}

TEST(ResultsPng, RgbaWriterKeepsPixelsAndText) {
    test::TempDir dir;
    const fs::path path = dir.path() / "x.png";
    std::vector<std::uint8_t> rgba(3 * 2 * 4, 0);
    rgba[4 * 4 + 0] = 200;  // pixel (1, 1): x 1 of line 1
    rgba[4 * 4 + 3] = 255;
    write_rgba_png(path, rgba, 3, 2, {{"title", "t"}});
    const auto ds = open_raster(path);
    ASSERT_TRUE(ds);
    EXPECT_EQ(ds->GetRasterXSize(), 3);
    EXPECT_EQ(ds->GetRasterYSize(), 2);
    const std::vector<float> red = read_band(*ds, 1);
    const std::vector<float> alpha = read_band(*ds, 4);
    EXPECT_EQ(red[4], 200.0F);
    EXPECT_EQ(alpha[4], 255.0F);
    EXPECT_EQ(alpha[0], 0.0F);
    EXPECT_STREQ(ds->GetMetadataItem("title"), "t");
    EXPECT_EQ(colour_ramp(0.0), (std::array<std::uint8_t, 3>{68, 1, 84}));
    EXPECT_EQ(colour_ramp(1.0), (std::array<std::uint8_t, 3>{253, 231, 37}));
}

}  // namespace
}  // namespace zoomdiff::io
