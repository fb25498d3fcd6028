#include "zoomdiff/geo/city_names.hpp"
#include "zoomdiff/prep/env_extra.hpp"

namespace zoomdiff::prep {

namespace fs = std::filesystem;

EnvExtraOptions default_env_extra_paths(EnvExtraOptions options) {
    const fs::path shared_geo = "ZoomDiff/datasets/_shared_geographic_data";
    const geo::CityNames names = geo::resolve_city_names(options.cityname);
    const std::string province_en = geo::resolve_province_en(options.province);
    const fs::path city_dir = fs::path("ZoomDiff/datasets/cities") / names.en;
    if (options.shp_path.empty()) {
        options.shp_path = shared_geo / "China_city_boundaries/china_city_boundaries_2024.shp";
    }
    if (options.pop_path.empty()) {
        options.pop_path = shared_geo / "chn_ppp_2020_constrained.tif";
    }
    if (options.osm_dir.empty()) {
        options.osm_dir = city_dir / "geographic_data" / ("OSM_" + province_en);
    }
    if (options.poi_dir.empty()) {
        options.poi_dir = city_dir / "geographic_data" / ("POI_" + names.en);
    }
    if (options.out.empty()) {
        options.out = city_dir / "cond" / (names.en + "_cond.h5");
    }
    return options;
}

}  // namespace zoomdiff::prep
