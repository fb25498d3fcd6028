#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/geo/city_grid.hpp"

namespace zoomdiff::geo {

/// Sum type of a block sum: integer counts widen to int64 as numpy does, floats keep their type.
template <typename T>
using BlockSumT = std::conditional_t<std::is_integral_v<T>, std::int64_t, T>;

/// 100 m → 500 m: crop to whole 5×5 blocks (dropping the north / east remainder) and sum each
/// block. Input (rows, cols[, K]); output (rows/5, cols/5[, K]). Rows from the south.
template <typename T>
NdArray<BlockSumT<T>> sum_blocks_500m(const NdArray<T>& a) {
    const std::size_t rows = a.dim(0) / kCellsPer500m;
    const std::size_t cols = a.dim(1) / kCellsPer500m;
    const std::size_t depth = a.rank() > 2 ? a.dim(2) : 1;
    std::vector<std::size_t> shape{rows, cols};
    if (a.rank() > 2) {
        shape.push_back(depth);
    }
    NdArray<BlockSumT<T>> out(shape);
    const std::size_t in_cols = a.dim(1);
    // REFCOMPAT: the summation order of the reference's numpy reshape-sum: each block row of 5
    // cells is summed from zero, then the 5 row sums are added in order. Float sums then match
    // the reference bit for bit (another order differs by a few ulp).
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
            for (std::size_t k = 0; k < depth; ++k) {
                BlockSumT<T> acc{};
                for (std::size_t dr = 0; dr < kCellsPer500m; ++dr) {
                    BlockSumT<T> row_sum{};
                    for (std::size_t dc = 0; dc < kCellsPer500m; ++dc) {
                        const std::size_t row = r * kCellsPer500m + dr;
                        const std::size_t col = c * kCellsPer500m + dc;
                        row_sum += static_cast<BlockSumT<T>>(a[(row * in_cols + col) * depth + k]);
                    }
                    acc += row_sum;
                }
                out[(r * cols + c) * depth + k] = acc;
            }
        }
    }
    return out;
}

/// 500 m → 2000 m tiles: crop to multiples of 4 and re-tile without summing. Input
/// (rows, cols[, K]); output (rows/4, cols/4, 4, 4[, K]) with element [I, J, a, b] = 500 m cell
/// (4I + a, 4J + b), a from the south, b from the west.
template <typename T>
NdArray<T> tile_blocks_2000m(const NdArray<T>& a) {
    const std::size_t tile_rows = a.dim(0) / kCellsPer2000m;
    const std::size_t tile_cols = a.dim(1) / kCellsPer2000m;
    const std::size_t depth = a.rank() > 2 ? a.dim(2) : 1;
    std::vector<std::size_t> shape{tile_rows, tile_cols, kCellsPer2000m, kCellsPer2000m};
    if (a.rank() > 2) {
        shape.push_back(depth);
    }
    NdArray<T> out(shape);
    const std::size_t in_cols = a.dim(1);
    std::size_t flat = 0;
    for (std::size_t ti = 0; ti < tile_rows; ++ti) {
        for (std::size_t tj = 0; tj < tile_cols; ++tj) {
            for (std::size_t da = 0; da < kCellsPer2000m; ++da) {
                for (std::size_t db = 0; db < kCellsPer2000m; ++db) {
                    const std::size_t row = ti * kCellsPer2000m + da;
                    const std::size_t col = tj * kCellsPer2000m + db;
                    for (std::size_t k = 0; k < depth; ++k) {
                        out[flat++] = a[(row * in_cols + col) * depth + k];
                    }
                }
            }
        }
    }
    return out;
}

/// Tile extents (R, C, 4): [lat_min, lat_max, lon_min, lon_max] in degrees from the 500 m
/// degree edges (PIPELINE §1.5).
NdArray<double> loc_2000m(const CityGrid& grid);

/// Block means of a (rows, cols, steps) grid over factor × factor blocks: (rows/f, cols/f, steps),
/// zeros and NaN included as they are. The pool of the division operators: the real coarse maps
/// of zoomdiff_eval and every cross-scale consistency use it. Throws (an internal error) if the
/// sizes do not divide.
[[nodiscard]] std::vector<double> block_mean_grid(const std::vector<double>& grid, std::size_t rows,
                                                  std::size_t cols, std::size_t steps,
                                                  std::size_t factor);

/// Cross-scale consistency (EVAL.md) of a fine (rows, cols, steps) grid and its coarse grid
/// (rows/f, cols/f, steps): ‖block_mean_grid(fine) − coarse‖₂ / ‖coarse‖₂ over every value; NaN
/// if the coarse grid is all zero. Throws (an internal error) if the sizes do not match.
[[nodiscard]] double pooled_relative_error(const std::vector<double>& fine, std::size_t rows,
                                           std::size_t cols, std::size_t steps,
                                           const std::vector<double>& coarse, std::size_t factor);

/// Interleave tiles (R, C, 4, 4, D...) to a 500 m grid (4R, 4C, D...): element [4I + a, 4J + b] =
/// tile (I, J) cell (a, b) (MODEL.md §5.6 step 3). `depth` = product of the trailing axes.
template <typename T>
std::vector<T> interleave_tiles(const std::vector<T>& tiles, std::size_t rows, std::size_t cols,
                                std::size_t depth) {
    std::vector<T> out(tiles.size());
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j)
            for (std::size_t a = 0; a < 4; ++a)
                for (std::size_t b = 0; b < 4; ++b)
                    for (std::size_t d = 0; d < depth; ++d)
                        out[(((4 * i + a) * 4 * cols) + 4 * j + b) * depth + d] =
                            tiles[((((i * cols + j) * 4 + a) * 4) + b) * depth + d];
    return out;
}

/// Block means inside each tile: values (items, 4, 4) (any leading axes flattened into `items`) to
/// (items, k, k), each output cell the mean of its (4/k) x (4/k) block of cells; k = 1, 2 or 4.
/// The coarse scales of zoomdiff_infer (2000 m = k 1 of segment 0's end, 1000 m = k 2 of segment
/// 1's).
std::vector<float> pool_tile_cells(const std::vector<float>& values, std::size_t k);

/// Generated values of every tile, tile-major (R * C tiles, ns, 168, k, k) with tile t = I * C + J,
/// to a grid (R k, C k, ns, 168): element [k I + a, k J + b] = tile (I, J) cell (a, b); rows from
/// the south. k = 4 (500 m), 2 (1000 m) or 1 (2000 m).
std::vector<float> tiles_to_grid(const std::vector<float>& tiles, std::size_t rows,
                                 std::size_t cols, std::size_t nsample, std::size_t k);

}  // namespace zoomdiff::geo
