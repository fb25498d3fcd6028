#pragma once

#include <filesystem>

namespace zoomdiff::core {

/// An output file that appears under its final name only when commit() succeeds.
///
/// Writers write to temp_path() ("<final>.tmp-<pid>" in the same directory, so the rename
/// is atomic); commit() fsyncs and renames. Without commit() (an exception unwinding, a
/// failed check) the destructor removes the temporary file, so a failed command leaves no
/// partial output (DESIGN §3, STYLE §2.12). Parent directories are created on construction.
class AtomicOutput {
public:
    explicit AtomicOutput(std::filesystem::path final_path);
    ~AtomicOutput();

    AtomicOutput(const AtomicOutput&) = delete;
    AtomicOutput& operator=(const AtomicOutput&) = delete;
    AtomicOutput(AtomicOutput&&) = delete;
    AtomicOutput& operator=(AtomicOutput&&) = delete;

    [[nodiscard]] const std::filesystem::path& temp_path() const noexcept { return temp_path_; }
    [[nodiscard]] const std::filesystem::path& final_path() const noexcept { return final_path_; }

    /// fsync the temporary file and rename it over the final path. Throws zoomdiff::Error.
    void commit();

private:
    std::filesystem::path final_path_;
    std::filesystem::path temp_path_;
    bool committed_ = false;
};

}  // namespace zoomdiff::core
