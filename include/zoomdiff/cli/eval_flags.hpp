#pragma once

#include <CLI/CLI.hpp>

#include "zoomdiff/eval/evaluation.hpp"

namespace zoomdiff::cli {

/// zoomdiff_eval's flags (EVAL.md is the metric contract). `train_list` receives --train as
/// typed ('*'-separated); apply_eval_flags splits it into request.train.
void add_eval_flags(CLI::App& app, eval::EvalOptions& request, std::string& train_list);

/// Split `train_list` ("a.h5*b.h5") into request.train. An empty entry throws zoomdiff::Error
/// naming --train.
void apply_eval_flags(eval::EvalOptions& request, const std::string& train_list);

}  // namespace zoomdiff::cli
