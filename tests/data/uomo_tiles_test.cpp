// The data area on a uomo_import city: POI-only tiles with K = 22 channels, the file's split
// labels, condition tiles of a `patches` city.
#include <cstdint>
#include <string>
#include <vector>

#include "support/errors.hpp"
#include "support/support.hpp"
#include "support/tiny_city.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/data/city_tiles.hpp"
#include "zoomdiff/data/condition_tiles.hpp"
#include "zoomdiff/data/training_set.hpp"
#include "zoomdiff/io/cond_store.hpp"
#include "zoomdiff/io/h5_file.hpp"
#include "zoomdiff/io/npz.hpp"
#include "zoomdiff/pipeline/uomo_import.hpp"

namespace zoomdiff::data {
namespace {

namespace fs = std::filesystem;

const fs::path kSd = "uomo_patches_traffic_users_poi/uomo_SD_series.npz";

class UomoTiles : public ::testing::Test {
protected:
    void SetUp() override {
        core::NullProgress progress;
        pipeline::UomoImportOptions o;
        o.npz = test::test_data_dir() / kSd;
        ASSERT_TRUE(fs::exists(o.npz)) << test::missing_data(o.npz);
        o.out_root = dir_.path();
        o.city = "UoMoSD";
        o.splits = {"train", "val"};
        (void)pipeline::run_uomo_import(o, progress);
        o.city = "UoMoSDTest";
        o.splits = {"test"};
        (void)pipeline::run_uomo_import(o, progress);
    }

    static TileOptions poi_only(std::int64_t k = 22) {
        TileOptions t;
        t.layout = StaticLayout::kPoiOnly;
        t.poi_channels = k;
        return t;
    }

    test::TempDir dir_;
};

TEST_F(UomoTiles, PoiOnlyTilesHaveNoStaticChannelAnd22PoiChannels) {
    const CityTiles t = load_city_tiles(locate_city(dir_.path(), "UoMoSD", "traffic"), poi_only());
    EXPECT_EQ(t.static_channels, 0);
    EXPECT_TRUE(t.static_cond.empty());
    EXPECT_EQ(t.poi_channels, 22);
    EXPECT_EQ(t.tile_rows, 1);
    EXPECT_EQ(t.tile_cols, 39);
    EXPECT_EQ(t.poi.size(), static_cast<std::size_t>(t.tiles) * 22 * 16);
    EXPECT_EQ(t.template_stats.pop_mean, 0.0);  // no population: calibration's ratio is 1
    EXPECT_GT(t.template_stats.data_mean, 0.0);
    ASSERT_EQ(t.split_label.size(), static_cast<std::size_t>(t.tiles));
    // POI channel-first: tile 0's channel 5 cell (2, 3) is the file's [0, 0, 2, 3, 5].
    const auto poi = io::H5File::open_read(dir_.path() / "UoMoSD/cond/UoMoSD_cond.h5")
                         .read<double>("/2000m/poi_count");
    const auto t0 = static_cast<std::size_t>(t.tile_id[0]);
    EXPECT_EQ(t.poi[(0 * 22 + 5) * 16 + 2 * 4 + 3],
              static_cast<float>(poi.data()[((t0 * 4 + 2) * 4 + 3) * 22 + 5]));
}

TEST_F(UomoTiles, APoiCountOtherThanTheConfigsIsRefusedNamingTheFile) {
    const auto message = test::error_of(
        [&] { load_city_tiles(locate_city(dir_.path(), "UoMoSD", "user"), poi_only(21)); });
    EXPECT_TRUE(test::mentions(message, "UoMoSD_cond.h5"));
    EXPECT_TRUE(test::mentions(message, "22 POI categories"));
    EXPECT_TRUE(test::mentions(message, "poi_channels"));
    // The corrected layout needs static keys a UoMo city does not have.
    EXPECT_TRUE(test::mentions(test::error_of([&] {
                                   load_city_tiles(locate_city(dir_.path(), "UoMoSD", "user"),
                                                   TileOptions{});
                               }),
                               "UoMoSD_cond.h5"));
}

TEST_F(UomoTiles, TrainingUsesExactlyTheFileSplit) {
    const auto data = prepare_training_data({locate_city(dir_.path(), "UoMoSD", "traffic")},
                                            poi_only(), Task::kFull);
    ASSERT_EQ(data.size(), 1U);
    const auto& d = data[0];
    EXPECT_EQ(d.split, SplitSource::kFile);
    std::vector<std::int64_t> train_ids;
    std::vector<std::int64_t> valid_ids;
    for (const auto p : d.train)
        train_ids.push_back(d.tiles.tile_id[static_cast<std::size_t>(p)]);
    for (const auto p : d.valid)
        valid_ids.push_back(d.tiles.tile_id[static_cast<std::size_t>(p)]);
    // Every kept tile with label 0 trains, every kept label 1 validates (tiles 33..38 are val).
    for (const auto id : train_ids)
        EXPECT_LT(id, 33);
    for (const auto id : valid_ids)
        EXPECT_GE(id, 33);
    EXPECT_EQ(train_ids.size() + valid_ids.size(), static_cast<std::size_t>(d.tiles.tiles));
    EXPECT_EQ(d.test_tiles, 0);
    EXPECT_EQ(std::string(to_string(d.split)), "file:/split_2000m");
}

TEST_F(UomoTiles, LabelsOverrideTheSeededSplitOfAnyCity) {
    // The tiny fixture city with labels written into its data file: train / valid follow them.
    const fs::path root = dir_.path() / "tiny";
    test::write_tiny_city(root, "Nanchang", "traffic", 2, 3, 1);
    const CitySource source = locate_city(root, "Nanchang", "traffic");
    const auto seeded = prepare_training_data({source}, TileOptions{}, Task::kFull);
    EXPECT_EQ(seeded[0].split, SplitSource::kSeeded);
    {
        // The same data file plus /split_2000m (what the readers need: grid, attributes, tiles).
        const auto old = io::H5File::open_read(source.data_file);
        const auto cells = old.read<double>("/data_2000m");
        const auto grid = io::read_grid(old);
        std::vector<std::uint8_t> labels(6, static_cast<std::uint8_t>(kSplitTrain));
        labels[1] = static_cast<std::uint8_t>(kSplitValid);
        labels[5] = static_cast<std::uint8_t>(kSplitTest);
        const fs::path rewritten = source.data_file.string() + ".new";
        {
            auto file = io::H5File::create(rewritten);
            io::write_standard_attributes(file, grid, 100.0, io::Provenance{});
            io::write_grid(file, grid);
            file.write("/data_2000m", cells);
            file.write("/split_2000m", NdArray<std::uint8_t>({2, 3}, labels));
            file.close();
        }
        fs::rename(rewritten, source.data_file);
    }
    const auto labelled = prepare_training_data({source}, TileOptions{}, Task::kFull);
    const auto& d = labelled[0];
    EXPECT_EQ(d.split, SplitSource::kFile);
    for (const auto p : d.valid)
        EXPECT_EQ(d.tiles.tile_id[static_cast<std::size_t>(p)], 1);
    for (const auto p : d.train) {
        EXPECT_NE(d.tiles.tile_id[static_cast<std::size_t>(p)], 1);
    }
    EXPECT_EQ(d.train.size() + d.valid.size() + static_cast<std::size_t>(d.test_tiles),
              static_cast<std::size_t>(d.tiles.tiles));
}

TEST_F(UomoTiles, ConditionTilesOfAPatchesCity) {
    const auto c = load_condition_tiles(locate_conditions(dir_.path(), "UoMoSDTest"),
                                        StaticLayout::kPoiOnly, 22);
    EXPECT_EQ(c.tile_arrangement, "patches");
    EXPECT_EQ(c.tiles, 6);
    EXPECT_EQ(c.static_channels, 0);
    EXPECT_EQ(c.poi_channels, 22);
    EXPECT_EQ(c.poi.size(), 6U * 22 * 16);
    EXPECT_EQ(c.pop_mean, 0.0);
    EXPECT_EQ(c.mask_500m.size(), 6U * 16);
    EXPECT_EQ(c.conditions_500m.pop.size(), 0U);
    EXPECT_TRUE(test::mentions(test::error_of([&] {
                                   load_condition_tiles(
                                       locate_conditions(dir_.path(), "UoMoSDTest"),
                                       StaticLayout::kPoiOnly);
                               }),
                               "22 POI categories"));
}

}  // namespace
}  // namespace zoomdiff::data
