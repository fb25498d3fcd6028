#include "geo/detail/gdal_util.hpp"

#include <utility>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::geo::detail {

OGRSpatialReference srs_from_epsg(int epsg) {
    OGRSpatialReference srs;
    if (srs.importFromEPSG(epsg) != OGRERR_NONE) {
        throw Error("EPSG:" + std::to_string(epsg), "unknown coordinate reference system",
                    "Check that PROJ's database (proj-data) is installed.", ExitCode::kInternal);
    }
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    return srs;
}

std::unique_ptr<OGRCoordinateTransformation> make_transform(const OGRSpatialReference& from,
                                                            const OGRSpatialReference& to,
                                                            const std::string& subject) {
    std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&from, &to));
    if (!ct) {
        throw Error(subject, "cannot transform coordinates (" + last_gdal_error() + ")",
                    "Give the input a CRS that PROJ can convert to WGS 84.");
    }
    return ct;
}

CityBoundary boundary_of(const OGRGeometry& wgs84_polygon, std::string matched_value,
                         long long feature_id) {
    OGREnvelope env;
    wgs84_polygon.getEnvelope(&env);
    CityBoundary boundary;
    boundary.bbox = {env.MinX, env.MinY, env.MaxX, env.MaxY};
    boundary.matched_value = std::move(matched_value);
    boundary.feature_id = feature_id;
    char* wkt = nullptr;
    wgs84_polygon.exportToWkt(&wkt, wkbVariantIso);
    boundary.polygon_wkt = wkt != nullptr ? wkt : "";
    CPLFree(wkt);
    return boundary;
}

std::string last_gdal_error() {
    const char* msg = CPLGetLastErrorMsg();
    return (msg != nullptr && *msg != '\0') ? std::string(msg) : std::string("unknown error");
}

OGRFeatureUniquePtr GdalReadErrors::next(OGRLayer& layer) {
    CPLPushErrorHandlerEx(&GdalReadErrors::collect, this);
    OGRFeatureUniquePtr feature(layer.GetNextFeature());
    CPLPopErrorHandler();
    return feature;
}

void CPL_STDCALL GdalReadErrors::collect(CPLErr level, CPLErrorNum /*code*/, const char* message) {
    const std::string text = message != nullptr ? message : "";
    if (level == CE_Failure || level == CE_Fatal) {
        auto* self = static_cast<GdalReadErrors*>(CPLGetErrorHandlerUserData());
        if (self->count_++ == 0)
            self->first_ = text;
    } else if (level == CE_Warning) {
        spdlog::warn("GDAL: {}", text);
    } else {
        spdlog::debug("GDAL: {}", text);
    }
}

void GdalReadErrors::throw_if_any(const std::string& subject, const std::string& fix) const {
    if (count_ == 0)
        return;
    throw Error(subject,
                fmt::format("GDAL reported {} error{} while reading its features, so some were "
                            "lost; the first: {}",
                            count_, count_ == 1 ? "" : "s", first_),
                fix);
}

}  // namespace zoomdiff::geo::detail
