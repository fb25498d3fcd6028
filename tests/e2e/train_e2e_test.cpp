// End-to-end: the zoomdiff_train executable as a user runs it — killed mid-way and resumed,
// bad input, and the flags that --resume refuses.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/support.hpp"
#include "support/tiny_city.hpp"
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace zoomdiff::test {
namespace {

namespace fs = std::filesystem;

/// Long enough (in epochs) that a kill lands mid-run; tiny enough that it takes seconds.
constexpr const char* kTinyYaml = R"(
train: {epochs: 40, batch_size: 2, lr: 0.001, valid_interval: 10}
diffusion: {layers: 1, channels: 8, nheads: 2, diffusion_embedding_dim: 8, num_steps: 6}
model: {timeemb: 4, spatialemb: 4, feature_emb: 4}
)";

std::string q(const fs::path& p) {
    return "'" + p.string() + "'";
}

std::string bytes_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// epoch, train loss, val loss and lr of each line of train_log.csv (the timings differ between
/// runs).
std::vector<std::string> losses(const fs::path& log) {
    std::ifstream in(log);
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        std::size_t end = 0;
        for (int field = 0; field < 4; ++field)
            end = line.find(',', end) + 1;
        out.push_back(line.substr(0, end));
    }
    return out;
}

class TrainTool : public ::testing::Test {
protected:
    void SetUp() override {
        write_tiny_city(root(), "Nanchang", "traffic", 3, 3, 21);
        std::ofstream(config()) << kTinyYaml;
    }

    [[nodiscard]] fs::path root() const { return dir_.path() / "cities"; }

    [[nodiscard]] fs::path config() const { return dir_.path() / "tiny.yaml"; }

    [[nodiscard]] fs::path run(const std::string& name) const { return dir_.path() / name; }

    [[nodiscard]] std::string args(const std::string& name) const {
        return "--dataset Nanchang --datatype traffic --data_root " + q(root()) + " --config " +
               q(config()) + " --out " + q(run(name)) +
               " --seed 3 --threads 1";  // ctest -j: no oversubscription
    }

    [[nodiscard]] ToolRun train(const std::string& arguments) const {
        return run_tool(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE, arguments + " -q", dir_.path());
    }

    TempDir dir_;
};

TEST_F(TrainTool, KilledRunResumesToTheSameBits) {
    const auto whole = train(args("whole"));
    ASSERT_EQ(whole.exit_code, 0) << whole.stderr_text;

    // The same run, killed with SIGKILL (no chance to clean up) once a few epochs are logged.
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const std::string cmd = std::string("exec ") + ZOOMDIFF_ZOOMDIFF_TRAIN_EXE + " " +
                                args("killed") + " -q --progress never 2>/dev/null";
        execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    const fs::path log = run("killed") / "train_log.csv";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (line_count(log) < 1 + 5 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "the run finished before it could be killed; make it longer";
    const auto logged = line_count(log) - 1;
    EXPECT_LT(logged, 40U);
    EXPECT_FALSE(fs::exists(run("killed") / "model.pt"))
        << "model.pt appears only when training ends";
    ASSERT_TRUE(fs::exists(run("killed") / "checkpoint/last.pt"));

    const auto resumed = train("--resume " + q(run("killed")) + " --threads 1");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.stderr_text;
    EXPECT_EQ(bytes_of(run("killed") / "model.pt"), bytes_of(run("whole") / "model.pt"));
    EXPECT_EQ(bytes_of(run("killed") / "model_best.pt"), bytes_of(run("whole") / "model_best.pt"));
    EXPECT_EQ(losses(run("killed") / "train_log.csv"), losses(run("whole") / "train_log.csv"));
    EXPECT_EQ(line_count(run("killed") / "train_log.csv"), 41U);
    for (const auto& entry : fs::recursive_directory_iterator(run("killed"))) {
        EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos)
            << entry.path();
    }
}

TEST_F(TrainTool, ResumeKeepsTheRunsSettings) {
    const auto r = train("--resume " + q(run("none")) + " --dataset Wuhan");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.stderr_text.find("--dataset"), std::string::npos) << r.stderr_text;
    const auto missing = train("--resume " + q(run("none")));
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.stderr_text.find("manifest.json"), std::string::npos) << missing.stderr_text;
}

TEST_F(TrainTool, CorruptCheckpointIsOneClearLine) {
    ASSERT_EQ(train(args("a") + " --epochs 2").exit_code, 0);
    const fs::path checkpoint = run("a") / "checkpoint/last.pt";
    const auto bytes = bytes_of(checkpoint);
    std::ofstream(checkpoint, std::ios::binary | std::ios::trunc)
        << bytes.substr(0, bytes.size() / 2);
    const auto r = train("--resume " + q(run("a")) + " --threads 1");
    EXPECT_EQ(r.exit_code, 2) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find("last.pt"), std::string::npos) << r.stderr_text;
    EXPECT_EQ(std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n'), 1) << r.stderr_text;
}

TEST_F(TrainTool, MissingConditionsNameTheFileAndTheFix) {
    fs::remove_all(root() / "Nanchang" / "cond");
    const auto r = train(args("a"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.stderr_text.find("Nanchang_cond.h5"), std::string::npos) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find("env_extra"), std::string::npos) << r.stderr_text;
    EXPECT_FALSE(fs::exists(run("a")));
}

TEST_F(TrainTool, UnknownCityAndCudaOnACpuBuild) {
    const auto unknown = train(args("a") + " --dataset Nanchang*Gotham");
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_NE(unknown.stderr_text.find("Gotham"), std::string::npos) << unknown.stderr_text;
    const auto cuda = train(args("b") + " --device cuda:0");
    if (cuda.exit_code != 0) {  // a CUDA build on a GPU machine trains; anything else says why
        EXPECT_EQ(cuda.exit_code, 2);
        EXPECT_NE(cuda.stderr_text.find("--device"), std::string::npos) << cuda.stderr_text;
    }
}

}  // namespace
}  // namespace zoomdiff::test
