#include "zoomdiff/geo/boundary.hpp"

#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/city_setup.hpp"
#include "support/support.hpp"
#include <gdal_priv.h>
#include <gdal_utils.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>
#include <osmium/builder/attr.hpp>
#include <osmium/io/pbf_output.hpp>
#include <osmium/io/writer.hpp>
#include <osmium/memory/buffer.hpp>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/geo/mask.hpp"
#include "zoomdiff/osm/osm_boundary.hpp"

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
    std::ofstream(path)
        << R"({"type":"FeatureCollection",)" << crs_member << R"("features":[)"
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
        find_city_boundary("/nonexistent/cities.shp", kReferenceBoundaryField,
                           {"南昌", "Nanchang"});
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("--shp_path"), std::string::npos) << e.what();
    }
}

TEST(BoundaryTest, RealMunicipalitiesFileFindsMilanByEnglishName) {
    // 133 real ISTAT municipality polygons (tests/data/milan_boundary, CC BY 4.0).
    const fs::path path =
        test::test_data_dir() / "milan_boundary/limits_P_15_municipalities.geojson";
    const CityBoundary b = find_city_boundary(path, "name", {"Milano", "Milano"});
    EXPECT_EQ(b.matched_value, "Milano");
    EXPECT_NEAR(b.bbox.lon_min_deg, 9.0428, 1e-3);
    EXPECT_NEAR(b.bbox.lat_max_deg, 45.5360, 1e-3);
}

TEST(BoundaryTest, ProjectedBoundaryIsConvertedToDegrees) {
    const fs::path source = test::test_data_dir() / "milan_boundary/milano_comune_015146.geojson";
    test::TempDir dir;
    const fs::path projected = dir.path() / "milano_utm32.gpkg";
    GDALDatasetUniquePtr src(GDALDataset::Open(source.c_str(), GDAL_OF_VECTOR));
    ASSERT_TRUE(src) << source;
    const char* args[] = {"-t_srs", "EPSG:32632", nullptr};
    GDALVectorTranslateOptions* opts =
        GDALVectorTranslateOptionsNew(const_cast<char**>(args), nullptr);
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

// ---- resolve_boundary: exact field value
// ---------------------------------------------------------

fs::path milan_municipalities() {
    // 133 real ISTAT municipality polygons (tests/data/milan_boundary, CC BY 4.0).
    return test::test_data_dir() / "milan_boundary/limits_P_15_municipalities.geojson";
}

/// The message of the zoomdiff::Error `f` throws, or "" (and a test failure) when it throws none.
template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no zoomdiff::Error";
    return "";
}

TEST(BoundaryTest, ATruncatedShapefileIsAnErrorNotAPartialRead) {
    // issue 19: a truncated shapefile was read in part (GDAL logged its errors), exit 0.
    test::TempDir dir;
    const fs::path shp = dir.path() / "municipalities.shp";
    const fs::path source = milan_municipalities();
    GDALDatasetUniquePtr src(GDALDataset::Open(source.c_str(), GDAL_OF_VECTOR));
    ASSERT_TRUE(src) << source;
    const char* args[] = {"-f", "ESRI Shapefile", nullptr};
    GDALVectorTranslateOptions* opts =
        GDALVectorTranslateOptionsNew(const_cast<char**>(args), nullptr);
    GDALDatasetH src_h = GDALDataset::ToHandle(src.get());
    GDALDatasetH out = GDALVectorTranslate(shp.c_str(), nullptr, 1, &src_h, opts, nullptr);
    GDALVectorTranslateOptionsFree(opts);
    ASSERT_NE(out, nullptr);
    GDALClose(out);
    EXPECT_EQ(find_city_boundary(shp, "name", {"Milano", "Milano"}).matched_value, "Milano");
    fs::resize_file(shp, fs::file_size(shp) / 2);  // half the polygons lose their bytes
    std::string message;
    try {
        (void)find_city_boundary(shp, "name", {"Milano", "Milano"});
    } catch (const Error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("GDAL reported"), std::string::npos) << message;
    EXPECT_NE(message.find(shp.string()), std::string::npos) << message;
    EXPECT_NE(message.find(".shx"), std::string::npos) << "the fix: " << message;
}

TEST(ResolveBoundaryTest, ExactValuePicksTheRecord) {
    BoundarySpec spec;
    spec.path = milan_municipalities();
    spec.field = "name";
    spec.value = "Milano";
    const CityBoundary b = pipeline::resolve_boundary(spec, {"ignored", "ignored"});
    EXPECT_EQ(b.matched_value, "Milano");
    EXPECT_GE(b.feature_id, 0);
    EXPECT_NEAR(b.bbox.lon_min_deg, 9.0428, 1e-3);
    EXPECT_NEAR(b.bbox.lon_max_deg, 9.2779, 1e-3);
    EXPECT_NEAR(b.bbox.lat_min_deg, 45.3871, 1e-3);
    EXPECT_NEAR(b.bbox.lat_max_deg, 45.5360, 1e-3);
    EXPECT_EQ(b.polygon_wkt.rfind("POLYGON", 0), 0U) << b.polygon_wkt.substr(0, 40);
}

TEST(ResolveBoundaryTest, ExactValueFallsBackToCaseInsensitive) {
    BoundarySpec spec;
    spec.path = milan_municipalities();
    spec.field = "name";
    spec.value = "MILANO";
    EXPECT_EQ(pipeline::resolve_boundary(spec, {"", ""}).matched_value, "Milano");
}

TEST(ResolveBoundaryTest, NearMissListsTheClosestValues) {
    BoundarySpec spec;
    spec.path = milan_municipalities();
    spec.field = "name";
    spec.value = "Milan";  // a substring of Milano, but not equal: no match
    const std::string what = error_of([&] { pipeline::resolve_boundary(spec, {"", ""}); });
    EXPECT_NE(what.find("no record whose 'name' is 'Milan'"), std::string::npos) << what;
    EXPECT_NE(what.find("closest: Milano"), std::string::npos) << what;
}

TEST(ResolveBoundaryTest, DuplicateValuesAreAnErrorListingThem) {
    test::TempDir dir;
    const auto path = write_boundaries(dir.path(), "");
    BoundarySpec spec;
    spec.path = path;
    spec.field = "ENG_NAME";
    spec.value = "Suzhou";
    const std::string what = error_of([&] { pipeline::resolve_boundary(spec, {"", ""}); });
    EXPECT_NE(what.find("2 records have 'ENG_NAME' = 'Suzhou'"), std::string::npos) << what;
}

TEST(ResolveBoundaryTest, WithoutValueMatchesTheCityNames) {
    test::TempDir dir;
    BoundarySpec spec;
    spec.path = write_boundaries(dir.path(), "");
    EXPECT_EQ(pipeline::resolve_boundary(spec, {"南昌", "Nanchang"}).matched_value, "南昌市");
}

TEST(ResolveBoundaryTest, NeedsExactlyOneKind) {
    EXPECT_THROW(pipeline::resolve_boundary(BoundarySpec{}, {"", ""}), Error);
    BoundarySpec both;
    both.path = milan_municipalities();
    both.bbox = BBoxDeg{9.0, 45.0, 9.5, 45.5};
    EXPECT_THROW(pipeline::resolve_boundary(both, {"", ""}), Error);
    BoundarySpec filter_only;
    filter_only.osm_filter = "name=Monaco";
    EXPECT_THROW(pipeline::resolve_boundary(filter_only, {"", ""}), Error);
}

// ---- resolve_boundary / parse_bbox: a plain box -------------------------------------------------

TEST(ResolveBoundaryTest, BoxIsItsOwnRectangle) {
    BoundarySpec spec;
    spec.bbox = parse_bbox("9.04, 45.38,9.28,45.54");
    const CityBoundary b = pipeline::resolve_boundary(spec, {"", ""});
    EXPECT_EQ(b.matched_value, "bbox");
    EXPECT_EQ(b.feature_id, -1);
    EXPECT_DOUBLE_EQ(b.bbox.lon_min_deg, 9.04);
    EXPECT_DOUBLE_EQ(b.bbox.lat_min_deg, 45.38);
    EXPECT_DOUBLE_EQ(b.bbox.lon_max_deg, 9.28);
    EXPECT_DOUBLE_EQ(b.bbox.lat_max_deg, 45.54);
    OGRGeometry* g = nullptr;
    ASSERT_EQ(OGRGeometryFactory::createFromWkt(b.polygon_wkt.c_str(), nullptr, &g), OGRERR_NONE)
        << b.polygon_wkt;
    const std::unique_ptr<OGRGeometry> geometry(g);
    EXPECT_NEAR(geometry->toPolygon()->get_Area(), 0.24 * 0.16, 1e-12);
}

TEST(ParseBboxTest, RejectsBadText) {
    for (const char* bad :
         {"", "1,2,3", "1,2,3,4,5", "a,2,3,4", "1,2,3,4,", "1,,3,4", "1e999,2,3,4",
          "9.3,45.3,9.0,45.5", "9.0,45.5,9.3,45.5", "-181,0,1,1", "0,-91,1,1"}) {
        EXPECT_THROW(parse_bbox(bad), Error) << "'" << bad << "'";
    }
    EXPECT_NE(error_of([] { parse_bbox("9.3,45.3,9.0,45.5"); }).find("inverted"),
              std::string::npos);
}

// ---- resolve_boundary: OSM relation
// ----------------------------------------------------------------

fs::path monaco_pbf() {
    // Real OSM extract (2016-03-05), tests/data/monaco_osm/SOURCE.md, ODbL 1.0.
    return test::test_data_dir() / "monaco_osm/monaco.osm.pbf";
}

/// Area in m² of a WGS 84 geometry, measured in UTM 32N (Monaco and Milan both lie in it).
double utm32_area_m2(const OGRGeometry& geometry_wgs84) {
    OGRSpatialReference wgs84;
    wgs84.importFromEPSG(4326);
    wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    OGRSpatialReference utm;
    utm.importFromEPSG(32632);
    utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRCoordinateTransformation> ct(
        OGRCreateCoordinateTransformation(&wgs84, &utm));
    std::unique_ptr<OGRGeometry> g(geometry_wgs84.clone());
    EXPECT_EQ(g->transform(ct.get()), OGRERR_NONE);
    return OGR_G_Area(OGRGeometry::ToHandle(g.get()));
}

TEST(OsmBoundaryTest, MonacoMatchesTheOsmiumExport) {
    BoundarySpec spec;
    spec.path = monaco_pbf();
    spec.osm_filter = "admin_level=8,name=Monaco";
    const CityBoundary b = pipeline::resolve_boundary(spec, {"", ""});
    EXPECT_EQ(b.matched_value, "Monaco");
    EXPECT_EQ(b.feature_id, 2220322);

    const fs::path exported =
        test::test_data_dir() / "monaco_osm/monaco_boundary_admin8_from_osm.geojson";
    GDALDatasetUniquePtr ds(GDALDataset::Open(exported.c_str(), GDAL_OF_VECTOR));
    ASSERT_TRUE(ds) << exported;
    OGRFeatureUniquePtr feature(ds->GetLayer(0)->GetNextFeature());
    ASSERT_TRUE(feature);
    const OGRGeometry* expected = feature->GetGeometryRef();
    OGREnvelope env;
    expected->getEnvelope(&env);
    EXPECT_NEAR(b.bbox.lon_min_deg, env.MinX, 1e-7);
    EXPECT_NEAR(b.bbox.lat_min_deg, env.MinY, 1e-7);
    EXPECT_NEAR(b.bbox.lon_max_deg, env.MaxX, 1e-7);
    EXPECT_NEAR(b.bbox.lat_max_deg, env.MaxY, 1e-7);

    OGRGeometry* g = nullptr;
    ASSERT_EQ(OGRGeometryFactory::createFromWkt(b.polygon_wkt.c_str(), nullptr, &g), OGRERR_NONE);
    const std::unique_ptr<OGRGeometry> ours(g);
    EXPECT_EQ(wkbFlatten(ours->getGeometryType()), wkbMultiPolygon);
    const double expected_m2 = utm32_area_m2(*expected);
    const double ours_m2 = utm32_area_m2(*ours);
    EXPECT_NEAR(expected_m2, 2.34e6, 0.01e6);  // SOURCE.md: ≈ 2.34 km²
    EXPECT_NEAR(ours_m2, expected_m2, 1e-3 * expected_m2);
    std::cout << "[ info ] Monaco r2220322: " << ours_m2 << " m2 (export " << expected_m2
              << " m2), bbox " << b.bbox.lon_min_deg << "," << b.bbox.lat_min_deg << ","
              << b.bbox.lon_max_deg << "," << b.bbox.lat_max_deg << "\n";
}

TEST(OsmBoundaryTest, NoMatchListsTheBoundaryRelationsFound) {
    // Monaco is admin_level=8 in this extract: the wrong level lists it among the closest.
    const std::string what =
        error_of([] { osm::find_osm_boundary(monaco_pbf(), "admin_level=7,name=Monaco"); });
    EXPECT_NE(what.find("no relation carries all of 'admin_level=7,name=Monaco'"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("47 boundary relations in the file"), std::string::npos) << what;
    EXPECT_NE(what.find("r2220322 admin_level=8 name=Monaco"), std::string::npos) << what;
}

TEST(OsmBoundaryTest, MalformedFilterIsAnError) {
    for (const char* bad : {"admin_level", "admin_level=8,", "=8", "name=Monaco,,admin_level=8"}) {
        EXPECT_NE(
            error_of([&] { osm::find_osm_boundary(monaco_pbf(), bad); }).find("is not key=value"),
            std::string::npos)
            << bad;
    }
}

/// A small .osm.pbf: Testville (a 0.1° square with a 0.02° square hole), Twinville (another
/// admin_level=8), Brokenville (its ring does not close), Ghostville (its way is not in the file).
fs::path write_test_pbf(const fs::path& dir) {
    using namespace osmium::builder::attr;  // NOLINT(google-build-using-namespace): attr is made
                                            // for this
    osmium::memory::Buffer buffer{4096, osmium::memory::Buffer::auto_grow::yes};
    const std::vector<std::pair<double, double>> lon_lat = {
        {10.00, 45.00}, {10.10, 45.00}, {10.10, 45.10}, {10.00, 45.10},  // 1-4 Testville outer
        {10.04, 45.04}, {10.06, 45.04}, {10.06, 45.06}, {10.04, 45.06},  // 5-8 Testville hole
        {11.00, 45.00}, {11.10, 45.00}, {11.10, 45.10}, {11.00, 45.10},  // 9-12 Twinville
        {12.00, 45.00}, {12.10, 45.00}, {12.10, 45.10}, {12.00, 45.10},  // 13-16 Brokenville
    };
    for (std::size_t i = 0; i < lon_lat.size(); ++i) {
        osmium::builder::add_node(buffer, _id(static_cast<osmium::object_id_type>(i + 1)),
                                  _version(1), _location(lon_lat[i].first, lon_lat[i].second));
    }
    osmium::builder::add_way(buffer, _id(10), _version(1), _nodes({1, 2, 3, 4, 1}));
    osmium::builder::add_way(buffer, _id(11), _version(1), _nodes({5, 6, 7, 8, 5}));
    osmium::builder::add_way(buffer, _id(12), _version(1), _nodes({9, 10, 11, 12, 9}));
    osmium::builder::add_way(buffer, _id(13), _version(1), _nodes({13, 14, 15, 16}));  // open
    const auto boundary = [&](osmium::object_id_type id, const char* name, const char* level,
                              member_ilist ways) {
        osmium::builder::add_relation(buffer, _id(id), _version(1), _tag("type", "boundary"),
                                      _tag("boundary", "administrative"),
                                      _tag("admin_level", level), _tag("name", name),
                                      _members(ways));
    };
    const auto way = osmium::item_type::way;
    boundary(100, "Testville", "8", {{way, 10, "outer"}, {way, 11, "inner"}});
    boundary(101, "Twinville", "8", {{way, 12, "outer"}});
    boundary(102, "Brokenville", "9", {{way, 13, "outer"}});
    boundary(103, "Ghostville", "9", {{way, 99, "outer"}});
    const fs::path path = dir / "test.osm.pbf";
    osmium::io::Writer writer{path.string(), osmium::io::overwrite::allow};
    writer(std::move(buffer));
    writer.close();
    return path;
}

TEST(OsmBoundaryTest, RelationWithHoleGivesAHoleInTheMask) {
    test::TempDir dir;
    BoundarySpec spec;
    spec.path = write_test_pbf(dir.path());
    spec.osm_filter = "name=Testville";
    const CityBoundary b = pipeline::resolve_boundary(spec, {"", ""});
    EXPECT_EQ(b.matched_value, "Testville");
    EXPECT_EQ(b.feature_id, 100);
    EXPECT_NEAR(b.bbox.lon_min_deg, 10.0, 1e-7);
    EXPECT_NEAR(b.bbox.lat_max_deg, 45.1, 1e-7);

    // 16 × 16 cells of 0.01°, from 9.97 / 44.97: centres at x.xx5, none on a ring.
    std::vector<double> lon_edges_deg;
    std::vector<double> lat_edges_deg;
    for (int i = 0; i <= 16; ++i) {
        lon_edges_deg.push_back(9.97 + 0.01 * i);
        lat_edges_deg.push_back(44.97 + 0.01 * i);
    }
    const NdArray<std::uint8_t> mask = centre_mask(b, lon_edges_deg, lat_edges_deg);
    ASSERT_EQ(mask.shape(), (std::vector<std::size_t>{16, 16}));
    std::size_t inside_count = 0;
    for (std::size_t row = 0; row < 16; ++row) {
        for (std::size_t col = 0; col < 16; ++col) {
            const double lon = 9.975 + 0.01 * col;
            const double lat = 44.975 + 0.01 * row;
            const bool in_ring = lon > 10.0 && lon < 10.1 && lat > 45.0 && lat < 45.1;
            const bool in_hole = lon > 10.04 && lon < 10.06 && lat > 45.04 && lat < 45.06;
            EXPECT_EQ(mask.at(row, col), in_ring && !in_hole ? 1 : 0)
                << "row " << row << " col " << col;
            inside_count += mask.at(row, col);
        }
    }
    EXPECT_EQ(inside_count, 100U - 4U);  // 10 × 10 centres in the square, 2 × 2 in the hole
    EXPECT_EQ(mask.at(7, 7), 0);         // centre 10.045, 45.045: in the hole
    EXPECT_EQ(mask.at(4, 4), 1);         // centre 10.015, 45.015: in the ring
    EXPECT_EQ(mask.at(0, 0), 0);         // outside
}

TEST(OsmBoundaryTest, SeveralMatchesAreAnErrorListingThem) {
    test::TempDir dir;
    const std::string what =
        error_of([&] { osm::find_osm_boundary(write_test_pbf(dir.path()), "admin_level=8"); });
    EXPECT_NE(what.find("2 relations carry all of 'admin_level=8'"), std::string::npos) << what;
    EXPECT_NE(what.find("r100 admin_level=8 name=Testville"), std::string::npos) << what;
    EXPECT_NE(what.find("r101 admin_level=8 name=Twinville"), std::string::npos) << what;
}

TEST(OsmBoundaryTest, OpenRingIsAnError) {
    test::TempDir dir;
    const std::string what =
        error_of([&] { osm::find_osm_boundary(write_test_pbf(dir.path()), "name=Brokenville"); });
    EXPECT_NE(what.find("do not close"), std::string::npos) << what;
}

TEST(OsmBoundaryTest, MissingMemberWayIsAnError) {
    test::TempDir dir;
    const std::string what =
        error_of([&] { osm::find_osm_boundary(write_test_pbf(dir.path()), "name=Ghostville"); });
    EXPECT_NE(what.find("member ways are missing"), std::string::npos) << what;
}

TEST(OsmBoundaryTest, NoMatchInTestFileListsAllFour) {
    test::TempDir dir;
    const std::string what =
        error_of([&] { osm::find_osm_boundary(write_test_pbf(dir.path()), "name=Nowhere"); });
    for (const char* name : {"Testville", "Twinville", "Brokenville", "Ghostville"}) {
        EXPECT_NE(what.find(name), std::string::npos) << what;
    }
}

}  // namespace
}  // namespace zoomdiff::geo
