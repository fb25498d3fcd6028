#include "zoomdiff/model/weights.hpp"

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>

#include "model/tiny_model.hpp"
#include "support/errors.hpp"
#include "support/support.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/types.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/network.hpp"

namespace zoomdiff::model {
namespace {

namespace fs = std::filesystem;

using test::error_of;
using test::mentions;
using test::tiny_config;
using test::tiny_net;

using Named = std::map<std::string, torch::Tensor>;

bool same_tensors(const Named& a, const Named& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (const auto& [key, value] : a) {
        const auto found = b.find(key);
        if (found == b.end() || !torch::equal(value, found->second)) {
            return false;
        }
    }
    return true;
}

/// Deep copies: named_tensors() of a CPU model shares the parameters' storage.
Named snapshot(const ZoomDiffNet& net) {
    Named out;
    for (const auto& [key, value] : named_tensors(net)) {
        out.emplace(key, value.clone());
    }
    return out;
}

TEST(Weights, SaveLoadRoundTripIncludesSpatialTables) {
    const test::TempDir dir;
    const auto path = dir.path() / "weights.pt";
    const ZoomDiffNet saved = tiny_net(tiny_config(), 80);
    save_weights(saved, path);
    // Written atomically: only the final file is left.
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);

    ZoomDiffNet loaded = tiny_net(tiny_config(), 81);
    ASSERT_FALSE(same_tensors(named_tensors(saved), named_tensors(loaded)));
    load_weights(loaded, path);
    const Named expected = named_tensors(saved);
    EXPECT_TRUE(same_tensors(named_tensors(loaded), expected));
    EXPECT_TRUE(torch::equal(loaded->spatial_embedding, saved->spatial_embedding));
    EXPECT_EQ(expected.count("spatial_embedding"), 1U);
}

TEST(Weights, PythonTorchJitLoadReadsModelPt) {
    // A Python user loads model.pt with torch.jit.load (docs/outputs.md): every tensor, same name,
    // size and values (compared through their sums).
    const test::TempDir dir;
    const auto path = dir.path() / "model.pt";
    const ZoomDiffNet saved = tiny_net(tiny_config(), 80);
    save_weights(saved, path);
    const auto script = test::source_dir() / "tests" / "python" / "load_model_pt.py";
    const test::ToolRun run = test::run_tool("/usr/bin/python3 '" + script.string() + "'",
                                             "'" + path.string() + "'", dir.path());
    ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
    const auto loaded = nlohmann::json::parse(run.stdout_text);
    const Named expected = named_tensors(saved);
    EXPECT_EQ(loaded.size(), expected.size());
    for (const auto& [name, tensor] : expected) {
        SCOPED_TRACE(name);
        ASSERT_TRUE(loaded.contains(name));
        EXPECT_EQ(loaded[name][0].get<std::int64_t>(), tensor.numel());
        EXPECT_NEAR(loaded[name][1].get<double>(), tensor.to(torch::kDouble).sum().item<double>(),
                    1e-9 * (1.0 + tensor.abs().sum().item<double>()));
    }
}

TEST(Weights, MissingKeyIsNamedWithItsShape) {
    Named tensors = named_tensors(tiny_net(tiny_config(), 82));
    tensors.erase("diffmodel.input_projection.weight");
    ZoomDiffNet net = tiny_net(tiny_config(), 83);
    const std::string message =
        error_of([&] { load_named_tensors(net, tensors, "ckpt.pth", false); });
    EXPECT_TRUE(mentions(message, "ckpt.pth"));
    EXPECT_TRUE(mentions(message, "diffmodel.input_projection.weight"));
    EXPECT_TRUE(mentions(message, "8x1x1"));
}

TEST(Weights, ExtraKeyIsNamed) {
    Named tensors = named_tensors(tiny_net(tiny_config(), 84));
    tensors.emplace("diffmodel.extra_projection.weight", torch::zeros({2, 3}));
    ZoomDiffNet net = tiny_net(tiny_config(), 85);
    const Named before = snapshot(net);
    const std::string message =
        error_of([&] { load_named_tensors(net, tensors, "ckpt.pth", true); });
    EXPECT_TRUE(mentions(message, "ckpt.pth"));
    EXPECT_TRUE(mentions(message, "diffmodel.extra_projection.weight"));
    EXPECT_TRUE(mentions(message, "2x3"));
    // Checked before anything is copied: the network is untouched.
    EXPECT_TRUE(same_tensors(named_tensors(net), before));
}

TEST(Weights, WrongShapeNamesKeyAndBothShapes) {
    Named tensors = named_tensors(tiny_net(tiny_config(), 86));
    tensors["embed_layer.weight"] = torch::zeros({1, 9});
    ZoomDiffNet net = tiny_net(tiny_config(), 87);
    const Named before = snapshot(net);
    const std::string message =
        error_of([&] { load_named_tensors(net, tensors, "ckpt.pth", false); });
    EXPECT_TRUE(mentions(message, "embed_layer.weight"));
    EXPECT_TRUE(mentions(message, "1x9"));
    EXPECT_TRUE(mentions(message, "1x8"));
    EXPECT_TRUE(same_tensors(named_tensors(net), before));
}

TEST(Weights, OtherConditionLayoutDoesNotLoad) {
    const test::TempDir dir;
    const auto path = dir.path() / "reference.pt";
    save_weights(tiny_net(tiny_config(), 88), path);
    ModelConfig corrected = tiny_config();
    corrected.model.condition_layout = ConditionLayout::kCorrected;
    ZoomDiffNet net(corrected);
    const std::string message = error_of([&] { load_weights(net, path); });
    EXPECT_TRUE(mentions(message, path.string()));
    EXPECT_TRUE(mentions(message, "cond_static_projection.weight"));
    EXPECT_TRUE(mentions(message, "16x4x1"));
    EXPECT_TRUE(mentions(message, "16x5x1"));
}

TEST(Weights, AllowMissingSpatialSkipsOnlyTheSpatialTables) {
    const Named source = named_tensors(tiny_net(tiny_config(), 89));
    Named without_tables = source;
    without_tables.erase("spatial_embedding");

    ZoomDiffNet net = tiny_net(tiny_config(), 90);
    const auto own_tables = net->spatial_embedding.detach().clone();
    EXPECT_TRUE(
        mentions(error_of([&] { load_named_tensors(net, without_tables, "model.pth", false); }),
                 "spatial_embedding"));
    load_named_tensors(net, without_tables, "model.pth", true);
    EXPECT_TRUE(torch::equal(net->spatial_embedding, own_tables));
    Named loaded = named_tensors(net);
    loaded.erase("spatial_embedding");
    EXPECT_TRUE(same_tensors(loaded, without_tables));

    Named also_missing = without_tables;
    also_missing.erase("infused_noise_projection.bias");
    EXPECT_TRUE(
        mentions(error_of([&] { load_named_tensors(net, also_missing, "model.pth", true); }),
                 "infused_noise_projection.bias"));
}

TEST(Weights, NonFiniteValuesAreRefused) {
    Named tensors = named_tensors(tiny_net(tiny_config(), 91));
    tensors["diffmodel.output_projection1.bias"] =
        torch::full({8}, std::numeric_limits<float>::quiet_NaN());
    ZoomDiffNet net = tiny_net(tiny_config(), 92);
    EXPECT_TRUE(mentions(error_of([&] { load_named_tensors(net, tensors, "ckpt.pth", false); }),
                         "diffmodel.output_projection1.bias"));
}

TEST(Weights, CorruptOrMissingFileIsNamed) {
    const test::TempDir dir;
    const auto corrupt = dir.path() / "corrupt.pt";
    {
        std::ofstream out(corrupt, std::ios::binary);
        out << "this is not a torch archive\x01\x02\x03 at all";
    }
    ZoomDiffNet net = tiny_net(tiny_config(), 93);
    EXPECT_TRUE(mentions(error_of([&] { load_weights(net, corrupt); }), corrupt.string()));
    const auto absent = dir.path() / "absent.pt";
    EXPECT_TRUE(mentions(error_of([&] { load_weights(net, absent); }), absent.string()));
}

TEST(Weights, NamedTensorsAreCopies) {
    ZoomDiffNet net = tiny_net(tiny_config(), 94);
    const auto before = net->embed_layer->weight.clone();
    named_tensors(net).at("embed_layer.weight").zero_();
    EXPECT_TRUE(torch::equal(net->embed_layer->weight, before));
}

TEST(Weights, ResolveDevice) {
    EXPECT_EQ(resolve_device("cpu"), torch::Device(torch::kCPU));
    EXPECT_TRUE(mentions(error_of([] { resolve_device("gpu"); }), "--device"));
    EXPECT_TRUE(mentions(error_of([] { resolve_device("cuda:x"); }), "--device"));
    EXPECT_TRUE(mentions(error_of([] { resolve_device("cuda:"); }), "--device"));
    // No machine has a thousand GPUs; a build without CUDA refuses every index.
    EXPECT_TRUE(mentions(error_of([] { resolve_device("cuda:999"); }), "--device"));
    EXPECT_TRUE(mentions(error_of([] { resolve_device("cuda:99999999999"); }), "--device"));
    if (!torch::cuda::is_available()) {
        EXPECT_TRUE(mentions(error_of([] { resolve_device("cuda:0"); }), "--device"));
        EXPECT_TRUE(mentions(error_of([] { resolve_device("cuda"); }), "--device"));
    } else {
        EXPECT_EQ(resolve_device("cuda:0"), torch::Device(torch::kCUDA, 0));
    }
}

}  // namespace
}  // namespace zoomdiff::model
