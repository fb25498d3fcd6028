#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "osm/detail/geos_context.hpp"
#include <geos_c.h>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/geo/city_grid.hpp"

namespace zoomdiff::osm::detail {

/// An axis-aligned box in grid metres (UTM), closed.
struct EnvelopeM {
    double x_min_m = 0;
    double y_min_m = 0;
    double x_max_m = 0;
    double y_max_m = 0;
};

/// The per-cell accumulators of PIPELINE §3.4 on a grid's metre edges, shared by the shapefile and
/// the .osm.pbf readers (one code path for both sources). Geometries are in the grid's UTM CRS.
///
/// * count: +1 in the cell holding the point (or the geometry's GEOS centroid, area-weighted),
///   half-open rule index = (#edges ≤ v) − 1, kept only if 0 ≤ index < N: points on the far
///   east / north edge are dropped.
/// * length / area: the geometry ∩ each closed cell square (GEOS overlay), measured and added, so a
///   segment lying exactly on a cell edge counts in both neighbours. For speed the geometry is
///   first cut into row strips and then cell pieces with GEOSClipByRect on rectangles enlarged by a
///   margin (so nothing inside a closed cell is ever cut); the exact closed-square intersection is
///   done last on the small piece. Same result as intersecting the whole geometry with every cell
///   of its envelope, up to floating-point rounding (~1e-13 relative).
class CellAccumulator {
public:
    CellAccumulator(GeosContext& geos, const geo::CityGrid& grid);

    /// The GEOS context every geometry given to this accumulator must belong to.
    [[nodiscard]] GeosContext& geos() const noexcept { return geos_; }

    [[nodiscard]] std::size_t rows() const noexcept { return y_edges_m_.size() - 1; }

    [[nodiscard]] std::size_t cols() const noexcept { return x_edges_m_.size() - 1; }

    /// The closed metre box of the whole grid.
    [[nodiscard]] const EnvelopeM& grid_box() const noexcept { return grid_box_; }

    /// True when the closed boxes `env` and the grid box share a point.
    [[nodiscard]] bool meets_grid(const EnvelopeM& env) const noexcept;

    /// +1 at the cell of (x_m, y_m) under the half-open rule; false if the point falls outside.
    bool count_point(double x_m, double y_m, NdArray<std::int32_t>& counts) const;

    /// +1 at the cell of the geometry's centroid (a point is used as is). Empty geometries are
    /// skipped. Returns true if counted.
    bool count_centroid(const GEOSGeometry* geom, NdArray<std::int32_t>& counts);

    /// Adds the length (m) of line ∩ closed cell to every cell the line meets.
    void add_length(const GEOSGeometry* line, NdArray<double>& length_m);

    /// Adds the area (m²) of polygon ∩ cell to every cell the polygon meets. A polygon that GEOS
    /// rejects (invalid, TopologyException) is repaired with GEOSMakeValid and measured again;
    /// repaired_count() counts those.
    void add_area(const GEOSGeometry* polygon, NdArray<double>& area_m2);

    /// Polygons repaired with GEOSMakeValid so far.
    [[nodiscard]] std::size_t repaired_count() const noexcept { return repaired_count_; }

    /// Envelope of a non-empty geometry.
    [[nodiscard]] EnvelopeM envelope_of(const GEOSGeometry* geom) const;

private:
    enum class Measure { kLength, kArea };

    /// Cell range [first, last] of the closed interval [lo, hi] on `edges`; first > last if none.
    static std::pair<std::size_t, std::size_t> cell_range(const std::vector<double>& edges,
                                                          double lo, double hi);
    /// Runs the strip / cell decomposition; returns false (and leaves `adds` partial) if a GEOS
    /// call failed.
    bool measure_cells(const GEOSGeometry* geom, Measure measure);
    bool measure_row(const GEOSGeometry* piece, std::size_t row, std::size_t col_first,
                     std::size_t col_last, Measure measure);
    bool measure_cell(const GEOSGeometry* piece, std::size_t row, std::size_t col, Measure measure);
    void add_measure(const GEOSGeometry* geom, Measure measure, NdArray<double>& out);
    /// GEOSClipByRect_r; nullptr result with no error means "nothing inside".
    GeomPtr clip(const GEOSGeometry* geom, double x_min, double y_min, double x_max, double y_max,
                 bool& ok);

    GeosContext& geos_;
    GEOSContextHandle_t ctx_;
    std::vector<double> x_edges_m_;
    std::vector<double> y_edges_m_;
    EnvelopeM grid_box_;
    double margin_m_;
    std::vector<std::pair<std::size_t, double>> adds_;  ///< (flat cell, value) of one geometry
    std::size_t repaired_count_ = 0;
};

}  // namespace zoomdiff::osm::detail
