#include "zoomdiff/data/training_set.hpp"

#include <algorithm>
#include <numeric>
#include <set>

#include "support/errors.hpp"
#include "support/support.hpp"
#include "support/tiny_city.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/data/split.hpp"

namespace zoomdiff::data {
namespace {

using Ids = std::vector<std::int64_t>;

using test::error_of;

Ids iota_ids(std::int64_t n, std::int64_t from = 0) {
    Ids v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), from);
    return v;
}

/// Every (city, position) of an epoch, in order.
std::vector<std::pair<std::int32_t, std::int64_t>> flatten(const std::vector<BatchRef>& batches) {
    std::vector<std::pair<std::int32_t, std::int64_t>> out;
    for (const auto& b : batches) {
        for (const auto p : b.positions) {
            out.emplace_back(b.city, p);
        }
    }
    return out;
}

TEST(TrainingTaskTest, ParsesOursAndTheReferencesSpellings) {
    EXPECT_EQ(parse_task("full"), Task::kFull);
    EXPECT_EQ(parse_task("train"), Task::kFull);
    EXPECT_EQ(parse_task("zero_shot"), Task::kZeroShot);
    EXPECT_EQ(parse_task("zero-shot"), Task::kZeroShot);
    EXPECT_EQ(parse_task("few_shot"), Task::kFewShot);
    EXPECT_EQ(parse_task("few-shot"), Task::kFewShot);
    for (const Task t : {Task::kFull, Task::kZeroShot, Task::kFewShot}) {
        EXPECT_EQ(parse_task(to_string(t)), t);
    }
    const std::string e = error_of([] { parse_task("test"); });
    EXPECT_EQ(e, "--task: unknown task 'test'. Use full, zero_shot or few_shot");
}

TEST(BatchOrderTest, ParsesAndNamesTheSourceAndKey) {
    EXPECT_EQ(parse_batch_order("reference", "base.yaml"), BatchOrder::kReference);
    EXPECT_EQ(parse_batch_order("reshuffle", "base.yaml"), BatchOrder::kReshuffle);
    EXPECT_STREQ(to_string(BatchOrder::kReference), "reference");
    EXPECT_STREQ(to_string(BatchOrder::kReshuffle), "reshuffle");
    const std::string e = error_of([] { parse_batch_order("random", "configs/base.yaml"); });
    EXPECT_EQ(e.rfind("configs/base.yaml: unknown train.batch_order 'random'", 0), 0U) << e;
}

TEST(BatchTest, SizesAndDropLast) {
    const std::vector<Ids> ids{iota_ids(10), iota_ids(5, 100)};
    const auto kept =
        epoch_batches(ids, 4, /*drop_last=*/true, /*shuffle=*/true, BatchOrder::kReshuffle, 1, 0);
    ASSERT_EQ(kept.size(), 3U);  // 10 -> 2 full batches, 5 -> 1
    for (const auto& b : kept) {
        EXPECT_EQ(b.positions.size(), 4U);
    }
    const auto all =
        epoch_batches(ids, 4, /*drop_last=*/false, /*shuffle=*/true, BatchOrder::kReshuffle, 1, 0);
    ASSERT_EQ(all.size(), 5U);  // + a batch of 2 and one of 1
    std::vector<std::size_t> sizes;
    for (const auto& b : all) {
        sizes.push_back(b.positions.size());
    }
    std::sort(sizes.begin(), sizes.end());
    EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 2, 4, 4, 4}));
    // Every id once, each with its own city.
    auto pairs = flatten(all);
    std::sort(pairs.begin(), pairs.end());
    std::vector<std::pair<std::int32_t, std::int64_t>> expected;
    for (std::int64_t i = 0; i < 10; ++i)
        expected.emplace_back(0, i);
    for (std::int64_t i = 100; i < 105; ++i)
        expected.emplace_back(1, i);
    EXPECT_EQ(pairs, expected);
    // A city smaller than one batch gives nothing with drop_last.
    EXPECT_TRUE(epoch_batches({iota_ids(3)}, 4, true, true, BatchOrder::kReference, 1, 0).empty());
    EXPECT_THROW(epoch_batches(ids, 0, true, true, BatchOrder::kReference, 1, 0),
                 std::invalid_argument);
}

TEST(BatchTest, WithoutShuffleIdsKeepTheirOrderAndCitiesTheirBlocks) {
    const std::vector<Ids> ids{{7, 3, 5}, {1, 2}};
    for (const BatchOrder order : {BatchOrder::kReference, BatchOrder::kReshuffle}) {
        const auto b = epoch_batches(ids, 2, false, /*shuffle=*/false, order, 9, 4);
        ASSERT_EQ(b.size(), 3U);
        EXPECT_EQ(b[0].city, 0);
        EXPECT_EQ(b[0].positions, (Ids{7, 3}));
        EXPECT_EQ(b[1].positions, (Ids{5}));
        EXPECT_EQ(b[2].city, 1);
        EXPECT_EQ(b[2].positions, (Ids{1, 2}));
    }
}

TEST(BatchTest, ReferenceOrderReplaysTheSameBatchesEveryEpochCitiesInBlocks) {
    const std::vector<Ids> ids{iota_ids(50), iota_ids(30)};
    const auto first = epoch_batches(ids, 8, true, true, BatchOrder::kReference, 42, 0);
    for (const std::int64_t epoch : {1, 7, 499}) {
        const auto again = epoch_batches(ids, 8, true, true, BatchOrder::kReference, 42, epoch);
        EXPECT_EQ(flatten(again), flatten(first)) << "epoch " << epoch;
    }
    ASSERT_EQ(first.size(), 6U + 3U);
    for (std::size_t i = 0; i < first.size(); ++i) {
        EXPECT_EQ(first[i].city, i < 6 ? 0 : 1);
    }
    EXPECT_NE(flatten(first),
              flatten(epoch_batches(ids, 8, true, false, BatchOrder::kReference, 42, 0)));
    EXPECT_NE(flatten(first),
              flatten(epoch_batches(ids, 8, true, true, BatchOrder::kReference, 43, 0)));
}

TEST(BatchTest, ReshuffleIsDeterministicPerEpochAndDiffersBetweenEpochs) {
    const std::vector<Ids> ids{iota_ids(50), iota_ids(30), iota_ids(40)};
    const auto e0 = epoch_batches(ids, 8, true, true, BatchOrder::kReshuffle, 42, 0);
    EXPECT_EQ(flatten(e0),
              flatten(epoch_batches(ids, 8, true, true, BatchOrder::kReshuffle, 42, 0)));
    const auto e1 = epoch_batches(ids, 8, true, true, BatchOrder::kReshuffle, 42, 1);
    EXPECT_NE(flatten(e0), flatten(e1));
    EXPECT_EQ(e0.size(), e1.size());
    // Batches of different cities are interleaved, not in blocks.
    std::vector<std::int32_t> cities;
    for (const auto& b : e0) {
        cities.push_back(b.city);
    }
    EXPECT_FALSE(std::is_sorted(cities.begin(), cities.end()));
    // Each batch holds one city's ids only, and with drop_last each full epoch sees 6 + 3 + 5
    // batches.
    EXPECT_EQ(e0.size(), 14U);
}

TEST(BatchTest, SameSeedGivesTheSameBitsEverywhere) {
    // Pinned output of our own generator (splitmix64 -> xoshiro256**): a change here changes every
    // training run's batches, so it must be deliberate.
    const auto b = epoch_batches({iota_ids(10)}, 10, true, true, BatchOrder::kReference, 1, 0);
    ASSERT_EQ(b.size(), 1U);
    Ids sorted = b[0].positions;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, iota_ids(10));
    EXPECT_EQ(b[0].positions, (Ids{2, 4, 5, 9, 1, 6, 8, 7, 0, 3}));
}

class TrainingDataTest : public ::testing::Test {
protected:
    std::vector<CitySource> sources() {
        test::write_tiny_city(root_.path(), "Alpha", "traffic", 4, 5, 11);
        test::write_tiny_city(root_.path(), "Beta", "traffic", 3, 5, 12);
        return {locate_city(root_.path(), "Alpha", "traffic"),
                locate_city(root_.path(), "Beta", "traffic")};
    }

    test::TempDir root_;
};

TEST_F(TrainingDataTest, FullTaskSplitsEachCityAndScalesToUnitRange) {
    const auto data = prepare_training_data(sources(), TileOptions{}, Task::kFull);
    ASSERT_EQ(data.size(), 2U);
    for (const auto& d : data) {
        SCOPED_TRACE(d.tiles.city);
        const std::int64_t n = d.tiles.tiles;
        const Split expected = split_by_test_fraction(n, 0.2, 24);
        EXPECT_EQ(d.train, expected.train);
        EXPECT_EQ(d.valid, expected.test);
        EXPECT_EQ(static_cast<std::int64_t>(d.train.size() + d.valid.size()), n);
        const auto [lo, hi] = std::minmax_element(d.tiles.series.begin(), d.tiles.series.end());
        EXPECT_EQ(*lo, 0.0F);
        EXPECT_LE(*hi, 1.0F);
        EXPECT_GE(*hi, 1.0F - 1e-6F);
        EXPECT_EQ(d.scaler.city, d.tiles.city);
        EXPECT_EQ(d.scaler.tiles, n);
        EXPECT_EQ(d.scaler.clip_bound, d.tiles.clip_second);
        EXPECT_EQ(d.scaler.scaler.data_max, d.tiles.clip_second);  // the max is the clip bound
        EXPECT_EQ(d.scaler.scaler.n_samples_seen, n * 168 * 16);
    }
    EXPECT_EQ(data[0].tiles.tiles, 20);
    EXPECT_EQ(data[1].tiles.tiles, 15);
    EXPECT_EQ(data[0].valid.size(), 4U);  // ceil(0.2 * 20)
    EXPECT_EQ(data[1].valid.size(), 3U);
}

TEST_F(TrainingDataTest, ScalingMatchesTheFittedScalerOnTheUnscaledTiles) {
    const auto src = sources();
    const CityTiles raw = load_city_tiles(src[0], TileOptions{});
    const auto data = prepare_training_data({src[0]}, TileOptions{}, Task::kFull);
    std::vector<float> expected = raw.series;
    const MinMaxScaler s = MinMaxScaler::fit(expected.data(), expected.size());
    s.transform(expected.data(), expected.size());
    EXPECT_EQ(data[0].tiles.series, expected);
}

TEST_F(TrainingDataTest, FewShotDrawsAnUnseenTenthOfTheTrainTiles) {
    const auto src = sources();
    const auto full = prepare_training_data(src, TileOptions{}, Task::kFull);
    const auto few = prepare_training_data(src, TileOptions{}, Task::kFewShot);
    for (std::size_t c = 0; c < 2; ++c) {
        SCOPED_TRACE(c);
        EXPECT_EQ(few[c].valid, full[c].valid);
        const auto n_train = full[c].train.size();
        EXPECT_EQ(few[c].train.size(), n_train / 10);  // floor(0.1 * n_train)
        const std::set<std::int64_t> train(full[c].train.begin(), full[c].train.end());
        const std::set<std::int64_t> valid(full[c].valid.begin(), full[c].valid.end());
        for (const auto id : few[c].train) {
            EXPECT_TRUE(train.count(id) == 1) << id;  // a subset of the train tiles (D-25 fixed)
            EXPECT_TRUE(valid.count(id) == 0) << id;
        }
        // Which ones: positions drawn over the train list, then mapped through it.
        const Split draw = split_by_train_fraction(static_cast<std::int64_t>(n_train), 0.1, 24);
        ASSERT_EQ(draw.train.size(), few[c].train.size());
        for (std::size_t i = 0; i < draw.train.size(); ++i) {
            EXPECT_EQ(few[c].train[i], full[c].train[static_cast<std::size_t>(draw.train[i])]);
        }
    }
    const auto zero = prepare_training_data(src, TileOptions{}, Task::kZeroShot);
    EXPECT_EQ(zero[0].valid, full[0].valid);
}

TEST_F(TrainingDataTest, TooFewTilesForTheTaskIsAnError) {
    const auto files =
        test::write_tiny_city(root_.path(), "Small", "traffic", 2, 3, test::TinyCityOptions{});
    const CitySource s = locate_city(root_.path(), "Small", "traffic");
    EXPECT_EQ(prepare_training_data({s}, TileOptions{}, Task::kFull)[0].train.size(), 4U);
    const std::string e =
        error_of([&] { prepare_training_data({s}, TileOptions{}, Task::kFewShot); });
    EXPECT_EQ(e.rfind(files.data_file.string() + ": Small has 6 usable tiles", 0), 0U) << e;
}

}  // namespace
}  // namespace zoomdiff::data
