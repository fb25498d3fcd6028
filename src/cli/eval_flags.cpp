#include "zoomdiff/cli/eval_flags.hpp"

#include <utility>

#include "zoomdiff/core/star_list.hpp"

namespace zoomdiff::cli {

void add_eval_flags(CLI::App& app, eval::EvalOptions& request, std::string& train_list) {
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.description(
        "Score generated maps (zoomdiff_infer's <City>_<datatype>.h5) against the city's real data "
        "at\n"
        "2000, 1000 and 500 m with every metric of EVAL.md, optionally beside the three baselines\n"
        "(mean profile, condition-proportional, nearest analogue) on the same cells.");
    app.add_option("--real", request.real,
                   "Real data: <root>/<City>/data/<City>_<datatype>_data.h5 (grid_meta)")
        ->required();
    app.add_option("--generated", request.generated,
                   "Generated maps: <City>_<datatype>.h5 (zoomdiff_infer)")
        ->required();
    app.add_flag("--mask", request.mask, "Only cells inside the city mask of the generated file");
    app.add_flag("--baselines", request.baselines, "Score the three EVAL.md baselines too");
    app.add_option(
        "--train", train_list,
        "Training data files of the baselines, separated by '*'; default: the cities in the "
        "generated file's model run (manifest.json)");
    app.add_option("--cond", request.cond,
                   "Condition file of the evaluated city; default "
                   "<root>/<City>/cond/<City>_cond.h5 beside --real");
    app.add_option("--out", request.out,
                   "Output folder; default <dir of --generated>/eval/<City>_<datatype>");
    app.add_option("--tiles", request.tiles,
                   "Evaluate only these 2000 m tiles: valid or train (that split of this city in "
                   "the model run's manifest: held-out tiles), or ids such as 3,7; the baselines "
                   "then leave them out of their training set");
    app.add_option("--mmd_max_cells", request.mmd_max_cells,
                   "MMD on at most this many cells (a --seed subsample; 0 = all)")
        ->capture_default_str();
    app.footer(
        "Outputs: metrics.json (every value with its definition's parameters, inputs with "
        "SHA-256),\n"
        "metrics.md (one table per scale, printed unless -q) and plots/*.png.\n"
        "Example:\n"
        "  zoomdiff_eval --real out/sample/Nanchang/data/Nanchang_traffic_data.h5 \\\n"
        "    --generated out/sample/results/Nanchang_traffic.h5 --baselines\n"
        "Exit codes: 0 ok, 2 bad input or usage, 1 internal error.");
}

void apply_eval_flags(eval::EvalOptions& request, const std::string& train_list) {
    request.train.clear();
    if (train_list.empty()) {
        return;
    }
    for (auto& file : core::split_star_list(train_list, "--train", "data file", "a.h5*b.h5"))
        request.train.emplace_back(std::move(file));
}

}  // namespace zoomdiff::cli
