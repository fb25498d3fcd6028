#include "zoomdiff/core/atomic_output.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::core {

namespace fs = std::filesystem;

namespace {

/// Whether `text` is a process id whose process is gone (so its temporary file is stale).
bool dead_process(const std::string& text) {
    if (text.empty() || text.size() > 9 ||
        text.find_first_not_of("0123456789") != std::string::npos)
        return false;
    const auto pid = static_cast<pid_t>(std::stol(text));
    return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

/// Removes "<final>.tmp-<pid>" files beside `final_path` whose process is dead (an interrupted
/// run of the same output, issue 19); a live process's temporary file is left alone.
void remove_stale_temporaries(const fs::path& final_path) {
    const std::string prefix = final_path.filename().string() + ".tmp-";
    std::error_code ec;
    fs::directory_iterator it(
        final_path.parent_path().empty() ? fs::path(".") : final_path.parent_path(), ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.compare(0, prefix.size(), prefix) != 0 ||
            !dead_process(name.substr(prefix.size())))
            continue;
        std::error_code removed;
        fs::remove_all(it->path(), removed);
        if (!removed)
            spdlog::info("removed {}, left by an interrupted run", it->path().string());
    }
}

}  // namespace

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
    remove_stale_temporaries(final_path_);
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

/// The nearest existing folder above `out` (which creates the rest) must be writable.
void check_creatable(const fs::path& out, const std::string& subject, std::string_view out_flag) {
    std::error_code ec;
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

}  // namespace

void check_output_folder(const fs::path& out, std::string_view out_flag,
                         std::initializer_list<NamedInput> inputs) {
    const std::string subject = fmt::format("{} {}", out_flag, out.string());
    std::error_code ec;
    const bool exists = fs::exists(out, ec);
    if (exists && !fs::is_directory(out, ec)) {
        throw Error(subject, "is a file, not an output folder",
                    fmt::format("Give {} a folder (it is created if missing)", out_flag));
    }
    for (const auto& input : inputs) {
        if (input.path.empty() || !fs::exists(input.path, ec))
            continue;
        if (canonical_as_far_as_exists(out) == canonical_as_far_as_exists(input.path)) {
            throw Error(
                subject,
                fmt::format("is the {} input folder: the outputs would mix with it", input.flag),
                fmt::format("Choose another {}", out_flag));
        }
    }
    if (!exists) {
        check_creatable(out, subject, out_flag);
    } else if (::access(out.c_str(), W_OK) != 0) {
        throw Error(subject, "is not writable",
                    fmt::format("Choose a writable location for {}", out_flag));
    }
}

bool warn_if_low_space(const fs::path& out, std::uintmax_t estimated_bytes, std::string_view what) {
    std::error_code ec;
    fs::path folder = canonical_as_far_as_exists(out);
    while (!folder.empty() && !fs::exists(folder, ec))
        folder = folder.parent_path();
    const auto space = fs::space(folder.empty() ? fs::path(".") : folder, ec);
    if (ec || space.available >= estimated_bytes)
        return true;
    spdlog::warn("{}: about {:.1f} MB of {} to write, {:.1f} MB free: the run may fail at the end",
                 out.string(), static_cast<double>(estimated_bytes) / 1e6, what,
                 static_cast<double>(space.available) / 1e6);
    return false;
}

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
    check_creatable(out, subject, out_flag);
}

}  // namespace zoomdiff::core
