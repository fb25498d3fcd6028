#include "zoomdiff/core/progress.hpp"

#include <gtest/gtest.h>

namespace zoomdiff::core {
namespace {

TEST(ProgressTest, FormatDurationPicksTheLargestUnits) {
    EXPECT_EQ(format_duration(12.4), "12s");
    EXPECT_EQ(format_duration(185), "3m05s");
    EXPECT_EQ(format_duration(3720), "1h02m");
    EXPECT_EQ(format_duration(-1), "?");
}

TEST(ProgressTest, StderrSinkCountsAndFinishesQuietlyOffATerminal) {
    StderrProgress progress(ProgressMode::kAuto, /*line_interval_s=*/1000.0);
    testing::internal::CaptureStderr();
    progress.start("cells", 10, "cells");
    for (int i = 0; i < 10; ++i) {
        progress.advance();
    }
    progress.finish();
    const std::string err = testing::internal::GetCapturedStderr();
    // stderr is not a terminal under ctest: a short stage prints nothing.
    EXPECT_EQ(err, "");
}

TEST(ProgressTest, StderrSinkPrintsRateAndEtaLines) {
    StderrProgress progress(ProgressMode::kAlways, /*line_interval_s=*/0.0);
    testing::internal::CaptureStderr();
    progress.start("features", 4, "features");
    progress.advance(2);
    progress.finish();
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("features: 2/4 features (50%)"), std::string::npos) << err;
    EXPECT_NE(err.find("ETA"), std::string::npos) << err;
    EXPECT_NE(err.find("took"), std::string::npos) << err;
}

}  // namespace
}  // namespace zoomdiff::core
