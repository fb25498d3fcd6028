#include "zoomdiff/core/omp_wait.hpp"

#include <cstdlib>
#include <cstring>

#include <unistd.h>

namespace zoomdiff::core {
namespace {

constexpr const char* kMarker = "ZOOMDIFF_OMP_WAIT_SET";

}  // namespace

void prefer_passive_openmp(char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr)
        return;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    setenv(kMarker, "1", 1);
    execv("/proc/self/exe", argv);
    // execv returned: no /proc (or no permission). Go on with libgomp's default; say so in
    // --version.
    unsetenv("OMP_WAIT_POLICY");
    unsetenv(kMarker);
}

const char* openmp_wait_policy() {
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    if (policy == nullptr) {
        return std::getenv("GOMP_SPINCOUNT") != nullptr ? "libgomp's, with GOMP_SPINCOUNT set"
                                                        : "libgomp's default (spin, then sleep)";
    }
    if (std::getenv(kMarker) != nullptr && std::strcmp(policy, "PASSIVE") == 0) {
        return "PASSIVE (zoomdiff's default; OMP_WAIT_POLICY=ACTIVE spins)";
    }
    return policy;
}

}  // namespace zoomdiff::core
