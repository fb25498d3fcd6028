#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "zoomdiff/pipeline/uomo_import.hpp"

namespace zoomdiff::cli {

/// uomo_import's flags. --splits is kept as given in `splits` (parse it with
/// pipeline::parse_uomo_splits inside run_tool, where its errors get the usual exit code).
void add_uomo_import_flags(CLI::App& app, pipeline::UomoImportOptions& options,
                           std::string& splits);

}  // namespace zoomdiff::cli
