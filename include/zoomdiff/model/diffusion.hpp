#pragma once

// The multi-scale diffusion around the network (reference/MODEL.md §3): scale operators, the
// training and validation losses and the multi-scale ancestral sampler. Every random draw goes
// through a NoiseSource in the reference's order (discarded draws included), so a seeded run
// reproduces the reference's noise bit for bit and tests can replay recorded draws.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <vector>

#include <ATen/core/Generator.h>
#include <c10/util/Optional.h>
#include <torch/types.h>

#include "zoomdiff/model/network.hpp"
#include "zoomdiff/model/schedule.hpp"

namespace zoomdiff::model {

/// Block means over (H / g) x (H / g) blocks, g = 2^(coarse - i_s), broadcast back; rows first,
/// then columns. Acts on the last two axes, so (B, K, L, H, W) and (B, C, H, W) both work.
torch::Tensor spatial_divide(const torch::Tensor& x, int i_s, int coarse);
/// Means over consecutive hours of (B, K, 168, H, W), broadcast back (i_t = 1 .. 5: groups of
/// 1, 2, 4, 24, 168 hours).
torch::Tensor temporal_divide(const torch::Tensor& x, int i_t);
/// D = temporal(spatial(x)), the clean-data operator of a segment.
torch::Tensor divide(const torch::Tensor& x, int i_t, int i_s, int coarse);
/// Noise constant on every block of the division (i_t, i_s), standard deviation `sigma`: the
/// block means of unit draws (each the mean of n draws) times sqrt(n). train.prior_noise.
torch::Tensor block_noise(const torch::Tensor& draws, int i_t, int i_s, int coarse, double sigma);

/// What a draw is for, in the reference's sampler and loss.
/// kConditionDropout: one draw per training item when train.cond_dropout > 0 (ours).
/// kPriorNoise: a draw per item of segments >= 1 when train.prior_noise > 0 (ours).
enum class DrawRole {
    kStart,
    kReset,
    kDiscarded,
    kStepNoise,
    kLossNoise,
    kConditionDropout,
    kPriorNoise
};

/// Where Gaussian draws and training steps come from. Draws are float32 on the CPU; the
/// diffusion moves them to the model's device.
class NoiseSource {
public:
    virtual ~NoiseSource() = default;
    virtual torch::Tensor normal(at::IntArrayRef shape, DrawRole role) = 0;
    /// Uniform integer steps in [0, num_steps), `count` of them (training only).
    virtual torch::Tensor steps(std::int64_t count, std::int64_t num_steps) = 0;

    /// Draws for some items of a batch only (`rows`: their positions in the batch, in order); by
    /// default one draw of `shape`, as the reference draws for the items of one segment.
    virtual torch::Tensor normal_rows(const std::vector<std::int64_t>& rows, at::IntArrayRef shape,
                                      DrawRole role) {
        (void)rows;
        return normal(shape, role);
    }

    /// The sampler starts sample `s` of every tile (TileNoise re-keys its tiles).
    virtual void begin_sample(std::int64_t s) { (void)s; }

    /// Generator for the transformer dropout in training (none: the default generator).
    virtual c10::optional<at::Generator> dropout_generator() { return c10::nullopt; }

    /// One dropout generator per batch item (DropoutSpec::per_tile); empty: dropout_generator().
    virtual std::vector<at::Generator> dropout_tile_generators() { return {}; }
};

/// Draws from one CPU generator, in call order (the reference's CPU stream).
class GeneratorNoise : public NoiseSource {
public:
    explicit GeneratorNoise(at::Generator generator, bool dropout_on_cpu = true);
    /// A CPU generator seeded like torch.manual_seed(seed).
    static at::Generator cpu_generator(std::uint64_t seed);

    torch::Tensor normal(at::IntArrayRef shape, DrawRole role) override;
    torch::Tensor steps(std::int64_t count, std::int64_t num_steps) override;
    c10::optional<at::Generator> dropout_generator() override;

    [[nodiscard]] at::Generator& generator() { return generator_; }

private:
    at::Generator generator_;
    bool dropout_on_cpu_;
};

/// Draws per tile (`noise: per_tile`, the default of zoomdiff_train and zoomdiff_infer): every
/// item of a batch draws from a CPU generator of its own, seeded from a key that names the tile
/// (training: seed, epoch, city, tile; sampling: seed, city, tile, and the sample via
/// begin_sample). What a tile draws then depends neither on the other tiles of its batch nor on
/// the batch size, the order of batches or the rank that computes it: the property distributed
/// training and sharded inference rest on. Discarded draws are not made. The generators are
/// mt19937, seeded with 32 bits folded from the 64-bit key.
class TileNoise : public NoiseSource {
public:
    /// `keys`: one per batch item, in batch order (tile_key). `dropout_on_cpu`: the transformer
    /// dropout draws per tile too (CPU training); otherwise from the device's default generator.
    explicit TileNoise(std::vector<std::uint64_t> keys, bool dropout_on_cpu = true);
    /// A key from its parts (splitmix64 over them): tile_key({seed, epoch, city, tile}).
    static std::uint64_t tile_key(std::initializer_list<std::uint64_t> parts);

    torch::Tensor normal(at::IntArrayRef shape, DrawRole role) override;
    torch::Tensor normal_rows(const std::vector<std::int64_t>& rows, at::IntArrayRef shape,
                              DrawRole role) override;
    torch::Tensor steps(std::int64_t count, std::int64_t num_steps) override;
    void begin_sample(std::int64_t s) override;
    std::vector<at::Generator> dropout_tile_generators() override;

private:
    std::vector<std::uint64_t> keys_;
    std::vector<at::Generator> generators_;
    bool dropout_on_cpu_;
};

/// Replays recorded draws in order (golden tests); throws when the caller asks for more draws,
/// or another shape, than were recorded.
class ReplayNoise : public NoiseSource {
public:
    explicit ReplayNoise(std::vector<torch::Tensor> draws, torch::Tensor steps = {});
    torch::Tensor normal(at::IntArrayRef shape, DrawRole role) override;
    torch::Tensor steps(std::int64_t count, std::int64_t num_steps) override;

    [[nodiscard]] std::size_t used() const { return next_; }

private:
    std::vector<torch::Tensor> draws_;
    torch::Tensor steps_;
    std::size_t next_ = 0;
};

/// One reverse step of the sampler, for tracing (all tensors (B, K, L, H, W)).
struct StepRecord {
    int n = 0;
    const Segment* segment = nullptr;
    torch::Tensor current;           ///< the sample entering the step (after a segment reset)
    torch::Tensor noise_prior;       ///< zeros in segment 0
    torch::Tensor predicted;         ///< network output
    torch::Tensor fused;             ///< noise-fusion output
    torch::Tensor added_noise;       ///< the draw added after the update (zeros at n = 0)
    torch::Tensor next;              ///< the sample leaving the step
    torch::Tensor previous_end;      ///< end state of the previous segment (segments >= 1)
    torch::Tensor previous_divided;  ///< ... after that segment's division operator
    double coeff1 = 0.0;             ///< 1 / sqrt(alpha_hat), float64
    float coeff2 = 0.0F;             ///< (1 - alpha_hat) / sqrt(1 - alpha_bar), as used (float32)
    float sigma = 0.0F;              ///< standard deviation of the added noise, as used (float32)
};

using StepObserver = std::function<void(const StepRecord&)>;

struct SampleOutput {
    torch::Tensor samples;       ///< (B, n_samples, K, L, H, W): the final (finest) samples
    torch::Tensor segment_ends;  ///< (B, n_samples, S, K, L, H, W): each segment's end state
};

/// The diffusion process of one network. Holds the schedule; the network is shared.
class MultiScaleDiffusion {
public:
    explicit MultiScaleDiffusion(ZoomDiffNet net);

    [[nodiscard]] const MultiScaleSchedule& schedule() const { return schedule_; }

    [[nodiscard]] ZoomDiffNet& net() { return net_; }

    /// Training loss (MODEL.md §3.5) of a clean, scaled batch x0 (B, 1, L, H, W): one random step
    /// per item. Uses the network's train/eval mode as it is (dropout only in train mode).
    torch::Tensor loss(const torch::Tensor& x0, const BatchConditions& conditions,
                       NoiseSource& noise);
    /// The same loss with every item at step n (the validation form, §3.6).
    torch::Tensor loss_at_step(const torch::Tensor& x0, const BatchConditions& conditions, int n,
                               NoiseSource& noise);
    /// Mean of loss_at_step over every n = 0 .. T-1, without gradients.
    torch::Tensor validation_loss(const torch::Tensor& x0, const BatchConditions& conditions,
                                  NoiseSource& noise);

    /// How sample() starts its segments (the network config's `sampler` section by default).
    [[nodiscard]] const SamplerConfig& sampler() const { return sampler_; }

    void set_sampler(const SamplerConfig& sampler) { sampler_ = sampler; }

    /// Network calls of one sample under the current sampler (every segment's visited steps).
    [[nodiscard]] std::int64_t calls_per_sample() const;

    /// Multi-scale ancestral sampling (§3.7), in inference mode: n_samples samples per tile.
    SampleOutput sample(const BatchConditions& conditions, std::int64_t n_samples,
                        NoiseSource& noise, const StepObserver& observer = {});

private:
    torch::Tensor loss_for_steps(const torch::Tensor& x0, const BatchConditions& conditions,
                                 const torch::Tensor& steps, NoiseSource& noise);

    ZoomDiffNet net_;
    MultiScaleSchedule schedule_;
    SamplerConfig sampler_;
};

}  // namespace zoomdiff::model
