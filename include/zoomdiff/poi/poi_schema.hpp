#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace zoomdiff::poi {

/// One POI major category (Amap 行业大类) and its name variants.
struct PoiCategory {
    std::string name_cn;  ///< Chinese name as in the CSVs' 行业大类 column, e.g. 餐饮服务
    std::string tag_en;   ///< English tag of the organiser's file names, e.g. CateringServices
    std::string name_en;  ///< readable English name, e.g. "Catering services"
    std::string amap_prefix;  ///< first two digits of Amap's typecode ("05"); may be empty
};

/// The fixed POI channel layout: categories in channel (index) order, plus categories that are
/// known but deliberately not counted (PIPELINE §5.2). Indices never depend on the input files
/// (DESIGN §4).
///
/// Name lookup accepts any variant of a category: exactly as written first, then ignoring ASCII
/// case, spaces and punctuation ("catering services", "Catering_Services" → CateringServices).
class PoiSchema {
public:
    /// Build from categories in index order. Throws zoomdiff::Error (subject `source`) if two
    /// categories, or a category and an excluded one, share a name.
    PoiSchema(std::vector<PoiCategory> categories, std::vector<PoiCategory> excluded,
              std::string source);

    /// Number of counted categories (channels).
    [[nodiscard]] std::size_t size() const noexcept { return categories_.size(); }

    [[nodiscard]] const std::vector<PoiCategory>& categories() const noexcept {
        return categories_;
    }

    [[nodiscard]] const PoiCategory& at(std::size_t index) const { return categories_.at(index); }

    /// Known categories whose rows are skipped (never channels).
    [[nodiscard]] const std::vector<PoiCategory>& excluded() const noexcept { return excluded_; }

    /// Where the schema came from ("built-in configs/poi_categories.yaml" or a file path).
    [[nodiscard]] const std::string& source() const noexcept { return source_; }

    /// Channel index of a category given by any of its names; nullopt if not a counted category.
    [[nodiscard]] std::optional<std::size_t> index_of(std::string_view name) const;
    /// True if `name` names one of the excluded categories.
    [[nodiscard]] bool is_excluded(std::string_view name) const;

private:
    std::vector<PoiCategory> categories_;
    std::vector<PoiCategory> excluded_;
    std::string source_;
    // Name variant → channel index, as written and normalized (see index_of); excluded
    // categories map to a sentinel past the end.
    std::unordered_map<std::string, std::size_t> exact_;
    std::unordered_map<std::string, std::size_t> loose_;
};

/// The built-in 21-category schema (configs/poi_categories.yaml, embedded at build time), in the
/// index order of the reference's released models (PIPELINE §5.1).
PoiSchema builtin_poi_schema();

/// A user's schema file in the layout of configs/poi_categories.yaml (`categories` in index
/// order, each with name_cn, tag_en, name_en, amap_prefix, optional `index` that must equal its
/// position; optional `excluded`). Throws zoomdiff::Error naming the file for a missing or
/// malformed file, missing keys, or duplicate names.
PoiSchema load_poi_schema(const std::filesystem::path& yaml);

/// Parse schema YAML text; `source` names it in errors. Used by both loaders.
PoiSchema parse_poi_schema(std::string_view yaml_text, const std::string& source);

}  // namespace zoomdiff::poi
