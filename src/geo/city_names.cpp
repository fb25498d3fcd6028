#include "zoomdiff/geo/city_names.hpp"

#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "zoomdiff/core/embedded_configs.hpp"

namespace zoomdiff::geo {
namespace {

using NamePairs = std::vector<std::pair<std::string, std::string>>;

NamePairs load_pairs(const char* key) {
    const YAML::Node root = YAML::Load(std::string(core::embedded_config("cities.yaml")));
    NamePairs pairs;
    for (const auto& entry : root[key]) {
        pairs.emplace_back(entry[0].as<std::string>(), entry[1].as<std::string>());
    }
    return pairs;
}

const NamePairs& city_table() {
    static const NamePairs table = load_pairs("cities");
    return table;
}

const NamePairs& province_table() {
    static const NamePairs table = load_pairs("provinces");
    return table;
}

}  // namespace

CityNames resolve_city_names(const std::string& cityname) {
    CityNames names{cityname, cityname};
    for (const auto& [cn, en] : city_table()) {
        if (en == cityname || cn == cityname) {
            names.cn = cn;
            names.en = en;
            break;
        }
    }
    return names;
}

std::string resolve_province_en(const std::string& province) {
    for (const auto& [cn, en] : province_table()) {
        if (cn == province) {
            return en;
        }
    }
    return province;
}

}  // namespace zoomdiff::geo
