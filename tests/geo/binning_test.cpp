#include "zoomdiff/geo/binning.hpp"

#include <limits>

#include <gtest/gtest.h>

namespace zoomdiff::geo {
namespace {

const std::vector<double> kEdges{0.0, 1.0, 2.0, 3.0};  // 3 cells

TEST(BinningTest, ClosedBinKeepsTheLastEdgeInTheLastCell) {
    EXPECT_EQ(closed_bin(kEdges, 0.0), 0U);
    EXPECT_EQ(closed_bin(kEdges, 1.0), 1U);  // an inner edge opens the next cell
    EXPECT_EQ(closed_bin(kEdges, 2.5), 2U);
    EXPECT_EQ(closed_bin(kEdges, 3.0), 2U);
    EXPECT_FALSE(closed_bin(kEdges, -0.1));
    EXPECT_FALSE(closed_bin(kEdges, 3.1));
    EXPECT_FALSE(closed_bin(kEdges, std::numeric_limits<double>::quiet_NaN()));
}

TEST(BinningTest, HalfOpenBinDropsTheFarEdge) {
    EXPECT_EQ(half_open_bin(kEdges, 0.0), 0U);
    EXPECT_EQ(half_open_bin(kEdges, 2.0), 2U);
    EXPECT_FALSE(half_open_bin(kEdges, 3.0));
    EXPECT_FALSE(half_open_bin(kEdges, -1.0));
    EXPECT_FALSE(half_open_bin(kEdges, std::numeric_limits<double>::quiet_NaN()));
}

}  // namespace
}  // namespace zoomdiff::geo
