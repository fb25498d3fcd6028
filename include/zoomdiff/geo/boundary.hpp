#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/geo/city_names.hpp"

namespace zoomdiff::geo {

/// The reference's boundary field: the Chinese place name of china_city_boundaries_2024.
inline constexpr const char* kReferenceBoundaryField = "地名";

/// One city's boundary record.
struct CityBoundary {
    BBoxDeg bbox;               ///< envelope of the polygon, WGS 84 degrees
    std::string matched_value;  ///< the field value of the chosen record
    long long feature_id = -1;  ///< OGR feature id of the chosen record
    std::string polygon_wkt;    ///< the polygon in WGS 84 (lon/lat), holes kept
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

/// Where a city's boundary comes from: exactly one kind, a polygon file (`path`, `field`,
/// optional `value`), an OSM boundary relation (`path` to an .osm.pbf plus `osm_filter`), or a
/// plain lon/lat box (`bbox`, nothing else set). pipeline::resolve_boundary reads it (the OSM kind
/// through osm::find_osm_boundary, the others through this header).
struct BoundarySpec {
    /// Polygon file (Shapefile/GeoPackage/GeoJSON), or an .osm.pbf when `osm_filter` is set.
    std::filesystem::path path;
    /// File: the field holding the names.
    std::string field = kReferenceBoundaryField;
    /// File: exact value of `field` to pick (case-sensitive first, then case-insensitive);
    /// empty: match the city names as find_city_boundary does.
    std::string value;
    /// OSM: comma-separated key=value tags the relation must carry, all of them
    /// (e.g. "admin_level=8,name=Monaco"); nothing is implied (no boundary=administrative).
    std::string osm_filter;
    /// A plain lon/lat box in WGS 84 degrees.
    std::optional<BBoxDeg> bbox;
};

/// The one record of a polygon file whose `field` equals `value` (case-sensitive first, then
/// case-insensitive): bbox, matched value, OGR feature id, polygon in WGS 84.
/// Throws zoomdiff::Error: everything find_city_boundary throws about the file and field; no
/// record equal to `value` (lists the 5 closest values) or several.
CityBoundary find_boundary_by_value(const std::filesystem::path& path, const std::string& field,
                                    const std::string& value);

/// A plain lon/lat box as a boundary: the rectangle, matched_value "bbox", feature_id -1.
/// Throws zoomdiff::Error for an inverted or out-of-range box.
CityBoundary boundary_from_bbox(const BBoxDeg& b);

/// A box from "lon_min,lat_min,lon_max,lat_max" (degrees, WGS 84).
/// Throws zoomdiff::Error when the text is not four numbers, a value is out of range, or the box
/// is empty or inverted (min >= max).
BBoxDeg parse_bbox(const std::string& text);

}  // namespace zoomdiff::geo
