// Conditions for generation: every tile, placed where it belongs on square and non-square grids.
#include "zoomdiff/data/condition_tiles.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "support/errors.hpp"
#include "support/support.hpp"
#include "support/tiny_city.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::data {
namespace {

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

TEST(ConditionTilesTest, TilesLandWhereTheyBelongOnSquareAndNonSquareGrids) {
    for (const std::size_t k : {1, 2, 4}) {
        check_placement(2, 3, 2, k);  // non-square, R < C
        check_placement(3, 2, 1, k);  // non-square, R > C
        check_placement(3, 3, 2, k);  // square (the reference transposes these: D-44)
    }
    EXPECT_THROW(tiles_to_grid(std::vector<float>(5), 2, 3, 1, 4), std::invalid_argument);
}

TEST(ConditionTilesTest, PoolingTakesBlockMeansInsideEachTile) {
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

TEST(ConditionTilesTest, InterleaveMatchesTheReferencesRule) {
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

TEST(ConditionTilesTest, EveryTileIsKeptAndConditionsMatchTheFile) {
    test::TempDir dir;
    test::TinyCityOptions options;
    options.zero_tiles = {1};  // a training filter would drop it; generation keeps it
    test::write_tiny_city(dir.path(), "Nanchang", "traffic", 3, 3, options);
    const auto source = locate_conditions(dir.path(), "南昌");
    EXPECT_EQ(source.city, "Nanchang");
    for (const auto layout : {StaticLayout::kCorrected, StaticLayout::kReference}) {
        const auto c = load_condition_tiles(source, layout);
        EXPECT_EQ(c.tiles, 9);
        EXPECT_EQ(c.static_channels, static_channels(layout));
        EXPECT_EQ(c.static_cond.size(), 9U * static_cast<std::size_t>(c.static_channels) * 16);
        EXPECT_EQ(c.poi.size(), 9U * 21 * 16);
        EXPECT_EQ(c.loc.size(), 9U * 4);
        EXPECT_EQ(c.conditions_500m.pop.shape(), (std::vector<std::size_t>{12, 12}));
        EXPECT_EQ(c.conditions_500m.poi.shape(), (std::vector<std::size_t>{12, 12, 21}));
        EXPECT_GT(c.pop_mean, 0.0);
        // Population of tile (1, 2) cell (3, 0): static channel 0 and pop_500m agree.
        const std::size_t t = 1 * 3 + 2;
        EXPECT_FLOAT_EQ(
            c.static_cond[(t * static_cast<std::size_t>(c.static_channels) + 0) * 16 + 3 * 4 + 0],
            c.conditions_500m.pop.at(4 * 1 + 3, 4 * 2 + 0));
    }
}

TEST(ConditionTilesTest, NanConditionNamesTheCellAndMissingFilesNameTheTool) {
    test::TempDir dir;
    test::TinyCityOptions options;
    options.edit = [](io::CityData&, io::CityConditions& cond) {
        cond.population.at(25, 47) =
            std::numeric_limits<float>::quiet_NaN();  // tile (1, 2), 500 m cell (1, 1)
    };
    test::write_tiny_city(dir.path(), "Wuhan", "traffic", 2, 3, options);
    const auto message = test::error_of([&] {
        load_condition_tiles(locate_conditions(dir.path(), "Wuhan"), StaticLayout::kCorrected);
    });
    EXPECT_NE(message.find("tile (row 1, col 2)"), std::string::npos) << message;
    EXPECT_NE(message.find("Wuhan_cond.h5"), std::string::npos) << message;
    const auto missing = test::error_of([&] { locate_conditions(dir.path(), "Xian"); });
    EXPECT_NE(missing.find("env_extra"), std::string::npos) << missing;
}

TEST(ConditionTilesTest, ANegativeConditionIsRefusedNamingTheArrayAndIndex) {
    // issue 19: a negative population made 95 % of the generated cells negative, exit 0.
    test::TempDir dir;
    test::TinyCityOptions options;
    options.edit = [](io::CityData&, io::CityConditions& cond) {
        // tile (1, 2), 500 m cell (1, 1): enough to make the mean of its 100 m pixels negative
        cond.population.at(25, 47) = -1.0e6F;
    };
    test::write_tiny_city(dir.path(), "Wuhan", "traffic", 2, 3, options);
    for (const auto layout : {StaticLayout::kCorrected, StaticLayout::kReference}) {
        const auto message = test::error_of(
            [&] { load_condition_tiles(locate_conditions(dir.path(), "Wuhan"), layout); });
        EXPECT_NE(message.find("Wuhan_cond.h5"), std::string::npos) << message;
        EXPECT_NE(message.find("cannot be negative"), std::string::npos) << message;
        EXPECT_NE(message.find("pop"), std::string::npos) << message;
    }
}

}  // namespace
}  // namespace zoomdiff::data
