#include "osm/detail/pbf_source.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "geo/detail/gdal_util.hpp"
#include "osm/detail/pbf_two_pass.hpp"
#include <ogr_spatialref.h>
#include <osmium/area/assembler.hpp>
#include <osmium/area/multipolygon_manager.hpp>
#include <osmium/handler.hpp>
#include <osmium/handler/node_locations_for_ways.hpp>
#include <osmium/index/map/flex_mem.hpp>
#include <osmium/io/any_input.hpp>
#include <osmium/relations/manager_util.hpp>
#include <osmium/tags/tags_filter.hpp>
#include <osmium/visitor.hpp>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::osm::detail {

namespace {

// The degree prefilter box is the grid box transformed to WGS 84 and enlarged by this fraction of
// its size on every side; it only has to be conservative (exact tests are done in metres).
constexpr double kPrefilterMarginFraction = 0.1;

// Node locations: FlexMem switches between a sparse and a dense in-memory array by the node ids
// it sees, the choice libosmium's examples recommend when the input size is not known.

struct CtDeleter {
    void operator()(OGRCoordinateTransformation* ct) const noexcept {
        OGRCoordinateTransformation::DestroyCT(ct);
    }
};

using CtPtr = std::unique_ptr<OGRCoordinateTransformation, CtDeleter>;

bool matches_any(const osmium::TagList& tags, const std::vector<TagRule>& rules) {
    for (const auto& rule : rules) {
        const char* value = tags.get_value_by_key(rule.key.c_str());
        if (value != nullptr && rule.matches_value(value)) {
            return true;
        }
    }
    return false;
}

/// Small handler: tags → targets, locations → UTM → the shared accumulators.
class ConditionHandler : public osmium::handler::Handler {
public:
    ConditionHandler(const LayerRules& rules, CellAccumulator& accumulator,
                     const std::array<LayerSink, kTargetCount>& sinks,
                     OGRCoordinateTransformation& to_grid, const osmium::Box& box_deg)
        : rules_(rules),
          accumulator_(accumulator),
          sinks_(sinks),
          to_grid_(to_grid),
          box_deg_(box_deg),
          ctx_(accumulator.geos().handle()) {}

    void node(const osmium::Node& node) {
        if (node.tags().empty() || !node.location().valid() ||
            !box_deg_.contains(node.location())) {
            return;
        }
        bool projected = false;
        double x = 0;
        double y = 0;
        for (std::size_t t = 0; t < kTargetCount; ++t) {
            if (rules_.pbf[t].nodes.empty() || !matches_any(node.tags(), rules_.pbf[t].nodes)) {
                continue;
            }
            if (!projected) {
                x = node.location().lon();
                y = node.location().lat();
                if (!to_grid_.Transform(1, &x, &y)) {
                    return;
                }
                projected = true;
            }
            if (sinks_[t].counts != nullptr) {
                accumulator_.count_point(x, y, *sinks_[t].counts);
            }
        }
    }

    void way(const osmium::Way& way) {
        if (way.tags().empty()) {
            return;
        }
        GeomPtr line;
        for (std::size_t t = 0; t < kTargetCount; ++t) {
            if (rules_.pbf[t].ways.empty() || !matches_any(way.tags(), rules_.pbf[t].ways)) {
                continue;
            }
            if (!line) {
                line = make_line(way);
                if (!line) {
                    return;
                }
            }
            if (sinks_[t].values != nullptr) {
                accumulator_.add_length(line.get(), *sinks_[t].values);
            }
        }
    }

    void area(const osmium::Area& area) {
        if (area.tags().empty()) {
            return;
        }
        GeomPtr polygon;
        for (std::size_t t = 0; t < kTargetCount; ++t) {
            if (rules_.pbf[t].areas.empty() || !matches_any(area.tags(), rules_.pbf[t].areas)) {
                continue;
            }
            if (!polygon) {
                const osmium::Box env = area.envelope();
                if (!env.valid() || !overlaps(env)) {
                    return;
                }
                polygon = make_multipolygon(area);
                if (!polygon) {
                    return;
                }
            }
            if (sinks_[t].kind == TargetKind::kCount) {
                accumulator_.count_centroid(polygon.get(), *sinks_[t].counts);
            } else if (sinks_[t].kind == TargetKind::kArea) {
                accumulator_.add_area(polygon.get(), *sinks_[t].values);
            }
        }
    }

    [[nodiscard]] std::size_t bad_geometries() const noexcept { return bad_geometries_; }

private:
    bool overlaps(const osmium::Box& env) const {
        return env.bottom_left().lon() <= box_deg_.top_right().lon() &&
               env.top_right().lon() >= box_deg_.bottom_left().lon() &&
               env.bottom_left().lat() <= box_deg_.top_right().lat() &&
               env.top_right().lat() >= box_deg_.bottom_left().lat();
    }

    /// Projected coordinates of the valid locations of `nodes` into xs_/ys_; false on failure.
    bool project(const osmium::NodeRefList& nodes) {
        xs_.clear();
        ys_.clear();
        for (const auto& node_ref : nodes) {
            if (node_ref.location().valid()) {
                xs_.push_back(node_ref.location().lon());
                ys_.push_back(node_ref.location().lat());
            }
        }
        return !xs_.empty() &&
               to_grid_.Transform(static_cast<int>(xs_.size()), xs_.data(), ys_.data()) != 0;
    }

    GEOSCoordSequence* sequence() {
        GEOSCoordSequence* seq =
            GEOSCoordSeq_create_r(ctx_, static_cast<unsigned int>(xs_.size()), 2);
        for (std::size_t i = 0; i < xs_.size(); ++i) {
            GEOSCoordSeq_setXY_r(ctx_, seq, static_cast<unsigned int>(i), xs_[i], ys_[i]);
        }
        return seq;
    }

    GeomPtr make_line(const osmium::Way& way) {
        const osmium::Box env = way.envelope();
        if (!env.valid() || !overlaps(env)) {
            return nullptr;
        }
        if (!project(way.nodes()) || xs_.size() < 2) {
            ++bad_geometries_;
            return nullptr;
        }
        GeomPtr line =
            make_geom(accumulator_.geos(), GEOSGeom_createLineString_r(ctx_, sequence()));
        if (!line) {
            ++bad_geometries_;
        }
        return line;
    }

    GeomPtr make_ring(const osmium::NodeRefList& ring) {
        if (!project(ring) || xs_.size() < 4) {
            return nullptr;
        }
        return make_geom(accumulator_.geos(), GEOSGeom_createLinearRing_r(ctx_, sequence()));
    }

    GeomPtr make_multipolygon(const osmium::Area& area) {
        std::vector<GEOSGeometry*> polygons;
        auto release_all = [&] {
            for (GEOSGeometry* p : polygons) {
                GEOSGeom_destroy_r(ctx_, p);
            }
        };
        for (const auto& outer : area.outer_rings()) {
            GeomPtr shell = make_ring(outer);
            if (!shell) {
                continue;
            }
            std::vector<GEOSGeometry*> holes;
            for (const auto& inner : area.inner_rings(outer)) {
                if (GeomPtr hole = make_ring(inner)) {
                    holes.push_back(hole.release());
                }
            }
            GEOSGeometry* polygon = GEOSGeom_createPolygon_r(
                ctx_, shell.release(), holes.data(), static_cast<unsigned int>(holes.size()));
            if (polygon != nullptr) {
                polygons.push_back(polygon);
            }
        }
        if (polygons.empty()) {
            ++bad_geometries_;
            return nullptr;
        }
        GEOSGeometry* multi = GEOSGeom_createCollection_r(
            ctx_, GEOS_MULTIPOLYGON, polygons.data(), static_cast<unsigned int>(polygons.size()));
        if (multi == nullptr) {
            release_all();
            ++bad_geometries_;
        }
        return make_geom(accumulator_.geos(), multi);
    }

    const LayerRules& rules_;
    CellAccumulator& accumulator_;
    const std::array<LayerSink, kTargetCount>& sinks_;
    OGRCoordinateTransformation& to_grid_;
    osmium::Box box_deg_;
    GEOSContextHandle_t ctx_;
    std::vector<double> xs_;
    std::vector<double> ys_;
    std::size_t bad_geometries_ = 0;
};

}  // namespace

void accumulate_pbf(const std::filesystem::path& pbf_path, const geo::CityGrid& grid,
                    const LayerRules& rules, CellAccumulator& accumulator,
                    const std::array<LayerSink, kTargetCount>& sinks, core::Progress& progress) {
    const std::string path = pbf_path.string();
    const OGRSpatialReference wgs84 = geo::detail::srs_from_epsg(4326);
    const OGRSpatialReference grid_srs = geo::detail::srs_from_epsg(grid.epsg);
    CtPtr to_grid(OGRCreateCoordinateTransformation(&wgs84, &grid_srs));
    CtPtr to_wgs84(OGRCreateCoordinateTransformation(&grid_srs, &wgs84));
    if (!to_grid || !to_wgs84) {
        throw Error("EPSG:" + std::to_string(grid.epsg), "no transformation from WGS 84",
                    "Check the PROJ installation", ExitCode::kInternal);
    }
    const EnvelopeM& box_m = accumulator.grid_box();
    double lon_min = 0;
    double lat_min = 0;
    double lon_max = 0;
    double lat_max = 0;
    if (!to_wgs84->TransformBounds(box_m.x_min_m, box_m.y_min_m, box_m.x_max_m, box_m.y_max_m,
                                   &lon_min, &lat_min, &lon_max, &lat_max, 21)) {
        throw Error("EPSG:" + std::to_string(grid.epsg), "cannot transform the grid box to WGS 84",
                    "Check the grid's bounding box", ExitCode::kInternal);
    }
    const double dlon = (lon_max - lon_min) * kPrefilterMarginFraction;
    const double dlat = (lat_max - lat_min) * kPrefilterMarginFraction;
    osmium::Box box_deg;
    box_deg.extend(
        osmium::Location{std::max(-180.0, lon_min - dlon), std::max(-90.0, lat_min - dlat)});
    box_deg.extend(
        osmium::Location{std::min(180.0, lon_max + dlon), std::min(90.0, lat_max + dlat)});

    // Only areas some rule asks for are assembled.
    osmium::TagsFilter area_filter{false};
    for (const auto& target_rules : rules.pbf) {
        for (const auto& rule : target_rules.areas) {
            area_filter.add_rule(true, osmium::TagMatcher{rule.key});
        }
    }
    ConditionHandler handler(rules, accumulator, sinks, *to_grid, box_deg);
    const std::size_t repaired_before = accumulator.repaired_count();
    read_pbf_two_pass(path, area_filter, handler, progress, "osm.pbf");
    if (handler.bad_geometries() > 0) {
        spdlog::warn("{}: {} ways or areas without enough located nodes were skipped", path,
                     handler.bad_geometries());
    }
    if (const std::size_t repaired = accumulator.repaired_count() - repaired_before; repaired > 0) {
        spdlog::warn("{}: {} invalid polygons were repaired with GEOSMakeValid before clipping",
                     path, repaired);
    }
}

}  // namespace zoomdiff::osm::detail
