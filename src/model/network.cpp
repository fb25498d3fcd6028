#include "zoomdiff/model/network.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

#include <ATen/Context.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/linear.h>
#include <torch/nn/init.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/utils/convert_parameters.h>

namespace zoomdiff::model {
namespace {

using torch::Tensor;

// ---- initialisers, exactly as PyTorch 1.13's Python helpers compute them --------------------

std::int64_t fan_in(const Tensor& weight) {
    std::int64_t receptive = 1;
    for (std::int64_t d = 2; d < weight.dim(); ++d)
        receptive *= weight.size(d);
    return weight.size(1) * receptive;
}

// nn.Linear / nn.ConvNd reset_parameters: kaiming_uniform_(a = sqrt(5)), bias U(+-1/sqrt(fan_in)).
void default_init(const Tensor& weight, const Tensor& bias, at::Generator& gen) {
    torch::NoGradGuard no_grad;
    const double fan = static_cast<double>(fan_in(weight));
    const double a = std::sqrt(5.0);
    const double gain = std::sqrt(2.0 / (1 + std::pow(a, 2)));
    const double bound = std::sqrt(3.0) * (gain / std::sqrt(fan));
    weight.uniform_(-bound, bound, gen);
    if (bias.defined()) {
        const double bias_bound = 1 / std::sqrt(fan);
        bias.uniform_(-bias_bound, bias_bound, gen);
    }
}

template <typename Layer>
void default_init(Layer& layer, at::Generator& gen) {
    default_init(layer->weight, layer->bias, gen);
}

// The reference's Conv1d_with_init: a default-initialised conv whose weight is redrawn with
// kaiming_normal_ (fan-in, gain sqrt(2)).
void kaiming_normal_conv(torch::nn::Conv1d& conv, at::Generator& gen) {
    default_init(conv, gen);
    torch::NoGradGuard no_grad;
    const double std = std::sqrt(2.0 / (1 + std::pow(0.0, 2))) /
                       std::sqrt(static_cast<double>(fan_in(conv->weight)));
    conv->weight.normal_(0.0, std, gen);
}

torch::nn::Conv1d conv1x1(std::int64_t in, std::int64_t out) {
    return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 1));
}

// x * mask / (1 - p) with a boolean mask, in one same-dtype pass (a float-by-bool product goes
// through ATen's slow dtype-casting loop).
Tensor apply_mask(const Tensor& x, const Tensor& keep, double scale) {
    return torch::where(keep, x * scale, torch::zeros({}, x.options()));
}

// One Bernoulli(1 - p) keep flag per element, as ATen's CPU dropout draws them; per tile (see
// DropoutSpec) each item-major chunk of the leading axis from its own generator.
Tensor draw_keep(at::IntArrayRef sizes, const at::TensorOptions& options, const DropoutSpec& spec) {
    auto keep = torch::empty(sizes, options.dtype(torch::kBool));
    if (spec.per_tile.empty())
        return keep.bernoulli_(1 - spec.p, spec.generator);
    const auto items = static_cast<std::int64_t>(spec.per_tile.size());
    TORCH_CHECK(sizes[0] % items == 0, "per-tile dropout: leading axis ", sizes[0],
                " is not a multiple of ", items, " tiles");
    const auto rows = sizes[0] / items;
    if (!keep.device().is_cpu()) {
        // Per-tile generators are CPU generators: draw there, move once.
        return draw_keep(sizes, options.device(torch::kCPU), spec).to(keep.device());
    }
    for (std::int64_t i = 0; i < items; ++i) {
        keep.narrow(0, i * rows, rows)
            .bernoulli_(1 - spec.p, spec.per_tile[static_cast<std::size_t>(i)]);
    }
    return keep;
}

/// The same draws again later (activation checkpointing's replay): every generator cloned.
DropoutSpec clone_draws(const DropoutSpec& spec, const at::Device& device) {
    DropoutSpec copy{spec.p, {}, {}};
    copy.generator =
        (spec.generator ? *spec.generator : at::globalContext().defaultGenerator(device)).clone();
    for (const auto& g : spec.per_tile)
        copy.per_tile.push_back(g.clone());
    return copy;
}

Tensor dropout(const Tensor& x, const DropoutSpec& spec, bool training) {
    if (!training || spec.p <= 0.0)
        return x;
    // ATen's CPU dropout draws one Bernoulli(1 - p) per element and multiplies by mask / (1 - p).
    // Same draws and values here, but the mask kept for backward is one byte, not four (the
    // attention weights' mask is the largest tensor of a training step).
    const auto keep = draw_keep(x.sizes(), x.options(), spec);
    return apply_mask(x, keep, 1.0 / (1 - spec.p));
}

// Autograd functions take their dropout spec by address (it outlives their forward, which is the
// only place that reads it); what backward needs is cloned into the context.
std::int64_t address_of(const DropoutSpec& spec) {
    return reinterpret_cast<std::int64_t>(&spec);
}

const DropoutSpec& spec_at(std::int64_t address) {
    return *reinterpret_cast<const DropoutSpec*>(address);
}

void save_draws(torch::autograd::AutogradContext* ctx, const DropoutSpec& spec) {
    ctx->saved_data["p"] = spec.p;
    ctx->saved_data["replay"] = *spec.generator;
    c10::impl::GenericList tiles(c10::AnyType::get());
    for (const auto& g : spec.per_tile)
        tiles.push_back(c10::IValue(g));
    ctx->saved_data["replay_tiles"] = tiles;
}

DropoutSpec saved_draws(torch::autograd::AutogradContext* ctx) {
    DropoutSpec spec{ctx->saved_data["p"].toDouble(), ctx->saved_data["replay"].toGenerator(), {}};
    for (const auto& g : ctx->saved_data["replay_tiles"].toList())
        spec.per_tile.push_back(g.get().toGenerator());
    return spec;
}

// Activation checkpointing of one residual block (DESIGN §5, issue: batch 128 within 16 GB):
// the forward keeps only the block's inputs; the backward recomputes the block with the same
// dropout draws (a clone of the generator taken before the forward) and back-propagates through it.
struct BlockCheckpoint : public torch::autograd::Function<BlockCheckpoint> {
    static torch::autograd::variable_list forward(
        torch::autograd::AutogradContext* ctx, const Tensor& x, const Tensor& e,
        const Tensor& gate_cell, const Tensor& filter_cell, const Tensor& gate_hour,
        const Tensor& filter_hour, std::int64_t block_address, std::int64_t spec_address) {
        auto* block = reinterpret_cast<ResidualBlockImpl*>(block_address);  // owned by the network
        DropoutSpec spec = spec_at(spec_address);
        if (!spec.generator)
            spec.generator = at::globalContext().defaultGenerator(x.device());
        ctx->saved_data["block"] = block_address;
        save_draws(ctx, clone_draws(spec, x.device()));
        ctx->save_for_backward({x, e, gate_cell, filter_cell, gate_hour, filter_hour});
        torch::NoGradGuard no_grad;
        auto [next, skip] =
            block->forward(x, e, BlockTerms{gate_cell, filter_cell, gate_hour, filter_hour}, spec);
        return {next, skip};
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        auto* block = reinterpret_cast<ResidualBlockImpl*>(ctx->saved_data["block"].toInt());
        auto inputs = ctx->get_saved_variables();
        for (auto& input : inputs)
            input = input.detach().requires_grad_(true);
        torch::AutoGradMode enable_grad(true);
        auto [next, skip] = block->forward(inputs[0], inputs[1],
                                           BlockTerms{inputs[2], inputs[3], inputs[4], inputs[5]},
                                           saved_draws(ctx));
        torch::autograd::variable_list outputs;
        torch::autograd::variable_list output_grads;
        for (auto [output, grad] : {std::pair{next, grads[0]}, std::pair{skip, grads[1]}}) {
            if (grad.defined()) {
                outputs.push_back(output);
                output_grads.push_back(grad);
            }
        }
        torch::autograd::backward(outputs, output_grads);
        torch::autograd::variable_list result;
        for (const auto& input : inputs)
            result.push_back(input.grad());
        result.resize(8);  // no gradients for the block and spec addresses
        return result;
    }
};

// A 1x1 convolution weight (out, in, 1) as a matrix (out, in).
Tensor matrix(const Tensor& conv_weight) {
    return conv_weight.squeeze(-1);
}

// Reference layout (B, C, L, HW) <- cells-major (B, HW, L, C), for traces.
Tensor to_reference_channels(const Tensor& cells_major, std::int64_t side) {
    const auto b = cells_major.size(0);
    const auto l = cells_major.size(2);
    const auto c = cells_major.size(3);
    return cells_major.permute({0, 3, 2, 1}).reshape({b, c, 1, l, side, side});
}

// softmax(q k^T) v for (N, L, d) operands, with dropout on the weights. A custom autograd
// function: it keeps q, k, v, the softmax and a one-byte dropout mask for backward (the stock
// graph keeps the softmax, a float mask and the dropped weights), and computes every product on
// contiguous operands (OpenBLAS runs this build's batched products on transposed operands up to
// 10x slower).
// Without a graph and without dropout: in chunks of matrices small enough for the cache, so the
// (N, L, L) weights never travel through memory.
Tensor attention_inference(const Tensor& q, const Tensor& k, const Tensor& v) {
    constexpr std::int64_t kChunk = 64;
    auto out = torch::empty_like(q);
    const auto n = q.size(0);
    for (std::int64_t start = 0; start < n; start += kChunk) {
        const auto count = std::min(kChunk, n - start);
        const auto scores = torch::bmm(q.narrow(0, start, count),
                                       k.narrow(0, start, count).transpose(1, 2).contiguous());
        auto slice = out.narrow(0, start, count);
        torch::bmm_out(slice, torch::softmax(scores, -1), v.narrow(0, start, count));
    }
    return out;
}

Tensor attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const DropoutSpec& spec,
                         bool training, Tensor* probs_out, Tensor* keep_out) {
    if (probs_out == nullptr && !(training && spec.p > 0.0))
        return attention_inference(q, k, v);
    auto probs = torch::softmax(torch::bmm(q, k.transpose(1, 2).contiguous()), -1);
    Tensor keep;
    Tensor weights = probs;
    if (training && spec.p > 0.0) {
        keep = draw_keep(probs.sizes(), probs.options(), spec);
        weights = apply_mask(probs, keep, 1.0 / (1 - spec.p));
    }
    auto out = torch::bmm(weights, v);
    if (probs_out != nullptr)
        *probs_out = std::move(probs);
    if (keep_out != nullptr)
        *keep_out = std::move(keep);
    return out;
}

struct AttentionFunction : public torch::autograd::Function<AttentionFunction> {
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                  const Tensor& q, const Tensor& k, const Tensor& v,
                                                  std::int64_t spec_address, bool training) {
        Tensor probs;
        Tensor keep;
        const auto& spec = spec_at(spec_address);
        auto out = attention_forward(q, k, v, spec, training, &probs, &keep);
        ctx->save_for_backward({q, k, v, probs, keep});
        ctx->saved_data["scale"] = 1.0 / (1 - spec.p);
        return {out};
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto& q = saved[0];
        const auto& k = saved[1];
        const auto& v = saved[2];
        const auto& probs = saved[3];
        const auto& keep = saved[4];
        const double scale = ctx->saved_data["scale"].toDouble();
        const auto grad_out = grads[0].contiguous();
        const auto weights = keep.defined() ? apply_mask(probs, keep, scale) : probs;
        auto grad_v = torch::bmm(weights.transpose(1, 2), grad_out);
        auto grad_weights = torch::bmm(grad_out, v.transpose(1, 2).contiguous());
        if (keep.defined())
            grad_weights = apply_mask(grad_weights, keep, scale);
        const auto grad_scores =
            torch::_softmax_backward_data(grad_weights, probs, -1, probs.scalar_type());
        auto grad_q = torch::bmm(grad_scores, k);
        auto grad_k = torch::bmm(grad_scores.transpose(1, 2), q);
        return {grad_q, grad_k, grad_v, Tensor(), Tensor()};
    }
};

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const DropoutSpec& spec,
                 bool training) {
    const bool needs_graph = torch::GradMode::is_enabled() &&
                             (q.requires_grad() || k.requires_grad() || v.requires_grad());
    if (!needs_graph)
        return attention_forward(q, k, v, spec, training, nullptr, nullptr);
    return AttentionFunction::apply(q, k, v, address_of(spec), training)[0];
}

}  // namespace

// ---- attention and transformer ----------------------------------------------------------------

SelfAttentionImpl::SelfAttentionImpl(std::int64_t channels, std::int64_t heads) : heads_(heads) {
    in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * channels, channels}));
    torch::nn::init::xavier_uniform_(in_proj_weight);  // as torch.nn.MultiheadAttention does
    in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * channels}));
    out_proj = register_module("out_proj", torch::nn::Linear(channels, channels));
}

Tensor SelfAttentionImpl::forward(const Tensor& x, const DropoutSpec& spec) {
    const auto s = x.size(0);
    const auto l = x.size(1);
    const auto c = x.size(2);
    const auto dh = c / heads_;
    // (S, L, 3C) -> q, k, v each (S * heads, L, dh), contiguous (the batched products below are
    // fast only on contiguous operands).
    const auto qkv = torch::linear(x, in_proj_weight, in_proj_bias)
                         .view({s, l, 3, heads_, dh})
                         .permute({2, 0, 3, 1, 4})
                         .contiguous()
                         .view({3, s * heads_, l, dh});
    // PyTorch 1.13 divides q by sqrt(dh) before the product (MODEL.md §2.7).
    const auto q = qkv[0] / std::sqrt(static_cast<double>(dh));
    const auto heads_out = attention(q, qkv[1], qkv[2], spec, is_training());  // (S * heads, L, dh)
    return out_proj(heads_out.view({s, heads_, l, dh}).permute({0, 2, 1, 3}).reshape({s, l, c}));
}

EncoderLayerImpl::EncoderLayerImpl(std::int64_t channels, std::int64_t heads) {
    self_attn = register_module("self_attn", SelfAttention(channels, heads));
    linear1 = register_module("linear1", torch::nn::Linear(channels, kFeedForward));
    linear2 = register_module("linear2", torch::nn::Linear(kFeedForward, channels));
    norm1 = register_module(
        "norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({channels}).eps(1e-5)));
    norm2 = register_module(
        "norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({channels}).eps(1e-5)));
}

Tensor EncoderLayerImpl::forward(const Tensor& x, const DropoutSpec& spec) {
    const bool training = is_training();
    auto u = norm1(x + dropout(self_attn(x, spec), spec, training));
    const auto ff = linear2(dropout(torch::gelu(linear1(u)), spec, training));
    return norm2(u + dropout(ff, spec, training));
}

TransformerImpl::TransformerImpl(std::int64_t channels, std::int64_t heads) {
    layers = register_module("layers", torch::nn::ModuleList());
    layers->push_back(EncoderLayer(channels, heads));
}

Tensor TransformerImpl::forward(const Tensor& x, const DropoutSpec& spec) {
    auto y = x;
    for (const auto& layer : *layers)
        y = layer->as<EncoderLayerImpl>()->forward(y, spec);
    return y;
}

// ---- residual block ---------------------------------------------------------------------------

ResidualBlockOptions ResidualBlockOptions::of(const ModelConfig& config) {
    ResidualBlockOptions o;
    o.channels = config.diffusion.channels;
    o.heads = config.diffusion.nheads;
    o.step_embedding_dim = config.diffusion.diffusion_embedding_dim;
    o.side_dim = config.side_dim();
    o.static_channels = config.static_channels();
    o.poi_channels = config.poi_channels();
    o.time_dim = config.model.timeemb;
    o.spatial_dim = config.model.spatialemb;
    return o;
}

ResidualBlockImpl::ResidualBlockImpl(const ResidualBlockOptions& options)
    : channels_(options.channels), time_dim_(options.time_dim), spatial_dim_(options.spatial_dim) {
    const auto c = channels_;
    diffusion_projection =
        register_module("diffusion_projection", torch::nn::Linear(options.step_embedding_dim, c));
    mid_projection = register_module("mid_projection", conv1x1(c, 2 * c));
    output_projection = register_module("output_projection", conv1x1(c, 2 * c));
    side_projection = register_module("side_projection", conv1x1(options.side_dim, 2 * c));
    // poi_only has no static channel: no module (a conv with 0 inputs would have an empty weight
    // and a NaN initialiser bound from fan-in 0), so no cond_static_projection.* key either.
    if (options.static_channels > 0) {
        cond_static_projection =
            register_module("cond_static_projection", conv1x1(options.static_channels, 2 * c));
    }
    cond_poi_projection =
        register_module("cond_poi_projection", conv1x1(options.poi_channels, 2 * c));
    prior_projection = register_module("prior_projection", conv1x1(1, 2 * c));
    time_layer = register_module("time_layer", Transformer(c, options.heads));
    feature_layer = register_module("feature_layer", Transformer(c, options.heads));
}

BlockTerms ResidualBlockImpl::terms(const Tensor& cond_static, const Tensor& cond_poi,
                                    const Tensor& spatial, const Tensor& feature,
                                    const Tensor& time) const {
    const auto side = matrix(side_projection->weight);  // (2C, d_t + d_s + d_f)
    const auto w_time = side.narrow(1, 0, time_dim_);
    const auto w_space = side.narrow(1, time_dim_, spatial_dim_);
    const auto w_feature =
        side.narrow(1, time_dim_ + spatial_dim_, side.size(1) - time_dim_ - spatial_dim_);
    const auto constant = torch::mv(w_feature, feature) + side_projection->bias;  // (2C)
    auto cell =
        torch::linear(cond_poi, matrix(cond_poi_projection->weight), cond_poi_projection->bias);
    if (!cond_static_projection.is_empty()) {
        // Same sum order as before the poi_only layout existed: static + poi + space + constant.
        cell = torch::linear(cond_static, matrix(cond_static_projection->weight),
                             cond_static_projection->bias) +
               cell;
    }
    cell = (cell + torch::linear(spatial, w_space) + constant).unsqueeze(2);
    const auto hour = torch::linear(time, w_time).unsqueeze(1);
    const auto c = channels_;
    return {cell.narrow(-1, 0, c).contiguous(), cell.narrow(-1, c, c).contiguous(),
            hour.narrow(-1, 0, c).contiguous(), hour.narrow(-1, c, c).contiguous()};
}

std::pair<Tensor, Tensor> ResidualBlockImpl::forward(const Tensor& x, const Tensor& e,
                                                     const BlockTerms& terms,
                                                     const DropoutSpec& spec) {
    const auto b = x.size(0);
    const auto cells = x.size(1);
    const auto l = x.size(2);
    const auto c = channels_;
    auto y = x + diffusion_projection(e).view({e.size(0), 1, 1, c});
    if (l > 1)
        y = time_layer(y.reshape({b * cells, l, c}), spec).view({b, cells, l, c});
    // The feature transformer is skipped: K = 1 (MODEL.md §2.6 step 4).
    // Mid and output projections as two halves each: no slicing of 2C-wide tensors (and no
    // zero-filled slice gradients in backward); in-place epilogues where autograd allows them.
    const auto mid = matrix(mid_projection->weight);
    auto gate = torch::linear(y, mid.narrow(0, 0, c), mid_projection->bias.narrow(0, 0, c));
    auto filter = torch::linear(y, mid.narrow(0, c, c), mid_projection->bias.narrow(0, c, c));
    gate.add_(terms.gate_cell).add_(terms.gate_hour).sigmoid_();
    filter.add_(terms.filter_cell).add_(terms.filter_hour).tanh_();
    const auto h = gate * filter;
    const auto out = matrix(output_projection->weight);
    auto residual = torch::linear(h, out.narrow(0, 0, c), output_projection->bias.narrow(0, 0, c));
    auto skip = torch::linear(h, out.narrow(0, c, c), output_projection->bias.narrow(0, c, c));
    residual.add_(x).div_(std::sqrt(2.0));
    return {residual, skip};
}

// ---- diffusion-step embedding -------------------------------------------------------------------

DiffusionEmbeddingImpl::DiffusionEmbeddingImpl(std::int64_t num_steps, std::int64_t dim) {
    // MODEL.md §2.4: float32 arguments; half width passed as a float, hence k / (half - 1).
    const auto half = dim / 2;
    const auto exponent = torch::arange(half, torch::kFloat) / static_cast<double>(half - 1) * 4.0;
    const auto frequencies = torch::pow(10.0, exponent).unsqueeze(0);
    const auto arguments = torch::arange(num_steps, torch::kFloat).unsqueeze(1) * frequencies;
    table_ = torch::cat({torch::sin(arguments), torch::cos(arguments)}, 1);
    projection1 = register_module("projection1", torch::nn::Linear(dim, dim));
    projection2 = register_module("projection2", torch::nn::Linear(dim, dim));
}

Tensor DiffusionEmbeddingImpl::forward(const Tensor& steps) {
    const auto device = projection1->weight.device();
    if (!device_table_.defined() || device_table_.device() != device)
        device_table_ = table_.to(device);
    auto x = device_table_.index_select(0, steps.to(device).to(torch::kLong).reshape({-1}));
    x = torch::silu(projection1(x));
    return torch::silu(projection2(x));
}

// ---- denoiser ---------------------------------------------------------------------------------

DenoiserOptions DenoiserOptions::of(const ModelConfig& config) {
    DenoiserOptions o;
    o.block = ResidualBlockOptions::of(config);
    o.layers = config.diffusion.layers;
    o.num_steps = config.diffusion.num_steps;
    return o;
}

DenoiserImpl::DenoiserImpl(const DenoiserOptions& options) {
    const auto c = options.block.channels;
    diffusion_embedding =
        register_module("diffusion_embedding",
                        DiffusionEmbedding(options.num_steps, options.block.step_embedding_dim));
    input_projection = register_module("input_projection", conv1x1(1, c));
    output_projection1 = register_module("output_projection1", conv1x1(c, c));
    output_projection2 = register_module("output_projection2", conv1x1(c, 1));
    residual_layers = register_module("residual_layers", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < options.layers; ++i)
        residual_layers->push_back(ResidualBlock(options.block));
}

Tensor DenoiserImpl::forward(const Tensor& x, const Tensor& steps, const DenoiserContext& context,
                             const DropoutSpec& spec, std::vector<Tensor>* block_trace) {
    const auto c = input_projection->weight.size(0);
    auto h =
        torch::relu(x.unsqueeze(-1) * input_projection->weight.view({c}) + input_projection->bias);
    const auto e = diffusion_embedding(steps);
    Tensor skip_sum;
    std::size_t index = 0;
    const bool wanted = checkpointing_ == Checkpointing::kOn ||
                        (checkpointing_ == Checkpointing::kAuto && x.size(0) >= kCheckpointBatch);
    const bool checkpoint = wanted && is_training() && torch::GradMode::is_enabled();
    for (const auto& module : *residual_layers) {
        auto* block = module->as<ResidualBlockImpl>();
        const auto& terms = context.blocks.at(index);
        Tensor next;
        Tensor skip;
        if (checkpoint) {
            auto outputs = BlockCheckpoint::apply(
                h, e, terms.gate_cell, terms.filter_cell, terms.gate_hour, terms.filter_hour,
                reinterpret_cast<std::int64_t>(block), address_of(spec));
            next = outputs[0];
            skip = outputs[1];
        } else {
            std::tie(next, skip) = block->forward(h, e, terms, spec);
        }
        if (block_trace != nullptr) {
            block_trace->push_back(next);
            block_trace->push_back(skip);
        }
        skip_sum = skip_sum.defined() ? skip_sum + skip : skip;
        h = std::move(next);
        ++index;
    }
    h = skip_sum / std::sqrt(static_cast<double>(residual_layers->size()));
    h = torch::relu(torch::linear(h, matrix(output_projection1->weight), output_projection1->bias));
    return torch::linear(h, matrix(output_projection2->weight), output_projection2->bias)
        .squeeze(-1);
}

FeaturePatternProjectionImpl::FeaturePatternProjectionImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, {258, 1})));
}

// ---- the whole model --------------------------------------------------------------------------

ZoomDiffNetImpl::ZoomDiffNetImpl(const ModelConfig& config) : config_(config) {
    const auto side = config.tile_side();
    embed_layer = register_module("embed_layer", torch::nn::Embedding(torch::nn::EmbeddingOptions(
                                                     kFeatures, config.model.feature_emb)));
    feature_pattern_projection =
        register_module("feature_pattern_projection", FeaturePatternProjection());
    diffmodel = register_module("diffmodel", Denoiser(DenoiserOptions::of(config)));
    spatial_embedding = register_parameter(
        "spatial_embedding", torch::randn({config.segments(), config.model.timeemb, side, side}));
    predicted_noise_projection =
        register_module("predicted_noise_projection", conv1x1(1, kFusionWidth));
    noise_prior_projection = register_module("noise_prior_projection", conv1x1(1, kFusionWidth));
    infused_noise_projection =
        register_module("infused_noise_projection", conv1x1(kFusionWidth, 1));
}

void ZoomDiffNetImpl::reset_parameters(at::Generator& gen) {
    torch::NoGradGuard no_grad;
    embed_layer->weight.normal_(0.0, 1.0, gen);
    default_init(feature_pattern_projection->conv, gen);
    auto& d = *diffmodel;
    default_init(d.diffusion_embedding->projection1, gen);
    default_init(d.diffusion_embedding->projection2, gen);
    kaiming_normal_conv(d.input_projection, gen);
    kaiming_normal_conv(d.output_projection1, gen);
    kaiming_normal_conv(d.output_projection2, gen);
    d.output_projection2->weight.zero_();
    for (const auto& module : *d.residual_layers) {
        auto& block = *module->as<ResidualBlockImpl>();
        default_init(block.diffusion_projection, gen);
        kaiming_normal_conv(block.mid_projection, gen);
        kaiming_normal_conv(block.output_projection, gen);
        kaiming_normal_conv(block.side_projection, gen);
        if (!block.cond_static_projection.is_empty())
            kaiming_normal_conv(block.cond_static_projection, gen);
        kaiming_normal_conv(block.cond_poi_projection, gen);
        kaiming_normal_conv(block.prior_projection, gen);
        for (auto* transformer : {&block.time_layer, &block.feature_layer}) {
            auto& layer = *(*transformer)->layers[0]->as<EncoderLayerImpl>();
            auto& attention = *layer.self_attn;
            default_init(attention.out_proj, gen);
            const double fans = static_cast<double>(attention.in_proj_weight.size(1) +
                                                    attention.in_proj_weight.size(0));
            const double bound = std::sqrt(3.0) * (1.0 * std::sqrt(2.0 / fans));  // xavier_uniform_
            attention.in_proj_weight.uniform_(-bound, bound, gen);
            attention.in_proj_bias.zero_();
            attention.out_proj->bias.zero_();
            default_init(layer.linear1, gen);
            default_init(layer.linear2, gen);
            layer.norm1->weight.fill_(1.0);
            layer.norm1->bias.zero_();
            layer.norm2->weight.fill_(1.0);
            layer.norm2->bias.zero_();
        }
    }
    // The spatial tables: one standard-normal draw per segment, after the denoiser.
    for (std::int64_t i = 0; i < spatial_embedding.size(0); ++i) {
        auto table = torch::empty(spatial_embedding[i].sizes());
        table.normal_(0.0, 1.0, gen);
        spatial_embedding[i].copy_(table);
    }
    kaiming_normal_conv(predicted_noise_projection, gen);
    kaiming_normal_conv(noise_prior_projection, gen);
    kaiming_normal_conv(infused_noise_projection, gen);
}

Tensor ZoomDiffNetImpl::time_embedding(const Tensor& timepoints) const {
    const auto device = spatial_embedding.device();
    const auto d = config_.model.timeemb;
    const auto position = timepoints.to(device, torch::kFloat).unsqueeze(2);  // (B, L, 1)
    const auto exponent =
        torch::arange(0, d, 2, torch::TensorOptions(torch::kFloat).device(device)) /
        static_cast<double>(d);
    const auto frequency = torch::pow(10000.0, exponent).reciprocal();
    const auto argument = position * frequency;  // (B, L, d/2)
    // Interleave: column 2j = sin, 2j + 1 = cos.
    return torch::stack({torch::sin(argument), torch::cos(argument)}, -1).flatten(2);
}

Tensor ZoomDiffNetImpl::side_info(const Tensor& timepoints, std::int64_t segment) const {
    const auto te = time_embedding(timepoints);  // (B, L, d_t)
    const auto b = te.size(0);
    const auto l = te.size(1);
    const auto side = spatial_embedding.size(2);
    const auto time =
        te.permute({0, 2, 1}).reshape({b, -1, 1, l, 1, 1}).expand({-1, -1, 1, l, side, side});
    const auto space =
        spatial_embedding[segment].reshape({1, -1, 1, 1, side, side}).expand({b, -1, 1, l, -1, -1});
    const auto feature =
        embed_layer->weight[0].reshape({1, -1, 1, 1, 1, 1}).expand({b, -1, 1, l, side, side});
    return torch::cat({time, space, feature}, 1);
}

std::pair<Tensor, Tensor> ZoomDiffNetImpl::transformed_conditions(const BatchConditions& c) const {
    const auto device = spatial_embedding.device();
    const auto cells_major = [&](const Tensor& t) {  // (B, ch, H, W) -> (B, HW, ch)
        return t.to(device, torch::kFloat).flatten(2).transpose(1, 2);
    };
    auto cond_poi = cells_major(c.cond_poi);
    // poi_only: (B, 0, H, W) or no tensor at all.
    auto cond_static =
        c.cond_static.defined()
            ? cells_major(c.cond_static)
            : torch::empty({cond_poi.size(0), cond_poi.size(1), 0}, cond_poi.options());
    TORCH_CHECK(cond_static.size(2) == config_.static_channels(), "expected ",
                config_.static_channels(), " static condition channels for the ",
                std::string(to_string(config_.model.condition_layout)), " layout, got ",
                cond_static.size(2));
    TORCH_CHECK(cond_poi.size(2) == config_.poi_channels(), "expected ", config_.poi_channels(),
                " POI channels, got ", cond_poi.size(2));
    if (config_.model.condition_layout != ConditionLayout::kReference) {  // corrected and poi_only
        cond_static = torch::log1p(cond_static.clamp_min(0));
        cond_poi = torch::log1p(cond_poi.clamp_min(0));
    }
    if (c.unconditional.defined()) {
        const auto null_rows = c.unconditional.to(device, torch::kBool).view({-1, 1, 1});
        cond_static =
            torch::where(null_rows, torch::full_like(cond_static, kNullCondition), cond_static);
        cond_poi = torch::where(null_rows, torch::full_like(cond_poi, kNullCondition), cond_poi);
    }
    return {cond_static, cond_poi};
}

DenoiserContext ZoomDiffNetImpl::prepare(const BatchConditions& conditions,
                                         const Tensor& segments) const {
    const auto [cond_static, cond_poi] = transformed_conditions(conditions);
    const auto te = time_embedding(conditions.timepoints);
    const auto b = cond_poi.size(0);
    // (B or 1, HW, d_s): each item's spatial table, cells-major.
    const auto spatial =
        spatial_embedding.index_select(0, segments.to(spatial_embedding.device()).to(torch::kLong))
            .flatten(2)
            .transpose(1, 2);
    const auto feature = embed_layer->weight[0];
    DenoiserContext context;
    context.batch = b;
    for (const auto& module : *diffmodel->residual_layers) {
        context.blocks.push_back(
            module->as<ResidualBlockImpl>()->terms(cond_static, cond_poi, spatial, feature, te));
    }
    return context;
}

DenoiserContext ZoomDiffNetImpl::prepare(const BatchConditions& conditions,
                                         std::int64_t segment) const {
    return prepare(conditions, torch::full({1}, segment, torch::kLong));
}

Tensor ZoomDiffNetImpl::denoise(const Tensor& x, const Tensor& steps,
                                const DenoiserContext& context, const DropoutSpec& dropout_spec,
                                std::vector<BlockOutput>* block_trace) {
    const auto b = x.size(0);
    const auto l = x.size(2);
    const auto side = x.size(3);
    TORCH_CHECK(x.dim() == 5 && x.size(1) == kFeatures && x.size(4) == side,
                "a sample is (B, 1, L, H, H), got ", x.sizes());
    const auto cells_major = x.reshape({b, l, side * side}).transpose(1, 2).contiguous();
    std::vector<Tensor> trace;
    auto out = diffmodel->forward(cells_major, steps, context, dropout_spec,
                                  block_trace ? &trace : nullptr);
    if (block_trace != nullptr) {
        for (std::size_t i = 0; i + 1 < trace.size(); i += 2) {
            block_trace->push_back(
                {to_reference_channels(trace[i], side), to_reference_channels(trace[i + 1], side)});
        }
    }
    return out.transpose(1, 2).reshape({b, kFeatures, l, side, side});
}

Tensor ZoomDiffNetImpl::fuse(const Tensor& predicted, const Tensor& prior) const {
    // P3(P1 p + P2 prior) has no activation: per element it is a p + c prior + d (MODEL.md D-5).
    const auto w1 = predicted_noise_projection->weight.view({-1});
    const auto w2 = noise_prior_projection->weight.view({-1});
    const auto w3 = infused_noise_projection->weight.view({-1});
    const auto a = torch::dot(w3, w1);
    const auto d = torch::dot(w3, predicted_noise_projection->bias + noise_prior_projection->bias) +
                   infused_noise_projection->bias[0];
    auto infused = predicted * a + d;
    if (prior.defined())
        infused = infused + prior * torch::dot(w3, w2);
    const double sim = config_.model.sim;
    return predicted * sim + infused * (1 - sim);
}

std::int64_t ZoomDiffNetImpl::reference_parameter_count() const {
    std::int64_t count = 0;
    for (const auto& p : named_parameters()) {
        if (p.key() != "spatial_embedding")
            count += p.value().numel();
    }
    return count;
}

}  // namespace zoomdiff::model
