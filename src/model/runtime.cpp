#include "zoomdiff/model/runtime.hpp"

#include <sstream>

#include <ATen/Version.h>
#include <dlfcn.h>
#include <fmt/core.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "zoomdiff/core/omp_wait.hpp"

namespace zoomdiff::model {
namespace {

/// ATen's "CPU capability usage: AVX2" line of show_config(), or "unknown".
std::string cpu_capability() {
    std::istringstream config(at::show_config());
    const std::string key = "CPU capability usage:";
    for (std::string line; std::getline(config, line);) {
        const auto at = line.find(key);
        if (at != std::string::npos) {
            auto value = line.substr(at + key.size());
            value.erase(0, value.find_first_not_of(' '));
            return value;
        }
    }
    return "unknown";
}

/// OpenBLAS's core name when the BLAS this process loaded is OpenBLAS (looked up at run time:
/// LibTorch may be linked against another BLAS).
std::string blas_core() {
    using CoreName = char* (*)();
    const auto core = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    if (core == nullptr)
        return "not OpenBLAS (or not loaded)";
    return fmt::format("OpenBLAS, core {}", core());
}

}  // namespace

std::string runtime_versions() {
    std::string cuda = "no device available";
    if (torch::cuda::is_available()) {
        cuda = fmt::format("{} device(s)", torch::cuda::device_count());
    }
    return fmt::format(
        "LibTorch {} (CPU capability {}; CUDA: {})\nBLAS: {}\nOpenMP wait policy: {}\n",
        TORCH_VERSION, cpu_capability(), cuda, blas_core(), core::openmp_wait_policy());
}

}  // namespace zoomdiff::model
