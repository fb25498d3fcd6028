#include "zoomdiff/geo/blocks.hpp"

#include <cmath>
#include <limits>
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

}  // namespace
}  // namespace zoomdiff::geo
