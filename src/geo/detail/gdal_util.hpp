#pragma once

#include <memory>
#include <string>

#include <ogr_spatialref.h>

namespace zoomdiff::geo::detail {

/// A spatial reference from an EPSG code, always in lon/lat (x/y) axis order (STYLE §2.6).
OGRSpatialReference srs_from_epsg(int epsg);

/// A transformation between two SRSs; throws zoomdiff::Error naming `subject` on failure.
std::unique_ptr<OGRCoordinateTransformation> make_transform(const OGRSpatialReference& from,
                                                            const OGRSpatialReference& to,
                                                            const std::string& subject);

/// The last GDAL/OGR error message, or "unknown error".
std::string last_gdal_error();

}  // namespace zoomdiff::geo::detail
