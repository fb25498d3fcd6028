#pragma once

// Devices and weights of the network: resolving --device, loading a state dict by name with
// the reference's keys, and our own weight files (the reference's keys plus spatial_embedding).

#include <filesystem>
#include <map>
#include <string>

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/types.h>

#include "zoomdiff/model/network.hpp"

namespace zoomdiff::model {

/// "cpu", "cuda" or "cuda:N" -> a device this build and machine can use. Anything else, or CUDA
/// on a build without it, or a GPU index that does not exist: zoomdiff::Error naming --device.
torch::Device resolve_device(const std::string& text);

/// Copy named tensors into the network. Every parameter must be present with its shape, except
/// `spatial_embedding` when `allow_missing_spatial` (a reference state dict never has it; the
/// caller then draws it from --seed). Extra keys, missing keys and shape mismatches throw
/// zoomdiff::Error naming `source`, the first offending key and both shapes.
void load_named_tensors(ZoomDiffNet& net, const std::map<std::string, torch::Tensor>& tensors,
                        const std::string& source, bool allow_missing_spatial);

/// Every parameter by name (CPU copies), in registration order.
std::map<std::string, torch::Tensor> named_tensors(const ZoomDiffNet& net);

/// Write an archive atomically, with the same bytes for the same content (no temporary name
/// inside).
void save_archive(torch::serialize::OutputArchive& archive, const std::filesystem::path& path);

/// Every parameter of the network into `archive`, by name (what our weight files hold).
void write_weights(torch::serialize::OutputArchive& archive, const ZoomDiffNet& net);
/// The weights an archive holds into the network, strictly (load_named_tensors); errors name
/// `source`.
void read_weights(torch::serialize::InputArchive& archive, ZoomDiffNet& net,
                  const std::string& source);

/// Our weight file (torch::serialize archive of named_tensors), written atomically.
void save_weights(const ZoomDiffNet& net, const std::filesystem::path& path);
/// Load our weight file onto the network's device; errors name the file.
void load_weights(ZoomDiffNet& net, const std::filesystem::path& path);

}  // namespace zoomdiff::model
