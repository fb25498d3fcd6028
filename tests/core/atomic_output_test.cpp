#include "zoomdiff/core/atomic_output.hpp"

#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "support/support.hpp"
#include "zoomdiff/core/error.hpp"

namespace zoomdiff::core {
namespace {

namespace fs = std::filesystem;

TEST(AtomicOutputTest, CommitMovesTheTempFileIntoPlace) {
    test::TempDir dir;
    const fs::path target = dir.path() / "sub" / "out.txt";
    {
        AtomicOutput out(target);
        EXPECT_NE(out.temp_path(), target);
        EXPECT_EQ(out.temp_path().parent_path(), target.parent_path());
        std::ofstream(out.temp_path()) << "done";
        EXPECT_FALSE(fs::exists(target));
        out.commit();
    }
    ASSERT_TRUE(fs::exists(target));
    std::ifstream in(target);
    std::string text;
    in >> text;
    EXPECT_EQ(text, "done");
    EXPECT_EQ(std::distance(fs::directory_iterator(target.parent_path()), fs::directory_iterator()), 1);
}

TEST(AtomicOutputTest, NoCommitLeavesNothingBehind) {
    test::TempDir dir;
    const fs::path target = dir.path() / "out.txt";
    try {
        AtomicOutput out(target);
        std::ofstream(out.temp_path()) << "half";
        throw std::runtime_error("writer failed");
    } catch (const std::runtime_error&) {
    }
    EXPECT_FALSE(fs::exists(target));
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(AtomicOutputTest, CommitWithoutTempFileThrows) {
    test::TempDir dir;
    AtomicOutput out(dir.path() / "never_written.h5");
    EXPECT_THROW(out.commit(), Error);
}

TEST(ErrorTest, MessageNamesSubjectProblemAndFix) {
    const Error e("data/x.tif", "file not found", "Pass it with --pop_path.");
    EXPECT_STREQ(e.what(), "data/x.tif: file not found. Pass it with --pop_path.");
    EXPECT_EQ(e.exit_code(), ExitCode::kInput);
    EXPECT_EQ(Error("a", "b", "c", ExitCode::kInternal).exit_code(), ExitCode::kInternal);
}

}  // namespace
}  // namespace zoomdiff::core
