#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"

namespace zoomdiff::pipeline::detail {

/// Synthetic residents of grid_meta (PIPELINE §2.3 step 5), numbered in cell order (row-major,
/// rows from the south) and, within a cell, in draw order.
struct Residents {
    std::vector<double> lon_deg;      ///< R longitudes
    std::vector<double> lat_deg;      ///< R latitudes
    std::vector<std::uint32_t> cell;  ///< R flat cell indices, row * cols + col (ascending)
    NdArray<std::int32_t> per_cell;   ///< (rows, cols) residents per cell

    [[nodiscard]] std::size_t size() const noexcept { return cell.size(); }
};

/// Residents of one cell: round-half-even of its float32 population (std::nearbyint in the
/// default rounding mode, so 0.5 → 0, 1.5 → 2, 2.5 → 2); 0 for NaN and values below 0.5.
/// Throws zoomdiff::Error when the count does not fit an int32.
std::int64_t residents_of(float population);

/// Draw round-half-even(pop_100m[i, j]) residents per cell: first n latitudes uniform in
/// [lat_edges[i], lat_edges[i+1]), then n longitudes uniform in [lon_edges[j], lon_edges[j+1])
/// (the reference's order), from the stream (seed, kResidentCell, i * cols + j) of
/// seeded_stream.hpp. The result does not depend on `threads`. `pop_100m` must be (rows, cols).
Residents draw_residents(const geo::CityGrid& grid, const NdArray<float>& pop_100m,
                         std::uint64_t seed, int threads, core::Progress& progress);

}  // namespace zoomdiff::pipeline::detail
