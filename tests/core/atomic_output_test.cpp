#include "zoomdiff/core/atomic_output.hpp"

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>

#include "support/support.hpp"
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

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
    EXPECT_EQ(std::distance(fs::directory_iterator(target.parent_path()), fs::directory_iterator()),
              1);
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

TEST(OutputPathTest, AnInputIsNeverAnOutput) {
    // issue 19: grid_meta and env_extra wrote over a station CSV, a raster and a POI table.
    test::TempDir dir;
    const fs::path stations = dir.path() / "stations.csv";
    const fs::path pois = dir.path() / "poi";
    fs::create_directories(pois);
    std::ofstream(stations) << "lon,lat\n";
    std::ofstream(pois / "table.csv") << "x\n";
    const auto message = [&](const fs::path& out) {
        try {
            check_output_path(out, "--out",
                              {{"--data_path", stations}, {"--poi_dir", pois}, {"--pop_path", {}}});
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(message(stations).find("is the --data_path input"), std::string::npos)
        << message(stations);
    EXPECT_NE(message(dir.path() / "." / "stations.csv").find("--data_path"), std::string::npos)
        << "same file, other spelling";
    fs::create_symlink(stations, dir.path() / "link.csv");
    EXPECT_NE(message(dir.path() / "link.csv").find("--data_path"), std::string::npos)
        << "a link to the input";
    EXPECT_NE(message(pois / "table.csv").find("inside the --poi_dir folder"), std::string::npos);
    EXPECT_NE(message(pois).find("is a folder"), std::string::npos);
    EXPECT_EQ(message(pois / "new.h5"), "") << "a new file in an input folder replaces nothing";
    EXPECT_EQ(message(dir.path() / "a" / "b" / "out.h5"), "")
        << "missing folders are created later";
    std::ofstream(dir.path() / "plain") << "x";
    EXPECT_NE(message(dir.path() / "plain" / "out.h5").find("is not a folder"), std::string::npos);
    if (::geteuid() != 0) {  // root writes anywhere
        fs::create_directories(dir.path() / "locked");
        fs::permissions(dir.path() / "locked", fs::perms::owner_read | fs::perms::owner_exec);
        EXPECT_NE(message(dir.path() / "locked" / "out.h5").find("not writable"),
                  std::string::npos);
        fs::permissions(dir.path() / "locked", fs::perms::owner_all);
    }
}

TEST(AtomicOutputTest, StaleTemporariesOfDeadProcessesAreRemoved) {
    // issue 19: an interrupted run left ".tmp-PID" files that nothing cleaned.
    test::TempDir dir;
    const fs::path target = dir.path() / "city.h5";
    const pid_t child = ::fork();
    if (child == 0)
        ::_exit(0);
    ASSERT_GT(child, 0);
    ::waitpid(child, nullptr, 0);  // a process id that is gone
    const fs::path dead = dir.path() / ("city.h5.tmp-" + std::to_string(child));
    const fs::path live = dir.path() / ("city.h5.tmp-" + std::to_string(::getppid()));
    const fs::path other = dir.path() / ("other.h5.tmp-" + std::to_string(child));
    for (const auto& f : {dead, live, other})
        std::ofstream(f) << "half";
    {
        AtomicOutput out(target);
        EXPECT_FALSE(fs::exists(dead)) << "a dead process's temporary of the same output";
        EXPECT_TRUE(fs::exists(live)) << "a running process may still be writing it";
        EXPECT_TRUE(fs::exists(other)) << "another output's temporary is not ours to remove";
    }
}

TEST(OutputPathTest, AnOutputFolderIsNoInputAndIsWritable) {
    test::TempDir dir;
    const fs::path data = dir.path() / "cities";
    fs::create_directories(data);
    const auto message = [&](const fs::path& out) {
        try {
            check_output_folder(out, "--out", {{"--data_root", data}, {"--modelfolder", {}}});
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(message(data).find("is the --data_root input folder"), std::string::npos);
    EXPECT_NE(message(dir.path() / "cities" / ".").find("--data_root"), std::string::npos);
    std::ofstream(dir.path() / "file") << "x";
    EXPECT_NE(message(dir.path() / "file").find("is a file"), std::string::npos);
    EXPECT_NE(message(dir.path() / "file" / "out").find("is not a folder"), std::string::npos);
    EXPECT_EQ(message(dir.path() / "results"), "") << "created later";
    EXPECT_EQ(message(data / "results"), "") << "a new folder inside an input folder";
}

TEST(OutputPathTest, LowFreeSpaceIsAWarningBeforeTheWork) {
    test::TempDir dir;
    EXPECT_TRUE(warn_if_low_space(dir.path() / "new" / "out.h5", 1, "results"));
    EXPECT_FALSE(warn_if_low_space(dir.path() / "out.h5", UINTMAX_MAX, "results"))
        << "no file system has 2^64 bytes free";
}

TEST(ErrorTest, MessageNamesSubjectProblemAndFix) {
    const Error e("data/x.tif", "file not found", "Pass it with --pop_path.");
    EXPECT_STREQ(e.what(), "data/x.tif: file not found. Pass it with --pop_path.");
    EXPECT_EQ(e.exit_code(), ExitCode::kInput);
    EXPECT_EQ(Error("a", "b", "c", ExitCode::kInternal).exit_code(), ExitCode::kInternal);
}

}  // namespace
}  // namespace zoomdiff::core
