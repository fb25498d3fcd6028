#include "osm/detail/layer_rules.hpp"

#include <string>

#include <yaml-cpp/yaml.h>

#include "zoomdiff/core/embedded_configs.hpp"
#include "zoomdiff/core/error.hpp"

namespace zoomdiff::osm::detail {

namespace {

constexpr std::array<std::string_view, kTargetCount> kTargetNames{
    "building_count", "road_length_m", "waterway_length_m",
    "water_area_m2",  "natural_count", "osm_poi_count"};

constexpr std::string_view kConfigName = "osm_layers.yaml";

[[noreturn]] void malformed(const std::string& problem) {
    throw Error(std::string(kConfigName), problem, "Fix configs/osm_layers.yaml and rebuild.",
                ExitCode::kInternal);
}

std::vector<TagRule> parse_rules(const YAML::Node& list, const std::string& where) {
    std::vector<TagRule> rules;
    if (!list) {
        return rules;
    }
    if (!list.IsSequence()) {
        malformed(where + " must be a list of {key, values, except}");
    }
    for (const auto& item : list) {
        TagRule rule;
        if (!item["key"] || !item["values"] || !item["values"].IsSequence()) {
            malformed(where + ": every rule needs `key` and a `values` list");
        }
        rule.key = item["key"].as<std::string>();
        for (const auto& v : item["values"]) {
            const auto value = v.as<std::string>();
            if (value == "*") {
                rule.any_value = true;
            } else {
                rule.values.insert(value);
            }
        }
        if (item["except"]) {
            for (const auto& v : item["except"]) {
                rule.except.insert(v.as<std::string>());
            }
        }
        rules.push_back(std::move(rule));
    }
    return rules;
}

}  // namespace

std::string_view target_name(Target target) {
    return kTargetNames.at(static_cast<std::size_t>(target));
}

TargetKind target_kind(Target target) {
    switch (target) {
        case Target::kRoadLength:
        case Target::kWaterwayLength:
            return TargetKind::kLength;
        case Target::kWaterArea:
            return TargetKind::kArea;
        case Target::kBuildingCount:
        case Target::kNaturalCount:
        case Target::kPoiCount:
            break;
    }
    return TargetKind::kCount;
}

bool TagRule::matches_value(std::string_view value) const {
    if (except.find(value) != except.end()) {
        return false;
    }
    return any_value || values.find(value) != values.end();
}

LayerRules parse_layer_rules(std::string_view yaml_text) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml_text));
    } catch (const YAML::Exception& e) {
        malformed(std::string("not valid YAML (") + e.what() + ")");
    }
    LayerRules rules;
    try {
        for (std::size_t t = 0; t < kTargetCount; ++t) {
            const std::string name(kTargetNames[t]);
            const YAML::Node layers = root["shapefile_layers"][name];
            if (!layers || !layers.IsSequence() || layers.size() == 0) {
                malformed("shapefile_layers." + name + " must list at least one layer");
            }
            for (const auto& layer : layers) {
                rules.shapefile_layers[t].push_back(layer.as<std::string>());
            }
            const YAML::Node pbf = root["pbf_rules"][name];
            if (!pbf) {
                malformed("pbf_rules." + name + " is missing");
            }
            rules.pbf[t].nodes = parse_rules(pbf["nodes"], "pbf_rules." + name + ".nodes");
            rules.pbf[t].ways = parse_rules(pbf["ways"], "pbf_rules." + name + ".ways");
            rules.pbf[t].areas = parse_rules(pbf["areas"], "pbf_rules." + name + ".areas");
        }
    } catch (const YAML::Exception& e) {
        malformed(std::string("unexpected structure (") + e.what() + ")");
    }
    return rules;
}

LayerRules load_layer_rules() {
    return parse_layer_rules(core::embedded_config(kConfigName));
}

}  // namespace zoomdiff::osm::detail
