#pragma once

#include <cstddef>
#include <vector>

namespace zoomdiff::geo {

/// A lon/lat envelope in degrees (WGS 84).
struct BBoxDeg {
    double lon_min_deg = 0;
    double lat_min_deg = 0;
    double lon_max_deg = 0;
    double lat_max_deg = 0;
};

/// Edge length of the base grid.
inline constexpr double kBaseCellSizeM = 100.0;
/// 100 m cells per 500 m cell side, 500 m cells per 2000 m tile side.
inline constexpr std::size_t kCellsPer500m = 5;
inline constexpr std::size_t kCellsPer2000m = 4;

/// The reference's 100 m grid of a city (PIPELINE §1.3), in the UTM zone of the bbox centre.
///
/// Rows count from the south, columns from the west (DESIGN §3). Metre edges start at the
/// projected lower-left corner and overshoot the box on the east / north. Degree edges are the
/// inverse projection of the metre edges along the projected box's middle lines, so the two
/// disagree away from those lines (the reference does this too: population, POI and stations use
/// the degree edges, OSM statistics the metre edges).
struct CityGrid {
    BBoxDeg bbox;
    int utm_zone = 0;
    bool north = true;
    int epsg = 0;
    std::vector<double> x_edges_m;      ///< cols + 1 eastings, west to east
    std::vector<double> y_edges_m;      ///< rows + 1 northings, south to north
    std::vector<double> lon_edges_deg;  ///< cols + 1
    std::vector<double> lat_edges_deg;  ///< rows + 1

    [[nodiscard]] std::size_t rows() const noexcept { return y_edges_m.size() - 1; }

    [[nodiscard]] std::size_t cols() const noexcept { return x_edges_m.size() - 1; }

    /// 500 m cells (whole 5×5 blocks only; the north / east remainder is dropped).
    [[nodiscard]] std::size_t rows_500m() const noexcept { return rows() / kCellsPer500m; }

    [[nodiscard]] std::size_t cols_500m() const noexcept { return cols() / kCellsPer500m; }

    /// 2000 m tiles (whole 4×4 blocks of 500 m cells).
    [[nodiscard]] std::size_t rows_2000m() const noexcept { return rows_500m() / kCellsPer2000m; }

    [[nodiscard]] std::size_t cols_2000m() const noexcept { return cols_500m() / kCellsPer2000m; }

    /// Every 5th degree edge: the 500 m grid.
    [[nodiscard]] std::vector<double> lon_edges_500m_deg() const;
    [[nodiscard]] std::vector<double> lat_edges_500m_deg() const;

    /// Build the grid of `bbox`. Throws zoomdiff::Error for an empty or inverted box.
    static CityGrid from_bbox(const BBoxDeg& bbox);
};

/// UTM zone number (1..60) of a longitude, as the reference computes it (no special zones).
int utm_zone_of(double lon_deg);

/// EPSG code of WGS 84 / UTM zone `zone`, north or south.
int utm_epsg(int zone, bool north);

}  // namespace zoomdiff::geo
