// compute_osm_conditions on .osm.pbf input: a tiny file written here with libosmium's builder, and
// the real Monaco extract (tests/data/monaco_osm) checked against an independent count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "osm/test_layers.hpp"
#include "support/support.hpp"
#include <gtest/gtest.h>
#include <ogr_spatialref.h>
#include <osmium/area/assembler.hpp>
#include <osmium/area/multipolygon_manager.hpp>
#include <osmium/builder/attr.hpp>
#include <osmium/handler.hpp>
#include <osmium/handler/node_locations_for_ways.hpp>
#include <osmium/index/map/flex_mem.hpp>
#include <osmium/io/any_input.hpp>
#include <osmium/io/pbf_output.hpp>
#include <osmium/io/writer.hpp>
#include <osmium/relations/manager_util.hpp>
#include <osmium/visitor.hpp>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/osm/osm_conditions.hpp"

namespace zoomdiff::test {
namespace {

namespace attr = osmium::builder::attr;

template <typename T>
double total(const NdArray<T>& a) {
    return std::accumulate(a.values().begin(), a.values().end(), 0.0);
}

/// WGS 84 → the grid's UTM, x/y order.
class ToGrid {
public:
    explicit ToGrid(int epsg) {
        wgs84_.importFromEPSG(4326);
        wgs84_.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        utm_.importFromEPSG(epsg);
        utm_.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        ct_.reset(OGRCreateCoordinateTransformation(&wgs84_, &utm_));
    }

    std::pair<double, double> operator()(double lon, double lat) const {
        double x = lon;
        double y = lat;
        ct_->Transform(1, &x, &y);
        return {x, y};
    }

private:
    OGRSpatialReference wgs84_;
    OGRSpatialReference utm_;
    std::unique_ptr<OGRCoordinateTransformation> ct_;
};

/// Index of the half-open cell holding v, or -1.
long cell_of(const std::vector<double>& edges, double v) {
    const long i = std::upper_bound(edges.begin(), edges.end(), v) - edges.begin() - 1;
    return (i >= 0 && i < static_cast<long>(edges.size()) - 1) ? i : -1;
}

/// Absolute area (m²) of a projected ring given by its degree corners (shoelace).
double projected_area(const ToGrid& to_grid, const std::vector<std::pair<double, double>>& ring) {
    // Relative to the first corner: UTM coordinates of ~3e6 m would cost ~1e-3 m² of rounding.
    const auto [ox, oy] = to_grid(ring[0].first, ring[0].second);
    double twice = 0;
    for (std::size_t i = 0; i + 1 < ring.size(); ++i) {
        const auto [x0, y0] = to_grid(ring[i].first, ring[i].second);
        const auto [x1, y1] = to_grid(ring[i + 1].first, ring[i + 1].second);
        twice += (x0 - ox) * (y1 - oy) - (x1 - ox) * (y0 - oy);
    }
    return std::abs(twice) / 2;
}

/// Writes a small .osm.pbf with one or more objects of every layer (and some that must be
/// ignored), near Nanchang.
class TinyPbf {
public:
    explicit TinyPbf(const std::filesystem::path& path) : path_(path) {}

    /// Adds a closed square way (side `d` degrees, centre lon/lat) with `tags`; returns the ring.
    template <typename... Tags>
    std::vector<std::pair<double, double>> square_way(double lon, double lat, double d,
                                                      Tags&&... tags) {
        const std::vector<std::pair<double, double>> ring{{lon - d / 2, lat - d / 2},
                                                          {lon + d / 2, lat - d / 2},
                                                          {lon + d / 2, lat + d / 2},
                                                          {lon - d / 2, lat + d / 2},
                                                          {lon - d / 2, lat - d / 2}};
        std::vector<osmium::object_id_type> refs;
        for (std::size_t i = 0; i + 1 < ring.size(); ++i) {
            refs.push_back(node(ring[i].first, ring[i].second));
        }
        refs.push_back(refs.front());
        way(refs, std::forward<Tags>(tags)...);
        return ring;
    }

    osmium::object_id_type node(double lon, double lat) {
        nodes_.push_back({++next_node_, {lon, lat}, {}});
        return next_node_;
    }

    osmium::object_id_type tagged_node(double lon, double lat, const char* k, const char* v) {
        nodes_.push_back({++next_node_, {lon, lat}, {{k, v}}});
        return next_node_;
    }

    template <typename... Tags>
    osmium::object_id_type way(const std::vector<osmium::object_id_type>& refs, Tags&&... tags) {
        ways_.push_back({++next_way_, refs, {std::forward<Tags>(tags)...}});
        return next_way_;
    }

    void multipolygon(const std::vector<osmium::object_id_type>& outer_ways, const char* k,
                      const char* v) {
        relations_.push_back({++next_relation_, outer_ways, {{"type", "multipolygon"}, {k, v}}});
    }

    void write() {
        osmium::memory::Buffer buffer{1024 * 1024, osmium::memory::Buffer::auto_grow::yes};
        for (const auto& n : nodes_) {
            osmium::builder::add_node(buffer, attr::_id(n.id), attr::_version(1),
                                      attr::_location(n.location.first, n.location.second),
                                      attr::_tags(n.tags));
        }
        for (const auto& w : ways_) {
            osmium::builder::add_way(buffer, attr::_id(w.id), attr::_version(1),
                                     attr::_nodes(w.refs), attr::_tags(w.tags));
        }
        for (const auto& r : relations_) {
            std::vector<osmium::builder::attr::member_type> members;
            for (const auto id : r.ways) {
                members.emplace_back(osmium::item_type::way, id, "outer");
            }
            osmium::builder::add_relation(buffer, attr::_id(r.id), attr::_version(1),
                                          attr::_members(members), attr::_tags(r.tags));
        }
        osmium::io::Header header;
        osmium::io::Writer writer{path_.string(), header, osmium::io::overwrite::allow};
        writer(std::move(buffer));
        writer.close();
    }

private:
    using Tags = std::vector<std::pair<std::string, std::string>>;

    struct Node {
        osmium::object_id_type id;
        std::pair<double, double> location;
        Tags tags;
    };

    struct Way {
        osmium::object_id_type id;
        std::vector<osmium::object_id_type> refs;
        Tags tags;
    };

    struct Relation {
        osmium::object_id_type id;
        std::vector<osmium::object_id_type> ways;
        Tags tags;
    };

    std::filesystem::path path_;
    std::vector<Node> nodes_;
    std::vector<Way> ways_;
    std::vector<Relation> relations_;
    osmium::object_id_type next_node_ = 0;
    osmium::object_id_type next_way_ = 0;
    osmium::object_id_type next_relation_ = 0;
};

using Tag = std::pair<std::string, std::string>;

TEST(OsmPbfTest, EveryLayerIsDerivedFromTags) {
    TempDir dir;
    const auto path = dir.path() / "tiny.osm.pbf";
    const geo::CityGrid grid = small_test_grid();
    const ToGrid to_grid(grid.epsg);
    TinyPbf pbf(path);

    // Buildings: a closed way, a multipolygon relation of two open halves, and building=no.
    pbf.square_way(115.8105, 28.6905, 0.0002, Tag{"building", "yes"});
    const auto a = pbf.node(115.8203, 28.7003);
    const auto b = pbf.node(115.8207, 28.7003);
    const auto c = pbf.node(115.8207, 28.7007);
    const auto d = pbf.node(115.8203, 28.7007);
    const auto half1 = pbf.way({a, b, c});
    const auto half2 = pbf.way({c, d, a});
    pbf.multipolygon({half1, half2}, "building", "house");
    pbf.square_way(115.8305, 28.6905, 0.0002, Tag{"building", "no"});
    // Roads: one residential street; a platform is not a road.
    const std::pair<double, double> road0{115.8111, 28.6911};
    const std::pair<double, double> road1{115.8153, 28.6932};
    pbf.way({pbf.node(road0.first, road0.second), pbf.node(road1.first, road1.second)},
            Tag{"highway", "residential"});
    pbf.way({pbf.node(115.812, 28.70), pbf.node(115.813, 28.70)}, Tag{"highway", "platform"});
    // Waterways: a river; a ditch is not in {river, stream, canal, drain}.
    const std::pair<double, double> river0{115.8211, 28.6911};
    const std::pair<double, double> river1{115.8302, 28.6953};
    pbf.way({pbf.node(river0.first, river0.second), pbf.node(river1.first, river1.second)},
            Tag{"waterway", "river"});
    pbf.way({pbf.node(115.822, 28.71), pbf.node(115.823, 28.71)}, Tag{"waterway", "ditch"});
    // Water areas: a lake and a riverbank.
    const auto lake = pbf.square_way(115.8355, 28.7055, 0.0012, Tag{"natural", "water"});
    const auto bank = pbf.square_way(115.8405, 28.6955, 0.0004, Tag{"waterway", "riverbank"});
    // Natural: a tree, a wood polygon; a natural=water node is water, not natural.
    const auto tree = pbf.tagged_node(115.8425, 28.7025, "natural", "tree");
    pbf.square_way(115.8445, 28.7105, 0.0003, Tag{"natural", "wood"});
    pbf.tagged_node(115.8435, 28.7035, "natural", "water");
    // POIs: a cafe and a bakery inside, a cafe far outside the grid.
    pbf.tagged_node(115.8015, 28.6815, "amenity", "cafe");
    pbf.tagged_node(115.8016, 28.6816, "shop", "bakery");
    pbf.tagged_node(116.5, 29.5, "amenity", "cafe");
    (void)tree;
    pbf.write();

    core::NullProgress progress;
    const auto cond = osm::compute_osm_conditions(path, grid, progress);
    const auto expect_cell = [&](const NdArray<std::int32_t>& counts, double lon, double lat,
                                 std::int32_t n) {
        const auto [x, y] = to_grid(lon, lat);
        const long row = cell_of(grid.y_edges_m, y);
        const long col = cell_of(grid.x_edges_m, x);
        ASSERT_GE(row, 0);
        ASSERT_GE(col, 0);
        EXPECT_EQ(counts.at(static_cast<std::size_t>(row), static_cast<std::size_t>(col)), n);
    };

    EXPECT_EQ(total(cond.building_count), 2.0);
    expect_cell(cond.building_count, 115.8105, 28.6905, 1);
    expect_cell(cond.building_count, 115.8205, 28.7005, 1);

    const auto line_length = [&](std::pair<double, double> p, std::pair<double, double> q) {
        const auto [x0, y0] = to_grid(p.first, p.second);
        const auto [x1, y1] = to_grid(q.first, q.second);
        return std::hypot(x1 - x0, y1 - y0);
    };
    const double road_m = line_length(road0, road1);
    EXPECT_NEAR(total(cond.road_length_m), road_m, 1e-9 * road_m);
    const double river_m = line_length(river0, river1);
    EXPECT_NEAR(total(cond.waterway_length_m), river_m, 1e-9 * river_m);

    const double water_m2 = projected_area(to_grid, lake) + projected_area(to_grid, bank);
    EXPECT_NEAR(total(cond.water_area_m2), water_m2, 1e-9 * water_m2);
    EXPECT_GT(water_m2, 10000.0);

    EXPECT_EQ(total(cond.natural_count), 2.0);
    expect_cell(cond.natural_count, 115.8425, 28.7025, 1);
    EXPECT_EQ(total(cond.osm_poi_count), 2.0);
    expect_cell(cond.osm_poi_count, 115.8015, 28.6815, 2);
}

TEST(OsmPbfTest, UnreadablePbfIsAnErrorNamingTheFile) {
    TempDir dir;
    const auto path = dir.path() / "broken.osm.pbf";
    std::ofstream(path, std::ios::binary) << "this is not protobuf";
    core::NullProgress progress;
    try {
        (void)osm::compute_osm_conditions(path, small_test_grid(), progress);
        FAIL() << "expected zoomdiff::Error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("broken.osm.pbf"), std::string::npos) << e.what();
    }
}

// ---- Monaco: the real extract against an independent count -------------------------------------

/// Counts building areas (closed ways and multipolygons, building != no) whose area-weighted
/// centroid, computed here with the shoelace formula on the projected rings (not with GEOS),
/// falls in the grid under the half-open rule.
class IndependentBuildingCount : public osmium::handler::Handler {
public:
    IndependentBuildingCount(const geo::CityGrid& grid, const ToGrid& to_grid)
        : grid_(grid), to_grid_(to_grid) {}

    void area(const osmium::Area& area) {
        const char* building = area.tags()["building"];
        if (building == nullptr || std::strcmp(building, "no") == 0) {
            return;
        }
        double sum_a = 0;
        double sum_x = 0;
        double sum_y = 0;
        bool have_origin = false;
        double ox = 0;
        double oy = 0;
        const auto add_ring = [&](const osmium::NodeRefList& ring, double role) {
            std::vector<std::pair<double, double>> pts;
            for (const auto& nr : ring) {
                if (nr.location().valid()) {
                    pts.push_back(to_grid_(nr.location().lon(), nr.location().lat()));
                }
            }
            if (pts.size() < 4) {
                return;
            }
            if (!have_origin) {
                ox = pts[0].first;
                oy = pts[0].second;
                have_origin = true;
            }
            double a2 = 0;
            double cx6 = 0;
            double cy6 = 0;
            for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
                const double x0 = pts[i].first - ox;
                const double y0 = pts[i].second - oy;
                const double x1 = pts[i + 1].first - ox;
                const double y1 = pts[i + 1].second - oy;
                const double cross = x0 * y1 - x1 * y0;
                a2 += cross;
                cx6 += (x0 + x1) * cross;
                cy6 += (y0 + y1) * cross;
            }
            const double sign = (a2 < 0 ? -1.0 : 1.0) * role;  // outer +|A|, inner −|A|
            sum_a += sign * a2 / 2;
            sum_x += sign * cx6 / 6;
            sum_y += sign * cy6 / 6;
        };
        for (const auto& outer : area.outer_rings()) {
            add_ring(outer, 1.0);
            for (const auto& inner : area.inner_rings(outer)) {
                add_ring(inner, -1.0);
            }
        }
        if (!(sum_a > 0)) {
            ++degenerate;
            return;
        }
        const double x = ox + sum_x / sum_a;
        const double y = oy + sum_y / sum_a;
        if (cell_of(grid_.x_edges_m, x) >= 0 && cell_of(grid_.y_edges_m, y) >= 0) {
            ++inside;
        }
        ++seen;
    }

    long inside = 0;
    long seen = 0;
    long degenerate = 0;

private:
    const geo::CityGrid& grid_;
    const ToGrid& to_grid_;
};

TEST(OsmPbfTest, MonacoBuildingsMatchAnIndependentCount) {
    const auto pbf = test_data_dir() / "monaco_osm" / "monaco.osm.pbf";
    geo::BBoxDeg bbox;
    bbox.lon_min_deg = 7.40;
    bbox.lat_min_deg = 43.72;
    bbox.lon_max_deg = 7.44;
    bbox.lat_max_deg = 43.76;
    const geo::CityGrid grid = geo::CityGrid::from_bbox(bbox);
    core::NullProgress progress;
    const auto cond = osm::compute_osm_conditions(pbf, grid, progress);

    const ToGrid to_grid(grid.epsg);
    IndependentBuildingCount counter(grid, to_grid);
    {
        osmium::TagsFilter filter{false};
        filter.add_rule(true, osmium::TagMatcher{"building"});
        osmium::area::MultipolygonManager<osmium::area::Assembler> manager{
            osmium::area::Assembler::config_type{}, filter};
        const osmium::io::File input{pbf.string()};
        osmium::relations::read_relations(input, manager);
        using Index =
            osmium::index::map::FlexMem<osmium::unsigned_object_id_type, osmium::Location>;
        Index index;
        osmium::handler::NodeLocationsForWays<Index> locations{index};
        locations.ignore_errors();
        osmium::io::Reader reader{input};
        osmium::apply(reader, locations,
                      manager.handler([&counter](osmium::memory::Buffer&& buffer) {
                          osmium::apply(buffer, counter);
                      }));
        reader.close();
    }
    ASSERT_GT(counter.inside, 100);
    EXPECT_EQ(total(cond.building_count), static_cast<double>(counter.inside))
        << counter.seen << " building areas seen, " << counter.degenerate << " degenerate";
    EXPECT_GT(total(cond.road_length_m), 10000.0);
    EXPECT_GT(total(cond.osm_poi_count), 0.0);
}

}  // namespace
}  // namespace zoomdiff::test
