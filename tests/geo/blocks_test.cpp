#include "zoomdiff/geo/blocks.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::geo {
namespace {

// A 4 x 2 grid of 2 steps: cell (r, c) holds r * 10 + c at step 0 and its double at step 1.
std::vector<double> four_by_two() {
    std::vector<double> grid;
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 2; ++c) {
            grid.push_back(r * 10.0 + c);
            grid.push_back(2.0 * (r * 10.0 + c));
        }
    return grid;
}

TEST(BlockMeanGrid, TwoByTwoBlocksOfAKnownGrid) {
    // 2 × 4 cells, 2 steps: value = 10 row + col + 100 step.
    std::vector<double> grid;
    for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 4; ++c)
            for (int t = 0; t < 2; ++t)
                grid.push_back(10.0 * r + c + 100.0 * t);
    const std::vector<double> out = block_mean_grid(grid, 2, 4, 2, 2);
    // Block (0, 0): cells (0,0) (0,1) (1,0) (1,1) → mean 5.5; block (0, 1): 7.5.
    EXPECT_EQ(out, (std::vector<double>{5.5, 105.5, 7.5, 107.5}));
    EXPECT_EQ(block_mean_grid(grid, 2, 4, 2, 1), grid);
    EXPECT_THROW((void)block_mean_grid(grid, 2, 4, 2, 4), Error);  // 2 rows do not divide by 4
    EXPECT_THROW((void)block_mean_grid(grid, 2, 4, 3, 2), Error);  // not 2 x 4 x 3 values
}

TEST(BlockMeanGrid, NaNPropagatesToItsBlockOnly) {
    std::vector<double> grid(4 * 4, 1.0);
    grid[0] = std::numeric_limits<double>::quiet_NaN();
    const std::vector<double> out = block_mean_grid(grid, 4, 4, 1, 2);
    EXPECT_TRUE(std::isnan(out[0]));
    EXPECT_EQ(out[1], 1.0);
    EXPECT_EQ(out[3], 1.0);
}

TEST(BlockMeanGrid, PooledRelativeErrorOfACoarseGrid) {
    const std::vector<double> exact{5.5, 11.0, 25.5, 51.0};
    EXPECT_DOUBLE_EQ(pooled_relative_error(four_by_two(), 4, 2, 2, exact, 2), 0.0);
    std::vector<double> doubled = exact;
    for (double& v : doubled)
        v *= 2.0;
    EXPECT_DOUBLE_EQ(pooled_relative_error(four_by_two(), 4, 2, 2, doubled, 2), 0.5);
    EXPECT_TRUE(std::isnan(pooled_relative_error(four_by_two(), 4, 2, 2, {0, 0, 0, 0}, 2)));
    EXPECT_THROW((void)pooled_relative_error(four_by_two(), 4, 2, 2, {1.0, 2.0}, 2), Error);
}

/// A value that names its tile, cell, sample and hour.
float code(std::size_t i, std::size_t j, std::size_t a, std::size_t b, std::size_t s,
           std::size_t h) {
    return static_cast<float>(((((i * 10 + j) * 10 + a) * 10 + b) * 10 + s) * 1000 + h);
}

void check_placement(std::size_t rows, std::size_t cols, std::size_t ns, std::size_t k) {
    SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(cols) + " k " + std::to_string(k));
    std::vector<float> tiles(rows * cols * ns * 168 * k * k);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j)
            for (std::size_t s = 0; s < ns; ++s)
                for (std::size_t h = 0; h < 168; ++h)
                    for (std::size_t a = 0; a < k; ++a)
                        for (std::size_t b = 0; b < k; ++b)
                            tiles[((((i * cols + j) * ns + s) * 168 + h) * k + a) * k + b] =
                                code(i, j, a, b, s, h);
    const auto grid = tiles_to_grid(tiles, rows, cols, ns, k);
    for (std::size_t row = 0; row < rows * k; ++row)
        for (std::size_t col = 0; col < cols * k; ++col)
            for (std::size_t s = 0; s < ns; ++s)
                for (const std::size_t h : {std::size_t{0}, std::size_t{77}, std::size_t{167}}) {
                    ASSERT_EQ(grid[((row * cols * k + col) * ns + s) * 168 + h],
                              code(row / k, col / k, row % k, col % k, s, h))
                        << "row " << row << " col " << col;
                }
}

TEST(TileBlocks, TilesLandWhereTheyBelongOnSquareAndNonSquareGrids) {
    for (const std::size_t k : {1, 2, 4}) {
        check_placement(2, 3, 2, k);  // non-square, R < C
        check_placement(3, 2, 1, k);  // non-square, R > C
        check_placement(3, 3, 2, k);  // square (the reference transposes these: D-44)
    }
    EXPECT_THROW(tiles_to_grid(std::vector<float>(5), 2, 3, 1, 4), std::invalid_argument);
}

TEST(TileBlocks, PoolingTakesBlockMeansInsideEachTile) {
    std::vector<float> cells(2 * 16);
    for (std::size_t i = 0; i < cells.size(); ++i)
        cells[i] = static_cast<float>(i);  // item 0: 0..15, item 1: 16..31
    EXPECT_EQ(pool_tile_cells(cells, 4), cells);
    EXPECT_EQ(pool_tile_cells(cells, 1), (std::vector<float>{7.5F, 23.5F}));
    // 2 x 2 blocks of rows (a) and columns (b): (0+1+4+5)/4 = 2.5, (2+3+6+7)/4 = 4.5, ...
    EXPECT_EQ(pool_tile_cells(cells, 2),
              (std::vector<float>{2.5F, 4.5F, 10.5F, 12.5F, 18.5F, 20.5F, 26.5F, 28.5F}));
    EXPECT_THROW(pool_tile_cells(cells, 3), std::invalid_argument);
    // Placement after pooling on a square grid: tile (I, J)'s 2000 m value lands at [I, J].
    std::vector<float> tiles(3 * 3 * 168 * 16);
    for (std::size_t t = 0; t < 9; ++t)
        for (std::size_t h = 0; h < 168; ++h)
            for (std::size_t c = 0; c < 16; ++c)
                tiles[(t * 168 + h) * 16 + c] = static_cast<float>(t * 1000 + h + c);
    const auto grid = tiles_to_grid(pool_tile_cells(tiles, 1), 3, 3, 1, 1);
    EXPECT_EQ(grid[(1 * 3 + 2) * 168 + 10], 5000.0F + 10.0F + 7.5F);
}

TEST(TileBlocks, InterleaveMatchesTheReferencesRule) {
    const std::size_t rows = 2;
    const std::size_t cols = 3;
    std::vector<int> tiles(rows * cols * 16 * 2);
    for (std::size_t t = 0; t < rows * cols; ++t)
        for (std::size_t c = 0; c < 16; ++c)
            for (std::size_t d = 0; d < 2; ++d)
                tiles[(t * 16 + c) * 2 + d] = static_cast<int>(t * 100 + c * 2 + d);
    const auto grid = interleave_tiles(tiles, rows, cols, 2);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j)
            for (std::size_t a = 0; a < 4; ++a)
                for (std::size_t b = 0; b < 4; ++b)
                    for (std::size_t d = 0; d < 2; ++d)
                        EXPECT_EQ(grid[((4 * i + a) * 12 + 4 * j + b) * 2 + d],
                                  static_cast<int>((i * cols + j) * 100 + (a * 4 + b) * 2 + d));
}

}  // namespace
}  // namespace zoomdiff::geo
