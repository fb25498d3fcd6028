#include "zoomdiff/model/diffusion.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include "model/tiny_model.hpp"
#include <gtest/gtest.h>
#include <torch/types.h>

#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/network.hpp"
#include "zoomdiff/model/schedule.hpp"

namespace zoomdiff::model {
namespace {

using test::random_conditions;
using test::seeded;
using test::tiny_config;
using test::tiny_net;

// Two days instead of a week keeps the suite fast; with time_scale 1 every segment's temporal
// level is the identity, so nothing depends on L = 168.
constexpr std::int64_t kTestHours = 48;
constexpr std::int64_t kBatch = 2;
constexpr std::int64_t kSamples = 2;
// Draws of one sample with T = 12 in segments [12, 8, 4, 0]: 1 start + 4 discarded (segment 0)
// + 2 resets + 11 step noises (MODEL.md §3.7).
constexpr std::size_t kDrawsPerSample = 1 + 4 + 2 + 11;

/// Draws from a seeded CPU generator, like GeneratorNoise, and records every draw and role.
class RecordingNoise : public NoiseSource {
public:
    explicit RecordingNoise(std::uint64_t seed) : inner_(GeneratorNoise::cpu_generator(seed)) {}

    torch::Tensor normal(at::IntArrayRef shape, DrawRole role) override {
        auto draw = inner_.normal(shape, role);
        draws.push_back(draw.clone());
        roles.push_back(role);
        return draw;
    }

    torch::Tensor steps(std::int64_t count, std::int64_t num_steps) override {
        recorded_steps = inner_.steps(count, num_steps);
        return recorded_steps;
    }

    c10::optional<at::Generator> dropout_generator() override { return inner_.dropout_generator(); }

    std::vector<torch::Tensor> draws;
    std::vector<DrawRole> roles;
    torch::Tensor recorded_steps;

private:
    GeneratorNoise inner_;
};

torch::Tensor clean_batch(std::int64_t batch, std::uint64_t seed) {
    auto gen = seeded(seed);
    return torch::rand({batch, 1, kTestHours, 4, 4}, gen);  // [B, K, L, H, W], MinMax-scaled
}

bool all_zero(const torch::Tensor& t) {
    return !t.defined() || t.abs().max().item<float>() == 0.0F;
}

class Sampler : public ::testing::Test {
protected:
    void SetUp() override { at::set_num_threads(1); }

    ModelConfig config_ = tiny_config();
    BatchConditions conditions_ = random_conditions(config_, kBatch, kTestHours, 31);

    /// The same weights and draws under `ours` and under config_: the loss of x0 under `ours` is
    /// config_'s loss of to_units(x0) (within `loss_tolerance`; 0: the same bits). Returns one
    /// sample of each, {ours, config_'s}, for the caller to compare.
    template <typename ToUnits>
    std::pair<SampleOutput, SampleOutput> sample_beside_plain(const ModelConfig& ours_config,
                                                              ToUnits to_units,
                                                              double loss_tolerance) {
        MultiScaleDiffusion plain(tiny_net(config_, 73));
        MultiScaleDiffusion ours(tiny_net(ours_config, 73));
        plain.net()->eval();
        ours.net()->eval();
        const auto x0 = clean_batch(kBatch, 74);
        GeneratorNoise a(GeneratorNoise::cpu_generator(75));
        GeneratorNoise b(GeneratorNoise::cpu_generator(75));
        torch::NoGradGuard no_grad;
        EXPECT_TRUE(torch::allclose(ours.loss(x0, conditions_, a),
                                    plain.loss(to_units(x0), conditions_, b), loss_tolerance,
                                    loss_tolerance));
        GeneratorNoise c(GeneratorNoise::cpu_generator(76));
        GeneratorNoise d(GeneratorNoise::cpu_generator(76));
        auto got = ours.sample(conditions_, 1, c);
        auto expected = plain.sample(conditions_, 1, d);
        return {std::move(got), std::move(expected)};
    }

    /// Hourly values (`field`) of another length than the series (a run trained on other
    /// series) are refused by the loss, and unmeasured ones by the constructor.
    void expect_hourly_values_checked(ModelConfig config,
                                      std::vector<double> DiffusionConfig::*field) {
        (config.diffusion.*field).resize(24);
        MultiScaleDiffusion short_week(tiny_net(config, 73));
        GeneratorNoise e(GeneratorNoise::cpu_generator(75));
        EXPECT_THROW(short_week.loss(clean_batch(kBatch, 74), conditions_, e),
                     std::invalid_argument);
        (config.diffusion.*field).clear();
        EXPECT_THROW(MultiScaleDiffusion(tiny_net(config, 73)), std::invalid_argument);
    }
};

// ---- losses ---------------------------------------------------------------------------------

TEST(Loss, IsAFiniteScalarWithGradients) {
    at::set_num_threads(1);
    const ModelConfig c = tiny_config();
    MultiScaleDiffusion diffusion(tiny_net(c, 32));
    diffusion.net()->train();
    GeneratorNoise noise(GeneratorNoise::cpu_generator(33));
    const auto loss =
        diffusion.loss(clean_batch(6, 34), random_conditions(c, 6, kTestHours, 35), noise);
    ASSERT_EQ(loss.dim(), 0);
    EXPECT_TRUE(std::isfinite(loss.item<float>()));
    EXPECT_GT(loss.item<float>(), 0.0F);
    loss.backward();
    auto& net = diffusion.net();
    EXPECT_FALSE(all_zero(net->spatial_embedding.grad()));
    for (const auto& module : *net->diffmodel->residual_layers) {
        const auto& block = *module->as<ResidualBlockImpl>();
        EXPECT_FALSE(all_zero(block.cond_static_projection->weight.grad()));
        EXPECT_FALSE(all_zero(block.cond_poi_projection->weight.grad()));
        EXPECT_FALSE(all_zero(block.side_projection->weight.grad()));
    }
    EXPECT_FALSE(all_zero(net->predicted_noise_projection->weight.grad()));
    EXPECT_FALSE(all_zero(net->diffmodel->diffusion_embedding->projection1->weight.grad()));
}

TEST(Loss, MinSnrWeightsEachStepByMinSnrOverSnr) {
    // train.min_snr: at a step whose SNR exceeds gamma the loss is scaled by gamma / SNR; at a step
    // whose SNR is below gamma it is the reference's loss. Same weights, same draws.
    at::set_num_threads(1);
    const ModelConfig plain_config = tiny_config();
    auto weighted_config = plain_config;
    weighted_config.train.min_snr = 30.0;  // the tiny schedule's SNRs: 242, 55, 21, 9.7
    MultiScaleDiffusion plain(tiny_net(plain_config, 36));
    MultiScaleDiffusion weighted(tiny_net(weighted_config, 36));
    plain.net()->eval();
    weighted.net()->eval();
    const auto x0 = clean_batch(kBatch, 37);
    const auto conditions = random_conditions(plain_config, kBatch, kTestHours, 38);
    torch::NoGradGuard no_grad;
    int below = 0;
    int above = 0;
    for (int n = 0; n < plain_config.diffusion.num_steps; ++n) {
        const auto& segment = plain.schedule().segment_of(n);
        const double alpha = segment.alpha_f32[static_cast<std::size_t>(segment.position(n))];
        const double snr = alpha / (1.0 - alpha);
        GeneratorNoise a(GeneratorNoise::cpu_generator(39));
        GeneratorNoise b(GeneratorNoise::cpu_generator(39));
        const double reference = plain.loss_at_step(x0, conditions, n, a).item<double>();
        const double got = weighted.loss_at_step(x0, conditions, n, b).item<double>();
        EXPECT_NEAR(got, reference * std::min(snr, 30.0) / snr, 1e-5 * reference) << "n " << n;
        (snr > 30.0 ? above : below) += 1;
    }
    EXPECT_GT(above, 0);  // both cases met
    EXPECT_GT(below, 0);
}

TEST(Loss, OnlyTheStepsSegmentTableAndUsedModulesLearn) {
    at::set_num_threads(1);
    const ModelConfig c = tiny_config();
    MultiScaleDiffusion diffusion(tiny_net(c, 36));
    auto& net = diffusion.net();
    net->eval();
    const auto x0 = clean_batch(kBatch, 37);
    const auto conditions = random_conditions(c, kBatch, kTestHours, 38);
    const std::vector<std::pair<int, std::int64_t>> step_and_segment{{10, 0}, {5, 1}, {2, 2}};
    for (const auto& [n, segment] : step_and_segment) {
        net->zero_grad();
        GeneratorNoise noise(GeneratorNoise::cpu_generator(39));
        diffusion.loss_at_step(x0, conditions, n, noise).backward();
        const auto grad = net->spatial_embedding.grad();
        ASSERT_TRUE(grad.defined());
        for (std::int64_t s = 0; s < 3; ++s) {
            EXPECT_EQ(all_zero(grad[s]), s != segment) << "step " << n << " table " << s;
        }
        // MODEL.md §2.9: registered, never used.
        const auto& block = *net->diffmodel->residual_layers[0]->as<ResidualBlockImpl>();
        EXPECT_TRUE(all_zero(block.prior_projection->weight.grad()));
        EXPECT_TRUE(all_zero(block.feature_layer->parameters()[0].grad()));
        EXPECT_TRUE(all_zero(net->feature_pattern_projection->conv->weight.grad()));
    }
    // The prior enters only from segment 1 on.
    net->zero_grad();
    GeneratorNoise noise(GeneratorNoise::cpu_generator(40));
    diffusion.loss_at_step(x0, conditions, 11, noise).backward();
    EXPECT_TRUE(all_zero(net->noise_prior_projection->weight.grad()));
    net->zero_grad();
    diffusion.loss_at_step(x0, conditions, 3, noise).backward();
    EXPECT_FALSE(all_zero(net->noise_prior_projection->weight.grad()));
}

TEST(Loss, SameSeedSameBitsOtherSeedOtherLoss) {
    at::set_num_threads(1);
    const ModelConfig c = tiny_config();
    MultiScaleDiffusion diffusion(tiny_net(c, 41));
    diffusion.net()->train();  // dropout draws from the noise source's generator too
    const auto x0 = clean_batch(4, 42);
    const auto conditions = random_conditions(c, 4, kTestHours, 43);
    GeneratorNoise first(GeneratorNoise::cpu_generator(44));
    GeneratorNoise again(GeneratorNoise::cpu_generator(44));
    GeneratorNoise other(GeneratorNoise::cpu_generator(45));
    const auto a = diffusion.loss(x0, conditions, first);
    const auto b = diffusion.loss(x0, conditions, again);
    const auto d = diffusion.loss(x0, conditions, other);
    EXPECT_TRUE(torch::equal(a, b)) << a.item<float>() << " vs " << b.item<float>();
    EXPECT_NE(a.item<float>(), d.item<float>());
}

TEST(Loss, PerTileDrawsDoNotDependOnTheBatch) {
    // TileNoise (train.noise: per_tile): each tile draws its step, noise and dropout masks from its
    // own key, so the batch mean over {a, b, c, d} is the mean of the losses of {a, b} and {c, d}
    // computed apart (and in another order) up to float rounding; the gradients likewise.
    at::set_num_threads(1);
    const ModelConfig c = tiny_config();
    MultiScaleDiffusion diffusion(tiny_net(c, 41));
    diffusion.net()->train();
    const auto x0 = clean_batch(4, 42);
    const auto conditions = random_conditions(c, 4, kTestHours, 43);
    const std::vector<std::uint64_t> keys{TileNoise::tile_key({7, 0}), TileNoise::tile_key({7, 1}),
                                          TileNoise::tile_key({7, 2}), TileNoise::tile_key({7, 3})};
    const auto grads = [&](const torch::Tensor& loss) {
        diffusion.net()->zero_grad();
        loss.backward();
        std::vector<torch::Tensor> out;
        for (const auto& p : diffusion.net()->parameters())
            out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
        return out;
    };
    TileNoise all(keys);
    const auto whole = diffusion.loss(x0, conditions, all);
    const auto g_whole = grads(whole);
    // {d, c} and {b, a}: reversed order inside each half.
    const auto part = [&](std::vector<std::int64_t> rows) {
        const auto index = torch::tensor(rows, torch::kLong);
        std::vector<std::uint64_t> k;
        for (const auto r : rows)
            k.push_back(keys[static_cast<std::size_t>(r)]);
        TileNoise noise(k);
        return diffusion.loss(x0.index_select(0, index),
                              zoomdiff::test::select_items(conditions, index), noise);
    };
    const auto first = part({3, 2});
    const auto g_first = grads(first);
    const auto second = part({1, 0});
    const auto g_second = grads(second);
    const double halves = 0.5 * (first.template item<double>() + second.template item<double>());
    EXPECT_NEAR(whole.item<double>(), halves, 1e-6);
    for (std::size_t i = 0; i < g_whole.size(); ++i) {
        EXPECT_TRUE(torch::allclose(g_whole[i], 0.5 * (g_first[i] + g_second[i]), 1e-4, 1e-6))
            << "parameter " << i;
    }
    // Other keys, other draws: the comparison can fail.
    TileNoise other({keys[1], keys[0], keys[3], keys[2]});
    EXPECT_GT(std::abs(diffusion.loss(x0, conditions, other).item<double>() - whole.item<double>()),
              1e-4);
}

TEST(Loss, DrawsFollowTheSegments) {
    at::set_num_threads(1);
    const ModelConfig c = tiny_config();
    MultiScaleDiffusion diffusion(tiny_net(c, 46));
    diffusion.net()->eval();
    const auto x0 = clean_batch(kBatch, 47);
    const auto conditions = random_conditions(c, kBatch, kTestHours, 48);
    RecordingNoise top(49);
    (void)diffusion.loss_at_step(x0, conditions, 9, top);
    EXPECT_EQ(top.roles, (std::vector<DrawRole>{DrawRole::kLossNoise, DrawRole::kDiscarded}));
    RecordingNoise bottom(49);
    (void)diffusion.loss_at_step(x0, conditions, 0, bottom);
    EXPECT_EQ(bottom.roles, (std::vector<DrawRole>{DrawRole::kLossNoise}));
    ASSERT_EQ(bottom.draws.size(), 1U);
    EXPECT_EQ(bottom.draws[0].sizes(), x0.sizes());
}

TEST(Loss, ConditionDropoutDrawsOncePerItemAndTeachesTheNullCondition) {
    // train.cond_dropout (classifier-free guidance): one draw per item after the loss noise, in
    // training mode only; a dropped item's loss does not depend on its conditions.
    at::set_num_threads(1);
    ModelConfig c = tiny_config();
    const auto x0 = clean_batch(kBatch, 147);
    const auto conditions = random_conditions(c, kBatch, kTestHours, 148);
    const auto other = random_conditions(c, kBatch, kTestHours, 149);
    const auto loss_with = [&](double dropout, const BatchConditions& given, bool training) {
        c.train.cond_dropout = dropout;
        MultiScaleDiffusion diffusion(tiny_net(c, 146));
        diffusion.net()->train(training);
        RecordingNoise noise(150);
        const double loss = diffusion.loss_at_step(x0, given, 2, noise).item<double>();
        return std::make_pair(loss, noise.roles);
    };
    const auto [kept, kept_roles] = loss_with(0.0, conditions, true);
    EXPECT_EQ(kept_roles, (std::vector<DrawRole>{DrawRole::kLossNoise}));
    const auto [dropped, dropped_roles] = loss_with(0.999999, conditions, true);
    EXPECT_EQ(dropped_roles,
              (std::vector<DrawRole>{DrawRole::kLossNoise, DrawRole::kConditionDropout}));
    EXPECT_EQ(loss_with(0.999999, other, true).first, dropped)
        << "every item dropped: the conditions do not matter";
    EXPECT_NE(loss_with(1e-9, other, true).first, loss_with(1e-9, conditions, true).first)
        << "no item dropped: they do";
    const auto [validation, validation_roles] = loss_with(0.999999, conditions, false);
    EXPECT_EQ(validation_roles, (std::vector<DrawRole>{DrawRole::kLossNoise}))
        << "the validation loss is the conditional one";
    EXPECT_NE(validation, dropped);
}

TEST(Loss, PriorNoiseDrawsForTheFinerSegmentsInTrainingOnly) {
    // train.prior_noise: one draw per item of a segment that has a prior, after its loss noise,
    // in training mode only; the validation loss keeps the clean prior.
    at::set_num_threads(1);
    ModelConfig c = tiny_config();
    const auto x0 = clean_batch(kBatch, 247);
    const auto conditions = random_conditions(c, kBatch, kTestHours, 248);
    const auto loss_with = [&](double sigma, int step, bool training) {
        c.train.prior_noise = sigma;
        MultiScaleDiffusion diffusion(tiny_net(c, 246));
        diffusion.net()->train(training);
        torch::NoGradGuard no_grad;
        RecordingNoise noise(250);
        const double loss = diffusion.loss_at_step(x0, conditions, step, noise).item<double>();
        return std::make_pair(loss, noise.roles);
    };
    const auto [plain, plain_roles] = loss_with(0.0, 0, true);
    EXPECT_EQ(plain_roles, (std::vector<DrawRole>{DrawRole::kLossNoise}));
    const auto [noised, noised_roles] = loss_with(0.5, 0, true);
    EXPECT_EQ(noised_roles, (std::vector<DrawRole>{DrawRole::kLossNoise, DrawRole::kPriorNoise}));
    EXPECT_GT(std::abs(noised - plain), 1e-6 * plain) << "the prior the fusion sees changed";
    const auto [top, top_roles] = loss_with(0.5, 9, true);
    EXPECT_EQ(top_roles, (std::vector<DrawRole>{DrawRole::kLossNoise, DrawRole::kDiscarded}))
        << "segment 0 has no prior to noise";
    const auto [validation, validation_roles] = loss_with(0.5, 0, false);
    EXPECT_EQ(validation_roles, (std::vector<DrawRole>{DrawRole::kLossNoise}));
    EXPECT_EQ(validation, loss_with(0.0, 0, false).first);
}

TEST(Divide, BlockNoiseIsConstantOnBlocksWithTheGivenSpread) {
    const auto gen = GeneratorNoise::cpu_generator(251);
    const auto draws = torch::randn({64, 1, kTestHours, 4, 4}, gen, torch::kFloat);
    for (const auto& [i_t, i_s] : {std::pair{1, 2}, std::pair{2, 1}, std::pair{1, 3}}) {
        const auto noise = block_noise(draws, i_t, i_s, 3, 0.3);
        EXPECT_TRUE(torch::allclose(divide(noise, i_t, i_s, 3), noise, 1e-5, 1e-6))
            << "constant on the blocks of (" << i_t << ", " << i_s << ")";
        EXPECT_NEAR(noise.std().item<double>(), 0.3, 0.03) << i_t << ", " << i_s;
    }
}

TEST(Loss, MatchesTheSpecWithMixedSegments) {
    // MODEL.md §3.5 by hand: steps of six items in all three segments, replayed draws.
    at::set_num_threads(1);
    const ModelConfig c = tiny_config();
    MultiScaleDiffusion diffusion(tiny_net(c, 50));
    auto& net = diffusion.net();
    net->eval();
    const std::int64_t batch = 6;
    const auto x0 = clean_batch(batch, 51);
    const auto conditions = random_conditions(c, batch, kTestHours, 52);
    const std::vector<std::int64_t> steps{10, 2, 5, 9, 0, 6};
    // Items per segment, ascending: segment 0 {0, 3}, segment 1 {2, 5}, segment 2 {1, 4}.
    const std::vector<std::vector<std::int64_t>> items{{0, 3}, {2, 5}, {1, 4}};
    auto gen = seeded(53);
    std::vector<torch::Tensor> draws;
    for (std::size_t s = 0; s < 3; ++s) {
        draws.push_back(torch::randn({2, 1, kTestHours, 4, 4}, gen));
        if (s == 0) {
            draws.push_back(torch::randn({2, 1, kTestHours, 4, 4}, gen));  // discarded
        }
    }
    ReplayNoise replay(draws, torch::tensor(steps));
    const auto loss = diffusion.loss(x0, conditions, replay);
    EXPECT_EQ(replay.used(), draws.size());

    torch::NoGradGuard no_grad;
    auto eps = torch::empty_like(x0);
    auto noisy = torch::empty_like(x0);
    auto prior = torch::zeros_like(x0);
    auto segments = torch::zeros({batch}, torch::kLong);
    std::size_t next_draw = 0;
    for (std::size_t s = 0; s < 3; ++s) {
        const Segment& segment = diffusion.schedule().segments[s];
        const auto& draw = draws[next_draw];
        next_draw += s == 0 ? 2 : 1;
        for (std::size_t j = 0; j < 2; ++j) {
            const auto b = items[s][j];
            const int n = static_cast<int>(steps[static_cast<std::size_t>(b)]);
            ASSERT_TRUE(segment.contains(n));
            const float alpha = segment.alpha_f32[static_cast<std::size_t>(segment.position(n))];
            const auto clean = x0.narrow(0, b, 1);
            const auto target = divide(clean, segment.i_t, segment.i_s, 3);
            const auto e = draw.narrow(0, static_cast<std::int64_t>(j), 1);
            const auto x_n = target * std::sqrt(alpha) + e * std::sqrt(1.0F - alpha);
            eps.narrow(0, b, 1).copy_(e);
            noisy.narrow(0, b, 1).copy_(x_n);
            segments[b].fill_(static_cast<std::int64_t>(s));
            if (s >= 1) {
                const auto coarser = divide(clean, segment.prev_i_t, segment.prev_i_s, 3);
                prior.narrow(0, b, 1).copy_((x_n - coarser * std::sqrt(alpha)) /
                                            std::sqrt(1.0F - alpha));
            }
        }
    }
    const auto predicted =
        net->denoise(noisy, torch::tensor(steps), net->prepare(conditions, segments));
    const auto expected = (net->fuse(predicted, prior) - eps).pow(2).mean();
    EXPECT_NEAR(loss.item<double>(), expected.item<double>(), 1e-5 * expected.item<double>());
}

TEST(Loss, ValidationLossIsTheMeanOverAllSteps) {
    at::set_num_threads(1);
    const ModelConfig c = tiny_config();
    MultiScaleDiffusion diffusion(tiny_net(c, 54));
    auto& net = diffusion.net();
    net->train();
    const auto x0 = clean_batch(kBatch, 55);
    const auto conditions = random_conditions(c, kBatch, kTestHours, 56);
    GeneratorNoise noise(GeneratorNoise::cpu_generator(57));
    const auto validation = diffusion.validation_loss(x0, conditions, noise);
    EXPECT_TRUE(net->is_training());  // the mode is restored

    net->eval();
    torch::NoGradGuard no_grad;
    GeneratorNoise again(GeneratorNoise::cpu_generator(57));
    double sum = 0.0;
    for (int n = 0; n < c.diffusion.num_steps; ++n) {
        sum += diffusion.loss_at_step(x0, conditions, n, again).item<double>();
    }
    EXPECT_NEAR(validation.item<double>(), sum / c.diffusion.num_steps, 1e-6 * sum);
    EXPECT_FALSE(validation.requires_grad());
}

// ---- sampler --------------------------------------------------------------------------------

TEST_F(Sampler, SampleShapesAndSegmentEnds) {
    MultiScaleDiffusion diffusion(tiny_net(config_, 60));
    GeneratorNoise noise(GeneratorNoise::cpu_generator(61));
    const SampleOutput out = diffusion.sample(conditions_, kSamples, noise);
    EXPECT_EQ(out.samples.sizes(),
              (std::vector<std::int64_t>{kBatch, kSamples, 1, kTestHours, 4, 4}));
    EXPECT_EQ(out.segment_ends.sizes(),
              (std::vector<std::int64_t>{kBatch, kSamples, 3, 1, kTestHours, 4, 4}));
    EXPECT_TRUE(torch::isfinite(out.samples).all().item<bool>());
    EXPECT_TRUE(torch::equal(out.segment_ends.select(2, 2), out.samples));
    EXPECT_FALSE(torch::equal(out.segment_ends.select(2, 0), out.samples));
    // Two samples of one tile differ: the generator continues.
    EXPECT_FALSE(torch::equal(out.samples.select(1, 0), out.samples.select(1, 1)));
}

TEST_F(Sampler, SameSeedSameSamplesOtherSeedOtherSamples) {
    MultiScaleDiffusion diffusion(tiny_net(config_, 62));
    GeneratorNoise first(GeneratorNoise::cpu_generator(63));
    GeneratorNoise again(GeneratorNoise::cpu_generator(63));
    GeneratorNoise other(GeneratorNoise::cpu_generator(64));
    const SampleOutput a = diffusion.sample(conditions_, kSamples, first);
    const SampleOutput b = diffusion.sample(conditions_, kSamples, again);
    const SampleOutput d = diffusion.sample(conditions_, kSamples, other);
    EXPECT_TRUE(torch::equal(a.samples, b.samples));
    EXPECT_TRUE(torch::equal(a.segment_ends, b.segment_ends));
    EXPECT_FALSE(torch::equal(a.samples, d.samples));
}

TEST_F(Sampler, SamplerDrawsInTheReferenceOrder) {
    MultiScaleDiffusion diffusion(tiny_net(config_, 65));
    RecordingNoise noise(66);
    const SampleOutput recorded = diffusion.sample(conditions_, kSamples, noise);
    ASSERT_EQ(noise.draws.size(), kSamples * kDrawsPerSample);
    std::vector<DrawRole> one_sample{DrawRole::kStart};
    for (int n = 11; n >= 8; --n) {
        one_sample.push_back(DrawRole::kDiscarded);
        one_sample.push_back(DrawRole::kStepNoise);
    }
    for (int segment = 1; segment < 3; ++segment) {
        one_sample.push_back(DrawRole::kReset);
        for (int k = 0; k < (segment == 1 ? 4 : 3); ++k) {
            one_sample.push_back(DrawRole::kStepNoise);  // none at n = 0
        }
    }
    std::vector<DrawRole> expected = one_sample;
    expected.insert(expected.end(), one_sample.begin(), one_sample.end());
    EXPECT_EQ(noise.roles, expected);
    for (const auto& draw : noise.draws) {
        EXPECT_EQ(draw.sizes(), (std::vector<std::int64_t>{kBatch, 1, kTestHours, 4, 4}));
    }
    // Recording is transparent: a plain generator with that seed gives the same bits.
    GeneratorNoise plain(GeneratorNoise::cpu_generator(66));
    EXPECT_TRUE(
        torch::equal(diffusion.sample(conditions_, kSamples, plain).samples, recorded.samples));
}

TEST_F(Sampler, CoarseSegmentStartIsTheCoarserResultAtTheTopNoiseLevel) {
    // sampler.segment_start: coarse uses the same draws in the same order as the reference's
    // fresh-noise restart; only what a reset draw becomes differs.
    MultiScaleDiffusion diffusion(tiny_net(config_, 71));
    ASSERT_EQ(diffusion.sampler().segment_start, SegmentStart::kNoise)
        << "the reference's sampler by default";
    std::map<int, StepRecord> noise_start;
    std::map<int, StepRecord> coarse_start;
    const auto keep = [](std::map<int, StepRecord>& into) {
        return [&into](const StepRecord& r) {
            StepRecord copy = r;
            copy.current = r.current.clone();
            copy.previous_end = r.previous_end.defined() ? r.previous_end.clone() : r.previous_end;
            into.emplace(r.n, copy);  // the first sample only
        };
    };
    RecordingNoise plain(72);
    const auto reference = diffusion.sample(conditions_, 1, plain, keep(noise_start));
    diffusion.set_sampler(SamplerConfig{SegmentStart::kCoarse});
    RecordingNoise coarse(72);
    const auto ours = diffusion.sample(conditions_, 1, coarse, keep(coarse_start));
    EXPECT_EQ(plain.roles, coarse.roles);
    EXPECT_TRUE(torch::equal(reference.segment_ends.select(2, 0), ours.segment_ends.select(2, 0)))
        << "segment 0 is the reference's";
    EXPECT_FALSE(torch::equal(reference.samples, ours.samples));
    const auto& schedule = diffusion.schedule();
    for (std::size_t i = 1; i < schedule.segments.size(); ++i) {
        const auto& segment = schedule.segments[i];
        const int top = segment.upper - 1;
        const float alpha = segment.alpha_f32[static_cast<std::size_t>(segment.position(top))];
        const auto& ref = noise_start.at(top);
        const auto& got = coarse_start.at(top);
        // The reference starts from the reset draw itself; ours moves it to the coarser result.
        const auto eps = ref.current;
        const auto coarser = divide(got.previous_end, segment.prev_i_t, segment.prev_i_s,
                                    config_.diffusion.spatial_scale_coarse);
        EXPECT_TRUE(torch::allclose(
            got.current, coarser * std::sqrt(alpha) + eps * std::sqrt(1.0F - alpha), 1e-6, 1e-6))
            << "segment " << i;
    }
}

TEST_F(Sampler, StandardisationIsAnAffineMapAroundTheReferenceDiffusion) {
    // diffusion.data_mean / data_std: the loss of x0 is the plain model's loss of (x0 - m) / s and
    // a sample is the plain model's sample times s plus m (same weights, same draws).
    auto standard = config_;
    standard.diffusion.data_mean = 0.25;
    standard.diffusion.data_std = 0.125;  // powers of two: the affine map is exact in float32
    const auto [got, expected] = sample_beside_plain(
        standard, [](const torch::Tensor& x) { return (x - 0.25F) / 0.125F; }, 0.0);
    EXPECT_TRUE(torch::allclose(got.samples, expected.samples * 0.125F + 0.25F, 1e-6, 1e-6));
    EXPECT_TRUE(
        torch::allclose(got.segment_ends, expected.segment_ends * 0.125F + 0.25F, 1e-6, 1e-6));
}

TEST_F(Sampler, HourOfWeekCentringIsAnAffineMapPerHourAroundTheReferenceDiffusion) {
    // diffusion.center: hour_of_week: the loss of x0 is the plain model's loss of
    // (x0 - m[h]) / s with m[h] the hour's mean along the time axis, and a sample is the plain
    // model's sample times s plus m[h] at every scale (same weights, same draws).
    auto hourly = config_;
    hourly.diffusion.standardize = true;
    hourly.diffusion.center = Centering::kHourOfWeek;
    hourly.diffusion.data_std = 0.125;
    std::vector<float> means(kTestHours);
    for (std::int64_t h = 0; h < kTestHours; ++h)
        means[static_cast<std::size_t>(h)] = 0.0625F * static_cast<float>(h % 24) - 0.5F;
    hourly.diffusion.hourly_mean.assign(means.begin(), means.end());
    const auto centre = torch::tensor(means).view({kTestHours, 1, 1});
    const auto [got, expected] = sample_beside_plain(
        hourly, [&centre](const torch::Tensor& x) { return (x - centre) / 0.125F; }, 1e-6);
    EXPECT_TRUE(torch::allclose(got.samples, expected.samples * 0.125F + centre, 1e-5, 1e-6));
    EXPECT_TRUE(
        torch::allclose(got.segment_ends, expected.segment_ends * 0.125F + centre, 1e-5, 1e-6));
    // The hours' own means reach every hour: the sample's hour-of-day mean follows them.
    const auto by_hour = (got.samples - expected.samples * 0.125F).mean({0, 1, 2, 4, 5});
    EXPECT_NEAR(by_hour[23].item<float>() - by_hour[0].item<float>(), 0.0625F * 23, 1e-4);

    expect_hourly_values_checked(hourly, &DiffusionConfig::hourly_mean);
}

TEST_F(Sampler, HourOfWeekSpreadIsAnAffineMapPerHourAroundTheReferenceDiffusion) {
    // diffusion.spread: hour_of_week: the loss of x0 is the plain model's loss of
    // (x0 - m[h]) / s[h] and a sample is the plain model's sample times s[h] plus m[h] at every
    // scale (same weights, same draws); data_std is not used.
    auto scaled = config_;
    scaled.diffusion.standardize = true;
    scaled.diffusion.center = Centering::kHourOfWeek;
    scaled.diffusion.spread = Spread::kHourOfWeek;
    scaled.diffusion.data_std = 3.0;
    std::vector<float> means(kTestHours);
    std::vector<float> spreads(kTestHours);
    for (std::int64_t h = 0; h < kTestHours; ++h) {
        means[static_cast<std::size_t>(h)] = 0.0625F * static_cast<float>(h % 24) - 0.5F;
        // powers of two: the affine map is exact in float32
        spreads[static_cast<std::size_t>(h)] = h % 3 == 0 ? 0.125F : (h % 3 == 1 ? 0.25F : 2.0F);
    }
    scaled.diffusion.hourly_mean.assign(means.begin(), means.end());
    scaled.diffusion.hourly_std.assign(spreads.begin(), spreads.end());
    const auto centre = torch::tensor(means).view({kTestHours, 1, 1});
    const auto spread = torch::tensor(spreads).view({kTestHours, 1, 1});
    const auto [got, expected] = sample_beside_plain(
        scaled, [&](const torch::Tensor& x) { return (x - centre) / spread; }, 1e-6);
    EXPECT_TRUE(torch::allclose(got.samples, expected.samples * spread + centre, 1e-5, 1e-6));
    EXPECT_TRUE(
        torch::allclose(got.segment_ends, expected.segment_ends * spread + centre, 1e-5, 1e-6));

    expect_hourly_values_checked(scaled, &DiffusionConfig::hourly_std);
}

TEST_F(Sampler, LogTransformDiffusesLogValuesAndReportsBlockMeansOfTheFineResult) {
    // diffusion.transform: log: the loss of x0 is the plain model's loss of
    // (log1p(x0 / kappa) - m) / s; a sample is kappa * expm1 of the plain model's (clamped at 0),
    // and every segment end is the final 500 m sample (the coarser scales are its block means).
    auto logged = config_;
    logged.diffusion.standardize = true;
    logged.diffusion.transform = ValueTransform::kLog;
    logged.diffusion.log_scale = 0.0625;
    logged.diffusion.data_mean = 1.5;
    logged.diffusion.data_std = 0.5;
    const auto [got, expected] = sample_beside_plain(
        logged, [](const torch::Tensor& x) { return (torch::log1p(x / 0.0625F) - 1.5F) / 0.5F; },
        1e-6);
    const auto back = torch::expm1((expected.samples * 0.5F + 1.5F).clamp_min(0.0F)) * 0.0625F;
    EXPECT_TRUE(torch::allclose(got.samples, back, 1e-5, 1e-6));
    EXPECT_GE(got.samples.min().item<float>(), 0.0F) << "no negative counts";
    for (std::int64_t j = 0; j < got.segment_ends.size(2); ++j) {
        EXPECT_TRUE(torch::equal(got.segment_ends.select(2, j), got.samples)) << "segment " << j;
    }
    // A config that asks for the transform without a measured kappa cannot sample.
    logged.diffusion.log_scale = 0.0;
    EXPECT_THROW(MultiScaleDiffusion(tiny_net(logged, 73)), std::invalid_argument);
}

TEST_F(Sampler, ClippedCleanSeriesIsTheReferenceUpdateWhereNothingIsClamped) {
    // sampler.clip_x0 steps to the posterior mean from the clamped clean estimate. Where the clamp
    // does nothing it is the reference's update in another, algebraically equal, form: with
    // data_mean 0.5 and data_std 2^-10 the bounds are +-512 in the diffusion's units.
    auto wide = config_;
    wide.diffusion.data_mean = 0.5;
    wide.diffusion.data_std = 1.0 / 1024.0;
    MultiScaleDiffusion plain(tiny_net(wide, 77));
    RecordingNoise reference_draws(78);
    const auto reference = plain.sample(conditions_, 1, reference_draws);
    MultiScaleDiffusion clipped(tiny_net(wide, 77));
    clipped.set_sampler(SamplerConfig{SegmentStart::kNoise, /*clip_x0=*/true});
    RecordingNoise clipped_draws(78);
    const auto got = clipped.sample(conditions_, 1, clipped_draws);
    EXPECT_EQ(reference_draws.roles, clipped_draws.roles);
    const auto units = [](const torch::Tensor& x) { return (x - 0.5F) * 1024.0F; };
    EXPECT_TRUE(torch::allclose(units(got.samples), units(reference.samples), 1e-3, 1e-3))
        << "largest difference "
        << (units(got.samples) - units(reference.samples)).abs().max().item<float>();

    // With the data's own range [0, 1] (mean 0, std 1) the clamp acts, and changes the samples.
    MultiScaleDiffusion narrow(tiny_net(config_, 77));
    RecordingNoise narrow_draws(78);
    const auto unclamped = narrow.sample(conditions_, 1, narrow_draws);
    narrow.set_sampler(SamplerConfig{SegmentStart::kNoise, /*clip_x0=*/true});
    RecordingNoise again(78);
    const auto clamped = narrow.sample(conditions_, 1, again);
    EXPECT_TRUE(torch::isfinite(clamped.samples).all().item<bool>());
    EXPECT_FALSE(torch::allclose(clamped.samples, unclamped.samples, 1e-3, 1e-3));
}

/// Every step record of the first sample, copied (the sampler reuses its tensors).
StepObserver keep_records(std::vector<StepRecord>& into, std::int64_t steps_per_sample) {
    return [&into, steps_per_sample](const StepRecord& r) {
        if (static_cast<std::int64_t>(into.size()) >= steps_per_sample)
            return;
        StepRecord copy = r;
        copy.current = r.current.clone();
        copy.next = r.next.clone();
        into.push_back(std::move(copy));
    };
}

TEST_F(Sampler, RespacedSamplingVisitsTheKeptStepsWithTheirRebuiltSchedule) {
    // T = 12 in segments of 4 steps: at 2 steps per segment the sampler visits each segment's top
    // and last steps, and a step from position k to k' uses beta' = 1 - alpha-bar_k / alpha-bar_k'.
    MultiScaleDiffusion diffusion(tiny_net(config_, 81));
    GeneratorNoise full_noise(GeneratorNoise::cpu_generator(82));
    const auto full = diffusion.sample(conditions_, 1, full_noise);
    EXPECT_EQ(diffusion.calls_per_sample(), 12);
    for (const int every :
         {4, 100}) {  // at least the segment's length: the full schedule, same bits
        SamplerConfig sampler;
        sampler.steps_per_segment = every;
        diffusion.set_sampler(sampler);
        GeneratorNoise noise(GeneratorNoise::cpu_generator(82));
        EXPECT_TRUE(torch::equal(diffusion.sample(conditions_, 1, noise).samples, full.samples))
            << every;
    }

    SamplerConfig respaced;
    respaced.steps_per_segment = 2;
    diffusion.set_sampler(respaced);
    EXPECT_EQ(diffusion.calls_per_sample(), 6);
    RecordingNoise noise(82);
    std::vector<StepRecord> records;
    const auto out = diffusion.sample(conditions_, 1, noise, keep_records(records, 6));
    std::vector<int> visited;
    for (const auto& r : records)
        visited.push_back(r.n);
    EXPECT_EQ(visited, (std::vector<int>{11, 8, 7, 4, 3, 0}));
    EXPECT_EQ(noise.roles,
              (std::vector<DrawRole>{DrawRole::kStart, DrawRole::kDiscarded, DrawRole::kStepNoise,
                                     DrawRole::kDiscarded, DrawRole::kStepNoise, DrawRole::kReset,
                                     DrawRole::kStepNoise, DrawRole::kStepNoise, DrawRole::kReset,
                                     DrawRole::kStepNoise}));
    for (std::size_t j = 0; j < records.size(); ++j) {
        const auto& r = records[j];
        const auto& segment = *r.segment;
        const auto k = static_cast<std::size_t>(segment.position(r.n));
        const std::size_t k_to = k == 1 ? 0 : 1;  // top -> last visited -> position 0
        const double alpha_hat = segment.alpha[k] / segment.alpha[k_to];
        EXPECT_NEAR(r.coeff1, 1.0 / std::sqrt(alpha_hat), 1e-9) << "n " << r.n;
        if (r.n > 0) {
            const double sigma2 =
                (1.0 - segment.alpha[k_to]) / (1.0 - segment.alpha[k]) * (1.0 - alpha_hat);
            EXPECT_NEAR(r.sigma, std::sqrt(sigma2), 1e-5) << "n " << r.n;
        }
        const auto update = (r.current - r.fused * r.coeff2) * static_cast<float>(r.coeff1) +
                            r.added_noise * r.sigma;
        EXPECT_LT((update - r.next).abs().max().item<double>(), 1e-5) << "n " << r.n;
        if (j + 1 < records.size() && records[j + 1].segment == r.segment) {
            EXPECT_TRUE(torch::equal(records[j + 1].current, r.next));
        }
    }
    EXPECT_TRUE(torch::equal(out.samples.select(1, 0), records.back().next));
    EXPECT_FALSE(torch::equal(out.samples, full.samples));
}

TEST_F(Sampler, DdimIsDeterministicAtEtaZeroAndAncestralAtEtaOne) {
    MultiScaleDiffusion diffusion(tiny_net(config_, 83));
    RecordingNoise ddpm_noise(84);
    const auto ddpm = diffusion.sample(conditions_, 1, ddpm_noise);

    SamplerConfig ddim;
    ddim.method = SamplerMethod::kDdim;
    diffusion.set_sampler(ddim);
    RecordingNoise noise(84);
    std::vector<StepRecord> records;
    const auto deterministic = diffusion.sample(conditions_, 1, noise, keep_records(records, 12));
    EXPECT_EQ(noise.roles, ddpm_noise.roles) << "the same draws in the same order";
    for (const auto& r : records) {
        // x_prev = sqrt(ab_prev) x0 + sqrt(1 - ab_prev) eps, x0 = (x - sqrt(1 - ab) eps) /
        // sqrt(ab).
        const auto k = static_cast<std::size_t>(r.segment->position(r.n));
        const double ab = r.segment->alpha_f32[k];
        const double ab_prev = r.segment->alpha[k - 1];
        const auto x0 = (r.current - r.fused * std::sqrt(1.0 - ab)) / std::sqrt(ab);
        const auto expected = x0 * std::sqrt(ab_prev) + r.fused * std::sqrt(1.0 - ab_prev);
        EXPECT_LT((expected - r.next).abs().max().item<double>(), 1e-4) << "n " << r.n;
        EXPECT_EQ(r.sigma, 0.0F);
    }
    // At eta 0 the step noise does not matter: other step draws, the same samples.
    auto draws = noise.draws;
    for (std::size_t i = 0; i < draws.size(); ++i) {
        if (noise.roles[i] == DrawRole::kStepNoise)
            draws[i] = draws[i] + 1.0;
    }
    ReplayNoise replay(draws);
    EXPECT_TRUE(
        torch::equal(diffusion.sample(conditions_, 1, replay).samples, deterministic.samples));
    EXPECT_FALSE(torch::allclose(deterministic.samples, ddpm.samples, 1e-3, 1e-3));

    // At eta 1, DDIM's step is the ancestral one (Song et al. 2021, §4.1): the DDPM sample again.
    ddim.eta = 1.0;
    diffusion.set_sampler(ddim);
    RecordingNoise again(84);
    const auto ancestral = diffusion.sample(conditions_, 1, again);
    EXPECT_TRUE(torch::allclose(ancestral.samples, ddpm.samples, 1e-4, 1e-4))
        << "largest difference " << (ancestral.samples - ddpm.samples).abs().max().item<float>();
}

TEST_F(Sampler, ReplayedDrawsReproduceTheSample) {
    MultiScaleDiffusion diffusion(tiny_net(config_, 67));
    RecordingNoise noise(68);
    const SampleOutput recorded = diffusion.sample(conditions_, kSamples, noise);
    ReplayNoise replay(noise.draws);
    const SampleOutput replayed = diffusion.sample(conditions_, kSamples, replay);
    EXPECT_EQ(replay.used(), noise.draws.size());
    EXPECT_TRUE(torch::equal(replayed.samples, recorded.samples));
    EXPECT_TRUE(torch::equal(replayed.segment_ends, recorded.segment_ends));
    // Draw 4 is the step noise of n = 10, draw 5 the discarded draw of n = 9 (segment 0):
    // changing the first changes the samples, changing the second does not.
    ASSERT_EQ(noise.roles[4], DrawRole::kStepNoise);
    ASSERT_EQ(noise.roles[5], DrawRole::kDiscarded);
    auto step_changed = noise.draws;
    step_changed[4] = step_changed[4] + 1.0;
    ReplayNoise replay_step(step_changed);
    EXPECT_FALSE(torch::equal(diffusion.sample(conditions_, kSamples, replay_step).samples,
                              recorded.samples));
    auto discarded_changed = noise.draws;
    discarded_changed[5] = discarded_changed[5] + 1.0;
    ReplayNoise replay_discarded(discarded_changed);
    EXPECT_TRUE(torch::equal(diffusion.sample(conditions_, kSamples, replay_discarded).samples,
                             recorded.samples));
}

TEST_F(Sampler, ReplayWithTooFewDrawsThrows) {
    MultiScaleDiffusion diffusion(tiny_net(config_, 69));
    RecordingNoise noise(70);
    (void)diffusion.sample(conditions_, 1, noise);
    auto draws = noise.draws;
    draws.pop_back();
    ReplayNoise short_replay(draws);
    EXPECT_THROW(diffusion.sample(conditions_, 1, short_replay), std::exception);
    // A draw of another shape is refused as well.
    auto wrong = noise.draws;
    wrong[0] = torch::zeros({kBatch, 1, kTestHours, 2, 2});
    ReplayNoise wrong_replay(wrong);
    EXPECT_THROW(diffusion.sample(conditions_, 1, wrong_replay), std::exception);
}

TEST_F(Sampler, ObserverSeesEveryStepInOrder) {
    MultiScaleDiffusion diffusion(tiny_net(config_, 71));
    RecordingNoise noise(72);
    std::vector<StepRecord> records;
    const SampleOutput out =
        diffusion.sample(conditions_, kSamples, noise, [&](const StepRecord& r) {
            StepRecord copy = r;
            copy.current = r.current.clone();
            copy.next = r.next.clone();
            records.push_back(std::move(copy));
        });
    const int steps = config_.diffusion.num_steps;
    ASSERT_EQ(records.size(), static_cast<std::size_t>(steps * kSamples));
    std::size_t reset_draw = 0;
    for (std::int64_t s = 0; s < kSamples; ++s) {
        for (int j = 0; j < steps; ++j) {
            const StepRecord& r = records[static_cast<std::size_t>(s * steps + j)];
            const int n = steps - 1 - j;
            ASSERT_EQ(r.n, n);
            ASSERT_NE(r.segment, nullptr);
            EXPECT_TRUE(r.segment->contains(n));
            EXPECT_EQ(r.sigma > 0.0F, n > 0) << "n " << n;
            EXPECT_EQ(all_zero(r.added_noise), n == 0) << "n " << n;
            EXPECT_EQ(all_zero(r.noise_prior), r.segment->index == 0) << "n " << n;
            // §3.7 f-g: next = fl32(c1) (current - c2 fused) + sigma xi.
            const auto update = (r.current - r.fused * r.coeff2) * static_cast<float>(r.coeff1) +
                                r.added_noise * r.sigma;
            EXPECT_LT((update - r.next).abs().max().item<double>(), 1e-5) << "n " << n;
            if (j + 1 < steps) {
                const StepRecord& following = records[static_cast<std::size_t>(s * steps + j + 1)];
                if (following.segment == r.segment) {
                    EXPECT_TRUE(torch::equal(following.current, r.next)) << "n " << n;
                } else {
                    // A new segment restarts from a fresh draw, not from the end state.
                    while (reset_draw < noise.roles.size() &&
                           noise.roles[reset_draw] != DrawRole::kReset) {
                        ++reset_draw;
                    }
                    ASSERT_LT(reset_draw, noise.draws.size()) << "no reset draw before n " << n;
                    EXPECT_TRUE(torch::equal(following.current, noise.draws[reset_draw]))
                        << "n " << n;
                    ++reset_draw;
                    EXPECT_TRUE(torch::equal(following.previous_end, r.next));
                }
            }
            if (n == r.segment->lower) {
                EXPECT_TRUE(torch::equal(out.segment_ends.select(1, s).select(1, r.segment->index),
                                         r.next));
            }
        }
    }
}

TEST_F(Sampler, GuidanceExtrapolatesFromTheNullConditionBeforeTheFusion) {
    // sampler.guidance w: e = e(c) + w (e(c) - e(null)) at every step, twice the network calls.
    config_.train.cond_dropout = 0.1;
    MultiScaleDiffusion plain(tiny_net(config_, 171));
    config_.sampler.guidance = 2.0;
    MultiScaleDiffusion guided(tiny_net(config_, 171));
    EXPECT_EQ(guided.calls_per_sample(), 2 * plain.calls_per_sample());
    auto null_conditions = conditions_;
    null_conditions.unconditional = torch::ones({kBatch}, torch::kBool);
    std::size_t checked = 0;
    RecordingNoise noise(172);
    const auto out = guided.sample(conditions_, 1, noise, [&](const StepRecord& r) {
        const auto segment = static_cast<std::int64_t>(r.segment->index);
        const auto step = torch::full({1}, r.n, torch::kLong);
        auto net = guided.net();
        const auto with = net->denoise(r.current, step, net->prepare(conditions_, segment));
        const auto without = net->denoise(r.current, step, net->prepare(null_conditions, segment));
        const auto expected = with + 2.0F * (with - without);
        EXPECT_LT((r.predicted - expected).abs().max().item<double>(), 1e-5) << "n " << r.n;
        EXPECT_GT((with - without).abs().max().item<double>(), 0.0) << "the conditions matter";
        ++checked;
    });
    EXPECT_EQ(checked, static_cast<std::size_t>(config_.diffusion.num_steps));
    RecordingNoise same(172);
    EXPECT_FALSE(torch::equal(plain.sample(conditions_, 1, same).samples, out.samples));
    EXPECT_EQ(same.roles, noise.roles) << "guidance draws nothing of its own";
}

TEST_F(Sampler, SamplingKeepsTheModeAndTracksNoGradients) {
    MultiScaleDiffusion diffusion(tiny_net(config_, 73));
    diffusion.net()->train();
    GeneratorNoise noise(GeneratorNoise::cpu_generator(74));
    const SampleOutput out = diffusion.sample(conditions_, 1, noise);
    EXPECT_TRUE(diffusion.net()->is_training());
    EXPECT_FALSE(out.samples.requires_grad());
}

}  // namespace
}  // namespace zoomdiff::model
