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
/// plain lon/lat box (`bbox`, nothing else set).
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

/// The one OSM relation in `pbf` carrying every tag of `osm_filter` ("key=value,key=value"),
/// assembled into a multipolygon (outer rings, inner rings as holes) with libosmium in two passes
/// over the file. Relations must have type=multipolygon or type=boundary to be assembled.
/// Throws zoomdiff::Error: file missing or unreadable, filter malformed, no match (counts the
/// boundary relations of the file and lists 10 of them, id, admin_level and name, those carrying
/// most of the filter's tags first), several matches (lists them), member ways missing, rings
/// that do not close.
CityBoundary find_osm_boundary(const std::filesystem::path& pbf, const std::string& osm_filter);

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
CityBoundary resolve_boundary(const BoundarySpec& spec, const CityNames& names);

/// A box from "lon_min,lat_min,lon_max,lat_max" (degrees, WGS 84).
/// Throws zoomdiff::Error when the text is not four numbers, a value is out of range, or the box
/// is empty or inverted (min >= max).
BBoxDeg parse_bbox(const std::string& text);

}  // namespace zoomdiff::geo
