#include "zoomdiff/pipeline/env_extra.hpp"

#include <chrono>
#include <utility>

#include "pipeline/city_setup.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/process_stats.hpp"
#include "zoomdiff/core/recorded_path.hpp"
#include "zoomdiff/geo/city_names.hpp"
#include "zoomdiff/geo/mask.hpp"
#include "zoomdiff/geo/population.hpp"
#include "zoomdiff/io/cond_store.hpp"
#include "zoomdiff/osm/osm_conditions.hpp"
#include "zoomdiff/osm/osm_pois.hpp"
#include "zoomdiff/poi/poi_counts.hpp"
#include "zoomdiff/poi/poi_schema.hpp"

namespace zoomdiff::pipeline {
namespace {

namespace fs = std::filesystem;

/// Times one stage and records the process's peak memory after it.
class StageClock {
public:
    StageClock(std::vector<StageTiming>& sink, std::string stage)
        : sink_(sink), stage_(std::move(stage)), start_(std::chrono::steady_clock::now()) {}

    ~StageClock() {
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        sink_.push_back({stage_, s, core::peak_rss_kb()});
        spdlog::debug("{}: {:.3f} s, peak RSS {} MiB", stage_, s, core::peak_rss_kb() / 1024);
    }

    StageClock(const StageClock&) = delete;
    StageClock& operator=(const StageClock&) = delete;
    StageClock(StageClock&&) = delete;
    StageClock& operator=(StageClock&&) = delete;

private:
    std::vector<StageTiming>& sink_;
    std::string stage_;
    std::chrono::steady_clock::time_point start_;
};

/// The boundary source the flags name: a box, an OSM relation of the .osm.pbf, or a polygon file.
geo::BoundarySpec boundary_spec(const EnvExtraOptions& o) {
    geo::BoundarySpec spec;
    const int sources = (o.bbox.empty() ? 0 : 1) + (o.boundary_osm.empty() ? 0 : 1);
    if (sources > 1) {
        throw Error("--bbox / --boundary_osm", "two boundary sources given", "Pass one of them.");
    }
    if (sources > 0 && !o.boundary_value.empty()) {
        // issue 19: the value picks a record of --shp_path, which a box or relation replaces.
        throw Error("--boundary_value",
                    fmt::format("picks a record of the --shp_path file, but {} gives the boundary",
                                o.bbox.empty() ? "--boundary_osm" : "--bbox"),
                    fmt::format("Drop --boundary_value, or drop {} to use the --shp_path record",
                                o.bbox.empty() ? "--boundary_osm" : "--bbox"));
    }
    if (!o.bbox.empty()) {
        spec.bbox = geo::parse_bbox(o.bbox);
    } else if (!o.boundary_osm.empty()) {
        spec.path = o.osm_dir;
        spec.osm_filter = o.boundary_osm;
    } else {
        spec.path = o.shp_path;
        spec.field = o.boundary_field;
        spec.value = o.boundary_value;
    }
    return spec;
}

/// Every option after defaults, with absolute paths, as recorded in the output.
std::string resolved_config_json(const EnvExtraOptions& o, const std::string& poi_schema_source) {
    const nlohmann::json j{
        {"tool", "env_extra"},
        {"version", ZOOMDIFF_VERSION},
        {"cityname", o.cityname},
        {"province", o.province},
        {"shp_path", core::recorded_path(o.shp_path)},
        {"boundary_field", o.boundary_field},
        {"boundary_value", o.boundary_value},
        {"boundary_osm", o.boundary_osm},
        {"bbox", o.bbox},
        {"pop_rule",
         o.pop_rule == geo::PopulationRule::kAreaWeighted ? "area_weighted" : "reference"},
        {"pop_path", core::recorded_path(o.pop_path)},
        {"osm_dir", core::recorded_path(o.osm_dir)},
        {"poi_dir", core::recorded_path(o.poi_dir)},
        {"poi_schema", poi_schema_source},
        {"out", core::recorded_path(o.out)},
        {"seed", o.seed}};
    return j.dump();
}

}  // namespace

namespace {

/// The validate phase: every input and the output checked before the first expensive step
/// (STYLE P3). Returns whether POI counts come from tables (asked for, or given, or present at
/// the reference's path) rather than from OSM tags.
bool check_inputs(const EnvExtraOptions& options, const EnvExtraOptions& given,
                  const geo::BoundarySpec& spec) {
    if (!spec.bbox && spec.osm_filter.empty()) {
        require_exists(options.shp_path, "--shp_path", "boundary file");
    }
    require_exists(options.pop_path, "--pop_path", "population raster");
    require_exists(options.osm_dir, "--osm_dir", "OSM folder or .osm.pbf file");
    const bool use_tables = options.poi_source == PoiSource::kTable ||
                            (options.poi_source == PoiSource::kAuto &&
                             (!given.poi_dir.empty() || fs::exists(options.poi_dir)));
    if (use_tables) {
        require_exists(options.poi_dir, "--poi_dir", "POI folder");
        if (!fs::is_directory(options.poi_dir)) {
            throw Error(options.poi_dir.string(), "is not a folder",
                        "Pass the folder holding the POI CSV tables with --poi_dir.");
        }
    } else {
        spdlog::info(
            "POI: no POI tables; counting OSM objects of {} through the OSM crosswalk "
            "(configs/osm_poi_crosswalk.yaml)",
            options.osm_dir.string());
    }
    core::check_output_path(options.out, "--out",
                            {{"--shp_path", options.shp_path},
                             {"--pop_path", options.pop_path},
                             {"--osm_dir", options.osm_dir},
                             {"--poi_dir", use_tables ? options.poi_dir : fs::path()},
                             {"--poi_schema", options.poi_schema}});
    return use_tables;
}

/// POI counts per cell and category, from the tables or from OSM tags.
void add_pois(io::CityConditions& cond, const EnvExtraOptions& options, bool use_tables,
              const poi::PoiSchema& schema, const geo::CityNames& names, core::Progress& progress) {
    // REFCOMPAT: POI rows are kept when their city column equals "<Chinese name>市"
    // (PIPELINE §3.5). A city outside the reference's table has no such name: keep every row.
    const bool known_city = names.cn != names.en;
    const std::string city_filter = known_city ? names.cn + "市" : std::string();
    if (!known_city) {
        spdlog::info("{}: not in the reference's city table; POI rows are not filtered by city",
                     names.en);
    }
    poi::PoiCounts counts =
        use_tables ? poi::count_pois(options.poi_dir, cond.grid, schema, city_filter, progress)
                   : osm::count_osm_pois(options.osm_dir, cond.grid, schema, progress);
    cond.poi_count = std::move(counts.counts);
    cond.poi_category_present.assign(counts.category_present.begin(),
                                     counts.category_present.end());
    for (std::size_t k = 0; k < schema.size(); ++k) {
        cond.poi_categories.push_back(schema.at(k).name_cn);
    }
    spdlog::info("POI: {} rows read, {} counted on the grid", counts.rows_read,
                 counts.rows_counted);
}

/// Buildings, roads, waterways, water areas, natural and OSM POI objects per cell.
void add_osm(io::CityConditions& cond, const fs::path& osm_dir, core::Progress& progress) {
    osm::OsmConditions osm = osm::compute_osm_conditions(osm_dir, cond.grid, progress);
    cond.building_count = std::move(osm.building_count);
    cond.road_length_m = std::move(osm.road_length_m);
    cond.waterway_length_m = std::move(osm.waterway_length_m);
    cond.water_area_m2 = std::move(osm.water_area_m2);
    cond.natural_count = std::move(osm.natural_count);
    cond.osm_poi_count = std::move(osm.osm_poi_count);
}

}  // namespace

EnvExtraResult run_env_extra(const EnvExtraOptions& given, core::Progress& progress) {
    const EnvExtraOptions options = default_env_extra_paths(given);
    const geo::CityNames names = geo::resolve_city_names(options.cityname);
    EnvExtraResult result;
    result.output = options.out;
    const geo::BoundarySpec spec = boundary_spec(options);
    const bool use_tables = check_inputs(options, given, spec);
    const poi::PoiSchema schema = options.poi_schema.empty()
                                      ? poi::builtin_poi_schema()
                                      : poi::load_poi_schema(options.poi_schema);

    CitySetup city;
    {
        StageClock clock(result.timings, "boundary+grid");
        city = set_up_city(spec, names);
        result.grid = city.grid;
    }
    const geo::CityGrid& grid = result.grid;
    core::warn_if_low_space(options.out, io::cond_file_bytes_bound(grid, schema.size()),
                            "the condition file");

    io::CityConditions cond;
    cond.grid = grid;
    // Cells whose centre lies in the city polygon (holes excluded), at 100 m and 500 m.
    cond.mask_100m = geo::centre_mask(city.boundary, grid.lon_edges_deg, grid.lat_edges_deg);
    cond.mask_500m =
        geo::centre_mask(city.boundary, grid.lon_edges_500m_deg(), grid.lat_edges_500m_deg());
    {
        StageClock clock(result.timings, "population");
        geo::PopulationOptions pop_options;
        pop_options.rule = options.pop_rule;
        cond.population = geo::sample_population(options.pop_path, grid, progress, pop_options);
    }
    // POI tables before OSM: a bad table is found before the most expensive stage.
    {
        StageClock clock(result.timings, "poi");
        add_pois(cond, options, use_tables, schema, names, progress);
    }
    {
        StageClock clock(result.timings, "osm");
        add_osm(cond, options.osm_dir, progress);
    }
    {
        StageClock clock(result.timings, "write");
        io::write_cond_file(options.out, cond,
                            provenance_of("env_extra", options.command_line, options.seed, names,
                                          resolved_config_json(options, schema.source())));
    }
    spdlog::info("wrote {}", options.out.string());
    return result;
}

}  // namespace zoomdiff::pipeline
