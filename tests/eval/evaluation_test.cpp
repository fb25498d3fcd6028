// The pieces of zoomdiff_eval around the metrics: block means of the real grid, the
// condition-file convention and the Markdown table.
#include "zoomdiff/eval/evaluation.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::eval {
namespace {

TEST(EvalBlockMean, TwoByTwoBlocksOfAKnownGrid) {
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
}

TEST(EvalBlockMean, NaNPropagatesToItsBlockOnly) {
    std::vector<double> grid(4 * 4, 1.0);
    grid[0] = std::numeric_limits<double>::quiet_NaN();
    const std::vector<double> out = block_mean_grid(grid, 4, 4, 1, 2);
    EXPECT_TRUE(std::isnan(out[0]));
    EXPECT_EQ(out[1], 1.0);
    EXPECT_EQ(out[3], 1.0);
}

TEST(EvalCondFile, FollowsTheCityLayout) {
    EXPECT_EQ(cond_file_for("/r/Nanchang/data/Nanchang_traffic_data.h5"),
              std::filesystem::path("/r/Nanchang/cond/Nanchang_cond.h5"));
}

TEST(EvalMarkdown, BestValuePerRowInBold) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::string md = markdown_table(
        {"a", "b", "c"}, {{"err", true, {2.0, 1.0, nan}}, {"ssim", false, {0.5, 0.9, 0.9}}});
    EXPECT_NE(md.find("| metric | a | b | c |"), std::string::npos) << md;
    EXPECT_NE(md.find("| err | 2 | **1** | – |"), std::string::npos) << md;
    EXPECT_NE(md.find("| ssim | 0.5 | **0.9** | **0.9** |"), std::string::npos) << md;  // ties
}

}  // namespace
}  // namespace zoomdiff::eval
