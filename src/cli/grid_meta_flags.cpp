#include "zoomdiff/cli/grid_meta_flags.hpp"

#include <map>
#include <string>

#include "zoomdiff/cli/common.hpp"

namespace zoomdiff::cli {

void add_grid_meta_flags(CLI::App& app, pipeline::GridMetaOptions& options) {
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.description(
        "Spread base-station series over synthetic residents on the city's 100 m grid and write\n"
        "the gridded training targets <City>_<datatype>_data.h5 (500 m cells, 2000 m tiles).");
    app.add_option("--cityname", options.cityname, "City, English or Chinese")
        ->capture_default_str();
    app.add_option("--province", options.province, "Accepted for the reference's scripts; unused")
        ->capture_default_str();
    app.add_option("--datatype", options.datatype, "traffic or user (also the series key)")
        ->check(CLI::IsMember({"traffic", "user"}))
        ->capture_default_str();
    app.add_option("--data_path", options.data_path,
                   "Station file: the reference's .npz (<datatype>, long, lat) or a CSV "
                   "(lon,lat,h000..h167 or station,lon,lat,hour,value)");
    app.add_option("--shp_path", options.shp_path, "City boundary polygons");
    app.add_option("--pop_path", options.pop_path,
                   "Population raster, people per pixel, EPSG:4326");
    app.add_option(
        "--out", options.out,
        "Output; default ZoomDiff/datasets/cities/<City>/data/<City>_<datatype>_data.h5");
    app.add_option("--boundary_field", options.boundary_field,
                   "Field of the boundary file with city names")
        ->capture_default_str();
    const std::map<std::string, pipeline::GridMetaLayout> layouts{
        {"corrected", pipeline::GridMetaLayout::kCorrected},
        {"reference", pipeline::GridMetaLayout::kReference}};
    app.add_option(
           "--layout", options.layout,
           "corrected (keep every station's data) or reference (drop as the reference does)")
        ->transform(CLI::CheckedTransformer(layouts, CLI::ignore_case).description(""));
    add_pop_rule_flag(app, options.pop_rule);
    app.add_option("--time_start", options.time_start,
                   "Local date and time of hour 0, YYYY-MM-DDTHH:MM (recorded in the output)")
        ->capture_default_str();
    app.add_option("--time_zone", options.time_zone,
                   "IANA time zone of the series, e.g. Asia/Shanghai")
        ->capture_default_str();
    app.footer(
        "Example:\n"
        "  grid_meta --cityname Nanchang --datatype traffic --data_path "
        "data/sample/stations_traffic.csv \\\n"
        "    --shp_path data/sample/boundary/nanchang_sample.shp --pop_path "
        "data/sample/population.tif \\\n"
        "    --out out/Nanchang_traffic_data.h5 --seed 1\n"
        "Exit codes: 0 ok, 2 bad input or usage, 1 internal error.");
}

}  // namespace zoomdiff::cli
