#include "zoomdiff/geo/city_grid.hpp"

#include <cmath>
#include <string>

#include "geo/detail/gdal_util.hpp"
#include <fmt/format.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::geo {

int utm_zone_of(double lon_deg) {
    return static_cast<int>(std::floor((lon_deg + 180.0) / 6.0)) + 1;
}

int utm_epsg(int zone, bool north) {
    return (north ? 32600 : 32700) + zone;
}

namespace {

std::vector<double> every_fifth(const std::vector<double>& edges) {
    std::vector<double> out;
    for (std::size_t k = 0; k < edges.size(); k += kCellsPer500m) {
        out.push_back(edges[k]);
    }
    return out;
}

}  // namespace

std::vector<double> CityGrid::lon_edges_500m_deg() const {
    return every_fifth(lon_edges_deg);
}

std::vector<double> CityGrid::lat_edges_500m_deg() const {
    return every_fifth(lat_edges_deg);
}

CityGrid CityGrid::from_bbox(const BBoxDeg& bbox) {
    if (!(bbox.lon_max_deg > bbox.lon_min_deg) || !(bbox.lat_max_deg > bbox.lat_min_deg) ||
        !std::isfinite(bbox.lon_min_deg + bbox.lon_max_deg + bbox.lat_min_deg + bbox.lat_max_deg)) {
        throw Error(fmt::format("bbox ({}, {}, {}, {})", bbox.lon_min_deg, bbox.lat_min_deg,
                                bbox.lon_max_deg, bbox.lat_max_deg),
                    "the city envelope is empty", "Check the boundary polygon of the city.");
    }
    CityGrid grid;
    grid.bbox = bbox;
    const double lon_c = (bbox.lon_min_deg + bbox.lon_max_deg) / 2.0;
    const double lat_c = (bbox.lat_min_deg + bbox.lat_max_deg) / 2.0;
    grid.utm_zone = utm_zone_of(lon_c);
    grid.north = lat_c >= 0.0;
    grid.epsg = utm_epsg(grid.utm_zone, grid.north);

    const OGRSpatialReference wgs84 = detail::srs_from_epsg(4326);
    const OGRSpatialReference utm = detail::srs_from_epsg(grid.epsg);
    const auto fwd = detail::make_transform(wgs84, utm, "grid");
    const auto inv = detail::make_transform(utm, wgs84, "grid");

    // REFCOMPAT: only the lower-left and upper-right corners are projected (PIPELINE P-1).
    double xs[2] = {bbox.lon_min_deg, bbox.lon_max_deg};
    double ys[2] = {bbox.lat_min_deg, bbox.lat_max_deg};
    if (!fwd->Transform(2, xs, ys)) {
        throw Error("grid", "cannot project the city envelope to UTM",
                    "Check the boundary polygon.");
    }
    const double x_min = xs[0];
    const double y_min = ys[0];
    const double x_max = xs[1];
    const double y_max = ys[1];
    const auto nx = static_cast<std::size_t>(std::ceil((x_max - x_min) / kBaseCellSizeM));
    const auto ny = static_cast<std::size_t>(std::ceil((y_max - y_min) / kBaseCellSizeM));
    for (std::size_t k = 0; k <= nx; ++k) {
        grid.x_edges_m.push_back(x_min + kBaseCellSizeM * static_cast<double>(k));
    }
    for (std::size_t k = 0; k <= ny; ++k) {
        grid.y_edges_m.push_back(y_min + kBaseCellSizeM * static_cast<double>(k));
    }

    // Degree edges along the middle lines of the projected box.
    const double y_mid = (y_min + y_max) / 2.0;
    const double x_mid = (x_min + x_max) / 2.0;
    std::vector<double> lon = grid.x_edges_m;
    std::vector<double> lon_y(lon.size(), y_mid);
    std::vector<double> lat_x(grid.y_edges_m.size(), x_mid);
    std::vector<double> lat = grid.y_edges_m;
    if (!inv->Transform(lon.size(), lon.data(), lon_y.data()) ||
        !inv->Transform(lat.size(), lat_x.data(), lat.data())) {
        throw Error("grid", "cannot convert grid edges back to degrees",
                    "Check the boundary polygon.");
    }
    grid.lon_edges_deg = std::move(lon);
    grid.lat_edges_deg = std::move(lat);
    return grid;
}

}  // namespace zoomdiff::geo
