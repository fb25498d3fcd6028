#include "zoomdiff/core/atomic_output.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::core {

namespace fs = std::filesystem;

AtomicOutput::AtomicOutput(fs::path final_path) : final_path_(std::move(final_path)) {
    const fs::path parent = final_path_.parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        fs::create_directories(parent, ec);
        if (ec) {
            throw Error(parent.string(),
                        "cannot create the output directory (" + ec.message() + ")",
                        "Choose a writable location with --out.");
        }
    }
    temp_path_ = final_path_;
    temp_path_ += ".tmp-" + std::to_string(::getpid());
}

AtomicOutput::~AtomicOutput() {
    if (!committed_) {
        std::error_code ignored;
        fs::remove(temp_path_, ignored);
    }
}

void AtomicOutput::commit() {
    const int fd = ::open(temp_path_.c_str(), O_RDONLY);
    if (fd < 0) {
        throw Error(temp_path_.string(), "the writer left no temporary file to commit",
                    "This is a bug; please report it.", ExitCode::kInternal);
    }
    const int sync_result = ::fsync(fd);
    const int sync_errno = errno;
    ::close(fd);
    if (sync_result != 0) {
        throw Error(final_path_.string(),
                    std::string("write failed (") + std::strerror(sync_errno) + ")",
                    "Check free disk space and permissions of the output directory.");
    }
    std::error_code ec;
    fs::rename(temp_path_, final_path_, ec);
    if (ec) {
        throw Error(final_path_.string(),
                    "cannot move the finished file into place (" + ec.message() + ")",
                    "Check permissions of the output directory.");
    }
    committed_ = true;
}

namespace {

/// `path` made absolute and normal, symlinks resolved as far as the path exists.
fs::path canonical_as_far_as_exists(const fs::path& path) {
    std::error_code ec;
    const auto resolved = fs::weakly_canonical(fs::absolute(path), ec);
    return ec ? fs::absolute(path).lexically_normal() : resolved;
}

bool inside(const fs::path& file, const fs::path& folder) {
    const auto f = canonical_as_far_as_exists(file);
    const auto d = canonical_as_far_as_exists(folder);
    const auto rel = f.lexically_relative(d);
    return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

void check_output_path(const fs::path& out, std::string_view out_flag,
                       std::initializer_list<NamedInput> inputs) {
    const std::string subject = fmt::format("{} {}", out_flag, out.string());
    std::error_code ec;
    const bool exists = fs::exists(out, ec);
    if (exists && fs::is_directory(out, ec)) {
        throw Error(subject, "is a folder, not an output file",
                    fmt::format("Give {} a file name", out_flag));
    }
    for (const auto& input : inputs) {
        if (input.path.empty() || !fs::exists(input.path, ec))
            continue;
        const bool same =
            exists ? fs::equivalent(out, input.path, ec)
                   : canonical_as_far_as_exists(out) == canonical_as_far_as_exists(input.path);
        if (same) {
            throw Error(
                subject,
                fmt::format("is the {} input: writing it would destroy that input", input.flag),
                fmt::format("Choose another {}", out_flag));
        }
        if (exists && fs::is_directory(input.path, ec) && inside(out, input.path)) {
            throw Error(
                subject,
                fmt::format(
                    "is an existing file inside the {} folder {}, which may be one of its inputs",
                    input.flag, input.path.string()),
                fmt::format("Write {} outside the input folders", out_flag));
        }
    }
    // The nearest existing folder above the output must be writable (it creates the rest).
    fs::path folder = canonical_as_far_as_exists(out).parent_path();
    while (!folder.empty() && !fs::exists(folder, ec))
        folder = folder.parent_path();
    if (folder.empty() || !fs::is_directory(folder, ec)) {
        throw Error(subject, fmt::format("cannot be created: {} is not a folder", folder.string()),
                    fmt::format("Choose another {}", out_flag));
    }
    if (::access(folder.c_str(), W_OK) != 0) {
        throw Error(
            subject,
            fmt::format("cannot be written: the folder {} is not writable", folder.string()),
            fmt::format("Choose a writable location for {}", out_flag));
    }
}

}  // namespace zoomdiff::core
