// The training loop and its run folder, in process, on tiny city files the tests write
// (tests/support/tiny_city) and a tiny config. One suite = one ctest process (LibTorch loads once).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/errors.hpp"
#include "support/support.hpp"
#include "support/tiny_city.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "zoomdiff/core/file_hash.hpp"
#include "zoomdiff/data/scaler.hpp"
#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/network.hpp"
#include "zoomdiff/model/training.hpp"
#include "zoomdiff/model/weights.hpp"

namespace zoomdiff::model {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::mentions;

/// One block of 8 channels, 6 steps: a training step takes milliseconds.
constexpr const char* kTinyTrainYaml = R"(
train: {epochs: 4, batch_size: 2, lr: 0.001, valid_interval: 2}
diffusion: {layers: 1, channels: 8, nheads: 2, diffusion_embedding_dim: 8, num_steps: 6}
model: {timeemb: 4, spatialemb: 4, feature_emb: 4}
)";

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::vector<std::string>> csv_rows(const fs::path& path) {
    std::ifstream in(path);
    std::string line;
    std::vector<std::vector<std::string>> rows;
    while (std::getline(in, line)) {
        std::vector<std::string> fields;
        std::stringstream s(line);
        std::string field;
        while (std::getline(s, field, ','))
            fields.push_back(field);
        if (!line.empty() && line.back() == ',')
            fields.emplace_back();
        rows.push_back(fields);
    }
    return rows;
}

/// Two tiny cities and the tiny config, in a temporary folder.
class TrainerFixture {
public:
    TrainerFixture() {
        test::write_tiny_city(root(), "Nanchang", "traffic", 3, 3, 11);
        test::write_tiny_city(root(), "Wuhan", "traffic", 2, 3, 12);
        test::write_tiny_city(root(), "Xian", "traffic", 4, 4, 13);  // few-shot needs 13 tiles
        std::ofstream(config()) << kTinyTrainYaml;
    }

    [[nodiscard]] fs::path root() const { return dir_.path() / "cities"; }

    [[nodiscard]] fs::path config() const { return dir_.path() / "tiny.yaml"; }

    [[nodiscard]] fs::path run(const std::string& name) const {
        return dir_.path() / "runs" / name;
    }

    [[nodiscard]] TrainOptions request(const std::string& name,
                                       const std::string& dataset = "Nanchang*Wuhan") const {
        TrainOptions r;
        r.dataset = dataset;
        r.datatype = "traffic";
        r.config = config();
        r.data_root = root();
        r.out = run(name);
        r.seed = 7;
        r.threads = 1;  // ctest runs suites side by side: one torch thread each
        r.command_line = "zoomdiff_train (test)";
        return r;
    }

private:
    test::TempDir dir_;
};

TrainSummary train(const TrainOptions& request) {
    core::NullProgress progress;
    return run_training(request, progress);
}

std::map<std::string, torch::Tensor> weights_of(const fs::path& file, const ModelConfig& config) {
    ZoomDiffNet net(config);
    load_weights(net, file);
    return named_tensors(net);
}

bool same_bits(const std::map<std::string, torch::Tensor>& a,
               const std::map<std::string, torch::Tensor>& b) {
    if (a.size() != b.size())
        return false;
    for (const auto& [key, value] : a) {
        if (!b.count(key) || !torch::equal(value, b.at(key)))
            return false;
    }
    return true;
}

TEST(Trainer, WritesACompleteRunFolder) {
    TrainerFixture f;
    const auto summary = train(f.request("a"));
    const fs::path run = f.run("a");
    EXPECT_EQ(summary.run_dir, run);
    EXPECT_EQ(summary.epochs_done, 4);
    for (const char* name : {"config.yaml", "manifest.json", "scalers.json", "train_log.csv",
                             "model.pt", "model_best.pt", "checkpoint/last.pt"}) {
        EXPECT_TRUE(fs::exists(run / name)) << name;
    }
    for (const auto& entry : fs::recursive_directory_iterator(run)) {
        EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos)
            << entry.path();
    }

    // The resolved config reloads to the run's model, and model.pt (spatial tables included) loads
    // into it.
    const ModelConfig config = load_model_config(run / "config.yaml");
    EXPECT_EQ(config.train.epochs, 4);
    EXPECT_EQ(config.diffusion.channels, 8);
    const auto weights = weights_of(run / "model.pt", config);
    ASSERT_TRUE(weights.count("spatial_embedding"));
    EXPECT_EQ(weights.at("spatial_embedding").size(0), config.segments());

    // Manifest: provenance, and the hash of every input file.
    const auto manifest = nlohmann::json::parse(read_text(run / "manifest.json"));
    EXPECT_EQ(manifest.at("status"), "complete");
    EXPECT_EQ(manifest.at("seed"), 7);
    EXPECT_EQ(manifest.at("threads"), 1);
    EXPECT_EQ(manifest.at("device"), "cpu");
    EXPECT_EQ(manifest.at("task"), "full");
    EXPECT_EQ(manifest.at("command_line"), "zoomdiff_train (test)");
    ASSERT_EQ(manifest.at("cities").size(), 2U);
    const auto& nanchang = manifest.at("cities")[0];
    EXPECT_EQ(nanchang.at("city"), "Nanchang");
    EXPECT_EQ(nanchang.at("data_sha256"),
              core::sha256_file(nanchang.at("data_file").get<std::string>()));
    EXPECT_EQ(nanchang.at("cond_sha256"),
              core::sha256_file(nanchang.at("cond_file").get<std::string>()));
    EXPECT_EQ(nanchang.at("tiles").get<int>(),
              nanchang.at("train_tiles").get<int>() + nanchang.at("valid_tiles").get<int>());
    // The seeded split names its tiles too (zoomdiff_eval --tiles valid reads them).
    EXPECT_EQ(nanchang.at("split"), "seeded_80_20");
    EXPECT_EQ(nanchang.at("split_tile_ids").at("valid").size(),
              nanchang.at("valid_tiles").get<std::size_t>());
    EXPECT_EQ(nanchang.at("split_tile_ids").at("train").size(),
              nanchang.at("train_tiles").get<std::size_t>());

    // Scalers: one per city, readable back.
    std::string datatype;
    const auto scalers = data::read_scalers(run / "scalers.json", &datatype);
    EXPECT_EQ(datatype, "traffic");
    ASSERT_EQ(scalers.size(), 2U);
    EXPECT_EQ(scalers[1].city, "Wuhan");
    EXPECT_GT(scalers[0].scaler.data_max, scalers[0].scaler.data_min);
    // Template statistics of the raw files (before clipping): max >= the clip bound, mean inside.
    EXPECT_GE(scalers[0].data_max, scalers[0].clip_bound);
    EXPECT_GT(scalers[0].data_mean, 0.0);
    EXPECT_LT(scalers[0].data_mean, scalers[0].data_max);
    EXPECT_GT(scalers[0].pop_mean, 0.0);

    // Log: one row per epoch, validation at the interval, the learning rate of each epoch.
    const auto rows = csv_rows(run / "train_log.csv");
    ASSERT_EQ(rows.size(), 5U);
    EXPECT_EQ(rows[0], (std::vector<std::string>{"epoch", "train_loss", "val_loss", "lr", "seconds",
                                                 "val_seconds"}));
    for (std::size_t e = 1; e <= 4; ++e) {
        ASSERT_EQ(rows[e].size(), 6U) << e;
        EXPECT_EQ(rows[e][0], std::to_string(e));
        EXPECT_TRUE(std::isfinite(std::stod(rows[e][1])));
        EXPECT_EQ(rows[e][2].empty(), e % 2 != 0) << "validation every 2 epochs, epoch " << e;
    }
    EXPECT_DOUBLE_EQ(std::stod(rows[1][3]), 1e-3);    // milestones 3, 3: epochs 1-3 at 1e-3
    EXPECT_NEAR(std::stod(rows[4][3]), 1e-5, 1e-12);  // epoch 4 after both milestones
    EXPECT_TRUE(summary.best_epoch == 2 || summary.best_epoch == 4);
}

TEST(Trainer, SameSeedSameBitsOtherSeedOtherBits) {
    TrainerFixture f;
    train(f.request("a"));
    train(f.request("b"));
    auto other = f.request("c");
    other.seed = 8;
    train(other);
    const ModelConfig config = load_model_config(f.config());
    const auto a = weights_of(f.run("a") / "model.pt", config);
    EXPECT_TRUE(same_bits(a, weights_of(f.run("b") / "model.pt", config)));
    EXPECT_FALSE(same_bits(a, weights_of(f.run("c") / "model.pt", config)));
    // The losses of the log too (seconds aside).
    const auto ra = csv_rows(f.run("a") / "train_log.csv");
    const auto rb = csv_rows(f.run("b") / "train_log.csv");
    ASSERT_EQ(ra.size(), rb.size());
    for (std::size_t i = 1; i < ra.size(); ++i) {
        EXPECT_EQ(ra[i][1], rb[i][1]);
        EXPECT_EQ(ra[i][2], rb[i][2]);
    }
}

TEST(Trainer, LearningRateFollowsTheReferenceMilestones) {
    TrainerFixture f;
    auto request = f.request("a", "Wuhan");
    request.epochs = 20;  // milestones 15 and 18
    request.valid_interval = 100;
    train(request);
    const auto rows = csv_rows(f.run("a") / "train_log.csv");
    ASSERT_EQ(rows.size(), 21U);
    for (int e = 1; e <= 20; ++e) {
        const double expected = e <= 15 ? 1e-3 : e <= 18 ? 1e-4 : 1e-5;
        EXPECT_NEAR(std::stod(rows[static_cast<std::size_t>(e)][3]), expected, expected * 1e-6)
            << "epoch " << e;
        // Validation only at the final epoch when the interval is longer than the run.
        EXPECT_EQ(rows[static_cast<std::size_t>(e)][2].empty(), e != 20) << "epoch " << e;
    }
}

TEST(Trainer, IntervalZeroNeverValidates) {
    TrainerFixture f;
    auto request = f.request("a", "Wuhan");
    request.epochs = 2;
    request.valid_interval = 0;
    const auto summary = train(request);
    EXPECT_TRUE(std::isnan(summary.best_valid_loss));
    const auto rows = csv_rows(f.run("a") / "train_log.csv");
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_TRUE(rows[1][2].empty());
    EXPECT_TRUE(rows[2][2].empty());
    EXPECT_EQ(read_text(f.run("a") / "model_best.pt"), read_text(f.run("a") / "model.pt"));
}

TEST(Trainer, ANonFiniteLossStopsTheRunInItsEpoch) {
    // An absurd learning rate sends the weights to infinity within a step or two; the loss,
    // read once per epoch, stops the run there with a line naming the epoch and the flag.
    TrainerFixture f;
    auto request = f.request("a", "Wuhan");
    request.epochs = 3;
    request.lr = 1e30;
    std::string message;
    try {
        train(request);
        ADD_FAILURE() << "the run did not stop";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::kInternal) << e.what();
        message = e.what();
    }
    EXPECT_TRUE(test::mentions(message, "--lr")) << message;
    EXPECT_TRUE(test::mentions(message, "the training loss became")) << message;
    EXPECT_TRUE(test::mentions(message, "in epoch")) << message;
    EXPECT_FALSE(fs::exists(f.run("a") / "model.pt"));
}

TEST(Trainer, FewShotTrainsOnlyTheReferenceSet) {
    TrainerFixture f;
    train(f.request("base", "Nanchang"));
    auto request = f.request("few", "Xian");
    request.config = "unused.yaml";  // the architecture comes from the base run
    request.task = data::Task::kFewShot;
    request.base_model = f.run("base");
    request.epochs = 2;
    train(request);
    const ModelConfig config = load_model_config(f.run("few") / "config.yaml");
    EXPECT_EQ(config.train.batch_size, 2);  // the reference's few-shot batch
    const auto before = weights_of(f.run("base") / "model.pt", config);
    const auto after = weights_of(f.run("few") / "model.pt", config);
    const std::string last_block =
        "diffmodel.residual_layers." + std::to_string(config.diffusion.layers - 1) + ".";
    for (const auto& [key, value] : before) {
        const bool trainable = key.rfind(last_block, 0) == 0 ||
                               key.find("cond_static_projection") != std::string::npos ||
                               key.find("cond_poi_projection") != std::string::npos ||
                               key.find("side_projection") != std::string::npos ||
                               key.rfind("embed_layer", 0) == 0 ||
                               key.rfind("predicted_noise_projection", 0) == 0 ||
                               key.rfind("noise_prior_projection", 0) == 0 ||
                               key.rfind("infused_noise_projection", 0) == 0;
        if (!trainable) {
            EXPECT_TRUE(torch::equal(value, after.at(key))) << key << " is frozen in few-shot";
        }
    }
    // Parameters of the set that get a gradient move (the unused prior/feature layers do not).
    for (const char* key :
         {"embed_layer.weight", "diffmodel.residual_layers.0.cond_static_projection.weight",
          "diffmodel.residual_layers.0.time_layer.layers.0.linear1.weight"}) {
        ASSERT_TRUE(after.count(key)) << key;
        EXPECT_FALSE(torch::equal(before.at(key), after.at(key))) << key << " should train";
    }
}

TEST(Trainer, ZeroShotEvaluatesTheBaseModel) {
    TrainerFixture f;
    train(f.request("base", "Nanchang"));
    auto request = f.request("zero", "Wuhan");
    request.task = data::Task::kZeroShot;
    request.base_model = f.run("base") / "model.pt";
    const auto summary = train(request);
    EXPECT_TRUE(std::isfinite(summary.best_valid_loss));
    const ModelConfig config = load_model_config(f.run("zero") / "config.yaml");
    EXPECT_TRUE(same_bits(weights_of(f.run("base") / "model.pt", config),
                          weights_of(f.run("zero") / "model.pt", config)));
    const auto rows = csv_rows(f.run("zero") / "train_log.csv");
    ASSERT_EQ(rows.size(), 2U);
    EXPECT_EQ(rows[1][0], "0");
    EXPECT_FALSE(rows[1][2].empty());
    EXPECT_EQ(data::read_scalers(f.run("zero") / "scalers.json").at(0).city, "Wuhan");
}

TEST(Trainer, BadInputFailsBeforeAnyOutput) {
    TrainerFixture f;
    auto unknown = f.request("x", "Nanchang*Atlantis");
    EXPECT_TRUE(mentions(error_of([&] { train(unknown); }), "Atlantis"));
    auto big = f.request("x", "Wuhan");
    big.batch_size = 64;
    const auto message = error_of([&] { train(big); });
    EXPECT_TRUE(mentions(message, "Wuhan_traffic_data.h5")) << message;
    EXPECT_TRUE(mentions(message, "--batch_size")) << message;
    auto few = f.request("x", "Wuhan");
    few.task = data::Task::kFewShot;
    EXPECT_TRUE(mentions(error_of([&] { train(few); }), "--base_model"));
    auto cuda = f.request("x", "Wuhan");
    cuda.device = "cuda:0";
    if (!torch::cuda::is_available())
        EXPECT_TRUE(mentions(error_of([&] { train(cuda); }), "--device"));
    EXPECT_FALSE(fs::exists(f.run("x"))) << "no run folder for a run that never started";

    train(f.request("done", "Wuhan"));
    EXPECT_TRUE(mentions(error_of([&] { train(f.request("done", "Wuhan")); }), "--resume"));
}

TEST(Trainer, ResumingAFinishedRunChangesNothing) {
    TrainerFixture f;
    train(f.request("a", "Wuhan"));
    const auto before = read_text(f.run("a") / "model.pt");
    TrainOptions resume;
    resume.resume = f.run("a");
    resume.threads = 1;
    const auto summary = train(resume);
    EXPECT_EQ(summary.epochs_done, 4);
    EXPECT_EQ(read_text(f.run("a") / "model.pt"), before);
}

TEST(Trainer, RecipeKeysStandardiseTheDataAndAverageTheWeights) {
    TrainerFixture f;
    train(f.request("plain"));
    const auto recipe_config = [&f](const std::string& name, const std::string& extra_train,
                                    const std::string& extra_diffusion) {
        const auto path = f.run("configs") / (name + ".yaml");
        fs::create_directories(path.parent_path());
        std::ofstream(path) << "train: {epochs: 4, batch_size: 2, lr: 0.001, valid_interval: 2"
                            << extra_train << "}\n"
                            << "diffusion: {layers: 1, channels: 8, nheads: 2, "
                               "diffusion_embedding_dim: 8, num_steps: 6"
                            << extra_diffusion << "}\n"
                            << "model: {timeemb: 4, spatialemb: 4, feature_emb: 4}\n"
                            << "sampler: {segment_start: coarse, clip_x0: true}\n";
        return path;
    };

    // train.ema: the same training (identical training losses), another model.pt, and validation
    // scores the average (another validation loss).
    auto ema = f.request("ema");
    ema.config = recipe_config("ema", ", ema: 0.9", "");
    train(ema);
    const auto plain_log = csv_rows(f.run("plain") / "train_log.csv");
    const auto ema_log = csv_rows(f.run("ema") / "train_log.csv");
    ASSERT_EQ(plain_log.size(), ema_log.size());
    for (std::size_t i = 1; i < plain_log.size(); ++i) {
        EXPECT_EQ(plain_log[i][1], ema_log[i][1])
            << "epoch " << i << ": the average does not change training";
    }
    EXPECT_NE(plain_log.back()[2], ema_log.back()[2]) << "validation scores the averaged weights";
    const auto plain_config = load_model_config(f.run("plain") / "config.yaml");
    EXPECT_FALSE(same_bits(weights_of(f.run("plain") / "model.pt", plain_config),
                           weights_of(f.run("ema") / "model.pt", plain_config)));

    // diffusion.standardize: the run measures the training tiles' mean and std and records them
    // with the other recipe keys in its config.yaml, which inference reads.
    auto both = f.request("both");
    both.config = recipe_config("both", ", ema: 0.9", ", standardize: true");
    train(both);
    const auto config = load_model_config(f.run("both") / "config.yaml");
    EXPECT_TRUE(config.diffusion.standardize);
    EXPECT_GT(config.diffusion.data_mean, 0.0);
    EXPECT_LT(config.diffusion.data_mean, 1.0);
    EXPECT_GT(config.diffusion.data_std, 0.0);
    EXPECT_LT(config.diffusion.data_std, 1.0);
    EXPECT_DOUBLE_EQ(config.train.ema, 0.9);
    EXPECT_EQ(config.sampler.segment_start, SegmentStart::kCoarse);
    EXPECT_TRUE(config.sampler.clip_x0);
    EXPECT_NE(csv_rows(f.run("both") / "train_log.csv")[1][1], ema_log[1][1])
        << "standardised data, other losses";

    // Resuming the finished run (its checkpoint holds the average) changes nothing.
    const auto before = read_text(f.run("both") / "model.pt");
    TrainOptions resume;
    resume.resume = f.run("both");
    resume.threads = 1;
    EXPECT_EQ(train(resume).epochs_done, 4);
    EXPECT_EQ(read_text(f.run("both") / "model.pt"), before);
    EXPECT_EQ(load_model_config(f.run("both") / "config.yaml").diffusion.data_std,
              config.diffusion.data_std);

    // diffusion.transform: log: kappa = log_offset x the training tiles' mean (the mean "both"
    // measured on the same tiles), then the mean and std of the log values.
    auto logged = f.request("log");
    logged.config =
        recipe_config("log", "", ", standardize: true, transform: log, log_offset: 0.5");
    train(logged);
    const auto log_config = load_model_config(f.run("log") / "config.yaml");
    EXPECT_EQ(log_config.diffusion.transform, ValueTransform::kLog);
    EXPECT_NEAR(log_config.diffusion.log_scale, 0.5 * config.diffusion.data_mean, 1e-12);
    EXPECT_GT(log_config.diffusion.data_mean, 0.0);
    EXPECT_NE(log_config.diffusion.data_mean, config.diffusion.data_mean);
    EXPECT_GT(log_config.diffusion.data_std, 0.0);

    // diffusion.center: hour_of_week: one mean per hour of the week, recorded; every hour has
    // the same number of values, so their average is the overall mean the log run measured, and
    // the spread around them is at most the spread around that one mean (the hours' own
    // differences are taken out).
    auto hourly = f.request("hourly");
    hourly.config = recipe_config(
        "hourly", "", ", standardize: true, transform: log, log_offset: 0.5, center: hour_of_week");
    train(hourly);
    const auto hourly_config = load_model_config(f.run("hourly") / "config.yaml");
    ASSERT_EQ(hourly_config.diffusion.hourly_mean.size(),
              static_cast<std::size_t>(core::kHoursPerWeek));
    double sum = 0.0;
    for (const double m : hourly_config.diffusion.hourly_mean)
        sum += m;
    EXPECT_NEAR(sum / core::kHoursPerWeek, log_config.diffusion.data_mean, 1e-9);
    EXPECT_LT(hourly_config.diffusion.data_std, log_config.diffusion.data_std);
    EXPECT_GT(hourly_config.diffusion.data_std, 0.0);
    const auto [low, high] = std::minmax_element(hourly_config.diffusion.hourly_mean.begin(),
                                                 hourly_config.diffusion.hourly_mean.end());
    EXPECT_LT(*low, *high) << "the fixture's series have a daily cycle";
    EXPECT_NE(csv_rows(f.run("hourly") / "train_log.csv")[1][1],
              csv_rows(f.run("log") / "train_log.csv")[1][1])
        << "other units, other losses";

    // diffusion.spread: hour_of_week: the spread at each hour around the same hourly means, never
    // below the floor; their mean square is the pooled spread's square where no floor binds.
    auto scaled = f.request("scaled");
    scaled.config = recipe_config("scaled", "",
                                  ", standardize: true, transform: log, log_offset: 0.5, center: "
                                  "hour_of_week, spread: hour_of_week");
    train(scaled);
    const auto scaled_config = load_model_config(f.run("scaled") / "config.yaml");
    EXPECT_EQ(scaled_config.diffusion.hourly_mean, hourly_config.diffusion.hourly_mean);
    EXPECT_EQ(scaled_config.diffusion.data_std, hourly_config.diffusion.data_std);
    ASSERT_EQ(scaled_config.diffusion.hourly_std.size(),
              static_cast<std::size_t>(core::kHoursPerWeek));
    double squares = 0.0;
    for (const double s : scaled_config.diffusion.hourly_std) {
        EXPECT_GE(s, kMinHourlySpread * scaled_config.diffusion.data_std);
        squares += s * s;
    }
    EXPECT_GE(std::sqrt(squares / core::kHoursPerWeek),
              scaled_config.diffusion.data_std * (1 - 1e-9));
    const auto [narrow, wide] = std::minmax_element(scaled_config.diffusion.hourly_std.begin(),
                                                    scaled_config.diffusion.hourly_std.end());
    EXPECT_LT(*narrow, *wide) << "the fixture's hours differ in spread";
    EXPECT_NE(csv_rows(f.run("scaled") / "train_log.csv")[1][1],
              csv_rows(f.run("hourly") / "train_log.csv")[1][1]);
}

}  // namespace
}  // namespace zoomdiff::model
