#include "zoomdiff/poi/poi_schema.hpp"

#include <cstddef>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "zoomdiff/core/embedded_configs.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/text_file.hpp"

namespace zoomdiff::poi {
namespace {

constexpr std::size_t kExcludedIndex = std::numeric_limits<std::size_t>::max();
constexpr const char* kSchemaFix =
    "Fix the schema file; its layout is that of configs/poi_categories.yaml.";

// Loose key: ASCII letters lower-cased, ASCII digits kept, other ASCII (spaces, '_', '-', '&',
// punctuation) dropped; non-ASCII bytes (Chinese names) kept as they are.
std::string loose_key(std::string_view name) {
    std::string key;
    key.reserve(name.size());
    for (const char ch : name) {
        const auto byte = static_cast<unsigned char>(ch);
        if (byte >= 0x80 || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z')) {
            key += ch;
        } else if (ch >= 'A' && ch <= 'Z') {
            key += static_cast<char>(ch - 'A' + 'a');
        }
    }
    return key;
}

// Index of a name: exactly as written first, then by loose key; nullopt if unknown.
std::optional<std::size_t> lookup(const std::unordered_map<std::string, std::size_t>& exact,
                                  const std::unordered_map<std::string, std::size_t>& loose,
                                  std::string_view name) {
    if (const auto it = exact.find(std::string(name)); it != exact.end()) {
        return it->second;
    }
    const std::string key = loose_key(name);
    if (const auto it = loose.find(key); !key.empty() && it != loose.end()) {
        return it->second;
    }
    return std::nullopt;
}

std::string display_name(const PoiCategory& c) {
    return !c.name_cn.empty() ? c.name_cn : !c.tag_en.empty() ? c.tag_en : c.name_en;
}

void add_name(std::unordered_map<std::string, std::size_t>& map, const std::string& name,
              std::size_t index, const std::string& owner, const std::string& source,
              const std::unordered_map<std::size_t, std::string>& owners) {
    if (name.empty()) {
        return;
    }
    const auto [it, inserted] = map.emplace(name, index);
    if (!inserted && it->second != index) {
        throw Error(source,
                    "the POI category name '" + name + "' of '" + owner + "' is already used by '" +
                        owners.at(it->second) + "'",
                    "Give every category names of its own.");
    }
}

std::string scalar(const YAML::Node& entry, const char* key, const std::string& where,
                   const std::string& source) {
    const YAML::Node value = entry[key];
    if (!value) {
        return {};
    }
    if (!value.IsScalar()) {
        throw Error(source, where + ": '" + key + "' is not a text value", kSchemaFix);
    }
    return value.as<std::string>();
}

std::vector<PoiCategory> parse_list(const YAML::Node& list, const char* key, bool check_index,
                                    const std::string& source) {
    std::vector<PoiCategory> out;
    if (!list) {
        return out;
    }
    if (!list.IsSequence()) {
        throw Error(source, std::string("'") + key + "' is not a list", kSchemaFix);
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
        const YAML::Node entry = list[i];
        const std::string where = std::string(key) + "[" + std::to_string(i) + "]";
        if (!entry.IsMap()) {
            throw Error(source,
                        where + " is not a mapping of name_cn, tag_en, name_en, amap_prefix",
                        kSchemaFix);
        }
        PoiCategory c;
        c.name_cn = scalar(entry, "name_cn", where, source);
        c.tag_en = scalar(entry, "tag_en", where, source);
        c.name_en = scalar(entry, "name_en", where, source);
        c.amap_prefix = scalar(entry, "amap_prefix", where, source);
        if (c.name_cn.empty() && c.tag_en.empty() && c.name_en.empty()) {
            throw Error(source, where + " has none of name_cn, tag_en, name_en", kSchemaFix);
        }
        if (check_index && entry["index"]) {
            long long index = -1;
            try {
                index = entry["index"].as<long long>();
            } catch (const YAML::Exception&) {
                index = -1;
            }
            if (index != static_cast<long long>(i)) {
                throw Error(source,
                            where + " (" + display_name(c) + ") has index '" +
                                entry["index"].as<std::string>("?") + "' but is at position " +
                                std::to_string(i),
                            "List the categories in index order; the position is the channel.");
            }
        }
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace

PoiSchema::PoiSchema(std::vector<PoiCategory> categories, std::vector<PoiCategory> excluded,
                     std::string source)
    : categories_(std::move(categories)),
      excluded_(std::move(excluded)),
      source_(std::move(source)) {
    if (categories_.empty()) {
        throw Error(source_, "the POI schema has no categories", kSchemaFix);
    }
    std::unordered_map<std::size_t, std::string> owners;
    for (std::size_t i = 0; i < categories_.size(); ++i) {
        owners[i] = display_name(categories_[i]);
    }
    owners[kExcludedIndex] = "an excluded category";
    const auto add = [&](const PoiCategory& c, std::size_t index) {
        const std::string owner = display_name(c);
        for (const std::string* name : {&c.name_cn, &c.tag_en, &c.name_en}) {
            add_name(exact_, *name, index, owner, source_, owners);
            add_name(loose_, loose_key(*name), index, owner, source_, owners);
        }
    };
    for (std::size_t i = 0; i < categories_.size(); ++i) {
        add(categories_[i], i);
    }
    for (const PoiCategory& c : excluded_) {
        add(c, kExcludedIndex);
    }
}

std::optional<std::size_t> PoiSchema::index_of(std::string_view name) const {
    const std::optional<std::size_t> index = lookup(exact_, loose_, name);
    if (index == kExcludedIndex) {
        return std::nullopt;
    }
    return index;
}

bool PoiSchema::is_excluded(std::string_view name) const {
    return lookup(exact_, loose_, name) == kExcludedIndex;
}

PoiSchema parse_poi_schema(std::string_view yaml_text, const std::string& source) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml_text));
    } catch (const YAML::Exception& e) {
        throw Error(source, std::string("is not valid YAML: ") + e.what(), kSchemaFix);
    }
    if (!root.IsMap() || !root["categories"]) {
        throw Error(source, "has no 'categories' list", kSchemaFix);
    }
    try {
        return PoiSchema(parse_list(root["categories"], "categories", /*check_index=*/true, source),
                         parse_list(root["excluded"], "excluded", /*check_index=*/false, source),
                         source);
    } catch (const YAML::Exception& e) {
        throw Error(source, std::string("cannot be read as a POI schema: ") + e.what(), kSchemaFix);
    }
}

PoiSchema builtin_poi_schema() {
    return parse_poi_schema(core::embedded_config("poi_categories.yaml"),
                            "built-in configs/poi_categories.yaml");
}

PoiSchema load_poi_schema(const std::filesystem::path& yaml) {
    return parse_poi_schema(
        core::read_text_file(
            yaml, "cannot open the POI schema file",
            "Pass an existing YAML file in the layout of configs/poi_categories.yaml."),
        yaml.string());
}

}  // namespace zoomdiff::poi
