#include "zoomdiff/model/diffusion.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <torch/nn/functional/loss.h>

namespace zoomdiff::model {
namespace {

using torch::Tensor;

constexpr double kTransformerDropout = 0.1;

// Block means along one axis: view the axis as (groups, size), mean over size, broadcast back.
Tensor block_mean(const Tensor& x, std::int64_t axis, std::int64_t groups) {
    const auto length = x.size(axis);
    if (groups == length)
        return x;
    auto sizes = x.sizes().vec();
    std::vector<std::int64_t> split(sizes.begin(), sizes.begin() + axis);
    split.push_back(groups);
    split.push_back(length / groups);
    split.insert(split.end(), sizes.begin() + axis + 1, sizes.end());
    const auto grouped = x.reshape(split);
    return grouped.mean(axis + 1, /*keepdim=*/true).expand(split).reshape(sizes);
}

Tensor float_table(const std::vector<float>& values) {
    return torch::tensor(at::ArrayRef<float>(values), torch::kFloat);
}

/// One value per hour of the series (the hourly means or spreads named `key`) as a (L, 1, 1)
/// tensor on x's device, which broadcasts along the time axis (dimension -3) of every series.
Tensor hourly_table(const Tensor& x, const std::vector<double>& values, const char* key) {
    const auto hours = x.size(-3);
    if (static_cast<std::int64_t>(values.size()) != hours) {
        throw std::invalid_argument(fmt::format(
            "diffusion.{} has {} values but the series have {} hours: the run was trained on "
            "series of another length",
            key, values.size(), hours));
    }
    const std::vector<float> table(values.begin(), values.end());
    return float_table(table).to(x.device()).view({hours, 1, 1});
}

/// MinMax-scaled series -> the diffusion's units: diffusion.transform, then diffusion.standardize
/// around data_mean or (center: hour_of_week) the hourly means, divided by data_std or (spread:
/// hour_of_week) the hourly spreads.
Tensor to_diffusion_units(Tensor x, const DiffusionConfig& d) {
    if (d.log_transformed())
        x = torch::log1p(x / static_cast<float>(d.log_scale));
    if (d.hour_scaled())
        x = (x - hourly_table(x, d.hourly_mean, "hourly_mean")) /
            hourly_table(x, d.hourly_std, "hourly_std");
    else if (d.hour_centred())
        x = (x - hourly_table(x, d.hourly_mean, "hourly_mean")) / static_cast<float>(d.data_std);
    else if (d.standardized())
        x = (x - static_cast<float>(d.data_mean)) / static_cast<float>(d.data_std);
    return x;
}

/// The inverse, in place. Under transform: log, values below the log's zero (a negative series,
/// which no count can be) come back as 0.
void from_diffusion_units(Tensor& y, const DiffusionConfig& d) {
    if (d.hour_scaled())
        y.mul_(hourly_table(y, d.hourly_std, "hourly_std"))
            .add_(hourly_table(y, d.hourly_mean, "hourly_mean"));
    else if (d.hour_centred())
        y.mul_(static_cast<float>(d.data_std)).add_(hourly_table(y, d.hourly_mean, "hourly_mean"));
    else if (d.standardized())
        y.mul_(static_cast<float>(d.data_std)).add_(static_cast<float>(d.data_mean));
    if (d.log_transformed())
        y.clamp_min_(0.0F).expm1_().mul_(static_cast<float>(d.log_scale));
}

}  // namespace

Tensor spatial_divide(const Tensor& x, int i_s, int coarse) {
    TORCH_CHECK(i_s >= 1 && i_s <= coarse && coarse <= 30, "spatial level must be 1..", coarse,
                ", got ", i_s);
    const std::int64_t groups = std::int64_t{1} << (coarse - i_s);
    const auto side = x.size(-1);
    TORCH_CHECK(x.size(-2) == side && side % groups == 0, "spatial level ", i_s,
                " needs a square tile divisible by ", groups, ", got ", x.sizes());
    const auto rows = block_mean(x, x.dim() - 2, groups);
    return block_mean(rows, x.dim() - 1, groups);
}

namespace {
constexpr std::int64_t kHoursPerGroup[] = {1, 2, 4, 24, 168};
}  // namespace

Tensor temporal_divide(const Tensor& x, int i_t) {
    TORCH_CHECK(i_t >= 1 && i_t <= 5, "temporal level must be 1..5, got ", i_t);
    const auto hours = kHoursPerGroup[i_t - 1];
    TORCH_CHECK(x.dim() == 5 && x.size(2) % hours == 0, "temporal level ", i_t,
                " needs (B, K, L, H, W) with L a multiple of ", hours, ", got ", x.sizes());
    return block_mean(x, 2, x.size(2) / hours);
}

Tensor divide(const Tensor& x, int i_t, int i_s, int coarse) {
    return temporal_divide(spatial_divide(x, i_s, coarse), i_t);
}

Tensor block_noise(const Tensor& draws, int i_t, int i_s, int coarse, double sigma) {
    const std::int64_t side = draws.size(-1) >> (coarse - i_s);
    const auto per_block = kHoursPerGroup[i_t - 1] * side * side;
    return divide(draws, i_t, i_s, coarse) * (sigma * std::sqrt(static_cast<double>(per_block)));
}

// ---- noise sources ----------------------------------------------------------------------------

GeneratorNoise::GeneratorNoise(at::Generator generator, bool dropout_on_cpu)
    : generator_(std::move(generator)), dropout_on_cpu_(dropout_on_cpu) {}

at::Generator GeneratorNoise::cpu_generator(std::uint64_t seed) {
    return at::make_generator<at::CPUGeneratorImpl>(seed);
}

Tensor GeneratorNoise::normal(at::IntArrayRef shape, DrawRole /*role*/) {
    return torch::randn(shape, generator_, torch::kFloat);
}

Tensor GeneratorNoise::steps(std::int64_t count, std::int64_t num_steps) {
    return torch::randint(0, num_steps, {count}, generator_, torch::kLong);
}

c10::optional<at::Generator> GeneratorNoise::dropout_generator() {
    if (dropout_on_cpu_)
        return generator_;
    return c10::nullopt;
}

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

// ATen's mt19937 takes 32 bits of a seed: fold the key's two halves into them.
at::Generator keyed_generator(std::uint64_t key) {
    return GeneratorNoise::cpu_generator((key ^ (key >> 32)) & 0xFFFFFFFFULL);
}

}  // namespace

TileNoise::TileNoise(std::vector<std::uint64_t> keys, bool dropout_on_cpu)
    : keys_(std::move(keys)), dropout_on_cpu_(dropout_on_cpu) {
    for (const auto key : keys_)
        generators_.push_back(keyed_generator(key));
}

std::uint64_t TileNoise::tile_key(std::initializer_list<std::uint64_t> parts) {
    std::uint64_t h = 0x5A6F6F6D44696666ULL;  // "ZoomDiff"
    for (const auto part : parts)
        h = splitmix64(h ^ splitmix64(part));
    return h;
}

void TileNoise::begin_sample(std::int64_t s) {
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        generators_[i] = keyed_generator(tile_key({keys_[i], static_cast<std::uint64_t>(s)}));
    }
}

Tensor TileNoise::normal(at::IntArrayRef shape, DrawRole role) {
    std::vector<std::int64_t> rows(keys_.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        rows[i] = static_cast<std::int64_t>(i);
    return normal_rows(rows, shape, role);
}

Tensor TileNoise::normal_rows(const std::vector<std::int64_t>& rows, at::IntArrayRef shape,
                              DrawRole role) {
    TORCH_CHECK(!shape.empty() && shape[0] == static_cast<std::int64_t>(rows.size()),
                "per-tile noise: ", rows.size(), " rows asked for a draw of shape ", shape);
    if (role == DrawRole::kDiscarded)
        return {};
    const auto item = shape.slice(1);
    std::vector<Tensor> draws;
    draws.reserve(rows.size());
    for (const auto row : rows) {
        draws.push_back(
            torch::randn(item, generators_.at(static_cast<std::size_t>(row)), torch::kFloat));
    }
    return torch::stack(draws);
}

Tensor TileNoise::steps(std::int64_t count, std::int64_t num_steps) {
    TORCH_CHECK(count == static_cast<std::int64_t>(generators_.size()), "per-tile noise: ", count,
                " steps asked for ", generators_.size(), " tiles");
    auto out = torch::empty({count}, torch::kLong);
    for (std::int64_t i = 0; i < count; ++i) {
        out[i] = torch::randint(0, num_steps, {1}, generators_[static_cast<std::size_t>(i)],
                                torch::kLong)[0];
    }
    return out;
}

std::vector<at::Generator> TileNoise::dropout_tile_generators() {
    if (!dropout_on_cpu_)
        return {};
    return generators_;
}

ReplayNoise::ReplayNoise(std::vector<Tensor> draws, Tensor steps)
    : draws_(std::move(draws)), steps_(std::move(steps)) {}

Tensor ReplayNoise::normal(at::IntArrayRef shape, DrawRole /*role*/) {
    if (next_ >= draws_.size()) {
        throw std::runtime_error("replay: draw " + std::to_string(next_) + " asked for, but only " +
                                 std::to_string(draws_.size()) + " were recorded");
    }
    const auto& draw = draws_[next_];
    if (draw.sizes() != shape) {
        throw std::runtime_error("replay: draw " + std::to_string(next_) +
                                 " has another shape than asked for");
    }
    ++next_;
    return draw;
}

Tensor ReplayNoise::steps(std::int64_t count, std::int64_t /*num_steps*/) {
    if (!steps_.defined() || steps_.numel() != count) {
        throw std::runtime_error("replay: no recorded training steps of that count");
    }
    return steps_;
}

// ---- losses ---------------------------------------------------------------------------------

MultiScaleDiffusion::MultiScaleDiffusion(ZoomDiffNet net)
    : net_(std::move(net)),
      schedule_(make_schedule(net_->config().diffusion)),
      sampler_(net_->config().sampler) {
    const auto& d = net_->config().diffusion;
    if (d.log_transformed() && !(d.log_scale > 0)) {
        throw std::invalid_argument(
            "diffusion.transform is log but diffusion.log_scale was never measured: zoomdiff_train "
            "measures it when it "
            "starts a model (diffusion.standardize: true)");
    }
    if (d.center == Centering::kHourOfWeek && !d.hour_centred()) {
        throw std::invalid_argument(
            "diffusion.center is hour_of_week but diffusion.hourly_mean was never measured: "
            "zoomdiff_train measures it when it starts a model (diffusion.standardize: true)");
    }
    if (d.spread == Spread::kHourOfWeek && !d.hour_scaled()) {
        throw std::invalid_argument(
            "diffusion.spread is hour_of_week but diffusion.hourly_std was never measured: "
            "zoomdiff_train measures it when it starts a model (diffusion.standardize: true)");
    }
}

Tensor MultiScaleDiffusion::loss_for_steps(const Tensor& x0, const BatchConditions& conditions,
                                           const Tensor& steps, NoiseSource& noise) {
    const auto device = net_->spatial_embedding.device();
    const int coarse = net_->config().diffusion.spatial_scale_coarse;
    const auto& d = net_->config().diffusion;
    auto data = x0.to(device, torch::kFloat);
    data = to_diffusion_units(data, d);
    const auto cpu_steps = steps.to(torch::kCPU, torch::kLong);
    auto eps_all = torch::empty_like(data);
    auto noisy_all = torch::empty_like(data);
    auto prior_all = torch::zeros_like(data);
    auto segment_all = torch::zeros({data.size(0)}, torch::kLong);
    const double min_snr = net_->config().train.min_snr;
    const double prior_noise = net_->is_training() ? net_->config().train.prior_noise : 0.0;
    auto weight_all = torch::ones({data.size(0)}, torch::kFloat);

    for (const auto& segment : schedule_.segments) {
        const auto items =
            ((cpu_steps >= segment.lower) & (cpu_steps < segment.upper)).nonzero().reshape({-1});
        if (items.numel() == 0)
            continue;  // no draws for an empty segment
        const auto positions = cpu_steps.index_select(0, items) - segment.lower + 1;
        const auto alpha = float_table(segment.alpha_f32)
                               .index_select(0, positions)
                               .to(device)
                               .view({-1, 1, 1, 1, 1});
        const auto rows = items.to(device);
        const auto clean = data.index_select(0, rows);
        const auto target = divide(clean, segment.i_t, segment.i_s, coarse);
        const std::vector<std::int64_t> rows_in_batch(
            items.data_ptr<std::int64_t>(), items.data_ptr<std::int64_t>() + items.numel());
        const auto eps =
            noise.normal_rows(rows_in_batch, target.sizes(), DrawRole::kLossNoise).to(device);
        const auto root = alpha.sqrt();
        const auto root_rest = (1 - alpha).sqrt();
        const auto noisy = root * target + root_rest * eps;
        if (segment.index >= 1) {
            auto coarser = divide(clean, segment.prev_i_t, segment.prev_i_s, coarse);
            if (prior_noise > 0) {  // train.prior_noise: the coarse series the prior sees, noised
                const auto draws =
                    noise.normal_rows(rows_in_batch, target.sizes(), DrawRole::kPriorNoise);
                coarser = coarser + block_noise(draws.to(device), segment.prev_i_t,
                                                segment.prev_i_s, coarse, prior_noise);
            }
            prior_all.index_copy_(0, rows, (noisy - root * coarser) / root_rest);
        } else {
            (void)noise.normal_rows(rows_in_batch, target.sizes(),
                                    DrawRole::kDiscarded);  // the reference discards it
        }
        if (min_snr > 0) {  // train.min_snr: min(SNR, gamma) / SNR per item
            const auto snr = (alpha / (1 - alpha)).view({-1}).to(torch::kCPU);
            weight_all.index_copy_(0, items, snr.clamp_max(min_snr) / snr);
        }
        eps_all.index_copy_(0, rows, eps);
        noisy_all.index_copy_(0, rows, noisy);
        segment_all.index_fill_(0, items, segment.index);
    }
    // train.cond_dropout: each item's own draw (after its noise) decides whether it learns the
    // null condition; u < p with u = Phi(z) of one standard normal draw. Training mode only: the
    // validation loss is the conditional one.
    BatchConditions used = conditions;
    const double cond_dropout = net_->config().train.cond_dropout;
    if (cond_dropout > 0 && net_->is_training()) {
        const auto z = noise.normal({data.size(0), 1}, DrawRole::kConditionDropout).view({-1});
        used.unconditional = 0.5 * torch::erfc(-z / std::sqrt(2.0)) < cond_dropout;
    }
    const auto context = net_->prepare(used, segment_all);
    const auto predicted = net_->denoise(noisy_all, cpu_steps.to(device), context,
                                         DropoutSpec{kTransformerDropout, noise.dropout_generator(),
                                                     noise.dropout_tile_generators()});
    const auto fused = net_->fuse(predicted, prior_all);
    if (min_snr <= 0)
        return torch::nn::functional::mse_loss(fused, eps_all);
    // The same mean over elements, each item's squared error weighted.
    const auto per_item = (fused - eps_all).square().flatten(1).mean(1);
    return (per_item * weight_all.to(device)).mean();
}

Tensor MultiScaleDiffusion::loss(const Tensor& x0, const BatchConditions& conditions,
                                 NoiseSource& noise) {
    const auto steps = noise.steps(x0.size(0), schedule_.num_steps);
    return loss_for_steps(x0, conditions, steps, noise);
}

Tensor MultiScaleDiffusion::loss_at_step(const Tensor& x0, const BatchConditions& conditions, int n,
                                         NoiseSource& noise) {
    return loss_for_steps(x0, conditions, torch::full({x0.size(0)}, n, torch::kLong), noise);
}

Tensor MultiScaleDiffusion::validation_loss(const Tensor& x0, const BatchConditions& conditions,
                                            NoiseSource& noise) {
    torch::NoGradGuard no_grad;
    const bool was_training = net_->is_training();
    net_->eval();
    auto total = torch::zeros({}, torch::kFloat);
    for (int n = 0; n < schedule_.num_steps; ++n) {
        total += loss_at_step(x0, conditions, n, noise).to(torch::kCPU);
    }
    net_->train(was_training);
    return total / schedule_.num_steps;
}

// ---- sampling ----------------------------------------------------------------------------------

std::int64_t MultiScaleDiffusion::calls_per_sample() const {
    std::int64_t calls = 0;
    for (const auto& segment : schedule_.segments) {
        calls += static_cast<std::int64_t>(
            visited_positions(segment.upper - segment.lower, sampler_.steps_per_segment).size());
    }
    return sampler_.guidance > 0 ? 2 * calls : calls;  // guidance: a null-condition call as well
}

namespace {

/// The scalars of one sampling step from position k to k_to of a segment, exactly as the
/// reference forms them (float32 unless noted).
struct StepScalars {
    float alpha = 0;       // alpha-bar at k
    float alpha_prev = 0;  // alpha-bar at k_to
    float root_rest = 0;   // sqrt(1 - alpha)
    double alpha_hat = 0;  // double
    double beta = 0;       // double
    double ab = 0;         // double alpha-bar at k
    double ab_prev = 0;    // double alpha-bar at k_to
    float coeff2 = 0;
    double coeff1 = 0;
    float sigma = 0;  // the ancestral standard deviation
};

StepScalars step_scalars(const Segment& segment, std::size_t k, std::size_t k_to) {
    StepScalars c;
    c.alpha = segment.alpha_f32[k];
    c.alpha_prev = segment.alpha_f32[k_to];
    // One step of the full schedule reads its own beta; a respaced one the beta that takes
    // alpha-bar from position k to k_to (beta' = 1 - alpha-bar_k / alpha-bar_k_to).
    const bool adjacent = k_to + 1 == k;
    c.alpha_hat = adjacent ? segment.alpha_hat[k] : segment.alpha[k] / segment.alpha[k_to];
    c.beta = adjacent ? segment.beta[k] : 1.0 - c.alpha_hat;
    c.root_rest = std::sqrt(1.0F - c.alpha);
    c.coeff2 = (1.0F / c.root_rest) * static_cast<float>(1.0 - c.alpha_hat);
    c.coeff1 = 1.0 / std::sqrt(c.alpha_hat);
    c.ab = segment.alpha[k];
    c.ab_prev = segment.alpha[k_to];
    c.sigma = std::sqrt(((1.0F - c.alpha_prev) / (1.0F - c.alpha)) * static_cast<float>(c.beta));
    return c;
}

/// The step's result before its added noise (sigma: the noise it will add, scaled by eta
/// under DDIM).
Tensor step_mean(const SamplerConfig& sampler, const Tensor& z, const Tensor& fused,
                 const StepScalars& c, float sigma, const Tensor& clip_low,
                 const Tensor& clip_high) {
    if (sampler.method == SamplerMethod::kDdim) {
        // Ours: DDIM (Song et al. 2021, eq. 12) from the implied clean series, optionally
        // clamped; the noise estimate is re-derived from it so both stay consistent. At eta 1
        // this is the ancestral step, n = 0 included (its mean assumes that sigma).
        auto x0 = (z - fused * c.root_rest) / std::sqrt(c.alpha);
        auto eps = fused;
        if (sampler.clip_x0) {
            x0 = x0.clamp(clip_low, clip_high);
            eps = (z - x0 * std::sqrt(c.alpha)) / c.root_rest;
        }
        const double rest = std::max(0.0, 1.0 - c.ab_prev - static_cast<double>(sigma) * sigma);
        return x0 * static_cast<float>(std::sqrt(c.ab_prev)) +
               eps * static_cast<float>(std::sqrt(rest));
    }
    if (sampler.clip_x0) {
        // Ours: the clean series the fused noise implies, clamped to the range the training
        // data had, then the posterior mean of q(x_{n-1} | x_n, x0) (DDPM eq. 7; without the
        // clamp equal to the plain step up to rounding).
        const auto x0 = ((z - fused * c.root_rest) / std::sqrt(c.alpha)).clamp(clip_low, clip_high);
        return x0 * static_cast<float>(std::sqrt(c.ab_prev) * c.beta / (1.0 - c.ab)) +
               z * static_cast<float>(std::sqrt(c.alpha_hat) * (1.0 - c.ab_prev) / (1.0 - c.ab));
    }
    return (z - fused * c.coeff2) * static_cast<float>(c.coeff1);
}

/// sampler.clip_x0's bound `value` (0 or 1 of the MinMax range) in the diffusion's units: per
/// hour under center: hour_of_week (and spread: hour_of_week), else one number (computed in
/// double, as always).
Tensor clip_bound(double value, const DiffusionConfig& standard, std::int64_t hours,
                  const torch::TensorOptions& options) {
    if (standard.hour_centred()) {
        return to_diffusion_units(torch::full({1, hours, 1, 1}, static_cast<float>(value), options),
                                  standard);
    }
    return torch::full({1}, (standard.transformed(value) - standard.data_mean) / standard.data_std,
                       options);
}

/// What every step of one sample() call shares.
struct SamplingRun {
    ZoomDiffNet& net;
    const SamplerConfig& sampler;
    double guidance = 0;
    std::vector<std::int64_t> shape;
    torch::Device device;
    std::vector<DenoiserContext> contexts;       // per segment
    std::vector<DenoiserContext> null_contexts;  // per segment, under sampler.guidance
    Tensor clip_low;
    Tensor clip_high;
    const StepObserver& observer;
};

/// The visited steps of segment i from its first state z; returns the segment's end.
/// previous_end / previous_divided: the segment before's end as it was and under this segment's
/// division operator (the noise prior of every step here); undefined for segment 0.
Tensor denoise_segment(const SamplingRun& run, std::size_t i, const Segment& segment,
                       const std::vector<int>& visited, Tensor z, const Tensor& previous_end,
                       const Tensor& previous_divided, NoiseSource& noise) {
    for (std::size_t j = 0; j < visited.size(); ++j) {
        const auto k = static_cast<std::size_t>(visited[j]);
        // The position the step lands on: the next visited one, 0 after the segment's last.
        const auto k_to = static_cast<std::size_t>(j + 1 < visited.size() ? visited[j + 1] : 0);
        const int n = segment.lower + static_cast<int>(k) - 1;
        const StepScalars c = step_scalars(segment, k, k_to);

        Tensor prior;
        if (i >= 1) {
            prior = (z - previous_divided * std::sqrt(c.alpha)) / c.root_rest;
        } else {
            (void)noise.normal(run.shape, DrawRole::kDiscarded);
        }
        const auto step = torch::full({1}, n, torch::kLong);
        auto predicted = run.net->denoise(z, step, run.contexts[i]);
        if (run.guidance > 0) {  // e(c) + w (e(c) - e(null)), before the fusion with the prior
            const auto unconditional = run.net->denoise(z, step, run.null_contexts[i]);
            predicted = predicted + static_cast<float>(run.guidance) * (predicted - unconditional);
        }
        const auto fused = run.net->fuse(predicted, prior);

        float sigma = run.sampler.method == SamplerMethod::kDdim
                          ? c.sigma * static_cast<float>(run.sampler.eta)
                          : c.sigma;
        Tensor next = step_mean(run.sampler, z, fused, c, sigma, run.clip_low, run.clip_high);
        Tensor added;
        if (n > 0) {
            added = noise.normal(run.shape, DrawRole::kStepNoise).to(run.device);
            next = next + added * sigma;
        } else {
            sigma = 0.0F;
        }
        if (run.observer) {
            StepRecord record;
            record.n = n;
            record.segment = &segment;
            record.current = z;
            record.noise_prior = prior.defined() ? prior : torch::zeros_like(z);
            record.predicted = predicted;
            record.fused = fused;
            record.added_noise = added.defined() ? added : torch::zeros_like(z);
            record.next = next;
            if (i >= 1) {
                record.previous_end = previous_end;
                record.previous_divided = previous_divided;
            }
            record.coeff1 = c.coeff1;
            record.coeff2 = c.coeff2;
            record.sigma = sigma;
            run.observer(record);
        }
        z = next;
    }
    return z;
}

/// One sample: the segments in turn, each from fresh noise (or, with coarse starts, the coarser
/// result at its top noise level) to its end; returns every segment's end, the last one the 500 m
/// result.
std::vector<Tensor> sample_segments(const SamplingRun& run, const MultiScaleSchedule& schedule,
                                    int coarse, NoiseSource& noise) {
    auto z = noise.normal(run.shape, DrawRole::kStart).to(run.device);
    std::vector<Tensor> ends;
    for (std::size_t i = 0; i < schedule.segments.size(); ++i) {
        const auto& segment = schedule.segments[i];
        const auto visited =
            visited_positions(segment.upper - segment.lower, run.sampler.steps_per_segment);
        // The previous segment's end under this segment's division operator: the noise prior of
        // every step here (and, with coarse starts, the start), the same for the whole segment.
        Tensor previous_divided;
        if (i >= 1) {
            previous_divided = divide(ends.back(), segment.prev_i_t, segment.prev_i_s, coarse);
            z = noise.normal(run.shape, DrawRole::kReset)
                    .to(run.device);  // fresh noise (MODEL.md §3.7 a) ...
            if (run.sampler.segment_start == SegmentStart::kCoarse) {
                // ... or, ours, the coarser result at this segment's top noise level.
                const float top = segment.alpha_f32[static_cast<std::size_t>(visited.front())];
                z = previous_divided * std::sqrt(top) + z * std::sqrt(1.0F - top);
            }
        }
        z = denoise_segment(run, i, segment, visited, z, i >= 1 ? ends.back() : Tensor(),
                            previous_divided, noise);
        ends.push_back(z);
    }
    return ends;
}

}  // namespace

SampleOutput MultiScaleDiffusion::sample(const BatchConditions& conditions, std::int64_t n_samples,
                                         NoiseSource& noise, const StepObserver& observer) {
    c10::InferenceMode inference;
    const bool was_training = net_->is_training();
    net_->eval();
    const auto device = net_->spatial_embedding.device();
    const int coarse = net_->config().diffusion.spatial_scale_coarse;
    const auto batch = conditions.cond_poi.size(0);  // cond_static may have 0 channels (poi_only)
    const auto side = conditions.cond_poi.size(-1);
    const auto hours = conditions.timepoints.size(1);
    const std::vector<std::int64_t> shape{batch, kFeatures, hours, side, side};
    const auto n_segments = static_cast<std::int64_t>(schedule_.segments.size());

    const auto options = torch::TensorOptions(torch::kFloat).device(device);
    SampleOutput out;
    out.samples = torch::empty({batch, n_samples, kFeatures, hours, side, side}, options);
    out.segment_ends =
        torch::empty({batch, n_samples, n_segments, kFeatures, hours, side, side}, options);

    // Step-invariant projections, once per segment for the whole run (DESIGN §5); under
    // sampler.guidance the same with the null condition for every tile. sampler.clip_x0: the
    // MinMax range [0, 1] in the diffusion's units (transform, standardize).
    const auto& standard = net_->config().diffusion;
    SamplingRun run{net_,
                    sampler_,
                    sampler_.guidance,
                    shape,
                    device,
                    {},
                    {},
                    clip_bound(0.0, standard, hours, options),
                    clip_bound(1.0, standard, hours, options),
                    observer};
    for (std::int64_t s = 0; s < n_segments; ++s)
        run.contexts.push_back(net_->prepare(conditions, s));
    if (run.guidance > 0) {
        BatchConditions null_conditions = conditions;
        null_conditions.unconditional = torch::ones({batch}, torch::kBool);
        for (std::int64_t s = 0; s < n_segments; ++s)
            run.null_contexts.push_back(net_->prepare(null_conditions, s));
    }

    for (std::int64_t s = 0; s < n_samples; ++s) {
        noise.begin_sample(s);
        const std::vector<Tensor> ends = sample_segments(run, schedule_, coarse, noise);
        const Tensor& z = ends.back();
        out.samples.select(1, s).copy_(z);
        for (std::int64_t j = 0; j < n_segments; ++j) {
            out.segment_ends.select(1, s).select(1, j).copy_(ends[static_cast<std::size_t>(j)]);
        }
    }
    // Back to the MinMax-scaled series. A segment's end under transform: log holds block means of
    // log values; the coarser scales a sample reports are then the block means of its 500 m result.
    from_diffusion_units(out.samples, standard);
    if (standard.log_transformed()) {
        out.segment_ends.copy_(out.samples.unsqueeze(2).expand_as(out.segment_ends));
    } else {
        from_diffusion_units(out.segment_ends, standard);
    }
    net_->train(was_training);
    return out;
}

}  // namespace zoomdiff::model
