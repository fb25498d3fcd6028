// uomo_import: the UoMo patches (a uomo_<city>_series.npz, SOURCE.md) as a zoomdiff city of 2000 m
// tiles with POI-only conditions (include/zoomdiff/pipeline/uomo_import.hpp describes the files).
#include "zoomdiff/pipeline/uomo_import.hpp"

#include <string>

#include "zoomdiff/cli/common.hpp"
#include "zoomdiff/cli/uomo_import_flags.hpp"

int main(int argc, char** argv) {
    CLI::App app{"", "uomo_import"};
    zoomdiff::cli::CommonOptions common;
    zoomdiff::pipeline::UomoImportOptions options;
    std::string splits = "train,val,test";
    zoomdiff::cli::add_uomo_import_flags(app, options, splits);
    zoomdiff::cli::add_common_flags(app, common);
    return zoomdiff::cli::run_tool(app, common, argc, argv, [&] {
        options.splits = zoomdiff::pipeline::parse_uomo_splits(splits);
        options.command_line = common.command_line;
        const auto progress = zoomdiff::core::make_progress(common.progress);
        (void)zoomdiff::pipeline::run_uomo_import(options, *progress);
    });
}
