#include "zoomdiff/model/config.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "zoomdiff/core/embedded_configs.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/text_file.hpp"

namespace zoomdiff::model {
namespace {

constexpr const char* kFixHint = "Fix the key; configs/base.yaml shows every key with its default";

// One YAML section: reads the keys it knows and rejects the rest.
class Section {
public:
    Section(const YAML::Node& root, std::string name, const std::string& source)
        : node_(root[name]), name_(std::move(name)), source_(source) {
        if (node_ && !node_.IsMap()) {
            throw Error(source_, fmt::format("'{}' is not a mapping", name_), kFixHint);
        }
    }

    template <typename T>
    void read(const char* key, T& value) {
        known_.emplace_back(key);
        if (!node_ || !node_[key])
            return;
        try {
            value = node_[key].as<T>();
        } catch (const YAML::Exception&) {
            throw Error(
                source_,
                fmt::format("'{}.{}' has the wrong type ('{}')", name_, key, node_[key].Scalar()),
                kFixHint);
        }
    }

    [[nodiscard]] YAML::Node child(const char* key) {
        known_.emplace_back(key);
        return node_ ? node_[key] : YAML::Node();
    }

    void reject_unknown() const {
        if (!node_)
            return;
        for (const auto& entry : node_) {
            const auto key = entry.first.as<std::string>();
            if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
                throw Error(source_, fmt::format("unknown key '{}.{}'", name_, key), kFixHint);
            }
        }
    }

private:
    YAML::Node node_;
    std::string name_;
    const std::string& source_;
    std::vector<std::string> known_;
};

void require(bool ok, const std::string& source, const std::string& problem) {
    if (!ok)
        throw Error(source, problem, kFixHint);
}

/// The train section's own rules.
void validate_train(const TrainConfig& t, const std::string& source) {
    require(t.epochs >= 1, source, "'train.epochs' must be at least 1");
    require(t.batch_size >= 1, source, "'train.batch_size' must be at least 1");
    require(t.valid_interval >= 0, source, "'train.valid_interval' must be 0 (never) or more");
    require(t.lr > 0 && std::isfinite(t.lr), source, "'train.lr' must be a positive number");
    require(t.ema >= 0 && t.ema < 1, source, "'train.ema' must be 0 (off) or a decay in (0, 1)");
    require(t.min_snr >= 0 && std::isfinite(t.min_snr), source,
            "'train.min_snr' must be 0 (off) or a positive gamma (5 is the usual)");
    require(t.cond_dropout >= 0 && t.cond_dropout < 1, source,
            "'train.cond_dropout' must be 0 (off) or a share in (0, 1) (0.1 is the usual)");
    require(t.prior_noise >= 0 && std::isfinite(t.prior_noise), source,
            "'train.prior_noise' must be 0 (off) or a standard deviation in diffusion units");
}

/// The rules of the diffusion's units: the scaler, the hourly centring and spread, the transform.
void validate_scaling(const DiffusionConfig& d, const std::string& source) {
    require(
        std::isfinite(d.data_mean) && d.data_std > 0 && std::isfinite(d.data_std), source,
        "'diffusion.data_std' must be a positive number and 'diffusion.data_mean' a finite one");
    require(d.center == Centering::kMean || (d.standardize && d.time_scale == 1), source,
            "'diffusion.center: hour_of_week' needs 'diffusion.standardize: true' and "
            "'diffusion.multi_scale.time_scale: 1' (an hourly offset does not commute with "
            "temporal block means)");
    require(d.center == Centering::kHourOfWeek || d.hourly_mean.empty(), source,
            "'diffusion.hourly_mean' is set but 'diffusion.center' is not hour_of_week");
    require(std::all_of(d.hourly_mean.begin(), d.hourly_mean.end(),
                        [](double v) { return std::isfinite(v); }),
            source, "'diffusion.hourly_mean' must hold finite numbers only");
    require(d.spread == Spread::kPooled || d.center == Centering::kHourOfWeek, source,
            "'diffusion.spread: hour_of_week' needs 'diffusion.center: hour_of_week' (the spread "
            "is measured around the hourly means)");
    require(d.spread == Spread::kHourOfWeek || d.hourly_std.empty(), source,
            "'diffusion.hourly_std' is set but 'diffusion.spread' is not hour_of_week");
    require(d.hourly_std.empty() || d.hourly_std.size() == d.hourly_mean.size(), source,
            fmt::format("'diffusion.hourly_std' has {} values and 'diffusion.hourly_mean' {}: "
                        "both are one value per hour of the series",
                        d.hourly_std.size(), d.hourly_mean.size()));
    require(std::all_of(d.hourly_std.begin(), d.hourly_std.end(),
                        [](double v) { return std::isfinite(v) && v > 0; }),
            source, "'diffusion.hourly_std' must hold positive finite numbers only");
    require(d.transform == ValueTransform::kNone || d.standardize, source,
            "'diffusion.transform: log' needs 'diffusion.standardize: true' (log values are far "
            "from mean 0, std 1)");
    require(std::isfinite(d.log_offset) && d.log_offset > 0 && std::isfinite(d.log_scale) &&
                d.log_scale >= 0,
            source,
            "'diffusion.log_offset' must be a positive number and 'diffusion.log_scale' a "
            "non-negative one");
}

void validate(const ModelConfig& c, const std::string& source) {
    const auto& d = c.diffusion;
    const auto& m = c.model;
    validate_train(c.train, source);
    require(d.layers >= 1, source, "'diffusion.layers' must be at least 1");
    require(d.channels >= 1 && d.nheads >= 1 && d.channels % d.nheads == 0, source,
            fmt::format("'diffusion.channels' ({}) must be a positive multiple of "
                        "'diffusion.nheads' ({})",
                        d.channels, d.nheads));
    require(d.diffusion_embedding_dim >= 4 && d.diffusion_embedding_dim % 2 == 0, source,
            "'diffusion.diffusion_embedding_dim' must be an even number of at least 4");
    require(d.beta_start > 0 && d.beta_end < 1 && d.beta_start <= d.beta_end, source,
            "betas must satisfy 0 < beta_start <= beta_end < 1");
    validate_scaling(d, source);
    require(
        d.time_scale >= 1 && d.time_scale <= 5, source,
        "'diffusion.multi_scale.time_scale' must be 1..5 (the temporal levels of MODEL.md §3.4)");
    require(d.spatial_scale_coarse >= 1 && d.spatial_scale_coarse <= 3, source,
            "'diffusion.multi_scale.spatial_scale_coarse' must be 1..3 (tiles are 4 x 4 cells)");
    require(d.spatial_scale >= 1 && d.spatial_scale <= d.spatial_scale_coarse, source,
            "'diffusion.multi_scale.spatial_scale' must be 1..spatial_scale_coarse");
    require(d.num_steps >= 2 * c.segments(), source,
            fmt::format("'diffusion.num_steps' ({}) is too small for {} segments", d.num_steps,
                        c.segments()));
    require(m.timeemb >= 2 && m.timeemb % 2 == 0, source, "'model.timeemb' must be even");
    require(m.feature_emb >= 1, source, "'model.feature_emb' must be positive");
    // MODEL.md D-2: the reference sizes the spatial tables with timeemb but counts spatialemb in
    // the side channels, so any other combination builds a model that cannot run.
    require(m.spatialemb == m.timeemb, source,
            fmt::format("'model.spatialemb' ({}) must equal 'model.timeemb' ({}): the spatial "
                        "tables are timeemb wide",
                        m.spatialemb, m.timeemb));
    require(m.sim >= 0 && m.sim <= 1, source, "'model.sim' must be in [0, 1]");
    require(m.poi_channels >= 1, source, "'model.poi_channels' must be at least 1");
    require(
        m.condition_layout == ConditionLayout::kPoiOnly || m.poi_channels == kPoiChannels, source,
        fmt::format("'model.poi_channels' ({}) must be {} for the {} layout (env_extra's fixed POI "
                    "schema); other counts need condition_layout: poi_only",
                    m.poi_channels, kPoiChannels, to_string(m.condition_layout)));
}

/// A flow-style YAML list, each number in the shortest form that reads back to the same double.
std::string yaml_list(const std::vector<double>& values) {
    std::string text = "[";
    for (std::size_t i = 0; i < values.size(); ++i)
        text += fmt::format("{}{}", i == 0 ? "" : ", ", values[i]);
    return text + "]";
}

}  // namespace

void validate_sampler(const SamplerConfig& s, const std::string& source) {
    if (s.steps_per_segment != 0 && s.steps_per_segment < 2) {
        throw Error(source, fmt::format("steps_per_segment {} is too few", s.steps_per_segment),
                    "Pass at least 2 (each segment's top and last steps are always visited), or 0 "
                    "for every step");
    }
    if (!(s.eta >= 0.0 && s.eta <= 1.0)) {
        throw Error(
            source, fmt::format("eta {} is outside [0, 1]", s.eta),
            "Pass an eta in [0, 1] (0: deterministic DDIM, 1: DDIM with the ancestral noise)");
    }
    if (s.eta != 0.0 && s.method != SamplerMethod::kDdim) {
        throw Error(source, "eta is set but the sampler is ddpm",
                    "Pass --sampler ddim with --eta, or drop --eta");
    }
    if (!(s.guidance >= 0.0 && s.guidance <= kMaxGuidance)) {
        throw Error(source, fmt::format("guidance {} is outside [0, {}]", s.guidance, kMaxGuidance),
                    fmt::format("Pass a guidance weight in [0, {}] (0: off; 1 to 3 are the usual)",
                                kMaxGuidance));
    }
}

void validate_guidance(const ModelConfig& c, const std::string& source) {
    if (c.sampler.guidance > 0 && c.train.cond_dropout <= 0) {
        throw Error(source,
                    fmt::format("guidance {} needs a model that learned the null condition, and "
                                "this one was trained with train.cond_dropout 0",
                                c.sampler.guidance),
                    "Drop --guidance (or set sampler.guidance: 0), or train with "
                    "train.cond_dropout: 0.1");
    }
}

int ModelConfig::segments() const {
    return std::max(diffusion.time_scale, diffusion.spatial_scale);
}

std::int64_t ModelConfig::side_dim() const {
    return std::int64_t{model.timeemb} + model.spatialemb + model.feature_emb;
}

std::int64_t ModelConfig::tile_side() const {
    return std::int64_t{1} << (diffusion.spatial_scale_coarse - 1);
}

std::int64_t ModelConfig::static_channels() const {
    switch (model.condition_layout) {
        case ConditionLayout::kReference:
            return kReferenceStaticChannels;
        case ConditionLayout::kPoiOnly:
            return 0;
        case ConditionLayout::kCorrected:
            break;
    }
    return kCorrectedStaticChannels;
}

data::StaticLayout static_layout(const ModelConfig& config) {
    switch (config.model.condition_layout) {
        case ConditionLayout::kReference:
            return data::StaticLayout::kReference;
        case ConditionLayout::kPoiOnly:
            return data::StaticLayout::kPoiOnly;
        case ConditionLayout::kCorrected:
            break;
    }
    return data::StaticLayout::kCorrected;
}

data::TileOptions tile_options(const ModelConfig& config) {
    data::TileOptions options;
    options.layout = static_layout(config);
    options.spatial_scale_coarse = config.diffusion.spatial_scale_coarse;
    options.poi_channels = config.model.poi_channels;
    return options;
}

std::string_view to_string(ConditionLayout layout) {
    switch (layout) {
        case ConditionLayout::kReference:
            return "reference";
        case ConditionLayout::kPoiOnly:
            return "poi_only";
        case ConditionLayout::kCorrected:
            break;
    }
    return "corrected";
}

ConditionLayout parse_condition_layout(std::string_view text, const std::string& source) {
    if (text == "reference")
        return ConditionLayout::kReference;
    if (text == "corrected")
        return ConditionLayout::kCorrected;
    if (text == "poi_only")
        return ConditionLayout::kPoiOnly;
    throw Error(source, fmt::format("unknown condition layout '{}'", text),
                "Use 'reference' (the reference's channels, for its checkpoints), 'corrected' or "
                "'poi_only' (POI counts alone, for cities without a map such as UoMo's patches)");
}

const char* to_string(SegmentStart start) {
    return start == SegmentStart::kCoarse ? "coarse" : "noise";
}

SegmentStart parse_segment_start(const std::string& text, const std::string& source) {
    if (text == "noise")
        return SegmentStart::kNoise;
    if (text == "coarse")
        return SegmentStart::kCoarse;
    throw Error(
        source, fmt::format("unknown segment start '{}'", text),
        "Use coarse (each segment starts from the coarser result at its top noise level) or noise "
        "(fresh noise, the reference's sampler)");
}

const char* to_string(ValueTransform transform) {
    return transform == ValueTransform::kLog ? "log" : "none";
}

ValueTransform parse_value_transform(const std::string& text, const std::string& source) {
    if (text == "none")
        return ValueTransform::kNone;
    if (text == "log")
        return ValueTransform::kLog;
    throw Error(source, fmt::format("unknown value transform '{}'", text),
                "Use none (the scaled series itself, the reference's) or log (log(1 + x / kappa), "
                "with standardize: true)");
}

const char* to_string(Centering centering) {
    return centering == Centering::kHourOfWeek ? "hour_of_week" : "mean";
}

Centering parse_centering(const std::string& text, const std::string& source) {
    if (text == "mean")
        return Centering::kMean;
    if (text == "hour_of_week")
        return Centering::kHourOfWeek;
    throw Error(source, fmt::format("unknown centering '{}'", text),
                "Use mean (one number) or hour_of_week (the training mean at each hour of the "
                "week, with standardize: true)");
}

const char* to_string(Spread spread) {
    return spread == Spread::kHourOfWeek ? "hour_of_week" : "pooled";
}

Spread parse_spread(const std::string& text, const std::string& source) {
    if (text == "pooled")
        return Spread::kPooled;
    if (text == "hour_of_week")
        return Spread::kHourOfWeek;
    throw Error(source, fmt::format("unknown spread '{}'", text),
                "Use pooled (one number) or hour_of_week (the training spread at each hour of "
                "the week, with center: hour_of_week)");
}

const char* to_string(SamplerMethod method) {
    return method == SamplerMethod::kDdim ? "ddim" : "ddpm";
}

SamplerMethod parse_sampler_method(const std::string& text, const std::string& source) {
    if (text == "ddpm")
        return SamplerMethod::kDdpm;
    if (text == "ddim")
        return SamplerMethod::kDdim;
    throw Error(source, fmt::format("unknown sampler '{}'", text),
                "Use ddpm (ancestral steps, the reference's) or ddim (deterministic at eta 0)");
}

const char* to_string(NoiseMode mode) {
    return mode == NoiseMode::kPerTile ? "per_tile" : "reference";
}

NoiseMode parse_noise_mode(const std::string& text, const std::string& source) {
    if (text == "per_tile")
        return NoiseMode::kPerTile;
    if (text == "reference")
        return NoiseMode::kReference;
    throw Error(
        source, fmt::format("unknown noise mode '{}'", text),
        "Use per_tile (draws keyed by tile: any batch size or world size gives the same draws) or "
        "reference (the reference's one stream in batch order)");
}

namespace {

void read_train(const YAML::Node& root, const std::string& source, TrainConfig& t) {
    Section train(root, "train", source);
    train.read("epochs", t.epochs);
    train.read("batch_size", t.batch_size);
    train.read("lr", t.lr);
    train.read("valid_interval", t.valid_interval);
    std::string batch_order(data::to_string(t.batch_order));
    train.read("batch_order", batch_order);
    t.batch_order = data::parse_batch_order(batch_order, source);
    std::string noise(to_string(t.noise));
    train.read("noise", noise);
    t.noise = parse_noise_mode(noise, source + ": train.noise");
    train.read("ema", t.ema);
    train.read("min_snr", t.min_snr);
    train.read("cond_dropout", t.cond_dropout);
    train.read("prior_noise", t.prior_noise);
    train.reject_unknown();
}

void read_diffusion(const YAML::Node& root, const std::string& source, DiffusionConfig& d) {
    Section diffusion(root, "diffusion", source);
    diffusion.read("layers", d.layers);
    diffusion.read("channels", d.channels);
    diffusion.read("nheads", d.nheads);
    diffusion.read("diffusion_embedding_dim", d.diffusion_embedding_dim);
    diffusion.read("beta_start", d.beta_start);
    diffusion.read("beta_end", d.beta_end);
    diffusion.read("num_steps", d.num_steps);
    std::string schedule = "quad";
    diffusion.read("schedule", schedule);
    if (schedule == "quad") {
        d.schedule = BetaSchedule::kQuad;
    } else if (schedule == "linear") {
        d.schedule = BetaSchedule::kLinear;
    } else {
        throw Error(source, fmt::format("unknown 'diffusion.schedule' '{}'", schedule),
                    "Use 'quad' or 'linear'");
    }
    diffusion.read("standardize", d.standardize);
    diffusion.read("data_mean", d.data_mean);
    diffusion.read("data_std", d.data_std);
    std::string center(to_string(d.center));
    diffusion.read("center", center);
    d.center = parse_centering(center, source + ": diffusion.center");
    diffusion.read("hourly_mean", d.hourly_mean);
    std::string spread(to_string(d.spread));
    diffusion.read("spread", spread);
    d.spread = parse_spread(spread, source + ": diffusion.spread");
    diffusion.read("hourly_std", d.hourly_std);
    std::string transform(to_string(d.transform));
    diffusion.read("transform", transform);
    d.transform = parse_value_transform(transform, source + ": diffusion.transform");
    diffusion.read("log_offset", d.log_offset);
    diffusion.read("log_scale", d.log_scale);
    int side_dim = 0;  // the reference inserts it at run time; derived here, so ignored
    diffusion.read("side_dim", side_dim);
    const auto multi_scale = diffusion.child("multi_scale");
    const bool has_multi_scale = multi_scale.IsDefined() && !multi_scale.IsNull();
    if (has_multi_scale && !multi_scale.IsMap()) {
        throw Error(source, "'diffusion.multi_scale' is not a mapping", kFixHint);
    }
    if (const auto& node = multi_scale; has_multi_scale) {
        YAML::Node wrapper;
        wrapper["diffusion.multi_scale"] = node;
        Section ms(wrapper, "diffusion.multi_scale", source);
        ms.read("time_scale", d.time_scale);
        ms.read("spatial_scale", d.spatial_scale);
        ms.read("spatial_scale_coarse", d.spatial_scale_coarse);
        ms.reject_unknown();
    }
    diffusion.reject_unknown();
}

void read_network(const YAML::Node& root, const std::string& source, NetworkConfig& m) {
    Section model(root, "model", source);
    model.read("is_unconditional", m.is_unconditional);
    model.read("timeemb", m.timeemb);
    model.read("spatialemb", m.spatialemb);
    model.read("cond_emb", m.cond_emb);
    model.read("feature_emb", m.feature_emb);
    model.read("sim", m.sim);
    std::string layout(to_string(m.condition_layout));
    model.read("condition_layout", layout);
    if (layout != "reference" && layout != "corrected" && layout != "poi_only") {
        throw Error(
            source, fmt::format("unknown 'model.condition_layout' '{}'", layout),
            "Use 'reference' (the reference's channels, for its checkpoints), 'corrected' or "
            "'poi_only' (POI counts alone)");
    }
    m.condition_layout = parse_condition_layout(layout, source);
    model.read("poi_channels", m.poi_channels);
    model.reject_unknown();
}

void read_sampler(const YAML::Node& root, const std::string& source, SamplerConfig& s) {
    Section sampler(root, "sampler", source);
    std::string segment_start(to_string(s.segment_start));
    sampler.read("segment_start", segment_start);
    s.segment_start = parse_segment_start(segment_start, source + ": sampler.segment_start");
    sampler.read("clip_x0", s.clip_x0);
    sampler.read("steps_per_segment", s.steps_per_segment);
    std::string method(to_string(s.method));
    sampler.read("method", method);
    s.method = parse_sampler_method(method, source + ": sampler.method");
    sampler.read("eta", s.eta);
    sampler.read("guidance", s.guidance);
    sampler.reject_unknown();
    validate_sampler(s, source + ": sampler");
}

}  // namespace

ModelConfig parse_model_config(std::string_view yaml_text, const std::string& source) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml_text));
    } catch (const YAML::Exception& e) {
        throw Error(source, fmt::format("not valid YAML ({})", e.what()), kFixHint);
    }
    if (!root.IsMap())
        throw Error(source, "the file is not a YAML mapping", kFixHint);

    ModelConfig c;
    read_train(root, source, c.train);
    read_diffusion(root, source, c.diffusion);
    read_network(root, source, c.model);
    read_sampler(root, source, c.sampler);

    for (const auto& entry : root) {
        const auto key = entry.first.as<std::string>();
        if (key != "train" && key != "diffusion" && key != "model" && key != "sampler") {
            throw Error(source, fmt::format("unknown section '{}'", key), kFixHint);
        }
    }
    validate(c, source);
    validate_guidance(c, source);
    return c;
}

ModelConfig load_model_config(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path) && !path.has_parent_path()) {
        std::string_view text;
        try {
            text = core::embedded_config(path.string());
        } catch (const Error&) {
            throw Error(path.string(), "is neither a file nor a bundled config",
                        "Pass an existing YAML file with --config, or a bundled name (base.yaml, "
                        "sample.yaml)");
        }
        return parse_model_config(text, path.string());
    }
    return parse_model_config(
        core::read_text_file(path, "cannot read the model config",
                             "Pass an existing YAML file with --config (e.g. configs/base.yaml)"),
        path.string());
}

std::string to_yaml(const ModelConfig& c) {
    const auto& d = c.diffusion;
    const auto& m = c.model;
    // Keys of ours that did not always exist are written only when they differ from the
    // reference's behaviour, so the YAML (and the config hash in manifest.json) of every run folder
    // written before them stays as it was.
    std::string text = fmt::format(
        "train:\n  epochs: {}\n  batch_size: {}\n  lr: {}\n  valid_interval: {}\n  batch_order: "
        "{}\n  noise: {}\n",
        c.train.epochs, c.train.batch_size, c.train.lr, c.train.valid_interval,
        data::to_string(c.train.batch_order), to_string(c.train.noise));
    if (c.train.ema > 0)
        text += fmt::format("  ema: {}\n", c.train.ema);
    if (c.train.min_snr > 0)
        text += fmt::format("  min_snr: {}\n", c.train.min_snr);
    if (c.train.cond_dropout > 0)
        text += fmt::format("  cond_dropout: {}\n", c.train.cond_dropout);
    if (c.train.prior_noise > 0)
        text += fmt::format("  prior_noise: {}\n", c.train.prior_noise);
    text += fmt::format(
        "diffusion:\n  layers: {}\n  channels: {}\n  nheads: {}\n  diffusion_embedding_dim: {}\n"
        "  beta_start: {}\n  beta_end: {}\n  num_steps: {}\n  schedule: \"{}\"\n"
        "  multi_scale:\n    time_scale: {}\n    spatial_scale: {}\n    spatial_scale_coarse: {}\n",
        d.layers, d.channels, d.nheads, d.diffusion_embedding_dim, d.beta_start, d.beta_end,
        d.num_steps, d.schedule == BetaSchedule::kQuad ? "quad" : "linear", d.time_scale,
        d.spatial_scale, d.spatial_scale_coarse);
    if (d.standardize || d.standardized()) {
        text += fmt::format("  standardize: {}\n  data_mean: {}\n  data_std: {}\n",
                            d.standardize ? "true" : "false", d.data_mean, d.data_std);
    }
    if (d.center != Centering::kMean) {
        text += fmt::format("  center: {}\n  hourly_mean: {}\n", to_string(d.center),
                            yaml_list(d.hourly_mean));
    }
    if (d.spread != Spread::kPooled) {
        text += fmt::format("  spread: {}\n  hourly_std: {}\n", to_string(d.spread),
                            yaml_list(d.hourly_std));
    }
    if (d.transform != ValueTransform::kNone) {
        text += fmt::format("  transform: {}\n  log_offset: {}\n  log_scale: {}\n",
                            to_string(d.transform), d.log_offset, d.log_scale);
    }
    text += fmt::format(
        "model:\n  is_unconditional: {}\n  timeemb: {}\n  spatialemb: {}\n  cond_emb: {}\n"
        "  feature_emb: {}\n  sim: {}\n  condition_layout: {}\n",
        m.is_unconditional ? "True" : "False", m.timeemb, m.spatialemb, m.cond_emb, m.feature_emb,
        m.sim, to_string(m.condition_layout));
    if (m.condition_layout == ConditionLayout::kPoiOnly || m.poi_channels != kPoiChannels) {
        text += fmt::format("  poi_channels: {}\n", m.poi_channels);
    }
    if (!c.sampler.is_reference()) {
        const auto& s = c.sampler;
        text += fmt::format("sampler:\n  segment_start: {}\n  clip_x0: {}\n",
                            to_string(s.segment_start), s.clip_x0 ? "true" : "false");
        // Written only when set, so the configs of runs before respacing keep their hashes.
        if (s.steps_per_segment != 0 || s.method != SamplerMethod::kDdpm || s.eta != 0.0) {
            text += fmt::format("  steps_per_segment: {}\n  method: {}\n  eta: {}\n",
                                s.steps_per_segment, to_string(s.method), s.eta);
        }
        if (s.guidance != 0.0)
            text += fmt::format("  guidance: {}\n", s.guidance);
    }
    return text;
}

}  // namespace zoomdiff::model
