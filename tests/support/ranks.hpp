#pragma once

// Local ranks of a distributed run for tests: one tool process per rank with torchrun's
// variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1, MASTER_PORT), each writing its
// stderr to a file, waited for with a deadline.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace zoomdiff::test {

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_port();

/// One rank's process.
struct RankProcess {
    pid_t pid = -1;
    int rank = 0;
    std::filesystem::path log;  ///< its stderr
};

/// Start `world_size` processes of `exe args --progress never` (args already quoted), rank r with
/// RANK=r, WORLD_SIZE, LOCAL_RANK=r, MASTER_ADDR=127.0.0.1, MASTER_PORT=port; stderr to
/// <scratch>/rank<r>.log (`scratch` is created). `ranks`: which ranks to start (default all).
std::vector<RankProcess> start_ranks(const std::string& exe, const std::string& args,
                                     int world_size, int port, const std::filesystem::path& scratch,
                                     std::vector<int> ranks = {});

/// How a rank's process ended.
struct RankEnd {
    bool finished = false;  ///< false: still running after the timeout (it was then killed)
    int exit_code = -1;     ///< when it exited
    int signal = 0;         ///< when a signal ended it
    double seconds = 0.0;   ///< from the call of wait_rank to its end
    std::string stderr_text;

    /// The shell's view: the exit code, 128 + signal, or -1 when it did not finish.
    [[nodiscard]] int code() const {
        return !finished ? -1 : signal != 0 ? 128 + signal : exit_code;
    }
};

/// Wait for a rank to end, at most `timeout` (then kill it).
RankEnd wait_rank(const RankProcess& process, std::chrono::milliseconds timeout);

/// The rank's stderr so far.
std::string rank_log(const RankProcess& process);

}  // namespace zoomdiff::test
