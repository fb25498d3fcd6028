// Activation checkpointing and the custom attention: the memory-saving training path must give
// the same bits as the plain one.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/tiny_model.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/model/diffusion.hpp"

namespace zoomdiff::model {
namespace {

using test::random_conditions;
using test::seeded;
using test::tiny_config;
using test::tiny_net;
using Checkpointing = DenoiserImpl::Checkpointing;

struct StepResult {
    double loss = 0.0;
    std::map<std::string, torch::Tensor> grads;
};

// One training loss and backward in train mode (dropout active), everything seeded; draws from
// one stream, or per tile (TileNoise: each tile's dropout masks from its own generator).
StepResult train_step(Checkpointing mode, std::int64_t batch, bool per_tile = false) {
    auto net = tiny_net(tiny_config(), 11);
    net->diffmodel->set_activation_checkpointing(mode);
    net->train();
    MultiScaleDiffusion diffusion(net);
    GeneratorNoise stream(seeded(12));
    std::vector<std::uint64_t> keys;
    for (std::int64_t i = 0; i < batch; ++i)
        keys.push_back(TileNoise::tile_key({12, static_cast<std::uint64_t>(i)}));
    TileNoise tiles(keys);
    NoiseSource& noise = per_tile ? static_cast<NoiseSource&>(tiles) : stream;
    const auto x0 = torch::rand({batch, 1, 168, 4, 4}, seeded(13));
    auto loss = diffusion.loss(x0, random_conditions(net->config(), batch, 168, 14), noise);
    loss.backward();
    StepResult out;
    out.loss = loss.item<double>();
    for (const auto& p : net->named_parameters()) {
        if (p.value().grad().defined())
            out.grads.emplace(p.key(), p.value().grad().clone());
    }
    return out;
}

TEST(Checkpoint, GradientsAreBitIdenticalWithAndWithoutIt) {
    for (const bool per_tile : {false, true}) {
        SCOPED_TRACE(per_tile ? "per-tile draws" : "one stream");
        const auto plain = train_step(Checkpointing::kOff, 5, per_tile);
        const auto saved = train_step(Checkpointing::kOn, 5, per_tile);
        EXPECT_EQ(plain.loss, saved.loss);
        ASSERT_EQ(plain.grads.size(), saved.grads.size());
        ASSERT_FALSE(plain.grads.empty());
        for (const auto& [key, grad] : plain.grads) {
            ASSERT_EQ(saved.grads.count(key), 1U) << key;
            EXPECT_TRUE(torch::equal(grad, saved.grads.at(key))) << key;
        }
        // The gradients compared are not trivially zero.
        EXPECT_GT(plain.grads.at("diffmodel.residual_layers.0.time_layer.layers.0.linear1.weight")
                      .abs()
                      .sum()
                      .item<double>(),
                  0.0);
    }
}

TEST(Checkpoint, AutoSwitchesOnlyForLargeBatches) {
    // Auto below kCheckpointBatch is the plain path (bit-identical either way, by the test above).
    const auto plain = train_step(Checkpointing::kOff, 3);
    const auto automatic = train_step(Checkpointing::kAuto, 3);
    EXPECT_EQ(plain.loss, automatic.loss);
    for (const auto& [key, grad] : plain.grads)
        EXPECT_TRUE(torch::equal(grad, automatic.grads.at(key))) << key;
    EXPECT_GT(DenoiserImpl::kCheckpointBatch, 3);
}

TEST(Checkpoint, AttentionGradientsMatchTheStockFormula) {
    SelfAttention attention(16, 2);
    attention->train();
    const auto x = torch::randn({5, 7, 16}, seeded(21)).requires_grad_(true);
    const auto weight = torch::randn({5, 7, 16}, seeded(22));
    (attention(x, DropoutSpec{0.3, seeded(9)}) * weight).sum().backward();
    const auto ours_x = x.grad().clone();
    const auto ours_w = attention->in_proj_weight.grad().clone();
    x.mutable_grad().zero_();
    attention->in_proj_weight.mutable_grad().zero_();

    // torch.nn.MultiheadAttention's computation, through autograd, with the same dropout draws.
    auto gen = seeded(9);
    const auto qkv = torch::linear(x, attention->in_proj_weight, attention->in_proj_bias)
                         .view({5, 7, 3, 2, 8})
                         .permute({2, 0, 3, 1, 4});
    const auto probs =
        torch::softmax(torch::matmul(qkv[0] / std::sqrt(8.0), qkv[1].transpose(-2, -1)), -1);
    const auto keep = torch::empty(probs.sizes(), torch::kBool).bernoulli_(0.7, gen);
    const auto heads =
        torch::matmul(probs * keep / 0.7, qkv[2]).permute({0, 2, 1, 3}).reshape({5, 7, 16});
    (attention->out_proj(heads) * weight).sum().backward();
    EXPECT_GT(ours_x.abs().max().item<double>(), 0.0);
    EXPECT_LE((ours_x - x.grad()).abs().max().item<double>(), 1e-6);
    EXPECT_LE((ours_w - attention->in_proj_weight.grad()).abs().max().item<double>(), 1e-6);
}

}  // namespace
}  // namespace zoomdiff::model
