#pragma once

#include <string_view>

namespace zoomdiff::core {

/// Text of a configs/*.yaml file as it was at build time ("poi_categories.yaml"). The YAML files
/// in configs/ are the one definition of each table; the library embeds them so an installed tool
/// needs no data path. Throws zoomdiff::Error (internal) for an unknown name.
std::string_view embedded_config(std::string_view name);

}  // namespace zoomdiff::core
