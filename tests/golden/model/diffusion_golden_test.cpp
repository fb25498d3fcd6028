// Golden parity of the diffusion in model_small.h5: the sampling run (golden/README.md (h)) and
// the losses (i). Steps, draws and losses are enumerated from the file's groups.

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "golden/model/model_golden_support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/model/diffusion.hpp"

namespace zoomdiff::test {
namespace {

using model::DrawRole;

std::vector<torch::Tensor> recorded_draws(const std::string& group, const std::string& prefix) {
    std::vector<torch::Tensor> draws;
    for (const auto& name : children_with_prefix(group, prefix)) {
        if (name.find_first_not_of("0123456789", prefix.size()) != std::string::npos)
            continue;
        draws.push_back(read_float(group + "/" + name));
    }
    return draws;
}

/// Draws from a seeded generator and keeps every draw with its role.
class RecordingNoise : public model::GeneratorNoise {
public:
    using GeneratorNoise::GeneratorNoise;

    torch::Tensor normal(at::IntArrayRef shape, DrawRole role) override {
        auto draw = GeneratorNoise::normal(shape, role);
        draws.push_back(draw.clone());
        roles.push_back(role);
        return draw;
    }

    std::vector<torch::Tensor> draws;
    std::vector<DrawRole> roles;
};

torch::Tensor indices_of(const std::vector<DrawRole>& roles, DrawRole wanted) {
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < roles.size(); ++i) {
        if (roles[i] == wanted)
            out.push_back(static_cast<std::int64_t>(i));
    }
    return torch::tensor(out, torch::kLong);
}

struct SamplingRun {
    model::SampleOutput output;
    std::map<int, model::StepRecord> steps;  // segment pointers re-aimed at `schedule`
    std::vector<int> order;
    model::MultiScaleSchedule schedule;
};

SamplingRun run_sampler(model::NoiseSource& noise) {
    auto net = golden_net();
    model::MultiScaleDiffusion diffusion(net);
    SamplingRun run;
    const auto observer = [&run](const model::StepRecord& record) {
        auto copy = record;
        for (auto* t :
             {&copy.current, &copy.noise_prior, &copy.predicted, &copy.fused, &copy.added_noise,
              &copy.next, &copy.previous_end, &copy.previous_divided}) {
            if (t->defined())
                *t = t->clone();
        }
        copy.segment = nullptr;
        run.order.push_back(record.n);
        run.steps[record.n] = copy;
    };
    run.schedule = diffusion.schedule();
    run.output = diffusion.sample(golden_conditions("/impute"),
                                  model_golden().attr_int("/impute", "n_samples"), noise, observer);
    for (auto& [n, record] : run.steps)
        record.segment = &run.schedule.segment_of(n);
    return run;
}

void expect_step_matches(const model::StepRecord& ours, const std::string& group) {
    const auto& file = model_golden();
    const auto& segment = *ours.segment;
    EXPECT_EQ(segment.index, file.attr_int(group, "segment")) << group;
    EXPECT_EQ(segment.lower, file.attr_int(group, "lower")) << group;
    EXPECT_EQ(segment.upper, file.attr_int(group, "upper")) << group;
    EXPECT_EQ(segment.i_t, file.attr_int(group, "i_t")) << group;
    EXPECT_EQ(segment.i_s, file.attr_int(group, "i_s")) << group;
    const auto k = static_cast<std::size_t>(segment.position(ours.n));
    EXPECT_EQ(static_cast<std::int64_t>(k), file.attr_int(group, "index_in_segment")) << group;
    EXPECT_EQ(static_cast<double>(segment.alpha_f32[k]), file.attr_double(group, "alpha_n_f32"))
        << group;
    EXPECT_EQ(segment.alpha_hat[k], file.attr_double(group, "alpha_hat_f64")) << group;
    EXPECT_EQ(segment.beta[k], file.attr_double(group, "beta_f64")) << group;
    EXPECT_NEAR(ours.coeff1, file.attr_double(group, "coeff1"), 1e-15) << group;
    EXPECT_EQ(static_cast<double>(ours.coeff2), file.attr_double(group, "coeff2")) << group;
    EXPECT_EQ(static_cast<double>(ours.sigma), file.attr_double(group, "sigma")) << group;

    const std::map<std::string, torch::Tensor> arrays = {
        {"current_sample", ours.current},
        {"noise_prior", ours.noise_prior},
        {"predicted", ours.predicted},
        {"noise_infused", ours.fused},
        {"z", ours.added_noise},
        {"next_sample", ours.next},
        {"previous_scale_sample", ours.previous_end},
        {"previous_scale_divided", ours.previous_divided}};
    for (const auto& name : file.children(group)) {
        const auto found = arrays.find(name);
        ASSERT_NE(found, arrays.end()) << group << "/" << name << " has no counterpart";
        ASSERT_TRUE(found->second.defined()) << group << "/" << name;
        expect_close(found->second, read_float(group + "/" + name), kSamplingTol,
                     group + "/" + name);
    }
}

// (h) The recorded draws replayed through our sampler: every chosen step, the whole trajectory,
// the final and per-segment samples.
TEST(GoldenModel_sampling, ReplayedDrawsReproduceEveryRecordedStep) {
    model::ReplayNoise replay(recorded_draws("/impute/draws", ""));
    const auto run = run_sampler(replay);
    EXPECT_EQ(static_cast<std::int64_t>(replay.used()),
              model_golden().attr_int("/impute/draws", "count"));

    expect_close(run.output.samples, read_float("/impute/imputed_samples"), kSamplingTol,
                 "imputed_samples");
    expect_close(run.output.segment_ends, read_float("/impute/sample_scale_save"), kSamplingTol,
                 "sample_scale_save");

    const auto traj_steps = read_long("/impute/traj_step");
    const auto traj = read_float("/impute/traj_x_in");
    ASSERT_EQ(static_cast<std::int64_t>(run.order.size()), traj_steps.size(0));
    for (std::int64_t i = 0; i < traj_steps.size(0); ++i) {
        const int n = static_cast<int>(traj_steps[i].item<std::int64_t>());
        EXPECT_EQ(run.order[static_cast<std::size_t>(i)], n);
        expect_close(run.steps.at(n).current, traj[i], kSamplingTol,
                     "traj_x_in[" + std::to_string(i) + "]");
    }

    const auto chosen = children_with_prefix("/impute/steps", "n");
    ASSERT_FALSE(chosen.empty());
    for (const auto& name : chosen) {
        const auto group = "/impute/steps/" + name;
        const int n = static_cast<int>(model_golden().attr_int(group, "n"));
        expect_step_matches(run.steps.at(n), group);
    }
}

// A generator seeded as the reference's draws the same noise, in the same roles.
TEST(GoldenModel_sampling, SeededGeneratorReproducesTheReferenceDraws) {
    const auto seed = static_cast<std::uint64_t>(model_golden().attr_int("/impute", "rng_seed"));
    RecordingNoise noise(model::GeneratorNoise::cpu_generator(seed));
    const auto run = run_sampler(noise);

    const auto expected = recorded_draws("/impute/draws", "");
    ASSERT_EQ(noise.draws.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        expect_identical(noise.draws[i], expected[i], "draw " + std::to_string(i));
    }
    const auto kinds = model_golden().read_strings("/impute/draws/kinds");
    ASSERT_EQ(kinds.size(), noise.roles.size());
    for (std::size_t i = 0; i < kinds.size(); ++i) {
        const bool fresh = noise.roles[i] == DrawRole::kStart || noise.roles[i] == DrawRole::kReset;
        EXPECT_EQ(kinds[i], fresh ? "randn" : "randn_like") << "draw " << i;
    }
    expect_identical(indices_of(noise.roles, DrawRole::kStepNoise),
                     read_long("/impute/draw_roles/z_draw_index"), "z_draw_index");
    expect_identical(indices_of(noise.roles, DrawRole::kDiscarded),
                     read_long("/impute/draw_roles/dummy_draw_index"), "dummy_draw_index");
    expect_identical(indices_of(noise.roles, DrawRole::kReset),
                     read_long("/impute/draw_roles/reset_draw_index"), "reset_draw_index");
    expect_close(run.output.samples, read_float("/impute/imputed_samples"), kSamplingTol,
                 "seeded imputed_samples");
    expect_close(run.output.segment_ends, read_float("/impute/sample_scale_save"), kSamplingTol,
                 "seeded sample_scale_save");
}

// (i) The loss with every item at step n, from the recorded draws.
TEST(GoldenModel_losses, EveryRecordedStep) {
    auto net = golden_net();
    model::MultiScaleDiffusion diffusion(net);
    const auto conditions = golden_conditions("/denoiser");
    const auto data = read_float("/calc_loss/observed_data");
    const auto groups = children_with_prefix("/calc_loss", "n");
    ASSERT_FALSE(groups.empty());
    torch::NoGradGuard no_grad;
    for (const auto& name : groups) {
        const auto group = "/calc_loss/" + name;
        const int n = std::stoi(name.substr(1));
        model::ReplayNoise replay(recorded_draws(group, "draw"));
        const double loss = diffusion.loss_at_step(data, conditions, n, replay).item<double>();
        const double expected = model_golden().attr_double(group, "loss");
        ++compared_arrays();
        EXPECT_LE(std::abs(loss - expected), kSinglePassTol * std::max(1.0, std::abs(expected)))
            << name << ": ours " << loss << ", golden " << expected;
        EXPECT_EQ(static_cast<std::int64_t>(replay.used()),
                  model_golden().attr_int(group, "n_draws"))
            << name;
    }
}

}  // namespace
}  // namespace zoomdiff::test
