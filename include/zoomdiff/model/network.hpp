#pragma once

// The ZoomDiff network (reference/MODEL.md §2): the CSDI-style denoiser, its embeddings, the
// condition projections and the noise fusion. Registered names are the reference's Python
// attribute names, so every key of a reference state dict exists here with the same shape; ours
// adds one parameter, `spatial_embedding` (DESIGN §4).
//
// Layout. The public methods take and return the reference's tensors: a sample is (B, K, L, H, W)
// with K = 1, conditions (B, channels, H, W). Inside, the residual stream is kept cells-major,
// (B, H*W, L, C): every 1x1 convolution of the reference becomes one matrix product over the last
// axis and the time transformer reads (B*H*W, L, C) without any transposition. The side
// information never materialises: its projection splits into a per-hour term (time embedding), a
// per-cell term (spatial table, conditions) and a constant (feature embedding), computed once per
// batch (DenoiserContext) instead of once per diffusion step.

#include <cstdint>
#include <vector>

#include <ATen/core/Generator.h>
#include <c10/util/Optional.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "zoomdiff/model/config.hpp"

namespace zoomdiff::model {

/// Dropout of the transformer layers: active only in training, drawing from `generator` (or the
/// default generator when none is given), the way ATen's CPU dropout draws. With `per_tile`
/// (one CPU generator per batch item, in batch order) every tensor's leading axis is split into
/// that many item-major chunks and each chunk draws from its own item's generator: a tile's masks
/// then do not depend on which other tiles share its batch (or its rank, training distributed).
struct DropoutSpec {
    double p = 0.0;
    c10::optional<at::Generator> generator;
    std::vector<at::Generator> per_tile;
};

/// Multi-head self-attention with torch.nn.MultiheadAttention's parameter names (fused
/// `in_proj_weight` ordered q, k, v; `out_proj`). Input and output are batch-first (S, L, C).
class SelfAttentionImpl : public torch::nn::Module {
public:
    SelfAttentionImpl(std::int64_t channels, std::int64_t heads);
    torch::Tensor forward(const torch::Tensor& x, const DropoutSpec& dropout);

    torch::Tensor in_proj_weight;
    torch::Tensor in_proj_bias;
    torch::nn::Linear out_proj{nullptr};

private:
    std::int64_t heads_;
};

TORCH_MODULE(SelfAttention);

/// torch.nn.TransformerEncoderLayer as the reference builds it: post-norm, GELU (erf), FFN 64,
/// dropout 0.1, layer-norm eps 1e-5. Batch-first here; the reference's sequence-first layout is
/// only a transposition of the same computation.
class EncoderLayerImpl : public torch::nn::Module {
public:
    EncoderLayerImpl(std::int64_t channels, std::int64_t heads);
    torch::Tensor forward(const torch::Tensor& x, const DropoutSpec& dropout);

    SelfAttention self_attn{nullptr};
    torch::nn::Linear linear1{nullptr};
    torch::nn::Linear linear2{nullptr};
    torch::nn::LayerNorm norm1{nullptr};
    torch::nn::LayerNorm norm2{nullptr};
};

TORCH_MODULE(EncoderLayer);

/// torch.nn.TransformerEncoder with one layer (key prefix `layers.0.`).
class TransformerImpl : public torch::nn::Module {
public:
    TransformerImpl(std::int64_t channels, std::int64_t heads);
    torch::Tensor forward(const torch::Tensor& x, const DropoutSpec& dropout);

    torch::nn::ModuleList layers{nullptr};
};

TORCH_MODULE(Transformer);

/// The step-invariant inputs of one residual block for one batch: the per-cell and per-hour
/// parts of side + condition projections, cells-major.
/// The halves are kept apart (gate = channels [0, C) of the mid projection, filter = [C, 2C)).
struct BlockTerms {
    torch::Tensor
        gate_cell;  ///< (B, H*W, 1, C): conditions, spatial table, feature embedding, biases
    torch::Tensor filter_cell;  ///< (B, H*W, 1, C)
    torch::Tensor gate_hour;    ///< (B, 1, L, C): time embedding
    torch::Tensor filter_hour;  ///< (B, 1, L, C)
};

/// Everything about a batch that does not change with the diffusion step (DESIGN §5).
struct DenoiserContext {
    std::vector<BlockTerms> blocks;
    std::int64_t batch = 0;
};

/// One residual block's two outputs in the reference layout (B, C, K, L, H, W), for tracing.
struct BlockOutput {
    torch::Tensor residual;
    torch::Tensor skip;
};

/// A residual block's sizes (as LibTorch's module options: a block takes what it builds, not the
/// whole ModelConfig).
struct ResidualBlockOptions {
    std::int64_t channels = 0;            ///< C (diffusion.channels)
    std::int64_t heads = 0;               ///< attention heads (diffusion.nheads)
    std::int64_t step_embedding_dim = 0;  ///< E (diffusion.diffusion_embedding_dim)
    std::int64_t side_dim = 0;            ///< d_t + d_s + d_f (ModelConfig::side_dim)
    std::int64_t static_channels = 0;     ///< 0 for poi_only: no cond_static_projection
    std::int64_t poi_channels = 0;
    std::int64_t time_dim = 0;     ///< d_t (model.timeemb)
    std::int64_t spatial_dim = 0;  ///< d_s (model.spatialemb)

    /// The sizes a config gives every block.
    [[nodiscard]] static ResidualBlockOptions of(const ModelConfig& config);
};

class ResidualBlockImpl : public torch::nn::Module {
public:
    explicit ResidualBlockImpl(const ResidualBlockOptions& options);

    /// Cells-major x (B, HW, L, C), step embedding e (B or 1, E). Returns (next x, skip).
    std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& e,
                                                    const BlockTerms& terms,
                                                    const DropoutSpec& dropout);
    /// The step-invariant terms from the transformed conditions (B, HW, channels), spatial tables
    /// per item (B, HW, d_s), feature embedding (d_f) and time embedding (B, L, d_t).
    BlockTerms terms(const torch::Tensor& cond_static, const torch::Tensor& cond_poi,
                     const torch::Tensor& spatial, const torch::Tensor& feature,
                     const torch::Tensor& time) const;

    torch::nn::Linear diffusion_projection{nullptr};
    torch::nn::Conv1d mid_projection{nullptr};
    torch::nn::Conv1d output_projection{nullptr};
    torch::nn::Conv1d side_projection{nullptr};
    torch::nn::Conv1d cond_static_projection{nullptr};
    torch::nn::Conv1d cond_poi_projection{nullptr};
    torch::nn::Conv1d prior_projection{nullptr};  ///< registered, never used (MODEL.md §2.9)
    Transformer time_layer{nullptr};
    Transformer feature_layer{nullptr};  ///< registered, skipped because K = 1

private:
    std::int64_t channels_;
    std::int64_t time_dim_;
    std::int64_t spatial_dim_;
};

TORCH_MODULE(ResidualBlock);

/// The sinusoidal diffusion-step table (T x E, float32 arguments; not a parameter) and its
/// two-layer SiLU MLP.
class DiffusionEmbeddingImpl : public torch::nn::Module {
public:
    DiffusionEmbeddingImpl(std::int64_t num_steps, std::int64_t dim);
    /// Rows of the table for `steps` (int64, any shape (n,)), after the MLP: (n, E).
    torch::Tensor forward(const torch::Tensor& steps);

    /// The raw table, T x E, on the CPU.
    [[nodiscard]] const torch::Tensor& table() const { return table_; }

    torch::nn::Linear projection1{nullptr};
    torch::nn::Linear projection2{nullptr};

private:
    torch::Tensor table_;
    torch::Tensor device_table_;
};

TORCH_MODULE(DiffusionEmbedding);

/// The denoiser's sizes: its blocks', their count and the number of diffusion steps.
struct DenoiserOptions {
    ResidualBlockOptions block;
    std::int64_t layers = 0;     ///< residual blocks (diffusion.layers)
    std::int64_t num_steps = 0;  ///< rows of the step table (diffusion.num_steps)

    [[nodiscard]] static DenoiserOptions of(const ModelConfig& config);
};

/// The denoiser proper (the reference's `diff_CSDI`, registered as `diffmodel`).
class DenoiserImpl : public torch::nn::Module {
public:
    explicit DenoiserImpl(const DenoiserOptions& options);
    /// Cells-major input (B, HW, L) -> predicted noise (B, HW, L).
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& steps,
                          const DenoiserContext& context, const DropoutSpec& dropout,
                          std::vector<torch::Tensor>* block_trace = nullptr);

    /// Recompute each block in the backward pass instead of keeping its activations (about one
    /// extra forward pass; gradients bit-identical). Auto: on for batches of kCheckpointBatch
    /// tiles or more, where the activations would not fit a 16 GB machine at base.yaml.
    enum class Checkpointing { kOff, kOn, kAuto };
    static constexpr std::int64_t kCheckpointBatch = 64;

    void set_activation_checkpointing(Checkpointing mode) { checkpointing_ = mode; }

    void set_activation_checkpointing(bool on) {
        checkpointing_ = on ? Checkpointing::kOn : Checkpointing::kOff;
    }

    DiffusionEmbedding diffusion_embedding{nullptr};
    torch::nn::Conv1d input_projection{nullptr};
    torch::nn::Conv1d output_projection1{nullptr};
    torch::nn::Conv1d output_projection2{nullptr};
    torch::nn::ModuleList residual_layers{nullptr};

private:
    Checkpointing checkpointing_ = Checkpointing::kAuto;
};

TORCH_MODULE(Denoiser);

/// Registered only so the reference's checkpoints load (MODEL.md §2.9): never used.
class FeaturePatternProjectionImpl : public torch::nn::Module {
public:
    FeaturePatternProjectionImpl();
    torch::nn::Conv2d conv{nullptr};
};

TORCH_MODULE(FeaturePatternProjection);

/// Conditions of a batch in the reference layout, raw values as the city files store them.
struct BatchConditions {
    torch::Tensor cond_static;  ///< (B, static channels, H, W)
    torch::Tensor cond_poi;     ///< (B, POI channels, H, W)
    torch::Tensor timepoints;   ///< (B, L) hours, float32 (or int64, converted)
    /// Ours (classifier-free guidance): (B) bool, true where an item gets the null condition
    /// (kNullCondition in every channel after the transform); undefined: every item its own.
    torch::Tensor unconditional;
};

/// The null condition's value, after the log1p transform: no count maps there (log1p(n) ≥ 0).
inline constexpr float kNullCondition = -1.0F;

/// The trainable model (the reference's CSDI_Value).
class ZoomDiffNetImpl : public torch::nn::Module {
public:
    explicit ZoomDiffNetImpl(const ModelConfig& config);

    /// Redraw every parameter in the reference's construction order and with its initialisers
    /// (MODEL.md §2.1), from `generator`. With a CPU generator seeded like the reference's global
    /// one, the weights and spatial tables equal the reference's bit for bit.
    void reset_parameters(at::Generator& generator);

    /// Time embedding of hour positions (B, L) -> (B, L, timeemb), interleaved sin/cos, float32.
    torch::Tensor time_embedding(const torch::Tensor& timepoints) const;
    /// The reference's side-information tensor for one segment: (B, D_side, K, L, H, W).
    torch::Tensor side_info(const torch::Tensor& timepoints, std::int64_t segment) const;

    /// Step-invariant projections for a batch; `segments` (B,) int64 picks each item's spatial
    /// table (training mixes segments in one batch, sampling does not).
    DenoiserContext prepare(const BatchConditions& conditions, const torch::Tensor& segments) const;
    /// Same with one segment for every item.
    DenoiserContext prepare(const BatchConditions& conditions, std::int64_t segment) const;

    /// Predicted noise for x (B, K, L, H, W) at `steps` ((B,) per item or (1,) shared).
    torch::Tensor denoise(const torch::Tensor& x, const torch::Tensor& steps,
                          const DenoiserContext& context, const DropoutSpec& dropout = {},
                          std::vector<BlockOutput>* block_trace = nullptr);
    /// Noise fusion sim * p + (1 - sim) * P3(P1 p + P2 prior); an undefined prior means zero.
    torch::Tensor fuse(const torch::Tensor& predicted, const torch::Tensor& prior) const;

    /// Trainable parameters: the reference's count (without the spatial tables) and ours.
    [[nodiscard]] std::int64_t reference_parameter_count() const;

    [[nodiscard]] const ModelConfig& config() const { return config_; }

    torch::nn::Embedding embed_layer{nullptr};
    FeaturePatternProjection feature_pattern_projection{nullptr};
    Denoiser diffmodel{nullptr};
    torch::Tensor spatial_embedding;  ///< (S, timeemb, H, W), ours: registered, trained, saved
    torch::nn::Conv1d predicted_noise_projection{nullptr};
    torch::nn::Conv1d noise_prior_projection{nullptr};
    torch::nn::Conv1d infused_noise_projection{nullptr};

private:
    std::pair<torch::Tensor, torch::Tensor> transformed_conditions(const BatchConditions& c) const;

    ModelConfig config_;
};

TORCH_MODULE(ZoomDiffNet);

}  // namespace zoomdiff::model
