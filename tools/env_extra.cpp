// env_extra: a city's conditions from open geodata (the reference's Env_extra.py).
#include "zoomdiff/pipeline/env_extra.hpp"

#include "zoomdiff/cli/common.hpp"
#include "zoomdiff/cli/env_extra_flags.hpp"

int main(int argc, char** argv) {
    CLI::App app{"", "env_extra"};
    zoomdiff::cli::CommonOptions common;
    zoomdiff::pipeline::EnvExtraOptions options;
    zoomdiff::cli::add_env_extra_flags(app, options);
    zoomdiff::cli::add_common_flags(app, common);
    return zoomdiff::cli::run_tool(app, common, argc, argv, [&] {
        options.command_line = common.command_line;
        options.seed = common.seed;
        const auto progress = zoomdiff::core::make_progress(common.progress);
        zoomdiff::pipeline::run_env_extra(options, *progress);
    });
}
