#pragma once

#include <memory>
#include <string>

#include <ogr_geometry.h>
#include <ogr_spatialref.h>

#include "zoomdiff/geo/boundary.hpp"

namespace zoomdiff::geo::detail {

/// A spatial reference from an EPSG code, always in lon/lat (x/y) axis order (STYLE §2.6).
OGRSpatialReference srs_from_epsg(int epsg);

/// A transformation between two SRSs; throws zoomdiff::Error naming `subject` on failure.
std::unique_ptr<OGRCoordinateTransformation> make_transform(const OGRSpatialReference& from,
                                                            const OGRSpatialReference& to,
                                                            const std::string& subject);

/// A CityBoundary of a polygon already in WGS 84 lon/lat: its envelope and ISO WKT.
CityBoundary boundary_of(const OGRGeometry& wgs84_polygon, std::string matched_value,
                         long long feature_id);

/// The last GDAL/OGR error message, or "unknown error".
std::string last_gdal_error();

}  // namespace zoomdiff::geo::detail
