#include "golden/model/model_golden_support.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

#include "support/support.hpp"
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "zoomdiff/model/weights.hpp"

namespace zoomdiff::test {
namespace {

std::filesystem::path model_h5() {
    return golden_dir() / "model_small.h5";
}

template <typename T>
torch::Tensor to_tensor(const NdArray<T>& array, torch::ScalarType type) {
    std::vector<std::int64_t> sizes(array.shape().begin(), array.shape().end());
    return torch::from_blob(const_cast<T*>(array.data()), sizes, type).clone();
}

/// Golden tests use one torch thread (golden/README.md: the numbers were made with one), and
/// print how many arrays they compared.
class GoldenModelEnvironment : public ::testing::Environment {
public:
    void SetUp() override { at::set_num_threads(1); }

    void TearDown() override {
        std::printf("golden.model: compared %d arrays against %s\n", compared_arrays(),
                    model_h5().string().c_str());
    }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new GoldenModelEnvironment);

}  // namespace

int& compared_arrays() {
    static int count = 0;
    return count;
}

const io::H5File& model_golden() {
    static const std::unique_ptr<io::H5File> file = [] {
        if (!std::filesystem::exists(model_h5())) {
            ADD_FAILURE() << missing_data(model_h5())
                          << ", or set ZOOMDIFF_GOLDEN_DIR to a golden folder";
            throw std::runtime_error("no golden model file");
        }
        return std::make_unique<io::H5File>(io::H5File::open_read(model_h5()));
    }();
    return *file;
}

torch::Tensor read_float(const std::string& dataset) {
    return to_tensor(model_golden().read<float>(dataset), torch::kFloat);
}

torch::Tensor read_double(const std::string& dataset) {
    return to_tensor(model_golden().read<double>(dataset), torch::kDouble);
}

torch::Tensor read_long(const std::string& dataset) {
    return to_tensor(model_golden().read<std::int64_t>(dataset), torch::kLong);
}

model::ModelConfig golden_config() {
    auto config = model::parse_model_config(model_golden().attr_string("/", "config_yaml"),
                                            model_h5().string() + ":config_yaml");
    config.model.condition_layout = model::ConditionLayout::kReference;
    return config;
}

model::ZoomDiffNet golden_net() {
    model::ZoomDiffNet net(golden_config());
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& key : model_golden().children("/state_dict")) {
        tensors.emplace(key, read_float("/state_dict/" + key));
    }
    tensors.emplace("spatial_embedding", read_float("/spatial_embedding"));
    model::load_named_tensors(net, tensors, model_h5().string(), /*allow_missing_spatial=*/false);
    net->eval();
    return net;
}

model::BatchConditions golden_conditions(const std::string& group) {
    return {read_float(group + "/cond_static"), read_float(group + "/cond_poi"),
            read_long(group + "/timepoints").to(torch::kFloat)};
}

void expect_close(const torch::Tensor& ours, const torch::Tensor& expected, double tol,
                  const std::string& what) {
    ++compared_arrays();
    ASSERT_EQ(ours.sizes(), expected.sizes()) << what;
    const auto a = ours.detach().to(torch::kCPU, torch::kDouble);
    const auto b = expected.to(torch::kDouble);
    const double scale = std::max(1.0, b.abs().max().item<double>());
    const auto diff = (a - b).abs();
    const double worst = diff.max().item<double>();
    const auto at = diff.flatten().argmax().item<std::int64_t>();
    EXPECT_LE(worst, tol * scale) << what << ": worst at flat index " << at << ": ours "
                                  << a.flatten()[at].item<double>() << ", golden "
                                  << b.flatten()[at].item<double>() << " (scale " << scale
                                  << ", tolerance " << tol << ")";
    EXPECT_TRUE(torch::isfinite(a).all().item<bool>()) << what << ": non-finite values";
}

void expect_identical(const torch::Tensor& ours, const torch::Tensor& expected,
                      const std::string& what) {
    ++compared_arrays();
    ASSERT_EQ(ours.sizes(), expected.sizes()) << what;
    ASSERT_EQ(ours.scalar_type(), expected.scalar_type()) << what;
    const auto differs = ours.detach().to(torch::kCPU).ne(expected);
    const auto count = differs.sum().item<std::int64_t>();
    if (count > 0) {
        const auto at = differs.flatten().to(torch::kInt).argmax().item<std::int64_t>();
        ADD_FAILURE() << what << ": " << count << " elements differ; first at flat index " << at
                      << ": ours " << ours.flatten()[at].item<double>() << ", golden "
                      << expected.flatten()[at].item<double>();
    }
}

std::vector<std::string> children_with_prefix(const std::string& group, const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& name : model_golden().children(group)) {
        if (name.rfind(prefix, 0) == 0)
            out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace zoomdiff::test
