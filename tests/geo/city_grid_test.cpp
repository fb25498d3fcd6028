#include "zoomdiff/geo/city_grid.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/geo/blocks.hpp"
#include "zoomdiff/geo/city_names.hpp"

namespace zoomdiff::geo {
namespace {

TEST(CityGridTest, EdgesStep100mFromTheProjectedSouthWestCorner) {
    const CityGrid grid = CityGrid::from_bbox({115.80, 28.68, 115.90, 28.73});
    EXPECT_EQ(grid.epsg, 32650);
    ASSERT_GE(grid.cols(), 2U);
    EXPECT_DOUBLE_EQ(grid.x_edges_m[1] - grid.x_edges_m[0], 100.0);
    EXPECT_DOUBLE_EQ(grid.y_edges_m[1] - grid.y_edges_m[0], 100.0);
    EXPECT_EQ(grid.lon_edges_deg.size(), grid.cols() + 1);
    // The grid overshoots the box on the east and north only.
    EXPECT_GE(grid.lon_edges_deg.back(), 115.90 - 1e-3);
    EXPECT_NEAR(grid.lat_edges_deg.front(), 28.68, 1e-3);
    EXPECT_TRUE(std::is_sorted(grid.lat_edges_deg.begin(), grid.lat_edges_deg.end()));
}

TEST(CityGridTest, ZoneAndHemisphereFromTheCentre) {
    EXPECT_EQ(utm_zone_of(9.19), 32);
    EXPECT_EQ(utm_zone_of(-0.1), 30);
    EXPECT_EQ(utm_epsg(32, true), 32632);
    EXPECT_EQ(utm_epsg(19, false), 32719);
    const CityGrid south = CityGrid::from_bbox({-70.70, -33.50, -70.60, -33.40});
    EXPECT_EQ(south.epsg, 32719);
    EXPECT_FALSE(south.north);
}

TEST(CityGridTest, EmptyBoxIsAnInputError) {
    EXPECT_THROW(CityGrid::from_bbox({116.0, 28.0, 116.0, 28.5}), Error);
    EXPECT_THROW(CityGrid::from_bbox({116.0, 28.5, 117.0, 28.0}), Error);
}

TEST(BlocksTest, SumTo500mDropsTheNorthEastRemainder) {
    NdArray<std::int32_t> a({11, 12}, 1);
    a.at(10, 0) = 100;  // row 10 is the remainder: dropped
    const auto s = sum_blocks_500m(a);
    ASSERT_EQ(s.shape(), (std::vector<std::size_t>{2, 2}));
    EXPECT_EQ(s.at(0, 0), 25);
    EXPECT_EQ(s.at(1, 1), 25);
}

TEST(BlocksTest, TilesKeepSouthWestOrder) {
    NdArray<double> a({8, 4, 2});
    for (std::size_t r = 0; r < 8; ++r) {
        for (std::size_t c = 0; c < 4; ++c) {
            a.at(r, c, 0) = static_cast<double>(10 * r + c);
            a.at(r, c, 1) = -1;
        }
    }
    const auto t = tile_blocks_2000m(a);
    ASSERT_EQ(t.shape(), (std::vector<std::size_t>{2, 1, 4, 4, 2}));
    // element [I, J, a, b, k] = 500 m cell (4I + a, 4J + b)
    const auto at = [&](std::size_t i, std::size_t j, std::size_t da, std::size_t db,
                        std::size_t k) { return t[(((i * 1 + j) * 4 + da) * 4 + db) * 2 + k]; };
    EXPECT_EQ(at(1, 0, 2, 3, 0), 10.0 * 6 + 3);
    EXPECT_EQ(at(0, 0, 0, 0, 1), -1.0);
}

TEST(CityNamesTest, ChineseAndEnglishResolveBothWays) {
    EXPECT_EQ(resolve_city_names("Nanchang").cn, "南昌");
    EXPECT_EQ(resolve_city_names("南昌").en, "Nanchang");
    const CityNames milan = resolve_city_names("Milano");
    EXPECT_EQ(milan.cn, "Milano");
    EXPECT_EQ(milan.en, "Milano");
    EXPECT_EQ(resolve_province_en("江西省"), "Jiangxi");
    EXPECT_EQ(resolve_province_en("Lombardia"), "Lombardia");
}

}  // namespace
}  // namespace zoomdiff::geo
