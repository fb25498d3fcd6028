#pragma once
// What the torch tools report under --version: the LibTorch they run with and how its kernels are
// dispatched on this machine. Torch-free header.

#include <string>

namespace zoomdiff::model {

/// Lines for --version: LibTorch's version, the CPU capability its kernels dispatch to (ATen's own
/// report; ATEN_CPU_CAPABILITY=avx2|default lowers it), the BLAS core OpenBLAS chose
/// (OPENBLAS_CORETYPE overrides it) and whether CUDA is built in and has devices.
[[nodiscard]] std::string runtime_versions();

}  // namespace zoomdiff::model
