#pragma once

// zoomdiff_train's job, torch-free so the flag layer can fill it (reference/MODEL.md §4,
// README "Training"): which cities, which task, where the run folder goes, and what came out.
//
// Train / validation tiles: the reference's seeded 80 / 20 split (seed 24), except for a city whose
// data file holds /split_2000m ((R, C): 0 train, 1 validation, 2 test; uomo_import writes the
// upstream splits there): its tiles are split exactly by those labels and test tiles are used by
// neither (data::prepare_training_data). manifest.json records per city "split"
// ("seeded_80_20" or "file:/split_2000m") and, for a file split, the tile ids of each side.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/core/world.hpp"
#include "zoomdiff/data/training_set.hpp"

namespace zoomdiff::model {

struct TrainOptions {
    std::string dataset;                         ///< "A*B*C", Chinese or English names
    std::string datatype = "traffic";            ///< traffic | user
    std::string device = "cpu";                  ///< cpu | cuda | cuda:N
    std::filesystem::path config = "base.yaml";  ///< file, or a bare name of an embedded config
    std::filesystem::path data_root = "datasets/cities";  ///< <root>/<City>/{data,cond}/
    std::filesystem::path out;         ///< run folder; empty: save/<datatype>_<dataset>_t.s._<time>
    std::filesystem::path resume;      ///< continue this run folder from its last checkpoint
    std::filesystem::path base_model;  ///< run folder (or weight file) few/zero-shot start from
    data::Task task = data::Task::kFull;
    std::uint64_t seed = 1;
    int threads = 1;                    ///< intra-op threads (resolved, >= 1)
    std::optional<int> epochs;          ///< overrides train.epochs
    std::optional<int> batch_size;      ///< overrides train.batch_size
    std::optional<double> lr;           ///< overrides train.lr
    std::optional<int> valid_interval;  ///< overrides train.valid_interval
    int checkpoint_every = 1;           ///< epochs between resumable checkpoints
    /// Where this process stands in a distributed run (torchrun's variables; the tool reads them).
    /// With world_size > 1 every batch of train.batch_size tiles is shared out over the ranks,
    /// the gradients are averaged over them, and only rank 0 writes the run folder.
    core::World world;
    int dist_timeout_s = 300;  ///< rendezvous and collective timeout (seconds)
    std::string command_line;  ///< recorded in the manifest
};

struct TrainSummary {
    std::filesystem::path run_dir;
    int epochs_done = 0;
    double last_train_loss = 0.0;
    double best_valid_loss = 0.0;  ///< NaN when no validation ran
    int best_epoch = -1;           ///< 1-based epoch of model_best.pt, -1 when none
};

/// Train (or, zero-shot, evaluate) and write the run folder (README "Training"):
/// config.yaml, manifest.json, scalers.json, train_log.csv, model.pt, model_best.pt,
/// checkpoint/last.pt. Every file is written atomically; checkpoint/last.pt always holds a state
/// that `--resume` continues to the same bits as an uninterrupted run with the same seed and
/// threads. Bad input throws zoomdiff::Error before any training starts.
TrainSummary run_training(const TrainOptions& request, core::Progress& progress);

}  // namespace zoomdiff::model
