// count_osm_pois: OSM tags → the fixed POI schema through configs/osm_poi_crosswalk.yaml. A tiny
// .osm.pbf written here, the real Monaco extract (tests/data/monaco_osm) against an independent
// count, and a Geofabrik-style shapefile folder written with OGR.
#include "zoomdiff/osm/osm_pois.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <iostream>
#include <numeric>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "osm/test_layers.hpp"
#include "support/support.hpp"
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>
#include <osmium/builder/attr.hpp>
#include <osmium/handler.hpp>
#include <osmium/io/any_input.hpp>
#include <osmium/io/pbf_output.hpp>
#include <osmium/io/writer.hpp>
#include <osmium/visitor.hpp>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/poi/poi_schema.hpp"

namespace zoomdiff::test {
namespace {

namespace attr = osmium::builder::attr;
using Tags = std::vector<std::pair<std::string, std::string>>;

std::size_t channel(const poi::PoiSchema& schema, const char* tag_en) {
    const auto k = schema.index_of(tag_en);
    if (!k) {
        throw std::runtime_error(std::string("no category ") + tag_en);
    }
    return *k;
}

/// Cell index by the POI rule, written independently: edges[0] <= v <= edges[N], v == edges[N]
/// in the last cell; -1 outside.
long poi_cell_of(const std::vector<double>& edges, double v) {
    if (v < edges.front() || v > edges.back()) {
        return -1;
    }
    long i = 0;
    while (i + 2 < static_cast<long>(edges.size()) && edges[static_cast<std::size_t>(i) + 1] <= v) {
        ++i;
    }
    return i;
}

std::int64_t channel_total(const poi::PoiCounts& counts, std::size_t k) {
    std::int64_t sum = 0;
    for (std::size_t r = 0; r < counts.counts.dim(0); ++r) {
        for (std::size_t c = 0; c < counts.counts.dim(1); ++c) {
            sum += counts.counts.at(r, c, k);
        }
    }
    return sum;
}

std::int64_t grand_total(const poi::PoiCounts& counts) {
    return std::accumulate(counts.counts.values().begin(), counts.counts.values().end(),
                           std::int64_t{0});
}

/// A tiny .osm.pbf: tagged nodes and closed ways.
class PoiPbf {
public:
    osmium::object_id_type node(double lon, double lat, Tags tags = {}) {
        nodes_.push_back({++next_node_, lon, lat, std::move(tags)});
        return next_node_;
    }

    /// A closed square way of side `d` degrees centred on lon/lat.
    void square(double lon, double lat, double d, Tags tags) {
        std::vector<osmium::object_id_type> refs{
            node(lon - d / 2, lat - d / 2), node(lon + d / 2, lat - d / 2),
            node(lon + d / 2, lat + d / 2), node(lon - d / 2, lat + d / 2)};
        refs.push_back(refs.front());
        ways_.push_back({++next_way_, std::move(refs), std::move(tags)});
    }

    void write(const std::filesystem::path& path) const {
        osmium::memory::Buffer buffer{1024 * 1024, osmium::memory::Buffer::auto_grow::yes};
        for (const auto& n : nodes_) {
            osmium::builder::add_node(buffer, attr::_id(n.id), attr::_version(1),
                                      attr::_location(n.lon, n.lat), attr::_tags(n.tags));
        }
        for (const auto& w : ways_) {
            osmium::builder::add_way(buffer, attr::_id(w.id), attr::_version(1),
                                     attr::_nodes(w.refs), attr::_tags(w.tags));
        }
        osmium::io::Header header;
        osmium::io::Writer writer{path.string(), header, osmium::io::overwrite::allow};
        writer(std::move(buffer));
        writer.close();
    }

private:
    struct Node {
        osmium::object_id_type id;
        double lon;
        double lat;
        Tags tags;
    };

    struct Way {
        osmium::object_id_type id;
        std::vector<osmium::object_id_type> refs;
        Tags tags;
    };

    std::vector<Node> nodes_;
    std::vector<Way> ways_;
    osmium::object_id_type next_node_ = 0;
    osmium::object_id_type next_way_ = 0;
};

/// Expected count map: (row, col, k) → n.
struct Expected {
    void add(const geo::CityGrid& grid, double lon, double lat, std::size_t k) {
        const long col = poi_cell_of(grid.lon_edges_deg, lon);
        const long row = poi_cell_of(grid.lat_edges_deg, lat);
        ASSERT_GE(col, 0);
        ASSERT_GE(row, 0);
        cells.push_back({static_cast<std::size_t>(row), static_cast<std::size_t>(col), k});
    }

    std::vector<std::array<std::size_t, 3>> cells;
};

void expect_counts(const poi::PoiCounts& got, const Expected& expected) {
    NdArray<std::int32_t> want(got.counts.shape(), 0);
    for (const auto& [r, c, k] : expected.cells) {
        ++want.at(r, c, k);
    }
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < want.values().size(); ++i) {
        if (want.values()[i] != got.counts.values()[i]) {
            ++mismatches;
        }
    }
    EXPECT_EQ(mismatches, 0U);
    EXPECT_EQ(grand_total(got), static_cast<std::int64_t>(expected.cells.size()));
}

// ---- the crosswalk --------------------------------------------------------------------------

TEST(OsmPoisTest, BuiltinCrosswalkResolvesEveryCategory) {
    const poi::PoiSchema schema = poi::builtin_poi_schema();
    const osm::OsmPoiCrosswalk cw = osm::builtin_osm_poi_crosswalk(schema);
    std::set<std::size_t> targets;
    for (const auto& rule : cw.tag_rules) {
        if (rule.category) {
            targets.insert(*rule.category);
        }
    }
    EXPECT_EQ(targets.size(), schema.size());  // every one of the 21 categories has a tag rule
    EXPECT_EQ(cw.fclass.at("restaurant"), channel(schema, "CateringServices"));
    EXPECT_EQ(cw.fclass.at("hotel"), channel(schema, "AccommodationServices"));
    EXPECT_EQ(cw.fclass.at("pharmacy"), channel(schema, "MedicalHealthcareServices"));
    EXPECT_EQ(cw.fclass.at("supermarket"), channel(schema, "ShoppingServices"));
    EXPECT_EQ(cw.fclass.at("bank"), channel(schema, "FinanceInsuranceServices"));
    EXPECT_EQ(cw.fclass.at("school"), channel(schema, "EducationCultureServices"));
}

TEST(OsmPoisTest, FirstMatchingRuleWins) {
    const poi::PoiSchema schema = poi::builtin_poi_schema();
    const osm::OsmPoiCrosswalk cw = osm::builtin_osm_poi_crosswalk(schema);
    EXPECT_EQ(cw.classify({{"shop", "car"}}), channel(schema, "AutomotiveSales"));
    EXPECT_EQ(cw.classify({{"shop", "car_repair"}}), channel(schema, "AutomotiveRepair"));
    EXPECT_EQ(cw.classify({{"shop", "motorcycle"}}), channel(schema, "MotorcycleServices"));
    EXPECT_EQ(cw.classify({{"shop", "hairdresser"}}), channel(schema, "LifeServices"));
    EXPECT_EQ(cw.classify({{"shop", "shoes"}}), channel(schema, "ShoppingServices"));
    EXPECT_EQ(cw.classify({{"amenity", "parking"}}), channel(schema, "TransportationFacilities"));
    EXPECT_EQ(cw.classify({{"amenity", "fuel"}}), channel(schema, "AutomotiveServices"));
    EXPECT_EQ(cw.classify({{"office", "insurance"}}), channel(schema, "FinanceInsuranceServices"));
    EXPECT_EQ(cw.classify({{"office", "it"}}), channel(schema, "Companies"));
    // A hotel with a restaurant: the catering rules come first.
    EXPECT_EQ(cw.classify({{"tourism", "hotel"}, {"amenity", "restaurant"}}),
              channel(schema, "CateringServices"));
    // ignore rules, key=* never matching "no", and conjunctions.
    EXPECT_EQ(cw.classify({{"shop", "vacant"}}), std::nullopt);
    EXPECT_EQ(cw.classify({{"shop", "no"}}), std::nullopt);
    EXPECT_EQ(cw.classify({{"building", "apartments"}}), std::nullopt);
    EXPECT_EQ(cw.classify({{"building", "apartments"}, {"name", "Le Millefiori"}}),
              channel(schema, "BusinessResidential"));
    EXPECT_EQ(cw.classify({{"place", "suburb"}}), std::nullopt);
    EXPECT_EQ(cw.classify({{"highway", "residential"}}), std::nullopt);
    EXPECT_EQ(cw.classify({}), std::nullopt);
}

TEST(OsmPoisTest, UserCrosswalkOrderIsItsPriority) {
    const poi::PoiSchema schema = poi::builtin_poi_schema();
    const osm::OsmPoiCrosswalk hotel_first = osm::parse_osm_poi_crosswalk(
        "osm_tags:\n"
        "  - AccommodationServices: [tourism=hotel]\n"
        "  - 餐饮服务: [amenity=restaurant]\n",
        "mine.yaml", schema);
    EXPECT_EQ(hotel_first.classify({{"tourism", "hotel"}, {"amenity", "restaurant"}}),
              channel(schema, "AccommodationServices"));
    EXPECT_TRUE(hotel_first.fclass.empty());
}

TEST(OsmPoisTest, UnknownCategoryNamesTheYamlFile) {
    const poi::PoiSchema schema = poi::builtin_poi_schema();
    try {
        osm::parse_osm_poi_crosswalk("osm_tags:\n  - Restaurants: [amenity=restaurant]\n",
                                     "my_crosswalk.yaml", schema);
        FAIL() << "expected zoomdiff::Error";
    } catch (const Error& e) {
        EXPECT_EQ(e.subject(), "my_crosswalk.yaml");
        EXPECT_NE(std::string(e.what()).find("Restaurants"), std::string::npos) << e.what();
    }
    EXPECT_THROW(
        osm::parse_osm_poi_crosswalk("osm_tags:\n  - Companies: [office]\n", "x.yaml", schema),
        Error);
    EXPECT_THROW(
        osm::parse_osm_poi_crosswalk("osm_tags: []\ngeofabrik_fclass:\n  Nowhere: [restaurant]\n",
                                     "x.yaml", schema),
        Error);
}

// ---- a tiny .osm.pbf ----------------------------------------------------------------------

TEST(OsmPoisTest, TinyPbfCountsNodesAndAreasPerCell) {
    TempDir dir;
    const auto path = dir.path() / "tiny.osm.pbf";
    const geo::CityGrid grid = small_test_grid();
    const poi::PoiSchema schema = poi::builtin_poi_schema();
    const std::size_t catering = channel(schema, "CateringServices");
    const std::size_t hotel = channel(schema, "AccommodationServices");
    const std::size_t shop = channel(schema, "ShoppingServices");
    const std::size_t bank = channel(schema, "FinanceInsuranceServices");
    const std::size_t school = channel(schema, "EducationCultureServices");
    const std::size_t car = channel(schema, "AutomotiveSales");

    PoiPbf pbf;
    Expected expected;
    pbf.node(115.8105, 28.6905, {{"amenity", "restaurant"}, {"name", "A"}});
    expected.add(grid, 115.8105, 28.6905, catering);
    pbf.node(115.8107, 28.6906, {{"amenity", "cafe"}});  // same cell
    expected.add(grid, 115.8107, 28.6906, catering);
    pbf.node(115.8205, 28.7005, {{"tourism", "hotel"}});
    expected.add(grid, 115.8205, 28.7005, hotel);
    pbf.node(115.8305, 28.6955, {{"shop", "supermarket"}});
    expected.add(grid, 115.8305, 28.6955, shop);
    pbf.node(115.8405, 28.7105, {{"amenity", "bank"}});
    expected.add(grid, 115.8405, 28.7105, bank);
    pbf.node(115.8305, 28.7055, {{"shop", "car"}});  // before shop=*
    expected.add(grid, 115.8305, 28.7055, car);
    pbf.node(115.8155, 28.7155, {{"tourism", "hotel"}, {"amenity", "restaurant"}});
    expected.add(grid, 115.8155, 28.7155, catering);
    pbf.square(115.8255, 28.6855, 0.0004, {{"amenity", "school"}, {"building", "yes"}});
    expected.add(grid, 115.8255, 28.6855, school);                        // the square's centroid
    pbf.node(115.8121, 28.6921);                                          // untagged
    pbf.node(115.8122, 28.6922, {{"foo", "bar"}});                        // unknown tag
    pbf.node(115.8123, 28.6923, {{"shop", "vacant"}});                    // ignored
    pbf.square(115.8355, 28.6855, 0.0004, {{"building", "apartments"}});  // unnamed: no POI
    pbf.node(116.5, 28.7, {{"amenity", "restaurant"}});                   // off the grid
    pbf.write(path);

    core::NullProgress progress;
    const poi::PoiCounts got = osm::count_osm_pois(path, grid, schema, progress);
    ASSERT_EQ(got.counts.shape(), (std::vector<std::size_t>{grid.rows(), grid.cols(), 21}));
    expect_counts(got, expected);
    EXPECT_EQ(got.rows_read, 9U);
    EXPECT_EQ(got.rows_counted, 8U);
    EXPECT_EQ(got.files_used, std::vector<std::string>{"tiny.osm.pbf"});
    for (std::size_t k = 0; k < schema.size(); ++k) {
        const bool want =
            k == catering || k == hotel || k == shop || k == bank || k == school || k == car;
        EXPECT_EQ(got.category_present[k], want) << schema.at(k).tag_en;
    }
}

TEST(OsmPoisTest, MissingSourceIsAnError) {
    const poi::PoiSchema schema = poi::builtin_poi_schema();
    core::NullProgress progress;
    EXPECT_THROW(osm::count_osm_pois("/nonexistent/x.osm.pbf", small_test_grid(), schema, progress),
                 Error);
    TempDir dir;  // a folder without the Geofabrik layer
    EXPECT_THROW(osm::count_osm_pois(dir.path(), small_test_grid(), schema, progress), Error);
}

// ---- Monaco: the real extract against an independent count ---------------------------------

geo::CityGrid monaco_grid() {
    geo::BBoxDeg bbox;
    bbox.lon_min_deg = 7.405;
    bbox.lat_min_deg = 43.724;
    bbox.lon_max_deg = 7.440;
    bbox.lat_max_deg = 43.752;
    return geo::CityGrid::from_bbox(bbox);
}

/// The catering rules of the crosswalk (its first entry), applied with plain libosmium.
class CateringNodes : public osmium::handler::Handler {
public:
    explicit CateringNodes(const geo::CityGrid& grid)
        : grid_(grid), counts_({grid.rows(), grid.cols()}, 0) {}

    void node(const osmium::Node& node) {
        static const char* const kAmenity[] = {"restaurant", "fast_food", "cafe",
                                               "food_court", "ice_cream", "biergarten"};
        static const char* const kShop[] = {"bakery", "pastry"};
        const char* amenity = node.tags()["amenity"];
        const char* shop = node.tags()["shop"];
        const auto in = [](const char* v, const auto& list) {
            return v != nullptr &&
                   std::any_of(std::begin(list), std::end(list),
                               [&](const char* x) { return std::strcmp(v, x) == 0; });
        };
        if (!in(amenity, kAmenity) && !in(shop, kShop)) {
            return;
        }
        ++matched_;
        const long col = poi_cell_of(grid_.lon_edges_deg, node.location().lon());
        const long row = poi_cell_of(grid_.lat_edges_deg, node.location().lat());
        if (col >= 0 && row >= 0) {
            ++counts_.at(static_cast<std::size_t>(row), static_cast<std::size_t>(col));
        }
    }

    const NdArray<std::int32_t>& counts() const { return counts_; }

    std::size_t matched() const { return matched_; }

private:
    const geo::CityGrid& grid_;
    NdArray<std::int32_t> counts_;
    std::size_t matched_ = 0;
};

TEST(OsmPoisTest, MonacoMatchesAnIndependentCount) {
    const auto pbf = test_data_dir() / "monaco_osm" / "monaco.osm.pbf";
    ASSERT_TRUE(std::filesystem::exists(pbf)) << missing_data(pbf);
    const geo::CityGrid grid = monaco_grid();
    const poi::PoiSchema schema = poi::builtin_poi_schema();
    const std::size_t catering = channel(schema, "CateringServices");
    core::NullProgress progress;
    const poi::PoiCounts full = osm::count_osm_pois(pbf, grid, schema, progress);

    std::string summary;
    for (std::size_t k = 0; k < schema.size(); ++k) {
        summary += schema.at(k).tag_en + "=" + std::to_string(channel_total(full, k)) + " ";
    }
    std::cout << "[ Monaco   ] " << summary << "\n[ Monaco   ] read " << full.rows_read
              << " counted " << full.rows_counted << "\n";
    EXPECT_GT(channel_total(full, catering), 0);
    EXPECT_GT(channel_total(full, channel(schema, "AccommodationServices")), 0);
    EXPECT_GT(channel_total(full, channel(schema, "ShoppingServices")), 0);
    EXPECT_EQ(grand_total(full), static_cast<std::int64_t>(full.rows_counted));
    EXPECT_LE(full.rows_counted, full.rows_read);

    // A nodes-only copy, so that the catering channel is nodes only, against the plain handler.
    TempDir dir;
    const auto nodes_only = dir.path() / "monaco_nodes.osm.pbf";
    {
        osmium::io::Reader reader{pbf.string(), osmium::osm_entity_bits::node};
        osmium::io::Writer writer{nodes_only.string(), reader.header(),
                                  osmium::io::overwrite::allow};
        while (osmium::memory::Buffer buffer = reader.read()) {
            writer(std::move(buffer));
        }
        writer.close();
        reader.close();
    }
    CateringNodes independent(grid);
    {
        osmium::io::Reader reader{pbf.string(), osmium::osm_entity_bits::node};
        osmium::apply(reader, independent);
        reader.close();
    }
    const poi::PoiCounts nodes = osm::count_osm_pois(nodes_only, grid, schema, progress);
    ASSERT_GT(independent.matched(), 0U);
    std::size_t mismatches = 0;
    for (std::size_t r = 0; r < grid.rows(); ++r) {
        for (std::size_t c = 0; c < grid.cols(); ++c) {
            mismatches += nodes.counts.at(r, c, catering) != independent.counts().at(r, c);
        }
    }
    EXPECT_EQ(mismatches, 0U);
    const auto independent_total =
        std::accumulate(independent.counts().values().begin(), independent.counts().values().end(),
                        std::int64_t{0});
    EXPECT_EQ(channel_total(nodes, catering), independent_total);
    std::cout << "[ Monaco   ] catering nodes " << independent_total << " (matched anywhere "
              << independent.matched() << "), catering incl. areas "
              << channel_total(full, catering) << "\n";
    // Areas only add.
    for (std::size_t k = 0; k < schema.size(); ++k) {
        EXPECT_GE(channel_total(full, k), channel_total(nodes, k)) << schema.at(k).tag_en;
    }
}

// ---- a Geofabrik-style shapefile folder ---------------------------------------------------

void write_fclass_layer(const std::string& path, OGRwkbGeometryType type,
                        const std::vector<std::pair<std::string, std::string>>& features) {
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("ESRI Shapefile");
    GDALDatasetUniquePtr ds(driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
    ASSERT_TRUE(ds);
    OGRSpatialReference srs;
    srs.importFromEPSG(4326);
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    OGRLayer* layer = ds->CreateLayer("pois", &srs, type, nullptr);
    OGRFieldDefn osm_id("osm_id", OFTString);
    OGRFieldDefn fclass("fclass", OFTString);
    layer->CreateField(&osm_id);
    layer->CreateField(&fclass);
    for (const auto& [value, wkt] : features) {
        OGRFeature feature(layer->GetLayerDefn());
        OGRGeometry* geom = nullptr;
        ASSERT_EQ(OGRGeometryFactory::createFromWkt(wkt.c_str(), nullptr, &geom), OGRERR_NONE);
        feature.SetGeometryDirectly(geom);
        feature.SetField("osm_id", "1");
        feature.SetField("fclass", value.c_str());
        ASSERT_EQ(layer->CreateFeature(&feature), OGRERR_NONE);
    }
}

TEST(OsmPoisTest, GeofabrikShapefilesMapByFclass) {
    TempDir dir;
    const geo::CityGrid grid = small_test_grid();
    const poi::PoiSchema schema = poi::builtin_poi_schema();
    write_fclass_layer((dir.path() / "gis_osm_pois_free_1.shp").string(), wkbPoint,
                       {{"restaurant", "POINT (115.8105 28.6905)"},
                        {"hotel", "POINT (115.8205 28.7005)"},
                        {"supermarket", "POINT (115.8305 28.6955)"},
                        {"pharmacy", "POINT (115.8305 28.6955)"},
                        {"bench", "POINT (115.8305 28.6955)"},   // not in the crosswalk
                        {"restaurant", "POINT (120.0 30.0)"}});  // off the grid
    write_fclass_layer((dir.path() / "gis_osm_pois_a_free_1.shp").string(), wkbPolygon,
                       {{"school",
                         "POLYGON ((115.8253 28.6853, 115.8257 28.6853, 115.8257 28.6857, "
                         "115.8253 28.6857, 115.8253 28.6853))"}});
    Expected expected;
    expected.add(grid, 115.8105, 28.6905, channel(schema, "CateringServices"));
    expected.add(grid, 115.8205, 28.7005, channel(schema, "AccommodationServices"));
    expected.add(grid, 115.8305, 28.6955, channel(schema, "ShoppingServices"));
    expected.add(grid, 115.8305, 28.6955, channel(schema, "MedicalHealthcareServices"));
    expected.add(grid, 115.8255, 28.6855, channel(schema, "EducationCultureServices"));

    core::NullProgress progress;
    const poi::PoiCounts got = osm::count_osm_pois(dir.path(), grid, schema, progress);
    expect_counts(got, expected);
    EXPECT_EQ(got.rows_read, 6U);
    EXPECT_EQ(got.rows_counted, 5U);
    EXPECT_EQ(got.files_used,
              (std::vector<std::string>{"gis_osm_pois_a_free_1.shp", "gis_osm_pois_free_1.shp"}));
}

}  // namespace
}  // namespace zoomdiff::test
