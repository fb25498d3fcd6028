#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/geo/population.hpp"

namespace zoomdiff::pipeline {

/// Where POI counts come from.
enum class PoiSource {
    kAuto,   ///< the tables of --poi_dir when given or present at the default path, else OSM tags
    kTable,  ///< POI CSV tables (the reference)
    kOsm,    ///< OSM tags of --osm_dir through configs/osm_poi_crosswalk.yaml
};

/// Options of env_extra; the flags keep the reference's names (PIPELINE §3.1). Empty paths take
/// the reference's defaults, relative to the working directory (default_env_extra_paths()).
struct EnvExtraOptions {
    std::string cityname = "Nanchang";
    std::string province = "Jiangxi";
    std::filesystem::path shp_path;    ///< city boundary polygons
    std::filesystem::path pop_path;    ///< population raster (WorldPop-like, EPSG:4326)
    std::filesystem::path osm_dir;     ///< Geofabrik shapefile folder or a .osm.pbf file
    std::filesystem::path poi_dir;     ///< folder of POI CSV tables
    std::filesystem::path out;         ///< output file (<City>_cond.h5)
    std::filesystem::path poi_schema;  ///< optional: a POI schema YAML instead of the built-in one
    std::string boundary_field = "地名";
    std::string boundary_value;  ///< exact value of boundary_field to pick (else: the city names)
    std::string
        boundary_osm;  ///< "admin_level=8,name=Monaco": an OSM relation of the --osm_dir .osm.pbf
    std::string bbox;  ///< "lon_min,lat_min,lon_max,lat_max": a plain box instead of a polygon
    geo::PopulationRule pop_rule = geo::PopulationRule::kReference;
    PoiSource poi_source = PoiSource::kAuto;
    std::string command_line;  ///< recorded in the output
    std::uint64_t seed = 0;    ///< recorded (env_extra draws nothing at random)
};

/// The reference's default paths for a city and province (PIPELINE §3.1, §4.1); `out` is the
/// reference's cond folder with our .h5 name.
EnvExtraOptions default_env_extra_paths(EnvExtraOptions options);

/// Wall time and peak memory of each stage (for logs and bench/).
struct StageTiming {
    std::string stage;
    double seconds = 0;
    long peak_rss_kb = 0;  ///< process peak RSS after the stage
};

struct EnvExtraResult {
    std::filesystem::path output;
    geo::CityGrid grid;
    std::vector<StageTiming> timings;
};

/// Boundary → grid → population, OSM, POI → `<City>_cond.h5` (io::write_cond_file). Every input
/// is checked before the first expensive step; throws zoomdiff::Error with the file and the fix;
/// leaves no output on failure.
EnvExtraResult run_env_extra(const EnvExtraOptions& options, core::Progress& progress);

}  // namespace zoomdiff::pipeline
