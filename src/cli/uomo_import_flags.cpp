#include "zoomdiff/cli/uomo_import_flags.hpp"

#include "zoomdiff/cli/common.hpp"

namespace zoomdiff::cli {

void add_uomo_import_flags(CLI::App& app, pipeline::UomoImportOptions& options,
                           std::string& splits) {
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.description(
        "Write the UoMo patches of a uomo_<city>_series.npz as a city of 2000 m tiles (1 x N, no\n"
        "coordinates: tile_arrangement = patches) with POI-only conditions and the upstream split\n"
        "labels: <root>/<City>/data/<City>_{traffic,user}_data.h5 and "
        "<root>/<City>/cond/<City>_cond.h5.");
    app.add_option("--npz", options.npz,
                   "uomo_<city>_series.npz (traffic, users, poi, split, steps_per_day)")
        ->required();
    app.add_option("--city", options.city, "City name for folders and files, e.g. UoMoSD")
        ->required();
    app.add_option("--out_root", options.out_root,
                   "Data root (zoomdiff_train / zoomdiff_infer --data_root)")
        ->required();
    app.add_option("--splits", splits,
                   "Upstream splits to import, comma-separated: train, val, test")
        ->capture_default_str();
    app.add_option(
           "--holdout_locations", options.holdout_locations,
           "Hold out K places (patches with identical POI blocks) instead of the upstream split")
        ->check(CLI::Range(0, 1000000))
        ->capture_default_str();
    app.add_option("--holdout_seed", options.holdout_seed, "Seed of the places drawn")
        ->check(uint64_validator())
        ->capture_default_str();
    app.add_option("--part", options.part,
                   "With --holdout_locations: train (the other places) or test");
    app.add_option("--steps", options.steps,
                   "Hours from the series start (zoomdiff needs 168, one week)")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.footer(
        "Example (training city and held-out city):\n"
        "  uomo_import --npz uomo_SD_series.npz --city UoMoSD --splits train,val --out_root "
        "data/uomo\n"
        "  uomo_import --npz uomo_SD_series.npz --city UoMoSDTest --splits test --out_root "
        "data/uomo\n"
        "Held-out places (the upstream test patches repeat train places; SOURCE.md):\n"
        "  uomo_import --npz uomo_SD_series.npz --city UoMoSDLoc --holdout_locations 6 --part "
        "train --out_root data/uomo\n"
        "  uomo_import --npz uomo_SD_series.npz --city UoMoSDLocTest --holdout_locations 6 --part "
        "test --out_root data/uomo\n"
        "Exit codes: 0 ok, 2 bad input or usage, 1 internal error.");
}

}  // namespace zoomdiff::cli
