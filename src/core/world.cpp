#include "zoomdiff/core/world.hpp"

#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::core {
namespace {

constexpr const char* kLaunchFix =
    "Launch every rank with RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set (torchrun's "
    "convention; "
    "scripts/train_distributed.sh does it for local ranks), or unset WORLD_SIZE for one process";

std::optional<std::string> variable(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0')
        return std::nullopt;
    return std::string(value);
}

int integer(const char* name, const std::string& text, int lo, int hi) {
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0' || value < lo || value > hi) {
        throw Error(name, fmt::format("'{}' is not an integer in [{}, {}]", text, lo, hi),
                    kLaunchFix);
    }
    return static_cast<int>(value);
}

}  // namespace

World world_from_environment() {
    World w;
    const auto size = variable("WORLD_SIZE");
    if (!size)
        return w;
    w.world_size = integer("WORLD_SIZE", *size, 1, 1 << 20);
    if (w.world_size == 1)
        return w;
    const auto rank = variable("RANK");
    if (!rank)
        throw Error("RANK", fmt::format("not set, but WORLD_SIZE is {}", w.world_size), kLaunchFix);
    w.rank = integer("RANK", *rank, 0, w.world_size - 1);
    w.local_rank = w.rank;
    if (const auto local = variable("LOCAL_RANK"))
        w.local_rank = integer("LOCAL_RANK", *local, 0, w.world_size - 1);
    if (const auto addr = variable("MASTER_ADDR"))
        w.master_addr = *addr;
    const auto port = variable("MASTER_PORT");
    if (!port)
        throw Error("MASTER_PORT", fmt::format("not set, but WORLD_SIZE is {}", w.world_size),
                    kLaunchFix);
    w.master_port = integer("MASTER_PORT", *port, 1, 65535);
    return w;
}

std::pair<std::size_t, std::size_t> rank_share(std::size_t n, int rank, int ranks) {
    const auto r = static_cast<std::size_t>(rank);
    const auto w = static_cast<std::size_t>(ranks);
    return {n * r / w, n * (r + 1) / w};
}

std::string world_label(const World& world) {
    return world.distributed() ? fmt::format("rank {}/{}", world.rank, world.world_size)
                               : std::string();
}

}  // namespace zoomdiff::core
