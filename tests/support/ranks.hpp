#pragma once

// Local ranks of a distributed run for tests: one tool process per rank with torchrun's
// variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1, MASTER_PORT), each writing its
// stderr to a file, waited for with a deadline.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

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
/// <scratch>/rank<r>.log. `ranks`: which ranks to start (default all).
std::vector<RankProcess> start_ranks(const std::string& exe, const std::string& args, int world_size, int port,
                                     const std::filesystem::path& scratch, std::vector<int> ranks = {});

/// Exit code of a rank once it ends; -1 if it did not end within `timeout` (it is then killed),
/// 128 + signal if a signal ended it.
int wait_rank(const RankProcess& process, std::chrono::milliseconds timeout);

/// The rank's stderr so far.
std::string rank_log(const RankProcess& process);

}  // namespace zoomdiff::test
