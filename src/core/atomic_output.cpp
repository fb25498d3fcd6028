#include "zoomdiff/core/atomic_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::core {

namespace fs = std::filesystem;

AtomicOutput::AtomicOutput(fs::path final_path) : final_path_(std::move(final_path)) {
    const fs::path parent = final_path_.parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        fs::create_directories(parent, ec);
        if (ec) {
            throw Error(parent.string(), "cannot create the output directory (" + ec.message() + ")",
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
        throw Error(final_path_.string(), std::string("write failed (") + std::strerror(sync_errno) + ")",
                    "Check free disk space and permissions of the output directory.");
    }
    std::error_code ec;
    fs::rename(temp_path_, final_path_, ec);
    if (ec) {
        throw Error(final_path_.string(), "cannot move the finished file into place (" + ec.message() + ")",
                    "Check permissions of the output directory.");
    }
    committed_ = true;
}

}  // namespace zoomdiff::core
