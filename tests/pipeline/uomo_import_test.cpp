// The uomo_import job on the real UoMo files (SOURCE.md): tiles per split, values, labels,
// POI channels, attributes, and its error lines.
#include "zoomdiff/pipeline/uomo_import.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "support/errors.hpp"
#include "support/support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/io/h5_file.hpp"
#include "zoomdiff/io/npz.hpp"

namespace zoomdiff::pipeline {
namespace {

namespace fs = std::filesystem;
using io::H5File;
using io::NpzReader;
using io::NpzWriter;

UomoImportSummary import_uomo(const UomoImportOptions& o) {
    core::NullProgress progress;
    return run_uomo_import(o, progress);
}

fs::path uomo(const std::string& city) {
    return test::test_data_dir() / "uomo_patches_traffic_users_poi" /
           ("uomo_" + city + "_series.npz");
}

// The files ship in tests/data: a missing one is a failure, never a skip.
#define REQUIRE_UOMO(city) ASSERT_TRUE(fs::exists(uomo(city))) << test::missing_data(uomo(city))

UomoImportOptions options(const fs::path& root, const std::string& city, const std::string& source,
                          std::vector<std::string> splits) {
    UomoImportOptions o;
    o.npz = uomo(source);
    o.city = city;
    o.out_root = root;
    o.splits = std::move(splits);
    o.command_line = "uomo_import --test";
    return o;
}

TEST(UomoImport, SdTrainAndValAsOneRowOfTilesWithTheirLabels) {
    REQUIRE_UOMO("SD");
    test::TempDir dir;
    const auto s = import_uomo(options(dir.path(), "UoMoSD", "SD", {"train", "val"}));
    EXPECT_EQ(s.tiles, 39);
    EXPECT_EQ(s.per_split.at("train"), 33);
    EXPECT_EQ(s.per_split.at("val"), 6);
    EXPECT_EQ(s.poi_channels, 22);
    EXPECT_EQ(s.input_step_minutes, 60);
    EXPECT_EQ(s.traffic_file, dir.path() / "UoMoSD/data/UoMoSD_traffic_data.h5");
    EXPECT_EQ(s.user_file, dir.path() / "UoMoSD/data/UoMoSD_user_data.h5");
    EXPECT_EQ(s.cond_file, dir.path() / "UoMoSD/cond/UoMoSD_cond.h5");
    // netCDF-4 (DESIGN §7): xarray opens every group of both files with named dimensions.
    for (const auto& file : {s.traffic_file, s.cond_file}) {
        const test::ToolRun check = test::check_cf("uomo", file, dir.path());
        EXPECT_EQ(check.exit_code, 0) << check.stderr_text;
    }

    const auto npz = NpzReader::open(uomo("SD"));
    const auto traffic = npz.read_double("traffic");  // (45, 231, 4, 4)
    const auto users = npz.read_double("users");
    const auto poi = npz.read_int64("poi");  // (45, 22, 4, 4)

    const auto data = H5File::open_read(s.traffic_file);
    EXPECT_EQ(data.attr_string("/", "tile_arrangement"), "patches");
    EXPECT_EQ(data.attr_string("/", "datatype"), "traffic");
    EXPECT_NE(data.attr_string("/", "units").find("undocumented"), std::string::npos);
    EXPECT_EQ(data.attr_int("/", "input_step_minutes"), 60);
    EXPECT_EQ(data.attr_int("/", "time_steps"), 168);
    EXPECT_EQ(data.attr_string("/", "source_sha256").size(), 64U);
    EXPECT_EQ(data.attr_string("/", "command_line"), "uomo_import --test");
    const auto cells = data.read<double>("/data_2000m");
    ASSERT_EQ(cells.shape(), (std::vector<std::size_t>{1, 39, 4, 4, 168}));
    // Tile 35 = patch 35 (val), cell (2, 1), hour 100; tile 0 cell (0, 3) hour 0; the last hour.
    for (const auto& [tile, a, b, h] :
         {std::tuple{35, 2, 1, 100}, std::tuple{0, 0, 3, 0}, std::tuple{38, 3, 3, 167}}) {
        const std::size_t ours = ((static_cast<std::size_t>(tile) * 4 + a) * 4 + b) * 168 + h;
        const std::size_t theirs = ((static_cast<std::size_t>(tile) * 231 + h) * 4 + a) * 4 + b;
        EXPECT_EQ(cells.data()[ours], traffic.data()[theirs])
            << tile << " " << a << " " << b << " " << h;
        EXPECT_EQ(H5File::open_read(s.user_file).read<double>("/data_2000m").data()[ours],
                  users.data()[theirs]);
    }
    const auto labels = data.read<std::int64_t>("/split_2000m");
    ASSERT_EQ(labels.shape(), (std::vector<std::size_t>{1, 39}));
    for (std::size_t j = 0; j < 39; ++j)
        EXPECT_EQ(labels.data()[j], j < 33 ? 0 : 1) << j;
    EXPECT_EQ(data.read<std::int64_t>("/patch_index").data()[38], 38);
    // The grid holds exactly 1 x 39 tiles of 2000 m.
    EXPECT_EQ(data.read<double>("/grid/x_edges_m").size(), 39U * 20 + 1);
    EXPECT_EQ(data.read<double>("/grid/y_edges_m").size(), 21U);

    const auto cond = H5File::open_read(s.cond_file);
    EXPECT_EQ(cond.attr_string("/", "tile_arrangement"), "patches");
    EXPECT_FALSE(cond.exists("/pop_2000m"));
    const auto counts = cond.read<std::int64_t>("/2000m/poi_count");
    ASSERT_EQ(counts.shape(), (std::vector<std::size_t>{1, 39, 4, 4, 22}));
    // Tile 7 cell (1, 2) category 13.
    EXPECT_EQ(counts.data()[((7 * 4 + 1) * 4 + 2) * 22 + 13],
              poi.data()[((7 * 22 + 13) * 4 + 1) * 4 + 2]);
    EXPECT_EQ(cond.read<std::int64_t>("/poi_2000m").values(), counts.values());
    EXPECT_EQ(cond.read_strings("/poi_categories").size(), 22U);
}

TEST(UomoImport, SdPlacesAreTheDistinctPoiBlocks) {
    REQUIRE_UOMO("SD");
    const auto npz = NpzReader::open(uomo("SD"));
    const auto poi = npz.read_int64("poi");
    std::vector<std::size_t> all(45);
    for (std::size_t p = 0; p < all.size(); ++p)
        all[p] = p;
    const auto places = uomo_locations(poi.values(), 22 * 16, all);
    ASSERT_EQ(places.size(), 33U);  // SOURCE.md's 45 patches are 33 places
    // Upstream val / test patches 33..44 repeat the places of train patches 21..32.
    for (std::size_t p = 21; p <= 32; ++p)
        EXPECT_EQ(places[p], (std::vector<std::size_t>{p, p + 12})) << p;
    EXPECT_EQ(places[0], std::vector<std::size_t>{0});
}

TEST(UomoImport, HoldoutIsSeededAndRefusesAllOrNone) {
    const auto a = uomo_holdout(33, 6, 1);
    EXPECT_EQ(a.size(), 6U);
    EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
    EXPECT_EQ(std::adjacent_find(a.begin(), a.end()), a.end());
    EXPECT_EQ(uomo_holdout(33, 6, 1), a);
    EXPECT_NE(uomo_holdout(33, 6, 2), a);
    EXPECT_EQ(test::error_of([] { (void)uomo_holdout(33, 33, 1); }).rfind("--holdout_locations", 0),
              0U);
    EXPECT_EQ(test::error_of([] { (void)uomo_holdout(33, 0, 1); }).rfind("--holdout_locations", 0),
              0U);
}

TEST(UomoImport, HeldOutPlacesShareNoPoiBlockWithTraining) {
    REQUIRE_UOMO("SD");
    test::TempDir dir;
    auto train = options(dir.path(), "Loc", "SD", {"train", "val", "test"});
    train.holdout_locations = 6;
    train.part = "train";
    auto test_part = train;
    test_part.city = "LocTest";
    test_part.part = "test";
    const auto s_train = import_uomo(train);
    const auto s_test = import_uomo(test_part);
    EXPECT_EQ(s_test.tiles, 6);
    const auto cond_train = H5File::open_read(s_train.cond_file);
    const auto cond_test = H5File::open_read(s_test.cond_file);
    const auto blocks = [](const H5File& f) {
        const auto v = f.read<std::int64_t>("/poi_2000m").values();  // (1, N, 4, 4, 22)
        std::vector<std::vector<std::int64_t>> out;
        for (std::size_t j = 0; j * 16 * 22 < v.size(); ++j)
            out.emplace_back(v.begin() + static_cast<std::ptrdiff_t>(j * 16 * 22),
                             v.begin() + static_cast<std::ptrdiff_t>((j + 1) * 16 * 22));
        return out;
    };
    const auto train_blocks = blocks(cond_train);
    const auto test_blocks = blocks(cond_test);
    ASSERT_EQ(test_blocks.size(), 6U);
    for (const auto& b : test_blocks)
        EXPECT_EQ(std::count(train_blocks.begin(), train_blocks.end(), b), 0);
    // Every patch is on one side: train holds all patches of the 27 other places (45 minus the held
    // places' patches), test one patch per held place.
    const auto test_patches =
        H5File::open_read(s_test.traffic_file).read<std::int64_t>("/patch_index").values();
    const auto train_patches =
        H5File::open_read(s_train.traffic_file).read<std::int64_t>("/patch_index").values();
    std::size_t held_patches = 0;
    for (const auto p : test_patches)
        held_patches += (p >= 21 && p <= 32) ? 2 : 1;
    EXPECT_EQ(train_patches.size() + held_patches, 45U);
    const auto labels =
        H5File::open_read(s_test.user_file).read<std::int64_t>("/split_2000m").values();
    EXPECT_EQ(labels, std::vector<std::int64_t>(6, 2));
    EXPECT_NE(cond_test.attr_string("/", "holdout").find("6 of 33 places"), std::string::npos);
    // Labels of the training side: upstream val patches validate, the rest train.
    const auto train_labels =
        H5File::open_read(s_train.traffic_file).read<std::int64_t>("/split_2000m").values();
    for (std::size_t j = 0; j < train_patches.size(); ++j)
        EXPECT_EQ(train_labels[j], (train_patches[j] >= 33 && train_patches[j] <= 38) ? 1 : 0)
            << train_patches[j];
}

TEST(UomoImport, HeldOutTestSplitGetsLabelTwo) {
    REQUIRE_UOMO("SD");
    test::TempDir dir;
    const auto s = import_uomo(options(dir.path(), "UoMoSDTest", "SD", {"test"}));
    EXPECT_EQ(s.tiles, 6);
    const auto data = H5File::open_read(s.user_file);
    const auto labels = data.read<std::int64_t>("/split_2000m").values();
    EXPECT_EQ(labels, std::vector<std::int64_t>(6, 2));
    EXPECT_EQ(data.read<std::int64_t>("/patch_index").values(),
              (std::vector<std::int64_t>{39, 40, 41, 42, 43, 44}));
}

TEST(UomoImport, NanjingQuarterHoursAreSummedToHours) {
    REQUIRE_UOMO("NJ");
    test::TempDir dir;
    const auto s = import_uomo(options(dir.path(), "UoMoNJ", "NJ", {"train", "val", "test"}));
    EXPECT_EQ(s.tiles, 8);
    EXPECT_EQ(s.poi_channels, 21);
    EXPECT_EQ(s.input_step_minutes, 15);
    const auto traffic = NpzReader::open(uomo("NJ")).read_double("traffic");  // (8, 735, 4, 4)
    const auto cells = H5File::open_read(s.traffic_file).read<double>("/data_2000m");
    ASSERT_EQ(cells.shape(), (std::vector<std::size_t>{1, 8, 4, 4, 168}));
    const std::size_t tile = 6, a = 1, b = 3, h = 57;
    double sum = 0.0;
    for (std::size_t k = 0; k < 4; ++k)
        sum += traffic.data()[((tile * 735 + 4 * h + k) * 4 + a) * 4 + b];
    EXPECT_EQ(cells.data()[((tile * 4 + a) * 4 + b) * 168 + h], sum);
    EXPECT_EQ(H5File::open_read(s.traffic_file).attr_int("/", "input_step_minutes"), 15);
}

TEST(UomoImport, ErrorsNameTheFileOrFlag) {
    REQUIRE_UOMO("SD");
    test::TempDir dir;
    auto o = options(dir.path(), "X", "SD", {"train"});
    o.npz = dir.path() / "missing.npz";
    EXPECT_TRUE(test::mentions(test::error_of([&] { import_uomo(o); }), "missing.npz"));

    EXPECT_TRUE(test::mentions(test::error_of([&] { parse_uomo_splits("train,valid"); }),
                               "unknown split 'valid'"));
    EXPECT_TRUE(test::mentions(test::error_of([&] { parse_uomo_splits("train,train"); }), "twice"));
    EXPECT_EQ(parse_uomo_splits("val,test"), (std::vector<std::string>{"val", "test"}));

    o = options(dir.path(), "X", "SD", {"train"});
    o.steps = 200;  // SD holds 231 hourly steps: fine; 232 is not
    EXPECT_NO_THROW(import_uomo(o));
    o.steps = 232;
    EXPECT_TRUE(test::mentions(test::error_of([&] { import_uomo(o); }), "231 whole hours"));
    o = options(dir.path(), "a/b", "SD", {"train"});
    EXPECT_TRUE(test::mentions(test::error_of([&] { import_uomo(o); }), "--city"));

    // A file without `split`, and one whose steps_per_day does not split hours.
    const fs::path no_split = dir.path() / "no_split.npz";
    const fs::path odd_steps = dir.path() / "odd_steps.npz";
    for (const auto& [path, spd, with_split] :
         {std::tuple{no_split, 24, false}, std::tuple{odd_steps, 36, true}}) {
        auto npz = NpzWriter::create(path);
        npz.write("traffic", NdArray<double>({1, 168, 4, 4}, 1.0));
        npz.write("users", NdArray<double>({1, 168, 4, 4}, 1.0));
        npz.write("poi", NdArray<std::int32_t>({1, 3, 4, 4}, 1));
        if (with_split)
            npz.write_strings("split",
                              NdArray<std::string>({1}, std::vector<std::string>{"train"}));
        npz.write("steps_per_day", NdArray<std::int64_t>({}, std::vector<std::int64_t>{spd}));
        npz.close();
    }
    o.city = "X";
    o.npz = no_split;
    const auto missing = test::error_of([&] { import_uomo(o); });
    EXPECT_TRUE(test::mentions(missing, "no_split.npz"));
    EXPECT_TRUE(test::mentions(missing, "no array 'split'"));
    o.npz = odd_steps;
    EXPECT_TRUE(test::mentions(test::error_of([&] { import_uomo(o); }), "steps_per_day = 36"));
    // issue 19: a negative user count is refused, naming the cell.
    const fs::path negative = dir.path() / "negative.npz";
    {
        auto npz = NpzWriter::create(negative);
        npz.write("traffic", NdArray<double>({1, 168, 4, 4}, 1.0));
        NdArray<double> users({1, 168, 4, 4}, 1.0);
        users.values()[(5 * 4 + 2) * 4 + 3] = -1.0;  // patch 0, step 5, row 2, column 3
        npz.write("users", users);
        npz.write("poi", NdArray<std::int32_t>({1, 3, 4, 4}, 1));
        npz.write_strings("split", NdArray<std::string>({1}, std::vector<std::string>{"train"}));
        npz.write("steps_per_day", NdArray<std::int64_t>({}, std::vector<std::int64_t>{24}));
        npz.close();
    }
    o.npz = negative;
    const auto refused = test::error_of([&] { import_uomo(o); });
    EXPECT_TRUE(test::mentions(refused, "users holds -1 at patch 0, step 5, row 2, column 3"))
        << refused;
    // Nothing was written by the failed imports but the successful one above.
    EXPECT_TRUE(fs::exists(dir.path() / "X/cond/X_cond.h5"));
    EXPECT_FALSE(fs::exists(dir.path() / "a"));
}

}  // namespace
}  // namespace zoomdiff::pipeline
