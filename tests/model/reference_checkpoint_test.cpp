#include "zoomdiff/model/reference_checkpoint.hpp"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/errors.hpp"
#include "support/support.hpp"
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/types.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/diffusion.hpp"
#include "zoomdiff/model/network.hpp"
#include "zoomdiff/model/weights.hpp"

// Fixtures: tests/data/model/make_reference_checkpoint.py (PyTorch's own torch.save, run once;
// no Python at test time). Tensor number i of the state dict holds
// (arange(n) % 1000) * 0.001 + i, float32, in the state dict's order.

namespace zoomdiff::model {
namespace {

namespace fs = std::filesystem;

using test::error_of;
using test::mentions;

using Named = std::map<std::string, torch::Tensor>;

fs::path fixtures() {
    return test::test_data_dir() / "model";
}

fs::path tiny_folder() {
    return fixtures() / "reference_tiny";
}

ModelConfig tiny_reference_config() {
    return read_reference_config(tiny_folder() / "config.json");
}

/// The script's formula for tensor number `index`.
torch::Tensor expected_values(std::int64_t index, at::IntArrayRef sizes) {
    std::int64_t n = 1;
    for (const auto s : sizes) {
        n *= s;
    }
    return torch::arange(n).remainder(1000).to(torch::kFloat).mul(0.001).add(index).reshape(sizes);
}

/// The reference's keys in state-dict order: our parameters without the spatial tables.
std::vector<std::pair<std::string, torch::Tensor>> reference_keys(const ZoomDiffNet& net) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : net->named_parameters()) {
        if (p.key() != "spatial_embedding") {
            out.emplace_back(p.key(), p.value());
        }
    }
    return out;
}

bool same_except_spatial(const ZoomDiffNet& net, const Named& file) {
    for (const auto& p : net->named_parameters()) {
        if (p.key() == "spatial_embedding") {
            continue;
        }
        const auto found = file.find(p.key());
        if (found == file.end() || !torch::equal(p.value(), found->second)) {
            return false;
        }
    }
    return true;
}

torch::Tensor spatial_from_seed(const ModelConfig& config, std::uint64_t seed) {
    ZoomDiffNet net(config);
    auto generator = GeneratorNoise::cpu_generator(seed);
    net->reset_parameters(generator);
    return net->spatial_embedding.detach().clone();
}

// ---- hand-made archives, for what torch.save never writes ------------------------------------

/// Protocol-2 pickle opcodes, as torch.save writes them.
class Pickle {
public:
    Pickle() { bytes_ = std::string("\x80\x02", 2); }

    Pickle& op(char c) {
        bytes_ += c;
        return *this;
    }

    Pickle& str(const std::string& s) {
        bytes_ += 'X';
        u32(static_cast<std::uint32_t>(s.size()));
        bytes_ += s;
        return *this;
    }

    Pickle& integer(std::int64_t v) {
        bytes_ += 'J';
        u32(static_cast<std::uint32_t>(v));
        return *this;
    }

    Pickle& global(const std::string& module, const std::string& name) {
        bytes_ += 'c' + module + '\n' + name + '\n';
        return *this;
    }

    Pickle& ints(at::IntArrayRef values) {
        op('(');
        for (const auto v : values) {
            integer(v);
        }
        return op('t');
    }

    [[nodiscard]] const std::string& bytes() const { return bytes_; }

private:
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            bytes_ += static_cast<char>((v >> (8 * i)) & 0xFF);
        }
    }

    std::string bytes_;
};

/// An OrderedDict of contiguous float tensors, storage i = tensor i, like state_dict().
Pickle state_dict_pickle(const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
    Pickle p;
    p.global("collections", "OrderedDict").op(')').op('R').op('(');
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i].second;
        p.str(tensors[i].first).global("torch._utils", "_rebuild_tensor_v2").op('(');
        p.op('(').str("storage").global("torch", "FloatStorage").str(std::to_string(i)).str("cpu");
        p.integer(t.numel()).op('t').op('Q');
        p.integer(0).ints(t.sizes()).ints(t.strides()).op('\x89');
        p.global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
    }
    p.op('u').op('.');
    return p;
}

using Records = std::vector<std::pair<std::string, std::string>>;

/// A zip as torch.save lays it out: <name>/data.pkl (when given), <name>/data/<key>, version.
void write_archive(const fs::path& path, const std::string* pickle, const Records& records) {
    caffe2::serialize::PyTorchStreamWriter writer(path.string());
    if (pickle != nullptr) {
        writer.writeRecord("data.pkl", pickle->data(), pickle->size());
    }
    for (const auto& [name, data] : records) {
        writer.writeRecord(name, data.data(), data.size());
    }
    writer.writeEndOfFile();
}

void write_state_dict(const fs::path& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
    Records records;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto t = tensors[i].second.contiguous().to(torch::kFloat);
        records.emplace_back(
            "data/" + std::to_string(i),
            std::string(static_cast<const char*>(t.data_ptr()), t.numel() * sizeof(float)));
    }
    const std::string pickle = state_dict_pickle(tensors).bytes();
    write_archive(path, &pickle, records);
}

// ---- reading ---------------------------------------------------------------------------------

TEST(ReferenceCheckpoint, ReadsEveryKeyWithItsShapeAndValues) {
    const Named file = read_torch_state_dict(tiny_folder() / "model.pth");
    const ZoomDiffNet net(tiny_reference_config());
    const auto keys = reference_keys(net);
    ASSERT_EQ(file.size(), keys.size());
    ASSERT_EQ(file.size(), 57U);  // 13 + 38 per block + 6 (MODEL.md §2.2), one block
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto& [key, param] = keys[i];
        SCOPED_TRACE(key);
        const auto found = file.find(key);
        ASSERT_NE(found, file.end());
        const auto& t = found->second;
        EXPECT_EQ(t.sizes().vec(), param.sizes().vec());
        EXPECT_EQ(t.scalar_type(), torch::kFloat);
        EXPECT_TRUE(t.device().is_cpu());
        EXPECT_TRUE(t.is_contiguous());
        EXPECT_TRUE(torch::equal(t, expected_values(static_cast<std::int64_t>(i), param.sizes())));
    }
    // The unused 64x32x258x1 pattern conv: larger than one formula period.
    EXPECT_EQ(file.at("feature_pattern_projection.conv.weight").sizes().vec(),
              (std::vector<std::int64_t>{64, 32, 258, 1}));
}

TEST(ReferenceCheckpoint, CudaLocatedStoragesLoadOnTheCpu) {
    const Named cpu = read_torch_state_dict(tiny_folder() / "model.pth");
    const Named cuda = read_torch_state_dict(fixtures() / "reference_tiny_cuda.pth");
    ASSERT_EQ(cuda.size(), cpu.size());
    for (const auto& [key, value] : cpu) {
        SCOPED_TRACE(key);
        const auto found = cuda.find(key);
        ASSERT_NE(found, cuda.end());
        EXPECT_TRUE(found->second.device().is_cpu());
        EXPECT_TRUE(torch::equal(found->second, value));
    }
}

TEST(ReferenceCheckpoint, ViewsKeepTheirOffsetsStridesAndDtypes) {
    const auto base = torch::arange(40).to(torch::kFloat).mul(0.5);  // [40]
    for (const char* name : {"reference_views.pth", "reference_views_p4.pth"}) {
        SCOPED_TRACE(name);
        const Named file = read_torch_state_dict(fixtures() / name);
        ASSERT_EQ(file.size(), 6U);
        EXPECT_TRUE(torch::equal(file.at("offset_slice"), base.slice(0, 3, 9)));
        EXPECT_TRUE(
            torch::equal(file.at("strided"), base.slice(0, 1, 25).view({4, 6}).slice(1, 0, 6, 2)));
        EXPECT_TRUE(torch::equal(file.at("transposed"), base.slice(0, 0, 12).view({3, 4}).t()));
        EXPECT_TRUE(torch::equal(file.at("whole"), base));
        EXPECT_EQ(file.at("scalar").dim(), 0);
        EXPECT_EQ(file.at("scalar").item<float>(), 7.25F);
        EXPECT_EQ(file.at("int64").scalar_type(), torch::kLong);
        EXPECT_TRUE(torch::equal(file.at("int64"), torch::arange(5, torch::kLong)));
        for (const auto& [key, value] : file) {
            EXPECT_TRUE(value.is_contiguous()) << key;
            EXPECT_EQ(value.storage_offset(), 0) << key;
        }
        // Copies, not views of one storage.
        EXPECT_NE(file.at("whole").data_ptr(), file.at("transposed").data_ptr());
    }
}

TEST(ReferenceCheckpoint, ReadsAnArchiveWrittenWithItsLayout) {
    const test::TempDir dir;
    const auto path = dir.path() / "handmade.pth";
    const auto a = torch::arange(6).to(torch::kFloat).view({2, 3});
    const auto b = torch::full({4}, -1.5F);
    write_state_dict(path, {{"a", a}, {"b", b}});
    const Named file = read_torch_state_dict(path);
    ASSERT_EQ(file.size(), 2U);
    EXPECT_TRUE(torch::equal(file.at("a"), a));
    EXPECT_TRUE(torch::equal(file.at("b"), b));
}

// ---- load_reference_run ----------------------------------------------------------------------

TEST(ReferenceCheckpoint, RunFolderBuildsTheNetFromConfigJson) {
    ModelConfig used;
    const ZoomDiffNet net = load_reference_run(tiny_folder(), nullptr, 7, &used);
    EXPECT_EQ(used.diffusion.layers, 1);
    EXPECT_EQ(used.diffusion.channels, 8);
    EXPECT_EQ(used.diffusion.num_steps, 6);
    EXPECT_EQ(used.model.timeemb, 4);
    EXPECT_EQ(used.model.condition_layout, ConditionLayout::kReference);
    EXPECT_EQ(net->config().diffusion.channels, 8);

    EXPECT_TRUE(same_except_spatial(net, read_torch_state_dict(tiny_folder() / "model.pth")));
    EXPECT_TRUE(torch::equal(net->spatial_embedding, spatial_from_seed(used, 7)));

    const ZoomDiffNet again = load_reference_run(tiny_folder() / "model.pth", nullptr, 7, nullptr);
    EXPECT_TRUE(torch::equal(again->spatial_embedding, net->spatial_embedding));
    const ZoomDiffNet other = load_reference_run(tiny_folder(), nullptr, 8, nullptr);
    EXPECT_FALSE(torch::equal(other->spatial_embedding, net->spatial_embedding));
    EXPECT_TRUE(same_except_spatial(other, read_torch_state_dict(tiny_folder() / "model.pth")));
}

TEST(ReferenceCheckpoint, CudaCheckpointLoadsWithAConfigOverride) {
    ModelConfig config = tiny_reference_config();
    config.model.condition_layout = ConditionLayout::kCorrected;  // forced back to reference
    ModelConfig used;
    const ZoomDiffNet net =
        load_reference_run(fixtures() / "reference_tiny_cuda.pth", &config, 3, &used);
    EXPECT_EQ(used.model.condition_layout, ConditionLayout::kReference);
    EXPECT_TRUE(same_except_spatial(net, read_torch_state_dict(tiny_folder() / "model.pth")));
    EXPECT_TRUE(torch::equal(net->spatial_embedding, spatial_from_seed(used, 3)));
}

TEST(ReferenceCheckpoint, ConfigJsonForcesTheReferenceLayout) {
    const ModelConfig config = tiny_reference_config();
    EXPECT_EQ(config.model.condition_layout, ConditionLayout::kReference);
    EXPECT_EQ(config.static_channels(), kReferenceStaticChannels);
    EXPECT_EQ(config.diffusion.spatial_scale, 3);
    EXPECT_EQ(config.train.epochs, 2);
}

// ---- failures --------------------------------------------------------------------------------

TEST(ReferenceCheckpoint, MissingFileOrConfigIsNamed) {
    const auto missing = fixtures() / "no_such_model.pth";
    const std::string message = error_of([&] { read_torch_state_dict(missing); });
    EXPECT_TRUE(mentions(message, missing.string()));
    EXPECT_TRUE(mentions(message, "not found"));

    const test::TempDir dir;
    EXPECT_TRUE(mentions(error_of([&] { load_reference_run(dir.path(), nullptr, 1, nullptr); }),
                         "model.pth"));

    // A lone .pth without config.json beside it needs a config.
    const auto lone = fixtures() / "reference_tiny_cuda.pth";
    const std::string no_config = error_of([&] { load_reference_run(lone, nullptr, 1, nullptr); });
    EXPECT_TRUE(mentions(no_config, lone.string()));
    EXPECT_TRUE(mentions(no_config, "config"));
}

TEST(ReferenceCheckpoint, TruncatedFileIsNamed) {
    const test::TempDir dir;
    const auto path = dir.path() / "model.pth";
    std::ifstream in(tiny_folder() / "model.pth", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::size_t keep : {bytes.size() / 2, bytes.size() - 30, std::size_t{3}}) {
        SCOPED_TRACE(keep);
        std::ofstream(path, std::ios::binary | std::ios::trunc)
            .write(bytes.data(), static_cast<std::streamsize>(keep));
        EXPECT_TRUE(mentions(error_of([&] { read_torch_state_dict(path); }), path.string()));
    }
}

TEST(ReferenceCheckpoint, ZipWithoutDataPklIsRefused) {
    const test::TempDir dir;
    const auto path = dir.path() / "other.pth";
    write_archive(path, nullptr, {{"constants.pkl", "x"}});
    const std::string message = error_of([&] { read_torch_state_dict(path); });
    EXPECT_TRUE(mentions(message, path.string()));
    EXPECT_TRUE(mentions(message, "not a PyTorch state dict archive"));
    EXPECT_TRUE(mentions(message, "data.pkl"));

    const auto text = dir.path() / "config.pth";
    std::ofstream(text) << "{}";
    EXPECT_TRUE(mentions(error_of([&] { read_torch_state_dict(text); }), "not a zip"));
}

TEST(ReferenceCheckpoint, LegacyFormatIsRefusedWithAHint) {
    const auto path = fixtures() / "reference_legacy.pth";
    const std::string message = error_of([&] { read_torch_state_dict(path); });
    EXPECT_TRUE(mentions(message, path.string()));
    EXPECT_TRUE(mentions(message, "legacy"));
    EXPECT_TRUE(mentions(message, "PyTorch >= 1.6"));
}

TEST(ReferenceCheckpoint, ForeignGlobalsAndOpcodesAreRefused) {
    const test::TempDir dir;
    const auto path = dir.path() / "evil.pth";
    const auto refused = [&](const std::string& pickle) {
        write_archive(path, &pickle, {});
        const std::string message = error_of([&] { read_torch_state_dict(path); });
        EXPECT_TRUE(mentions(message, path.string()));
        EXPECT_TRUE(mentions(message, "not a PyTorch state dict archive"));
        return message;
    };
    Pickle system;
    system.global("os", "system").str("true").op('\x85').op('R').op('.');
    EXPECT_TRUE(mentions(refused(system.bytes()), "global os.system"));

    Pickle text_int;  // protocol-0 INT, never written by torch.save
    text_int.op('}').op('I');
    EXPECT_TRUE(mentions(refused(text_int.bytes() + "1\n."), "opcode 0x49"));

    Pickle not_tensor;  // {'w': 3}: a dict, but not of tensors
    not_tensor.op('}').str("w").integer(3).op('s').op('.');
    EXPECT_TRUE(mentions(refused(not_tensor.bytes()), "'w'"));

    Pickle list;
    list.op(']').op('.');
    EXPECT_TRUE(mentions(refused(list.bytes()), "list"));

    EXPECT_TRUE(mentions(refused(std::string("\x80\x02}", 3)), "ends inside"));  // no STOP
}

TEST(ReferenceCheckpoint, MissingStorageRecordIsNamed) {
    const test::TempDir dir;
    const auto path = dir.path() / "model.pth";
    const std::string pickle = state_dict_pickle({{"w", torch::zeros({2})}}).bytes();
    write_archive(path, &pickle, {});
    const std::string message = error_of([&] { read_torch_state_dict(path); });
    EXPECT_TRUE(mentions(message, path.string()));
    EXPECT_TRUE(mentions(message, "data/0"));

    write_archive(path, &pickle, {{"data/0", std::string(4, '\0')}});  // 1 float of 2
    EXPECT_TRUE(mentions(error_of([&] { read_torch_state_dict(path); }), "data/0"));
}

TEST(ReferenceCheckpoint, WrongShapeNamesTheKeyAndBothShapes) {
    const test::TempDir dir;
    const ZoomDiffNet net(tiny_reference_config());
    auto tensors = reference_keys(net);
    for (auto& [key, value] : tensors) {
        value = key == "diffmodel.residual_layers.0.mid_projection.weight"
                    ? torch::zeros({16, 9, 1})
                    : torch::zeros(value.sizes());
    }
    write_state_dict(dir.path() / "model.pth", tensors);
    fs::copy_file(tiny_folder() / "config.json", dir.path() / "config.json");
    const std::string message =
        error_of([&] { load_reference_run(dir.path(), nullptr, 1, nullptr); });
    EXPECT_TRUE(mentions(message, (dir.path() / "model.pth").string()));
    EXPECT_TRUE(mentions(message, "diffmodel.residual_layers.0.mid_projection.weight"));
    EXPECT_TRUE(mentions(message, "16x9x1"));
    EXPECT_TRUE(mentions(message, "16x8x1"));
}

TEST(ReferenceCheckpoint, OverrideWithOtherChannelsNamesTheFirstMismatch) {
    ModelConfig wider = tiny_reference_config();
    wider.diffusion.channels = 16;
    const std::string message =
        error_of([&] { load_reference_run(tiny_folder(), &wider, 1, nullptr); });
    EXPECT_TRUE(mentions(message, "model.pth"));
    EXPECT_TRUE(mentions(message, "diffmodel.input_projection.weight"));
    EXPECT_TRUE(mentions(message, "8x1x1"));
    EXPECT_TRUE(mentions(message, "16x1x1"));
}

}  // namespace
}  // namespace zoomdiff::model
