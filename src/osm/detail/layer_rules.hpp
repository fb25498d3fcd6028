#pragma once

#include <array>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace zoomdiff::osm::detail {

/// The six arrays of OsmConditions, in their declaration order.
enum class Target : std::size_t {
    kBuildingCount,
    kRoadLength,
    kWaterwayLength,
    kWaterArea,
    kNaturalCount,
    kPoiCount,
};
inline constexpr std::size_t kTargetCount = 6;

/// What an array accumulates.
enum class TargetKind { kCount, kLength, kArea };

/// YAML key of a target ("building_count").
std::string_view target_name(Target target);
TargetKind target_kind(Target target);

/// One pbf tag rule: the object has `key`, its value is in `values` (or any value when
/// `any_value`) and not in `except`.
struct TagRule {
    std::string key;
    bool any_value = false;
    std::set<std::string, std::less<>> values;
    std::set<std::string, std::less<>> except;

    [[nodiscard]] bool matches_value(std::string_view value) const;
};

/// Rules for one target, by OSM object kind.
struct PbfRules {
    std::vector<TagRule> nodes;
    std::vector<TagRule> ways;
    std::vector<TagRule> areas;
};

/// configs/osm_layers.yaml, compiled once before any read loop (STYLE §2.8).
struct LayerRules {
    /// Geofabrik layer names (file stem, no `.shp`) per target.
    std::array<std::vector<std::string>, kTargetCount> shapefile_layers;
    std::array<PbfRules, kTargetCount> pbf;
};

/// Parses configs/osm_layers.yaml as embedded in the library. Throws zoomdiff::Error (internal)
/// if the file is malformed.
LayerRules load_layer_rules();

/// Parses YAML text of the same schema (tests).
LayerRules parse_layer_rules(std::string_view yaml_text);

}  // namespace zoomdiff::osm::detail
