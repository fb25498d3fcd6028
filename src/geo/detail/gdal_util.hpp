#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <cpl_error.h>
#include <ogr_feature.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

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

/// The fix of a vector file that GDAL could not read whole.
inline constexpr const char* kVectorReadFix =
    "Check that the file is complete (a shapefile needs its .shp, .shx and .dbf; ogrinfo -al -so "
    "lists what GDAL reads), and download it again if it is truncated";

/// A layer read whose GDAL/OGR errors are collected instead of logged and dropped (issue 19: a
/// truncated shapefile was read in part, 337 errors logged, 15 % of its features lost, exit 0).
/// A reader takes its features through next() and calls throw_if_any() after the loop. Only the
/// read's own errors count (a coordinate transformation that fails is the reader's business).
class GdalReadErrors {
public:
    /// layer.GetNextFeature(), its errors collected (warnings still go to the tool's log).
    OGRFeatureUniquePtr next(OGRLayer& layer);

    /// Throws zoomdiff::Error naming `subject` with the count and the first library message.
    void throw_if_any(const std::string& subject, const std::string& fix) const;

    [[nodiscard]] std::size_t count() const noexcept { return count_; }

private:
    static void CPL_STDCALL collect(CPLErr level, CPLErrorNum code, const char* message);

    std::size_t count_ = 0;
    std::string first_;
};

}  // namespace zoomdiff::geo::detail
