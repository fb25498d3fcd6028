// End-to-end, a city outside China from raw files alone: Monaco's real OSM extract with its OSM
// boundary relation, OSM-derived POIs, a people-per-pixel raster, no hand-made table.
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "support/support.hpp"
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>
#include <osmium/handler.hpp>
#include <osmium/io/any_input.hpp>
#include <osmium/visitor.hpp>
#include <sys/wait.h>

#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::test {
namespace {

namespace fs = std::filesystem;

/// env_extra with `args` and -q; its stderr goes to `err_text`.
int run(const std::string& args, const fs::path& scratch, std::string& err_text) {
    const ToolRun r = run_tool(ZOOMDIFF_ENV_EXTRA_EXE, args + " -q", scratch);
    err_text = r.stderr_text;
    return r.exit_code;
}

/// A WorldPop-like raster over Monaco: 3″ pixels, EPSG:4326, `people` per pixel.
fs::path write_population(const fs::path& dir, float people) {
    const double px = 1.0 / 1200.0;
    const int w = 72;  // 7.39 .. 7.45 E
    const int h = 60;  // 43.71 .. 43.76 N
    const fs::path path = dir / "monaco_pop.tif";
    GDALDriver* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
    GDALDatasetUniquePtr ds(gtiff->Create(path.c_str(), w, h, 1, GDT_Float32, nullptr));
    double gt[6] = {7.39, px, 0, 43.76, 0, -px};
    ds->SetGeoTransform(gt);
    OGRSpatialReference wgs84;
    wgs84.importFromEPSG(4326);
    ds->SetSpatialRef(&wgs84);
    std::vector<float> v(static_cast<std::size_t>(w * h), people);
    EXPECT_EQ(
        ds->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, w, h, v.data(), w, h, GDT_Float32, 0, 0),
        CE_None);
    return path;
}

/// Nodes the OSM-poi layer rules of configs/osm_layers.yaml take, binned on the metre grid as
/// env_extra bins them (half-open cells), counted independently of the library.
class OsmPoiNodeCounter : public osmium::handler::Handler {
public:
    OsmPoiNodeCounter(OGRCoordinateTransformation* to_utm, double x0, double x1, double y0,
                      double y1)
        : to_utm_(to_utm), x0_(x0), x1_(x1), y0_(y0), y1_(y1) {}

    void node(const osmium::Node& n) {
        const auto& t = n.tags();
        const auto in = [&](const char* key, const std::set<std::string>& values) {
            const char* v = t[key];
            return v != nullptr && values.count(v) > 0;
        };
        const bool poi =
            t["amenity"] != nullptr || t["shop"] != nullptr || t["tourism"] != nullptr ||
            t["leisure"] != nullptr || t["historic"] != nullptr ||
            in("man_made", {"tower", "water_tower", "water_works", "wastewater_plant", "windmill",
                            "lighthouse", "surveillance"}) ||
            in("emergency", {"phone", "fire_hydrant"}) || in("highway", {"speed_camera"});
        if (!poi || !n.location().valid()) {
            return;
        }
        double x = n.location().lon();
        double y = n.location().lat();
        to_utm_->Transform(1, &x, &y);
        if (x >= x0_ && x < x1_ && y >= y0_ && y < y1_) {
            ++count;
        }
    }

    long count = 0;

private:
    OGRCoordinateTransformation* to_utm_;
    double x0_, x1_, y0_, y1_;
};

TEST(EnvExtraWorld, MonacoFromOsmAloneIsCompleteAndMatchesAnIndependentCount) {
    TempDir tmp;
    const fs::path pbf = test_data_dir() / "monaco_osm/monaco.osm.pbf";
    const fs::path out = tmp.path() / "Monaco_cond.h5";
    std::string err;
    const int code = run("--cityname Monaco --osm_dir '" + pbf.string() +
                             "' --boundary_osm admin_level=8,name=Monaco --pop_path '" +
                             write_population(tmp.path(), 12.0F).string() +
                             "' --pop_rule area_weighted --out '" + out.string() + "'",
                         tmp.path(), err);
    ASSERT_EQ(code, 0) << err;
    const auto f = io::H5File::open_read(out);
    EXPECT_EQ(f.attr_int("/", "epsg"), 32632);
    const auto total = [&](const std::string& key) {
        const NdArray<double> a =
            f.read<double>(key);  // named: a range-for over a temporary's member dangles
        double s = 0;
        for (double v : a.values()) {
            s += v;
        }
        return s;
    };
    for (const char* key :
         {"/100m/building_count", "/100m/road_length_m", "/100m/waterway_length_m",
          "/100m/water_area_m2", "/100m/natural_count", "/100m/osm_poi_count", "/100m/poi_count"}) {
        EXPECT_GT(total(key), 0.0) << key;
    }
    // The OSM boundary (2.34 km², land and harbour) masks about 234 cells of 100 m.
    EXPECT_NEAR(total("/100m/mask"), 234.0, 25.0);
    // Area-weighted population: 12 people per 3″ pixel over the grid's footprint, conserved.
    const auto x = f.read<double>("/grid/x_edges_m").values();
    const auto y = f.read<double>("/grid/y_edges_m").values();
    const double pixel_m2 = (6378137.0 * M_PI / 180.0 / 1200.0) *
                            (6356752.0 * M_PI / 180.0 / 1200.0) * std::cos(43.738 * M_PI / 180.0);
    const double expected_people =
        12.0 * (x.back() - x.front()) * (y.back() - y.front()) / pixel_m2;
    EXPECT_NEAR(total("/100m/population"), expected_people, 0.02 * expected_people);

    // An independent count of the OSM-poi nodes on the grid, with a plain libosmium handler.
    OGRSpatialReference wgs84;
    wgs84.importFromEPSG(4326);
    wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    OGRSpatialReference utm;
    utm.importFromEPSG(static_cast<int>(f.attr_int("/", "epsg")));
    utm.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRCoordinateTransformation> ct(
        OGRCreateCoordinateTransformation(&wgs84, &utm));
    OsmPoiNodeCounter counter(ct.get(), x.front(), x.back(), y.front(), y.back());
    osmium::io::Reader reader(pbf.string(), osmium::osm_entity_bits::node);
    osmium::apply(reader, counter);
    reader.close();
    EXPECT_EQ(static_cast<long>(total("/100m/osm_poi_count")), counter.count);
}

TEST(EnvExtraWorld, BoundaryFromAPolygonFileByExactValueOrFromABox) {
    TempDir tmp;
    const fs::path pbf = test_data_dir() / "monaco_osm/monaco.osm.pbf";
    const fs::path pop = write_population(tmp.path(), 5.0F);
    const fs::path geojson = test_data_dir() / "monaco_osm/monaco_boundary_admin8_from_osm.geojson";
    std::string err;
    // The exported boundary file, picked by an exact field value.
    GDALDatasetUniquePtr ds(GDALDataset::Open(geojson.c_str(), GDAL_OF_VECTOR));
    ASSERT_TRUE(ds);
    OGRFeatureUniquePtr feature(ds->GetLayer(0)->GetNextFeature());
    ASSERT_TRUE(feature);
    const int name_field = feature->GetFieldIndex("name");
    ASSERT_GE(name_field, 0);
    const std::string name = feature->GetFieldAsString(name_field);
    const fs::path a = tmp.path() / "a.h5";
    ASSERT_EQ(run("--cityname Monaco --shp_path '" + geojson.string() +
                      "' --boundary_field name --boundary_value '" + name + "' --osm_dir '" +
                      pbf.string() + "' --pop_path '" + pop.string() +
                      "' --pop_rule area_weighted --out '" + a.string() + "'",
                  tmp.path(), err),
              0)
        << err;
    // A near miss names the close value.
    EXPECT_EQ(run("--cityname Monaco --shp_path '" + geojson.string() +
                      "' --boundary_field name --boundary_value Monacco" + " --osm_dir '" +
                      pbf.string() + "' --pop_path '" + pop.string() + "' --out '" +
                      (tmp.path() / "x.h5").string() + "'",
                  tmp.path(), err),
              2);
    EXPECT_NE(err.find(name), std::string::npos) << err;
    // A plain box.
    const fs::path b = tmp.path() / "b.h5";
    ASSERT_EQ(run("--cityname Monaco --bbox 7.409,43.7247,7.4399,43.7519 --osm_dir '" +
                      pbf.string() + "' --pop_path '" + pop.string() +
                      "' --pop_rule area_weighted --out '" + b.string() + "'",
                  tmp.path(), err),
              0)
        << err;
    const auto fa = io::H5File::open_read(a);
    const auto fb = io::H5File::open_read(b);
    EXPECT_EQ(fa.attr_int("/", "epsg"), fb.attr_int("/", "epsg"));
    // The box masks every cell; the polygon only those inside Monaco.
    const NdArray<double> ma = fa.read<double>("/100m/mask");
    const NdArray<double> mb = fb.read<double>("/100m/mask");
    double mask_a = 0;
    double mask_b = 0;
    for (double v : ma.values()) {
        mask_a += v;
    }
    for (double v : mb.values()) {
        mask_b += v;
    }
    EXPECT_LT(mask_a, mask_b);
}

}  // namespace
}  // namespace zoomdiff::test
