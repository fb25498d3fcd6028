#include "zoomdiff/geo/mask.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <random>
#include <vector>

#include "pipeline/city_setup.hpp"
#include "support/support.hpp"
#include <gtest/gtest.h>
#include <ogr_geometry.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::geo {
namespace {

constexpr double kPi = 3.14159265358979323846;

CityBoundary from_wkt(const std::string& wkt) {
    CityBoundary b;
    b.matched_value = "test";
    b.polygon_wkt = wkt;
    return b;
}

/// n + 1 edges from `first`, `step` apart.
std::vector<double> edges(double first, double step, int n) {
    std::vector<double> out;
    for (int i = 0; i <= n; ++i) {
        out.push_back(first + step * i);
    }
    return out;
}

TEST(CentreMaskTest, HoleIsZeroRingIsOneOutsideIsZero) {
    // A 10 × 10 square with a 2 × 2 hole; cells of 1 from -1, centres at k + 0.5.
    const auto b = from_wkt("POLYGON ((0 0,10 0,10 10,0 10,0 0),(4 4,6 4,6 6,4 6,4 4))");
    const NdArray<std::uint8_t> mask = centre_mask(b, edges(-1.0, 1.0, 12), edges(-1.0, 1.0, 12));
    ASSERT_EQ(mask.shape(), (std::vector<std::size_t>{12, 12}));
    for (std::size_t row = 0; row < 12; ++row) {
        for (std::size_t col = 0; col < 12; ++col) {
            const double x = -0.5 + static_cast<double>(col);
            const double y = -0.5 + static_cast<double>(row);
            const bool inside =
                x > 0 && x < 10 && y > 0 && y < 10 && !(x > 4 && x < 6 && y > 4 && y < 6);
            EXPECT_EQ(mask.at(row, col), inside ? 1 : 0) << "row " << row << " col " << col;
        }
    }
}

TEST(CentreMaskTest, RowsCountFromTheSouth) {
    // A triangle wide at the south edge: row 0 (south) has more cells inside than the top row.
    const auto b = from_wkt("POLYGON ((0 0,10 0,5 10,0 0))");
    const NdArray<std::uint8_t> mask = centre_mask(b, edges(0.0, 1.0, 10), edges(0.0, 1.0, 10));
    std::size_t south_count = 0;
    std::size_t north_count = 0;
    for (std::size_t col = 0; col < 10; ++col) {
        south_count += mask.at(0, col);
        north_count += mask.at(9, col);
    }
    EXPECT_EQ(south_count, 10U);  // y = 0.5: x in (0.25, 9.75)
    EXPECT_EQ(north_count, 0U);   // y = 9.5: x in (4.75, 5.25), no centre
}

TEST(CentreMaskTest, MultiPolygonPartsAndIslandInAHole) {
    // Part 1 with a hole, part 2 an island inside that hole, part 3 apart.
    const auto b = from_wkt(
        "MULTIPOLYGON (((0 0,9 0,9 9,0 9,0 0),(2 2,7 2,7 7,2 7,2 2)),((4 4,5 4,5 5,4 5,4 4)),"
        "((20 0,21 0,21 1,20 1,20 0)))");
    const NdArray<std::uint8_t> mask = centre_mask(b, edges(0.0, 1.0, 22), edges(0.0, 1.0, 10));
    EXPECT_EQ(mask.at(0, 0), 1);   // (0.5, 0.5): ring of part 1
    EXPECT_EQ(mask.at(3, 3), 0);   // (3.5, 3.5): in the hole
    EXPECT_EQ(mask.at(4, 4), 1);   // (4.5, 4.5): the island
    EXPECT_EQ(mask.at(0, 20), 1);  // (20.5, 0.5): part 3
    EXPECT_EQ(mask.at(0, 15), 0);  // between parts
}

TEST(CentreMaskTest, BadInputIsAnError) {
    const auto square = from_wkt("POLYGON ((0 0,1 0,1 1,0 1,0 0))");
    EXPECT_THROW(centre_mask(from_wkt(""), edges(0, 1, 2), edges(0, 1, 2)), Error);
    EXPECT_THROW(centre_mask(from_wkt("not wkt"), edges(0, 1, 2), edges(0, 1, 2)), Error);
    EXPECT_THROW(centre_mask(from_wkt("LINESTRING (0 0,1 1)"), edges(0, 1, 2), edges(0, 1, 2)),
                 Error);
    EXPECT_THROW(centre_mask(square, {0.0}, edges(0, 1, 2)), Error);
    EXPECT_THROW(centre_mask(square, edges(0, 1, 2), edges(2, -1, 2)), Error);
}

TEST(CentreMaskTest, MilanMillionCellsAgreeWithOgrAndTakeWellUnderASecond) {
    // The real Comune di Milano polygon (ISTAT via openpolis, CC BY 4.0).
    BoundarySpec spec;
    spec.path = test::test_data_dir() / "milan_boundary/limits_P_15_municipalities.geojson";
    spec.field = "name";
    spec.value = "Milano";
    const CityBoundary b = pipeline::resolve_boundary(spec, {"", ""});
    const int n = 1000;
    const auto lon_edges_deg = edges(9.011, (9.313 - 9.011) / n, n);
    const auto lat_edges_deg = edges(45.356, (45.568 - 45.356) / n, n);

    const auto start = std::chrono::steady_clock::now();
    const NdArray<std::uint8_t> mask = centre_mask(b, lon_edges_deg, lat_edges_deg);
    const double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(elapsed_s, 1.0);

    std::size_t inside_count = 0;
    for (const auto v : mask.values()) {
        inside_count += v;
    }
    // Cell area in UTM 32N is about 23.6 m × 23.6 m; Milano is ≈ 180.8 km² (SOURCE.md).
    const double cell_m2 =
        (0.302 / n * 111320.0 * std::cos(45.46 * kPi / 180.0)) * (0.212 / n * 111320.0);
    EXPECT_NEAR(static_cast<double>(inside_count) * cell_m2, 180.8e6, 0.01 * 180.8e6);

    OGRGeometry* g = nullptr;
    ASSERT_EQ(OGRGeometryFactory::createFromWkt(b.polygon_wkt.c_str(), nullptr, &g), OGRERR_NONE);
    const std::unique_ptr<OGRGeometry> polygon(g);
    const std::unique_ptr<OGRGeometry> rings(polygon->Boundary());
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::size_t> pick(0, n - 1);
    int checked_count = 0;
    for (int i = 0; i < 3000; ++i) {
        const std::size_t row = pick(rng);
        const std::size_t col = pick(rng);
        OGRPoint centre(0.5 * (lon_edges_deg[col] + lon_edges_deg[col + 1]),
                        0.5 * (lat_edges_deg[row] + lat_edges_deg[row + 1]));
        if (rings->Distance(&centre) < 1e-9) {
            continue;  // on the boundary: either answer is right
        }
        EXPECT_EQ(mask.at(row, col), polygon->Contains(&centre) ? 1 : 0)
            << "row " << row << " col " << col;
        ++checked_count;
    }
    EXPECT_GT(checked_count, 2900);
    std::cout << "[ info ] Milano 1000x1000 centre mask: " << elapsed_s * 1e3 << " ms, "
              << inside_count << " cells inside ("
              << static_cast<double>(inside_count) * cell_m2 / 1e6 << " km2)\n";
}

}  // namespace
}  // namespace zoomdiff::geo
