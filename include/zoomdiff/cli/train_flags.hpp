#pragma once

#include <CLI/CLI.hpp>

#include "zoomdiff/model/training.hpp"

namespace zoomdiff::cli {

/// zoomdiff_train's flags: the reference's names (MODEL.md §4.11) plus ours.
void add_train_flags(CLI::App& app, model::TrainOptions& request);

/// After parsing: --resume continues a run with its own settings, so any flag that would change
/// them is an error naming it (exit 2).
void check_train_flags(const CLI::App& app, const model::TrainOptions& request);

}  // namespace zoomdiff::cli
