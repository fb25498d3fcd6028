// An OSM boundary relation, picked by its tags and assembled into a multipolygon with libosmium
// (PIPELINE §6, boundary row).
#include "zoomdiff/osm/osm_boundary.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "geo/detail/gdal_util.hpp"
#include <fmt/format.h>
#include <ogr_geometry.h>
#include <osmium/area/assembler.hpp>
#include <osmium/area/multipolygon_manager.hpp>
#include <osmium/area/problem_reporter.hpp>
#include <osmium/handler.hpp>
#include <osmium/handler/node_locations_for_ways.hpp>
#include <osmium/index/map/flex_mem.hpp>
#include <osmium/io/any_input.hpp>
#include <osmium/osm/area.hpp>
#include <osmium/tags/tags_filter.hpp>
#include <osmium/visitor.hpp>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::osm {
namespace {

using Tag = std::pair<std::string, std::string>;
using LocationIndex =
    osmium::index::map::FlexMem<osmium::unsigned_object_id_type, osmium::Location>;
using LocationHandler = osmium::handler::NodeLocationsForWays<LocationIndex>;

constexpr std::size_t kListedRelations = 10;

std::vector<Tag> parse_filter(const std::string& filter, const std::string& subject) {
    const auto fix =
        "Write the OSM filter as key=value pairs separated by commas, e.g. "
        "admin_level=8,name=Monaco.";
    std::vector<Tag> tags;
    std::size_t start = 0;
    while (start <= filter.size()) {
        const std::size_t comma = std::min(filter.find(',', start), filter.size());
        const std::string part = filter.substr(start, comma - start);
        const std::size_t eq = part.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw Error(subject, "OSM filter '" + filter + "': '" + part + "' is not key=value",
                        fix);
        }
        tags.emplace_back(part.substr(0, eq), part.substr(eq + 1));
        start = comma + 1;
    }
    return tags;
}

/// A relation seen in the first pass: what an error message shows of it.
struct RelationInfo {
    osmium::object_id_type id = 0;
    std::string name;
    std::string admin_level;
    std::string type;
    std::size_t filter_tag_count = 0;  ///< how many of the filter's tags it carries

    [[nodiscard]] std::string describe() const {
        return fmt::format("r{} admin_level={} name={}", id,
                           admin_level.empty() ? "-" : admin_level, name.empty() ? "-" : name);
    }
};

/// First pass: relations carrying every tag of the filter, and the boundary relations of the
/// file (for the error message when nothing matches).
class RelationScanner : public osmium::handler::Handler {
public:
    explicit RelationScanner(const std::vector<Tag>& filter) : filter_(filter) {}

    void relation(const osmium::Relation& relation) {
        const auto& tags = relation.tags();
        const auto value = [&](const char* key) {
            const char* v = tags.get_value_by_key(key);
            return std::string(v != nullptr ? v : "");
        };
        RelationInfo info{relation.id(), value("name"), value("admin_level"), value("type")};
        info.filter_tag_count = std::count_if(filter_.begin(), filter_.end(), [&](const Tag& tag) {
            const char* v = tags.get_value_by_key(tag.first.c_str());
            return v != nullptr && tag.second == v;
        });
        if (info.filter_tag_count == filter_.size()) {
            matched.push_back(info);
        }
        if (tags.has_tag("boundary", "administrative") || info.type == "boundary") {
            boundaries.push_back(std::move(info));
        }
    }

    /// What an error lists when nothing matches: the boundary relations carrying most of the
    /// filter's tags first (then in file order), at most kListedRelations of them.
    [[nodiscard]] std::string closest_boundaries() const {
        std::vector<RelationInfo> sorted = boundaries;
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const RelationInfo& a, const RelationInfo& b) {
                             return a.filter_tag_count > b.filter_tag_count;
                         });
        std::vector<std::string> listed;
        for (std::size_t i = 0; i < std::min(sorted.size(), kListedRelations); ++i) {
            listed.push_back(sorted[i].describe());
        }
        if (listed.empty()) {
            return "no boundary relations in the file";
        }
        return fmt::format("{} boundary relations in the file; {}{}", sorted.size(),
                           sorted.size() > kListedRelations ? "closest to the filter: " : "",
                           fmt::join(listed, "; "));
    }

    std::vector<RelationInfo> matched;
    std::vector<RelationInfo> boundaries;  ///< boundary=administrative or type=boundary, file order

private:
    const std::vector<Tag>& filter_;
};

/// Records the rings that do not close, per relation.
class RingProblems : public osmium::area::ProblemReporter {
public:
    void report_ring_not_closed(const osmium::NodeRef& nr, const osmium::Way* /*way*/) override {
        if (m_object_type == osmium::item_type::relation) {
            open_ring_nodes[m_object_id].push_back(nr.ref());
        }
    }

    std::map<osmium::object_id_type, std::vector<osmium::object_id_type>> open_ring_nodes;
};

std::unique_ptr<OGRLinearRing> to_ogr_ring(const osmium::NodeRefList& ring) {
    auto out = std::make_unique<OGRLinearRing>();
    out->setNumPoints(static_cast<int>(ring.size()), FALSE);
    int i = 0;
    for (const auto& node : ring) {
        out->setPoint(i++, node.location().lon(), node.location().lat());
    }
    return out;
}

/// The area as an OGR MultiPolygon in WGS 84: each outer ring with its inner rings as holes.
std::unique_ptr<OGRMultiPolygon> to_ogr(const osmium::Area& area) {
    auto multi = std::make_unique<OGRMultiPolygon>();
    for (const auto& outer : area.outer_rings()) {
        OGRPolygon polygon;
        polygon.addRingDirectly(to_ogr_ring(outer).release());
        for (const auto& inner : area.inner_rings(outer)) {
            polygon.addRingDirectly(to_ogr_ring(inner).release());
        }
        multi->addGeometry(&polygon);
    }
    return multi;
}

}  // namespace

namespace {

using Manager = osmium::area::MultipolygonManager<osmium::area::Assembler>;

/// The one relation of pass 1 that carries every tag of the filter, of type boundary or
/// multipolygon; none, several or another type is one clear error.
RelationInfo choose_relation(const RelationScanner& scanner, const std::string& osm_filter,
                             const std::string& subject) {
    if (scanner.matched.empty()) {
        throw Error(subject,
                    fmt::format("no relation carries all of '{}' ({})", osm_filter,
                                scanner.closest_boundaries()),
                    "Pick the tags of one relation listed, e.g. admin_level=<level>,name=<name>.");
    }
    if (scanner.matched.size() > 1) {
        std::vector<std::string> found;
        for (const auto& r : scanner.matched) {
            found.push_back(r.describe());
        }
        throw Error(
            subject,
            fmt::format("{} relations carry all of '{}': {}", scanner.matched.size(), osm_filter,
                        fmt::join(found, "; ")),
            "Add tags to the OSM filter (name=, admin_level=, ref=) until one relation is left.");
    }
    RelationInfo chosen = scanner.matched.front();
    if (chosen.type != "boundary" && chosen.type != "multipolygon") {
        throw Error(subject,
                    fmt::format("relation {} has type={}, not a boundary or multipolygon",
                                chosen.describe(), chosen.type.empty() ? "(none)" : chosen.type),
                    "Filter for a type=boundary (or type=multipolygon) relation.");
    }
    return chosen;
}

/// Pass 2's result for the chosen relation: complete, closed rings, a polygon.
void check_assembled(Manager& manager, const RingProblems& problems, const RelationInfo& chosen,
                     bool assembled, const OGRMultiPolygon* geometry, const std::string& subject) {
    bool incomplete = false;
    manager.for_each_incomplete_relation([&](const osmium::relations::RelationHandle& handle) {
        incomplete = incomplete || handle->id() == chosen.id;
    });
    if (incomplete) {
        throw Error(
            subject,
            fmt::format("relation {}: member ways are missing from the file", chosen.describe()),
            "Use an extract that holds the whole boundary (osmium extract --strategy "
            "complete_ways, "
            "or osmium getid -r).");
    }
    const auto open = problems.open_ring_nodes.find(chosen.id);
    if (open != problems.open_ring_nodes.end()) {
        throw Error(
            subject,
            fmt::format("relation {}: {} ring end(s) do not close (at nodes {})", chosen.describe(),
                        open->second.size(), fmt::join(open->second, ", ")),
            "Repair the relation in OSM or use an extract that holds all its member ways and "
            "nodes.");
    }
    if (!assembled || !geometry || geometry->IsEmpty()) {
        throw Error(subject,
                    fmt::format("relation {}: no polygon could be assembled", chosen.describe()),
                    "Check the relation's member ways and roles (outer/inner) in OSM.");
    }
}

}  // namespace

geo::CityBoundary find_osm_boundary(const std::filesystem::path& pbf,
                                    const std::string& osm_filter) {
    const std::string subject = pbf.string();
    if (!std::filesystem::exists(pbf)) {
        throw Error(subject, "OSM file not found",
                    "Pass the .osm.pbf that holds the boundary relation.");
    }
    const std::vector<Tag> filter = parse_filter(osm_filter, subject);
    const osmium::io::File input{pbf.string()};

    // Pass 1: relations only. The scanner picks the relation; the manager keeps the
    // multipolygon/boundary relations that carry the filter's tags, with their member ways.
    RelationScanner scanner{filter};
    osmium::TagsFilter tags_filter{false};
    for (const auto& [key, value] : filter) {
        tags_filter.add_rule(true, key, value);
    }
    RingProblems problems;
    osmium::area::Assembler::config_type config;
    config.problem_reporter = &problems;
    Manager manager{config, tags_filter};
    try {
        osmium::io::Reader reader{input, osmium::osm_entity_bits::relation};
        osmium::apply(reader, scanner, manager);
        reader.close();
    } catch (const std::exception& e) {
        throw Error(subject, std::string("cannot read the OSM file: ") + e.what(),
                    "Pass a valid .osm.pbf (osmium fileinfo checks it).");
    }
    manager.prepare_for_lookup();

    const RelationInfo chosen = choose_relation(scanner, osm_filter, subject);

    // Pass 2: every object; node locations go into the ways, the manager assembles the areas.
    LocationIndex index;
    LocationHandler locations{index};
    locations.ignore_errors();  // member ways of other relations may lack nodes in an extract
    std::unique_ptr<OGRMultiPolygon> geometry;
    bool assembled = false;
    try {
        osmium::io::Reader reader{input};
        osmium::apply(reader, locations, manager.handler([&](osmium::memory::Buffer&& buffer) {
            for (const auto& area : buffer.select<osmium::Area>()) {
                if (!area.from_way() && area.orig_id() == chosen.id) {
                    assembled = true;
                    geometry = to_ogr(area);
                }
            }
        }));
        reader.close();
    } catch (const std::exception& e) {
        throw Error(subject, std::string("cannot read the OSM file: ") + e.what(),
                    "Pass a valid .osm.pbf (osmium fileinfo checks it).");
    }

    check_assembled(manager, problems, chosen, assembled, geometry.get(), subject);
    return geo::detail::boundary_of(*geometry, chosen.name, chosen.id);
}

}  // namespace zoomdiff::osm
