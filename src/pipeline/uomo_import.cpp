#include "zoomdiff/pipeline/uomo_import.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/file_hash.hpp"
#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/core/recorded_path.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/io/cf.hpp"
#include "zoomdiff/io/cond_store.hpp"
#include "zoomdiff/io/data_root.hpp"
#include "zoomdiff/io/h5_file.hpp"
#include "zoomdiff/io/uomo.hpp"

namespace zoomdiff::pipeline {
namespace {

namespace fs = std::filesystem;
using io::H5File;
using io::kCfConventions;
using io::Provenance;

constexpr std::size_t kSide = io::kUomoPatchSide;
constexpr std::size_t kFinePerTile = 20;       // 100 m cells per 2000 m tile side
constexpr double kMetresPerDegree = 111320.0;  // placeholder degrees: metres / this
constexpr const char* kFix = "Pass a uomo_<city>_series.npz as described in SOURCE.md";
constexpr const char* kAttribution =
    "Mobile traffic, user and POI data from tsinghua-fib-lab/UoMo (MIT, (c) 2025 FIB LAB, Tsinghua "
    "University)";
constexpr const char* kCoordinates =
    "none: UoMo patches have no coordinates. Tiles lie side by side in one row (R = 1, C = N) of a "
    "placeholder 100 m grid from x = y = 0 m (epsg 0); degree edges are metres / 111320 around "
    "(0, 0). Not a location: no map, no spatial relation between tiles";

/// (1, N, 4, 4, steps) hourly sums of the chosen patches' first `steps` hours.
NdArray<double> hourly_tiles(const NdArray<double>& series, const std::vector<std::size_t>& chosen,
                             int steps, int per_hour) {
    const std::size_t t_total = series.dim(1);
    const auto h_count = static_cast<std::size_t>(steps);
    NdArray<double> out({1, chosen.size(), kSide, kSide, h_count});
    for (std::size_t j = 0; j < chosen.size(); ++j)
        for (std::size_t a = 0; a < kSide; ++a)
            for (std::size_t b = 0; b < kSide; ++b)
                for (std::size_t h = 0; h < h_count; ++h) {
                    double sum = 0.0;
                    for (int k = 0; k < per_hour; ++k) {
                        const std::size_t t =
                            h * static_cast<std::size_t>(per_hour) + static_cast<std::size_t>(k);
                        sum += series.data()[((chosen[j] * t_total + t) * kSide + a) * kSide + b];
                    }
                    out.data()[((j * kSide + a) * kSide + b) * h_count + h] = sum;
                }
    return out;
}

geo::CityGrid placeholder_grid(std::size_t tiles) {
    geo::CityGrid grid;
    grid.epsg = 0;
    grid.utm_zone = 0;
    grid.north = true;
    for (std::size_t i = 0; i <= tiles * kFinePerTile; ++i) {
        grid.x_edges_m.push_back(static_cast<double>(i) * geo::kBaseCellSizeM);
        grid.lon_edges_deg.push_back(grid.x_edges_m.back() / kMetresPerDegree);
    }
    for (std::size_t i = 0; i <= kFinePerTile; ++i) {
        grid.y_edges_m.push_back(static_cast<double>(i) * geo::kBaseCellSizeM);
        grid.lat_edges_deg.push_back(grid.y_edges_m.back() / kMetresPerDegree);
    }
    grid.bbox = {grid.lon_edges_deg.front(), grid.lat_edges_deg.front(), grid.lon_edges_deg.back(),
                 grid.lat_edges_deg.back()};
    return grid;
}

/// loc_2000m of the placeholder grid: (1, N, 4) [lat_min, lat_max, lon_min, lon_max].
NdArray<double> placeholder_loc(const geo::CityGrid& grid, std::size_t tiles) {
    NdArray<double> loc({1, tiles, 4});
    for (std::size_t j = 0; j < tiles; ++j) {
        loc.data()[j * 4 + 0] = grid.lat_edges_deg.front();
        loc.data()[j * 4 + 1] = grid.lat_edges_deg.back();
        loc.data()[j * 4 + 2] = grid.lon_edges_deg[j * kFinePerTile];
        loc.data()[j * 4 + 3] = grid.lon_edges_deg[(j + 1) * kFinePerTile];
    }
    return loc;
}

struct Common {
    geo::CityGrid grid;
    NdArray<double> loc;
    NdArray<std::uint8_t> split_labels;  // (1, N)
    NdArray<std::int64_t> patch_index;   // (N,)
    std::vector<std::string> upstream_split;
    Provenance provenance;
    std::string source_file;
    std::string source_sha256;
    int steps_per_day = 0;
    int input_step_minutes = 0;
    int steps = 0;
    std::string splits;
    std::string holdout;
};

void write_common(H5File& file, const Common& c, const std::string& format) {
    write_standard_attributes(file, c.grid, geo::kBaseCellSizeM, c.provenance);
    file.set_attr("/", "format", format);
    file.set_attr("/", "tile_arrangement", "patches");
    file.set_attr("/", "coordinates", kCoordinates);
    file.set_attr("/", "source_file", c.source_file);
    file.set_attr("/", "source_sha256", c.source_sha256);
    file.set_attr("/", "source_steps_per_day", static_cast<std::int64_t>(c.steps_per_day));
    file.set_attr("/", "input_step_minutes", static_cast<std::int64_t>(c.input_step_minutes));
    file.set_attr("/", "time_steps", static_cast<std::int64_t>(c.steps));
    file.set_attr("/", "time_step_minutes", std::int64_t{60});
    file.set_attr(
        "/", "time_start",
        "unspecified: hour 0 = upstream day-of-week 0, step 0 (which weekday is undocumented)");
    file.set_attr("/", "time_zone", "unspecified");
    file.set_attr("/", "splits", c.splits);
    file.set_attr("/", "holdout", c.holdout);
    file.set_attr("/", "tiles", static_cast<std::int64_t>(c.patch_index.size()));
    file.set_attr("/", "attribution", kAttribution);
    write_grid(file, c.grid);
    file.set_attr("/grid", "units",
                  std::string("placeholder grid, not a location: ") + kCoordinates);
    file.write("/loc_2000m", c.loc);
    file.set_attr("/loc_2000m", "units",
                  "placeholder deg [lat_min, lat_max, lon_min, lon_max] (no coordinates)");
    file.write("/split_2000m", c.split_labels);
    file.set_attr("/split_2000m", "units", "upstream split: 0 train, 1 val, 2 test");
    file.write("/patch_index", c.patch_index);
    file.set_attr("/patch_index", "units", "index of the patch in the source npz");
    file.write_strings("/upstream_split", c.upstream_split);
    // CF netCDF-4 (DESIGN §7): the patches are the tiles of one row of a placeholder grid.
    const std::size_t n = c.patch_index.size();
    file.set_attr("/", "Conventions", kCfConventions);
    file.set_attr("/", "history", c.provenance.command_line);
    write_cf_tile_axes(file, "", 1, n);
    write_cf_axis(file, "", "loc", {0, 1, 2, 3}, "", "lat_min, lat_max, lon_min, lon_max");
    cf_grid_variable(file, "", "loc_2000m", {"tile_row", "tile_col", "loc"},
                     "placeholder tile extent (no coordinates)", "", false);
    cf_grid_variable(file, "", "split_2000m", {"tile_row", "tile_col"},
                     "upstream split: 0 train, 1 val, 2 test", "", false);
    cf_grid_variable(file, "", "patch_index", {"tile_col"}, "index of the patch in the source npz",
                     "", false);
    file.attach_dimensions("/upstream_split", {"/tile_col"});
}

void write_data(const fs::path& path, const Common& c, const std::string& datatype,
                const NdArray<double>& data, const std::string& units) {
    core::AtomicOutput out(path);
    {
        H5File file = H5File::create(out.temp_path());
        write_common(file, c, "zoomdiff-data 1 (uomo_import)");
        file.set_attr("/", "datatype", datatype);
        file.set_attr("/", "units", units);
        file.write("/data_2000m", data);
        file.set_attr("/data_2000m", "units", units);
        file.set_attr("/data_2000m", "dims",
                      "tile row (1), tile col (patch), cell row, cell col, hour");
        write_cf_hours(file, "", data.dim(4), "unspecified");
        cf_grid_variable(file, "", "data_2000m",
                         {"tile_row", "tile_col", "cell_row", "cell_col", "time"},
                         "UoMo " + datatype + " per 500 m cell (patch cell) and hour", "1", false);
        file.set_attr("/data_2000m", "units_note", units);
        file.close();
    }
    out.commit();
}

}  // namespace

std::vector<std::string> parse_uomo_splits(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = text.find(',', start);
        const std::string name =
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (std::find(io::uomo_split_names().begin(), io::uomo_split_names().end(), name) ==
            io::uomo_split_names().end()) {
            throw Error(
                "--splits", fmt::format("unknown split '{}' in '{}'", name, text),
                "Use upstream split names separated by commas: train, val, test (e.g. train,val)");
        }
        if (std::find(out.begin(), out.end(), name) != out.end()) {
            throw Error("--splits", fmt::format("'{}' names {} twice", text, name),
                        "List each split once");
        }
        out.push_back(name);
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    return out;
}

std::vector<std::vector<std::size_t>> uomo_locations(const std::vector<std::int64_t>& poi,
                                                     std::size_t values_per_patch,
                                                     const std::vector<std::size_t>& patches) {
    std::map<std::vector<std::int64_t>, std::size_t> place_of_block;
    std::vector<std::vector<std::size_t>> places;
    for (const std::size_t p : patches) {
        const auto first = poi.begin() + static_cast<std::ptrdiff_t>(p * values_per_patch);
        std::vector<std::int64_t> block(first,
                                        first + static_cast<std::ptrdiff_t>(values_per_patch));
        const auto [it, added] = place_of_block.emplace(std::move(block), places.size());
        if (added)
            places.emplace_back();
        places[it->second].push_back(p);
    }
    return places;
}

std::vector<std::size_t> uomo_holdout(std::size_t places, int k, std::uint64_t seed) {
    if (k < 1 || static_cast<std::size_t>(k) >= places) {
        throw Error(
            "--holdout_locations", fmt::format("{} of {} places", k, places),
            fmt::format("Hold out between 1 and {} places so that some are left to train on",
                        places - 1));
    }
    std::vector<std::size_t> order(places);
    for (std::size_t i = 0; i < places; ++i)
        order[i] = i;
    std::mt19937_64 gen(seed);
    for (std::size_t i = places - 1; i > 0; --i)
        std::swap(order[i], order[gen() % (i + 1)]);
    order.resize(static_cast<std::size_t>(k));
    std::sort(order.begin(), order.end());
    return order;
}

std::uint8_t uomo_split_label(const std::string& split) {
    const auto it = std::find(io::uomo_split_names().begin(), io::uomo_split_names().end(), split);
    if (it == io::uomo_split_names().end()) {
        throw Error("--splits", fmt::format("unknown split '{}'", split), "Use train, val or test");
    }
    return static_cast<std::uint8_t>(it - io::uomo_split_names().begin());
}

namespace {

/// The flags that need no file: a plain city name, at least one known split, a positive length.
void check_options(const UomoImportOptions& o) {
    if (o.city.empty() || o.city.find_first_of("/\\*") != std::string::npos || o.city == "." ||
        o.city == "..") {
        throw Error("--city", fmt::format("'{}' cannot name a city folder", o.city),
                    "Pass a plain name without '/', '\\' or '*', e.g. UoMoSD");
    }
    if (o.splits.empty())
        throw Error("--splits", "no split chosen", "Pass e.g. --splits train,val");
    for (const auto& s : o.splits)
        (void)uomo_split_label(s);
    if (o.steps < 1)
        throw Error("--steps", fmt::format("{} hours", o.steps),
                    "Pass a positive number (168: one week)");
}

/// The patches an import writes, in file order, with their split labels.
struct Selection {
    std::vector<std::size_t> patches;
    std::vector<std::uint8_t> labels;  // 0 train, 1 val, 2 test
    std::map<std::string, std::int64_t> per_split;
    std::string holdout = "none (upstream splits)";
};

/// --holdout_locations: whole places (patches with identical POI blocks) out of `upstream`'s
/// patches; --part train keeps the other places' patches, --part test one patch per held place.
void hold_out_places(const UomoImportOptions& o, const io::UomoSource& src, Selection& chosen) {
    if (o.part != "train" && o.part != "test") {
        throw Error("--part", fmt::format("'{}' with --holdout_locations", o.part),
                    "Pass --part train (the other places) or --part test (one patch per "
                    "held-out place)");
    }
    const std::size_t per_patch = src.poi.size() / src.poi.dim(0);
    const auto places = uomo_locations(src.poi.values(), per_patch, chosen.patches);
    const auto held = uomo_holdout(places.size(), o.holdout_locations, o.holdout_seed);
    std::vector<std::size_t> kept;
    chosen.labels.clear();
    for (std::size_t q = 0; q < places.size(); ++q) {
        const bool is_held = std::binary_search(held.begin(), held.end(), q);
        if (o.part == "test" && is_held) {
            kept.push_back(places[q].front());
            chosen.labels.push_back(2);
        } else if (o.part == "train" && !is_held) {
            for (const std::size_t p : places[q]) {
                kept.push_back(p);
                chosen.labels.push_back(src.split[p] == "val" ? 1 : 0);
            }
        }
    }
    std::vector<std::size_t> held_patches;
    for (const std::size_t q : held)
        held_patches.push_back(places[q].front());
    chosen.holdout = fmt::format(
        "{} of {} places held out (places = patches with identical POI blocks; seed {}, "
        "mt19937_64 Fisher-Yates); part {}; held-out places' first patches {}",
        held.size(), places.size(), o.holdout_seed, o.part, fmt::join(held_patches, ","));
    chosen.per_split.clear();
    for (std::size_t j = 0; j < kept.size(); ++j)
        ++chosen.per_split[io::uomo_split_names()[chosen.labels[j]]];
    chosen.patches = std::move(kept);
}

/// The patches of the chosen upstream splits, then (--holdout_locations) of one part.
Selection select_patches(const UomoImportOptions& o, const io::UomoSource& src) {
    Selection chosen;
    for (const auto& name : o.splits)
        chosen.per_split[name] = 0;
    for (std::size_t p = 0; p < src.split.size(); ++p) {
        if (std::find(o.splits.begin(), o.splits.end(), src.split[p]) != o.splits.end()) {
            chosen.patches.push_back(p);
            ++chosen.per_split[src.split[p]];
        }
    }
    if (chosen.patches.empty()) {
        throw Error(o.npz.string(),
                    fmt::format("no patch belongs to the splits {}", fmt::join(o.splits, ",")),
                    "Choose splits the file has (train, val, test)");
    }
    for (const std::size_t p : chosen.patches)
        chosen.labels.push_back(uomo_split_label(src.split[p]));
    if (o.holdout_locations > 0) {
        hold_out_places(o, src, chosen);
    } else if (!o.part.empty()) {
        throw Error("--part", "given without --holdout_locations",
                    "Pass --holdout_locations K, or drop --part");
    }
    return chosen;
}

/// The grid, tile table and provenance that the data and condition files share.
Common common_fields(const UomoImportOptions& o, const io::UomoSource& src, const Selection& chosen,
                     int minutes) {
    const std::size_t n = chosen.patches.size();
    Common c;
    c.grid = placeholder_grid(n);
    c.loc = placeholder_loc(c.grid, n);
    c.split_labels = NdArray<std::uint8_t>({1, n});
    c.patch_index = NdArray<std::int64_t>({n});
    for (std::size_t j = 0; j < n; ++j) {
        c.split_labels.data()[j] = chosen.labels[j];
        c.patch_index.data()[j] = static_cast<std::int64_t>(chosen.patches[j]);
        c.upstream_split.push_back(src.split[chosen.patches[j]]);
    }
    c.source_file = core::recorded_path(o.npz);
    c.source_sha256 = core::sha256_file(o.npz);
    c.steps_per_day = src.steps_per_day;
    c.input_step_minutes = minutes;
    c.steps = o.steps;
    c.splits = fmt::format("{}", fmt::join(o.splits, ","));
    c.holdout = chosen.holdout;
    c.provenance.tool = "uomo_import";
    c.provenance.command_line = o.command_line;
    c.provenance.seed = 0;
    c.provenance.city_en = o.city;
    c.provenance.city_cn = o.city;
    c.provenance.resolved_config_json = fmt::format(
        R"({{"npz": "{}", "city": "{}", "splits": "{}", "steps": {}, "holdout_locations": {}, "holdout_seed": {}, "part": "{}", "out_root": "{}"}})",
        c.source_file, o.city, c.splits, o.steps, o.holdout_locations, o.holdout_seed, o.part,
        core::recorded_path(o.out_root));
    return c;
}

/// The chosen patches' POI counts as (1, N, 4, 4, K) tiles, in int32 and int64.
struct PoiTiles {
    NdArray<std::int32_t> narrow;
    NdArray<std::int64_t> wide;
};

PoiTiles poi_tiles(const NdArray<std::int64_t>& poi, const std::vector<std::size_t>& chosen,
                   const fs::path& npz) {
    const std::size_t n = chosen.size();
    const std::size_t k = poi.dim(1);
    PoiTiles out{NdArray<std::int32_t>({1, n, kSide, kSide, k}),
                 NdArray<std::int64_t>({1, n, kSide, kSide, k})};
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t a = 0; a < kSide; ++a)
            for (std::size_t b = 0; b < kSide; ++b)
                for (std::size_t q = 0; q < k; ++q) {
                    const std::int64_t v =
                        poi.data()[((chosen[j] * k + q) * kSide + a) * kSide + b];
                    if (v > std::numeric_limits<std::int32_t>::max()) {
                        throw Error(npz.string(), fmt::format("poi count {} does not fit int32", v),
                                    kFix);
                    }
                    out.narrow.data()[((j * kSide + a) * kSide + b) * k + q] =
                        static_cast<std::int32_t>(v);
                    out.wide.data()[((j * kSide + a) * kSide + b) * k + q] = v;
                }
    return out;
}

/// The condition file: POI counts only (condition_layout: poi_only), every cell in the mask.
void write_cond(const fs::path& path, const Common& c, const PoiTiles& poi) {
    const std::size_t n = c.patch_index.size();
    const std::size_t k = poi.wide.dim(4);
    core::AtomicOutput out(path);
    {
        H5File file = H5File::create(out.temp_path());
        write_common(file, c, "zoomdiff-cond 1 (uomo_import, POI only)");
        file.set_attr(
            "/", "conditions",
            "POI counts only (condition_layout: poi_only); no population, OSM or mask data");
        file.write("/2000m/poi_count", poi.narrow);
        file.set_attr("/2000m/poi_count", "units",
                      "POIs per cell and category (UoMo; category order undocumented upstream)");
        file.write("/poi_2000m", poi.wide);
        file.set_attr("/poi_2000m", "units",
                      "POIs per cell and category (same counts as /2000m/poi_count)");
        file.write("/2000m/mask", NdArray<std::uint8_t>({1, n, kSide, kSide}, 1));
        file.set_attr("/2000m/mask", "units", "1 = cell of a patch (every cell)");
        std::vector<std::string> names;
        for (std::size_t q = 0; q < k; ++q)
            names.push_back(fmt::format("uomo_poi_{:02d}", q));
        file.write_strings("/poi_categories", names);
        file.set_attr("/poi_categories", "comment",
                      "upstream POI channel order; the categories are undocumented");
        file.write("/poi_category_present", NdArray<std::uint8_t>({k}, 1));
        write_cf_tile_axes(file, "/2000m", 1, n);
        for (const std::string group : {"", "/2000m"})
            write_cf_labels(file, group, "poi_category", names, "POI channel (UoMo)");
        const std::vector<std::string> tile{"tile_row", "tile_col", "cell_row", "cell_col"};
        const std::vector<std::string> tile_k{"tile_row", "tile_col", "cell_row", "cell_col",
                                              "poi_category"};
        cf_grid_variable(file, "/2000m", "poi_count", tile_k, "UoMo POI counts per cell", "1",
                         false);
        cf_grid_variable(file, "/2000m", "mask", tile, "1 = cell of a patch", "", false);
        cf_grid_variable(file, "", "poi_2000m", tile_k, "UoMo POI counts per cell", "1", false);
        for (const char* name : {"/poi_categories", "/poi_category_present"})
            file.attach_dimensions(name, {"/poi_category"});
        file.close();
    }
    out.commit();
}

}  // namespace

UomoImportSummary run_uomo_import(const UomoImportOptions& o, core::Progress& progress) {
    // validate: the options and the output folder, before anything is read.
    check_options(o);
    core::check_output_folder(o.out_root / o.city, "--out_root/--city", {});
    progress.start("uomo_import", 5, "phases");
    // load: the npz, checked; the patches chosen.
    const io::UomoSource src = io::read_uomo_source(o.npz);
    const int minutes = 1440 / src.steps_per_day;
    const int per_hour = 60 / minutes;
    const std::size_t available = src.traffic.dim(1) / static_cast<std::size_t>(per_hour);
    if (static_cast<std::size_t>(o.steps) > available) {
        throw Error(o.npz.string(),
                    fmt::format("{} steps of {} min hold {} whole hours; --steps asks for {}",
                                src.traffic.dim(1), minutes, available, o.steps),
                    fmt::format("Pass --steps {} or fewer", available));
    }
    progress.advance();
    const Selection chosen = select_patches(o, src);
    progress.advance();
    const std::size_t n = chosen.patches.size();
    const std::size_t k = src.poi.dim(1);
    // Two data files of float64 series and one condition file of int32 and int64 POI counts,
    // 16 cells per patch, plus a few kilobytes of grid and attributes each.
    const std::uintmax_t cells = n * kSide * kSide;
    core::warn_if_low_space(o.out_root / o.city,
                            2 * cells * static_cast<std::uintmax_t>(o.steps) * sizeof(double) +
                                cells * k * (sizeof(std::int32_t) + sizeof(std::int64_t)) +
                                3 * (1U << 16),
                            "data and condition files");

    // compute and write: hourly tiles and POI tiles, three files.
    const Common c = common_fields(o, src, chosen, minutes);
    const std::string summed =
        per_hour == 1 ? "hourly values as given"
                      : fmt::format("sum of the {} {}-min steps of each hour", per_hour, minutes);
    const io::DataRoot root(o.out_root);
    UomoImportSummary summary;
    summary.per_split = chosen.per_split;
    summary.traffic_file = root.data_file(o.city, "traffic");
    summary.user_file = root.data_file(o.city, "user");
    summary.cond_file = root.cond_file(o.city);
    for (const auto& [file, datatype, series, quantity] :
         {std::tuple{&summary.traffic_file, "traffic", &src.traffic, "traffic volume"},
          std::tuple{&summary.user_file, "user", &src.users, "user count"}}) {
        write_data(*file, c, datatype, hourly_tiles(*series, chosen.patches, o.steps, per_hour),
                   fmt::format("UoMo {} per 500 m cell (4 x 4 patch cell) and hour ({}); unit "
                               "undocumented upstream (SOURCE.md)",
                               quantity, summed));
        progress.advance();
    }
    write_cond(summary.cond_file, c, poi_tiles(src.poi, chosen.patches, o.npz));
    progress.advance();
    progress.finish();
    summary.tiles = static_cast<std::int64_t>(n);
    summary.poi_channels = static_cast<std::int64_t>(k);
    summary.steps_per_day = src.steps_per_day;
    summary.input_step_minutes = minutes;
    std::string counts;
    for (const auto& [name, count] : summary.per_split)
        counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", count, name);
    spdlog::info(
        "{}: {} patches ({}) as 1 x {} tiles, {} POI channels, {} h from {}-min steps -> {}",
        o.city, n, counts, n, k, o.steps, minutes, root.city_dir(o.city).string());
    return summary;
}

}  // namespace zoomdiff::pipeline
