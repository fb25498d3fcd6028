#include "zoomdiff/pipeline/grid_meta.hpp"

#include <algorithm>
#include <regex>
#include <utility>

#include "pipeline/city_setup.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/recorded_path.hpp"
#include "zoomdiff/geo/city_names.hpp"
#include "zoomdiff/geo/population.hpp"
#include "zoomdiff/io/data_store.hpp"

namespace zoomdiff::pipeline {
namespace {

namespace fs = std::filesystem;

struct Extent {
    double lon_min = 0;
    double lon_max = 0;
    double lat_min = 0;
    double lat_max = 0;
};

Extent extent_of(const std::vector<double>& lon, const std::vector<double>& lat) {
    const auto [lon_lo, lon_hi] = std::minmax_element(lon.begin(), lon.end());
    const auto [lat_lo, lat_hi] = std::minmax_element(lat.begin(), lat.end());
    return {*lon_lo, *lon_hi, *lat_lo, *lat_hi};
}

std::size_t count_inside(const std::vector<double>& lon, const std::vector<double>& lat,
                         const geo::BBoxDeg& box) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < lon.size(); ++i) {
        n += (lon[i] >= box.lon_min_deg && lon[i] <= box.lon_max_deg && lat[i] >= box.lat_min_deg &&
              lat[i] <= box.lat_max_deg)
                 ? 1
                 : 0;
    }
    return n;
}

/// Stations must meet the city's box; if none does, say where they are, and whether swapping
/// lon and lat would fit them (a frequent mix-up in hand-made CSVs).
void check_stations_meet_box(const io::StationTable& stations, const geo::BBoxDeg& box) {
    if (count_inside(stations.lon_deg, stations.lat_deg, box) > 0) {
        return;
    }
    const Extent e = extent_of(stations.lon_deg, stations.lat_deg);
    const std::string where = fmt::format(
        "none of the {} stations lies in the city's box (lon {:.4f}..{:.4f}, lat "
        "{:.4f}..{:.4f}); the stations span lon {:.4f}..{:.4f}, lat {:.4f}..{:.4f}",
        stations.size(), box.lon_min_deg, box.lon_max_deg, box.lat_min_deg, box.lat_max_deg,
        e.lon_min, e.lon_max, e.lat_min, e.lat_max);
    const std::size_t swapped = count_inside(stations.lat_deg, stations.lon_deg, box);
    if (swapped > 0) {
        throw Error(
            stations.source.string(),
            where + fmt::format(", but {} would with longitude and latitude swapped", swapped),
            "The file's lon and lat columns are probably exchanged: swap them.");
    }
    throw Error(stations.source.string(), where,
                "Check --data_path and --cityname: the stations must belong to this city.");
}

/// "YYYY-MM-DDTHH:MM" (seconds allowed) or "unspecified".
void check_time_start(const std::string& text) {
    static const std::regex kIso(
        R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?)");
    if (text != "unspecified" && !std::regex_match(text, kIso)) {
        throw Error("--time_start " + text, "not an ISO 8601 local date and time",
                    "Write it as YYYY-MM-DDTHH:MM, e.g. 2024-03-04T00:00 for a week starting on a "
                    "Monday.");
    }
}

std::string resolved_config_json(const GridMetaOptions& o) {
    const nlohmann::json j{
        {"tool", "grid_meta"},
        {"version", ZOOMDIFF_VERSION},
        {"cityname", o.cityname},
        {"province", o.province},
        {"datatype", o.datatype},
        {"data_path", core::recorded_path(o.data_path)},
        {"shp_path", core::recorded_path(o.shp_path)},
        {"boundary_field", o.boundary_field},
        {"pop_path", core::recorded_path(o.pop_path)},
        {"out", core::recorded_path(o.out)},
        {"layout", o.layout == GridMetaLayout::kReference ? "reference" : "corrected"},
        {"pop_rule",
         o.pop_rule == geo::PopulationRule::kAreaWeighted ? "area_weighted" : "reference"},
        {"time_start", o.time_start},
        {"time_zone", o.time_zone},
        {"seed", o.seed},
        {"threads", o.threads}};
    return j.dump();
}

}  // namespace

GridMetaResult run_grid_meta(const GridMetaOptions& given, core::Progress& progress) {
    const GridMetaOptions options = default_grid_meta_paths(given);
    if (options.datatype != "traffic" && options.datatype != "user") {
        throw Error("--datatype " + options.datatype, "unknown datatype", "Use traffic or user.");
    }
    check_time_start(options.time_start);
    const geo::CityNames names = geo::resolve_city_names(options.cityname);
    require_exists(options.data_path, "--data_path", "station file");
    require_exists(options.shp_path, "--shp_path", "boundary file");
    require_exists(options.pop_path, "--pop_path", "population raster");
    core::check_output_path(options.out, "--out",
                            {{"--data_path", options.data_path},
                             {"--shp_path", options.shp_path},
                             {"--pop_path", options.pop_path}});

    // The station file first: it is the input most likely to be wrong, and cheap to read.
    const io::StationTable stations = io::read_stations(options.data_path, options.datatype);
    geo::BoundarySpec spec;
    spec.path = options.shp_path;
    spec.field = options.boundary_field;
    const CitySetup city = set_up_city(spec, names);
    check_stations_meet_box(stations, city.grid.bbox);
    core::warn_if_low_space(
        options.out, io::data_file_bytes_bound(city.grid, stations.series.dim(1)), "the data file");

    geo::PopulationOptions pop_options;
    pop_options.rule = options.pop_rule;
    const NdArray<float> pop_100m =
        geo::sample_population(options.pop_path, city.grid, progress, pop_options);
    Disaggregation result = disaggregate(city.grid, pop_100m, stations, options.layout,
                                         options.seed, options.threads, progress);
    spdlog::info("{}: {} stations in the box ({} outside, ignored), {} synthetic residents",
                 names.en, result.stations_in_box, result.stations_outside, result.residents);

    io::CityData data;
    data.grid = city.grid;
    data.datatype = options.datatype;
    data.units = options.datatype == "user" ? "users" : "traffic (input unit)";
    data.data_100m = std::move(result.data_100m);
    data.residents_100m = std::move(result.residents_100m);
    data.time_start = options.time_start;
    data.time_zone = options.time_zone;
    data.input_step_minutes = stations.input_step_minutes;

    io::DataSummary summary;
    summary.stations_in_file = static_cast<std::int64_t>(stations.size());
    summary.stations_in_box = static_cast<std::int64_t>(result.stations_in_box);
    summary.stations_outside = static_cast<std::int64_t>(result.stations_outside);
    summary.stations_without_residents =
        static_cast<std::int64_t>(result.stations_without_residents);
    summary.stations_tied = static_cast<std::int64_t>(result.stations_tied);
    summary.residents = static_cast<std::int64_t>(result.residents);
    summary.nan_values = static_cast<std::int64_t>(stations.nan_values);
    summary.layout = options.layout == GridMetaLayout::kReference ? "reference" : "corrected";

    io::write_data_file(options.out, data, summary,
                        provenance_of("grid_meta", options.command_line, options.seed, names,
                                      resolved_config_json(options)));
    spdlog::info("wrote {}", options.out.string());

    GridMetaResult out;
    out.output = options.out;
    out.grid = city.grid;
    out.summary = std::move(result);
    return out;
}

}  // namespace zoomdiff::pipeline
