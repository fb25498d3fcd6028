// zoomdiff_infer: multi-scale maps for any city (the reference's ZoomDiff_infer.py).
#include "zoomdiff/cli/common.hpp"
#include "zoomdiff/cli/infer_flags.hpp"
#include "zoomdiff/core/omp_wait.hpp"
#include "zoomdiff/model/inference.hpp"
#include "zoomdiff/model/runtime.hpp"

int main(int argc, char** argv) {
    zoomdiff::core::prefer_passive_openmp(argv);  // before LibTorch starts its threads
    CLI::App app{"", "zoomdiff_infer"};
    zoomdiff::cli::CommonOptions common;
    common.more_versions = zoomdiff::model::runtime_versions;
    common.seed = 1;  // the reference's default --seed
    zoomdiff::model::InferOptions request;
    zoomdiff::cli::add_infer_flags(app, request);
    zoomdiff::cli::add_common_flags(app, common);
    return zoomdiff::cli::run_tool(app, common, argc, argv, [&] {
        request.seed = common.seed;
        request.threads = zoomdiff::cli::resolved_threads(common);
        request.command_line = common.command_line;
        request.world = zoomdiff::core::world_from_environment();
        // One progress display per run: rank 0's (every rank still logs, labelled with its rank).
        const auto progress = zoomdiff::core::make_progress(
            request.world.leader() ? common.progress : zoomdiff::core::ProgressMode::kNever);
        zoomdiff::model::run_inference(request, *progress);
    });
}
