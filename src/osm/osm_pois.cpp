#include "zoomdiff/osm/osm_pois.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "geo/detail/gdal_util.hpp"
#include "osm/detail/ogr_layer.hpp"
#include "osm/detail/pbf_two_pass.hpp"
#include <cpl_error.h>
#include <gdal_priv.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>
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
#include <yaml-cpp/yaml.h>

#include "zoomdiff/core/embedded_configs.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/geo/binning.hpp"

namespace zoomdiff::osm {

namespace {

namespace fs = std::filesystem;

constexpr const char* kBuiltinSource = "built-in configs/osm_poi_crosswalk.yaml";
constexpr const char* kCrosswalkFix =
    "Fix the crosswalk (layout of configs/osm_poi_crosswalk.yaml; categories by the tag_en of "
    "configs/poi_categories.yaml).";
constexpr const char* kPointsLayer = "gis_osm_pois_free_1.shp";
constexpr const char* kAreasLayer = "gis_osm_pois_a_free_1.shp";
constexpr const char* kIgnoreKey = "ignore";

// Node locations for the area pass: FlexMem picks a sparse or dense array by the ids it sees.

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t");
    return std::string(text.substr(first, last - first + 1));
}

OsmTagTerm parse_term(std::string_view text, const std::string& rule, const std::string& source) {
    const auto eq = text.find('=');
    OsmTagTerm term;
    if (eq != std::string_view::npos) {
        term.key = trim(text.substr(0, eq));
        term.value = trim(text.substr(eq + 1));
    }
    if (eq == std::string_view::npos || term.key.empty() || term.value.empty()) {
        throw Error(source, "malformed rule '" + rule + "': expected key=value or key=*",
                    kCrosswalkFix);
    }
    term.any_value = term.value == "*";
    return term;
}

OsmPoiRule parse_rule(const std::string& text, std::optional<std::size_t> category,
                      const std::string& source) {
    OsmPoiRule rule;
    rule.text = text;
    rule.category = category;
    std::string_view rest(text);
    while (true) {
        const auto amp = rest.find('&');
        rule.terms.push_back(parse_term(rest.substr(0, amp), text, source));
        if (amp == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(amp + 1);
    }
    return rule;
}

std::vector<std::string> string_list(const YAML::Node& node, const std::string& where,
                                     const std::string& source) {
    if (!node.IsSequence()) {
        throw Error(source, where + " must be a list", kCrosswalkFix);
    }
    std::vector<std::string> out;
    for (const auto& item : node) {
        if (!item.IsScalar()) {
            throw Error(source, where + " holds a non-text entry", kCrosswalkFix);
        }
        out.push_back(item.as<std::string>());
    }
    return out;
}

std::size_t category_index(const std::string& name, const std::string& where,
                           const poi::PoiSchema& schema, const std::string& source) {
    const std::optional<std::size_t> k = schema.index_of(name);
    if (!k) {
        throw Error(
            source,
            where + ": unknown POI category '" + name + "' (not in " + schema.source() + ")",
            kCrosswalkFix);
    }
    return *k;
}

/// First rule whose terms all match; `get(key)` gives a tag's value or nullptr.
template <typename Lookup>
const OsmPoiRule* first_match(const std::vector<OsmPoiRule>& rules, const Lookup& get) {
    for (const auto& rule : rules) {
        const bool all = std::all_of(rule.terms.begin(), rule.terms.end(), [&](const auto& term) {
            const char* value = get(term.key);
            return value != nullptr &&
                   (term.any_value ? std::strcmp(value, "no") != 0 : term.value == value);
        });
        if (all) {
            return &rule;
        }
    }
    return nullptr;
}

/// Counts matched objects into a PoiCounts.
class Binner {
public:
    Binner(const geo::CityGrid& grid, std::size_t depth) : grid_(grid) {
        result_.counts = NdArray<std::int32_t>({grid.rows(), grid.cols(), depth}, 0);
        result_.category_present.assign(depth, false);
    }

    void add(std::size_t k, double lon_deg, double lat_deg) {
        ++result_.rows_read;
        ++result_.rows_kept;
        result_.category_present[k] = true;
        const auto col = geo::closed_bin(grid_.lon_edges_deg, lon_deg);
        const auto row = geo::closed_bin(grid_.lat_edges_deg, lat_deg);
        if (col && row) {
            ++result_.counts.at(*row, *col, k);
            ++result_.rows_counted;
        }
    }

    poi::PoiCounts& result() noexcept { return result_; }

private:
    const geo::CityGrid& grid_;
    poi::PoiCounts result_;
};

/// Centroid of an assembled area in degrees (planar in lon/lat, relative to its first vertex:
/// cells are small enough for that); the vertex mean for a degenerate polygon.
std::optional<osmium::Location> area_centroid(const osmium::Area& area) {
    double ref_lon = 0;
    double ref_lat = 0;
    bool have_ref = false;
    double sum_a = 0;
    double sum_x = 0;
    double sum_y = 0;
    double mean_x = 0;
    double mean_y = 0;
    std::size_t n = 0;
    const auto add_ring = [&](const osmium::NodeRefList& ring, double sign) {
        const osmium::NodeRef* prev = nullptr;
        double a = 0;
        double ax = 0;
        double ay = 0;
        for (const auto& node_ref : ring) {
            if (!node_ref.location().valid()) {
                continue;
            }
            if (!have_ref) {
                ref_lon = node_ref.location().lon();
                ref_lat = node_ref.location().lat();
                have_ref = true;
            }
            if (sign > 0) {
                mean_x += node_ref.location().lon() - ref_lon;
                mean_y += node_ref.location().lat() - ref_lat;
                ++n;
            }
            if (prev != nullptr) {
                const double x0 = prev->location().lon() - ref_lon;
                const double y0 = prev->location().lat() - ref_lat;
                const double x1 = node_ref.location().lon() - ref_lon;
                const double y1 = node_ref.location().lat() - ref_lat;
                const double cross = x0 * y1 - x1 * y0;
                a += cross;
                ax += (x0 + x1) * cross;
                ay += (y0 + y1) * cross;
            }
            prev = &node_ref;
        }
        // Whatever the ring's orientation: outer rings add, inner rings subtract.
        const double s = a < 0 ? -sign : sign;
        sum_a += s * a;
        sum_x += s * ax;
        sum_y += s * ay;
    };
    for (const auto& outer : area.outer_rings()) {
        add_ring(outer, 1.0);
        for (const auto& inner : area.inner_rings(outer)) {
            add_ring(inner, -1.0);
        }
    }
    if (n == 0) {
        return std::nullopt;
    }
    double x = mean_x / static_cast<double>(n);
    double y = mean_y / static_cast<double>(n);
    if (std::abs(sum_a) > 1e-18) {
        x = sum_x / (3.0 * sum_a);
        y = sum_y / (3.0 * sum_a);
    }
    return osmium::Location{ref_lon + x, ref_lat + y};
}

/// Tags → category through the crosswalk; nodes at their location, areas at their centroid.
class PoiHandler : public osmium::handler::Handler {
public:
    PoiHandler(const OsmPoiCrosswalk& crosswalk, Binner& binner)
        : crosswalk_(crosswalk), binner_(binner) {
        for (const auto& rule : crosswalk.tag_rules) {
            for (const auto& term : rule.terms) {
                keys_.insert(term.key);
            }
        }
    }

    void node(const osmium::Node& node) {
        if (const auto k = category(node.tags()); k && node.location().valid()) {
            binner_.add(*k, node.location().lon(), node.location().lat());
        }
    }

    void area(const osmium::Area& area) {
        const auto k = category(area.tags());
        if (!k) {
            return;
        }
        if (const auto c = area_centroid(area)) {
            binner_.add(*k, c->lon(), c->lat());
        } else {
            ++bad_areas_;
        }
    }

    [[nodiscard]] std::size_t bad_areas() const noexcept { return bad_areas_; }

private:
    std::optional<std::size_t> category(const osmium::TagList& tags) const {
        const bool relevant = std::any_of(tags.begin(), tags.end(), [&](const osmium::Tag& tag) {
            return keys_.count(tag.key()) > 0;
        });
        if (!relevant) {
            return std::nullopt;
        }
        const OsmPoiRule* rule = first_match(crosswalk_.tag_rules, [&](const std::string& key) {
            return tags.get_value_by_key(key.c_str());
        });
        return rule != nullptr ? rule->category : std::nullopt;
    }

    const OsmPoiCrosswalk& crosswalk_;
    Binner& binner_;
    std::unordered_set<std::string> keys_;
    std::size_t bad_areas_ = 0;
};

void read_pbf(const fs::path& pbf, const OsmPoiCrosswalk& crosswalk, Binner& binner,
              core::Progress& progress) {
    const std::string path = pbf.string();
    // Only objects with a key some rule names are assembled as areas.
    osmium::TagsFilter area_filter{false};
    std::unordered_set<std::string> keys;
    for (const auto& rule : crosswalk.tag_rules) {
        for (const auto& term : rule.terms) {
            if (keys.insert(term.key).second) {
                area_filter.add_rule(true, osmium::TagMatcher{term.key});
            }
        }
    }
    PoiHandler handler(crosswalk, binner);
    detail::read_pbf_two_pass(path, area_filter, handler, progress, "osm.pbf POIs");
    if (handler.bad_areas() > 0) {
        spdlog::warn("{}: {} POI areas without located nodes were skipped", path,
                     handler.bad_areas());
    }
}

void read_fclass_layer(const fs::path& layer_path, const OsmPoiCrosswalk& crosswalk, Binner& binner,
                       core::Progress& progress) {
    const std::string path = layer_path.string();
    const GDALDatasetUniquePtr dataset = detail::open_geofabrik_layer(layer_path);
    OGRLayer* layer = dataset->GetLayer(0);
    const int fclass_field = layer->GetLayerDefn()->GetFieldIndex("fclass");
    if (fclass_field < 0) {
        throw Error(path, "no `fclass` field", "Pass Geofabrik's free shapefile POI layers");
    }
    // A CRS other than WGS 84 is transformed; none means WGS 84 (Geofabrik's).
    std::unique_ptr<OGRCoordinateTransformation> to_wgs84;
    const OGRSpatialReference wgs84 = geo::detail::srs_from_epsg(4326);
    if (const OGRSpatialReference* srs = layer->GetSpatialRef();
        srs != nullptr && !srs->IsSame(&wgs84)) {
        OGRSpatialReference source_srs = *srs;
        source_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        to_wgs84 = geo::detail::make_transform(source_srs, wgs84, path);
    }
    const GIntBig total = layer->GetFeatureCount(TRUE);
    progress.start(layer_path.filename().string(),
                   total > 0 ? static_cast<std::uint64_t>(total) : 0, "features");
    std::size_t unmatched = 0;
    layer->ResetReading();
    geo::detail::GdalReadErrors read_errors;
    for (OGRFeatureUniquePtr feature = read_errors.next(*layer); feature;
         feature = read_errors.next(*layer)) {
        progress.advance();
        const auto it = crosswalk.fclass.find(feature->GetFieldAsString(fclass_field));
        const OGRGeometry* geometry = feature->GetGeometryRef();
        if (it == crosswalk.fclass.end()) {
            ++unmatched;
            continue;
        }
        if (geometry == nullptr || geometry->IsEmpty()) {
            continue;
        }
        OGRPoint point;
        if (wkbFlatten(geometry->getGeometryType()) == wkbPoint) {
            point = *geometry->toPoint();
        } else if (geometry->Centroid(&point) != OGRERR_NONE) {
            continue;
        }
        double x = point.getX();
        double y = point.getY();
        if (to_wgs84 && !to_wgs84->Transform(1, &x, &y)) {
            continue;
        }
        binner.add(it->second, x, y);
    }
    progress.finish();
    read_errors.throw_if_any(path, geo::detail::kVectorReadFix);
    spdlog::debug("{}: {} features with an fclass outside the crosswalk", path, unmatched);
}

}  // namespace

std::optional<std::size_t> OsmPoiCrosswalk::classify(
    const std::vector<std::pair<std::string, std::string>>& tags) const {
    const OsmPoiRule* rule = first_match(tag_rules, [&](const std::string& key) -> const char* {
        const auto it = std::find_if(tags.begin(), tags.end(),
                                     [&](const auto& tag) { return tag.first == key; });
        return it != tags.end() ? it->second.c_str() : nullptr;
    });
    return rule != nullptr ? rule->category : std::nullopt;
}

OsmPoiCrosswalk parse_osm_poi_crosswalk(std::string_view yaml_text, const std::string& source,
                                        const poi::PoiSchema& schema) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml_text));
    } catch (const YAML::Exception& e) {
        throw Error(source, std::string("not valid YAML (") + e.what() + ")", kCrosswalkFix);
    }
    OsmPoiCrosswalk crosswalk;
    crosswalk.source = source;
    try {
        const YAML::Node tags = root["osm_tags"];
        if (!tags || !tags.IsSequence()) {
            throw Error(source, "no `osm_tags` list", kCrosswalkFix);
        }
        for (std::size_t i = 0; i < tags.size(); ++i) {
            const YAML::Node entry = tags[i];
            const std::string where = "osm_tags[" + std::to_string(i) + "]";
            if (!entry.IsMap() || entry.size() != 1) {
                throw Error(source, where + " must be a one-key map: category → rules",
                            kCrosswalkFix);
            }
            const auto item = *entry.begin();
            const std::string name = item.first.as<std::string>();
            std::optional<std::size_t> category;
            if (name != kIgnoreKey) {
                category = category_index(name, where, schema, source);
            }
            for (const auto& text : string_list(item.second, where + " " + name, source)) {
                crosswalk.tag_rules.push_back(parse_rule(text, category, source));
            }
        }
        if (const YAML::Node fclass = root["geofabrik_fclass"]) {
            if (!fclass.IsMap()) {
                throw Error(source, "`geofabrik_fclass` must be a map: category → fclass values",
                            kCrosswalkFix);
            }
            for (const auto& item : fclass) {
                const std::string name = item.first.as<std::string>();
                const std::string where = "geofabrik_fclass " + name;
                const std::size_t k = category_index(name, where, schema, source);
                for (const auto& value : string_list(item.second, where, source)) {
                    if (!crosswalk.fclass.emplace(value, k).second) {
                        throw Error(source, "fclass '" + value + "' is listed twice",
                                    kCrosswalkFix);
                    }
                }
            }
        }
    } catch (const YAML::Exception& e) {
        throw Error(source, std::string("malformed crosswalk (") + e.what() + ")", kCrosswalkFix);
    }
    return crosswalk;
}

OsmPoiCrosswalk builtin_osm_poi_crosswalk(const poi::PoiSchema& schema) {
    return parse_osm_poi_crosswalk(core::embedded_config("osm_poi_crosswalk.yaml"), kBuiltinSource,
                                   schema);
}

poi::PoiCounts count_osm_pois(const std::filesystem::path& source, const geo::CityGrid& grid,
                              const poi::PoiSchema& schema, core::Progress& progress) {
    return count_osm_pois(source, grid, schema, builtin_osm_poi_crosswalk(schema), progress);
}

poi::PoiCounts count_osm_pois(const std::filesystem::path& source, const geo::CityGrid& grid,
                              const poi::PoiSchema& schema, const OsmPoiCrosswalk& crosswalk,
                              core::Progress& progress) {
    Binner binner(grid, schema.size());
    std::error_code ec;
    if (fs::is_directory(source, ec)) {
        const fs::path points = source / kPointsLayer;
        const fs::path areas = source / kAreasLayer;
        if (!fs::exists(points, ec)) {
            throw Error(points.string(), "Geofabrik POI layer not found",
                        "Put gis_osm_pois_free_1.shp (with .shx, .dbf, .prj) in the folder, or "
                        "pass an .osm.pbf file");
        }
        read_fclass_layer(points, crosswalk, binner, progress);
        binner.result().files_used.push_back(kPointsLayer);
        if (fs::exists(areas, ec)) {
            read_fclass_layer(areas, crosswalk, binner, progress);
            binner.result().files_used.push_back(kAreasLayer);
        }
    } else {
        if (!fs::is_regular_file(source, ec)) {
            throw Error(source.string(), "OSM file not found",
                        "Pass an .osm.pbf file or a Geofabrik shapefile folder");
        }
        read_pbf(source, crosswalk, binner, progress);
        binner.result().files_used.push_back(source.filename().string());
    }
    std::sort(binner.result().files_used.begin(), binner.result().files_used.end());

    poi::PoiCounts& result = binner.result();
    std::string absent;
    std::size_t absent_count = 0;
    for (std::size_t k = 0; k < schema.size(); ++k) {
        if (!result.category_present[k]) {
            absent += (absent.empty() ? "" : ", ") + schema.at(k).tag_en;
            ++absent_count;
        }
    }
    if (absent_count > 0) {
        spdlog::warn("{}: no OSM objects for {} of {} POI categories; their channels are zero: {}",
                     source.string(), absent_count, schema.size(), absent);
    }
    spdlog::debug("{}: {} OSM POIs matched, {} counted in the grid", source.string(),
                  result.rows_read, result.rows_counted);
    return std::move(result);
}

}  // namespace zoomdiff::osm
