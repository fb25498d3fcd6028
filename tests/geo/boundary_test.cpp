#include "zoomdiff/geo/boundary.hpp"

#include <fstream>

#include <gdal_priv.h>
#include <gdal_utils.h>
#include <ogrsf_frmts.h>

#include <gtest/gtest.h>

#include "support/support.hpp"
#include "zoomdiff/core/error.hpp"

namespace zoomdiff::geo {
namespace {

namespace fs = std::filesystem;

/// A GeoJSON of named rectangles written by the test (CRS optional).
fs::path write_boundaries(const fs::path& dir, const std::string& crs_member) {
    const fs::path path = dir / "cities.geojson";
    const auto rect = [](double x0, double y0, double x1, double y1) {
        return "[[[" + std::to_string(x0) + "," + std::to_string(y0) + "],[" + std::to_string(x1) +
               "," + std::to_string(y0) + "],[" + std::to_string(x1) + "," + std::to_string(y1) +
               "],[" + std::to_string(x0) + "," + std::to_string(y1) + "],[" + std::to_string(x0) +
               "," + std::to_string(y0) + "]]]";
    };
    std::ofstream(path) << R"({"type":"FeatureCollection",)" << crs_member << R"("features":[)"
                        << R"({"type":"Feature","properties":{"地名":"南昌市","ENG_NAME":"Nanchang"},"geometry":{"type":"Polygon","coordinates":)"
                        << rect(115.8, 28.6, 116.0, 28.8) << "}},"
                        << R"({"type":"Feature","properties":{"地名":"南昌县","ENG_NAME":"Nanchang County"},"geometry":{"type":"Polygon","coordinates":)"
                        << rect(115.9, 28.4, 116.2, 28.6) << "}},"
                        << R"({"type":"Feature","properties":{"地名":"苏州市","ENG_NAME":"Suzhou"},"geometry":{"type":"Polygon","coordinates":)"
                        << rect(120.5, 31.2, 120.8, 31.4) << "}},"
                        << R"({"type":"Feature","properties":{"地名":"宿州市","ENG_NAME":"Suzhou"},"geometry":{"type":"Polygon","coordinates":)"
                        << rect(116.9, 33.6, 117.1, 33.8) << "}}"
                        << "]}";
    return path;
}

TEST(BoundaryTest, ReferenceFieldPrefersTheExactCityRecord) {
    test::TempDir dir;
    const auto path = write_boundaries(dir.path(), "");
    // 南昌 is a substring of both 南昌市 and 南昌县: the exact "<name>市" record wins.
    const CityBoundary b = find_city_boundary(path, kReferenceBoundaryField, {"南昌", "Nanchang"});
    EXPECT_EQ(b.matched_value, "南昌市");
    EXPECT_DOUBLE_EQ(b.bbox.lon_min_deg, 115.8);
    EXPECT_DOUBLE_EQ(b.bbox.lat_max_deg, 28.8);
    EXPECT_NE(b.polygon_wkt.find("POLYGON"), std::string::npos);
}

TEST(BoundaryTest, EnglishFieldMatchesCaseInsensitively) {
    test::TempDir dir;
    const auto path = write_boundaries(dir.path(), "");
    const CityBoundary b = find_city_boundary(path, "ENG_NAME", {"nanchang", "nanchang"});
    EXPECT_EQ(b.matched_value, "Nanchang");
}

TEST(BoundaryTest, AmbiguousNameIsAnErrorListingTheMatches) {
    test::TempDir dir;
    const auto path = write_boundaries(dir.path(), "");
    try {
        find_city_boundary(path, "ENG_NAME", {"Suzhou", "Suzhou"});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("2 records match"), std::string::npos) << e.what();
    }
}

TEST(BoundaryTest, UnknownCityListsCloseNames) {
    test::TempDir dir;
    const auto path = write_boundaries(dir.path(), "");
    try {
        find_city_boundary(path, "ENG_NAME", {"Nanchamg", "Nanchamg"});
        FAIL() << "no error";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("no record"), std::string::npos) << what;
        EXPECT_NE(what.find("closest: Nanchang"), std::string::npos) << what;
    }
}

TEST(BoundaryTest, UnknownFieldListsTheFields) {
    test::TempDir dir;
    const auto path = write_boundaries(dir.path(), "");
    try {
        find_city_boundary(path, "NAME_2", {"南昌", "Nanchang"});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("ENG_NAME"), std::string::npos) << e.what();
    }
}

TEST(BoundaryTest, MissingFileNamesTheFlag) {
    try {
        find_city_boundary("/nonexistent/cities.shp", kReferenceBoundaryField, {"南昌", "Nanchang"});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("--shp_path"), std::string::npos) << e.what();
    }
}

TEST(BoundaryTest, RealMunicipalitiesFileFindsMilanByEnglishName) {
    // 133 real ISTAT municipality polygons (../shared/data/milan_boundary, CC BY 4.0).
    const fs::path path = test::shared_dir() / "data/milan_boundary/limits_P_15_municipalities.geojson";
    const CityBoundary b = find_city_boundary(path, "name", {"Milano", "Milano"});
    EXPECT_EQ(b.matched_value, "Milano");
    EXPECT_NEAR(b.bbox.lon_min_deg, 9.0428, 1e-3);
    EXPECT_NEAR(b.bbox.lat_max_deg, 45.5360, 1e-3);
}

TEST(BoundaryTest, ProjectedBoundaryIsConvertedToDegrees) {
    const fs::path source = test::shared_dir() / "data/milan_boundary/milano_comune_015146.geojson";
    test::TempDir dir;
    const fs::path projected = dir.path() / "milano_utm32.gpkg";
    GDALDatasetUniquePtr src(GDALDataset::Open(source.c_str(), GDAL_OF_VECTOR));
    ASSERT_TRUE(src) << source;
    const char* args[] = {"-t_srs", "EPSG:32632", nullptr};
    GDALVectorTranslateOptions* opts = GDALVectorTranslateOptionsNew(const_cast<char**>(args), nullptr);
    GDALDatasetH src_h = GDALDataset::ToHandle(src.get());
    GDALDatasetH out = GDALVectorTranslate(projected.c_str(), nullptr, 1, &src_h, opts, nullptr);
    GDALVectorTranslateOptionsFree(opts);
    ASSERT_NE(out, nullptr);
    GDALClose(out);
    const CityBoundary b = find_city_boundary(projected, "name", {"Milano", "Milano"});
    EXPECT_NEAR(b.bbox.lon_min_deg, 9.0428, 2e-3);
    EXPECT_NEAR(b.bbox.lon_max_deg, 9.2779, 2e-3);
    EXPECT_NEAR(b.bbox.lat_min_deg, 45.3871, 2e-3);
    EXPECT_NEAR(b.bbox.lat_max_deg, 45.5360, 2e-3);
}

}  // namespace
}  // namespace zoomdiff::geo
