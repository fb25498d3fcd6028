#include "data/detail/city_files.hpp"

#include "zoomdiff/geo/city_names.hpp"
#include "zoomdiff/io/data_root.hpp"

namespace zoomdiff::data::detail {

namespace fs = std::filesystem;

CitySource city_paths(const fs::path& data_root, const std::string& token,
                      const std::string& datatype, const char* prepare_hint) {
    const geo::CityNames names = geo::resolve_city_names(token);
    // resolve_city_names returns an unknown name unchanged in both fields.
    const bool in_table = names.cn != token || names.en != token;
    CitySource s;
    s.token = token;
    s.city = names.en;
    const io::DataRoot root(data_root);
    const fs::path dir = root.city_dir(s.city);
    s.data_file = root.data_file(s.city, datatype);
    s.cond_file = root.cond_file(s.city);
    if (!in_table && !fs::is_directory(dir)) {
        throw Error("--dataset",
                    fmt::format("unknown city '{}': not in the city table "
                                "(configs/cities.yaml) and no folder {}",
                                token, dir.string()),
                    prepare_hint);
    }
    return s;
}

std::string cond_fix(const CitySource& s) {
    return fmt::format("Write it with: env_extra --cityname {} --out {}", s.city,
                       s.cond_file.string());
}

std::vector<std::string> static_keys(StaticLayout layout) {
    if (layout == StaticLayout::kPoiOnly) {
        return {};
    }
    if (layout == StaticLayout::kReference) {
        // REFCOMPAT: the reference reads pop_2000m twice; building_2000m is never used (D-7).
        return {"/pop_2000m", "/pop_2000m", "/roadlen_2000m", "/water_area_2000m"};
    }
    return {"/2000m/population", "/2000m/building_count", "/2000m/road_length_m",
            "/2000m/waterway_length_m", "/2000m/water_area_m2"};
}

std::string poi_key(StaticLayout layout) {
    return layout == StaticLayout::kReference ? "/poi_2000m" : "/2000m/poi_count";
}

void require_poi_schema(const io::H5File& cond, const std::string& key, const CitySource& source,
                        std::int64_t channels) {
    if (!cond.exists(key))
        return;  // read_checked names a missing dataset
    const auto shape = cond.shape(key);
    if (shape.size() == 5 && shape[4] != static_cast<std::size_t>(channels)) {
        if (channels == kPoiChannels && shape[4] != static_cast<std::size_t>(kPoiChannels)) {
            throw Error(
                source.cond_file.string(),
                fmt::format("{} has {} POI categories; the model's schema has {}", key, shape[4],
                            kPoiChannels),
                "Rewrite it with env_extra, which writes the fixed 21-category schema, or train "
                "with condition_layout: poi_only and model.poi_channels: " +
                    std::to_string(shape[4]));
        }
        throw Error(
            source.cond_file.string(),
            fmt::format("{} has {} POI categories; the config's model.poi_channels is {}", key,
                        shape[4], channels),
            fmt::format("Set model.poi_channels: {} in the config (or import the city again)",
                        shape[4]));
    }
}

std::string tile_arrangement(const io::H5File& file) {
    return file.has_attr("/", "tile_arrangement") ? file.attr_string("/", "tile_arrangement")
                                                  : "grid";
}

}  // namespace zoomdiff::data::detail
