#pragma once

// zoomdiff_eval (issue 8): the metrics of EVAL.md at 2000, 1000 and 500 m for one generated city
// (zoomdiff_infer's results .h5) against its real data file (grid_meta's), with the three
// baselines of EVAL.md scored by the same code on the same cells. Torch-free.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "zoomdiff/eval/metrics.hpp"

namespace zoomdiff::core {
class Progress;
}  // namespace zoomdiff::core

namespace zoomdiff::eval {

struct EvalOptions {
    std::filesystem::path real;       ///< <root>/<City>/data/<City>_<datatype>_data.h5
    std::filesystem::path generated;  ///< zoomdiff_infer's <City>_<datatype>.h5
    bool mask = false;                ///< only cells inside the generated file's mask
    bool baselines = false;           ///< score the three EVAL.md baselines too
    /// Training data files of the baselines; empty: the cities of the generated file's model run
    /// (manifest.json).
    std::vector<std::filesystem::path> train;
    /// Condition file of the evaluated city; empty: <root>/<City>/cond/<City>_cond.h5 beside
    /// --real.
    std::filesystem::path cond;
    /// Output folder; empty: <dir of generated>/eval/<City>_<datatype>/.
    std::filesystem::path out;
    std::uint64_t seed = 0;            ///< the MMD's cell subsample
    std::size_t mmd_max_cells = 1000;  ///< MMD uses at most this many cells (seeded subsample)
    /// Which 2000 m tiles are evaluated: empty = all; "valid" or "train" = that split of this
    /// city in the generated file's model run (manifest.json: held-out tiles of a city trained
    /// on); or tile ids "3,7" (row-major from the south-west, as the manifest counts them). With
    /// a subset, the baselines' training set leaves the evaluated tiles of this city out.
    std::string tiles;
    bool print_table = true;  ///< metrics.md to stdout
    std::string command_line;
};

struct EvalOutputs {
    std::filesystem::path metrics_json;
    std::filesystem::path metrics_md;
    std::vector<std::filesystem::path> plots;
    std::string markdown;
};

/// Read, score, write metrics.json, metrics.md and plots/ (every file atomic). Bad input (a
/// missing file, grids or datatypes that differ, a file of the wrong kind, --baselines without a
/// training set) throws zoomdiff::Error naming the file and the fix.
EvalOutputs run_evaluation(const EvalOptions& request, core::Progress& progress);

/// One row of a metrics.md table: the metric, whether lower is better, and one value per method
/// (NaN = not available).
struct TableRow {
    std::string metric;
    bool lower_is_better = true;
    std::vector<double> values;
};

/// A Markdown table (rows = metrics, columns = methods) with the best finite value of each row in
/// bold (ties all bold); NaN prints as "–".
[[nodiscard]] std::string markdown_table(const std::vector<std::string>& methods,
                                         const std::vector<TableRow>& rows);

}  // namespace zoomdiff::eval
