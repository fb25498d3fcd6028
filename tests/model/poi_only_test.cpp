// condition_layout: poi_only (issue 8): no static projection at all, K POI channels, finite
// gradients; the config key and its YAML; the existing layouts untouched.
#include <string>

#include "model/tiny_model.hpp"
#include "support/errors.hpp"
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/diffusion.hpp"
#include "zoomdiff/model/network.hpp"

namespace zoomdiff::model {
namespace {

using test::tiny_config;

ModelConfig poi_only_config(int k = 22) {
    ModelConfig c = tiny_config();
    c.model.condition_layout = ConditionLayout::kPoiOnly;
    c.model.poi_channels = k;
    return parse_model_config(to_yaml(c), "test");  // through the YAML: the key round-trips
}

TEST(PoiOnlyLayout, ConfigKeysAndYaml) {
    const ModelConfig c = poi_only_config();
    EXPECT_EQ(c.model.condition_layout, ConditionLayout::kPoiOnly);
    EXPECT_EQ(c.static_channels(), 0);
    EXPECT_EQ(c.poi_channels(), 22);
    EXPECT_EQ(static_layout(c), data::StaticLayout::kPoiOnly);
    EXPECT_EQ(tile_options(c).poi_channels, 22);
    EXPECT_NE(to_yaml(c).find("condition_layout: poi_only\n  poi_channels: 22\n"),
              std::string::npos);
    // Reference and corrected YAML carry no poi_channels line: run folders keep their config hash.
    for (const auto layout : {ConditionLayout::kReference, ConditionLayout::kCorrected}) {
        ModelConfig other = tiny_config();
        other.model.condition_layout = layout;
        EXPECT_EQ(to_yaml(other).find("poi_channels"), std::string::npos);
        EXPECT_EQ(other.poi_channels(), 21);
    }
    const auto message = test::error_of([] {
        (void)parse_model_config("model: {condition_layout: corrected, poi_channels: 22}",
                                 "x.yaml");
    });
    EXPECT_TRUE(test::mentions(message, "poi_only"));
    EXPECT_TRUE(test::mentions(test::error_of([] {
                                   (void)parse_model_config(
                                       "model: {condition_layout: poi_only, poi_channels: 0}",
                                       "x.yaml");
                               }),
                               "poi_channels"));
    EXPECT_TRUE(test::mentions(test::error_of([] {
                                   (void)parse_model_config("model: {condition_layout: nothing}",
                                                            "x.yaml");
                               }),
                               "poi_only"));
}

TEST(PoiOnlyLayout, NoStaticModuleInTheStateDict) {
    const ModelConfig c = poi_only_config();
    ZoomDiffNet net(c);
    for (const auto& p : net->named_parameters()) {
        EXPECT_EQ(p.key().find("cond_static"), std::string::npos) << p.key();
    }
    const auto params = net->named_parameters();
    EXPECT_EQ(params["diffmodel.residual_layers.0.cond_poi_projection.weight"].size(1), 22);
    const auto& block = *net->diffmodel->residual_layers[0]->as<ResidualBlockImpl>();
    EXPECT_TRUE(block.cond_static_projection.is_empty());
    // A corrected network has exactly the extra static projection per block.
    ModelConfig corrected = tiny_config();
    corrected.model.condition_layout = ConditionLayout::kCorrected;
    ZoomDiffNet other(corrected);
    EXPECT_EQ(other->named_parameters().size(),
              net->named_parameters().size() + 2 * static_cast<std::size_t>(c.diffusion.layers));
}

TEST(PoiOnlyLayout, ForwardShapesAndFiniteGradients) {
    torch::manual_seed(0);
    const ModelConfig c = poi_only_config();
    auto net = test::tiny_net(c, 3);
    for (const auto& p : net->parameters())
        EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
    const std::int64_t batch = 3;
    const std::int64_t hours = 12;
    auto conditions = test::random_conditions(c, batch, hours, 5);
    EXPECT_EQ(conditions.cond_static.size(1), 0);
    auto gen = test::seeded(9);
    const auto x = torch::randn({batch, 1, hours, 4, 4}, gen);
    const auto steps = torch::tensor({1, 5, 9}, torch::kLong);
    net->train();
    const auto context = net->prepare(conditions, torch::tensor({0, 1, 2}, torch::kLong));
    const auto out = net->denoise(x, steps, context);
    EXPECT_EQ(out.sizes(), x.sizes());
    out.square().mean().backward();
    const auto& block = *net->diffmodel->residual_layers[0]->as<ResidualBlockImpl>();
    const auto grad = block.cond_poi_projection->weight.grad();
    ASSERT_TRUE(grad.defined());
    EXPECT_TRUE(torch::isfinite(grad).all().item<bool>());
    EXPECT_GT(grad.abs().sum().item<double>(), 0.0);
    for (const auto& p : net->parameters()) {
        if (p.grad().defined())
            EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
    }
    // No static tensor at all works the same as a (B, 0, H, W) one.
    auto without = conditions;
    without.cond_static = torch::Tensor();
    torch::NoGradGuard no_grad;
    net->eval();
    const auto a = net->denoise(x, steps, net->prepare(conditions, 1));
    const auto b = net->denoise(x, steps, net->prepare(without, 1));
    EXPECT_TRUE(torch::equal(a, b));
    // The POI conditions matter.
    auto other = conditions;
    other.cond_poi = conditions.cond_poi + 1.0;
    EXPECT_FALSE(torch::equal(a, net->denoise(x, steps, net->prepare(other, 1))));
}

TEST(PoiOnlyLayout, SamplingAndTheLossRun) {
    const ModelConfig c = poi_only_config(5);
    MultiScaleDiffusion diffusion(test::tiny_net(c, 4));
    const auto conditions = test::random_conditions(c, 2, 168, 6);
    GeneratorNoise noise(test::seeded(2));
    const auto x0 = torch::rand({2, 1, 168, 4, 4});
    const auto loss = diffusion.loss(x0, conditions, noise);
    EXPECT_TRUE(std::isfinite(loss.item<double>()));
    const auto out = diffusion.sample(conditions, 1, noise);
    EXPECT_EQ(out.samples.size(0), 2);
    EXPECT_TRUE(torch::isfinite(out.samples).all().item<bool>());
}

}  // namespace
}  // namespace zoomdiff::model
