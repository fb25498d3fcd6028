#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace zoomdiff::test {

/// The golden folder: $ZOOMDIFF_GOLDEN_DIR, else tests/data/golden of the source tree.
std::filesystem::path golden_dir();

/// tests/data of the source tree: every file a test reads ships there (tests/data/README.md).
std::filesystem::path test_data_dir();

/// Why a test fails when a data file is absent (a missing file is a failure, never a skip):
/// "<path> is missing: it ships in tests/data (tests/data/README.md)".
std::string missing_data(const std::filesystem::path& path);

/// The repository root.
std::filesystem::path source_dir();

/// What a tool run gave: its exit code and everything it wrote to stderr.
struct ToolRun {
    int exit_code = -1;
    std::string stderr_text;
    std::string stdout_text;
};

/// Runs `exe args --progress never` through the shell (args already quoted); stderr and stdout
/// captured through files in `scratch`.
ToolRun run_tool(const std::string& exe, const std::string& args,
                 const std::filesystem::path& scratch);

/// Runs tests/python/check_cf.py `kind` `file` (xarray with both netCDF engines, and GDAL, open
/// a netCDF-4 output as our users do, DESIGN §7): exit code 0 and its report, or what failed.
ToolRun check_cf(const std::string& kind, const std::filesystem::path& file,
                 const std::filesystem::path& scratch);

/// Number of lines of a text file (0 when it does not exist yet): how far a tool's log has got.
std::size_t line_count(const std::filesystem::path& path);

/// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&&) = delete;
    TempDir& operator=(TempDir&&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace zoomdiff::test
