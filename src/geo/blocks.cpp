#include "zoomdiff/geo/blocks.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/week.hpp"

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

std::vector<double> block_mean_grid(const std::vector<double>& grid, std::size_t rows,
                                    std::size_t cols, std::size_t steps, std::size_t factor) {
    if (factor == 0 || rows % factor != 0 || cols % factor != 0 ||
        grid.size() != rows * cols * steps) {
        throw Error("geo::block_mean_grid",
                    fmt::format("a {} x {} x {} grid ({} values) cannot be pooled by {}", rows,
                                cols, steps, grid.size(), factor),
                    "This is a bug in zoomdiff; please report it", ExitCode::kInternal);
    }
    if (factor == 1)
        return grid;
    const std::size_t r2 = rows / factor;
    const std::size_t c2 = cols / factor;
    std::vector<double> out(r2 * c2 * steps, 0.0);
    const double inv = 1.0 / static_cast<double>(factor * factor);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            for (std::size_t t = 0; t < steps; ++t)
                out[((r / factor) * c2 + c / factor) * steps + t] +=
                    grid[(r * cols + c) * steps + t] * inv;
    return out;
}

double pooled_relative_error(const std::vector<double>& fine, std::size_t rows, std::size_t cols,
                             std::size_t steps, const std::vector<double>& coarse,
                             std::size_t factor) {
    const std::vector<double> pooled = block_mean_grid(fine, rows, cols, steps, factor);
    if (coarse.size() != pooled.size()) {
        throw Error("geo::pooled_relative_error",
                    fmt::format("{} coarse values for a {} x {} x {} grid pooled by {}",
                                coarse.size(), rows, cols, steps, factor),
                    "This is a bug in zoomdiff; please report it", ExitCode::kInternal);
    }
    double diff = 0.0;
    double norm = 0.0;
    for (std::size_t i = 0; i < pooled.size(); ++i) {
        diff += (pooled[i] - coarse[i]) * (pooled[i] - coarse[i]);
        norm += coarse[i] * coarse[i];
    }
    return norm > 0.0 ? std::sqrt(diff / norm) : std::numeric_limits<double>::quiet_NaN();
}

std::vector<float> pool_tile_cells(const std::vector<float>& values, std::size_t k) {
    if (k != 1 && k != 2 && k != 4)
        throw std::invalid_argument("pool_tile_cells: k must be 1, 2 or 4");
    if (values.size() % 16 != 0)
        throw std::invalid_argument("pool_tile_cells: not a multiple of 4 x 4 cells");
    const std::size_t items = values.size() / 16;
    const std::size_t block = 4 / k;
    std::vector<float> out(items * k * k);
    for (std::size_t i = 0; i < items; ++i)
        for (std::size_t a = 0; a < k; ++a)
            for (std::size_t b = 0; b < k; ++b) {
                double sum = 0.0;
                for (std::size_t u = 0; u < block; ++u)
                    for (std::size_t v = 0; v < block; ++v)
                        sum += values[i * 16 + (a * block + u) * 4 + b * block + v];
                out[(i * k + a) * k + b] =
                    static_cast<float>(sum / static_cast<double>(block * block));
            }
    return out;
}

std::vector<float> tiles_to_grid(const std::vector<float>& tiles, std::size_t rows,
                                 std::size_t cols, std::size_t nsample, std::size_t k) {
    if (tiles.size() != rows * cols * nsample * core::kHoursPerWeek * k * k) {
        throw std::invalid_argument(
            "tiles_to_grid: size does not match rows x cols x nsample x 168 x k x k");
    }
    std::vector<float> grid(tiles.size());
    const std::size_t grid_cols = cols * k;
    for (std::size_t t = 0; t < rows * cols; ++t)
        for (std::size_t s = 0; s < nsample; ++s)
            for (std::size_t h = 0; h < core::kHoursPerWeek; ++h)
                for (std::size_t a = 0; a < k; ++a)
                    for (std::size_t b = 0; b < k; ++b) {
                        const std::size_t row = (t / cols) * k + a;
                        const std::size_t col = (t % cols) * k + b;
                        grid[((row * grid_cols + col) * nsample + s) * core::kHoursPerWeek + h] =
                            tiles[(((t * nsample + s) * core::kHoursPerWeek + h) * k + a) * k + b];
                    }
    return grid;
}

}  // namespace zoomdiff::geo
