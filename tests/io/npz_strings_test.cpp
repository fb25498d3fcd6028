// NpzReader / NpzWriter: numpy unicode arrays (<Un, UTF-32 little-endian), as UoMo's `split` key.
#include <string>
#include <vector>

#include "support/errors.hpp"
#include "support/support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/io/npz.hpp"

namespace zoomdiff::io {
namespace {

namespace fs = std::filesystem;

TEST(NpzStrings, RoundTripOfAsciiAndNonAsciiStrings) {
    test::TempDir dir;
    const fs::path path = dir.path() / "strings.npz";
    // "南京" (3-byte UTF-8), an emoji outside the BMP (4 bytes), an empty string, plain ASCII.
    const std::vector<std::string> values{
        "train", "val", "test", "\xE5\x8D\x97\xE4\xBA\xAC", "\xF0\x9F\x98\x80", ""};
    {
        auto npz = NpzWriter::create(path, NpzCompression::kDeflated);
        npz.write_strings("split", NdArray<std::string>({2, 3}, values));
        npz.close();
    }
    const auto npz = NpzReader::open(path);
    const auto info = npz.info("split");
    EXPECT_EQ(info.dtype, "<U5");  // the longest element in code points
    EXPECT_TRUE(info.is_string());
    EXPECT_FALSE(info.is_integer());
    EXPECT_EQ(info.shape, (std::vector<std::size_t>{2, 3}));
    EXPECT_EQ(npz.read_strings("split").values(), values);
}

TEST(NpzStrings, NumericReadersRefuseStringsAndViceVersa) {
    test::TempDir dir;
    const fs::path path = dir.path() / "mixed.npz";
    {
        auto npz = NpzWriter::create(path);
        npz.write_strings("names", NdArray<std::string>({1}, std::vector<std::string>{"a"}));
        npz.write("numbers", NdArray<double>({1}, 1.0));
        npz.close();
    }
    const auto npz = NpzReader::open(path);
    EXPECT_TRUE(
        test::mentions(test::error_of([&] { (void)npz.read_double("names"); }), "read_strings"));
    EXPECT_TRUE(test::mentions(test::error_of([&] { (void)npz.read_int64("names"); }), "names"));
    EXPECT_TRUE(test::mentions(test::error_of([&] { (void)npz.read_strings("numbers"); }),
                               "not a unicode"));
}

/// What numpy.savez_compressed wrote (SOURCE.md): split is '<U5' with 33 train, 6 val, 6 test.
TEST(NpzStrings, ReadsTheUomoSplitKeyWrittenByNumpy) {
    const fs::path path =
        test::test_data_dir() / "uomo_patches_traffic_users_poi" / "uomo_SD_series.npz";
    ASSERT_TRUE(fs::exists(path)) << test::missing_data(path);
    const auto npz = NpzReader::open(path);
    EXPECT_EQ(npz.info("split").dtype, "<U5");
    const auto split = npz.read_strings("split");
    ASSERT_EQ(split.shape(), (std::vector<std::size_t>{45}));
    int train = 0, val = 0, test = 0;
    for (const auto& s : split.values()) {
        train += s == "train";
        val += s == "val";
        test += s == "test";
    }
    EXPECT_EQ(train, 33);
    EXPECT_EQ(val, 6);
    EXPECT_EQ(test, 6);
    EXPECT_EQ(split.values().front(), "train");
    EXPECT_EQ(split.values().back(), "test");
}

}  // namespace
}  // namespace zoomdiff::io
