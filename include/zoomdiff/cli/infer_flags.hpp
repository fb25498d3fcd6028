#pragma once

#include <CLI/CLI.hpp>

#include "zoomdiff/model/inference.hpp"

namespace zoomdiff::cli {

/// zoomdiff_infer's flags: the reference's names (MODEL.md §5.1) plus ours.
void add_infer_flags(CLI::App& app, model::InferOptions& request);

}  // namespace zoomdiff::cli
