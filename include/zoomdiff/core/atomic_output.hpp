#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string_view>

namespace zoomdiff::core {

/// An output file that appears under its final name only when commit() succeeds.
///
/// Writers write to temp_path() ("<final>.tmp-<pid>" in the same directory, so the rename
/// is atomic); commit() fsyncs and renames. Without commit() (an exception unwinding, a
/// failed check) the destructor removes the temporary file, so a failed command leaves no
/// partial output (DESIGN §3, STYLE §2.12). Parent directories are created on construction, and
/// "<final>.tmp-<pid>" files of processes that are gone (a killed run) are removed.
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

/// An input of a run: the flag that named it and its path (a file or a folder; empty: none).
struct NamedInput {
    std::string_view flag;
    std::filesystem::path path;
};

/// The validate phase of a job that writes the file `out` (named by `out_flag`), before any work
/// (issue 19): throws zoomdiff::Error when `out` is one of `inputs` (same file by device and inode,
/// or the same canonical path), an existing file inside an input folder (it may be one of the
/// inputs read from there), an existing folder, or in a folder that cannot be created or written.
void check_output_path(const std::filesystem::path& out, std::string_view out_flag,
                       std::initializer_list<NamedInput> inputs);

/// check_output_path for a job that writes into the folder `out`: throws zoomdiff::Error when
/// `out` is an existing file, one of the input folders `inputs`, not writable, or cannot be
/// created.
void check_output_folder(const std::filesystem::path& out, std::string_view out_flag,
                         std::initializer_list<NamedInput> inputs);

/// Logs a warning naming `out` when the file system that will hold it has less free space than
/// `estimated_bytes` (issue 19: hours of work lost to a full disk at the end). Returns whether
/// the space suffices (or could not be measured).
bool warn_if_low_space(const std::filesystem::path& out, std::uintmax_t estimated_bytes,
                       std::string_view what);

}  // namespace zoomdiff::core
