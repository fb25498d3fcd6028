#include "zoomdiff/io/run_manifest.hpp"

#include <fstream>

#include "support/errors.hpp"
#include "support/support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json two_cities() {
    return json{
        {"seed", 7},
        {"cities", json::array({json{{"token", "南昌"},
                                     {"city", "Nanchang"},
                                     {"data_file", "/r/Nanchang/data/Nanchang_traffic_data.h5"},
                                     {"data_sha256", "aa"},
                                     {"cond_file", "/r/Nanchang/cond/Nanchang_cond.h5"},
                                     {"cond_sha256", "bb"},
                                     {"split_tile_ids", {{"train", {0, 2}}, {"valid", {1}}}}},
                                json{{"city", "Wuhan"},
                                     {"data_file", "/r/Wuhan/data/Wuhan_traffic_data.h5"}}})}};
}

TEST(RunManifest, WritesAndReadsBackTheSameDocument) {
    test::TempDir dir;
    RunManifest(two_cities()).write(dir.path());
    EXPECT_TRUE(fs::exists(dir.path() / "manifest.json"));
    const RunManifest back = RunManifest::read(dir.path(), "fix");
    EXPECT_EQ(back.document(), two_cities());
}

TEST(RunManifest, ListsTheCitiesWithTheirFilesAndSplits) {
    const auto cities = RunManifest(two_cities()).cities("m.json", "fix");
    ASSERT_EQ(cities.size(), 2U);
    EXPECT_EQ(cities[0].token, "南昌");
    EXPECT_EQ(cities[0].city, "Nanchang");
    EXPECT_EQ(cities[0].cond_file, fs::path("/r/Nanchang/cond/Nanchang_cond.h5"));
    EXPECT_EQ(cities[0].data_sha256, "aa");
    ASSERT_TRUE(cities[0].train_tile_ids.has_value());
    EXPECT_EQ(*cities[0].train_tile_ids, (std::vector<std::int64_t>{0, 2}));
    EXPECT_EQ(*cities[0].valid_tile_ids, (std::vector<std::int64_t>{1}));
    // An older manifest: no cond_file, no split ids.
    EXPECT_TRUE(cities[1].cond_file.empty());
    EXPECT_FALSE(cities[1].valid_tile_ids.has_value());
}

TEST(RunManifest, RefusesAMissingOrBrokenFileOrACityWithoutData) {
    test::TempDir dir;
    const std::string missing = test::error_of([&] { (void)RunManifest::read(dir.path(), "fix"); });
    EXPECT_TRUE(test::mentions(missing, (dir.path() / "manifest.json").string())) << missing;
    EXPECT_TRUE(test::mentions(missing, "not found")) << missing;
    std::ofstream(dir.path() / "manifest.json") << "{ not json";
    const std::string broken = test::error_of([&] { (void)RunManifest::read(dir.path(), "fix"); });
    EXPECT_TRUE(test::mentions(broken, "is not valid JSON")) << broken;
    EXPECT_TRUE(RunManifest(json{{"seed", 1}}).cities("m.json", "fix").empty());
    const std::string no_file = test::error_of([&] {
        (void)RunManifest(json{{"cities", {{{"city", "X"}}}}}).cities("m.json", "fix");
    });
    EXPECT_TRUE(test::mentions(no_file, "has no 'data_file'")) << no_file;
}

}  // namespace
}  // namespace zoomdiff::io
