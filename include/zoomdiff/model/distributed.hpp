#pragma once

// Data-parallel collectives over LibTorch's own distributed engine (DESIGN §6): c10d's
// ProcessGroupGloo on CPUs, ProcessGroupNCCL on GPUs where LibTorch is built with CUDA, with
// rendezvous through c10d's TCPStore at MASTER_ADDR:MASTER_PORT (rank 0 hosts it). The c10d and
// Gloo headers stay inside distributed.cpp.
//
// Every collective turns a failure of the group (a rank that died, a timeout) into one
// zoomdiff::Error naming this rank, what it was doing and what to do, so no rank hangs or ends
// with a Gloo backtrace.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <torch/types.h>

#include "zoomdiff/core/world.hpp"

namespace zoomdiff::model {

class ProcessGroup {
public:
    /// Join the group of `world` (blocks until every rank has joined, or throws after `timeout`).
    /// `device`: where the tensors of the collectives live (NCCL for CUDA when built with it,
    /// Gloo otherwise). `timeout` also bounds every later collective.
    static std::unique_ptr<ProcessGroup> connect(const core::World& world,
                                                 const torch::Device& device,
                                                 std::chrono::milliseconds timeout);
    ~ProcessGroup();
    ProcessGroup(const ProcessGroup&) = delete;
    ProcessGroup& operator=(const ProcessGroup&) = delete;

    [[nodiscard]] int rank() const;
    [[nodiscard]] int size() const;
    [[nodiscard]] const std::string& backend() const;

    /// Sum `tensor` over the ranks, in place (every rank gets the sum). `what` names the step in
    /// an error.
    void all_reduce_sum(torch::Tensor& tensor, const std::string& what);
    /// Replace `tensor` everywhere by rank `root`'s (same shape and dtype on every rank).
    void broadcast(torch::Tensor& tensor, int root, const std::string& what);
    void barrier(const std::string& what);
    /// Every rank says whether its part went well; true when all did. A rank whose set-up failed
    /// calls this before it throws, so the others stop with an error instead of waiting for it.
    bool all_ok(bool ok, const std::string& what);

private:
    struct Impl;
    explicit ProcessGroup(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Run `step` on every rank and make the ranks agree on how it went: when it throws on any rank,
/// that rank rethrows its error and every other one throws "another rank failed while <doing>",
/// so nobody waits for a rank that has stopped. Without a group (one process) it just runs
/// `step`. `step` makes no collective call; `doing` also names the agreement in a group error.
void on_every_rank(ProcessGroup* group, const core::World& world, const std::string& doing,
                   const std::function<void()>& step);

/// torchrun's convention: with several ranks a bare "cuda" means this rank's GPU,
/// cuda:LOCAL_RANK; anything else as resolve_device reads it.
torch::Device rank_device(const std::string& device, const core::World& world);

/// Timeout of rendezvous and collectives: --dist_timeout seconds.
inline std::chrono::milliseconds dist_timeout(int seconds) {
    return std::chrono::milliseconds(1000LL * seconds);
}

}  // namespace zoomdiff::model
