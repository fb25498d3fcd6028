#include "zoomdiff/model/network.hpp"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "model/tiny_model.hpp"
#include "support/support.hpp"
#include <gtest/gtest.h>
#include <torch/types.h>

#include "zoomdiff/model/config.hpp"

namespace zoomdiff::model {
namespace {

using test::random_conditions;
using test::seeded;
using test::tiny_config;
using test::tiny_net;

constexpr std::int64_t kHoursShort = 24;  // L of the network tests: the network takes any length

std::string shape_text(at::IntArrayRef sizes) {
    std::string out;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        out += (i ? "x" : "") + std::to_string(sizes[i]);
    }
    return out;
}

struct ParamsFile {
    std::vector<std::pair<std::string, std::string>> keys;  // key, shape like "512x4x1"
    std::int64_t total = -1;
};

/// tests/data/golden/model_base_params.txt (the spec's file, whatever ZOOMDIFF_GOLDEN_DIR says):
/// header lines, then `key<TAB>shape<TAB>numel` after "# key".
ParamsFile read_params_file() {
    const auto path = test::test_data_dir() / "golden" / "model_base_params.txt";
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << test::missing_data(path);
    ParamsFile file;
    bool in_table = false;
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("total_trainable_parameters ", 0) == 0) {
            file.total = std::stoll(line.substr(line.find(' ') + 1));
        } else if (line.rfind("# key", 0) == 0) {
            in_table = true;
        } else if (in_table && !line.empty()) {
            std::istringstream fields(line);
            std::string key;
            std::string shape;
            std::getline(fields, key, '\t');
            std::getline(fields, shape, '\t');
            file.keys.emplace_back(key, shape);
        }
    }
    return file;
}

ModelConfig base_config(ConditionLayout layout) {
    ModelConfig c = load_model_config("base.yaml");
    c.model.condition_layout = layout;
    return c;
}

/// (…, H, W) with the H*W cells reordered: cell i of the result is cell perm[i] of t.
torch::Tensor permute_cells(const torch::Tensor& t, const torch::Tensor& perm) {
    return t.flatten(-2).index_select(-1, perm).reshape(t.sizes());
}

double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>();
}

// ---- parameters -------------------------------------------------------------------------------

TEST(NetworkParameters, BaseConfigHasEveryReferenceKeyAndShape) {
    const ParamsFile file = read_params_file();
    ASSERT_EQ(file.keys.size(), 171U);
    ZoomDiffNet net(base_config(ConditionLayout::kReference));
    const auto params = net->named_parameters();
    for (const auto& [key, shape] : file.keys) {
        const auto* found = params.find(key);
        ASSERT_NE(found, nullptr) << "missing " << key;
        EXPECT_EQ(shape_text(found->sizes()), shape) << key;
    }
    std::map<std::string, std::string> extra;
    for (const auto& p : params) {
        bool listed = false;
        for (const auto& entry : file.keys) {
            listed = listed || entry.first == p.key();
        }
        if (!listed) {
            extra.emplace(p.key(), shape_text(p.value().sizes()));
        }
    }
    EXPECT_EQ(extra, (std::map<std::string, std::string>{{"spatial_embedding", "3x128x4x4"}}));
}

TEST(NetworkParameters, KeysFollowTheStateDictOrder) {
    const ParamsFile file = read_params_file();
    ZoomDiffNet net(base_config(ConditionLayout::kReference));
    std::vector<std::string> ours;
    for (const auto& p : net->named_parameters()) {
        if (p.key() != "spatial_embedding") {
            ours.push_back(p.key());
        }
    }
    std::vector<std::string> reference;
    for (const auto& entry : file.keys) {
        reference.push_back(entry.first);
    }
    EXPECT_EQ(ours, reference);
}

TEST(NetworkParameters, ReferenceCountMatchesTheGoldenTotal) {
    const ParamsFile file = read_params_file();
    EXPECT_EQ(file.total, 5039682);
    ZoomDiffNet net(base_config(ConditionLayout::kReference));
    EXPECT_EQ(net->reference_parameter_count(), file.total);
    std::int64_t all = 0;
    for (const auto& p : net->parameters()) {
        all += p.numel();
    }
    EXPECT_EQ(all, file.total + 3 * 128 * 4 * 4);
    // Corrected layout: one more static channel, 2C weights more per block.
    ZoomDiffNet corrected(base_config(ConditionLayout::kCorrected));
    EXPECT_EQ(corrected->reference_parameter_count(), file.total + 4 * 512);
}

TEST(NetworkParameters, CorrectedLayoutHasFiveStaticInputs) {
    ModelConfig c = tiny_config();
    c.model.condition_layout = ConditionLayout::kCorrected;
    ZoomDiffNet net(c);
    const auto params = net->named_parameters();
    for (int block = 0; block < c.diffusion.layers; ++block) {
        const std::string prefix = "diffmodel.residual_layers." + std::to_string(block) + ".";
        EXPECT_EQ(shape_text(params[prefix + "cond_static_projection.weight"].sizes()), "16x5x1");
        EXPECT_EQ(shape_text(params[prefix + "cond_poi_projection.weight"].sizes()), "16x21x1");
        EXPECT_EQ(shape_text(params[prefix + "side_projection.weight"].sizes()), "16x24x1");
    }
    EXPECT_EQ(shape_text(net->spatial_embedding.sizes()), "3x8x4x4");
    ZoomDiffNet reference(tiny_config());
    const auto& block = *reference->diffmodel->residual_layers[1]->as<ResidualBlockImpl>();
    EXPECT_EQ(shape_text(block.cond_static_projection->weight.sizes()), "16x4x1");
}

TEST(NetworkParameters, ResetIsSeededAndFollowsTheReferenceInitialisers) {
    const ModelConfig c = tiny_config();
    ZoomDiffNet a(c);
    ZoomDiffNet b(c);
    ZoomDiffNet other(c);
    auto gen_a = seeded(3);
    auto gen_b = seeded(3);
    auto gen_other = seeded(4);
    a->reset_parameters(gen_a);
    b->reset_parameters(gen_b);
    other->reset_parameters(gen_other);
    const auto pa = a->named_parameters();
    const auto pb = b->named_parameters();
    const auto po = other->named_parameters();
    for (const auto& p : pa) {
        EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
    }
    EXPECT_FALSE(torch::equal(pa["spatial_embedding"], po["spatial_embedding"]));
    EXPECT_FALSE(torch::equal(pa["diffmodel.input_projection.weight"],
                              po["diffmodel.input_projection.weight"]));
    // MODEL.md §2.1: the last conv weight is zero, its bias is drawn; attention biases are
    // zero and layer norms start at (1, 0).
    EXPECT_EQ(pa["diffmodel.output_projection2.weight"].abs().max().item<float>(), 0.0F);
    EXPECT_NE(pa["diffmodel.output_projection2.bias"].item<float>(), 0.0F);
    const std::string layer = "diffmodel.residual_layers.0.time_layer.layers.0.";
    EXPECT_EQ(pa[layer + "self_attn.in_proj_bias"].abs().max().item<float>(), 0.0F);
    EXPECT_EQ(pa[layer + "self_attn.out_proj.bias"].abs().max().item<float>(), 0.0F);
    EXPECT_GT(pa[layer + "self_attn.in_proj_weight"].abs().max().item<float>(), 0.0F);
    EXPECT_TRUE(torch::equal(pa[layer + "norm1.weight"], torch::ones({8})));
    EXPECT_TRUE(torch::equal(pa[layer + "norm2.bias"], torch::zeros({8})));
}

// ---- structure --------------------------------------------------------------------------------

TEST(NetworkStructure, FreshModelOutputsItsLastBias) {
    // The reference zeroes the last conv weight (MODEL.md D-3): every output is that bias.
    at::set_num_threads(1);
    const ModelConfig c = tiny_config();
    ZoomDiffNet net(c);
    auto gen = seeded(5);
    net->reset_parameters(gen);
    net->eval();
    const auto conditions = random_conditions(c, 2, kHoursShort, 6);
    const auto x = torch::randn({2, 1, kHoursShort, 4, 4}, gen);
    const auto out = net->denoise(x, torch::tensor({3L, 7L}), net->prepare(conditions, 1));
    const float bias = net->diffmodel->output_projection2->bias.item<float>();
    EXPECT_TRUE(torch::equal(out, torch::full_like(out, bias)));
}

TEST(NetworkStructure, PermutingCellsPermutesTheOutput) {
    // MODEL.md §2.10: nothing in the network mixes grid cells.
    at::set_num_threads(1);
    for (const auto layout : {ConditionLayout::kReference, ConditionLayout::kCorrected}) {
        ModelConfig c = tiny_config();
        c.model.condition_layout = layout;
        ZoomDiffNet net = tiny_net(c, 7);
        net->eval();
        auto gen = seeded(8);
        const auto conditions = random_conditions(c, 2, kHoursShort, 9);
        const auto x = torch::randn({2, 1, kHoursShort, 4, 4}, gen);  // [B, K, L, H, W]
        const auto steps = torch::tensor({2L, 10L});
        const auto perm = torch::randperm(16, gen, torch::kLong);
        torch::NoGradGuard no_grad;
        const auto out = net->denoise(x, steps, net->prepare(conditions, 1));

        BatchConditions moved = conditions;
        moved.cond_static = permute_cells(conditions.cond_static, perm);
        moved.cond_poi = permute_cells(conditions.cond_poi, perm);
        const auto tables = net->spatial_embedding.clone();
        net->spatial_embedding.copy_(permute_cells(tables, perm));
        const auto moved_out = net->denoise(permute_cells(x, perm), steps, net->prepare(moved, 1));
        EXPECT_LT(max_difference(moved_out, permute_cells(out, perm)), 1e-5) << to_string(layout);

        // Control: with the spatial tables left in place the output is not a permutation.
        net->spatial_embedding.copy_(tables);
        const auto partly = net->denoise(permute_cells(x, perm), steps, net->prepare(moved, 1));
        EXPECT_GT(max_difference(partly, permute_cells(out, perm)), 1e-3) << to_string(layout);
    }
}

TEST(NetworkStructure, ItemsDoNotDependOnTheirBatch) {
    at::set_num_threads(1);
    const ModelConfig c = tiny_config();
    ZoomDiffNet net = tiny_net(c, 11);
    net->eval();
    torch::NoGradGuard no_grad;
    auto gen = seeded(12);
    const auto conditions = random_conditions(c, 3, kHoursShort, 13);
    const auto x = torch::randn({3, 1, kHoursShort, 4, 4}, gen);
    const auto first = torch::tensor({0L});
    const auto alone_conditions = test::select_items(conditions, first);

    // Per-item steps.
    const auto batch_out =
        net->denoise(x, torch::tensor({5L, 1L, 11L}), net->prepare(conditions, 2));
    const auto alone_out = net->denoise(x.index_select(0, first), torch::tensor({5L}),
                                        net->prepare(alone_conditions, 2));
    EXPECT_LT(max_difference(batch_out[0], alone_out[0]), 1e-5);
    // One step shared by the batch.
    const auto shared_out = net->denoise(x, torch::tensor({4L}), net->prepare(conditions, 0));
    const auto shared_alone = net->denoise(x.index_select(0, first), torch::tensor({4L}),
                                           net->prepare(alone_conditions, 0));
    EXPECT_LT(max_difference(shared_out[0], shared_alone[0]), 1e-5);
    // Control: the other items really differ from item 0.
    EXPECT_GT(max_difference(batch_out[1], alone_out[0]), 1e-3);
}

TEST(NetworkStructure, PerItemSegmentsEqualOneSegmentPerItem) {
    at::set_num_threads(1);
    const ModelConfig c = tiny_config();
    ZoomDiffNet net = tiny_net(c, 14);
    net->eval();
    torch::NoGradGuard no_grad;
    auto gen = seeded(15);
    const auto conditions = random_conditions(c, 3, kHoursShort, 16);
    const auto x = torch::randn({3, 1, kHoursShort, 4, 4}, gen);
    const std::vector<std::int64_t> segments{2, 0, 1};
    const std::vector<std::int64_t> steps{1, 9, 6};
    const auto mixed =
        net->denoise(x, torch::tensor(steps), net->prepare(conditions, torch::tensor(segments)));
    for (std::int64_t b = 0; b < 3; ++b) {
        const auto item = torch::tensor({b});
        const auto alone =
            net->denoise(x.index_select(0, item), torch::tensor({steps[b]}),
                         net->prepare(test::select_items(conditions, item), segments[b]));
        EXPECT_LT(max_difference(mixed[b], alone[0]), 1e-5) << "item " << b;
    }
    // Control: the segment (spatial table) changes the output.
    const auto other = net->denoise(x, torch::tensor(steps), net->prepare(conditions, 0));
    EXPECT_GT(max_difference(mixed[0], other[0]), 1e-4);
}

TEST(NetworkStructure, OutputDependsOnStepAndConditions) {
    at::set_num_threads(1);
    const ModelConfig c = tiny_config();
    ZoomDiffNet net = tiny_net(c, 17);
    net->eval();
    torch::NoGradGuard no_grad;
    auto gen = seeded(18);
    const auto conditions = random_conditions(c, 2, kHoursShort, 19);
    const auto x = torch::randn({2, 1, kHoursShort, 4, 4}, gen);
    const auto context = net->prepare(conditions, 1);
    const auto out = net->denoise(x, torch::tensor({3L}), context);
    EXPECT_EQ(out.sizes(), x.sizes());
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
    EXPECT_GT(max_difference(out, net->denoise(x, torch::tensor({8L}), context)), 1e-4);
    BatchConditions changed = conditions;
    changed.cond_poi = conditions.cond_poi + 1.0;
    EXPECT_GT(max_difference(out, net->denoise(x, torch::tensor({3L}), net->prepare(changed, 1))),
              1e-4);
}

// ---- side information -------------------------------------------------------------------------

TEST(SideInfo, BlocksAreTimeSpaceAndFeature) {
    const ModelConfig c = tiny_config();
    ZoomDiffNet net = tiny_net(c, 20);
    torch::NoGradGuard no_grad;
    const std::int64_t d_t = c.model.timeemb;
    const std::int64_t d_s = c.model.spatialemb;
    const std::int64_t d_f = c.model.feature_emb;
    auto tp = torch::arange(kHoursShort, torch::kFloat).unsqueeze(0).repeat({2, 1});  // [B, L]
    tp[1] += 100.0;  // a second item at other hours
    for (std::int64_t level = 0; level < c.segments(); ++level) {
        const auto side = net->side_info(tp, level);  // [B, D_side, K, L, H, W]
        ASSERT_EQ(side.sizes(),
                  (std::vector<std::int64_t>{2, d_t + d_s + d_f, 1, kHoursShort, 4, 4}));
        // Time block: time_embedding (B, L, d_t) transposed, the same in every cell.
        const auto time = side.narrow(1, 0, d_t).squeeze(2);         // [B, d_t, L, H, W]
        const auto te = net->time_embedding(tp).permute({0, 2, 1});  // [B, d_t, L]
        EXPECT_TRUE(torch::equal(time, te.unsqueeze(-1).unsqueeze(-1).expand_as(time)))
            << "level " << level;
        // Spatial block: the level's table, the same at every hour and for every item.
        const auto space = side.narrow(1, d_t, d_s).squeeze(2);  // [B, d_s, L, H, W]
        const auto table =
            net->spatial_embedding[level].unsqueeze(1).unsqueeze(0);  // [1, d_s, 1, H, W]
        EXPECT_TRUE(torch::equal(space, table.expand_as(space))) << "level " << level;
        // Feature block: row 0 of embed_layer everywhere.
        const auto feature = side.narrow(1, d_t + d_s, d_f).squeeze(2);
        const auto row = net->embed_layer->weight[0].reshape({1, d_f, 1, 1, 1});
        EXPECT_TRUE(torch::equal(feature, row.expand_as(feature))) << "level " << level;
    }
    EXPECT_FALSE(torch::equal(net->side_info(tp, 0), net->side_info(tp, 1)));
}

TEST(SideInfo, TimeEmbeddingIsInterleavedSineCosine) {
    const ModelConfig c = tiny_config();
    ZoomDiffNet net(c);
    auto tp = torch::arange(168, torch::kFloat).unsqueeze(0).repeat({2, 1});
    tp[1] += 100.0;
    const auto te = net->time_embedding(tp);  // [B, L, d_t]
    ASSERT_EQ(te.sizes(), (std::vector<std::int64_t>{2, 168, 8}));
    const auto te_a = te.accessor<float, 3>();
    const auto tp_a = tp.accessor<float, 2>();
    for (std::int64_t b = 0; b < 2; ++b) {
        for (std::int64_t l = 0; l < 168; ++l) {
            for (std::int64_t j = 0; j < 4; ++j) {
                const double p = tp_a[b][l];
                const double argument = p / std::pow(10000.0, 2.0 * static_cast<double>(j) / 8.0);
                // Float32 arguments up to 267: about 3e-5 of rounding.
                EXPECT_NEAR(te_a[b][l][2 * j], std::sin(argument), 1e-4)
                    << b << " " << l << " " << j;
                EXPECT_NEAR(te_a[b][l][2 * j + 1], std::cos(argument), 1e-4)
                    << b << " " << l << " " << j;
            }
        }
    }
    // int64 hours give the same embedding.
    EXPECT_TRUE(torch::equal(net->time_embedding(tp.to(torch::kLong)), te));
}

// ---- noise fusion -------------------------------------------------------------------------------

TEST(Fusion, UndefinedPriorMeansZero) {
    const ModelConfig c = tiny_config();
    ZoomDiffNet net = tiny_net(c, 21);
    auto gen = seeded(22);
    const auto p = torch::randn({2, 1, kHoursShort, 4, 4}, gen);
    const auto without = net->fuse(p, torch::Tensor());
    EXPECT_TRUE(torch::allclose(without, net->fuse(p, torch::zeros_like(p)), 0.0, 1e-7));
    EXPECT_FALSE(torch::allclose(without, net->fuse(p, torch::ones_like(p)), 0.0, 1e-4));
}

TEST(Fusion, SimOneReturnsThePrediction) {
    ModelConfig c = tiny_config();
    c.model.sim = 1.0;
    ZoomDiffNet net = tiny_net(c, 23);
    auto gen = seeded(24);
    const auto p = torch::randn({2, 1, kHoursShort, 4, 4}, gen);
    const auto prior = torch::randn({2, 1, kHoursShort, 4, 4}, gen);
    EXPECT_TRUE(torch::equal(net->fuse(p, prior), p));
    EXPECT_TRUE(torch::equal(net->fuse(p, torch::Tensor()), p));
}

TEST(Fusion, MatchesTheThreeConvolutions) {
    // fused = sim p + (1 - sim) P3(P1 p + P2 prior), each P a 1x1 conv over (B, 1, N).
    for (const double sim : {0.8, 0.3, 0.0}) {
        ModelConfig c = tiny_config();
        c.model.sim = sim;
        ZoomDiffNet net = tiny_net(c, 25);
        torch::NoGradGuard no_grad;
        auto gen = seeded(26);
        const auto p = torch::randn({3, 1, kHoursShort, 4, 4}, gen);
        const auto prior = torch::randn({3, 1, kHoursShort, 4, 4}, gen) * 4.0;
        const auto flat_p = p.reshape({3, 1, -1});  // [B, 1, N]
        const auto flat_prior = prior.reshape({3, 1, -1});
        const auto p1 = torch::conv1d(flat_p, net->predicted_noise_projection->weight,
                                      net->predicted_noise_projection->bias);  // [B, 128, N]
        const auto p2 = torch::conv1d(flat_prior, net->noise_prior_projection->weight,
                                      net->noise_prior_projection->bias);
        const auto p3 = torch::conv1d(p1 + p2, net->infused_noise_projection->weight,
                                      net->infused_noise_projection->bias);  // [B, 1, N]
        const auto expected = (flat_p * sim + p3 * (1.0 - sim)).reshape(p.sizes());
        EXPECT_LT(max_difference(net->fuse(p, prior), expected), 1e-5) << "sim " << sim;
        const auto p3_zero = torch::conv1d(p1 + net->noise_prior_projection->bias.view({1, -1, 1}),
                                           net->infused_noise_projection->weight,
                                           net->infused_noise_projection->bias);
        const auto expected_zero = (flat_p * sim + p3_zero * (1.0 - sim)).reshape(p.sizes());
        EXPECT_LT(max_difference(net->fuse(p, torch::Tensor()), expected_zero), 1e-5)
            << "sim " << sim;
    }
}

}  // namespace
}  // namespace zoomdiff::model
