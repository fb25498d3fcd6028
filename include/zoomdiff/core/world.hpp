#pragma once

// The launch convention of torchrun (DESIGN §6): one process per rank, told its place by the
// environment. Torch-free, so the flag layer can label logs and progress per rank.

#include <cstddef>
#include <string>
#include <utility>

namespace zoomdiff::core {

struct World {
    int rank = 0;                           ///< RANK
    int world_size = 1;                     ///< WORLD_SIZE; 1 = a single process, no process group
    int local_rank = 0;                     ///< LOCAL_RANK (the rank on its machine: picks cuda:N)
    std::string master_addr = "127.0.0.1";  ///< MASTER_ADDR: the host of rank 0's TCPStore
    int master_port = 29500;                ///< MASTER_PORT

    [[nodiscard]] bool distributed() const { return world_size > 1; }

    [[nodiscard]] bool leader() const { return rank == 0; }
};

/// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT. Without WORLD_SIZE (or with 1):
/// a single process. With WORLD_SIZE > 1, RANK and MASTER_PORT must be set (MASTER_ADDR defaults
/// to 127.0.0.1, LOCAL_RANK to RANK); a malformed or out-of-range value throws zoomdiff::Error
/// naming the variable.
World world_from_environment();

/// "rank 1/4" (empty for a single process): the prefix of every log line of a rank.
std::string world_label(const World& world);

/// The items [first, end) of `n` that rank `rank` of `ranks` takes: a contiguous run, sizes
/// differing by at most one (a batch's tiles in training, blocks of tiles in inference).
std::pair<std::size_t, std::size_t> rank_share(std::size_t n, int rank, int ranks);

}  // namespace zoomdiff::core
