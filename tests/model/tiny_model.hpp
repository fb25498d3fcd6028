#pragma once
// Helpers of the model unit tests: a tiny configuration (fast on two cores), a seeded network
// whose output actually depends on its input, and random conditions of a batch.

#include <cstdint>
#include <string>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/diffusion.hpp"
#include "zoomdiff/model/network.hpp"

namespace zoomdiff::test {

/// 2 blocks of 8 channels, 2 heads, 12 steps cut into 3 segments of 4: [12, 8, 4, 0].
inline constexpr const char* kTinyYaml = R"(
diffusion:
  layers: 2
  channels: 8
  nheads: 2
  diffusion_embedding_dim: 8
  num_steps: 12
model:
  timeemb: 8
  spatialemb: 8
  feature_emb: 8
  condition_layout: reference
)";

inline model::ModelConfig tiny_config() {
    return model::parse_model_config(kTinyYaml, "test");
}

inline at::Generator seeded(std::uint64_t seed) {
    return model::GeneratorNoise::cpu_generator(seed);
}

/// A network drawn from `seed`, with a random last convolution: the reference zeroes it, which
/// would make every output a constant and every upstream gradient zero.
inline model::ZoomDiffNet tiny_net(const model::ModelConfig& config, std::uint64_t seed = 1) {
    model::ZoomDiffNet net(config);
    auto gen = seeded(seed);
    net->reset_parameters(gen);
    torch::NoGradGuard no_grad;
    auto& weight = net->diffmodel->output_projection2->weight;
    weight.copy_(torch::randn(weight.sizes(), gen) * 0.5);
    return net;
}

/// Random non-negative conditions and hours 0 .. hours-1 for `batch` tiles of the config's side.
inline model::BatchConditions random_conditions(const model::ModelConfig& config,
                                                std::int64_t batch, std::int64_t hours,
                                                std::uint64_t seed) {
    auto gen = seeded(seed);
    const auto side = config.tile_side();
    model::BatchConditions c;
    c.cond_static = torch::rand({batch, config.static_channels(), side, side}, gen) * 3.0;
    c.cond_poi = torch::rand({batch, config.poi_channels(), side, side}, gen) * 3.0;
    c.timepoints = torch::arange(hours, torch::kFloat).unsqueeze(0).repeat({batch, 1});
    return c;
}

/// Rows `index` of every condition tensor.
inline model::BatchConditions select_items(const model::BatchConditions& c,
                                           const torch::Tensor& index) {
    return {c.cond_static.index_select(0, index), c.cond_poi.index_select(0, index),
            c.timepoints.index_select(0, index)};
}

}  // namespace zoomdiff::test
