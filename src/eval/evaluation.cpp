#include "zoomdiff/eval/evaluation.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/file_hash.hpp"
#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/core/recorded_path.hpp"
#include "zoomdiff/core/text_file.hpp"
#include "zoomdiff/data/condition_tiles.hpp"
#include "zoomdiff/eval/canvas.hpp"
#include "zoomdiff/eval/synthetic_scores.hpp"
#include "zoomdiff/geo/blocks.hpp"
#include "zoomdiff/io/data_root.hpp"
#include "zoomdiff/io/h5_file.hpp"
#include "zoomdiff/io/results_store.hpp"
#include "zoomdiff/io/run_manifest.hpp"

namespace zoomdiff::eval {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

constexpr std::size_t kT = kHoursPerWeek;
constexpr std::size_t kTileCells = 16;  // 4 × 4 500 m cells per 2000 m tile
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kMosaic = "mosaic";
constexpr const char* kPatches = "patches";

/// The three scales, coarse to fine, and their cell size in 500 m cells.
struct ScaleSpec {
    const char* name;
    std::size_t factor;  ///< 500 m cells per cell side
};

constexpr std::array<ScaleSpec, 3> kScales{{{"2000m", 4}, {"1000m", 2}, {"500m", 1}}};

const std::vector<std::string> kMethods{"zoomdiff", "mean_profile", "condition_proportional",
                                        "nearest_analogue"};

void require_file(const fs::path& path, const std::string& what, const std::string& fix) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        throw Error(path.string(), "no such file (" + what + ")", fix);
    }
}

json file_entry(const fs::path& path) {
    return json{{"path", core::recorded_path(path)}, {"sha256", core::sha256_file(path)}};
}

/// NaN (and inf) as JSON null: metrics.json never carries a number that is not one.
json number(double v) {
    return std::isfinite(v) ? json(v) : json(nullptr);
}

json numbers(const std::vector<double>& v) {
    json out = json::array();
    for (const double x : v)
        out.push_back(number(x));
    return out;
}

double mean_of(const std::vector<double>& v) {
    if (v.empty())
        return kNaN;
    double s = 0.0;
    for (const double x : v)
        s += x;
    return s / static_cast<double>(v.size());
}

/// "mean over samples" with the per-sample values.
json per_sample(const std::vector<double>& values) {
    return json{{"mean", number(mean_of(values))}, {"per_sample", numbers(values)}};
}

// ---- real data ----------------------------------------------------------------------------------

struct RealCity {
    std::size_t tile_rows = 0;
    std::size_t tile_cols = 0;
    std::vector<double> grid500;  ///< (4R, 4C, T), rows from the south
    std::string datatype;
    std::string units;
    std::string arrangement = kMosaic;
    std::vector<double> x_edges_2000m;  ///< empty when the file has no /grid
    std::vector<double> y_edges_2000m;
};

std::string attr_or(const io::H5File& f, const char* name, const std::string& fallback) {
    return f.has_attr("/", name) ? f.attr_string("/", name) : fallback;
}

/// data_2000m (R, C, 4, 4, T) of a grid_meta data file; shape-checked.
NdArray<double> read_tiles(const io::H5File& f) {
    const fs::path& path = f.path();
    if (!f.exists("/data_2000m")) {
        throw Error(path.string(), "not a grid_meta data file (no /data_2000m)",
                    "Pass <root>/<City>/data/<City>_<datatype>_data.h5 written by grid_meta (or "
                    "uomo_import)");
    }
    const auto shape = f.shape("/data_2000m");
    if (shape.size() != 5 || shape[2] != 4 || shape[3] != 4 || shape[4] != kT) {
        throw Error(path.string(), "/data_2000m is not (R, C, 4, 4, 168)",
                    "Rewrite it with grid_meta");
    }
    auto tiles = f.read<double>("/data_2000m");
    // issue 19: traffic and user counts are >= 0 (NaN marks a missing hour and is left out).
    const auto& v = tiles.values();
    const auto bad = std::find_if(v.begin(), v.end(), [](double x) { return x < 0.0; });
    if (bad != v.end()) {
        const auto k = static_cast<std::size_t>(bad - v.begin());
        const std::size_t cell = k / kT;
        throw Error(path.string(),
                    fmt::format("/data_2000m holds {} at tile (row {}, col {}) cell (row {}, col "
                                "{}) hour {}: traffic and user counts cannot be negative",
                                *bad, cell / 16 / shape[1], cell / 16 % shape[1], cell % 16 / 4,
                                cell % 4, k % kT),
                    "Fix the station or UoMo input and rewrite it with grid_meta or uomo_import");
    }
    return tiles;
}

std::vector<double> every_nth(const std::vector<double>& edges, std::size_t step,
                              std::size_t count) {
    std::vector<double> out;
    for (std::size_t i = 0; i <= count && i * step < edges.size(); ++i)
        out.push_back(edges[i * step]);
    return out;
}

RealCity read_real(const fs::path& path) {
    const io::H5File f = io::H5File::open_read(path);
    const NdArray<double> tiles = read_tiles(f);
    RealCity r;
    r.tile_rows = tiles.dim(0);
    r.tile_cols = tiles.dim(1);
    r.grid500 = geo::interleave_tiles(tiles.values(), r.tile_rows, r.tile_cols, kT);
    r.datatype = attr_or(f, "datatype", "");
    r.units = attr_or(f, "units", "");
    r.arrangement = attr_or(f, "tile_arrangement", kMosaic);
    if (f.exists("/grid/x_edges_m") && f.exists("/grid/y_edges_m")) {
        // 20 100 m cells per 2000 m tile.
        r.x_edges_2000m = every_nth(f.read<double>("/grid/x_edges_m").values(), 20, r.tile_cols);
        r.y_edges_2000m = every_nth(f.read<double>("/grid/y_edges_m").values(), 20, r.tile_rows);
    }
    return r;
}

const io::ScaleMaps& scale_of(const io::CityMaps& maps, const fs::path& path,
                              const std::string& name) {
    for (const auto& s : maps.scales) {
        if (s.name == name)
            return s;
    }
    throw Error(path.string(), "has no /" + name + " group",
                "Pass a results file of zoomdiff_infer, which writes 2000m, 1000m and 500m");
}

bool edges_match(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::abs(a[i] - b[i]) > 1e-3)
            return false;
    }
    return true;
}

void check_same_city(const EvalOptions& rq, const RealCity& real, const io::CityMaps& maps) {
    if (!real.datatype.empty() && !maps.datatype.empty() && real.datatype != maps.datatype) {
        throw Error(rq.generated.string(),
                    "datatype '" + maps.datatype + "', but the real file " + rq.real.string() +
                        " is '" + real.datatype + "'",
                    "Compare files of one datatype (<City>_" + maps.datatype + "_data.h5)");
    }
    const io::ScaleMaps& s2000 = scale_of(maps, rq.generated, "2000m");
    if (s2000.rows != real.tile_rows || s2000.cols != real.tile_cols) {
        throw Error(
            rq.generated.string(),
            fmt::format(
                "is on a different grid: {} x {} tiles of 2000 m, the real file {} has {} x {}",
                s2000.rows, s2000.cols, rq.real.string(), real.tile_rows, real.tile_cols),
            "Compare the results of the same city and grid (rerun zoomdiff_infer on this city's "
            "condition file)");
    }
    for (const auto& spec : kScales) {
        const io::ScaleMaps& s = scale_of(maps, rq.generated, spec.name);
        if (s.rows != 4 * real.tile_rows / spec.factor ||
            s.cols != 4 * real.tile_cols / spec.factor) {
            throw Error(rq.generated.string(),
                        "scale " + s.name + " has " + std::to_string(s.rows) + " x " +
                            std::to_string(s.cols) + " cells, not the 2000 m grid's",
                        "Rewrite it with zoomdiff_infer");
        }
    }
    if (!real.x_edges_2000m.empty() && (!edges_match(real.x_edges_2000m, s2000.x_edges_m) ||
                                        !edges_match(real.y_edges_2000m, s2000.y_edges_m))) {
        throw Error(
            rq.generated.string(),
            "is on a different grid: its 2000 m edges differ from those of " + rq.real.string(),
            "Compare the results of the same city and grid (rerun zoomdiff_infer on this city's "
            "condition file)");
    }
}

// ---- conditions ---------------------------------------------------------------------------------

/// Every tile condition of a condition file: datasets (R, C, 4, 4[, K]) under /2000m (but the
/// mask), or the reference keys <q>_2000m at the root when the file has no /2000m group.
struct TileConditions {
    std::map<std::string, std::size_t> channels;        ///< key → K
    std::map<std::string, std::vector<double>> values;  ///< key → (R, C, 4, 4, K)
};

TileConditions read_tile_conditions(const fs::path& path, std::size_t rows, std::size_t cols) {
    require_file(path, "the condition file of a city",
                 "Write it with env_extra (or uomo_import), or name it with --cond");
    const io::H5File f = io::H5File::open_read(path);
    std::vector<std::pair<std::string, std::string>> candidates;  // (key, dataset)
    if (f.exists("/2000m")) {
        for (const auto& name : f.children("/2000m")) {
            if (name != "mask")
                candidates.emplace_back(name, "/2000m/" + name);
        }
    } else {
        for (const auto& name : f.children("/")) {
            const std::string suffix = "_2000m";
            if (name.size() > suffix.size() &&
                name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
                name != "loc_2000m" && name != "data_2000m") {
                candidates.emplace_back(name, "/" + name);
            }
        }
    }
    TileConditions out;
    for (const auto& [key, dataset] : candidates) {
        const auto shape = f.shape(dataset);
        if (shape.size() < 4 || shape.size() > 5 || shape[2] != 4 || shape[3] != 4)
            continue;
        if (shape[0] != rows || shape[1] != cols) {
            throw Error(path.string(),
                        fmt::format("{} has {} x {} tiles, its data file {} x {}", dataset,
                                    shape[0], shape[1], rows, cols),
                        "Use the condition file of the same city and grid (env_extra)");
        }
        out.channels[key] = shape.size() == 5 ? shape[4] : 1;
        out.values[key] = f.read<double>(dataset).values();
    }
    return out;
}

/// The first key of `names` the conditions have.
const std::vector<double>* find_key(const TileConditions& c,
                                    std::initializer_list<const char*> names, std::size_t* channels,
                                    std::string* which) {
    for (const char* name : names) {
        const auto it = c.values.find(name);
        if (it != c.values.end()) {
            *channels = c.channels.at(name);
            *which = name;
            return &it->second;
        }
    }
    return nullptr;
}

/// Tile condition vectors [tiles, features] over `keys` (each key's K channels × 16 cells).
Series tile_features(const TileConditions& c, const std::vector<std::string>& keys,
                     std::size_t tiles) {
    std::size_t features = 0;
    for (const auto& k : keys)
        features += c.channels.at(k) * kTileCells;
    Series s;
    s.cells = tiles;
    s.steps = features;
    s.values.assign(tiles * features, 0.0);
    for (std::size_t t = 0; t < tiles; ++t) {
        std::size_t f = 0;
        for (const auto& key : keys) {
            const std::size_t kk = c.channels.at(key);
            const auto& v = c.values.at(key);
            for (std::size_t cell = 0; cell < kTileCells; ++cell) {
                for (std::size_t k = 0; k < kk; ++k) {
                    s.values[t * features + f++] = v[(t * kTileCells + cell) * kk + k];
                }
            }
        }
    }
    return s;
}

bool finite_row(const Series& s, std::size_t row) {
    for (std::size_t j = 0; j < s.steps; ++j) {
        if (!std::isfinite(s.at(row, j)))
            return false;
    }
    return true;
}

// ---- baselines ----------------------------------------------------------------------------------

struct TrainFile {
    fs::path data;
    fs::path cond;
};

/// The manifest of the generated file's model run, for `flag` (which needs it); `path` gets its
/// path.
io::RunManifest read_manifest(const io::CityMaps& maps, const std::string& flag,
                              std::string* path) {
    const std::string fix =
        flag == "--baselines"
            ? "Pass the training cities' data files with --train <data.h5>[*<data.h5>...]"
            : "Pass the tile ids (e.g. --tiles 3,7), or results of a model run that has its "
              "manifest.json";
    if (maps.model_run.empty()) {
        throw Error(
            flag, "needs the model run's manifest, and the generated file names no model_run", fix);
    }
    *path = io::RunManifest::path_in(maps.model_run).string();
    std::error_code ec;
    if (!fs::is_regular_file(*path, ec)) {
        throw Error(flag, "needs the model run's manifest, and " + *path + " does not exist", fix);
    }
    return io::RunManifest::read(maps.model_run,
                                 "Check the run folder, or pass what it would give on the command "
                                 "line");
}

std::vector<TrainFile> training_files(const EvalOptions& rq, const io::CityMaps& maps,
                                      std::string* source) {
    std::vector<TrainFile> out;
    if (!rq.train.empty()) {
        *source = "--train";
        for (const auto& d : rq.train)
            out.push_back({d, io::cond_file_beside(d)});
        return out;
    }
    const io::RunManifest m = read_manifest(maps, "--baselines", source);
    const auto cities = m.cities(*source, "Pass the training data files with --train");
    if (cities.empty()) {
        throw Error(*source, "lists no training cities ('cities')",
                    "Pass the training data files with --train");
    }
    for (const auto& c : cities)
        out.push_back(
            {c.data_file, c.cond_file.empty() ? io::cond_file_beside(c.data_file) : c.cond_file});
    return out;
}

/// The tiles of the evaluated city (R·C flags, row-major from the south-west) that --tiles
/// selects: all when it is empty; `described` says which.
std::vector<bool> evaluated_tiles(const EvalOptions& rq, const io::CityMaps& maps,
                                  const RealCity& real, std::string* described) {
    const std::size_t count = real.tile_rows * real.tile_cols;
    if (rq.tiles.empty()) {
        *described = "all";
        return std::vector<bool>(count, true);
    }
    std::vector<std::int64_t> ids;
    if (rq.tiles == "valid" || rq.tiles == "train") {
        std::string path;
        const io::RunManifest m = read_manifest(maps, "--tiles " + rq.tiles, &path);
        const auto cities = m.cities(path, "Pass tile ids (e.g. --tiles 3,7)");
        std::optional<std::vector<std::int64_t>> split;
        for (const auto& c : cities) {
            if (c.city == maps.city)
                split = rq.tiles == "valid" ? c.valid_tile_ids : c.train_tile_ids;
        }
        if (!split) {
            throw Error(path,
                        fmt::format("has no {} split of {}: the run did not train on it", rq.tiles,
                                    maps.city),
                        "Pass tile ids (e.g. --tiles 3,7), or evaluate a city the run trained on");
        }
        ids = *split;
        *described = fmt::format("the {} split of {} in {} ({} tiles)", rq.tiles, maps.city, path,
                                 ids.size());
    } else {
        std::size_t start = 0;
        while (start <= rq.tiles.size()) {
            const std::size_t end = std::min(rq.tiles.find(',', start), rq.tiles.size());
            const std::string item = rq.tiles.substr(start, end - start);
            char* rest = nullptr;
            const long long id = std::strtoll(item.c_str(), &rest, 10);
            if (item.empty() || *rest != '\0' || id < 0) {
                throw Error("--tiles " + rq.tiles, fmt::format("'{}' is not a tile id", item),
                            "Pass valid, train, or tile ids separated by commas (e.g. 3,7)");
            }
            ids.push_back(id);
            start = end + 1;
        }
        *described = "tiles " + rq.tiles;
    }
    std::vector<bool> chosen(count, false);
    for (const auto id : ids) {
        if (static_cast<std::size_t>(id) >= count) {
            throw Error("--tiles " + rq.tiles,
                        fmt::format("tile {} is beyond the city's {} x {} tiles", id,
                                    real.tile_rows, real.tile_cols),
                        fmt::format("Pass ids from 0 to {}", count - 1));
        }
        chosen[static_cast<std::size_t>(id)] = true;
    }
    if (ids.empty()) {
        throw Error("--tiles " + rq.tiles, "selects no tile",
                    "Pass valid, train, or tile ids (e.g. 3,7)");
    }
    return chosen;
}

/// Full 500 m grids (4R, 4C, T) of the three baselines, plus what they were built from.
struct Baselines {
    std::map<std::string, std::vector<double>> grid500;  ///< method → grid (absent: not available)
    std::map<std::string, std::string> unavailable;      ///< method → reason
    json info;
};

/// A training city of the baselines: its tiles and conditions; `own` when it is the evaluated
/// city's own data file.
struct LoadedTraining {
    TileConditions cond;
    NdArray<double> tiles;
    bool own = false;
};

std::vector<LoadedTraining> load_training(const std::vector<TrainFile>& files,
                                          const std::string& real_sha, json& inputs) {
    std::vector<LoadedTraining> loaded;
    json train_json = json::array();
    for (const auto& tf : files) {
        require_file(tf.data, "a training data file of --baselines",
                     "Pass existing data files with --train <data.h5>[*<data.h5>...]");
        const io::H5File f = io::H5File::open_read(tf.data);
        LoadedTraining l;
        l.tiles = read_tiles(f);
        l.cond = read_tile_conditions(tf.cond, l.tiles.dim(0), l.tiles.dim(1));
        json e = file_entry(tf.data);
        l.own = e["sha256"] == real_sha;
        json ce = file_entry(tf.cond);
        train_json.push_back(json{{"data", e},
                                  {"cond", ce},
                                  {"tiles", l.tiles.dim(0) * l.tiles.dim(1)},
                                  {"is_evaluated_city", l.own}});
        loaded.push_back(std::move(l));
    }
    inputs["train"] = train_json;
    return loaded;
}

/// The condition keys every file has with the same channel count; the others go to `dropped`.
std::vector<std::string> shared_keys(const TileConditions& target,
                                     const std::vector<LoadedTraining>& loaded,
                                     std::vector<std::string>& dropped) {
    std::vector<std::string> keys;
    for (const auto& [key, k] : target.channels) {
        bool common = true;
        for (const auto& l : loaded) {
            const auto it = l.cond.channels.find(key);
            common = common && it != l.cond.channels.end() && it->second == k;
        }
        (common ? keys : dropped).push_back(key);
    }
    return keys;
}

/// The training tiles with finite data and conditions, in three layouts.
struct TrainingSet {
    Series cells;                       // [tiles * 16, T]
    Series tiles;                       // [tiles, 16 T]
    Series cond;                        // [tiles, features]
    std::vector<std::size_t> own_tile;  // per kept row: target tile index, or kNoRow
    std::size_t skipped = 0;
    std::size_t left_out = 0;  // evaluated tiles of this city when --tiles picks a subset
};

TrainingSet training_set(const std::vector<LoadedTraining>& loaded,
                         const std::vector<std::string>& keys, const std::vector<bool>& evaluated,
                         bool subset, std::size_t target_tiles) {
    TrainingSet set;
    set.cells.steps = kT;
    set.tiles.steps = kTileCells * kT;
    for (const auto& l : loaded) {
        const std::size_t n = l.tiles.dim(0) * l.tiles.dim(1);
        const Series feats = tile_features(l.cond, keys, n);
        if (set.cond.steps == 0)
            set.cond.steps = feats.steps;
        for (std::size_t t = 0; t < n; ++t) {
            const double* first = l.tiles.data() + t * kTileCells * kT;
            const bool finite = std::all_of(first, first + kTileCells * kT,
                                            [](double v) { return std::isfinite(v); });
            if (!finite || !finite_row(feats, t)) {
                ++set.skipped;
                continue;
            }
            if (subset && l.own && n == target_tiles && evaluated[t]) {
                ++set.left_out;  // a held-out tile is no training data of the baselines
                continue;
            }
            set.tiles.values.insert(set.tiles.values.end(), first, first + kTileCells * kT);
            set.cond.values.insert(
                set.cond.values.end(),
                feats.values.begin() + static_cast<std::ptrdiff_t>(t * feats.steps),
                feats.values.begin() + static_cast<std::ptrdiff_t>((t + 1) * feats.steps));
            set.own_tile.push_back(l.own && n == target_tiles ? t : kNoRow);
        }
    }
    set.tiles.cells = set.own_tile.size();
    set.cond.cells = set.own_tile.size();
    set.cells.cells = set.tiles.cells * kTileCells;
    set.cells.values = set.tiles.values;
    return set;
}

/// Condition-proportional: the training mean profile shared out by population, else by the
/// total POI count, over the city's 500 m cells.
void add_condition_proportional(Baselines& b, const TileConditions& target,
                                const Series& train_cells, std::size_t rows, std::size_t cols) {
    const std::size_t target_tiles = rows * cols;
    std::size_t kp = 0;
    std::string which;
    std::vector<double> weights;
    std::string weight_kind;
    if (const auto* pop = find_key(target, {"population", "pop_2000m"}, &kp, &which);
        pop != nullptr && kp == 1) {
        double total = 0.0;
        for (const double v : *pop)
            total += std::isfinite(v) ? std::max(v, 0.0) : 0.0;
        if (total > 0.0) {
            weights = *pop;
            weight_kind = "population (" + which + ")";
        }
    }
    if (weights.empty()) {
        if (const auto* poi = find_key(target, {"poi_count", "poi_2000m", "poi"}, &kp, &which);
            poi != nullptr) {
            weights.assign(target_tiles * kTileCells, 0.0);
            for (std::size_t i = 0; i < weights.size(); ++i) {
                for (std::size_t k = 0; k < kp; ++k)
                    weights[i] += (*poi)[i * kp + k];
            }
            weight_kind = fmt::format("total POI count ({}, {} categories)", which, kp);
        }
    }
    for (auto& w : weights)
        w = std::isfinite(w) ? std::max(w, 0.0) : 0.0;
    if (weights.empty() || std::accumulate(weights.begin(), weights.end(), 0.0) <= 0.0) {
        b.unavailable["condition_proportional"] =
            "the condition file has neither a positive population nor POI counts";
        return;
    }
    const std::vector<double> w500 = geo::interleave_tiles(weights, rows, cols, 1);
    b.grid500["condition_proportional"] = condition_proportional_baseline(train_cells, w500).values;
    b.info["condition_proportional"] = json{{"weights", weight_kind},
                                            {"definition",
                                             "training mean profile x n w_i / sum_j w_j over the "
                                             "city's 500 m cells"}};
}

/// Nearest analogue on standardised tile condition vectors (leave-one-out where the training
/// set holds the evaluated city's own tiles).
void add_nearest_analogue(Baselines& b, const TileConditions& target,
                          const std::vector<std::string>& keys,
                          const std::vector<std::string>& dropped, const TrainingSet& set,
                          std::size_t rows, std::size_t cols) {
    if (keys.empty()) {
        b.unavailable["nearest_analogue"] =
            "no condition key is shared by the evaluated city and every training city";
        return;
    }
    const std::size_t target_tiles = rows * cols;
    Series targets = tile_features(target, keys, target_tiles);
    std::size_t nonfinite = 0;
    for (auto& v : targets.values) {
        if (!std::isfinite(v)) {
            v = 0.0;
            ++nonfinite;
        }
    }
    std::vector<std::size_t> excluded(target_tiles, kNoRow);
    bool any_excluded = false;
    for (std::size_t row = 0; row < set.own_tile.size(); ++row) {
        if (set.own_tile[row] != kNoRow) {
            excluded[set.own_tile[row]] = row;
            any_excluded = true;
        }
    }
    if (set.tiles.cells < 2 && any_excluded) {
        b.unavailable["nearest_analogue"] = "the training set is only the evaluated tile";
        return;
    }
    const AnalogueResult a = nearest_analogue_baseline(
        set.tiles, set.cond, targets, any_excluded ? excluded : std::vector<std::size_t>{});
    // Tile-major (tiles, 4, 4, T) → (4R, 4C, T).
    b.grid500["nearest_analogue"] = geo::interleave_tiles(a.generated.values, rows, cols, kT);
    json chosen = json::array();
    for (const auto c : a.chosen)
        chosen.push_back(c);
    b.info["nearest_analogue"] =
        json{{"features", keys},
             {"features_dropped", dropped},
             {"feature_length", set.cond.steps},
             {"distance",
              "Euclidean on features centred and divided by their population standard deviation "
              "over the training tiles (constant features left out)"},
             {"leave_one_out", any_excluded},
             {"target_nonfinite_features_set_to_0", nonfinite},
             {"chosen_training_tile", chosen}};
}

Baselines build_baselines(const EvalOptions& rq, const io::CityMaps& maps, const RealCity& real,
                          const fs::path& cond_path, const std::string& real_sha, json& inputs,
                          const std::vector<bool>& evaluated) {
    Baselines b;
    std::string source;
    const std::vector<TrainFile> files = training_files(rq, maps, &source);
    const std::size_t R = real.tile_rows;
    const std::size_t C = real.tile_cols;
    const std::size_t target_tiles = R * C;
    const TileConditions target = read_tile_conditions(cond_path, R, C);
    inputs["cond"] = file_entry(cond_path);
    const std::vector<LoadedTraining> loaded = load_training(files, real_sha, inputs);
    std::vector<std::string> dropped;
    const std::vector<std::string> keys = shared_keys(target, loaded, dropped);
    const TrainingSet set = training_set(loaded, keys, evaluated, !rq.tiles.empty(), target_tiles);
    b.info["training_set"] = json{
        {"source", source},
        {"tiles_used", set.tiles.cells},
        {"tiles_skipped_nonfinite", set.skipped},
        {"evaluated_tiles_left_out", set.left_out},
        {"includes_evaluated_city",
         std::any_of(loaded.begin(), loaded.end(), [](const LoadedTraining& l) { return l.own; })}};
    if (set.tiles.cells == 0) {
        throw Error("--baselines", "the training set has no tile with finite data and conditions",
                    "Pass other training data files with --train");
    }
    const std::vector<double> profile = mean_profile(set.cells);
    b.info["mean_profile"] =
        json{{"definition",
              "every cell gets the training set's city-mean 168-h profile "
              "(mean over all training 500 m cells), whose mean is the training mean"},
             {"training_mean", mean_of(profile)}};
    b.grid500["mean_profile"] = mean_profile_baseline(set.cells, 16 * target_tiles).values;
    add_condition_proportional(b, target, set.cells, R, C);
    add_nearest_analogue(b, target, keys, dropped, set, R, C);
    for (const auto& [method, reason] : b.unavailable) {
        spdlog::warn("baseline {}: {}", method, reason);
    }
    return b;
}

// ---- one scale ----------------------------------------------------------------------------------

struct ScaleData {
    std::string name;
    std::size_t factor = 1;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<std::size_t>
        cells;  ///< evaluated grid cells (r * cols + c), row-major from the south-west
    MapLayout layout;
    Series real;
    std::vector<double> real_grid;  ///< (rows, cols, T), every cell
    std::map<std::string, std::vector<Series>>
        samples;  ///< method → samples on the evaluated cells
    std::map<std::string, std::vector<double>>
        mean_grid;  ///< method → (rows, cols, T), 0 off the cells
    json cells_info;
};

Series gather(const std::vector<double>& grid, const std::vector<std::size_t>& cells) {
    Series s;
    s.cells = cells.size();
    s.steps = kT;
    s.values.reserve(cells.size() * kT);
    for (const auto c : cells) {
        s.values.insert(s.values.end(), grid.begin() + static_cast<std::ptrdiff_t>(c * kT),
                        grid.begin() + static_cast<std::ptrdiff_t>((c + 1) * kT));
    }
    return s;
}

std::vector<double> zero_outside(const std::vector<double>& grid,
                                 const std::vector<std::size_t>& cells) {
    std::vector<double> out(grid.size(), 0.0);
    for (const auto c : cells) {
        std::copy_n(grid.begin() + static_cast<std::ptrdiff_t>(c * kT), kT,
                    out.begin() + static_cast<std::ptrdiff_t>(c * kT));
    }
    return out;
}

/// Chooses the scale's evaluated cells (inside the chosen tiles and the generated mask, with finite
/// real data) into d.cells and d.layout, and records in d.cells_info how many were left out and
/// why.
void select_cells(const EvalOptions& rq, const RealCity& real, const io::ScaleMaps& g,
                  const std::vector<bool>& evaluated, ScaleData& d) {
    std::size_t outside_mask = 0;
    std::size_t nonfinite = 0;
    std::size_t outside_tiles = 0;
    const std::size_t per_tile = std::max<std::size_t>(1, d.rows / real.tile_rows);
    for (std::size_t r = 0; r < d.rows; ++r) {
        for (std::size_t c = 0; c < d.cols; ++c) {
            const std::size_t cell = r * d.cols + c;
            if (!evaluated[(r / per_tile) * real.tile_cols + c / per_tile]) {
                ++outside_tiles;
                continue;
            }
            if (g.mask.at(r, c) == 0) {
                ++outside_mask;
                continue;
            }
            const bool finite =
                std::all_of(d.real_grid.begin() + static_cast<std::ptrdiff_t>(cell * kT),
                            d.real_grid.begin() + static_cast<std::ptrdiff_t>((cell + 1) * kT),
                            [](double v) { return std::isfinite(v); });
            if (!finite) {
                ++nonfinite;
                continue;
            }
            d.cells.push_back(cell);
            d.layout.cell_row.push_back(r);
            d.layout.cell_col.push_back(c);
        }
    }
    d.layout.rows = d.rows;
    d.layout.cols = d.cols;
    if (d.cells.size() < 2) {
        throw Error(rq.generated.string(),
                    fmt::format("scale {} has {} evaluable cell(s) (cells with generated values "
                                "and finite real data)",
                                d.name, d.cells.size()),
                    "Evaluate a city whose mask and real data cover at least two cells");
    }
    d.cells_info =
        json{{"selection", rq.mask ? "inside the generated file's city mask"
                                   : "all cells of the tiles that carry generated values"},
             {"grid_cells", d.rows * d.cols},
             {"evaluated", d.cells.size()},
             {"outside_generated_mask", outside_mask},
             {"outside_chosen_tiles", outside_tiles},
             {"real_nonfinite_excluded", nonfinite}};
    if (!rq.mask && outside_mask > 0) {
        d.cells_info["note"] =
            "zoomdiff_infer stores only the cells inside its mask, so cells outside it have no "
            "generated values "
            "and are not evaluated";
    }
}

/// Each of the ns generated samples on the chosen cells, [cells, kT] in double.
std::vector<Series> generated_samples(const io::ScaleMaps& g, const std::vector<std::size_t>& cells,
                                      std::size_t ns) {
    std::vector<Series> samples(ns);
    for (std::size_t k = 0; k < ns; ++k) {
        samples[k].cells = cells.size();
        samples[k].steps = kT;
        samples[k].values.resize(cells.size() * kT);
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const float* src = g.samples.data() + (cells[i] * ns + k) * kT;
            for (std::size_t t = 0; t < kT; ++t)
                samples[k].values[i * kT + t] = static_cast<double>(src[t]);
        }
    }
    return samples;
}

ScaleData prepare_scale(const EvalOptions& rq, const ScaleSpec& spec, const RealCity& real,
                        const io::CityMaps& maps, const Baselines& baselines,
                        const std::vector<bool>& evaluated) {
    ScaleData d;
    d.name = spec.name;
    d.factor = spec.factor;
    const io::ScaleMaps& g = scale_of(maps, rq.generated, spec.name);
    d.rows = g.rows;
    d.cols = g.cols;
    d.real_grid =
        geo::block_mean_grid(real.grid500, 4 * real.tile_rows, 4 * real.tile_cols, kT, spec.factor);
    select_cells(rq, real, g, evaluated, d);
    d.real = gather(d.real_grid, d.cells);

    // zoomdiff: every sample, and the stored sample mean.
    std::vector<double> gen_mean(g.mean.values().begin(), g.mean.values().end());
    d.mean_grid["zoomdiff"] = zero_outside(gen_mean, d.cells);
    d.samples["zoomdiff"] = generated_samples(g, d.cells, static_cast<std::size_t>(maps.nsample));
    for (const auto& [method, grid500] : baselines.grid500) {
        const std::vector<double> grid =
            geo::block_mean_grid(grid500, 4 * real.tile_rows, 4 * real.tile_cols, kT, spec.factor);
        d.samples[method] = {gather(grid, d.cells)};
        d.mean_grid[method] = zero_outside(grid, d.cells);
    }
    return d;
}

// ---- scoring ------------------------------------------------------------------------------------

const char* scale_name(HistogramScale s) {
    return s == HistogramScale::kLog1p ? "log1p" : "linear";
}

json jsd_json(const std::vector<JsdResult>& r, const char* what) {
    std::vector<double> v;
    for (const auto& x : r)
        v.push_back(x.jsd);
    json out{{"evaluated_on", "per_sample"}};
    out.update(per_sample(v));
    out["parameters"] =
        json{{"values", what},
             {"bins", r[0].bins},
             {"lower", r[0].lower},
             {"upper", r[0].upper},
             {"edges", "shared, equal width; values above upper go to the last bin"},
             {"epsilon", r[0].epsilon},
             {"scale", scale_name(r[0].scale)},
             {"log", "natural"},
             {"reported", "the divergence (range [0, ln 2]), not its square root"},
             {"real_count", r[0].real_count},
             {"generated_count", r[0].generated_count}};
    return out;
}

json errors_json(const PointErrors& e) {
    return json{{"mae", number(e.mae)},
                {"rmse", number(e.rmse)},
                {"nmae", number(e.nmae)},
                {"nrmse", number(e.nrmse)}};
}

/// Table rows of one method at one scale: metric key → value.
using RowValues = std::map<std::string, double>;

struct ScoreContext {
    const ScaleData* scale = nullptr;
    bool mosaic = true;
    std::vector<std::size_t> mmd_rows;  ///< evaluated cells the MMD uses
    std::size_t mmd_max_cells = 0;
    std::uint64_t seed = 0;
    std::string units;
};

Series subset(const Series& s, const std::vector<std::size_t>& rows) {
    Series out;
    out.cells = rows.size();
    out.steps = s.steps;
    for (const auto r : rows) {
        out.values.insert(out.values.end(),
                          s.values.begin() + static_cast<std::ptrdiff_t>(r * s.steps),
                          s.values.begin() + static_cast<std::ptrdiff_t>((r + 1) * s.steps));
    }
    return out;
}

json ssim_json(const Series& real, const Series& mean, const ScoreContext& ctx, double* value) {
    const ScaleData& d = *ctx.scale;
    json out{{"evaluated_on", "sample_mean"}};
    std::string reason;
    if (!ctx.mosaic) {
        reason = "patches, not a mosaic";
    } else if (d.rows < 11 || d.cols < 11) {
        reason =
            fmt::format("map of {} x {} cells is smaller than the 11 x 11 window", d.rows, d.cols);
    } else {
        const auto [lo, hi] = std::minmax_element(real.values.begin(), real.values.end());
        if (!(*hi > *lo))
            reason = "the real data are constant (data range 0)";
    }
    out["parameters"] = json{{"window", 11},
                             {"gaussian_sigma", 1.5},
                             {"k1", 0.01},
                             {"k2", 0.03},
                             {"data_range", "max(Y) - min(Y) over the evaluated cells and hours"},
                             {"outside_evaluated_cells", 0},
                             {"mean_over", "hours, of full-window pixels"}};
    if (!reason.empty()) {
        out["value"] = nullptr;
        out["reason"] = reason;
        *value = kNaN;
        return out;
    }
    const SsimResult r = spatial_ssim(real, mean, d.layout);
    *value = r.ssim;
    out["value"] = number(r.ssim);
    out["parameters"]["data_range_value"] = r.data_range;
    out["parameters"]["pixels_averaged"] = r.pixels_averaged;
    out["per_hour"] = numbers(r.per_hour);
    return out;
}

/// Distributions (per sample): value JSD, linear and log1p, and increment JSD.
void score_distributions(const Series& real, const std::vector<Series>& samples, json& m,
                         RowValues& row) {
    std::vector<JsdResult> jl, jg, ji;
    for (const auto& x : samples) {
        jl.push_back(value_jsd(real, x, 100, HistogramScale::kLinear));
        jg.push_back(value_jsd(real, x, 100, HistogramScale::kLog1p));
        ji.push_back(increment_jsd(real, x, 100));
    }
    m["value_jsd"] = jsd_json(jl, "all values of Y and of X");
    m["value_jsd_log1p"] = jsd_json(jg, "log1p of all values of Y and of X");
    m["increment_jsd"] =
        jsd_json(ji, "increments X[c, t+1] - X[c, t] within each cell; range [-max|dY|, max|dY|]");
    const auto jsd_mean = [](const std::vector<JsdResult>& r) {
        std::vector<double> v;
        for (const auto& x : r)
            v.push_back(x.jsd);
        return mean_of(v);
    };
    row["value_jsd"] = jsd_mean(jl);
    row["value_jsd_log1p"] = jsd_mean(jg);
    row["increment_jsd"] = jsd_mean(ji);
}

/// Point errors: on the sample mean and per sample.
void score_point_errors(const Series& real, const std::vector<Series>& samples, const Series& mean,
                        const ScoreContext& ctx, json& m, RowValues& row) {
    const PointErrors on_mean = point_errors(real, mean);
    const PerSampleErrors per = point_errors_per_sample(real, samples);
    json per_values = json::array();
    for (const auto& e : per.per_sample)
        per_values.push_back(errors_json(e));
    m["point_errors"] =
        json{{"sample_mean", errors_json(on_mean)},
             {"per_sample", json{{"mean", errors_json(per.mean)}, {"values", per_values}}},
             {"parameters", json{{"units", ctx.units},
                                 {"real_mean", number(on_mean.real_mean)},
                                 {"real_range", number(on_mean.real_range)},
                                 {"nmae", "MAE / mean(Y)"},
                                 {"nrmse", "RMSE / (max(Y) - min(Y))"},
                                 {"over", "all evaluated cells and hours"}}}};
    row["mae_mean"] = on_mean.mae;
    row["rmse_mean"] = on_mean.rmse;
    row["nmae_mean"] = on_mean.nmae;
    row["nrmse_mean"] = on_mean.nrmse;
    row["mae_per_sample"] = per.mean.mae;
    row["nmae_per_sample"] = per.mean.nmae;
}

/// Weekly profile (sample mean).
void score_profile(const Series& real, const Series& mean, json& m, RowValues& row) {
    const ProfileErrorResult prof = weekly_profile_error(real, mean);
    m["weekly_profile_error"] =
        json{{"evaluated_on", "sample_mean"},
             {"l1", number(prof.l1)},
             {"parameters",
              json{{"period", prof.period},
                   {"weeks_folded", prof.weeks_folded},
                   {"profile", "city mean over the evaluated cells, divided by its own mean"},
                   {"norm", "L1 sum over the hours (range [0, 2 period]), not a mean"}}}};
    row["weekly_profile_l1"] = prof.l1;
}

/// ACF distances (per sample).
void score_acf(const Series& real, const std::vector<Series>& samples, json& m, RowValues& row) {
    std::vector<double> acf_cell, acf_city, d24, d168, g24, g168;
    AcfResult first;
    for (std::size_t k = 0; k < samples.size(); ++k) {
        const AcfResult a = acf_distance(real, samples[k]);
        if (k == 0)
            first = a;
        acf_cell.push_back(a.per_cell);
        acf_city.push_back(a.city_total);
        d24.push_back(a.at_lags[0].per_cell_abs_diff);
        d168.push_back(a.at_lags[1].per_cell_abs_diff);
        g24.push_back(a.at_lags[0].city_generated);
        g168.push_back(a.at_lags[1].city_generated);
    }
    json lags = json::array();
    lags.push_back(json{{"lag", 24},
                        {"per_cell_abs_diff", per_sample(d24)},
                        {"city_real", number(first.at_lags[0].city_real)},
                        {"city_generated", per_sample(g24)}});
    json lag168{{"lag", kHoursPerWeek},
                {"per_cell_abs_diff", per_sample(d168)},
                {"city_real", number(first.at_lags[1].city_real)},
                {"city_generated", per_sample(g168)}};
    if (first.max_lag_used < kHoursPerWeek)
        lag168["reason"] = "lag 168 has no pair of values in a 168-step series (null)";
    lags.push_back(lag168);
    m["acf_distance"] =
        json{{"evaluated_on", "per_sample"},
             {"per_cell", per_sample(acf_cell)},
             {"city_total", per_sample(acf_city)},
             {"at_lags", lags},
             {"parameters",
              json{{"max_lag_requested", first.max_lag_requested},
                   {"max_lag_used", first.max_lag_used},
                   {"lags", "1..max_lag_used"},
                   {"estimator", "mean-removed, biased (divided by T), normalised by lag 0"},
                   {"cells_used", first.cells_used},
                   {"cells_skipped_constant", first.cells_skipped}}}};
    row["acf_per_cell"] = mean_of(acf_cell);
    row["acf_city_total"] = mean_of(acf_city);
    row["acf_24"] = mean_of(d24);
}

/// Periodicity shares (per sample).
void score_periodicity(const Series& real, const std::vector<Series>& samples, json& m,
                       RowValues& row) {
    std::vector<double> daily, weekly;
    PeriodicityResult p0;
    for (std::size_t k = 0; k < samples.size(); ++k) {
        const PeriodicityResult p = periodicity_share(real, samples[k]);
        if (k == 0)
            p0 = p;
        daily.push_back(p.daily_rmse);
        weekly.push_back(p.weekly_rmse);
    }
    m["periodicity_share"] =
        json{{"evaluated_on", "per_sample"},
             {"daily_rmse", per_sample(daily)},
             {"weekly_rmse", per_sample(weekly)},
             {"parameters", json{{"daily_bin", p0.daily_bin},
                                 {"weekly_bin", p0.weekly_bin},
                                 {"dc_excluded", p0.dc_excluded},
                                 {"share", "|rFFT[bin]| / sum_{j=1}^{T/2} |rFFT[j]| per cell"},
                                 {"cells_used", p0.cells_used},
                                 {"cells_skipped_constant", p0.cells_skipped}}}};
    row["daily_share_rmse"] = mean_of(daily);
    row["weekly_share_rmse"] = mean_of(weekly);
}

/// Spatial structure of the sample mean: SSIM and the rank correlation of weekly totals.
void score_spatial(const Series& real, const Series& mean, const ScoreContext& ctx, json& m,
                   RowValues& row) {
    double ssim = kNaN;
    m["spatial_ssim"] = ssim_json(real, mean, ctx, &ssim);
    row["ssim"] = ssim;
    const SpearmanResult sp = spatial_spearman(real, mean);
    m["spatial_rank_correlation"] = json{
        {"evaluated_on", "sample_mean"},
        {"rho", number(sp.rho)},
        {"parameters",
         json{{"of", "per-cell weekly totals"}, {"ties", "average ranks"}, {"cells", sp.cells}}}};
    row["spearman"] = sp.rho;
}

/// CRPS (all samples; needs 10).
void score_crps(const Series& real, const std::vector<Series>& samples, json& m, RowValues& row) {
    json crps_json{{"evaluated_on", "all samples"}};
    if (samples.size() >= 10) {
        const CrpsResult c = crps(real, samples);
        crps_json["value"] = number(c.crps);
        crps_json["parameters"] = json{{"quantile_levels", c.quantile_levels},
                                       {"per_quantile", numbers(c.per_quantile)},
                                       {"samples", c.samples},
                                       {"min_samples", 10},
                                       {"quantiles", "numpy linear rule"},
                                       {"normaliser", "sum |y|"}};
        row["crps"] = c.crps;
    } else {
        crps_json["value"] = nullptr;
        crps_json["reason"] =
            samples.size() == 1 ? "a deterministic map (1 sample); CRPS needs at least 10 samples"
                                : fmt::format("{} samples; CRPS needs at least 10", samples.size());
        row["crps"] = kNaN;
    }
    m["crps"] = crps_json;
}

/// MMD (per sample, on the seeded cell subsample `real_sub` of `real`).
void score_mmd(const Series& real, const Series& real_sub, const std::vector<Series>& samples,
               const ScoreContext& ctx, json& m, RowValues& row) {
    std::vector<double> mmd2, bw;
    for (const auto& x : samples) {
        const MmdResult r = mmd(real_sub, subset(x, ctx.mmd_rows));
        mmd2.push_back(r.mmd2);
        bw.push_back(r.base_bandwidth);
    }
    json mmd_json{{"evaluated_on", "per_sample"}};
    mmd_json.update(per_sample(mmd2));
    mmd_json["parameters"] =
        json{{"reported", "squared MMD, biased V-statistic (diagonals included)"},
             {"kernel", "sum of 5 Gaussians exp(-d^2 / (beta 2^(i-2))), i = 0..4 (DAN)"},
             {"kernel_num", 5},
             {"kernel_mul", 2},
             {"beta", "mean squared distance over distinct pairs of the pooled set"},
             {"beta_per_sample", numbers(bw)},
             {"set", "per-cell 168-h series"},
             {"cells", ctx.mmd_rows.size()},
             {"max_cells", ctx.mmd_max_cells},
             {"subsampled", ctx.mmd_rows.size() < real.cells},
             {"subsample_seed", ctx.seed}};
    m["mmd"] = mmd_json;
    row["mmd2"] = mean_of(mmd2);
}

/// The synthetic-data scores (SDMetrics / TSGM / TimeGAN convention), per sample, on the same
/// cells as the MMD (issue 20).
void score_synthetic(const Series& real_sub, const std::vector<Series>& samples,
                     const ScoreContext& ctx, json& m, RowValues& row) {
    std::vector<double> c2st, tstr, trtr;
    std::size_t neighbours = 0;
    for (std::size_t k = 0; k < samples.size(); ++k) {
        const Series x = subset(samples[k], ctx.mmd_rows);
        const std::uint64_t draw = ctx.seed + 0x9E3779B97F4A7C15ULL * (k + 1);
        if (real_sub.cells >= 4) {
            const C2stResult c = classifier_two_sample(real_sub, x, draw);
            c2st.push_back(c.accuracy);
            neighbours = c.neighbours;
        }
        if (real_sub.cells >= 2) {
            const PredictiveResult p = train_synthetic_test_real(real_sub, x, draw);
            tstr.push_back(p.tstr_nmae);
            trtr.push_back(p.trtr_nmae);
        }
    }
    // Per-sample values, or why there are none.
    const auto per_sample_or = [](const std::vector<double>& values, const char* reason) {
        json j{{"evaluated_on", "per_sample"}};
        if (values.empty()) {
            j["value"] = nullptr;
            j["reason"] = reason;
        } else {
            j.update(per_sample(values));
        }
        return j;
    };
    json c2st_json = per_sample_or(c2st, "fewer than 4 cells");
    c2st_json["parameters"] = json{
        {"classifier", "k nearest neighbours (Euclidean) on per-hour standardised weekly series"},
        {"k", neighbours},
        {"split", "each class halved by a seeded shuffle; accuracy on the held-out halves"},
        {"chance", 0.5},
        {"cells", ctx.mmd_rows.size()}};
    m["c2st"] = c2st_json;
    row["c2st_accuracy"] = c2st.empty() ? kNaN : mean_of(c2st);
    json tstr_json = per_sample_or(tstr, "fewer than 2 cells");
    if (!tstr.empty())
        tstr_json["train_on_real_nmae"] = mean_of(trtr);
    tstr_json["parameters"] =
        json{{"forecaster", "ridge (lambda 1) of the next 24 h from the previous 24 h and a bias"},
             {"trained_on", "every day-to-day window of the generated series"},
             {"scored_on", "a seeded half of the real cells, NMAE = sum |y_hat - y| / sum |y|"},
             {"reference", "train_on_real_nmae: the same forecaster trained on the other half"},
             {"cells", ctx.mmd_rows.size()}};
    m["tstr"] = tstr_json;
    row["tstr_nmae"] = tstr.empty() ? kNaN : mean_of(tstr);
}

json score(const Series& real, const std::vector<Series>& samples, const ScoreContext& ctx,
           RowValues& row) {
    const Series mean = samples.size() == 1 ? samples[0] : sample_mean(samples);
    json m;
    m["samples"] = samples.size();
    score_distributions(real, samples, m, row);
    score_point_errors(real, samples, mean, ctx, m, row);
    score_profile(real, mean, m, row);
    score_acf(real, samples, m, row);
    score_periodicity(real, samples, m, row);
    score_spatial(real, mean, ctx, m, row);
    score_crps(real, samples, m, row);
    const Series real_sub = subset(real, ctx.mmd_rows);
    score_mmd(real, real_sub, samples, ctx, m, row);
    score_synthetic(real_sub, samples, ctx, m, row);
    return m;
}

std::vector<std::size_t> mmd_rows(std::size_t cells, std::size_t max_cells, std::uint64_t seed,
                                  std::size_t scale_index) {
    std::vector<std::size_t> rows(cells);
    std::iota(rows.begin(), rows.end(), std::size_t{0});
    if (cells <= max_cells || max_cells == 0)
        return rows;
    std::mt19937_64 rng(seed + 0x9E3779B97F4A7C15ULL * (scale_index + 1));
    std::shuffle(rows.begin(), rows.end(), rng);
    rows.resize(max_cells);
    std::sort(rows.begin(), rows.end());
    return rows;
}

Series grid_series(const std::vector<double>& grid, std::size_t rows, std::size_t cols) {
    return Series{rows * cols, kT, grid};
}

// ---- table --------------------------------------------------------------------------------------

struct RowSpec {
    const char* key;
    const char* label;
    bool lower_is_better;
};

const std::vector<RowSpec> kRows{
    {"value_jsd", "value JSD", true},
    {"value_jsd_log1p", "value JSD (log1p)", true},
    {"increment_jsd", "increment JSD", true},
    {"mae_mean", "MAE (sample mean)", true},
    {"rmse_mean", "RMSE (sample mean)", true},
    {"nmae_mean", "NMAE (sample mean)", true},
    {"nrmse_mean", "NRMSE (sample mean)", true},
    {"mae_per_sample", "MAE (per sample, mean)", true},
    {"nmae_per_sample", "NMAE (per sample, mean)", true},
    {"weekly_profile_l1", "weekly-profile L1 (sum over 168 h)", true},
    {"acf_per_cell", "ACF distance (per cell)", true},
    {"acf_city_total", "ACF distance (city total)", true},
    {"acf_24", "mean abs ACF difference at 24 h", true},
    {"daily_share_rmse", "daily periodicity share RMSE", true},
    {"weekly_share_rmse", "weekly periodicity share RMSE", true},
    {"ssim", "spatial SSIM (higher is better)", false},
    {"spearman", "Spearman rank correlation (higher is better)", false},
    {"crps", "CRPS", true},
    {"mmd2", "MMD squared", true},
    {"c2st_accuracy", "classifier two-sample accuracy (0.5 = indistinguishable)", true},
    {"tstr_nmae", "train-on-synthetic next-day NMAE", true},
    {"cross_1000m", "cross-scale consistency to 1000m", true},
    {"cross_2000m", "cross-scale consistency to 2000m", true},
};

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i)
        out += (i == 0 ? "" : sep) + parts[i];
    return out;
}

std::string format_value(double v) {
    if (!std::isfinite(v))
        return "–";
    return fmt::format("{:.4g}", v);
}

// ---- plots --------------------------------------------------------------------------------------

const std::map<std::string, Rgb> kColours{{"real", {0, 0, 0}},
                                          {"zoomdiff", {31, 119, 180}},
                                          {"mean_profile", {255, 127, 14}},
                                          {"condition_proportional", {44, 160, 44}},
                                          {"nearest_analogue", {148, 103, 189}}};

std::vector<double> hist_share(const std::vector<const Series*>& series, double top,
                               std::size_t bins) {
    std::vector<double> h(bins, 0.0);
    double n = 0.0;
    for (const Series* s : series) {
        for (const double v : s->values) {
            const double x = std::log1p(std::max(v, 0.0));
            auto b = static_cast<std::size_t>(x / top * static_cast<double>(bins));
            b = std::min(b, bins - 1);
            h[b] += 1.0;
            n += 1.0;
        }
    }
    for (auto& x : h)
        x /= std::max(n, 1.0);
    return h;
}

std::vector<double> city_profile(const Series& s) {
    std::vector<double> p(kT, 0.0);
    for (std::size_t c = 0; c < s.cells; ++c)
        for (std::size_t t = 0; t < kT; ++t)
            p[t] += s.at(c, t);
    for (auto& x : p)
        x /= static_cast<double>(s.cells);
    return p;
}

std::vector<double> city_acf(const Series& s) {
    const std::vector<double> p = city_profile(s);
    std::vector<double> a = autocorrelation(p.data(), kT, kT - 1);
    if (a.empty())
        a.assign(kT, kNaN);
    return a;
}

std::vector<double> hours() {
    std::vector<double> x(kT);
    std::iota(x.begin(), x.end(), 0.0);
    return x;
}

std::vector<double> weekly_mean_map(const ScaleData& d, const Series& s) {
    std::vector<double> m(d.rows * d.cols, kNaN);
    for (std::size_t i = 0; i < d.cells.size(); ++i) {
        double sum = 0.0;
        for (std::size_t t = 0; t < kT; ++t)
            sum += s.at(i, t);
        m[d.cells[i]] = sum / static_cast<double>(kT);
    }
    return m;
}

/// One column of a plot's data file.
struct Column {
    std::string name;
    std::vector<double> values;
};

/// `path`: a "# " line saying what the numbers are, a header, then one row per index; NaN is
/// written as an empty field (pandas: read_csv(path, comment="#")). Atomic.
fs::path write_plot_csv(const fs::path& path, const std::string& about,
                        const std::vector<Column>& columns) {
    std::string text = "# " + about + "\n";
    for (std::size_t c = 0; c < columns.size(); ++c)
        text += (c == 0 ? "" : ",") + columns[c].name;
    text += "\n";
    const std::size_t rows = columns.empty() ? 0 : columns.front().values.size();
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < columns.size(); ++c) {
            const double v = columns[c].values[r];
            text += (c == 0 ? "" : ",") + (std::isfinite(v) ? fmt::format("{:.9g}", v) : "");
        }
        text += "\n";
    }
    core::write_text_file(path, text);
    return path;
}

/// The quicklook PNGs of one scale and, beside each, the CSV of the numbers it draws
/// (scripts/plot_eval.py turns those into publication figures). `geo`: the scale's grid edges
/// (map coordinates of the map's CSV).
/// What the plots of one scale share; `written` collects the files.
struct PlotContext {
    const fs::path& dir;
    std::string title;
    std::string unit_text;
    const std::string& units;
    const ScaleData& d;
    const std::vector<Series>& gen;
    Series gen_mean;
    const io::ScaleMaps* geo;
    std::vector<fs::path> written;
};

/// log1p value histograms, real vs all samples.
void plot_value_hist(PlotContext& pc) {
    const ScaleData& d = pc.d;
    const std::vector<Series>& gen = pc.gen;
    constexpr std::size_t kBins = 50;
    double top = 0.0;
    for (const double v : d.real.values)
        top = std::max(top, std::log1p(std::max(v, 0.0)));
    if (!(top > 0.0))
        top = 1.0;
    std::vector<double> x(kBins);
    for (std::size_t b = 0; b < kBins; ++b)
        x[b] = (static_cast<double>(b) + 0.5) * top / kBins;
    std::vector<const Series*> gen_ptrs;
    for (const auto& s : gen)
        gen_ptrs.push_back(&s);
    Canvas canvas(720, 420);
    draw_line_chart(canvas, pc.title + ": value histogram", "log1p(value)", "share of values",
                    {{"real", x, hist_share({&d.real}, top, kBins), kColours.at("real"), 2},
                     {"zoomdiff (all samples)", x, hist_share(gen_ptrs, top, kBins),
                      kColours.at("zoomdiff"), 2}});
    const fs::path p = pc.dir / (d.name + "_value_hist.png");
    canvas.write_png(p, pc.title + ": log1p value histograms, real vs generated");
    pc.written.push_back(p);
    pc.written.push_back(write_plot_csv(
        pc.dir / (d.name + "_value_hist.csv"),
        fmt::format("{}: share of all cell-hour values per log1p bin (bin centres; values in "
                    "{}); zoomdiff pools all samples",
                    pc.title, pc.unit_text),
        {{"log1p_value", x},
         {"real", hist_share({&d.real}, top, kBins)},
         {"zoomdiff", hist_share(gen_ptrs, top, kBins)}}));
}

/// City-mean weekly profiles: real, the sample mean and every baseline.
void plot_weekly_profile(PlotContext& pc, const std::vector<std::string>& methods) {
    const ScaleData& d = pc.d;
    std::vector<LineSeries> series{{"real", hours(), city_profile(d.real), kColours.at("real"), 2}};
    std::vector<Column> columns{{"hour", hours()}, {"real", city_profile(d.real)}};
    for (const auto& m : methods) {
        if (d.samples.count(m) == 0)
            continue;
        const auto& s = d.samples.at(m);
        const std::vector<double> profile = city_profile(s.size() == 1     ? s[0]
                                                         : m == "zoomdiff" ? pc.gen_mean
                                                                           : sample_mean(s));
        series.push_back({m == "zoomdiff" ? "zoomdiff (sample mean)" : m, hours(), profile,
                          kColours.at(m), m == "zoomdiff" ? 2 : 1});
        columns.push_back({m, profile});
    }
    pc.written.push_back(write_plot_csv(
        pc.dir / (d.name + "_weekly_profile.csv"),
        fmt::format("{}: city-mean value per cell at each hour of the week, in {} per cell "
                    "and hour (zoomdiff: the sample mean)",
                    pc.title, pc.unit_text),
        columns));
    Canvas canvas(900, 440);
    draw_line_chart(canvas, pc.title + ": city-mean weekly profile", "hour of the week",
                    fmt::format("mean per cell ({} per hour)",
                                !pc.units.empty() && pc.units.size() <= 16 ? pc.units : "value"),
                    series);
    const fs::path p = pc.dir / (d.name + "_weekly_profile.png");
    canvas.write_png(p, pc.title + ": city-mean weekly profiles, real, generated and baselines");
    pc.written.push_back(p);
}

/// ACF of the city-mean series, real vs the mean of the samples' ACFs.
void plot_acf(PlotContext& pc) {
    const ScaleData& d = pc.d;
    const std::vector<Series>& gen = pc.gen;
    std::vector<double> lags = hours();
    std::vector<double> gen_acf(kT, 0.0);
    for (const auto& s : gen) {
        const auto a = city_acf(s);
        for (std::size_t k = 0; k < kT; ++k)
            gen_acf[k] += a[k] / static_cast<double>(gen.size());
    }
    Canvas canvas(900, 420);
    draw_line_chart(canvas, pc.title + ": ACF of the city series", "lag (hours)", "ACF",
                    {{"real", lags, city_acf(d.real), kColours.at("real"), 2},
                     {"zoomdiff (mean over samples)", lags, gen_acf, kColours.at("zoomdiff"), 2}},
                    false);
    const fs::path p = pc.dir / (d.name + "_acf.png");
    canvas.write_png(p, pc.title + ": ACF of the city-mean series, real vs generated");
    pc.written.push_back(p);
    pc.written.push_back(write_plot_csv(
        pc.dir / (d.name + "_acf.csv"),
        pc.title + ": autocorrelation of the city-mean series at each lag in hours (zoomdiff: "
                   "the mean of the samples' ACFs)",
        {{"lag", lags}, {"real", city_acf(d.real)}, {"zoomdiff", gen_acf}}));
}

/// Weekly mean maps, real | generated on one colour scale (mosaics only).
void plot_weekly_mean_map(PlotContext& pc) {
    const ScaleData& d = pc.d;
    const std::vector<double> real_map = weekly_mean_map(d, d.real);
    const std::vector<double> gen_map = weekly_mean_map(d, pc.gen_mean);
    double top = 0.0;
    for (const auto* m : {&real_map, &gen_map})
        for (const double v : *m)
            if (std::isfinite(v))
                top = std::max(top, v);
    const Canvas canvas = draw_map_panels(
        pc.title + ": weekly mean",
        {{"REAL", d.rows, d.cols, real_map}, {"GENERATED (SAMPLE MEAN)", d.rows, d.cols, gen_map}},
        top);
    const fs::path p = pc.dir / (d.name + "_weekly_mean_map.png");
    canvas.write_png(
        p, pc.title + ": weekly mean, real | generated, one colour scale 0.." + axis_number(top));
    pc.written.push_back(p);
    std::vector<Column> columns{{"row", {}}, {"col", {}},  {"x_m", {}},
                                {"y_m", {}}, {"real", {}}, {"zoomdiff", {}}};
    const bool has_geo = pc.geo != nullptr && pc.geo->x_edges_m.size() == d.cols + 1 &&
                         pc.geo->y_edges_m.size() == d.rows + 1;
    for (std::size_t r = 0; r < d.rows; ++r) {
        for (std::size_t c = 0; c < d.cols; ++c) {
            const std::size_t cell = r * d.cols + c;
            columns[0].values.push_back(static_cast<double>(r));
            columns[1].values.push_back(static_cast<double>(c));
            columns[2].values.push_back(
                has_geo ? 0.5 * (pc.geo->x_edges_m[c] + pc.geo->x_edges_m[c + 1]) : kNaN);
            columns[3].values.push_back(
                has_geo ? 0.5 * (pc.geo->y_edges_m[r] + pc.geo->y_edges_m[r + 1]) : kNaN);
            columns[4].values.push_back(real_map[cell]);
            columns[5].values.push_back(gen_map[cell]);
        }
    }
    pc.written.push_back(write_plot_csv(
        pc.dir / (d.name + "_weekly_mean_map.csv"),
        fmt::format("{}: weekly mean per cell in {} per cell and hour; rows from the south, "
                    "x_m/y_m the cell centre in metres of the results file's UTM CRS; empty "
                    "= not evaluated",
                    pc.title, pc.unit_text),
        columns));
}

std::vector<fs::path> write_plots(const fs::path& dir, const std::string& what, const ScaleData& d,
                                  bool mosaic, const std::vector<std::string>& methods,
                                  const io::ScaleMaps* geo, const std::string& units) {
    const std::vector<Series>& gen = d.samples.at("zoomdiff");
    PlotContext pc{dir,
                   what + " " + d.name,
                   units.empty() ? "the data's units" : units,
                   units,
                   d,
                   gen,
                   gen.size() == 1 ? gen[0] : sample_mean(gen),
                   geo,
                   {}};
    plot_value_hist(pc);
    plot_weekly_profile(pc, methods);
    plot_acf(pc);
    if (mosaic)
        plot_weekly_mean_map(pc);
    return pc.written;
}

/// An upper bound of the bytes an evaluation writes (uncompressed RGB canvases: three charts of
/// at most 900 x 440 pixels and one two-panel map per scale, plus 1 MB of JSON and Markdown):
/// the free-space check before the scoring (issue 19).
std::uintmax_t eval_bytes_bound(const io::CityMaps& maps) {
    std::uintmax_t bytes = 1U << 20;
    for (const auto& s : maps.scales) {
        const std::size_t cols = std::max<std::size_t>(1, s.cols);
        const std::size_t factor = std::max<std::size_t>(1, std::min<std::size_t>(24, 300 / cols));
        const std::uintmax_t map_w = 2 * (cols * factor + 24) + 24;
        const std::uintmax_t map_h = std::max<std::size_t>(1, s.rows) * factor + 122;
        bytes += 3 * (3 * 900 * 440 + map_w * map_h);
    }
    return bytes;
}

}  // namespace

std::string markdown_table(const std::vector<std::string>& methods,
                           const std::vector<TableRow>& rows) {
    std::string out = "| metric |";
    for (const auto& m : methods)
        out += " " + m + " |";
    out += "\n| --- |";
    for (std::size_t i = 0; i < methods.size(); ++i)
        out += " ---: |";
    out += "\n";
    for (const auto& row : rows) {
        double best = kNaN;
        for (const double v : row.values) {
            if (std::isfinite(v) &&
                (!std::isfinite(best) || (row.lower_is_better ? v < best : v > best)))
                best = v;
        }
        out += "| " + row.metric + " |";
        for (const double v : row.values) {
            const std::string text = format_value(v);
            out += std::isfinite(v) && v == best ? " **" + text + "** |" : " " + text + " |";
        }
        out += "\n";
    }
    return out;
}

namespace {

/// Every scale with at least two evaluated cells, finest last; a few chosen tiles can hold a
/// single 2000 m cell: that scale is left out (named in `skipped`), not an error.
std::vector<ScaleData> prepare_scales(const EvalOptions& rq, const RealCity& real,
                                      const io::CityMaps& maps, const Baselines& baselines,
                                      const std::vector<bool>& tiles,
                                      std::vector<std::string>& skipped) {
    std::vector<ScaleData> scales;
    const auto chosen = static_cast<std::size_t>(std::count(tiles.begin(), tiles.end(), true));
    for (const auto& spec : kScales) {
        const std::size_t side = 4 / spec.factor;
        if (!rq.tiles.empty() && chosen * side * side < 2) {
            spdlog::warn("{}: --tiles {} holds {} cell(s) of {}: that scale is not evaluated",
                         rq.generated.string(), rq.tiles, chosen * side * side, spec.name);
            skipped.emplace_back(spec.name);
            continue;
        }
        scales.push_back(prepare_scale(rq, spec, real, maps, baselines, tiles));
    }
    return scales;
}

/// Cross-scale consistency of method `m` at scale `si`: its map pooled to each coarser scale
/// against that scale's map, and the same for the real maps.
json cross_scale_json(const std::vector<ScaleData>& scales, std::size_t si, const std::string& m,
                      RowValues& row) {
    const ScaleData& d = scales[si];
    json cross = json::object();
    for (std::size_t cj = 0; cj < si; ++cj) {
        const ScaleData& coarse = scales[cj];
        const std::size_t f = coarse.factor / d.factor;
        const CrossScaleResult r = cross_scale_consistency(
            grid_series(d.mean_grid.at(m), d.rows, d.cols), d.rows, d.cols,
            grid_series(coarse.mean_grid.at(m), coarse.rows, coarse.cols), f);
        const CrossScaleResult rr = cross_scale_consistency(
            grid_series(zero_outside(d.real_grid, d.cells), d.rows, d.cols), d.rows, d.cols,
            grid_series(coarse.real_grid, coarse.rows, coarse.cols), f);
        cross["to_" + coarse.name] = json{{"value", number(r.relative_error)},
                                          {"real_reference", number(rr.relative_error)},
                                          {"factor", r.factor}};
        row["cross_" + coarse.name] = r.relative_error;
    }
    json out{{"evaluated_on", "sample_mean"},
             {"definition",
              "||pool(X_fine) - X_coarse|| / ||X_coarse||, pool = block mean with zeros "
              "outside the evaluated cells; real_reference = the same for the real maps"}};
    if (si == 0) {
        out["reason"] = "coarsest scale: nothing to pool to";
    } else {
        out.update(cross);
    }
    return out;
}

/// The metrics.json entry of scale `si`: every method's scores (the table's values go to `rows`).
json score_scale(const std::vector<ScaleData>& scales, std::size_t si,
                 const std::vector<std::string>& methods, const Baselines& baselines,
                 const ScoreContext& ctx, std::map<std::string, RowValues>& rows) {
    const ScaleData& d = scales[si];
    json sj{{"cells", d.cells_info}, {"methods", json::object()}};
    for (const auto& m : methods) {
        if (d.samples.count(m) == 0) {
            sj["methods"][m] = json{{"available", false}, {"reason", baselines.unavailable.at(m)}};
            continue;
        }
        RowValues& row = rows[m];
        json mj = score(d.real, d.samples.at(m), ctx, row);
        mj["cross_scale_consistency"] = cross_scale_json(scales, si, m, row);
        mj["available"] = true;
        sj["methods"][m] = mj;
    }
    return sj;
}

/// The Markdown table rows of scale `si` (a row no method has a value for is left out, except
/// SSIM and CRPS, which say why).
std::vector<TableRow> table_rows(std::size_t si, const std::vector<std::string>& methods,
                                 const std::map<std::string, RowValues>& rows) {
    std::vector<TableRow> table;
    for (const auto& spec : kRows) {
        if (si == 0 && std::string(spec.key).rfind("cross_", 0) == 0)
            continue;
        if (si == 1 && std::string(spec.key) == "cross_1000m")
            continue;
        TableRow tr{spec.label, spec.lower_is_better, {}};
        bool any = false;
        for (const auto& m : methods) {
            const auto it = rows.find(m);
            const double v = it == rows.end() || it->second.count(spec.key) == 0
                                 ? kNaN
                                 : it->second.at(spec.key);
            any = any || std::isfinite(v);
            tr.values.push_back(v);
        }
        if (any || std::string(spec.key) == "ssim" || std::string(spec.key) == "crps")
            table.push_back(tr);
    }
    return table;
}

/// metrics.md's section of one scale: the table, why SSIM or CRPS are missing, and (with
/// baselines) the metrics a baseline wins.
std::string scale_markdown(const ScaleData& d, const std::vector<std::string>& methods,
                           const std::vector<TableRow>& table, const json& sj, bool baselines) {
    std::string md =
        fmt::format("\n## {} ({} of {} cells)\n\n", d.name, d.cells.size(), d.rows * d.cols);
    md += markdown_table(methods, table);
    const json& z = sj["methods"]["zoomdiff"];
    if (z["spatial_ssim"].contains("reason"))
        md += "\nSSIM: " + z["spatial_ssim"]["reason"].get<std::string>() + ".";
    if (z["crps"].contains("reason"))
        md += "\nCRPS: " + z["crps"]["reason"].get<std::string>() + ".";
    if (baselines) {
        std::vector<std::string> beaten;
        for (const auto& tr : table) {
            const double zv = tr.values[0];
            for (std::size_t k = 1; k < tr.values.size(); ++k) {
                const double v = tr.values[k];
                if (std::isfinite(v) &&
                    (!std::isfinite(zv) || (tr.lower_is_better ? v < zv : v > zv))) {
                    beaten.push_back(tr.metric);
                    break;
                }
            }
        }
        md += beaten.empty() ? std::string(
                                   "\nzoomdiff beats every baseline on every metric with a "
                                   "value at this scale.")
                             : "\nA baseline beats zoomdiff on: " + join(beaten, "; ") + ".";
    }
    return md + "\n";
}

/// The options block of metrics.json: the request as resolved.
json options_json(const EvalOptions& rq, const fs::path& out, const std::string& tiles_described,
                  const std::vector<std::string>& skipped_scales) {
    json options{{"real", rq.real.string()},
                 {"generated", rq.generated.string()},
                 {"mask", rq.mask},
                 {"baselines", rq.baselines},
                 {"train", json::array()},
                 {"cond", rq.cond.string()},
                 {"out", out.string()},
                 {"seed", rq.seed},
                 {"mmd_max_cells", rq.mmd_max_cells},
                 {"tiles", rq.tiles.empty() ? std::string("all") : rq.tiles},
                 {"tiles_evaluated", tiles_described},
                 {"scales_not_evaluated", skipped_scales},
                 {"command_line", rq.command_line}};
    for (const auto& t : rq.train)
        options["train"].push_back(t.string());
    return options;
}

/// metrics.json: what was compared, how, and every scale's scores.
json eval_document(const EvalOptions& rq, const io::CityMaps& maps, bool mosaic, const json& inputs,
                   const json& options, const std::vector<std::string>& methods,
                   const json& scales_json, const Baselines& baselines) {
    json doc{{"format", "zoomdiff-eval 1"},
             {"tool", json{{"name", "zoomdiff_eval"}, {"version", ZOOMDIFF_VERSION}}},
             {"contract",
              "EVAL.md: real Y and generated X, [cells, 168], physical units, on the same cells"},
             {"city", maps.city},
             {"datatype", maps.datatype},
             {"units", maps.units},
             {"nsample", maps.nsample},
             {"calibration", maps.calibration},
             {"model_run", maps.model_run},
             {"tile_arrangement", mosaic ? kMosaic : kPatches},
             {"real_coarse_scales",
              "2x2 / 4x4 block means of the real 500 m grid (the model's division operators)"},
             {"generated_coarse_scales", "the model's own 1000 m and 2000 m maps as stored"},
             {"inputs", inputs},
             {"options", options},
             {"methods", methods},
             {"scales", scales_json}};
    if (rq.baselines)
        doc["baselines"] = baselines.info;
    return doc;
}

/// The Markdown report's opening paragraph: what was compared with what, and on which cells.
std::string report_heading(const EvalOptions& rq, const io::CityMaps& maps) {
    return fmt::format(
        "# zoomdiff_eval: {} {}\n\nReal `{}` vs generated `{}` ({} sample(s), calibration {}). "
        "Values in {}. Cells: {}. Best value of each row in bold.\n",
        maps.city, maps.datatype, rq.real.string(), rq.generated.string(), maps.nsample,
        maps.calibration.empty() ? "unknown" : maps.calibration,
        maps.units.empty() ? "the data's units" : maps.units,
        rq.mask ? "inside the generated file's city mask" : "all cells with generated values");
}

/// Every scale's scores (metrics.json's "scales"), its Markdown section and its plots.
struct ScoredScales {
    json scales;
    std::string markdown;
    std::vector<fs::path> plots;
};

ScoredScales score_scales(const EvalOptions& rq, const io::CityMaps& maps, bool mosaic,
                          const std::vector<ScaleData>& scales,
                          const std::vector<std::string>& methods, const Baselines& baselines,
                          const fs::path& out, core::Progress& progress) {
    ScoredScales scored;
    const std::string what = maps.city + " " + maps.datatype;
    progress.start("scoring", scales.size(), "scales");
    for (std::size_t si = 0; si < scales.size(); ++si) {
        const ScaleData& d = scales[si];
        spdlog::info("scoring {} ({} cells, {} method(s))", d.name, d.cells.size(), methods.size());
        ScoreContext ctx;
        ctx.scale = &d;
        ctx.mosaic = mosaic;
        ctx.mmd_max_cells = rq.mmd_max_cells;
        ctx.mmd_rows = mmd_rows(d.cells.size(), rq.mmd_max_cells, rq.seed, si);
        ctx.seed = rq.seed;
        ctx.units = maps.units;
        std::map<std::string, RowValues> rows;
        const json sj = score_scale(scales, si, methods, baselines, ctx, rows);
        scored.scales[d.name] = sj;
        scored.markdown +=
            scale_markdown(d, methods, table_rows(si, methods, rows), sj, rq.baselines);
        const io::ScaleMaps* geo = nullptr;
        for (const auto& m : maps.scales)
            if (m.name == d.name)
                geo = &m;
        const auto written = write_plots(out / "plots", what, d, mosaic, methods, geo, maps.units);
        scored.plots.insert(scored.plots.end(), written.begin(), written.end());
        progress.advance();
    }
    progress.finish();
    return scored;
}

}  // namespace

EvalOutputs run_evaluation(const EvalOptions& rq, core::Progress& progress) {
    require_file(
        rq.real, "--real",
        "Pass the real data file <root>/<City>/data/<City>_<datatype>_data.h5 (grid_meta)");
    require_file(rq.generated, "--generated",
                 "Pass the results file <City>_<datatype>.h5 that zoomdiff_infer wrote");
    const io::CityMaps maps = io::read_results_h5(rq.generated);
    const RealCity real = read_real(rq.real);
    check_same_city(rq, real, maps);
    std::string tiles_described;
    const std::vector<bool> tiles = evaluated_tiles(rq, maps, real, &tiles_described);
    const bool mosaic = real.arrangement != kPatches;
    const std::string real_sha = core::sha256_file(rq.real);
    json inputs{{"real", json{{"path", core::recorded_path(rq.real)}, {"sha256", real_sha}}},
                {"generated", file_entry(rq.generated)}};

    // The output folder is checked before the baselines and the scoring (issue 19).
    const fs::path out =
        rq.out.empty() ? rq.generated.parent_path() / "eval" / (maps.city + "_" + maps.datatype)
                       : rq.out;
    core::check_output_folder(out, "--out", {});
    core::warn_if_low_space(out, eval_bytes_bound(maps), "eval outputs");

    Baselines baselines;
    if (rq.baselines) {
        const fs::path cond = rq.cond.empty() ? io::cond_file_beside(rq.real) : rq.cond;
        baselines = build_baselines(rq, maps, real, cond, real_sha, inputs, tiles);
    }
    std::vector<std::string> methods{"zoomdiff"};
    if (rq.baselines) {
        for (std::size_t i = 1; i < kMethods.size(); ++i)
            methods.push_back(kMethods[i]);
    }
    std::vector<std::string> skipped_scales;
    const std::vector<ScaleData> scales =
        prepare_scales(rq, real, maps, baselines, tiles, skipped_scales);

    std::string md = report_heading(rq, maps);
    ScoredScales scored = score_scales(rq, maps, mosaic, scales, methods, baselines, out, progress);
    md += scored.markdown;
    const json& scales_json = scored.scales;
    const std::vector<fs::path>& plots = scored.plots;
    for (const auto& [m, reason] : baselines.unavailable)
        md += "\n" + m + ": not available (" + reason + ").";

    const json doc = eval_document(rq, maps, mosaic, inputs,
                                   options_json(rq, out, tiles_described, skipped_scales), methods,
                                   scales_json, baselines);

    EvalOutputs result;
    result.metrics_json = out / "metrics.json";
    result.metrics_md = out / "metrics.md";
    result.plots = plots;
    result.markdown = md;
    core::write_text_file(result.metrics_json, doc.dump(2) + "\n");
    core::write_text_file(result.metrics_md, md);
    spdlog::info("wrote {}, {} and {} plot(s) in {}", result.metrics_json.string(),
                 result.metrics_md.string(), plots.size(), (out / "plots").string());
    if (rq.print_table) {
        std::fwrite(md.data(), 1, md.size(), stdout);
        std::fflush(stdout);
    }
    return result;
}

}  // namespace zoomdiff::eval
