#include "zoomdiff/geo/city_names.hpp"
#include "zoomdiff/prep/env_extra.hpp"
#include "zoomdiff/prep/grid_meta.hpp"

namespace zoomdiff::prep {

namespace fs = std::filesystem;

namespace {

// The reference's default locations, relative to the working directory (PIPELINE §4.1).
const fs::path kSharedGeo = "ZoomDiff/datasets/_shared_geographic_data";
const fs::path kCitiesDir = "ZoomDiff/datasets/cities";
const fs::path kBoundaryFile = kSharedGeo / "China_city_boundaries/china_city_boundaries_2024.shp";
const fs::path kPopulationRaster = kSharedGeo / "chn_ppp_2020_constrained.tif";

}  // namespace

EnvExtraOptions default_env_extra_paths(EnvExtraOptions options) {
    const geo::CityNames names = geo::resolve_city_names(options.cityname);
    const std::string province_en = geo::resolve_province_en(options.province);
    const fs::path city_dir = kCitiesDir / names.en;
    if (options.shp_path.empty()) {
        options.shp_path = kBoundaryFile;
    }
    if (options.pop_path.empty()) {
        options.pop_path = kPopulationRaster;
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

GridMetaOptions default_grid_meta_paths(GridMetaOptions options) {
    const geo::CityNames names = geo::resolve_city_names(options.cityname);
    const fs::path city_dir = kCitiesDir / names.en;
    if (options.shp_path.empty()) {
        options.shp_path = kBoundaryFile;
    }
    if (options.pop_path.empty()) {
        options.pop_path = kPopulationRaster;
    }
    if (options.data_path.empty()) {
        options.data_path =
            city_dir / "raw_data_for_train" / (names.en + "_" + options.datatype + ".npz");
    }
    if (options.out.empty()) {
        options.out = city_dir / "data" / (names.en + "_" + options.datatype + "_data.h5");
    }
    return options;
}

}  // namespace zoomdiff::prep
