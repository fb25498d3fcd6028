#include "pipeline/city_setup.hpp"

#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/osm/osm_boundary.hpp"

namespace zoomdiff::pipeline {

void require_exists(const std::filesystem::path& path, const std::string& flag,
                    const std::string& what) {
    if (!std::filesystem::exists(path)) {
        throw Error(path.string(), what + " not found", "Pass it with " + flag + ".");
    }
}

io::Provenance provenance_of(std::string tool, std::string command_line, std::uint64_t seed,
                             const geo::CityNames& names, std::string resolved_config_json) {
    io::Provenance provenance;
    provenance.tool = std::move(tool);
    provenance.command_line = std::move(command_line);
    provenance.seed = seed;
    provenance.city_en = names.en;
    provenance.city_cn = names.cn;
    provenance.resolved_config_json = std::move(resolved_config_json);
    return provenance;
}

geo::CityBoundary resolve_boundary(const geo::BoundarySpec& spec, const geo::CityNames& names) {
    const bool has_box = spec.bbox.has_value();
    const bool has_osm = !spec.osm_filter.empty();
    const bool has_path = !spec.path.empty();
    const auto fix =
        "Give exactly one boundary: a polygon file (with its field and optionally a value), "
        "an .osm.pbf with an OSM filter, or a bbox.";
    if (has_box) {
        if (has_path || has_osm || !spec.value.empty()) {
            throw Error("boundary", "a bbox and a boundary file are both given", fix);
        }
        return geo::boundary_from_bbox(*spec.bbox);
    }
    if (!has_path) {
        throw Error(
            "boundary",
            has_osm ? "an OSM filter is given without the .osm.pbf to read" : "no boundary given",
            fix);
    }
    if (has_osm) {
        if (!spec.value.empty()) {
            throw Error(spec.path.string(), "both an OSM filter and a field value are given", fix);
        }
        return osm::find_osm_boundary(spec.path, spec.osm_filter);
    }
    if (!spec.value.empty()) {
        return geo::find_boundary_by_value(spec.path, spec.field, spec.value);
    }
    return geo::find_city_boundary(spec.path, spec.field, names);
}

CitySetup set_up_city(const geo::BoundarySpec& spec, const geo::CityNames& names) {
    CitySetup city;
    city.boundary = resolve_boundary(spec, names);
    city.grid = geo::CityGrid::from_bbox(city.boundary.bbox);
    const geo::CityGrid& grid = city.grid;
    spdlog::info(
        "{}: record '{}', bbox ({:.5f}, {:.5f}, {:.5f}, {:.5f}), EPSG:{}, {} x {} cells of 100 m, "
        "{} x {} tiles of 2000 m",
        names.en, city.boundary.matched_value, grid.bbox.lon_min_deg, grid.bbox.lat_min_deg,
        grid.bbox.lon_max_deg, grid.bbox.lat_max_deg, grid.epsg, grid.rows(), grid.cols(),
        grid.rows_2000m(), grid.cols_2000m());
    const int zone_west = geo::utm_zone_of(grid.bbox.lon_min_deg);
    const int zone_east = geo::utm_zone_of(grid.bbox.lon_max_deg);
    if (zone_west != zone_east) {
        spdlog::warn(
            "{}: the box spans UTM zones {}-{}; using zone {} of its centre (EPSG:{}), as the "
            "reference does",
            names.en, zone_west, zone_east, grid.utm_zone, grid.epsg);
    }
    if (grid.rows_2000m() == 0 || grid.cols_2000m() == 0) {
        throw Error(
            spec.bbox ? std::string("--bbox") : spec.path.string(),
            fmt::format("the city '{}' is smaller than one 2000 m tile ({} x {} cells of 100 m)",
                        city.boundary.matched_value, grid.rows(), grid.cols()),
            "Use a boundary of at least 2 km x 2 km.");
    }
    return city;
}

}  // namespace zoomdiff::pipeline
