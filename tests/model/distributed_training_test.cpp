// zoomdiff_train over c10d (issue 10, docs/distributed.md): local ranks on loopback Gloo, each
// a zoomdiff_train process with torchrun's variables, checked against one process.
//
// Equivalence: with per-tile draws every tile draws the same noise, steps and dropout masks
// whichever rank computes it, so R ranks sharing batches of b tiles take the same optimizer steps
// as one process with batches of b; what differs is float summation order (each rank's loss over
// its share, the all-reduce, the weighting by shares). Tolerance: every weight within
// 1e-5 + 1e-4 |w| (torch::allclose), logged losses within 1e-6 relative. Measured here: max
// |weight difference| 6e-8 (2 ranks) and 1.2e-7 (3 ranks) after 9 Adam steps, 4.4e-7 after 48
// steps cut by SIGKILL on 2 ranks and resumed by one process.
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/ranks.hpp"
#include "support/support.hpp"
#include "support/tiny_city.hpp"
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/torch.h>

#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/network.hpp"
#include "zoomdiff/model/weights.hpp"

namespace zoomdiff::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// 16 tiles -> 13 train (3 batches of 4 per epoch, the last partial one dropped), 3 validation.
constexpr const char* kTinyYaml = R"(
train: {epochs: 3, batch_size: 4, lr: 0.002, valid_interval: 1}
diffusion: {layers: 1, channels: 8, nheads: 2, diffusion_embedding_dim: 8, num_steps: 6}
model: {timeemb: 4, spatialemb: 4, feature_emb: 4}
)";
constexpr double kAbsTolerance = 1e-5;
constexpr double kRelTolerance = 1e-4;

std::string q(const fs::path& p) {
    return "'" + p.string() + "'";
}

std::vector<std::vector<double>> log_rows(const fs::path& log) {
    std::ifstream in(log);
    std::vector<std::vector<double>> rows;
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::stringstream fields(line);
        std::vector<double> row;
        std::string field;
        for (int i = 0; i < 3 && std::getline(fields, field, ','); ++i)
            row.push_back(field.empty() ? NAN : std::stod(field));
        rows.push_back(row);
    }
    return rows;
}

class DistributedTraining : public ::testing::Test {
protected:
    void SetUp() override {
        write_tiny_city(root(), "Nanchang", "traffic", 4, 4, 5);
        std::ofstream(config()) << kTinyYaml;
    }

    [[nodiscard]] fs::path root() const { return dir_.path() / "cities"; }

    [[nodiscard]] fs::path config() const { return dir_.path() / "tiny.yaml"; }

    [[nodiscard]] fs::path run(const std::string& name) const { return dir_.path() / name; }

    [[nodiscard]] std::string args(const std::string& name, const std::string& extra = "") const {
        return "--dataset Nanchang --datatype traffic --data_root " + q(root()) + " --config " +
               q(config()) + " --out " + q(run(name)) + " --seed 3 --threads 1 --dist_timeout 30 " +
               extra;
    }

    /// All ranks of one run, each expected to exit 0.
    void train_ranks(int world_size, const std::string& arguments) const {
        const auto ranks = start_ranks(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE, arguments, world_size,
                                       free_port(), dir_.path());
        for (const auto& r : ranks) {
            ASSERT_EQ(wait_rank(r, 120s).code(), 0) << "rank " << r.rank << ":\n" << rank_log(r);
        }
    }

    void train_single(const std::string& arguments) const {
        const auto result = run_tool(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE, arguments, dir_.path());
        ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
    }

    static std::map<std::string, torch::Tensor> weights(const fs::path& run_dir,
                                                        const std::string& file = "model.pt") {
        auto net = model::ZoomDiffNet(model::load_model_config(run_dir / "config.yaml"));
        model::load_weights(net, run_dir / file);
        return model::named_tensors(net);
    }

    /// Every weight of two runs within the stated tolerance; returns the largest difference.
    static double expect_same_weights(const fs::path& a, const fs::path& b) {
        const auto wa = weights(a);
        const auto wb = weights(b);
        EXPECT_EQ(wa.size(), wb.size());
        double worst = 0.0;
        for (const auto& [name, ta] : wa) {
            const auto& tb = wb.at(name);
            EXPECT_TRUE(torch::allclose(ta, tb, kRelTolerance, kAbsTolerance)) << name;
            worst = std::max(worst, (ta - tb).abs().max().item<double>());
        }
        return worst;
    }

    static void expect_same_losses(const fs::path& a, const fs::path& b) {
        const auto la = log_rows(a / "train_log.csv");
        const auto lb = log_rows(b / "train_log.csv");
        ASSERT_EQ(la.size(), lb.size());
        for (std::size_t i = 0; i < la.size(); ++i) {
            EXPECT_EQ(la[i][0], lb[i][0]);
            for (std::size_t j = 1; j < la[i].size(); ++j) {
                EXPECT_EQ(std::isnan(la[i][j]), std::isnan(lb[i][j]))
                    << "epoch " << la[i][0] << " column " << j;
                if (std::isnan(la[i][j]) || std::isnan(lb[i][j]))
                    continue;  // no validation that epoch
                EXPECT_NEAR(la[i][j], lb[i][j], 1e-6 * std::abs(la[i][j]))
                    << "epoch " << la[i][0] << " column " << j;
            }
        }
    }

    TempDir dir_;
};

TEST_F(DistributedTraining, RanksSharingBatchesMatchOneProcess) {
    train_single(args("one"));
    train_ranks(2, args("two"));    // 2 ranks x 2 tiles = 1 process x 4 tiles
    train_ranks(3, args("three"));  // shares of 1, 1 and 2 tiles: the weighting by share matters
    for (const auto* name : {"two", "three"}) {
        SCOPED_TRACE(name);
        const double worst = expect_same_weights(run("one"), run(name));
        std::printf("[ measured ] %s ranks vs one process: max |weight difference| %.3g\n", name,
                    worst);
        expect_same_losses(run("one"), run(name));
        EXPECT_TRUE(fs::exists(run(name) / "model_best.pt"));
        EXPECT_TRUE(fs::exists(run(name) / "checkpoint/last.pt"));
        std::ifstream manifest(run(name) / "manifest.json");
        const std::string text((std::istreambuf_iterator<char>(manifest)),
                               std::istreambuf_iterator<char>());
        EXPECT_NE(text.find("\"backend\": \"gloo\""), std::string::npos);
    }
    // Every rank logs with its label; only rank 0 wrote (the others' default folders do not exist).
    std::ifstream log1(dir_.path() / "rank1.log");
    const std::string text((std::istreambuf_iterator<char>(log1)),
                           std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("[rank 1/3]"), std::string::npos) << text;
    // Different weights for a different seed: the comparison can fail.
    train_single(args("other", "--seed 4"));
    EXPECT_FALSE(torch::allclose(weights(run("one")).at("diffmodel.input_projection.weight"),
                                 weights(run("other")).at("diffmodel.input_projection.weight"),
                                 kRelTolerance, kAbsTolerance));
}

TEST_F(DistributedTraining, ResumesWithAnotherWorldSize) {
    // 40 epochs so that a kill lands mid-run.
    const std::string longer = "--epochs 16 --valid_interval 4";
    train_single(args("whole", longer));
    const auto ranks =
        start_ranks(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE, args("cut", longer), 2, free_port(), dir_.path());
    const fs::path log = run("cut") / "train_log.csv";
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (line_count(log) < 1 + 3 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(2ms);
    for (const auto& r : ranks)
        kill(r.pid, SIGKILL);
    for (const auto& r : ranks)
        ASSERT_EQ(wait_rank(r, 30s).code(), 128 + SIGKILL)
            << "finished before the kill; make it longer";
    ASSERT_TRUE(fs::exists(run("cut") / "checkpoint/last.pt"));
    ASSERT_FALSE(fs::exists(run("cut") / "model.pt"));
    // ... continued by one process: the checkpoint holds no rank's state.
    train_single("--resume " + q(run("cut")) + " --threads 1");
    const double worst = expect_same_weights(run("whole"), run("cut"));
    std::printf("[ measured ] cut and resumed vs whole: max |weight difference| %.3g\n", worst);
    expect_same_losses(run("whole"), run("cut"));
    EXPECT_EQ(line_count(log), 17U);
}

TEST_F(DistributedTraining, ADeadRankStopsTheOthersWithinTheTimeout) {
    const auto ranks =
        start_ranks(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE, args("dead", "--epochs 100000 --dist_timeout 20"),
                    2, free_port(), dir_.path());
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (line_count(run("dead") / "train_log.csv") < 2 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(2ms);
    }
    kill(ranks[1].pid, SIGKILL);
    const auto killed = std::chrono::steady_clock::now();
    EXPECT_EQ(wait_rank(ranks[1], 10s).code(), 128 + SIGKILL);
    const int code = wait_rank(ranks[0], 40s).code();  // -1: still running after the timeout + 20 s
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
    EXPECT_EQ(code, 2) << rank_log(ranks[0]);
    EXPECT_LT(seconds, 30.0);
    const auto text = rank_log(ranks[0]);
    EXPECT_NE(text.find("zoomdiff_train: rank 0/2: the process group failed during"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("Check the log of every rank"), std::string::npos) << text;
}

TEST_F(DistributedTraining, ARankThatNeverComesIsReportedAfterTheTimeout) {
    const auto ranks = start_ranks(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE, args("alone", "--dist_timeout 2"),
                                   2, free_port(), dir_.path(), {0});
    EXPECT_EQ(wait_rank(ranks[0], 30s).code(), 2);
    const auto text = rank_log(ranks[0]);
    EXPECT_NE(text.find("could not meet the other ranks"), std::string::npos) << text;
    EXPECT_FALSE(fs::exists(run("alone")));
}

TEST_F(DistributedTraining, BadInputOnOneRankStopsEveryRank) {
    // Rank 1 cannot find its city files (--data_root is read by every rank): both exit 2, rank 1
    // naming the file, rank 0 pointing at the other rank; nothing is written.
    const int port = free_port();
    auto r0 = start_ranks(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE, args("bad"), 2, port, dir_.path(), {0});
    auto r1 = start_ranks(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE,
                          args("bad") + " --data_root " + q(dir_.path() / "nowhere"), 2, port,
                          dir_.path(), {1});
    EXPECT_EQ(wait_rank(r1[0], 60s).code(), 2);
    EXPECT_EQ(wait_rank(r0[0], 60s).code(), 2);
    EXPECT_NE(rank_log(r1[0]).find("nowhere"), std::string::npos) << rank_log(r1[0]);
    EXPECT_NE(rank_log(r0[0]).find("another rank failed while checking its inputs"),
              std::string::npos)
        << rank_log(r0[0]);
    EXPECT_FALSE(fs::exists(run("bad")));
}

TEST_F(DistributedTraining, ReferenceDrawOrderIsRefused) {
    std::ofstream(config()) << std::string(kTinyYaml).replace(
        std::string(kTinyYaml).find("valid_interval: 1"), 17,
        "valid_interval: 1, noise: reference");
    const auto ranks =
        start_ranks(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE, args("ref"), 2, free_port(), dir_.path());
    for (const auto& r : ranks) {
        EXPECT_EQ(wait_rank(r, 60s).code(), 2);
    }
    EXPECT_NE(rank_log(ranks[0]).find("train.noise"), std::string::npos) << rank_log(ranks[0]);
}

TEST_F(DistributedTraining, ScriptStartsLocalRanks) {
    // scripts/train_distributed.sh as the README runs it, against this build's tools.
    const std::string script =
        "ZOOMDIFF_BUILD_DIR='" + fs::path(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE).parent_path().string() +
        "' bash '" + (source_dir() / "scripts" / "train_distributed.sh").string() + "'";
    const auto port = std::to_string(free_port());
    const auto ran =
        run_tool(script, "-n 2 --master_port " + port + " -- " + args("script"), dir_.path());
    ASSERT_EQ(ran.exit_code, 0) << ran.stderr_text;
    EXPECT_NE(ran.stderr_text.find("[rank 0/2]"), std::string::npos) << ran.stderr_text;
    EXPECT_NE(ran.stderr_text.find("[rank 1/2]"), std::string::npos) << ran.stderr_text;
    train_single(args("single"));
    expect_same_weights(run("single"), run("script"));

    // A failing rank's exit code is the script's (here every rank fails: no such interface).
    const auto failed = run_tool("GLOO_SOCKET_IFNAME=no-such-interface " + script,
                                 "-n 2 --master_port " + std::to_string(free_port()) + " -- " +
                                     args("failed", "--dist_timeout 5"),
                                 dir_.path());
    EXPECT_EQ(failed.exit_code, 2) << failed.stderr_text;
    EXPECT_NE(failed.stderr_text.find("GLOO_SOCKET_IFNAME"), std::string::npos)
        << failed.stderr_text;

    const auto bad = run_tool(script, "-n two -- " + args("never"), dir_.path());
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.stderr_text.find("--nproc must be a whole number"), std::string::npos)
        << bad.stderr_text;
}

}  // namespace
}  // namespace zoomdiff::test
