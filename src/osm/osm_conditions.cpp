#include "zoomdiff/osm/osm_conditions.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <system_error>
#include <vector>

#include "osm/detail/cell_accumulator.hpp"
#include "osm/detail/geos_context.hpp"
#include "osm/detail/layer_rules.hpp"
#include "osm/detail/ogr_layer.hpp"
#include "osm/detail/pbf_source.hpp"
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::osm {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool has_geofabrik_layer(const fs::path& folder) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("gis_osm_", 0) == 0 && ends_with(name, ".shp")) {
            return true;
        }
    }
    return false;
}

std::array<detail::LayerSink, detail::kTargetCount> sinks_of(OsmConditions& out) {
    using detail::Target;
    using detail::TargetKind;
    std::array<detail::LayerSink, detail::kTargetCount> sinks;
    auto count = [&](Target t, NdArray<std::int32_t>& a) {
        sinks[static_cast<std::size_t>(t)] = detail::LayerSink{TargetKind::kCount, &a, nullptr};
    };
    auto measure = [&](Target t, NdArray<double>& a) {
        sinks[static_cast<std::size_t>(t)] = detail::LayerSink{detail::target_kind(t), nullptr, &a};
    };
    count(Target::kBuildingCount, out.building_count);
    measure(Target::kRoadLength, out.road_length_m);
    measure(Target::kWaterwayLength, out.waterway_length_m);
    measure(Target::kWaterArea, out.water_area_m2);
    count(Target::kNaturalCount, out.natural_count);
    count(Target::kPoiCount, out.osm_poi_count);
    return sinks;
}

}  // namespace

namespace {

bool all_zero(const OsmConditions& c) {
    const auto zero = [](const auto& a) {
        return std::all_of(a.values().begin(), a.values().end(), [](auto v) { return v == 0; });
    };
    return zero(c.building_count) && zero(c.road_length_m) && zero(c.waterway_length_m) &&
           zero(c.water_area_m2) && zero(c.natural_count) && zero(c.osm_poi_count);
}

}  // namespace

OsmConditions compute_osm_conditions(const fs::path& source, const geo::CityGrid& grid,
                                     core::Progress& progress) {
    const detail::LayerRules rules = detail::load_layer_rules();
    const std::vector<std::size_t> shape{grid.rows(), grid.cols()};
    OsmConditions out;
    out.building_count = NdArray<std::int32_t>(shape);
    out.road_length_m = NdArray<double>(shape);
    out.waterway_length_m = NdArray<double>(shape);
    out.water_area_m2 = NdArray<double>(shape);
    out.natural_count = NdArray<std::int32_t>(shape);
    out.osm_poi_count = NdArray<std::int32_t>(shape);
    const auto sinks = sinks_of(out);

    std::error_code ec;
    const std::string fix =
        "Pass a folder of Geofabrik shapefiles (gis_osm_*_free_1.shp) or an .osm.pbf file";
    if (fs::is_directory(source, ec)) {
        if (!has_geofabrik_layer(source)) {
            throw Error(source.string(), "no Geofabrik shapefile layers (gis_osm_*.shp) found",
                        fix);
        }
        // Check every layer before the first expensive read (STYLE P3).
        std::array<std::vector<fs::path>, detail::kTargetCount> layer_paths;
        for (std::size_t t = 0; t < detail::kTargetCount; ++t) {
            for (const auto& layer : rules.shapefile_layers[t]) {
                layer_paths[t].push_back(source / (layer + ".shp"));
                detail::require_layer_file(layer_paths[t].back());
            }
        }
        detail::GeosContext geos;
        detail::CellAccumulator accumulator(geos, grid);
        for (std::size_t t = 0; t < detail::kTargetCount; ++t) {
            for (const auto& path : layer_paths[t]) {
                detail::accumulate_ogr_layer(path, grid, accumulator, sinks[t], progress);
            }
        }
        return out;
    }
    if (fs::is_regular_file(source, ec) && ends_with(source.filename().string(), ".pbf")) {
        detail::GeosContext geos;
        detail::CellAccumulator accumulator(geos, grid);
        detail::accumulate_pbf(source, grid, rules, accumulator, sinks, progress);
        if (all_zero(out)) {
            // Most likely an extract of another region: say so rather than write silent zeros.
            spdlog::warn(
                "{}: no OSM feature of any layer lies on the grid ({:.4f}..{:.4f} E, "
                "{:.4f}..{:.4f} N); "
                "check that the extract covers the city",
                source.string(), grid.bbox.lon_min_deg, grid.bbox.lon_max_deg,
                grid.bbox.lat_min_deg, grid.bbox.lat_max_deg);
        }
        return out;
    }
    throw Error(
        source.string(),
        fs::exists(source, ec) ? "is neither a folder nor an .osm.pbf file" : "does not exist",
        fix);
}

}  // namespace zoomdiff::osm
