#pragma once

// The uomo_import job (issue 8, real-data evaluation): the UoMo patches
// (/work/shared/data/uomo_patches_traffic_users_poi/SOURCE.md) as a zoomdiff city of 2000 m tiles
// with POI-only conditions (model.condition_layout: poi_only).
//
// What is written, for city <Name> under <root>:
//   <root>/<Name>/data/<Name>_traffic_data.h5, <root>/<Name>/data/<Name>_user_data.h5
//     /data_2000m   (1, N, 4, 4, steps) float64: tile j = the j-th chosen patch (upstream split
//                   order train, val, test; patches in file order within a split); cell (a, b) =
//                   the upstream block's [a, b] (orientation undocumented upstream); hour h = the
//                   sum of the upstream steps of that hour (SD: one step, NJ: four 15-min steps)
//                   of the series' first week (step 0 = day-of-week 0, hour 0)
//     /split_2000m  (1, N) uint8: upstream train 0, val 1, test 2 (zoomdiff_train splits by it)
//     /patch_index  (N,) int64: the patch's index in the npz; /upstream_split (N,) strings
//     /loc_2000m, /grid/*: the placeholder grid (below)
//   <root>/<Name>/cond/<Name>_cond.h5
//     /2000m/poi_count (1, N, 4, 4, K) int32: the upstream POI counts (what poi_only reads);
//     /poi_2000m (1, N, 4, 4, K) int64 (the reference's key, same counts); /2000m/mask (1, N, 4, 4)
//     uint8 all 1; /poi_categories (K names "uomo_poi_<k>": the upstream order, undocumented);
//     /poi_category_present (K, all 1); /loc_2000m and /grid/* (placeholder grid);
//     /split_2000m, /patch_index, /upstream_split as in the data files.
//   Root attributes of all three: tile_arrangement = "patches", coordinates (what the placeholder
//   grid is), source_file, source_sha256, source_steps_per_day, input_step_minutes, time_steps,
//   time_step_minutes = 60, time_start / time_zone = "unspecified", splits, tiles, units (data
//   files: "undocumented upstream ..."), attribution, and the standard provenance (tool,
//   version, command line, seed 0, city).
//
// Placeholder grid: the patches have no coordinates. Tiles are laid side by side in one row
// (R = 1, C = N) of a 100 m grid starting at x = y = 0 m, epsg 0 and utm_zone 0; the degree
// edges are the metre edges / 111320 around (0°, 0°). It is NOT a location: nothing spatial
// across tiles (maps, SSIM between neighbours, GeoTIFFs) means anything, which the attribute
// tile_arrangement = "patches" tells every reader.
//
// Every output is written to a temporary file and renamed (core::AtomicOutput); all input checks
// happen before any file is written.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace zoomdiff::core {
class Progress;
}  // namespace zoomdiff::core

namespace zoomdiff::pipeline {

struct UomoImportOptions {
    std::filesystem::path npz;                                ///< uomo_<city>_series.npz
    std::string city;                                         ///< <Name>: folder and file names
    std::filesystem::path out_root;                           ///< <root>
    std::vector<std::string> splits{"train", "val", "test"};  ///< upstream splits to keep
    int steps = 168;  ///< hours to write from step 0 (zoomdiff needs 168)
    /// Hold out whole locations instead of trusting the upstream split: patches with identical
    /// POI blocks are one place seen in several upstream windows (SD: 45 patches, 33 places; every
    /// upstream val / test patch repeats a train patch's place with a <1 % different week), so the
    /// upstream test split is not held out. K > 0 draws K places (seeded Fisher-Yates with
    /// std::mt19937_64, the same on every platform) among those of the chosen splits; `part`
    /// then writes either every patch of the other places (labels: upstream val 1, others 0) or one
    /// patch per held-out place (its first, label 2). 0 = off.
    int holdout_locations = 0;
    std::uint64_t holdout_seed = 1;
    std::string part;  ///< "train" or "test" (required when holding out)
    std::string command_line;
};

struct UomoImportSummary {
    std::int64_t tiles = 0;                         ///< N
    std::map<std::string, std::int64_t> per_split;  ///< tiles per chosen upstream split
    std::int64_t poi_channels = 0;                  ///< K
    int steps_per_day = 0;                          ///< upstream
    int input_step_minutes = 0;                     ///< 1440 / steps_per_day
    std::filesystem::path traffic_file;
    std::filesystem::path user_file;
    std::filesystem::path cond_file;
};

/// "train,val" -> {"train", "val"}. Unknown names, empty or repeated entries throw
/// zoomdiff::Error naming --splits.
std::vector<std::string> parse_uomo_splits(const std::string& text);

/// Split label of an upstream split name: train 0, val 1, test 2 (throws for other names).
std::uint8_t uomo_split_label(const std::string& split);

/// Patches grouped by place (identical POI blocks), places in order of first appearance, patches
/// in file order: `poi` is (P, K, 4, 4); only the patches in `patches` are grouped.
std::vector<std::vector<std::size_t>> uomo_locations(const std::vector<std::int64_t>& poi,
                                                     std::size_t values_per_patch,
                                                     const std::vector<std::size_t>& patches);

/// The K places held out: a seeded Fisher-Yates over 0..places-1 (std::mt19937_64), first K,
/// sorted. K must be below `places` (throws zoomdiff::Error naming --holdout_locations).
std::vector<std::size_t> uomo_holdout(std::size_t places, int k, std::uint64_t seed);

/// The uomo_import job: validate the options -> read and check the npz (io::read_uomo_source;
/// enough steps for options.steps hours) -> choose the patches (split or held-out places) ->
/// write the three files. Every problem throws zoomdiff::Error naming the file or flag; nothing
/// is written before every check has passed. Progress: one item per phase.
UomoImportSummary run_uomo_import(const UomoImportOptions& options, core::Progress& progress);

}  // namespace zoomdiff::pipeline
