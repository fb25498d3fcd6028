// Conditions for generation: every tile read, checked and placed on the 500 m grid.
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
