// zoomdiff_train's loop (reference/MODEL.md §4.7–4.10) and its run folder (docs/zoomdiff_train.md).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include "zoomdiff/core/allocator.hpp"
#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/file_hash.hpp"
#include "zoomdiff/core/process_stats.hpp"
#include "zoomdiff/core/recorded_path.hpp"
#include "zoomdiff/core/text_file.hpp"
#include "zoomdiff/core/world.hpp"
#include "zoomdiff/io/run_manifest.hpp"
#include "zoomdiff/model/checkpoint.hpp"
#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/diffusion.hpp"
#include "zoomdiff/model/distributed.hpp"
#include "zoomdiff/model/network.hpp"
#include "zoomdiff/model/training.hpp"
#include "zoomdiff/model/weights.hpp"

namespace zoomdiff::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using torch::Tensor;

constexpr const char* kManifestFormat = "zoomdiff-run/1";
constexpr double kWeightDecay = 1e-6;  // MODEL.md §1.2: L2 added to the gradient (Adam, not AdamW)
constexpr double kClipNorm = 1.0;      // global L2 norm of all gradients
constexpr int kFewShotEpochs = 50;     // MODEL.md §4.10
constexpr int kFewShotBatch = 2;

// ---- files of the run folder ------------------------------------------------------------------

std::string local_time(const char* format) {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, format, &tm);
    return buffer;
}

std::string replace_all(std::string text, char from, char to) {
    std::replace(text.begin(), text.end(), from, to);
    return text;
}

/// The reference's folder name, save/<datatype>_<dataset>_t<ts>s<ss>_<time>, with '*' -> '+'
/// (D-35: a '*' in a path breaks every shell glob that touches it).
fs::path default_run_dir(const TrainOptions& request, const ModelConfig& config) {
    return fs::path("save") /
           fmt::format("{}_{}_t{}s{}_{}", request.datatype, replace_all(request.dataset, '*', '+'),
                       config.diffusion.time_scale, config.diffusion.spatial_scale,
                       local_time("%Y%m%d_%H%M%S"));
}

struct CityRecord {
    data::CitySource source;
    std::string data_sha256;
    std::string cond_sha256;
};

json manifest_json(const TrainOptions& request, const ModelConfig& config,
                   const std::vector<CityRecord>& cities,
                   const std::vector<data::CityTrainingData>& data, const std::string& device,
                   const std::string& status) {
    json m;
    m["format"] = kManifestFormat;
    m["tool"] = "zoomdiff_train";
    m["version"] = ZOOMDIFF_VERSION;
    m["torch_version"] = TORCH_VERSION;
    m["command_line"] = request.command_line;
    m["status"] = status;
    m["started"] = local_time("%Y-%m-%dT%H:%M:%S%z");
    m["seed"] = request.seed;
    m["threads"] = request.threads;
    m["device"] = device;
    m["task"] = data::to_string(request.task);
    m["dataset"] = request.dataset;
    m["datatype"] = request.datatype;
    m["data_root"] = core::recorded_path(request.data_root);
    m["base_model"] = request.base_model.empty() ? "" : core::recorded_path(request.base_model);
    m["checkpoint_every"] = request.checkpoint_every;
    m["config_sha256"] = core::sha256_text(to_yaml(config));
    json list = json::array();
    for (std::size_t i = 0; i < cities.size(); ++i) {
        const auto& c = cities[i];
        list.push_back({{"token", c.source.token},
                        {"city", c.source.city},
                        {"data_file", core::recorded_path(c.source.data_file)},
                        {"data_sha256", c.data_sha256},
                        {"cond_file", core::recorded_path(c.source.cond_file)},
                        {"cond_sha256", c.cond_sha256},
                        {"tiles", data[i].tiles.tiles},
                        {"train_tiles", data[i].train.size()},
                        {"valid_tiles", data[i].valid.size()},
                        // Where train / valid came from: the file's /split_2000m labels or the
                        // seeded 80/20 draw; the tile ids of each split (zoomdiff_eval --tiles
                        // valid scores the held-out ones).
                        {"split", data::to_string(data[i].split)}});
        json ids = {{"train", json::array()}, {"valid", json::array()}};
        for (const auto p : data[i].train)
            ids["train"].push_back(data[i].tiles.tile_id[static_cast<std::size_t>(p)]);
        for (const auto p : data[i].valid)
            ids["valid"].push_back(data[i].tiles.tile_id[static_cast<std::size_t>(p)]);
        list.back()["split_tile_ids"] = ids;
        if (data[i].split == data::SplitSource::kFile)
            list.back()["test_tiles_left_out"] = data[i].test_tiles;
    }
    m["cities"] = list;
    return m;
}

// ---- the request a run resolves to --------------------------------------------------------------

struct ResolvedRun {
    TrainOptions request;
    ModelConfig config;
    fs::path run_dir;
    bool resuming = false;
    io::RunManifest manifest;  ///< the stored manifest when resuming; a new run's once started
};

void reject_existing_run(const fs::path& dir) {
    if (fs::exists(io::RunManifest::path_in(dir))) {
        throw Error(
            dir.string(), "already holds a run (manifest.json)",
            fmt::format("Continue it with --resume {}, or pass another --out", dir.string()));
    }
}

fs::path base_weights(const fs::path& base) {
    if (fs::is_directory(base))
        return base / "model.pt";
    return base;
}

ModelConfig base_config(const fs::path& base) {
    const fs::path dir = fs::is_directory(base) ? base : base.parent_path();
    const fs::path path = dir / "config.yaml";
    if (!fs::exists(path)) {
        throw Error(
            path.string(),
            "not found: few- and zero-shot runs take the architecture from the base run",
            "Pass a run folder of zoomdiff_train (or a weight file inside one) with --base_model");
    }
    return load_model_config(path);
}

/// A run resumed from its folder: the request's data, seed and task from its manifest, and the
/// config it started with (refused if config.yaml was changed since).
ResolvedRun resume_run(const TrainOptions& given) {
    ResolvedRun run;
    run.request = given;
    auto& r = run.request;
    run.resuming = true;
    run.run_dir = given.resume;
    const fs::path manifest_path = io::RunManifest::path_in(run.run_dir);
    run.manifest = io::RunManifest::read(run.run_dir,
                                         "Pass a run folder that zoomdiff_train wrote to --resume");
    const json& m = run.manifest.document();
    try {
        r.dataset = m.at("dataset").get<std::string>();
        r.datatype = m.at("datatype").get<std::string>();
        r.data_root = m.at("data_root").get<std::string>();
        r.seed = m.at("seed").get<std::uint64_t>();
        r.task = data::parse_task(m.at("task").get<std::string>());
        r.base_model = m.at("base_model").get<std::string>();
        r.checkpoint_every = m.at("checkpoint_every").get<int>();
    } catch (const json::exception& e) {
        throw Error(manifest_path.string(),
                    fmt::format("is not a zoomdiff run manifest ({})", e.what()),
                    "Pass a run folder that zoomdiff_train wrote to --resume");
    }
    const int threads = m.value("threads", r.threads);
    if (threads != r.threads) {
        spdlog::warn(
            "resuming with {} threads; the run started with {}: the result is bit-identical to "
            "an "
            "uninterrupted run only with the same thread count (--threads {})",
            r.threads, threads, threads);
    }
    run.config = load_model_config(run.run_dir / "config.yaml");
    if (core::sha256_text(to_yaml(run.config)) != m.value("config_sha256", std::string())) {
        throw Error((run.run_dir / "config.yaml").string(),
                    "differs from the config the run started with",
                    "Restore it, or start a new run with --config");
    }
    return run;
}

/// The config a new run starts from: --config for a full training, the base run's architecture
/// (and the few-shot schedule) for few- and zero-shot.
ModelConfig task_config(const TrainOptions& r) {
    if (r.task == data::Task::kFull) {
        if (!r.base_model.empty()) {
            throw Error("--base_model", "is only used with --task few_shot or zero_shot",
                        "Drop --base_model, or pick the task");
        }
        return load_model_config(r.config);
    }
    if (r.base_model.empty()) {
        throw Error("--base_model",
                    fmt::format("--task {} needs a model to start from", data::to_string(r.task)),
                    "Pass the run folder of a trained model with --base_model");
    }
    if (!fs::exists(base_weights(r.base_model))) {
        throw Error(base_weights(r.base_model).string(), "weight file not found",
                    "Pass the run folder of a finished zoomdiff_train run with --base_model");
    }
    ModelConfig config = base_config(r.base_model);
    if (r.task == data::Task::kFewShot) {
        config.train.epochs = kFewShotEpochs;
        config.train.batch_size = kFewShotBatch;
    }
    return config;
}

ResolvedRun resolve_run(const TrainOptions& given) {
    if (!given.resume.empty())
        return resume_run(given);
    ResolvedRun run;
    run.request = given;
    auto& r = run.request;
    if (r.dataset.empty())
        throw Error("--dataset", "no city given", "Pass --dataset A*B*C");
    if (r.datatype != "traffic" && r.datatype != "user") {
        throw Error("--datatype", fmt::format("unknown datatype '{}'", r.datatype),
                    "Use traffic or user");
    }
    run.config = task_config(r);
    if (r.epochs)
        run.config.train.epochs = *r.epochs;
    if (r.batch_size)
        run.config.train.batch_size = *r.batch_size;
    if (r.lr)
        run.config.train.lr = *r.lr;
    if (r.valid_interval)
        run.config.train.valid_interval = *r.valid_interval;
    // Re-validate: flags must obey the config's rules too.
    run.config =
        parse_model_config(to_yaml(run.config), "the config after --epochs/--batch_size/--lr");
    run.run_dir = r.out.empty() ? default_run_dir(r, run.config) : r.out;
    reject_existing_run(run.run_dir);
    return run;
}

// ---- data on the device ------------------------------------------------------------------------

struct CityTensors {
    Tensor series;       // (N, 1, 168, H, W), scaled
    Tensor cond_static;  // (N, S, H, W)
    Tensor cond_poi;     // (N, P, H, W)
};

Tensor to_tensor(const std::vector<float>& values, std::vector<std::int64_t> shape,
                 const torch::Device& device) {
    return torch::from_blob(const_cast<float*>(values.data()), shape, torch::kFloat)
        .clone()
        .to(device);
}

CityTensors city_tensors(const data::CityTiles& t, const torch::Device& device) {
    return {to_tensor(t.series, {t.tiles, 1, data::kHours, t.side, t.side}, device),
            to_tensor(t.static_cond, {t.tiles, t.static_channels, t.side, t.side}, device),
            to_tensor(t.poi, {t.tiles, t.poi_channels, t.side, t.side}, device)};
}

struct Batch {
    Tensor x0;
    BatchConditions conditions;
};

Batch gather(const CityTensors& city, const std::vector<std::int64_t>& positions,
             const torch::Device& device) {
    const auto index = torch::tensor(positions, torch::kLong).to(device);
    const auto b = static_cast<std::int64_t>(positions.size());
    auto timepoints = torch::arange(data::kHours, torch::dtype(torch::kFloat).device(device))
                          .expand({b, data::kHours});
    return {city.series.index_select(0, index),
            {city.cond_static.index_select(0, index),
             city.cond_poi.index_select(0, index),
             timepoints,
             {}}};
}

// ---- optimisation ------------------------------------------------------------------------------

/// MultiStepLR with milestones ⌊0.75 E⌋, ⌊0.9 E⌋ and factor 0.1, stepped once per epoch
/// (MODEL.md §4.7): the rate epoch `epoch` (0-based) trains with, multiplied as PyTorch does.
double lr_at(const TrainConfig& train, int epoch) {
    double lr = train.lr;
    for (const int milestone :
         {static_cast<int>(0.75 * train.epochs), static_cast<int>(0.9 * train.epochs)}) {
        if (epoch >= milestone)
            lr *= 0.1;
    }
    return lr;
}

void set_lr(torch::optim::Adam& optimizer, double lr) {
    for (auto& group : optimizer.param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

/// Calls visit(values, count) with each training tile's scaled series, (1, 168, H, W) row-major
/// (validation tiles excluded).
template <typename Visit>
void for_each_training_tile(const std::vector<data::CityTrainingData>& data, Visit visit) {
    for (const auto& city : data) {
        const auto per_tile = static_cast<std::size_t>(city.tiles.series.size() /
                                                       static_cast<std::size_t>(city.tiles.tiles));
        for (const auto t : city.train)
            visit(city.tiles.series.data() + static_cast<std::size_t>(t) * per_tile, per_tile);
    }
}

/// Mean and standard deviation, in float64, of `value` of every scaled value of the training tiles
/// (validation tiles excluded); {0, 0} for fewer than two values.
template <typename Value>
std::pair<double, double> training_moments(const std::vector<data::CityTrainingData>& data,
                                           Value value) {
    double sum = 0.0;
    double squares = 0.0;
    double count = 0.0;
    for_each_training_tile(data, [&](const float* values, std::size_t per_tile) {
        for (std::size_t i = 0; i < per_tile; ++i) {
            const double v = value(static_cast<double>(values[i]));
            sum += v;
            squares += v * v;
        }
        count += static_cast<double>(per_tile);
    });
    if (count < 2)
        return {0.0, 0.0};
    const double mean = sum / count;
    return {mean, std::sqrt(std::max(0.0, squares / count - mean * mean))};
}

/// diffusion.center: hour_of_week: the mean of the transformed training values at each hour of
/// the week (over tiles and cells), and data_std becomes their spread around those means; under
/// spread: hour_of_week also the spread at each hour (hourly_std).
void measure_hourly_centre(DiffusionConfig& d, const std::vector<data::CityTrainingData>& data) {
    constexpr auto kHours = static_cast<std::size_t>(core::kHoursPerWeek);
    std::vector<double> sum(kHours, 0.0);
    std::vector<double> squares(kHours, 0.0);
    double count = 0.0;  // values per hour
    for_each_training_tile(data, [&](const float* values, std::size_t per_tile) {
        const std::size_t cells = per_tile / kHours;
        for (std::size_t i = 0; i < per_tile; ++i) {
            const double v = d.transformed(static_cast<double>(values[i]));
            sum[i / cells] += v;
            squares[i / cells] += v * v;
        }
        count += static_cast<double>(cells);
    });
    if (count < 2)
        return;
    double spread = 0.0;  // mean squared departure from the hour's mean
    std::vector<double> variance(kHours, 0.0);
    d.hourly_mean.assign(kHours, 0.0);
    for (std::size_t h = 0; h < kHours; ++h) {
        d.hourly_mean[h] = sum[h] / count;
        variance[h] = std::max(0.0, squares[h] / count - d.hourly_mean[h] * d.hourly_mean[h]);
        spread += variance[h];
    }
    const double std = std::sqrt(spread / static_cast<double>(kHours));
    d.data_std = std > 0 ? std : 1.0;
    const auto [low, high] = std::minmax_element(d.hourly_mean.begin(), d.hourly_mean.end());
    spdlog::info(
        "diffusion.center hour_of_week: hourly means {:.6g} .. {:.6g}, std around them {:.6g}",
        *low, *high, d.data_std);
    if (d.spread != Spread::kHourOfWeek)
        return;
    d.hourly_std.assign(kHours, 0.0);
    for (std::size_t h = 0; h < kHours; ++h)
        d.hourly_std[h] = std::max(std::sqrt(variance[h]), kMinHourlySpread * d.data_std);
    const auto [narrow, wide] = std::minmax_element(d.hourly_std.begin(), d.hourly_std.end());
    spdlog::info("diffusion.spread hour_of_week: hourly spreads {:.6g} .. {:.6g}", *narrow, *wide);
}

/// diffusion.standardize (and diffusion.transform: log): κ = log_offset × the training tiles' mean,
/// then the mean and standard deviation of the transformed values, recorded in the run's config.
void measure_standardization(ModelConfig& config, const std::vector<data::CityTrainingData>& data) {
    auto& d = config.diffusion;
    if (d.log_transformed()) {
        const double mean = training_moments(data, [](double x) { return x; }).first;
        d.log_scale = d.log_offset * (mean > 0 ? mean : 1.0);
        spdlog::info("diffusion.transform log: kappa = {} x the training mean = {:.6g}",
                     d.log_offset, d.log_scale);
    }
    const auto [mean, std] = training_moments(data, [&d](double x) { return d.transformed(x); });
    if (std <= 0 && mean == 0)
        return;
    d.data_mean = mean;
    d.data_std = std > 0 ? std : 1.0;
    spdlog::info(
        "diffusion.standardize: the training tiles' {}values have mean {:.6g} and std {:.6g}",
        d.log_transformed() ? "log-transformed " : "scaled ", d.data_mean, d.data_std);
    if (d.center == Centering::kHourOfWeek)
        measure_hourly_centre(d, data);
}

/// train.ema: an exponential moving average of the trainable weights, kept beside them. Off
/// (decay 0) it does nothing and holds nothing.
class WeightAverage {
public:
    WeightAverage(std::vector<Tensor> parameters, double decay, std::vector<Tensor> restored)
        : parameters_(std::move(parameters)), decay_(decay) {
        if (decay_ <= 0)
            return;
        torch::NoGradGuard no_grad;
        if (restored.size() == parameters_.size()) {
            for (std::size_t i = 0; i < restored.size(); ++i)
                restored[i] = restored[i].to(parameters_[i].device());
            shadow_ = std::move(restored);
        } else {  // a new run, or a checkpoint from before the key: start from the weights as they
                  // are
            for (const auto& p : parameters_)
                shadow_.push_back(p.detach().clone());
        }
    }

    /// After optimiser update `u` (0-based, counted over the whole run).
    void update(std::int64_t u) {
        if (decay_ <= 0)
            return;
        torch::NoGradGuard no_grad;
        const double d =
            std::min(decay_, (1.0 + static_cast<double>(u)) / (10.0 + static_cast<double>(u)));
        for (std::size_t i = 0; i < shadow_.size(); ++i)
            shadow_[i].mul_(d).add_(parameters_[i].detach(), 1.0 - d);
    }

    /// Exchanges the averaged and the current weights (a second call puts them back).
    void exchange() {
        torch::NoGradGuard no_grad;
        for (std::size_t i = 0; i < shadow_.size(); ++i) {
            auto current = parameters_[i].detach().clone();
            parameters_[i].detach().copy_(shadow_[i]);
            shadow_[i].copy_(current);
        }
    }

    [[nodiscard]] const std::vector<Tensor>& shadow() const { return shadow_; }

private:
    std::vector<Tensor> parameters_;
    double decay_;
    std::vector<Tensor> shadow_;
};

/// The averaged weights in the network for one scope (validation, saving); off: the weights as they
/// are.
class AveragedWeights {
public:
    explicit AveragedWeights(WeightAverage& average) : average_(average) { average_.exchange(); }

    ~AveragedWeights() { average_.exchange(); }

    AveragedWeights(const AveragedWeights&) = delete;
    AveragedWeights& operator=(const AveragedWeights&) = delete;

private:
    WeightAverage& average_;
};

/// torch.nn.utils.clip_grad_norm_ of PyTorch 1.13: the global L2 norm of every existing gradient,
/// coefficient max_norm / (norm + 1e-6) capped at 1, always applied.
void clip_gradients(const std::vector<Tensor>& parameters) {
    std::vector<Tensor> norms;
    for (const auto& p : parameters) {
        if (p.grad().defined())
            norms.push_back(p.grad().norm(2));
    }
    if (norms.empty())
        return;
    const auto total = torch::stack(norms).norm(2);
    const auto coefficient = torch::clamp(kClipNorm / (total + 1e-6), c10::nullopt, 1.0);
    for (const auto& p : parameters) {
        if (p.grad().defined())
            p.mutable_grad().mul_(coefficient);
    }
}

/// The few-shot trainable set (the reference's model_freeze.py): every block's condition and side
/// projections, the feature embedding, the three fusion convolutions and all of the last block.
/// The spatial tables stay as the base model has them.
void freeze_for_few_shot(ZoomDiffNet& net) {
    for (auto& p : net->parameters())
        p.set_requires_grad(false);
    auto unfreeze = [](torch::nn::Module& module) {
        for (auto& p : module.parameters())
            p.set_requires_grad(true);
    };
    const auto& blocks = net->diffmodel->residual_layers;
    for (std::size_t i = 0; i < blocks->size(); ++i) {
        auto block = blocks->ptr<ResidualBlockImpl>(i);
        if (!block->cond_static_projection.is_empty())
            unfreeze(*block->cond_static_projection);
        unfreeze(*block->cond_poi_projection);
        unfreeze(*block->side_projection);
        if (i + 1 == blocks->size())
            unfreeze(*block);
    }
    unfreeze(*net->embed_layer);
    unfreeze(*net->predicted_noise_projection);
    unfreeze(*net->noise_prior_projection);
    unfreeze(*net->infused_noise_projection);
}

/// A validation generator of its own per epoch, so validation never moves the training stream
/// and a resumed run validates with the same draws.
at::Generator validation_generator(std::uint64_t seed, int epoch) {
    return GeneratorNoise::cpu_generator(seed * 0x9E3779B97F4A7C15ULL +
                                         0x5851F42D4C957F2DULL * (epoch + 1));
}

constexpr std::uint64_t kValidationTag =
    0x76616C6964ULL;  // "valid": validation keys never meet training keys

/// Per-tile noise keys of some tiles of city `city`: training (seed, epoch, city, tile) or
/// validation (seed, tag, epoch, city, tile), so a tile draws the same whatever batch or rank
/// computes it.
std::vector<std::uint64_t> tile_keys(std::uint64_t seed,
                                     std::initializer_list<std::uint64_t> prefix, std::size_t city,
                                     const std::vector<std::int64_t>& positions) {
    std::vector<std::uint64_t> keys;
    keys.reserve(positions.size());
    std::uint64_t head = TileNoise::tile_key({seed});
    for (const auto part : prefix)
        head = TileNoise::tile_key({head, part});
    for (const auto p : positions)
        keys.push_back(TileNoise::tile_key({head, city, static_cast<std::uint64_t>(p)}));
    return keys;
}

/// How the random draws of a run are made and shared out (config train.noise, the world).
struct DrawPlan {
    bool per_tile = true;
    std::uint64_t seed = 1;
    bool dropout_on_cpu = true;
    ProcessGroup* group = nullptr;  ///< null: one process

    [[nodiscard]] int rank() const { return group == nullptr ? 0 : group->rank(); }

    [[nodiscard]] int ranks() const { return group == nullptr ? 1 : group->size(); }
};

/// Tile-weighted mean of the reference's validation loss (§3.6) over every city's valid split,
/// in batches of `batch_size` without dropping the last one. Per tile, each rank takes a share of
/// every city's tiles and the sums meet in an all-reduce; the reference order draws from one
/// generator of its own per epoch, so validation never moves the training stream and a resumed
/// run validates with the same draws.
double validation_loss(MultiScaleDiffusion& diffusion, const std::vector<CityTensors>& cities,
                       const std::vector<data::CityTrainingData>& data, std::int64_t batch_size,
                       const torch::Device& device, const DrawPlan& plan, int epoch) {
    GeneratorNoise stream(validation_generator(plan.seed, epoch));
    diffusion.net()->eval();
    double sum = 0.0;
    double count = 0.0;
    for (std::size_t c = 0; c < cities.size(); ++c) {
        const auto [lo, hi] = core::rank_share(data[c].valid.size(), plan.rank(), plan.ranks());
        const std::vector<std::int64_t> ids(
            data[c].valid.begin() + static_cast<std::ptrdiff_t>(lo),
            data[c].valid.begin() + static_cast<std::ptrdiff_t>(hi));
        for (std::size_t start = 0; start < ids.size();
             start += static_cast<std::size_t>(batch_size)) {
            const std::vector<std::int64_t> positions(
                ids.begin() + static_cast<std::ptrdiff_t>(start),
                ids.begin() + static_cast<std::ptrdiff_t>(std::min(
                                  ids.size(), start + static_cast<std::size_t>(batch_size))));
            const auto batch = gather(cities[c], positions, device);
            double loss = 0.0;
            if (plan.per_tile) {
                TileNoise noise(tile_keys(
                    plan.seed, {kValidationTag, static_cast<std::uint64_t>(epoch)}, c, positions));
                loss = diffusion.validation_loss(batch.x0, batch.conditions, noise).item<double>();
            } else {
                loss = diffusion.validation_loss(batch.x0, batch.conditions, stream).item<double>();
            }
            sum += loss * static_cast<double>(positions.size());
            count += static_cast<double>(positions.size());
        }
    }
    diffusion.net()->train();
    if (plan.group != nullptr) {
        auto totals = torch::tensor({sum, count}, torch::kDouble);
        plan.group->all_reduce_sum(totals, "validation");
        sum = totals[0].item<double>();
        count = totals[1].item<double>();
    }
    return count > 0 ? sum / count : std::numeric_limits<double>::quiet_NaN();
}

/// Data-parallel step: the gradients of every rank summed and divided by the number of ranks
/// (each rank's loss was weighted by its share of the batch, so this is the gradient of the whole
/// batch's loss); a parameter without a gradient on every rank keeps none, as in one process.
/// Returns false when any rank's loss was not finite.
bool average_gradients(ProcessGroup& group, const std::vector<Tensor>& parameters, bool finite) {
    std::vector<Tensor> parts;
    parts.reserve(parameters.size() + 2);
    auto defined = torch::zeros({static_cast<std::int64_t>(parameters.size())}, torch::kFloat);
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        const auto& p = parameters[i];
        if (p.grad().defined()) {
            parts.push_back(p.grad().reshape({-1}).to(torch::kFloat));
            defined[static_cast<std::int64_t>(i)] = 1.0F;
        } else {
            parts.push_back(torch::zeros({p.numel()}, p.options().dtype(torch::kFloat)));
        }
    }
    const auto device =
        parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
    parts.push_back(defined.to(device));
    parts.push_back(
        torch::full({1}, finite ? 0.0F : 1.0F, torch::TensorOptions(torch::kFloat).device(device)));
    auto flat = torch::cat(parts);
    group.all_reduce_sum(flat, "the gradient all-reduce");
    const auto n = static_cast<std::int64_t>(parameters.size());
    const auto total = flat.numel();
    const auto flag_tensor = flat.narrow(0, total - n - 1, n + 1).to(torch::kCPU).contiguous();
    const float* flags = flag_tensor.data_ptr<float>();
    if (flags[n] > 0.0F)
        return false;
    const auto grads = flat.narrow(0, 0, total - n - 1).div_(static_cast<double>(group.size()));
    std::int64_t offset = 0;
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        auto p = parameters[i];
        const auto count = p.numel();
        if (flags[i] > 0.0F) {
            const auto value = grads.narrow(0, offset, count).view(p.sizes());
            if (p.grad().defined()) {
                p.mutable_grad().copy_(value);
            } else {
                p.mutable_grad() = value.clone();
            }
        }
        offset += count;
    }
    return true;
}

/// Rank 0's parameters everywhere (a no-op for ranks that built the same network from the same
/// seed or checkpoint; a guard against any that did not).
void broadcast_parameters(ProcessGroup& group, ZoomDiffNet& net) {
    torch::NoGradGuard no_grad;
    std::vector<Tensor> parts;
    for (const auto& p : net->parameters())
        parts.push_back(p.reshape({-1}));
    auto flat = torch::cat(parts);
    group.broadcast(flat, 0, "the broadcast of rank 0's weights");
    std::int64_t offset = 0;
    for (auto& p : net->parameters()) {
        p.copy_(flat.narrow(0, offset, p.numel()).view(p.sizes()));
        offset += p.numel();
    }
}

std::string format_loss(double value) {
    return std::isnan(value) ? std::string() : fmt::format("{:.9g}", value);
}

void write_log(const fs::path& run_dir, const std::vector<TrainLogRow>& rows) {
    std::string text = "epoch,train_loss,val_loss,lr,seconds,val_seconds\n";
    for (const auto& row : rows) {
        text +=
            fmt::format("{},{},{},{:.9g},{:.3f},{:.3f}\n", row.epoch, format_loss(row.train_loss),
                        format_loss(row.val_loss), row.lr, row.seconds, row.val_seconds);
    }
    core::write_text_file(run_dir / "train_log.csv", text);
}

std::vector<CityRecord> locate_cities(const TrainOptions& r) {
    std::vector<CityRecord> cities;
    for (const auto& token : data::split_dataset(r.dataset)) {
        CityRecord record{data::locate_city(r.data_root, token, r.datatype), {}, {}};
        record.data_sha256 = core::sha256_file(record.source.data_file);
        record.cond_sha256 = core::sha256_file(record.source.cond_file);
        cities.push_back(std::move(record));
    }
    return cities;
}

/// The run stops when the loss is not finite (`what`: its value, or where) in 0-based `epoch`.
Error loss_not_finite(const std::string& what, int epoch) {
    return Error("--lr", fmt::format("the training loss became {} in epoch {}", what, epoch + 1),
                 "Lower --lr, or check the city files for extreme values", ExitCode::kInternal);
}

void check_unchanged(const std::vector<CityRecord>& cities, const io::RunManifest& manifest) {
    const auto stored = manifest.cities(io::RunManifest::kFileName, "Start a new run");
    if (stored.size() != cities.size()) {
        throw Error(io::RunManifest::kFileName,
                    "lists another number of cities than --dataset resolves to", "Start a new run");
    }
    for (std::size_t i = 0; i < cities.size(); ++i) {
        for (const auto& [file, stored_hash, hash] :
             {std::tuple{cities[i].source.data_file, stored[i].data_sha256, cities[i].data_sha256},
              std::tuple{cities[i].source.cond_file, stored[i].cond_sha256,
                         cities[i].cond_sha256}}) {
            if (stored_hash != hash) {
                throw Error(
                    file.string(),
                    "changed since the run started (its SHA-256 differs from manifest.json)",
                    "Restore the file the run was started with, or start a new run");
            }
        }
    }
}

void check_batches(const std::vector<data::CityTrainingData>& data,
                   const std::vector<CityRecord>& cities, std::int64_t batch_size, bool drop_last) {
    for (std::size_t i = 0; i < data.size(); ++i) {
        const auto n = static_cast<std::int64_t>(data[i].train.size());
        if (n == 0 || (drop_last && n < batch_size)) {
            throw Error(
                cities[i].source.data_file.string(),
                fmt::format(
                    "{} has {} training tiles, fewer than one batch of {} (the last partial "
                    "batch is dropped, as the reference does)",
                    cities[i].source.city, n, batch_size),
                fmt::format("Lower --batch_size to at most {}, or train on larger cities",
                            std::max<std::int64_t>(n, 1)));
        }
    }
}

std::int64_t element_count(const std::vector<Tensor>& tensors) {
    std::int64_t n = 0;
    for (const auto& t : tensors)
        n += t.numel();
    return n;
}

// ---- the job: validate and load, build, train, write ------------------------------------------

/// What a run starts from, checked on every rank before any training: every input that can be
/// wrong fails here, and all ranks stop if any fails.
struct CheckedInputs {
    ResolvedRun run;
    std::vector<CityRecord> cities;
    std::vector<data::CityTrainingData> data;
    bool drop_last = true;
};

CheckedInputs check_inputs(const TrainOptions& given, ProcessGroup* group,
                           const core::World& world) {
    CheckedInputs in;
    on_every_rank(group, world, "checking its inputs", [&] {
        in.run = resolve_run(given);
        if (world.distributed() && in.run.config.train.noise != NoiseMode::kPerTile) {
            throw Error("train.noise",
                        "is 'reference' (one stream of draws in batch order), which cannot be "
                        "shared out over ranks",
                        "Train distributed with train.noise: per_tile (the default), or with "
                        "WORLD_SIZE unset");
        }
        const auto& r = in.run.request;
        in.cities = locate_cities(r);
        if (in.run.resuming)
            check_unchanged(in.cities, in.run.manifest);
        std::vector<data::CitySource> sources;
        for (const auto& c : in.cities)
            sources.push_back(c.source);
        in.data = data::prepare_training_data(sources, tile_options(in.run.config), r.task);
        in.drop_last = r.task == data::Task::kFull;
        if (r.task != data::Task::kZeroShot)
            check_batches(in.data, in.cities, in.run.config.train.batch_size, in.drop_last);
        // A new model measures its standardisation; fine-tuning keeps the base model's.
        if (in.run.config.diffusion.standardize && r.task == data::Task::kFull)
            measure_standardization(in.run.config, in.data);
    });
    return in;
}

/// Memory, not time, bounds the batches that checkpoint activations: the heap-only malloc the
/// tools start with raises the peak RSS by ~1.6x (bench/model_bench), so those take glibc's.
void choose_allocator(const TrainConfig& train) {
    if (train.batch_size < DenoiserImpl::kCheckpointBatch)
        return;
    const auto mode = core::set_malloc_mode(core::MallocMode::kGlibc);
    spdlog::info("batch {}: malloc {} (ZOOMDIFF_MALLOC=heap: faster steps, ~1.6x the peak memory)",
                 train.batch_size, core::to_string(mode));
}

/// The network of a run on its device: weights drawn from --seed (or a base model's), the
/// generators its dropout draws from, the parameters it trains.
struct RunModel {
    ZoomDiffNet net;
    /// The CPU generator first; then the device's default generator, seeded from --seed, where
    /// the activations live on a GPU. Both are saved in every checkpoint.
    std::vector<at::Generator> generators;
    std::vector<Tensor> trainable;
};

RunModel build_model(const ModelConfig& config, const TrainOptions& r,
                     const torch::Device& device) {
    RunModel model{ZoomDiffNet(config), {}, {}};
    auto& net = model.net;
    auto generator = GeneratorNoise::cpu_generator(r.seed);
    net->reset_parameters(generator);
    model.generators.push_back(generator);
    if (!device.is_cpu()) {
        auto device_generator = at::globalContext().defaultGenerator(device);
        device_generator.set_current_seed(r.seed);
        model.generators.push_back(device_generator);
    }
    if (r.task != data::Task::kFull)
        load_weights(net, base_weights(r.base_model));
    net->to(device);
    if (r.task == data::Task::kFewShot)
        freeze_for_few_shot(net);
    for (const auto& p : net->parameters()) {
        if (p.requires_grad())
            model.trainable.push_back(p);
    }
    spdlog::info("model: {} parameters ({} trainable), {} threads, device {}",
                 element_count(net->parameters()), element_count(model.trainable),
                 at::get_num_threads(), device.str());
    return model;
}

/// The optimisation of one run, from its first (or resumed) epoch to its run folder: the state
/// the loop carries (optimiser, weight average, draws, log) and the files only rank 0 writes.
class TrainingJob {
public:
    TrainingJob(CheckedInputs& in, RunModel& model, const torch::Device& device,
                ProcessGroup* group, const core::World& world, core::Progress& progress)
        : in_(in),
          model_(model),
          r_(in.run.request),
          train_(in.run.config.train),
          device_(device),
          group_(group),
          world_(world),
          leader_(world.leader()),
          progress_(progress),
          optimizer_(model.trainable,
                     torch::optim::AdamOptions(train_.lr).weight_decay(kWeightDecay)),
          checkpoint_path_(in.run.run_dir / "checkpoint" / "last.pt"),
          state_(start_or_resume()),
          average_(model.trainable, train_.ema, std::move(state_.average)),
          diffusion_(model.net),
          noise_(model.generators.front(), /*dropout_on_cpu=*/device.is_cpu()),
          plan_{train_.noise == NoiseMode::kPerTile, r_.seed, device.is_cpu(), group} {
        if (group_ != nullptr && !device_.is_cpu()) {
            // Dropout on a GPU draws from the device's generator, not per tile: give each rank a
            // stream of its own (the draws then depend on the world size; on CPUs they do not).
            model_.generators.back().set_current_seed(
                TileNoise::tile_key({r_.seed, static_cast<std::uint64_t>(world_.rank),
                                     static_cast<std::uint64_t>(state_.epochs_done)}));
        }
        if (!in_.run.resuming && leader_)  // only rank 0 writes the run folder
            write_run_folder();
        for (const auto& d : in_.data) {
            tensors_.push_back(city_tensors(d.tiles, device_));
            train_ids_.push_back(d.train);
        }
    }

    TrainSummary zero_shot();
    TrainSummary train();

private:
    TrainingState start_or_resume();
    void write_run_folder() const;
    double train_epoch(int epoch, std::size_t steps_per_epoch);
    Tensor train_step(const data::BatchRef& ref, int epoch);
    void end_epoch(int done, double lr, double train_loss,
                   std::chrono::steady_clock::time_point started);
    void finish(const std::string& status);

    CheckedInputs& in_;
    RunModel& model_;
    const TrainOptions& r_;
    const TrainConfig& train_;
    torch::Device device_;
    ProcessGroup* group_;
    const core::World& world_;
    bool leader_;
    core::Progress& progress_;
    torch::optim::Adam optimizer_;
    fs::path checkpoint_path_;
    TrainingState state_;
    WeightAverage average_;
    MultiScaleDiffusion diffusion_;
    GeneratorNoise noise_;
    DrawPlan plan_;
    std::vector<CityTensors> tensors_;
    std::vector<std::vector<std::int64_t>> train_ids_;
};

/// The checkpoint of a resumed run (weights, optimiser, generators, log) or a new run's manifest;
/// then every rank starts from rank 0's weights.
TrainingState TrainingJob::start_or_resume() {
    auto& run = in_.run;
    TrainingState state;
    if (run.resuming) {
        if (!fs::exists(checkpoint_path_)) {
            throw Error(checkpoint_path_.string(),
                        "not found: the run stopped before its first checkpoint",
                        "Start the run again without --resume");
        }
        state = load_checkpoint(checkpoint_path_, model_.net, optimizer_, model_.generators);
        spdlog::info("resuming {} after epoch {} of {}", run.run_dir.string(), state.epochs_done,
                     train_.epochs);
        const int before = run.manifest.document().value("world_size", 1);
        if (before != world_.world_size) {
            spdlog::info(
                "the run was trained on {} rank(s), continues on {}: the checkpoint holds no "
                "rank's state, "
                "and the batches are the same (per-tile draws)",
                before, world_.world_size);
        }
    } else {
        run.manifest = io::RunManifest(
            manifest_json(r_, run.config, in_.cities, in_.data, device_.str(), "running"));
    }
    json& manifest = run.manifest.document();
    manifest["world_size"] = world_.world_size;
    manifest["backend"] = group_ != nullptr ? group_->backend() : std::string("none");
    if (group_ != nullptr)
        broadcast_parameters(*group_, model_.net);
    return state;
}

/// config.yaml (resolved), scalers.json and manifest.json of a new run.
void TrainingJob::write_run_folder() const {
    const auto& run = in_.run;
    fs::create_directories(run.run_dir);
    core::write_text_file(run.run_dir / "config.yaml",
                          "# Resolved configuration of this run (zoomdiff_train " ZOOMDIFF_VERSION
                          ")\n" +
                              to_yaml(run.config));
    std::vector<data::CityScaler> scalers;
    for (const auto& d : in_.data)
        scalers.push_back(d.scaler);
    core::write_text_file(run.run_dir / "scalers.json",
                          data::scalers_to_json(r_.datatype, scalers));
    run.manifest.write(run.run_dir);
}

/// The manifest's closing fields (rank 0).
void TrainingJob::finish(const std::string& status) {
    if (!leader_)
        return;
    json& manifest = in_.run.manifest.document();
    manifest["status"] = status;
    manifest["finished"] = local_time("%Y-%m-%dT%H:%M:%S%z");
    manifest["epochs_done"] = state_.epochs_done;
    manifest["best_epoch"] = state_.best_epoch;
    manifest["best_val_loss"] = std::isnan(state_.best_valid) ? json() : json(state_.best_valid);
    manifest["peak_rss_mib"] = static_cast<double>(core::peak_rss_kb()) /
                               1024.0;  // this process (a resumed run: since the resume)
    in_.run.manifest.write(in_.run.run_dir);
}

/// --task zero_shot: the base model's validation loss on the new cities, and its weights.
TrainSummary TrainingJob::zero_shot() {
    const auto started = std::chrono::steady_clock::now();
    const double val =
        validation_loss(diffusion_, tensors_, in_.data, train_.batch_size, device_, plan_, 0);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    state_.log.push_back({0, std::numeric_limits<double>::quiet_NaN(), val, 0.0, 0.0, seconds});
    state_.best_valid = val;
    if (leader_) {
        write_log(in_.run.run_dir, state_.log);
        save_weights(model_.net, in_.run.run_dir / "model.pt");
    }
    spdlog::info("zero-shot validation loss {:.6g} ({:.1f} s)", val, seconds);
    finish("complete");
    return {in_.run.run_dir, 0, std::numeric_limits<double>::quiet_NaN(), val, 0};
}

/// The remaining epochs, then model.pt (the averaged weights under train.ema).
TrainSummary TrainingJob::train() {
    model_.net->train();
    // Every epoch has the same number of batches (each city's count is fixed); only their order
    // changes.
    const auto steps_per_epoch = data::epoch_batches(train_ids_, train_.batch_size, in_.drop_last,
                                                     true, train_.batch_order, r_.seed, 0)
                                     .size();
    progress_.start("training",
                    static_cast<std::uint64_t>(steps_per_epoch) *
                        static_cast<std::uint64_t>(train_.epochs - state_.epochs_done),
                    "steps");
    for (int epoch = state_.epochs_done; epoch < train_.epochs; ++epoch) {
        const auto started = std::chrono::steady_clock::now();
        const double lr = lr_at(train_, epoch);
        set_lr(optimizer_, lr);
        const double train_loss = train_epoch(epoch, steps_per_epoch);
        end_epoch(epoch + 1, lr, train_loss, started);
    }
    progress_.finish();
    if (leader_) {
        const AveragedWeights averaged(average_);
        save_weights(model_.net, in_.run.run_dir / "model.pt");
        if (state_.best_epoch < 0)
            save_weights(model_.net, in_.run.run_dir / "model_best.pt");
    }
    finish("complete");
    // Nobody leaves before rank 0 has written the run folder (a later collective of a script
    // would otherwise meet a group that is gone).
    if (group_ != nullptr)
        group_->barrier("the end of training");
    const double last_train = state_.log.empty() ? std::numeric_limits<double>::quiet_NaN()
                                                 : state_.log.back().train_loss;
    return {in_.run.run_dir, state_.epochs_done, last_train, state_.best_valid, state_.best_epoch};
}

/// One epoch's optimiser updates; returns its tile-weighted mean loss over every rank. The losses
/// are summed on the device and read once per epoch (one device sync, not one per step); a
/// non-finite loss stops the run here, before the epoch's checkpoint or weights are written.
double TrainingJob::train_epoch(int epoch, std::size_t steps_per_epoch) {
    const auto batches = data::epoch_batches(train_ids_, train_.batch_size, in_.drop_last, true,
                                             train_.batch_order, r_.seed, epoch);
    Tensor loss_sum = torch::zeros({}, torch::TensorOptions(torch::kDouble).device(device_));
    double tiles = 0.0;
    for (const auto& ref : batches) {
        const auto [lo, hi] = core::rank_share(ref.positions.size(), plan_.rank(), plan_.ranks());
        const Tensor loss = train_step(ref, epoch);
        average_.update(static_cast<std::int64_t>(epoch) *
                            static_cast<std::int64_t>(steps_per_epoch) +
                        static_cast<std::int64_t>(&ref - batches.data()));
        if (loss.defined())
            loss_sum.add_(loss.to(torch::kDouble) * static_cast<double>(hi - lo));
        tiles += static_cast<double>(hi - lo);
        progress_.advance();
    }
    double sum = loss_sum.item<double>();
    if (!std::isfinite(sum))
        throw loss_not_finite(fmt::format("{}", sum), epoch);
    if (group_ != nullptr) {
        auto totals = torch::tensor({sum, tiles}, torch::kDouble);
        group_->all_reduce_sum(totals, "the epoch's loss");
        sum = totals[0].item<double>();
        tiles = totals[1].item<double>();
    }
    return sum / std::max(tiles, 1.0);
}

/// One optimiser update on this rank's share of a batch (all of it in one process); returns
/// the share's loss, detached, on the device (undefined for an empty share). Over several
/// processes a non-finite loss on any rank stops the run at once (the gradient all-reduce waits
/// for every rank anyway); in one process train_epoch checks the epoch's sum.
Tensor TrainingJob::train_step(const data::BatchRef& ref, int epoch) {
    const auto [lo, hi] = core::rank_share(ref.positions.size(), plan_.rank(), plan_.ranks());
    const std::vector<std::int64_t> mine(ref.positions.begin() + static_cast<std::ptrdiff_t>(lo),
                                         ref.positions.begin() + static_cast<std::ptrdiff_t>(hi));
    optimizer_.zero_grad();
    Tensor value;
    if (!mine.empty()) {
        const auto city = static_cast<std::size_t>(ref.city);
        const auto batch = gather(tensors_[city], mine, device_);
        Tensor loss;
        if (plan_.per_tile) {
            TileNoise tile_noise(
                tile_keys(r_.seed, {static_cast<std::uint64_t>(epoch)}, city, mine),
                plan_.dropout_on_cpu);
            loss = diffusion_.loss(batch.x0, batch.conditions, tile_noise);
        } else {
            loss = diffusion_.loss(batch.x0, batch.conditions, noise_);
        }
        if (group_ != nullptr) {
            // Weighted by the share, so the ranks' average is the whole batch's gradient.
            (loss * (static_cast<double>(mine.size()) * plan_.ranks() /
                     static_cast<double>(ref.positions.size())))
                .backward();
        } else {
            loss.backward();
        }
        value = loss.detach();
    }
    if (group_ != nullptr &&
        !average_gradients(*group_, model_.trainable,
                           !value.defined() || std::isfinite(value.item<double>()))) {
        throw loss_not_finite("non-finite on some rank", epoch);
    }
    clip_gradients(model_.trainable);
    optimizer_.step();
    return value;
}

/// After epoch `done` (1-based): validation where due (model_best.pt on a new best), the log
/// row, the checkpoint where due.
void TrainingJob::end_epoch(int done, double lr, double train_loss,
                            std::chrono::steady_clock::time_point started) {
    double val = std::numeric_limits<double>::quiet_NaN();
    const auto validated = std::chrono::steady_clock::now();
    if (train_.valid_interval > 0 && (done % train_.valid_interval == 0 || done == train_.epochs)) {
        const AveragedWeights averaged(average_);
        val = validation_loss(diffusion_, tensors_, in_.data, train_.batch_size, device_, plan_,
                              done);
        if (!std::isnan(val) && (std::isnan(state_.best_valid) || val < state_.best_valid)) {
            state_.best_valid = val;
            state_.best_epoch = done;
            if (leader_)
                save_weights(model_.net, in_.run.run_dir / "model_best.pt");
        }
    }
    const double seconds = std::chrono::duration<double>(validated - started).count();
    const double val_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - validated).count();
    state_.log.push_back({done, train_loss, val, lr, seconds, val_seconds});
    state_.epochs_done = done;
    if (leader_) {
        if (done % r_.checkpoint_every == 0 || done == train_.epochs) {
            state_.average = average_.shadow();
            save_checkpoint(checkpoint_path_, model_.net, optimizer_, model_.generators, state_);
        }
        write_log(in_.run.run_dir, state_.log);
    }
    spdlog::info(
        "epoch {}/{}: train loss {:.6g}{}, lr {:.3g}, {:.1f} s", done, train_.epochs, train_loss,
        std::isnan(val) ? std::string() : fmt::format(", val loss {:.6g}", val), lr, seconds);
}

}  // namespace

TrainSummary run_training(const TrainOptions& given, core::Progress& progress) {
    const core::World& world = given.world;
    at::set_num_threads(std::max(1, given.threads));
    const torch::Device device = rank_device(given.device, world);
    std::unique_ptr<ProcessGroup> group;
    if (world.distributed())
        group = ProcessGroup::connect(world, device, dist_timeout(given.dist_timeout_s));

    CheckedInputs in = check_inputs(given, group.get(), world);
    const auto& train = in.run.config.train;
    choose_allocator(train);
    RunModel model = build_model(in.run.config, in.run.request, device);
    if (group) {
        spdlog::info(
            "data parallel over {} ranks ({}): each batch of {} tiles is shared out, about {} per "
            "rank",
            group->size(), group->backend(), train.batch_size,
            (train.batch_size + group->size() - 1) / group->size());
    }
    TrainingJob job(in, model, device, group.get(), world, progress);
    return in.run.request.task == data::Task::kZeroShot ? job.zero_shot() : job.train();
}

}  // namespace zoomdiff::model
