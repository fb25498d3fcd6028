// Sub-hourly station series (30- and 15-minute steps) are summed to hours on import.
#include <cmath>
#include <limits>

#include "support/support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/io/npz.hpp"
#include "zoomdiff/io/stations.hpp"

namespace zoomdiff::io {
namespace {

std::filesystem::path write_station_npz(const test::TempDir& dir, std::size_t steps,
                                        double nan_at = -1) {
    const std::size_t n = 2;
    NdArray<double> series({n, steps});
    for (std::size_t i = 0; i < series.size(); ++i) {
        series[i] = static_cast<double>(i % 7) + 0.25;
    }
    if (nan_at >= 0) {
        series[static_cast<std::size_t>(nan_at)] = std::numeric_limits<double>::quiet_NaN();
    }
    const auto path = dir.path() / ("st_" + std::to_string(steps) + ".npz");
    NpzWriter w = NpzWriter::create(path);
    w.write("traffic", series);
    w.write("long", NdArray<double>({n}, std::vector<double>{115.85, 115.86}));
    w.write("lat", NdArray<double>({n}, std::vector<double>{28.70, 28.71}));
    w.close();
    return path;
}

TEST(StationsSubHourlyTest, QuarterAndHalfHoursAreSummedToHours) {
    test::TempDir dir;
    for (const std::size_t k : {2U, 4U}) {
        SCOPED_TRACE(k);
        const StationTable t = read_stations(write_station_npz(dir, 168 * k), "traffic");
        EXPECT_EQ(t.input_step_minutes, static_cast<int>(60 / k));
        ASSERT_EQ(t.series.shape(), (std::vector<std::size_t>{2, 168}));
        for (std::size_t b = 0; b < 2; ++b) {
            for (std::size_t h = 0; h < 168; ++h) {
                double expected = 0;
                for (std::size_t j = 0; j < k; ++j) {
                    expected += static_cast<double>(((b * 168 + h) * k + j) % 7) + 0.25;
                }
                ASSERT_DOUBLE_EQ(t.series[b * 168 + h], expected)
                    << "station " << b << " hour " << h;
            }
        }
    }
    EXPECT_EQ(read_stations(write_station_npz(dir, 168), "traffic").input_step_minutes, 60);
}

TEST(StationsSubHourlyTest, NanStepCountsAsZeroAndIsCounted) {
    test::TempDir dir;
    const StationTable t = read_stations(write_station_npz(dir, 672, /*nan_at=*/5), "traffic");
    EXPECT_EQ(t.nan_values, 1U);
    // hour 1 = steps 4..7: values (4, 5, 6, 7) % 7 + 0.25 with step 5 missing.
    EXPECT_DOUBLE_EQ(t.series[1], 4.25 + 6.25 + 0.25);
}

TEST(StationsSubHourlyTest, OtherLengthsAreRefusedSayingWhatWasFound) {
    test::TempDir dir;
    try {
        read_stations(write_station_npz(dir, 500), "traffic");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("500"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace zoomdiff::io
