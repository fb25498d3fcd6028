#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "zoomdiff/geo/boundary.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/geo/city_names.hpp"
#include "zoomdiff/io/cond_store.hpp"

namespace zoomdiff::pipeline {

/// A city's boundary record and the 100 m grid over its envelope, shared by env_extra and
/// grid_meta so that both build the identical grid for the same city.
struct CitySetup {
    geo::CityBoundary boundary;
    geo::CityGrid grid;
};

/// The boundary named by `spec` (see BoundarySpec), polygon in WGS 84 lon/lat.
///
/// File with `value`: the one record whose field equals it (bbox, matched value, OGR feature id,
/// polygon). OSM: the one relation carrying every tag of the filter, assembled into a
/// multipolygon with libosmium (feature_id = relation id, matched_value = its name tag).
/// Box: the rectangle, matched_value "bbox", feature_id -1.
/// Throws zoomdiff::Error: no kind or several kinds set; everything find_city_boundary throws;
/// no record equal to `value` (lists the 5 closest values) or several; OSM filter malformed,
/// matching no relation (lists up to 10 boundary relations found), several relations, member
/// ways missing from the file, rings that do not close; an inverted or out-of-range box.
geo::CityBoundary resolve_boundary(const geo::BoundarySpec& spec, const geo::CityNames& names);

/// Find the city's boundary (a polygon file, an OSM relation or a box) and lay the reference's
/// grid over it; warns when the box spans UTM zones, throws zoomdiff::Error when it is smaller
/// than one 2000 m tile.
CitySetup set_up_city(const geo::BoundarySpec& spec, const geo::CityNames& names);

/// What a pipeline records about itself in its output (DESIGN §3).
io::Provenance provenance_of(std::string tool, std::string command_line, std::uint64_t seed,
                             const geo::CityNames& names, std::string resolved_config_json);

/// Throws zoomdiff::Error "<path>: <what> not found. Pass it with <flag>." when `path` is missing.
void require_exists(const std::filesystem::path& path, const std::string& flag,
                    const std::string& what);

}  // namespace zoomdiff::pipeline
