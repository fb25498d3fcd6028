#pragma once

#include <filesystem>
#include <string>

#include "zoomdiff/geo/boundary.hpp"

namespace zoomdiff::osm {

/// The one OSM relation in `pbf` carrying every tag of `osm_filter` ("key=value,key=value"),
/// assembled into a multipolygon (outer rings, inner rings as holes) with libosmium in two passes
/// over the file. Relations must have type=multipolygon or type=boundary to be assembled.
/// Throws zoomdiff::Error: file missing or unreadable, filter malformed, no match (counts the
/// boundary relations of the file and lists 10 of them, id, admin_level and name, those carrying
/// most of the filter's tags first), several matches (lists them), member ways missing, rings
/// that do not close.
geo::CityBoundary find_osm_boundary(const std::filesystem::path& pbf,
                                    const std::string& osm_filter);

}  // namespace zoomdiff::osm
