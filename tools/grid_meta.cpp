// grid_meta: base-station measurements to gridded training targets (the reference's Grid_meta.py).
#include "zoomdiff/pipeline/grid_meta.hpp"

#include "zoomdiff/cli/common.hpp"
#include "zoomdiff/cli/grid_meta_flags.hpp"

int main(int argc, char** argv) {
    CLI::App app{"", "grid_meta"};
    zoomdiff::cli::CommonOptions common;
    zoomdiff::pipeline::GridMetaOptions options;
    zoomdiff::cli::add_grid_meta_flags(app, options);
    zoomdiff::cli::add_common_flags(app, common);
    return zoomdiff::cli::run_tool(app, common, argc, argv, [&] {
        options.command_line = common.command_line;
        options.seed = common.seed;
        options.threads = zoomdiff::cli::resolved_threads(common);
        const auto progress = zoomdiff::core::make_progress(common.progress);
        zoomdiff::pipeline::run_grid_meta(options, *progress);
    });
}
