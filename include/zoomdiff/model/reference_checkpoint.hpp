#pragma once

// Import of the Python reference's checkpoints (reference/MODEL.md §4.7, §4.9, §5.3, D-1, D-28,
// D-43): its run folder holds `model.pth` = torch.save(model.state_dict()) and `config.json`.
// Read without Python and without torch's Python unpickler: the archive is a zip whose
// `<prefix>/data.pkl` is a small protocol-2 pickle and whose `<prefix>/data/<key>` records are the
// raw little-endian storages.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <torch/types.h>

#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/network.hpp"

namespace zoomdiff::model {

/// Read a state dict saved by `torch.save(module.state_dict(), path)` with PyTorch >= 1.6 (the zip
/// format): a pickled `collections.OrderedDict` (a plain dict too) of name -> tensor, its
/// `_metadata` attribute ignored. Every tensor comes back on the CPU whatever device its storage
/// was saved from (a "cuda:0" checkpoint loads on a machine without CUDA, unlike the reference,
/// D-28), with its stored dtype and the recorded sizes, strides and offset applied, as a
/// contiguous tensor that owns its memory (views of one storage become separate copies).
///
/// Only what a state dict needs is accepted: the pickle opcodes of protocols 2-4 that build
/// tuples, dicts, strings, numbers and tensors, and the globals `collections.OrderedDict`,
/// `torch._utils._rebuild_tensor_v2` and `torch.<Type>Storage`. Anything else (a pickled model, an
/// optimizer checkpoint, a TorchScript file, the pre-1.6 legacy format) throws zoomdiff::Error
/// "<path>: not a PyTorch state dict archive (...)". A missing file, a truncated or corrupt zip
/// and a missing storage record also throw zoomdiff::Error naming `path`.
std::map<std::string, torch::Tensor> read_torch_state_dict(const std::filesystem::path& path);

/// The reference's `config.json` (its YAML config written with json.dump, MODEL.md §4.9), parsed
/// with parse_model_config (JSON is YAML). `model.condition_layout` is forced to `reference`:
/// the reference has no such key, and its network always takes the reference's static channels
/// (4: population twice, road length, water area; raw values). Errors name `json_path`.
ModelConfig read_reference_config(const std::filesystem::path& json_path);

/// A ZoomDiffNet (on the CPU) holding a reference run's weights. `folder_or_pth` is a run folder
/// with `model.pth`, or a `.pth` file; the config is `*config_override` when given, else the
/// `config.json` beside the weights (read_reference_config), else zoomdiff::Error asking for a
/// config. The override's `condition_layout` is also forced to `reference` (with a warning when
/// it said otherwise): a reference checkpoint has no other layout.
///
/// The reference never saved its spatial-embedding tables (D-1): every parameter is first drawn
/// with reset_parameters from GeneratorNoise::cpu_generator(seed), so `spatial_embedding` is the
/// one --seed gives (logged as a warning), then the file's 171 tensors (at base.yaml) replace the
/// rest through load_named_tensors: a missing, extra or mis-shaped key throws zoomdiff::Error
/// naming the file, the first offending key and both shapes. `config_out`, when not null,
/// receives the configuration used.
ZoomDiffNet load_reference_run(const std::filesystem::path& folder_or_pth,
                               const ModelConfig* config_override, std::uint64_t seed,
                               ModelConfig* config_out = nullptr);

}  // namespace zoomdiff::model
