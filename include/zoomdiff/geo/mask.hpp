#pragma once

#include <cstdint>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/geo/boundary.hpp"

namespace zoomdiff::geo {

/// 1 where the cell centre lies inside the boundary polygon (holes excluded: a centre in a hole
/// is 0), rows from the south. Centres are the midpoints of the degree edges: `lon_edges_deg`
/// (cols + 1, west to east) and `lat_edges_deg` (rows + 1, south to north). Shape [rows, cols].
///
/// One horizontal scanline per row (even-odd rule over every ring), so the cost is
/// rows × ring vertices + cells: a 1,000 × 1,000 grid over a city polygon takes milliseconds.
/// A centre exactly on the boundary may fall either way.
/// Throws zoomdiff::Error: polygon_wkt empty, not WKT, or not a (multi)polygon; fewer than two
/// edges or edges not increasing.
NdArray<std::uint8_t> centre_mask(const CityBoundary& boundary,
                                  const std::vector<double>& lon_edges_deg,
                                  const std::vector<double>& lat_edges_deg);

}  // namespace zoomdiff::geo
