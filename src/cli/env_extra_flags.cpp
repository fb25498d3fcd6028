#include "zoomdiff/cli/env_extra_flags.hpp"

#include <map>
#include <string>

#include "zoomdiff/cli/common.hpp"

namespace zoomdiff::cli {

void add_env_extra_flags(CLI::App& app, pipeline::EnvExtraOptions& options) {
    // A flag given twice takes the last value, so scripts can override a default argument list.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.description(
        "Build a city's condition file (<City>_cond.h5) from its boundary, a population raster,\n"
        "OpenStreetMap (Geofabrik shapefiles or .osm.pbf) and POI tables.");
    app.add_option("--cityname", options.cityname, "City, English or Chinese (Nanchang, 南昌)")
        ->capture_default_str();
    app.add_option("--province", options.province,
                   "Province, for the default --osm_dir (OSM_<province>)")
        ->capture_default_str();
    app.add_option(
        "--shp_path", options.shp_path,
        "City boundary polygons (.shp/.gpkg/.geojson); default: the reference's China file");
    app.add_option("--pop_path", options.pop_path,
                   "Population raster, people per pixel, EPSG:4326 (WorldPop)");
    app.add_option("--osm_dir", options.osm_dir,
                   "Folder of Geofabrik gis_osm_*_free_1.shp layers, or a .osm.pbf file");
    app.add_option("--poi_dir", options.poi_dir, "Folder of POI CSV tables");
    app.add_option("--out", options.out,
                   "Output file; default ZoomDiff/datasets/cities/<City>/cond/<City>_cond.h5");
    app.add_option("--boundary_field", options.boundary_field,
                   "Field of the boundary file holding the city name (地名, ENG_NAME, name, ...)")
        ->capture_default_str();
    app.add_option("--boundary_value", options.boundary_value,
                   "Exact value of --boundary_field to pick (default: match --cityname)");
    app.add_option("--boundary_osm", options.boundary_osm,
                   "Boundary from an OSM relation of the --osm_dir .osm.pbf, e.g. "
                   "\"admin_level=8,name=Monaco\"");
    app.add_option("--bbox", options.bbox,
                   "Boundary as a box: lon_min,lat_min,lon_max,lat_max (degrees)");
    add_pop_rule_flag(app, options.pop_rule);
    const std::map<std::string, pipeline::PoiSource> sources{{"auto", pipeline::PoiSource::kAuto},
                                                             {"table", pipeline::PoiSource::kTable},
                                                             {"osm", pipeline::PoiSource::kOsm}};
    app.add_option("--poi_source", options.poi_source,
                   "auto (tables when present, else OSM tags), table, or osm")
        ->transform(CLI::CheckedTransformer(sources, CLI::ignore_case).description(""));
    app.add_option("--poi_schema", options.poi_schema,
                   "POI category schema YAML (default: the built-in 21 categories)")
        ->check(CLI::ExistingFile);
    app.footer(
        "Example:\n"
        "  env_extra --cityname Nanchang --province Jiangxi \\\n"
        "    --shp_path data/sample/boundary/nanchang_sample.shp --pop_path "
        "data/sample/population.tif \\\n"
        "    --osm_dir data/sample/OSM_Jiangxi --poi_dir data/sample/POI_Nanchang --out "
        "out/Nanchang_cond.h5\n"
        "Exit codes: 0 ok, 2 bad input or usage, 1 internal error.");
}

}  // namespace zoomdiff::cli
