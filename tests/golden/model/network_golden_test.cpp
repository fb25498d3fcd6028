// Golden parity of the network parts of model_small.h5 (golden/README.md (a)-(g)). Everything is
// enumerated from the file: keys, datasets, levels, steps; nothing about the configuration is a
// constant here.

#include <cstdint>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "golden/model/model_golden_support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/model/diffusion.hpp"
#include "zoomdiff/model/network.hpp"
#include "zoomdiff/model/schedule.hpp"

namespace zoomdiff::test {
namespace {

using model::ZoomDiffNet;

std::vector<std::int64_t> parse_shape(const std::string& text) {
    std::vector<std::int64_t> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = text.find('x', start);
        out.push_back(std::stoll(text.substr(start, end - start)));
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    return out;
}

// (a) Every reference key exists in ours with the same shape; the parameter count matches; a
// network built from the file's seed reproduces the reference's initial weights and tables.
TEST(GoldenModel_state_dict, KeysShapesAndCount) {
    ZoomDiffNet net(golden_config());
    const auto params = net->named_parameters();
    const auto keys = model_golden().read_strings("/state_dict_keys");
    EXPECT_EQ(static_cast<std::int64_t>(keys.size()),
              model_golden().attr_int("/state_dict", "n_keys"));
    std::set<std::string> reference;
    for (const auto& line : keys) {
        const auto tab = line.find('\t');
        const auto key = line.substr(0, tab);
        const auto shape = line.substr(tab + 1, line.find('\t', tab + 1) - tab - 1);
        reference.insert(key);
        const auto* ours = params.find(key);
        ASSERT_NE(ours, nullptr) << "reference key missing in ours: " << key;
        EXPECT_EQ(ours->sizes().vec(), parse_shape(shape)) << key;
    }
    for (const auto& p : params) {
        if (reference.count(p.key()) == 0)
            EXPECT_EQ(p.key(), "spatial_embedding") << "extra parameter";
    }
    EXPECT_EQ(net->reference_parameter_count(),
              model_golden().attr_int("/state_dict", "n_params_trainable"));
    EXPECT_EQ(net->spatial_embedding.sizes(), read_float("/spatial_embedding").sizes());
}

TEST(GoldenModel_state_dict, SeededConstructionEqualsReference) {
    ZoomDiffNet net(golden_config());
    auto generator = model::GeneratorNoise::cpu_generator(
        static_cast<std::uint64_t>(model_golden().attr_int("/", "seed_before_construction")));
    net->reset_parameters(generator);
    // The golden file overwrote one weight after construction ("<key> := ..."); its value at
    // construction is stored beside it.
    const auto note = model_golden().attr_string("/state_dict", "overwritten_after_init");
    const auto overwritten = note.substr(0, note.find(" :="));
    const auto params = net->named_parameters();
    for (const auto& key : model_golden().children("/state_dict")) {
        const auto* ours = params.find(key);
        ASSERT_NE(ours, nullptr) << key;
        if (key == overwritten) {
            expect_identical(*ours, read_float("/output_projection2_weight_at_init"),
                             key + " at construction");
        } else {
            expect_identical(*ours, read_float("/state_dict/" + key), key);
        }
    }
    expect_identical(net->spatial_embedding, read_float("/spatial_embedding"), "spatial_embedding");
}

// (b) The schedule, exact.
TEST(GoldenModel_schedule, BoundariesLabelsAndSegments) {
    const auto schedule = model::make_schedule(golden_config().diffusion);
    const auto as_long = [](const std::vector<int>& v) {
        return torch::tensor(std::vector<std::int64_t>(v.begin(), v.end()), torch::kLong);
    };
    expect_identical(as_long(schedule.step_list), read_long("/schedule/step_list"), "step_list");
    expect_identical(as_long(schedule.time_step_list), read_long("/schedule/time_step_list"),
                     "time_step_list");
    expect_identical(as_long(schedule.spatial_step_list), read_long("/schedule/spatial_step_list"),
                     "spatial_step_list");
    expect_identical(as_long(schedule.combined_values), read_long("/schedule/combined_step_values"),
                     "combined_step_values");
    expect_identical(as_long(schedule.t_labels), read_long("/schedule/t_scale_labels"),
                     "t_scale_labels");
    expect_identical(as_long(schedule.s_labels), read_long("/schedule/s_scale_labels"),
                     "s_scale_labels");
    EXPECT_EQ(schedule.combined_labels,
              model_golden().read_strings("/schedule/combined_step_labels"));
    ++compared_arrays();

    const auto segments = children_with_prefix("/schedule", "segment_");
    ASSERT_EQ(segments.size(), schedule.segments.size());
    EXPECT_EQ(static_cast<std::int64_t>(segments.size()),
              model_golden().attr_int("/schedule", "n_segments"));
    for (const auto& name : segments) {
        const auto group = "/schedule/" + name;
        const auto& ours = schedule.segments.at(std::stoul(name.substr(name.find('_') + 1)));
        EXPECT_EQ(ours.upper, model_golden().attr_int(group, "upper")) << name;
        EXPECT_EQ(ours.lower, model_golden().attr_int(group, "lower")) << name;
        EXPECT_EQ(ours.i_t, model_golden().attr_int(group, "i_t")) << name;
        EXPECT_EQ(ours.i_s, model_golden().attr_int(group, "i_s")) << name;
        const auto doubles = [](const std::vector<double>& v) {
            return torch::tensor(v, torch::kDouble);
        };
        expect_identical(doubles(ours.beta), read_double(group + "/beta"), name + "/beta");
        expect_identical(doubles(ours.alpha_hat), read_double(group + "/alpha_hat"),
                         name + "/alpha_hat");
        expect_identical(doubles(ours.alpha), read_double(group + "/alpha"), name + "/alpha");
        expect_identical(torch::tensor(at::ArrayRef<float>(ours.alpha_f32), torch::kFloat),
                         read_float(group + "/alpha_torch_f32"), name + "/alpha_torch_f32");
    }
}

// (c), (g) The two sinusoidal tables.
TEST(GoldenModel_embeddings, DiffusionStepAndTimeTables) {
    auto net = golden_net();
    expect_close(net->diffmodel->diffusion_embedding->table(),
                 read_float("/diffusion_embedding_table"), kSinglePassTol,
                 "diffusion_embedding_table");
    const auto expected = read_float("/time_embedding");
    const auto positions = torch::arange(expected.size(0), torch::kFloat).unsqueeze(0);
    expect_close(net->time_embedding(positions)[0], expected, kSinglePassTol, "time_embedding");
}

// (d) One denoiser pass: side information, step embedding, block 0, outputs.
TEST(GoldenModel_denoiser, SideInfoStepEmbeddingBlocksAndOutput) {
    auto net = golden_net();
    const auto conditions = golden_conditions("/denoiser");
    const auto x = read_float("/denoiser/x");
    const auto steps = read_long("/denoiser/diffusion_step");

    for (const auto& name : children_with_prefix("/denoiser", "side_info_level")) {
        const auto level = std::stoll(name.substr(std::string("side_info_level").size()));
        expect_close(net->side_info(conditions.timepoints, level), read_float("/denoiser/" + name),
                     kSinglePassTol, name);
    }
    {
        torch::NoGradGuard no_grad;
        expect_close(net->diffmodel->diffusion_embedding(steps),
                     read_float("/denoiser/diffusion_emb_after_mlp"), kSinglePassTol,
                     "diffusion_emb_after_mlp");
    }

    torch::NoGradGuard no_grad;
    const auto level = model_golden().attr_int("/denoiser/output", "side_info_level");
    std::vector<model::BlockOutput> blocks;
    const auto output = net->denoise(x, steps, net->prepare(conditions, level), {}, &blocks);
    expect_close(output, read_float("/denoiser/output"), kSinglePassTol, "output");
    // Traces of single items: "block<i>_<residual_out|skip>_b<item>".
    const std::regex trace(R"(block(\d+)_(residual_out|skip)_b(\d+))");
    for (const auto& name : model_golden().children("/denoiser")) {
        std::smatch m;
        if (!std::regex_match(name, m, trace))
            continue;
        const auto& block = blocks.at(std::stoul(m[1]));
        const auto item = std::stoll(m[3]);
        const auto& ours = m[2] == "skip" ? block.skip : block.residual;
        expect_close(ours.narrow(0, item, 1), read_float("/denoiser/" + name), kSinglePassTol,
                     name);
    }

    for (const auto& name : children_with_prefix("/denoiser", "output_step")) {
        const auto dataset = "/denoiser/" + name;
        const auto step = model_golden().attr_int(dataset, "diffusion_step");
        const auto shared_level = model_golden().attr_int(dataset, "side_info_level");
        const auto shared = net->denoise(x, torch::full({1}, step, torch::kLong),
                                         net->prepare(conditions, shared_level));
        expect_close(shared, read_float(dataset), kSinglePassTol, name);
    }
}

// (e) Noise fusion, with and without a prior.
TEST(GoldenModel_noise_fusion, FusedWithAndWithoutPrior) {
    auto net = golden_net();
    torch::NoGradGuard no_grad;
    EXPECT_DOUBLE_EQ(net->config().model.sim, model_golden().attr_double("/noise_fusion", "sim"));
    const auto predicted = read_float("/noise_fusion/predicted");
    expect_close(net->fuse(predicted, read_float("/noise_fusion/noise_prior")),
                 read_float("/noise_fusion/fused"), kSinglePassTol, "fused");
    expect_close(net->fuse(predicted, torch::Tensor()),
                 read_float("/noise_fusion/fused_zero_prior"), kSinglePassTol, "fused_zero_prior");
}

// (f) Division operators: every dataset named spatial[4d]_i_s<k>, temporal_i_t<k> or
// spatial<a>_then_temporal<b>.
TEST(GoldenModel_division, EveryRecordedOperator) {
    const int coarse = golden_config().diffusion.spatial_scale_coarse;
    const auto x = read_float("/division/X");
    const auto x4d = read_float("/division/X4d");
    const std::regex spatial(R"(spatial(4d)?_i_s(\d+))");
    const std::regex temporal(R"(temporal_i_t(\d+))");
    const std::regex both(R"(spatial(\d+)_then_temporal(\d+))");
    int checked = 0;
    for (const auto& name : model_golden().children("/division")) {
        std::smatch m;
        const auto expected = "/division/" + name;
        if (std::regex_match(name, m, spatial)) {
            const auto& input = m[1].matched ? x4d : x;
            expect_close(model::spatial_divide(input, std::stoi(m[2]), coarse),
                         read_float(expected), 1e-6, name);
        } else if (std::regex_match(name, m, temporal)) {
            expect_close(model::temporal_divide(x, std::stoi(m[1])), read_float(expected), 1e-6,
                         name);
        } else if (std::regex_match(name, m, both)) {
            expect_close(model::divide(x, std::stoi(m[2]), std::stoi(m[1]), coarse),
                         read_float(expected), 1e-6, name);
        } else {
            continue;
        }
        ++checked;
    }
    EXPECT_GT(checked, 0) << "no division operator recorded";
}

}  // namespace
}  // namespace zoomdiff::test
