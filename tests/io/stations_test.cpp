#include "zoomdiff/io/stations.hpp"

#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "support/errors.hpp"
#include "support/support.hpp"
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/io/npz.hpp"

namespace zoomdiff::io {
namespace {

namespace fs = std::filesystem;

fs::path fixture(const std::string& name) {
    return test::test_data_dir() / "stations" / name;
}

void write_text(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

using test::error_of;

#define EXPECT_CONTAINS(haystack, needle) \
    EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

/// Sends the default logger to a string for its lifetime.
class CapturedLog {
public:
    CapturedLog() : previous_(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
        sink->set_pattern("%l %v");
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
    }

    ~CapturedLog() { spdlog::set_default_logger(previous_); }

    CapturedLog(const CapturedLog&) = delete;
    CapturedLog& operator=(const CapturedLog&) = delete;
    CapturedLog(CapturedLog&&) = delete;
    CapturedLog& operator=(CapturedLog&&) = delete;

    [[nodiscard]] std::string text() const { return stream_.str(); }

private:
    std::ostringstream stream_;
    std::shared_ptr<spdlog::logger> previous_;
};

double expected_traffic(std::size_t row, std::size_t hour) {
    return 0.25 * static_cast<double>(row * 168 + hour) + 1000.0 * static_cast<double>(row);
}

const std::vector<double> kLon{115.85, 115.9025, -73.5};
const std::vector<double> kLat{28.68, 28.7125, 40.25};

void expect_fixture_stations(const StationTable& t) {
    ASSERT_EQ(t.size(), 3U);
    EXPECT_EQ(t.lon_deg, kLon);
    EXPECT_EQ(t.lat_deg, kLat);
    ASSERT_EQ(t.series.shape(), (std::vector<std::size_t>{3, kHoursPerWeek}));
    for (std::size_t b = 0; b < 3; ++b) {
        for (std::size_t h = 0; h < kHoursPerWeek; ++h) {
            ASSERT_EQ(t.series.at(b, h), expected_traffic(b, h)) << b << "," << h;
        }
    }
    EXPECT_FALSE(t.integer_input);
    EXPECT_EQ(t.nan_values, 0U);
}

/// A wide CSV text of `t` with a station column and the `long` spelling.
std::string wide_csv_with_ids(const StationTable& t) {
    std::string text = "Station,long,lat";
    for (std::size_t h = 0; h < kHoursPerWeek; ++h) {
        text += ",h" + std::string(h < 10 ? "00" : h < 100 ? "0" : "") + std::to_string(h);
    }
    text += "\r\n";
    for (std::size_t b = 0; b < t.size(); ++b) {
        std::ostringstream row;
        row.precision(17);
        row << "\"cell \"\"" << b << "\"\", north\"," << t.lon_deg[b] << ',' << t.lat_deg[b];
        for (std::size_t h = 0; h < kHoursPerWeek; ++h) {
            row << ',' << t.series.at(b, h);
        }
        text += row.str() + "\r\n";
    }
    return text;
}

/// A long CSV of `n` stations at (115 + b, 28) with value b * 1000 + hour, minus `skip_hour` of
/// the last station and with `extra` appended.
std::string long_csv(std::size_t n, int skip_hour = -1, const std::string& extra = "") {
    std::string text = "station,lon,lat,hour,value\n";
    for (std::size_t b = 0; b < n; ++b) {
        for (std::size_t h = 0; h < kHoursPerWeek; ++h) {
            if (b + 1 == n && static_cast<int>(h) == skip_hour) {
                continue;
            }
            text += "B" + std::to_string(b) + "," + std::to_string(115 + b) + ",28," +
                    std::to_string(h) + "," + std::to_string(b * 1000 + h) + "\n";
        }
    }
    return text + extra;
}

TEST(StationsTest, ReadsTheReferenceNpzExactly) {
    const StationTable t = read_stations(fixture("stations_traffic.npz"), "traffic");
    expect_fixture_stations(t);
    EXPECT_EQ(t.ids, (std::vector<std::string>{"BS-0", "BS-1", "BS-2"}));
    EXPECT_EQ(t.source, fixture("stations_traffic.npz"));
}

TEST(StationsTest, CompressedNpzGivesTheSameTable) {
    const StationTable t = read_stations(fixture("stations_traffic_compressed.npz"), "traffic");
    expect_fixture_stations(t);
    EXPECT_EQ(t.ids, (std::vector<std::string>{"BS-0", "BS-1", "BS-2"}));
}

TEST(StationsTest, WideCsvGivesTheSameTableAsTheNpz) {
    const StationTable t = read_stations(fixture("stations_traffic_wide.csv"), "traffic");
    expect_fixture_stations(t);
    EXPECT_EQ(t.ids, (std::vector<std::string>{"BS-0", "BS-1", "BS-2"}));
}

TEST(StationsTest, LongCsvGivesTheSameTableAsTheNpz) {
    // The fixture lists rows hour by hour, so stations are interleaved.
    const StationTable t = read_stations(fixture("stations_traffic_long.csv"), "traffic");
    expect_fixture_stations(t);
    EXPECT_EQ(t.ids, (std::vector<std::string>{"S0", "S1", "S2"}));
}

TEST(StationsTest, WideCsvWithQuotedIdsAndLongColumnName) {
    test::TempDir dir;
    const StationTable npz = read_stations(fixture("stations_traffic.npz"), "traffic");
    const fs::path path = dir.path() / "wide.CSV";
    write_text(path, "\xEF\xBB\xBF" + wide_csv_with_ids(npz));  // with a byte-order mark
    const StationTable t = read_stations(path, "traffic");
    expect_fixture_stations(t);
    EXPECT_EQ(t.ids[1], "cell \"1\", north");
}

TEST(StationsTest, IntegerNpzIsFlaggedAndExact) {
    const StationTable t = read_stations(fixture("stations_user.npz"), "user");
    EXPECT_TRUE(t.integer_input);
    EXPECT_EQ(t.series.at(0, 0), 3.0);
    EXPECT_EQ(t.series.at(1, 5), 1099511627777.0);       // 2^40 + 1
    EXPECT_EQ(t.series.at(2, 167), 9007199254740992.0);  // 2^53
    EXPECT_EQ(t.series.at(0, 7), 7.0);
}

TEST(StationsTest, IntegerCsvIsFlaggedAndExact) {
    test::TempDir dir;
    const fs::path path = dir.path() / "users.csv";
    write_text(path, long_csv(2, -1, ""));
    StationTable t = read_stations(path, "user");
    EXPECT_TRUE(t.integer_input);
    EXPECT_EQ(t.series.at(1, 3), 1003.0);

    std::string wide = "lon,lat";
    for (std::size_t h = 0; h < kHoursPerWeek; ++h) {
        wide += ",h" + std::to_string(h);  // unpadded hour names are accepted too
    }
    wide += "\n1,2,1099511627777,+3";
    for (std::size_t h = 2; h < kHoursPerWeek; ++h) {
        wide += ",-0";
    }
    write_text(path, wide + "\n");
    t = read_stations(path, "user");
    EXPECT_TRUE(t.integer_input);
    EXPECT_EQ(t.series.at(0, 0), 1099511627777.0);
    EXPECT_EQ(t.series.at(0, 1), 3.0);

    // One value written as a decimal makes the input non-integer.
    write_text(path, long_csv(2, 5, "B1,116,28,5,3.0\n"));
    t = read_stations(path, "user");
    EXPECT_FALSE(t.integer_input);
    EXPECT_EQ(t.series.at(1, 5), 3.0);
}

TEST(StationsTest, NanValuesAreCountedReplacedAndWarnedOnce) {
    CapturedLog log;
    const StationTable t = read_stations(fixture("stations_nan.npz"), "traffic");
    EXPECT_EQ(t.nan_values, 2U);
    EXPECT_EQ(t.series.at(0, 1), 0.0);
    EXPECT_EQ(t.series.at(2, 100), 0.0);
    EXPECT_EQ(t.series.at(2, 101), expected_traffic(2, 101));
    const std::string text = log.text();
    EXPECT_CONTAINS(text, "warning");
    EXPECT_CONTAINS(text, "stations_nan.npz");
    EXPECT_CONTAINS(text, "2 NaN values");
    EXPECT_EQ(text.find('\n'), text.rfind('\n'));  // one line

    test::TempDir dir;
    const fs::path path = dir.path() / "nan.csv";
    std::string csv = long_csv(1);
    for (const std::string hour : {"5", "6", "7"}) {
        const std::string row = "B0,115,28," + hour + "," + hour + "\n";
        csv.replace(csv.find(row), row.size(), "");
    }
    write_text(path, csv + "B0,115,28,5,nan\nB0,115,28,6,NaN\nB0,115,28,7,\n");
    const StationTable c = read_stations(path, "user");
    EXPECT_EQ(c.nan_values, 3U);
    EXPECT_EQ(c.series.at(0, 6), 0.0);
    EXPECT_TRUE(c.integer_input);  // NaN does not make integer counts fractional
}

TEST(StationsTest, MissingKeyListsTheKeysFound) {
    const std::string message =
        error_of([] { (void)read_stations(fixture("stations_traffic.npz"), "user"); });
    EXPECT_CONTAINS(message, "stations_traffic.npz");
    EXPECT_CONTAINS(message, "no array 'user'");
    EXPECT_CONTAINS(message, "'traffic', 'long', 'lat'");
    EXPECT_CONTAINS(message, "--datatype");
}

TEST(StationsTest, SeriesOf24HoursIsRejectedSayingSo) {
    test::TempDir dir;
    const fs::path path = dir.path() / "day.npz";
    NpzWriter out = NpzWriter::create(path);
    out.write("traffic", NdArray<double>({2, 24}, 1.0));
    out.write("long", NdArray<double>({2}, 115.0));
    out.write("lat", NdArray<double>({2}, 28.0));
    out.close();
    std::string message = error_of([&] { (void)read_stations(path, "traffic"); });
    EXPECT_CONTAINS(message, "(2, 24)");
    EXPECT_CONTAINS(message, "24 values per station");
    EXPECT_CONTAINS(message, "168");

    const fs::path csv = dir.path() / "day.csv";
    std::string wide = "lon,lat";
    for (int h = 0; h < 24; ++h) {
        wide += ",h" + std::to_string(h);
    }
    write_text(csv, wide + "\n");
    message = error_of([&] { (void)read_stations(csv, "traffic"); });
    EXPECT_CONTAINS(message, "found 24 hour columns");
    EXPECT_CONTAINS(message, "h24");
}

TEST(StationsTest, CoordinateArraysMustMatchTheSeries) {
    test::TempDir dir;
    const fs::path path = dir.path() / "short.npz";
    NpzWriter out = NpzWriter::create(path);
    out.write("traffic", NdArray<double>({3, 168}, 1.0));
    out.write("long", NdArray<double>({2}, 115.0));
    out.write("lat", NdArray<double>({3}, 28.0));
    out.close();
    const std::string message = error_of([&] { (void)read_stations(path, "traffic"); });
    EXPECT_CONTAINS(message, "'long' has shape (2,); expected (3,)");
}

TEST(StationsTest, LongCsvMissingOrDuplicateHourNamesStationAndHour) {
    test::TempDir dir;
    const fs::path path = dir.path() / "long.csv";
    write_text(path, long_csv(3, 17));
    std::string message = error_of([&] { (void)read_stations(path, "traffic"); });
    EXPECT_CONTAINS(message, "station 'B2' has no row for hour 17");
    EXPECT_CONTAINS(message, "(1 station-hours missing in all)");

    write_text(path, long_csv(2, -1, "B0,115,28,40,1\n"));
    message = error_of([&] { (void)read_stations(path, "traffic"); });
    EXPECT_CONTAINS(message, "station 'B0' has hour 40 twice (lines 42 and 338)");

    write_text(path, long_csv(2, -1, "B2,117,28,168,1\n"));
    message = error_of([&] { (void)read_stations(path, "traffic"); });
    EXPECT_CONTAINS(message, "line 338: hour '168'");
}

TEST(StationsTest, LongCsvStationMustNotMove) {
    test::TempDir dir;
    const fs::path path = dir.path() / "moving.csv";
    std::string csv = long_csv(2);
    const std::string row = "B1,116,28,100,1100\n";
    csv.replace(csv.find(row), row.size(), "B1,116.5,28,100,1100\n");
    write_text(path, csv);
    const std::string message = error_of([&] { (void)read_stations(path, "traffic"); });
    EXPECT_CONTAINS(message, "station 'B1' is at lon 116, lat 28 on line 170");
    EXPECT_CONTAINS(message, "lon 116.5");
}

TEST(StationsTest, CoordinatesOutOfRangeAreCountedWithAnExample) {
    test::TempDir dir;
    const fs::path path = dir.path() / "far.csv";
    std::string csv = long_csv(3);
    std::size_t at = 0;
    while ((at = csv.find("B1,116,", at)) != std::string::npos) {
        csv.replace(at, 7, "B1,200,");
    }
    write_text(path, csv);
    const std::string message = error_of([&] { (void)read_stations(path, "traffic"); });
    EXPECT_CONTAINS(message, "far.csv");
    EXPECT_CONTAINS(message, "1 of 3 stations have coordinates outside");
    EXPECT_CONTAINS(message, "'B1' at lon 200, lat 28");

    const fs::path npz = dir.path() / "far.npz";
    NpzWriter out = NpzWriter::create(npz);
    out.write("user", NdArray<std::int64_t>({2, 168}, 1));
    out.write("long", NdArray<double>(std::vector<std::size_t>{2}, std::vector<double>{0, 1}));
    out.write("lat", NdArray<double>(std::vector<std::size_t>{2}, std::vector<double>{-91, 1}));
    out.close();
    const std::string npz_message = error_of([&] { (void)read_stations(npz, "user"); });
    EXPECT_CONTAINS(npz_message, "'BS-0' at lon 0, lat -91");
}

TEST(StationsTest, NoStationsAndUnknownFormatsAreErrors) {
    test::TempDir dir;
    const fs::path header_only = dir.path() / "header.csv";
    write_text(header_only, "station,lon,lat,hour,value\n\n");
    std::string message = error_of([&] { (void)read_stations(header_only, "traffic"); });
    EXPECT_CONTAINS(message, "no stations");

    const fs::path empty_npz = dir.path() / "empty.npz";
    NpzWriter out = NpzWriter::create(empty_npz);
    out.write("traffic", NdArray<double>({0, 168}));
    out.write("long", NdArray<double>({0}));
    out.write("lat", NdArray<double>({0}));
    out.close();
    message = error_of([&] { (void)read_stations(empty_npz, "traffic"); });
    EXPECT_CONTAINS(message, "no stations");

    const fs::path text = dir.path() / "stations.txt";
    write_text(text, "lon,lat\n");
    message = error_of([&] { (void)read_stations(text, "traffic"); });
    EXPECT_CONTAINS(message, "unknown station file type '.txt'");
    EXPECT_CONTAINS(message, ".npz");
    EXPECT_CONTAINS(message, "station,lon,lat,hour,value");

    message = error_of([&] { (void)read_stations(dir.path() / "absent.npz", "traffic"); });
    EXPECT_CONTAINS(message, "absent.npz: no such file");
}

TEST(StationsTest, BadCsvCellsNameLineAndColumn) {
    test::TempDir dir;
    const fs::path path = dir.path() / "bad.csv";
    write_text(path, long_csv(1, -1, "B0,115,28,x,1\n"));
    EXPECT_CONTAINS(error_of([&] { (void)read_stations(path, "traffic"); }), "line 170: hour 'x'");

    std::string csv = long_csv(1);
    csv.replace(csv.find("B0,115,28,9,9\n"), 14, "B0,115,28,9,abc\n");
    write_text(path, csv);
    EXPECT_CONTAINS(error_of([&] { (void)read_stations(path, "traffic"); }),
                    "line 11, column value: 'abc' is not a number");

    write_text(path, long_csv(1, -1, "B0,115,28\n"));
    EXPECT_CONTAINS(error_of([&] { (void)read_stations(path, "traffic"); }),
                    "line 170 has 3 fields, the header has 5");

    write_text(path, "station,lon,lat,hour,value,extra\n");
    EXPECT_CONTAINS(error_of([&] { (void)read_stations(path, "traffic"); }),
                    "unexpected column 'extra'");

    write_text(path, "id,x,y\n");
    EXPECT_CONTAINS(error_of([&] { (void)read_stations(path, "traffic"); }),
                    "unexpected column 'id'");

    write_text(path, "station,lon,lat,hour\n");
    EXPECT_CONTAINS(error_of([&] { (void)read_stations(path, "traffic"); }), "neither wide");
}

TEST(StationsTest, InfiniteValuesAreRejected) {
    test::TempDir dir;
    const fs::path path = dir.path() / "inf.csv";
    std::string csv = long_csv(1);
    csv.replace(csv.find("B0,115,28,9,9\n"), 14, "B0,115,28,9,inf\n");
    write_text(path, csv);
    EXPECT_CONTAINS(error_of([&] { (void)read_stations(path, "traffic"); }),
                    "1 infinite values in the series, e.g. station 'B0' hour 9");
}

TEST(StationsTest, NegativeValuesAreRejectedNamingTheFirst) {
    // issue 19: negative traffic or user counts were accepted and made negative maps.
    test::TempDir dir;
    const fs::path path = dir.path() / "negative.csv";
    std::string csv = long_csv(1);
    csv.replace(csv.find("B0,115,28,9,9\n"), 14, "B0,115,28,9,-5\n");
    write_text(path, csv);
    const auto message = error_of([&] { (void)read_stations(path, "traffic"); });
    EXPECT_CONTAINS(message, "1 negative values in the series, e.g. station 'B0' hour 9: -5");
    EXPECT_CONTAINS(message, "NaN (read as 0)");
}

}  // namespace
}  // namespace zoomdiff::io
