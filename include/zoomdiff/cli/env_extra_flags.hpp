#pragma once

#include <CLI/CLI.hpp>

#include "zoomdiff/pipeline/env_extra.hpp"

namespace zoomdiff::cli {

/// env_extra's flags, with the reference's names and defaults (PIPELINE §3.1) plus ours.
void add_env_extra_flags(CLI::App& app, pipeline::EnvExtraOptions& options);

}  // namespace zoomdiff::cli
