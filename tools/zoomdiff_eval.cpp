// zoomdiff_eval: every metric of EVAL.md for one generated city, with the baselines (issue 8).
#include "zoomdiff/cli/common.hpp"
#include "zoomdiff/cli/eval_flags.hpp"
#include "zoomdiff/eval/evaluation.hpp"

int main(int argc, char** argv) {
    CLI::App app{"", "zoomdiff_eval"};
    zoomdiff::cli::CommonOptions common;
    zoomdiff::eval::EvalOptions request;
    std::string train_list;
    zoomdiff::cli::add_eval_flags(app, request, train_list);
    zoomdiff::cli::add_common_flags(app, common);
    return zoomdiff::cli::run_tool(app, common, argc, argv, [&] {
        zoomdiff::cli::apply_eval_flags(request, train_list);
        request.seed = common.seed;
        request.print_table = !common.quiet;
        request.command_line = common.command_line;
        const auto progress = zoomdiff::core::make_progress(common.progress);
        zoomdiff::eval::run_evaluation(request, *progress);
    });
}
