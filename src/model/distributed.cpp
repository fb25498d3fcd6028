// c10d process groups for zoomdiff_train and zoomdiff_infer (DESIGN §6, docs/distributed.md).
#include "zoomdiff/model/distributed.hpp"

#include <cstdlib>
#include <exception>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef ZOOMDIFF_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/model/weights.hpp"

namespace zoomdiff::model {
namespace {

constexpr const char* kGroupFix =
    "Check the log of every rank: one has stopped (an error, out of memory, killed) or cannot "
    "reach "
    "MASTER_ADDR:MASTER_PORT; fix it and start every rank again (zoomdiff_train with --resume; "
    "zoomdiff_infer "
    "with the same command, which reuses the finished shards)";

// The first line of a c10d / Gloo message, without its source location.
std::string short_message(const std::exception& e) {
    std::string text = e.what();
    const auto newline = text.find('\n');
    if (newline != std::string::npos)
        text.resize(newline);
    if (text.size() > 2 && text.front() == '[') {
        const auto close = text.find("] ");
        if (close != std::string::npos)
            text = text.substr(close + 2);
    }
    return text;
}

// Rendezvous (TCPStore) or the group's own connections failed: some rank is missing.
[[noreturn]] void meeting_failed(const core::World& world, const std::string& where,
                                 const std::exception& e, std::chrono::milliseconds timeout) {
    throw Error(
        fmt::format("MASTER_ADDR:MASTER_PORT ({})", where),
        fmt::format("rank {}/{} could not meet the other ranks there ({}; timeout {} s)",
                    world.rank, world.world_size, short_message(e), timeout.count() / 1000),
        "Start every rank within the timeout with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE "
        "(rank 0's host must accept connections on that port; pick a free one; GLOO_SOCKET_IFNAME, "
        "when "
        "set, must name an interface of this host), or raise --dist_timeout");
}

}  // namespace

struct ProcessGroup::Impl {
    core::World world;
    std::chrono::milliseconds timeout{};
    std::string backend;
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroup> group;

    [[noreturn]] void fail(const std::string& what, const std::exception& e) const {
        throw Error(fmt::format("rank {}/{}", world.rank, world.world_size),
                    fmt::format("the process group failed during {} ({}; timeout {} s)", what,
                                short_message(e), timeout.count() / 1000),
                    kGroupFix);
    }

    /// Start a collective with `launch` and wait for it; any failure becomes fail(what).
    template <typename Launch>
    void collective(const std::string& what, Launch launch) const {
        try {
            launch()->wait(timeout);
        } catch (const std::exception& e) {
            fail(what, e);
        }
    }
};

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProcessGroup::~ProcessGroup() = default;

std::unique_ptr<ProcessGroup> ProcessGroup::connect(const core::World& world,
                                                    const torch::Device& device,
                                                    std::chrono::milliseconds timeout) {
    auto impl = std::make_unique<Impl>();
    impl->world = world;
    impl->timeout = timeout;
    const auto where = fmt::format("{}:{}", world.master_addr, world.master_port);
    spdlog::info("joining a process group of {} ranks at {} (rank 0 hosts the TCPStore)",
                 world.world_size, where);
    try {
        c10d::TCPStoreOptions options;
        options.port = static_cast<std::uint16_t>(world.master_port);
        options.isServer = world.rank == 0;
        options.numWorkers = static_cast<std::size_t>(world.world_size);
        options.waitWorkers = true;
        options.timeout = timeout;
        impl->store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, options);
    } catch (const std::exception& e) {
        meeting_failed(world, where, e, timeout);
    }
    try {
#ifdef ZOOMDIFF_WITH_NCCL
        if (device.is_cuda()) {
            auto options = c10d::ProcessGroupNCCL::Options::create();
            options->timeout = timeout;
            impl->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, world.rank,
                                                                      world.world_size, options);
            impl->backend = "nccl";
        }
#endif
        if (!impl->group) {
            if (device.is_cuda()) {
                spdlog::warn(
                    "this LibTorch has no NCCL: gradients travel through Gloo (slower than NCCL on "
                    "GPUs)");
            }
            auto options = c10d::ProcessGroupGloo::Options::create(timeout);
            // The interface Gloo talks on: GLOO_SOCKET_IFNAME when set (as torch.distributed reads
            // it), loopback for local ranks, else the one this host's name resolves to.
            const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
            if (interface != nullptr && *interface != '\0') {
                options->devices.push_back(
                    c10d::ProcessGroupGloo::createDeviceForInterface(interface));
            } else if (world.master_addr == "127.0.0.1" || world.master_addr == "localhost") {
                options->devices.push_back(
                    c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
            } else {
                options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
            }
            options->threads = 1;
            impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, world.rank,
                                                                      world.world_size, options);
            impl->backend = "gloo";
        }
    } catch (const std::exception& e) {
        meeting_failed(world, where, e, timeout);
    }
    spdlog::info("process group ready: {} ranks, backend {}", world.world_size, impl->backend);
    return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

int ProcessGroup::rank() const {
    return impl_->world.rank;
}

int ProcessGroup::size() const {
    return impl_->world.world_size;
}

const std::string& ProcessGroup::backend() const {
    return impl_->backend;
}

void ProcessGroup::all_reduce_sum(torch::Tensor& tensor, const std::string& what) {
    std::vector<torch::Tensor> tensors{tensor};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    options.timeout = impl_->timeout;
    impl_->collective(what, [&] { return impl_->group->allreduce(tensors, options); });
}

void ProcessGroup::broadcast(torch::Tensor& tensor, int root, const std::string& what) {
    std::vector<torch::Tensor> tensors{tensor};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    options.timeout = impl_->timeout;
    impl_->collective(what, [&] { return impl_->group->broadcast(tensors, options); });
}

void ProcessGroup::barrier(const std::string& what) {
    // An all-reduce of one number: Gloo's barrier is the same exchange, and errors read alike.
    auto one = torch::ones({1}, torch::kInt);
    all_reduce_sum(one, what);
}

bool ProcessGroup::all_ok(bool ok, const std::string& what) {
    auto failures = torch::full({1}, ok ? 0 : 1, torch::kInt);
    all_reduce_sum(failures, what);
    return failures.item<int>() == 0;
}

void on_every_rank(ProcessGroup* group, const core::World& world, const std::string& doing,
                   const std::function<void()>& step) {
    try {
        step();
    } catch (const std::exception&) {
        if (group != nullptr)
            (void)group->all_ok(false, doing);
        throw;
    }
    if (group != nullptr && !group->all_ok(true, doing)) {
        throw Error(core::world_label(world), fmt::format("another rank failed while {}", doing),
                    "See the log of the rank that names the file or flag at fault");
    }
}

torch::Device rank_device(const std::string& device, const core::World& world) {
    return resolve_device(world.distributed() && device == "cuda"
                              ? fmt::format("cuda:{}", world.local_rank)
                              : device);
}

}  // namespace zoomdiff::model
