#include "zoomdiff/io/npz.hpp"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "support/errors.hpp"
#include "support/support.hpp"
#include <gtest/gtest.h>
#include <zip.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::io {
namespace {

namespace fs = std::filesystem;

fs::path fixture(const std::string& name) {
    return test::test_data_dir() / "stations" / name;
}

std::string bytes_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out << bytes;
}

/// The raw bytes of one zip member, read with libzip directly (not through NpzReader).
std::string raw_member(const fs::path& archive_path, const std::string& name) {
    int code = 0;
    zip_t* archive = zip_open(archive_path.c_str(), ZIP_RDONLY, &code);
    EXPECT_NE(archive, nullptr) << archive_path;
    if (archive == nullptr) {
        return {};
    }
    std::string out;
    zip_file_t* member = zip_fopen(archive, name.c_str(), 0);
    EXPECT_NE(member, nullptr) << name;
    if (member != nullptr) {
        char buffer[4096];
        zip_int64_t got = 0;
        while ((got = zip_fread(member, buffer, sizeof(buffer))) > 0) {
            out.append(buffer, static_cast<std::size_t>(got));
        }
        zip_fclose(member);
    }
    zip_discard(archive);
    return out;
}

using test::error_of;

/// The fixtures' series: 0.25 * flat index + 1000 * row (tests/data/stations/README.md).
double expected_traffic(std::size_t row, std::size_t hour) {
    return 0.25 * static_cast<double>(row * 168 + hour) + 1000.0 * static_cast<double>(row);
}

void expect_traffic_fixture(const NpzReader& npz) {
    EXPECT_EQ(npz.keys(), (std::vector<std::string>{"traffic", "long", "lat"}));
    const NpyInfo info = npz.info("traffic");
    EXPECT_EQ(info.dtype, "<f8");
    EXPECT_EQ(info.shape, (std::vector<std::size_t>{3, 168}));
    EXPECT_FALSE(info.fortran_order);
    EXPECT_FALSE(npz.is_integer("traffic"));
    const NdArray<double> traffic = npz.read_double("traffic");
    ASSERT_EQ(traffic.shape(), (std::vector<std::size_t>{3, 168}));
    for (std::size_t b = 0; b < 3; ++b) {
        for (std::size_t h = 0; h < 168; ++h) {
            ASSERT_EQ(traffic.at(b, h), expected_traffic(b, h)) << b << "," << h;
        }
    }
    EXPECT_EQ(npz.read_double("long").values(), (std::vector<double>{115.85, 115.9025, -73.5}));
    EXPECT_EQ(npz.read_double("lat").values(), (std::vector<double>{28.68, 28.7125, 40.25}));
}

TEST(NpzReaderTest, ReadsNumpySavezExactly) {
    expect_traffic_fixture(NpzReader::open(fixture("stations_traffic.npz")));
}

TEST(NpzReaderTest, ReadsNumpySavezCompressedExactly) {
    expect_traffic_fixture(NpzReader::open(fixture("stations_traffic_compressed.npz")));
}

TEST(NpzReaderTest, Int64MembersAreExactAsDoubleAndInt64) {
    const NpzReader npz = NpzReader::open(fixture("stations_user.npz"));
    EXPECT_EQ(npz.info("user").dtype, "<i8");
    EXPECT_TRUE(npz.is_integer("user"));
    const NdArray<double> user = npz.read_double("user");
    EXPECT_EQ(user.at(0, 0), 3.0);
    EXPECT_EQ(user.at(1, 5), 1099511627777.0);       // 2^40 + 1
    EXPECT_EQ(user.at(2, 167), 9007199254740992.0);  // 2^53
    EXPECT_EQ(user.at(0, 1), 1.0);
    const NdArray<std::int64_t> exact = npz.read_int64("user");
    EXPECT_EQ(exact.at(1, 5), (std::int64_t{1} << 40) + 1);
    EXPECT_EQ(exact.at(2, 167), std::int64_t{1} << 53);
}

TEST(NpzReaderTest, ReadsThreeDimensionalCOrderMember) {
    const NpzReader npz = NpzReader::open(fixture("npy_layouts.npz"));
    const NpyInfo info = npz.info("cube_f4");
    EXPECT_EQ(info.dtype, "<f4");
    EXPECT_FALSE(info.fortran_order);
    const NdArray<double> cube = npz.read_double("cube_f4");
    ASSERT_EQ(cube.shape(), (std::vector<std::size_t>{2, 3, 4}));
    EXPECT_EQ(cube.at(0, 0, 0), -5.5);
    EXPECT_EQ(cube.at(0, 1, 2), 6.0 - 5.5);
    EXPECT_EQ(cube.at(1, 2, 3), 23.0 - 5.5);
}

TEST(NpzReaderTest, TransposesFortranOrderToCOrder) {
    const NpzReader npz = NpzReader::open(fixture("npy_layouts.npz"));
    EXPECT_TRUE(npz.info("fortran_f8").fortran_order);
    // numpy: np.asfortranarray(np.arange(6).reshape(2, 3)) is [[0, 1, 2], [3, 4, 5]].
    const NdArray<double> a = npz.read_double("fortran_f8");
    EXPECT_EQ(a.shape(), (std::vector<std::size_t>{2, 3}));
    EXPECT_EQ(a.values(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
}

TEST(NpzReaderTest, ReadsEveryIntegerAndBoolDtype) {
    const NpzReader npz = NpzReader::open(fixture("npy_layouts.npz"));
    EXPECT_EQ(npz.read_double("i1").values(), (std::vector<double>{-128, 0, 127}));
    EXPECT_EQ(npz.read_double("i2").values(), (std::vector<double>{-32768, 1, 32767}));
    EXPECT_EQ(npz.read_double("i4").values(), (std::vector<double>{-2147483648.0, 2, 2147483647}));
    EXPECT_EQ(npz.read_double("u1").values(), (std::vector<double>{0, 1, 255}));
    EXPECT_EQ(npz.read_double("u2").values(), (std::vector<double>{0, 2, 65535}));
    EXPECT_EQ(npz.read_double("u4").values(), (std::vector<double>{0, 3, 4294967295.0}));
    EXPECT_EQ(npz.read_double("u8").values(), (std::vector<double>{0, 4, 9007199254740992.0}));
    EXPECT_EQ(npz.read_int64("u8").values(),
              (std::vector<std::int64_t>{0, 4, std::int64_t{1} << 53}));
    EXPECT_EQ(npz.info("i1").dtype, "|i1");
    EXPECT_EQ(npz.info("b1").dtype, "|b1");
    EXPECT_TRUE(npz.info("b1").is_bool());
    EXPECT_FALSE(npz.is_integer("b1"));
    EXPECT_EQ(npz.read_double("b1").values(), (std::vector<double>{1, 0, 1}));
    const NdArray<double> scalar = npz.read_double("scalar_f8");
    EXPECT_TRUE(scalar.shape().empty());
    EXPECT_EQ(scalar.values(), std::vector<double>{2.5});
}

TEST(NpzReaderTest, BigEndianIsAClearError) {
    const NpzReader npz = NpzReader::open(fixture("npy_layouts.npz"));
    const std::string message = error_of([&] { (void)npz.read_double("big_endian_f8"); });
    EXPECT_NE(message.find("npy_layouts.npz"), std::string::npos) << message;
    EXPECT_NE(message.find("'big_endian_f8'"), std::string::npos) << message;
    EXPECT_NE(message.find("big-endian"), std::string::npos) << message;
    EXPECT_NE(message.find("astype('<f8')"), std::string::npos) << message;
}

TEST(NpzReaderTest, MissingKeyNamesTheFileAndListsKeysFound) {
    const NpzReader npz = NpzReader::open(fixture("stations_traffic.npz"));
    EXPECT_FALSE(npz.contains("user"));
    const std::string message = error_of([&] { (void)npz.read_double("user"); });
    EXPECT_NE(message.find("stations_traffic.npz"), std::string::npos) << message;
    EXPECT_NE(message.find("'user'"), std::string::npos) << message;
    EXPECT_NE(message.find("'traffic', 'long', 'lat'"), std::string::npos) << message;
}

TEST(NpzReaderTest, NotAZipAndMissingFileAreErrors) {
    test::TempDir dir;
    const fs::path text = dir.path() / "stations.npz";
    write_bytes(text, "lon,lat\n1,2\n");
    std::string message = error_of([&] { (void)NpzReader::open(text); });
    EXPECT_NE(message.find("stations.npz"), std::string::npos) << message;
    EXPECT_NE(message.find("not a numpy .npz"), std::string::npos) << message;
    const fs::path empty = dir.path() / "empty.npz";
    write_bytes(empty, "");
    message = error_of([&] { (void)NpzReader::open(empty); });
    EXPECT_NE(message.find("empty file"), std::string::npos) << message;
    message = error_of([&] { (void)NpzReader::open(dir.path() / "absent.npz"); });
    EXPECT_NE(message.find("absent.npz: no such file"), std::string::npos) << message;
}

TEST(NpzReaderTest, CorruptMemberDataIsCaughtByTheCrc) {
    test::TempDir dir;
    std::string bytes = bytes_of(fixture("stations_traffic.npz"));
    const std::size_t magic = bytes.find("\x93NUMPY");
    ASSERT_NE(magic, std::string::npos);
    bytes[magic + 1000] = static_cast<char>(bytes[magic + 1000] ^ 0x55);  // inside traffic's data
    const fs::path path = dir.path() / "flipped.npz";
    write_bytes(path, bytes);
    const NpzReader npz = NpzReader::open(path);
    const std::string message = error_of([&] { (void)npz.read_double("traffic"); });
    EXPECT_NE(message.find("'traffic'"), std::string::npos) << message;
    EXPECT_NE(message.find("not a valid .npy"), std::string::npos) << message;
    EXPECT_EQ(npz.read_double("lat").size(), 3U);  // the other members still read
}

TEST(NpzReaderTest, CorruptHeaderIsAnError) {
    test::TempDir dir;
    std::string bytes = bytes_of(fixture("stations_traffic.npz"));
    const std::size_t shape = bytes.find("'shape': (3, 168)");
    ASSERT_NE(shape, std::string::npos);
    bytes.replace(shape, 17, "'shape': (3, 169)");  // CRC and data size no longer match
    const fs::path path = dir.path() / "bad_header.npz";
    write_bytes(path, bytes);
    const NpzReader npz = NpzReader::open(path);
    const std::string message = error_of([&] { (void)npz.read_double("traffic"); });
    EXPECT_NE(message.find("not a valid .npy"), std::string::npos) << message;
}

template <typename T>
NdArray<T> ramp(std::vector<std::size_t> shape, T start, T step) {
    NdArray<T> a(std::move(shape));
    for (std::size_t i = 0; i < a.size(); ++i) {
        a[i] = static_cast<T>(start + static_cast<T>(i) * step);
    }
    return a;
}

class NpzRoundTripTest : public ::testing::TestWithParam<NpzCompression> {};

TEST_P(NpzRoundTripTest, EveryWriterDtypeReadsBackExactly) {
    test::TempDir dir;
    const fs::path path = dir.path() / "out.npz";
    const auto f8 = ramp<double>({4, 5, 6}, -1e300, 1.0e299);
    auto f4 = ramp<float>({7, 3}, -2.5F, 0.125F);
    f4[0] = std::nanf("");
    const auto i8 = ramp<std::int64_t>({10}, -(std::int64_t{1} << 62), std::int64_t{1} << 59);
    const auto i4 = ramp<std::int32_t>({2, 2}, -2147483647, 1000000000);
    const NdArray<double> empty({0, 168});
    const NdArray<double> scalar(std::vector<std::size_t>{}, 42.0);
    {
        NpzWriter out = NpzWriter::create(path, GetParam());
        out.write("f8", f8);
        out.write("f4", f4);
        out.write("i8", i8);
        out.write("i4", i4);
        out.write("empty", empty);
        out.write("scalar", scalar);
        out.close();
    }
    const NpzReader npz = NpzReader::open(path);
    EXPECT_EQ(npz.keys(), (std::vector<std::string>{"f8", "f4", "i8", "i4", "empty", "scalar"}));
    EXPECT_EQ(npz.info("f8").dtype, "<f8");
    EXPECT_EQ(npz.info("f4").dtype, "<f4");
    EXPECT_EQ(npz.info("i8").dtype, "<i8");
    EXPECT_EQ(npz.info("i4").dtype, "<i4");
    const NdArray<double> f8_back = npz.read_double("f8");
    EXPECT_EQ(f8_back.shape(), f8.shape());
    EXPECT_EQ(f8_back.values(), f8.values());
    const NdArray<double> f4_back = npz.read_double("f4");
    EXPECT_EQ(f4_back.shape(), f4.shape());
    EXPECT_TRUE(std::isnan(f4_back[0]));
    for (std::size_t i = 1; i < f4.size(); ++i) {
        EXPECT_EQ(f4_back[i], static_cast<double>(f4[i]));
    }
    EXPECT_EQ(npz.read_int64("i8").values(), i8.values());
    EXPECT_EQ(npz.read_int64("i4").values(),
              std::vector<std::int64_t>(i4.values().begin(), i4.values().end()));
    EXPECT_EQ(npz.read_double("i4").values(),
              std::vector<double>(i4.values().begin(), i4.values().end()));
    EXPECT_EQ(npz.info("empty").shape, (std::vector<std::size_t>{0, 168}));
    EXPECT_EQ(npz.read_double("empty").size(), 0U);
    EXPECT_EQ(npz.read_double("scalar").values(), std::vector<double>{42.0});
}

INSTANTIATE_TEST_SUITE_P(StoredAndDeflated, NpzRoundTripTest,
                         ::testing::Values(NpzCompression::kStored, NpzCompression::kDeflated));

TEST(NpzWriterTest, MembersAreByteIdenticalToNumpysAndDeterministic) {
    test::TempDir dir;
    const NpzReader numpy_file = NpzReader::open(fixture("stations_traffic.npz"));
    const fs::path a = dir.path() / "a.npz";
    const fs::path b = dir.path() / "b.npz";
    for (const fs::path& path : {a, b}) {
        NpzWriter out = NpzWriter::create(path);
        out.write("traffic", numpy_file.read_double("traffic"));
        out.write("long", numpy_file.read_double("long"));
        out.close();
    }
    for (const std::string member : {"traffic.npy", "long.npy"}) {
        EXPECT_EQ(raw_member(a, member), raw_member(fixture("stations_traffic.npz"), member))
            << member;
    }
    EXPECT_EQ(bytes_of(a), bytes_of(b));
}

TEST(NpzWriterTest, IntegersBeyondDoublePrecisionFailInReadDouble) {
    test::TempDir dir;
    const fs::path path = dir.path() / "big.npz";
    NpzWriter out = NpzWriter::create(path);
    out.write("big", NdArray<std::int64_t>({1}, (std::int64_t{1} << 53) + 1));
    out.close();
    const NpzReader npz = NpzReader::open(path);
    const std::string message = error_of([&] { (void)npz.read_double("big"); });
    EXPECT_NE(message.find("9007199254740993"), std::string::npos) << message;
    EXPECT_EQ(npz.read_int64("big")[0], (std::int64_t{1} << 53) + 1);
}

TEST(NpzWriterTest, UnclosedWriterLeavesNothing) {
    test::TempDir dir;
    const fs::path path = dir.path() / "abandoned.npz";
    {
        NpzWriter out = NpzWriter::create(path);
        out.write("x", NdArray<double>({3}, 1.0));
    }
    EXPECT_FALSE(fs::exists(path));
}

TEST(NpzWriterTest, EmptyArchiveAndBadKeys) {
    test::TempDir dir;
    const fs::path path = dir.path() / "empty.npz";
    NpzWriter out = NpzWriter::create(path);
    out.write("x", NdArray<double>({1}, 1.0));
    EXPECT_THROW(out.write("x", NdArray<double>({1}, 1.0)), Error);
    EXPECT_THROW(out.write("", NdArray<double>({1}, 1.0)), Error);
    NpzWriter nothing = NpzWriter::create(dir.path() / "nothing.npz");
    nothing.close();
    EXPECT_TRUE(NpzReader::open(dir.path() / "nothing.npz").keys().empty());
    const std::string message =
        error_of([&] { (void)NpzWriter::create(dir.path() / "no" / "such" / "folder.npz"); });
    EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
}

TEST(NpzReaderTest, ReadsTheRealBeijingTrafficFile) {
    // tsinghua-fib-lab/STK-Diff traffic_data/beijing.npz (tests/data/beijing_bs_traffic_stkdiff/
    // SOURCE.md): stored members bs_record float64 (960, 168) and bs_kge float32 (960, 32).
    const fs::path path = test::test_data_dir() / "beijing_bs_traffic_stkdiff" / "beijing.npz";
    const NpzReader npz = NpzReader::open(path);
    EXPECT_TRUE(npz.contains("bs_record"));
    EXPECT_TRUE(npz.contains("bs_kge"));
    EXPECT_EQ(npz.info("bs_record").dtype, "<f8");
    EXPECT_EQ(npz.info("bs_kge").dtype, "<f4");
    EXPECT_EQ(npz.info("bs_kge").shape, (std::vector<std::size_t>{960, 32}));
    const NdArray<double> record = npz.read_double("bs_record");
    ASSERT_EQ(record.shape(), (std::vector<std::size_t>{960, 168}));
    double sum = 0.0;
    double max_value = 0.0;
    for (const double v : record.values()) {
        sum += v;
        max_value = std::max(max_value, v);
    }
    ASSERT_TRUE(std::isfinite(sum));
    // SOURCE.md: mean 6.41e6, values capped at exactly 3.0e7.
    EXPECT_NEAR(sum / static_cast<double>(record.size()), 6.41e6, 0.01e6);
    EXPECT_EQ(max_value, 3.0e7);
}

}  // namespace
}  // namespace zoomdiff::io
