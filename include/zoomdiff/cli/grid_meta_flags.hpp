#pragma once

#include <CLI/CLI.hpp>

#include "zoomdiff/pipeline/grid_meta.hpp"

namespace zoomdiff::cli {

/// grid_meta's flags, with the reference's names and defaults (PIPELINE §2.1) plus ours.
void add_grid_meta_flags(CLI::App& app, pipeline::GridMetaOptions& options);

}  // namespace zoomdiff::cli
