// End-to-end (issue 8, real-data evaluation): uomo_import on the real UoMo SD file ->
// zoomdiff_train with a tiny poi_only config -> zoomdiff_infer on the held-out test patches.
#include <cmath>
#include <fstream>
#include <string>

#include "support/support.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::test {
namespace {

namespace fs = std::filesystem;

#if defined(ZOOMDIFF_UOMO_IMPORT_EXE) && defined(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE) && \
    defined(ZOOMDIFF_ZOOMDIFF_INFER_EXE)

constexpr const char* kTinyPoiOnly = R"(
train: {epochs: 2, batch_size: 8, lr: 0.001, valid_interval: 1}
diffusion: {layers: 1, channels: 8, nheads: 2, diffusion_embedding_dim: 8, num_steps: 6}
model: {timeemb: 4, spatialemb: 4, feature_emb: 4, condition_layout: poi_only, poi_channels: 22}
)";

std::string q(const fs::path& p) {
    return "'" + p.string() + "'";
}

fs::path sd_npz() {
    return test_data_dir() / "uomo_patches_traffic_users_poi/uomo_SD_series.npz";
}

TEST(UomoE2e, ImportTrainAndGenerateTheHeldOutPatches) {
    ASSERT_TRUE(fs::exists(sd_npz())) << missing_data(sd_npz());
    TempDir dir;
    const fs::path root = dir.path() / "data";
    for (const auto& [city, splits] :
         {std::pair{"UoMoSD", "train,val"}, std::pair{"UoMoSDTest", "test"}}) {
        const auto run = run_tool(ZOOMDIFF_UOMO_IMPORT_EXE,
                                  "--npz " + q(sd_npz()) + " --city " + city + " --splits " +
                                      splits + " --out_root " + q(root),
                                  dir.path());
        ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
    }
    { std::ofstream(dir.path() / "tiny.yaml") << kTinyPoiOnly; }
    const fs::path model = dir.path() / "run";
    const auto train = run_tool(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE,
                                "--dataset UoMoSD --datatype traffic --data_root " + q(root) +
                                    " --config " + q(dir.path() / "tiny.yaml") + " --out " +
                                    q(model) + " --seed 5 --threads 1 -q",
                                dir.path());
    ASSERT_EQ(train.exit_code, 0) << train.stderr_text;
    ASSERT_TRUE(fs::exists(model / "model.pt"));
    nlohmann::json manifest;
    std::ifstream(model / "manifest.json") >> manifest;
    const auto& city = manifest.at("cities").at(0);
    EXPECT_EQ(city.at("split").get<std::string>(), "file:/split_2000m");
    EXPECT_EQ(city.at("train_tiles").get<int>() + city.at("valid_tiles").get<int>(),
              city.at("tiles").get<int>());
    for (const auto& id : city.at("split_tile_ids").at("valid"))
        EXPECT_GE(id.get<int>(), 33);
    for (const auto& id : city.at("split_tile_ids").at("train"))
        EXPECT_LT(id.get<int>(), 33);

    const fs::path results = dir.path() / "results";
    const std::string infer_args = "--dataset UoMoSDTest --datatype traffic --data_root " +
                                   q(root) + " --modelfolder " + q(model) +
                                   " --nsample 2 --calibration none --out " + q(results) +
                                   " --seed 2 --threads 1 -q";
    // A patches city has no map: the reference's npz and GeoTIFFs are refused, naming the city
    // file.
    const auto refused =
        run_tool(ZOOMDIFF_ZOOMDIFF_INFER_EXE, infer_args + " --format h5,geotiff", dir.path());
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.stderr_text.find("UoMoSDTest_cond.h5"), std::string::npos)
        << refused.stderr_text;
    EXPECT_NE(refused.stderr_text.find("patches"), std::string::npos) << refused.stderr_text;
    EXPECT_FALSE(fs::exists(results / "UoMoSDTest_traffic.h5"));

    const auto infer =
        run_tool(ZOOMDIFF_ZOOMDIFF_INFER_EXE, infer_args + " --format h5", dir.path());
    ASSERT_EQ(infer.exit_code, 0) << infer.stderr_text;
    const fs::path out = results / "UoMoSDTest_traffic.h5";
    ASSERT_TRUE(fs::exists(out));
    const auto file = io::H5File::open_read(out);
    // The 6 test patches side by side on a placeholder grid of 1 x 6 tiles (CF cubes: sample,
    // time, y, x; the finest scale at the root).
    EXPECT_EQ(file.shape("/2000m/samples"), (std::vector<std::size_t>{2, 168, 1, 6}));
    EXPECT_EQ(file.shape("/mean"), (std::vector<std::size_t>{168, 4, 24}));
    EXPECT_NE(file.attr_string("/", "metrics").find("\"tile_arrangement\":\"patches\""),
              std::string::npos);
    const auto mean = file.read<float>("/mean").values();
    for (const float v : mean)
        ASSERT_TRUE(std::isfinite(v));
}

TEST(UomoE2e, ImportErrorsAreOneLineNamingTheProblem) {
    TempDir dir;
    const auto missing =
        run_tool(ZOOMDIFF_UOMO_IMPORT_EXE,
                 "--npz " + q(dir.path() / "nope.npz") + " --city X --out_root " + q(dir.path()),
                 dir.path());
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.stderr_text.find("nope.npz"), std::string::npos) << missing.stderr_text;
    ASSERT_TRUE(fs::exists(sd_npz())) << missing_data(sd_npz());
    const auto split = run_tool(
        ZOOMDIFF_UOMO_IMPORT_EXE,
        "--npz " + q(sd_npz()) + " --city X --splits train,holdout --out_root " + q(dir.path()),
        dir.path());
    EXPECT_EQ(split.exit_code, 2);
    EXPECT_NE(split.stderr_text.find("holdout"), std::string::npos) << split.stderr_text;
    EXPECT_FALSE(fs::exists(dir.path() / "X"));
}

#endif

}  // namespace
}  // namespace zoomdiff::test
