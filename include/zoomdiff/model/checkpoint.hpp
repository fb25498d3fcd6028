#pragma once

// Resumable training state (checkpoint/last.pt of a run folder): weights, Adam state, the
// training generator, the epoch counter, the best validation and the log so far. One archive,
// written atomically, so an interrupted run always leaves a complete last checkpoint.

#include <filesystem>
#include <limits>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/optim/adam.h>

#include "zoomdiff/model/network.hpp"

namespace zoomdiff::model {

/// One line of train_log.csv (NaN = not computed that epoch).
struct TrainLogRow {
    int epoch = 0;  ///< 1-based; 0 = before training (zero-shot)
    double train_loss = 0.0;
    double val_loss = 0.0;
    double lr = 0.0;
    double seconds = 0.0;      ///< training time of the epoch
    double val_seconds = 0.0;  ///< validation time (0 when none ran)
};

struct TrainingState {
    int epochs_done = 0;
    double best_valid = std::numeric_limits<double>::quiet_NaN();
    int best_epoch = -1;
    std::vector<TrainLogRow> log;
    /// The moving average of the trainable weights (train.ema > 0), in their order; empty when off.
    std::vector<torch::Tensor> average;
};

/// Save everything a resumed run needs to continue to the same bits. `generators`: the training
/// CPU generator, then (training on a GPU) the device's generator.
void save_checkpoint(const std::filesystem::path& path, const ZoomDiffNet& net,
                     torch::optim::Adam& optimizer, const std::vector<at::Generator>& generators,
                     const TrainingState& state);

/// Restore a checkpoint into a network, optimizer and generators built the same way; errors name
/// the file (also a checkpoint of a CPU run resumed on a GPU, or the reverse).
TrainingState load_checkpoint(const std::filesystem::path& path, ZoomDiffNet& net,
                              torch::optim::Adam& optimizer,
                              std::vector<at::Generator>& generators);

}  // namespace zoomdiff::model
