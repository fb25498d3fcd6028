#pragma once

#include <filesystem>
#include <string>

#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/geo/city_names.hpp"

namespace zoomdiff::geo {

/// The reference's boundary field: the Chinese place name of china_city_boundaries_2024.
inline constexpr const char* kReferenceBoundaryField = "地名";

/// One city's boundary record.
struct CityBoundary {
    BBoxDeg bbox;              ///< envelope of the polygon, WGS 84 degrees
    std::string matched_value; ///< the field value of the chosen record
    long long feature_id = -1; ///< OGR feature id of the chosen record
    std::string polygon_wkt;   ///< the polygon in WGS 84 (lon/lat), holes kept
};

/// Find a city in a polygon layer (Shapefile, GeoPackage, GeoJSON: anything OGR reads).
///
/// With the reference's field 地名 the Chinese name is matched as a substring (the reference's
/// rule, PIPELINE §1.2), otherwise the field is compared with both names case-insensitively,
/// exactly first, then as a substring. An exact match (also "<name>市") wins over substring
/// matches; several non-exact matches are an error listing them (the reference silently takes
/// the first). A layer without CRS is taken as WGS 84 (with a warning); another CRS is converted.
/// Throws zoomdiff::Error: missing file, no polygon layer, unknown field (lists the fields),
/// no match (lists close values), ambiguous match.
CityBoundary find_city_boundary(const std::filesystem::path& path, const std::string& field,
                                const CityNames& names);

}  // namespace zoomdiff::geo
