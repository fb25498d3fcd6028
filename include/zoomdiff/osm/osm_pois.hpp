#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/poi/poi_counts.hpp"
#include "zoomdiff/poi/poi_schema.hpp"

namespace zoomdiff::osm {

/// One `key=value` (or `key=*`: any value but "no") condition of a crosswalk rule.
struct OsmTagTerm {
    std::string key;
    std::string value;  ///< ignored when `any_value`
    bool any_value = false;
};

/// One crosswalk rule: all terms must match. `category` is the schema channel, or nullopt for an
/// `ignore` rule (the object is not counted).
struct OsmPoiRule {
    std::vector<OsmTagTerm> terms;
    std::optional<std::size_t> category;
    std::string text;  ///< the rule as written, for messages
};

/// The OSM → POI-category crosswalk (configs/osm_poi_crosswalk.yaml), resolved against a schema.
struct OsmPoiCrosswalk {
    /// Tag rules in priority order: the first matching rule decides.
    std::vector<OsmPoiRule> tag_rules;
    /// Geofabrik `fclass` value → schema channel.
    std::unordered_map<std::string, std::size_t> fclass;
    /// Where the crosswalk came from (for messages).
    std::string source;

    /// Channel of an object with these tags: the first rule that matches; nullopt if none does or
    /// that rule is an `ignore` rule.
    [[nodiscard]] std::optional<std::size_t> classify(
        const std::vector<std::pair<std::string, std::string>>& tags) const;
};

/// Parse crosswalk YAML text (layout of configs/osm_poi_crosswalk.yaml); `source` names it in
/// errors. Throws zoomdiff::Error naming `source` for malformed YAML, a malformed rule, a category
/// the schema does not know, or an fclass listed under two categories.
OsmPoiCrosswalk parse_osm_poi_crosswalk(std::string_view yaml_text, const std::string& source,
                                        const poi::PoiSchema& schema);

/// The built-in crosswalk (configs/osm_poi_crosswalk.yaml, embedded at build time).
OsmPoiCrosswalk builtin_osm_poi_crosswalk(const poi::PoiSchema& schema);

/// POI counts per 100 m cell in the fixed schema's categories, from OSM tags through the crosswalk
/// (configs/osm_poi_crosswalk.yaml): nodes and areas (at their centroid) of an .osm.pbf, or the
/// pois (+ pois_a) layers of a Geofabrik shapefile folder by `fclass`. Binned with the POI rule on
/// the degree edges (closed at the last edge), like the POI tables.
///
/// `source` is an .osm.pbf file (any format libosmium reads), or a folder holding
/// gis_osm_pois_free_1.shp and optionally gis_osm_pois_a_free_1.shp. Results: category_present =
/// the category got at least one object anywhere in the source; rows_read = objects matched by a
/// category rule (rows_kept the same); rows_counted = those inside the grid; files_used = the file
/// names read. Throws zoomdiff::Error naming the file for a missing or unreadable source.
poi::PoiCounts count_osm_pois(const std::filesystem::path& source, const geo::CityGrid& grid,
                              const poi::PoiSchema& schema, core::Progress& progress);

/// Same, with an explicit crosswalk (resolved against `schema`).
poi::PoiCounts count_osm_pois(const std::filesystem::path& source, const geo::CityGrid& grid,
                              const poi::PoiSchema& schema, const OsmPoiCrosswalk& crosswalk,
                              core::Progress& progress);

}  // namespace zoomdiff::osm
