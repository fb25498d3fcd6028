#include "zoomdiff/geo/blocks.hpp"

namespace zoomdiff::geo {

NdArray<double> loc_2000m(const CityGrid& grid) {
    const std::vector<double> lat500 = grid.lat_edges_500m_deg();
    const std::vector<double> lon500 = grid.lon_edges_500m_deg();
    const std::size_t tile_rows = grid.rows_2000m();
    const std::size_t tile_cols = grid.cols_2000m();
    NdArray<double> loc({tile_rows, tile_cols, 4});
    for (std::size_t ti = 0; ti < tile_rows; ++ti) {
        for (std::size_t tj = 0; tj < tile_cols; ++tj) {
            loc.at(ti, tj, 0) = lat500[kCellsPer2000m * ti];
            loc.at(ti, tj, 1) = lat500[kCellsPer2000m * (ti + 1)];
            loc.at(ti, tj, 2) = lon500[kCellsPer2000m * tj];
            loc.at(ti, tj, 3) = lon500[kCellsPer2000m * (tj + 1)];
        }
    }
    return loc;
}

}  // namespace zoomdiff::geo
