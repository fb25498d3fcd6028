#pragma once

// Shared pieces of the model golden tests: model_small.h5 (or any file of its layout in
// $ZOOMDIFF_GOLDEN_DIR), read into tensors, and the scale-relative comparison of golden/README.md.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "zoomdiff/io/h5_file.hpp"
#include "zoomdiff/model/diffusion.hpp"
#include "zoomdiff/model/network.hpp"

namespace zoomdiff::test {

/// The golden model file; fails (never skips) when missing.
const io::H5File& model_golden();

/// Tolerances of golden/README.md "Tolerances observed": relative to max(1, max|expected|).
inline constexpr double kSinglePassTol = 1e-5;
inline constexpr double kSamplingTol = 1e-4;

torch::Tensor read_float(const std::string& dataset);
torch::Tensor read_double(const std::string& dataset);
torch::Tensor read_long(const std::string& dataset);

/// The configuration the file was made with (root attribute `config_yaml`), in the reference
/// condition layout (the goldens come from the reference).
model::ModelConfig golden_config();

/// A network of that configuration holding `state_dict/*` and `spatial_embedding`, in eval mode.
model::ZoomDiffNet golden_net();

/// Conditions of a group holding cond_static, cond_poi and timepoints (e.g. "/denoiser").
model::BatchConditions golden_conditions(const std::string& group);

/// Expect max|ours - expected| <= tol * max(1, max|expected|) and identical shapes; counts the
/// array.
void expect_close(const torch::Tensor& ours, const torch::Tensor& expected, double tol,
                  const std::string& what);
/// Expect identical shapes and bits; counts the array.
void expect_identical(const torch::Tensor& ours, const torch::Tensor& expected,
                      const std::string& what);

/// Sorted children of a group whose names start with `prefix`.
std::vector<std::string> children_with_prefix(const std::string& group, const std::string& prefix);

/// Number of arrays compared so far (printed at the end of the run).
int& compared_arrays();

}  // namespace zoomdiff::test
