#include "zoomdiff/model/checkpoint.hpp"

#include <cstring>
#include <string>

#include <fmt/format.h>
#include <torch/serialize.h>

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/model/weights.hpp"

namespace zoomdiff::model {
namespace {

constexpr std::int64_t kFormat = 3;
constexpr const char* kFix =
    "The checkpoint is damaged or from another build; start the run again without --resume";

/// The log as a (rows, 6) float64 tensor: epoch, train loss, val loss, lr, seconds, val seconds.
torch::Tensor log_tensor(const std::vector<TrainLogRow>& log) {
    auto t = torch::empty({static_cast<std::int64_t>(log.size()), 6}, torch::kDouble);
    auto a = t.accessor<double, 2>();
    for (std::size_t i = 0; i < log.size(); ++i) {
        const auto row = static_cast<std::int64_t>(i);
        a[row][0] = log[i].epoch;
        a[row][1] = log[i].train_loss;
        a[row][2] = log[i].val_loss;
        a[row][3] = log[i].lr;
        a[row][4] = log[i].seconds;
        a[row][5] = log[i].val_seconds;
    }
    return t;
}

std::vector<TrainLogRow> log_rows(const torch::Tensor& t) {
    std::vector<TrainLogRow> log;
    const auto a = t.accessor<double, 2>();
    for (std::int64_t i = 0; i < t.size(0); ++i) {
        log.push_back({static_cast<int>(a[i][0]), a[i][1], a[i][2], a[i][3], a[i][4], a[i][5]});
    }
    return log;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const ZoomDiffNet& net,
                     torch::optim::Adam& optimizer, const std::vector<at::Generator>& generators,
                     const TrainingState& state) {
    torch::serialize::OutputArchive archive;
    archive.write("format", torch::tensor(kFormat));
    torch::serialize::OutputArchive weights;
    write_weights(weights, net);
    archive.write("weights", weights);
    torch::serialize::OutputArchive adam;
    optimizer.save(adam);
    archive.write("optimizer", adam);
    archive.write("generators", torch::tensor(static_cast<std::int64_t>(generators.size())));
    for (std::size_t i = 0; i < generators.size(); ++i) {
        archive.write("generator" + std::to_string(i), generators[i].get_state());
    }
    archive.write("epochs_done", torch::tensor(static_cast<std::int64_t>(state.epochs_done)));
    archive.write("best_valid", torch::tensor(state.best_valid, torch::kDouble));
    archive.write("best_epoch", torch::tensor(static_cast<std::int64_t>(state.best_epoch)));
    archive.write("log", log_tensor(state.log));
    archive.write("average_count", torch::tensor(static_cast<std::int64_t>(state.average.size())));
    for (std::size_t i = 0; i < state.average.size(); ++i) {
        archive.write("average" + std::to_string(i), state.average[i]);
    }
    save_archive(archive, path);
}

TrainingState load_checkpoint(const std::filesystem::path& path, ZoomDiffNet& net,
                              torch::optim::Adam& optimizer,
                              std::vector<at::Generator>& generators) {
    TrainingState state;
    try {
        torch::serialize::InputArchive archive;
        // Optimizer state goes straight to the network's device; CPU-only pieces are moved back.
        archive.load_from(path.string(), net->spatial_embedding.device());
        // A fresh tensor per read: InputArchive::read set_()s into a defined tensor's storage.
        const auto read = [&archive](const std::string& key) {
            torch::Tensor t;
            archive.read(key, t);
            return t;
        };
        auto value = read("format");
        if (value.item<std::int64_t>() != kFormat) {
            throw Error(
                path.string(),
                fmt::format("checkpoint format {} is not supported", value.item<std::int64_t>()),
                kFix);
        }
        torch::serialize::InputArchive weights;
        archive.read("weights", weights);
        read_weights(weights, net, path.string());
        torch::serialize::InputArchive adam;
        archive.read("optimizer", adam);
        optimizer.load(adam);
        value = read("generators");
        if (value.item<std::int64_t>() != static_cast<std::int64_t>(generators.size())) {
            throw Error(path.string(),
                        "was written by a run on another kind of device (CPU vs GPU generators)",
                        "Resume with the --device the run started with");
        }
        for (std::size_t i = 0; i < generators.size(); ++i) {
            generators[i].set_state(
                read(("generator" + std::to_string(i)).c_str()).to(torch::kCPU));
        }
        value = read("epochs_done");
        state.epochs_done = static_cast<int>(value.item<std::int64_t>());
        value = read("best_valid");
        state.best_valid = value.item<double>();
        value = read("best_epoch");
        state.best_epoch = static_cast<int>(value.item<std::int64_t>());
        value = read("log");
        state.log = log_rows(value.to(torch::kCPU));
        // Checkpoints written before train.ema existed have no average (the trainer then starts
        // one).
        torch::Tensor count;
        if (archive.try_read("average_count", count)) {
            for (std::int64_t i = 0; i < count.item<std::int64_t>(); ++i) {
                state.average.push_back(read("average" + std::to_string(i)));
            }
        }
    } catch (const c10::Error& e) {
        throw Error(path.string(),
                    fmt::format("not a readable checkpoint ({})", e.what_without_backtrace()),
                    kFix);
    }
    if (static_cast<int>(state.log.size()) != state.epochs_done) {
        throw Error(path.string(), "log and epoch counter disagree", kFix);
    }
    return state;
}

}  // namespace zoomdiff::model
