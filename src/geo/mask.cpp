#include "zoomdiff/geo/mask.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <ogr_geometry.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::geo {
namespace {

/// One ring edge, as two vertices.
struct Edge {
    double x0, y0, x1, y1;
};

void add_ring(const OGRLinearRing* ring, std::vector<Edge>& edges) {
    const int n = ring->getNumPoints();
    for (int i = 0; i + 1 < n; ++i) {
        edges.push_back({ring->getX(i), ring->getY(i), ring->getX(i + 1), ring->getY(i + 1)});
    }
    // An unclosed ring (not valid WKT for a polygon, but cheap to tolerate) closes implicitly.
    if (n > 2 && (ring->getX(0) != ring->getX(n - 1) || ring->getY(0) != ring->getY(n - 1))) {
        edges.push_back({ring->getX(n - 1), ring->getY(n - 1), ring->getX(0), ring->getY(0)});
    }
}

void add_polygon(const OGRPolygon* polygon, std::vector<Edge>& edges) {
    for (const OGRLinearRing* ring : *polygon) {
        add_ring(ring, edges);
    }
}

/// Every ring edge of a Polygon or MultiPolygon; outer and inner rings alike, since the even-odd
/// rule makes a hole (and a part inside another part's hole) come out right by itself.
std::vector<Edge> ring_edges(const OGRGeometry& geometry, const std::string& subject) {
    std::vector<Edge> edges;
    switch (wkbFlatten(geometry.getGeometryType())) {
        case wkbPolygon:
            add_polygon(geometry.toPolygon(), edges);
            break;
        case wkbMultiPolygon:
            for (const OGRPolygon* polygon : *geometry.toMultiPolygon()) {
                add_polygon(polygon, edges);
            }
            break;
        default:
            throw Error(
                subject,
                fmt::format("the boundary is a {}, not a polygon", geometry.getGeometryName()),
                "Use a polygon boundary (a bbox, a polygon record or an OSM boundary relation).");
    }
    return edges;
}

void check_edges(const std::vector<double>& edges_deg, const char* what) {
    if (edges_deg.size() < 2 || !std::is_sorted(edges_deg.begin(), edges_deg.end()) ||
        std::adjacent_find(edges_deg.begin(), edges_deg.end()) != edges_deg.end()) {
        throw Error("centre mask",
                    fmt::format("{} edges must be at least two increasing values (got {})", what,
                                edges_deg.size()),
                    "Pass the grid's degree edges (CityGrid::lon_edges_deg / lat_edges_deg).");
    }
}

}  // namespace

NdArray<std::uint8_t> centre_mask(const CityBoundary& boundary,
                                  const std::vector<double>& lon_edges_deg,
                                  const std::vector<double>& lat_edges_deg) {
    const std::string subject =
        "boundary '" +
        (boundary.matched_value.empty() ? std::string("?") : boundary.matched_value) + "'";
    check_edges(lon_edges_deg, "longitude");
    check_edges(lat_edges_deg, "latitude");
    if (boundary.polygon_wkt.empty()) {
        throw Error(subject, "has no polygon",
                    "Resolve the boundary first (pipeline::resolve_boundary fills polygon_wkt).");
    }
    OGRGeometry* parsed = nullptr;
    if (OGRGeometryFactory::createFromWkt(boundary.polygon_wkt.c_str(), nullptr, &parsed) !=
            OGRERR_NONE ||
        parsed == nullptr) {
        throw Error(subject, "polygon_wkt is not WKT",
                    "Resolve the boundary first (pipeline::resolve_boundary).");
    }
    const std::unique_ptr<OGRGeometry> geometry(parsed);
    const std::vector<Edge> edges = ring_edges(*geometry, subject);

    const std::size_t rows = lat_edges_deg.size() - 1;
    const std::size_t cols = lon_edges_deg.size() - 1;
    std::vector<double> centre_lon_deg(cols);
    for (std::size_t col = 0; col < cols; ++col) {
        centre_lon_deg[col] = 0.5 * (lon_edges_deg[col] + lon_edges_deg[col + 1]);
    }

    NdArray<std::uint8_t> mask({rows, cols}, 0);  // [rows, cols]
    std::vector<double> crossings_deg;
    for (std::size_t row = 0; row < rows; ++row) {
        const double y = 0.5 * (lat_edges_deg[row] + lat_edges_deg[row + 1]);
        // Scanline: where the row's centre line crosses the rings. Half-open in y, so a vertex
        // on the line is counted once.
        crossings_deg.clear();
        for (const Edge& e : edges) {
            if ((e.y0 > y) != (e.y1 > y)) {
                crossings_deg.push_back(e.x0 + (y - e.y0) * (e.x1 - e.x0) / (e.y1 - e.y0));
            }
        }
        std::sort(crossings_deg.begin(), crossings_deg.end());
        // Between crossing 2k and 2k+1 the line is inside (even-odd rule).
        for (std::size_t k = 0; k + 1 < crossings_deg.size(); k += 2) {
            const auto first =
                std::lower_bound(centre_lon_deg.begin(), centre_lon_deg.end(), crossings_deg[k]);
            const auto last = std::lower_bound(first, centre_lon_deg.end(), crossings_deg[k + 1]);
            for (auto it = first; it != last; ++it) {
                mask.at(row, static_cast<std::size_t>(it - centre_lon_deg.begin())) = 1;
            }
        }
    }
    return mask;
}

}  // namespace zoomdiff::geo
