#include "zoomdiff/geo/city_names.hpp"
#include "zoomdiff/io/data_root.hpp"
#include "zoomdiff/pipeline/env_extra.hpp"
#include "zoomdiff/pipeline/grid_meta.hpp"

namespace zoomdiff::pipeline {

namespace fs = std::filesystem;

namespace {

// The reference's default locations, relative to the working directory (PIPELINE §4.1).
const fs::path kSharedGeo = "ZoomDiff/datasets/_shared_geographic_data";
const io::DataRoot kCities(fs::path("ZoomDiff/datasets/cities"));
const fs::path kBoundaryFile = kSharedGeo / "China_city_boundaries/china_city_boundaries_2024.shp";
const fs::path kPopulationRaster = kSharedGeo / "chn_ppp_2020_constrained.tif";

/// The boundary shapefile and population raster every city shares, where not given.
void default_shared_geo(fs::path& shp_path, fs::path& pop_path) {
    if (shp_path.empty())
        shp_path = kBoundaryFile;
    if (pop_path.empty())
        pop_path = kPopulationRaster;
}

}  // namespace

EnvExtraOptions default_env_extra_paths(EnvExtraOptions options) {
    const geo::CityNames names = geo::resolve_city_names(options.cityname);
    const std::string province_en = geo::resolve_province_en(options.province);
    default_shared_geo(options.shp_path, options.pop_path);
    if (options.osm_dir.empty()) {
        options.osm_dir = kCities.osm_dir(names.en, province_en);
    }
    if (options.poi_dir.empty()) {
        options.poi_dir = kCities.poi_dir(names.en);
    }
    if (options.out.empty()) {
        options.out = kCities.cond_file(names.en);
    }
    return options;
}

GridMetaOptions default_grid_meta_paths(GridMetaOptions options) {
    const geo::CityNames names = geo::resolve_city_names(options.cityname);
    default_shared_geo(options.shp_path, options.pop_path);
    if (options.data_path.empty()) {
        options.data_path = kCities.raw_data_file(names.en, options.datatype);
    }
    if (options.out.empty()) {
        options.out = kCities.data_file(names.en, options.datatype);
    }
    return options;
}

}  // namespace zoomdiff::pipeline
