#pragma once

// The model configuration: the reference's base.yaml keys (reference/MODEL.md §1.1) plus
// `model.condition_layout` (DESIGN §4). Torch-free, so tools and the data area can read it.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "zoomdiff/core/week.hpp"
#include "zoomdiff/data/training_set.hpp"

namespace zoomdiff::model {

/// Fixed sizes of the reference model (MODEL.md §1.2); they are not configuration keys.
inline constexpr auto kHours =
    static_cast<std::int64_t>(core::kHoursPerWeek);  ///< L, time steps of one sample (a week)
inline constexpr std::int64_t kTileSide = 4;         ///< H = W, 500 m cells per 2000 m tile side
inline constexpr std::int64_t kFeatures = 1;         ///< K, series per cell
inline constexpr std::int64_t kFeedForward = 64;     ///< width of every transformer FFN
inline constexpr std::int64_t kFusionWidth = 128;    ///< hidden width of the noise fusion
inline constexpr std::int64_t kReferenceStaticChannels = 4;
inline constexpr std::int64_t kCorrectedStaticChannels = 5;
inline constexpr std::int64_t kPoiChannels = 21;
/// spread: hour_of_week never divides an hour by less than this fraction of the pooled spread:
/// an hour that is the same at every training place is not blown up into noise.
inline constexpr double kMinHourlySpread = 0.05;

/// Which static conditions enter the network, and how (DESIGN §4, README "Model").
enum class ConditionLayout {
    kReference,  ///< [population, population, road length, water area], raw values
    kCorrected,  ///< [population, building count, road length, waterway length, water area], log1p
    kPoiOnly,    ///< no static channel, `poi_channels` POI counts (log1p): cities without a map
                 ///< (UoMo)
};

enum class BetaSchedule { kQuad, kLinear };

/// Ours: how random draws are made (TileNoise). `per_tile` (default): every tile draws from a
/// generator keyed by the seed and the tile, so results do not depend on batch composition, batch
/// size or world size (distributed training, sharded inference); `reference`: one stream in
/// batch order, as the reference draws (goldens; a single process only).
enum class NoiseMode { kPerTile, kReference };
const char* to_string(NoiseMode mode);
/// "per_tile" | "reference"; anything else throws zoomdiff::Error naming `source`.
NoiseMode parse_noise_mode(const std::string& text, const std::string& source);

/// Ours (issue 18, DESIGN §4): where the sampler starts each segment after the first.
/// `noise` (the reference, MODEL.md §3.7 a): a fresh standard normal draw, which training never
/// shows the network (a segment's top step keeps √ᾱ_top ≈ 0.3 of the signal); `coarse`: the
/// previous segment's result brought to this segment's top noise level, √ᾱ_top · D_prev(end) + √(1
/// − ᾱ_top) · ε (ε the same draw), the distribution training shows the network there with the
/// coarser scale standing in for the segment's own. The draw order is the same in both.
enum class SegmentStart { kNoise, kCoarse };
const char* to_string(SegmentStart start);
/// "noise" | "coarse"; anything else throws zoomdiff::Error naming `source`.
SegmentStart parse_segment_start(const std::string& text, const std::string& source);

/// Ours (issue 18): the map from the MinMax-scaled series x to what the diffusion runs on, before
/// `diffusion.standardize`. `none` (the reference): x itself. `log`: log(1 + x / κ), κ =
/// `diffusion.log_offset` × the training tiles' mean (zoomdiff_train measures it into
/// `diffusion.log_scale`). Traffic and user counts span three orders of magnitude across cells; on
/// the linear scale the small networks regress the cells to the mean (the spatial contrast
/// compresses); on the log scale the spread is near Gaussian. The division operators then average
/// log values, so the coarser scales a sample reports are block means of its 500 m result.
enum class ValueTransform { kNone, kLog };
/// Ours (issue 18, sixth round): what standardisation subtracts before dividing by data_std.
/// `mean`: one number, data_mean. `hour_of_week`: the training tiles' mean at each hour of the
/// series (hourly_mean), so the diffusion only learns each tile's departure from the training
/// places' mean week and the sharp hours of that week (a night's trough, a noon peak) need not be
/// generated. A per-hour offset commutes with the spatial block means of the division operators,
/// not with temporal ones: it needs time_scale 1.
enum class Centering { kMean, kHourOfWeek };
/// Ours (issue 18, seventh round): what standardisation divides by under center: hour_of_week.
/// `pooled`: one number, data_std, the spread around the hourly means. `hour_of_week`: the
/// spread at each hour (hourly_std), so every hour of the diffusion's series has unit spread
/// across the training places; on the log scale the hours differ up to ninefold (UoMo SD
/// traffic: 0.13 at 04:00, when every place is near zero, against 1.1-1.3 by day) and a network
/// that generates one spread everywhere blurs the quiet hours. A per-hour factor commutes with
/// the spatial block means as the offset does.
enum class Spread { kPooled, kHourOfWeek };
const char* to_string(Centering centering);
/// "mean" | "hour_of_week"; anything else throws zoomdiff::Error naming `source`.
Centering parse_centering(const std::string& text, const std::string& source);
const char* to_string(Spread spread);
/// "pooled" | "hour_of_week"; anything else throws zoomdiff::Error naming `source`.
Spread parse_spread(const std::string& text, const std::string& source);
const char* to_string(ValueTransform transform);
/// "none" | "log"; anything else throws zoomdiff::Error naming `source`.
ValueTransform parse_value_transform(const std::string& text, const std::string& source);

/// Ours (issue 22, DESIGN §5): the update of one reverse step. `ddpm` (the reference): ancestral,
/// the posterior q(x_prev | x_n, x0) with its variance; `ddim`: x_prev = √ᾱ_prev·x̂0 +
/// √(1 − ᾱ_prev − σ²)·ε̂ + σ·z with σ = eta · the ancestral σ (eta 0: deterministic).
enum class SamplerMethod { kDdpm, kDdim };
const char* to_string(SamplerMethod method);
/// "ddpm" | "ddim"; anything else throws zoomdiff::Error naming `source`.
SamplerMethod parse_sampler_method(const std::string& text, const std::string& source);

/// Ours: how zoomdiff_infer samples (section `sampler`; flags override it per run). The defaults
/// are the reference's sampler.
struct SamplerConfig {
    SegmentStart segment_start = SegmentStart::kNoise;
    /// Ours: at every step, clamp the clean series the network's noise implies to the training
    /// data's range (MinMax [0, 1]) and step to the posterior mean from it (improved-diffusion's
    /// clip_denoised). false: the reference's update.
    bool clip_x0 = false;
    /// Ours (respaced sampling): visit this many evenly spaced steps of each segment, always its
    /// top step and its last (boundary) step; the schedule between visited steps is rebuilt from
    /// the segment's ᾱ (β' = 1 − ᾱ_n / ᾱ_prev) and the network still receives the global step
    /// index. 0, or at least the segment's length: every step (the reference).
    int steps_per_segment = 0;
    SamplerMethod method = SamplerMethod::kDdpm;
    /// DDIM's η in [0, 1]: the share of the ancestral noise kept (0 deterministic; 1 ≈ DDPM).
    double eta = 0.0;
    /// Ours: classifier-free guidance weight w ≥ 0 (Ho & Salimans 2022): every step calls the
    /// network with the conditions and with the null condition and takes
    /// ε̂ = ε̂(c) + w·(ε̂(c) − ε̂(∅)), which sharpens what the conditions say about a cell. Needs a
    /// model trained with train.cond_dropout > 0; 0: one call per step (the reference).
    double guidance = 0.0;

    /// Whether every key is the reference's (to_yaml then writes no `sampler` section).
    [[nodiscard]] bool is_reference() const {
        return segment_start == SegmentStart::kNoise && !clip_x0 && steps_per_segment == 0 &&
               method == SamplerMethod::kDdpm && eta == 0.0 && guidance == 0.0;
    }
};

/// The largest sampler.guidance accepted (stronger guidance only saturates the samples).
inline constexpr double kMaxGuidance = 10.0;

/// steps_per_segment 0 or at least 2 (a segment's top and last steps), eta in [0, 1] and only with
/// ddim, guidance in [0, kMaxGuidance]; otherwise throws zoomdiff::Error naming `source`.
void validate_sampler(const SamplerConfig& sampler, const std::string& source);

struct TrainConfig {
    int epochs = 500;
    int batch_size = 128;
    double lr = 1.0e-3;
    /// Ours: validation every N epochs and after the last (the reference's hard-coded 100, MODEL.md
    /// §1.2); 0 = never (model_best.pt is then the last epoch).
    int valid_interval = 100;
    /// Ours: `reshuffle` (default) draws new batches every epoch; `reference` replays one draw
    /// (D-13).
    data::BatchOrder batch_order = data::BatchOrder::kReshuffle;
    NoiseMode noise = NoiseMode::kPerTile;
    /// Ours (issue 18): decay of an exponential moving average of the trainable weights, updated
    /// after every optimiser step with the usual warm-up min(ema, (1 + u) / (10 + u)) at update u;
    /// validation scores it and model.pt / model_best.pt hold it. 0 (default): off, the reference.
    double ema = 0.0;
    /// Ours (issue 18): Min-SNR-γ loss weighting (Hang et al. 2023) for the noise prediction: each
    /// item's squared error times min(SNR, γ) / SNR, SNR = ᾱ / (1 − ᾱ) at its step, so the nearly
    /// clean steps, whose noise is hard to see and easy to over-fit, weigh less against the noisy
    /// ones where a segment's coarse structure forms. 0 (default): every step alike, the reference.
    double min_snr = 0.0;
    /// Ours: the share of training items whose conditions are replaced by the null condition
    /// (each item's own draw), so that one network learns ε̂(c) and ε̂(∅) for sampler.guidance.
    /// 0 (default): no draw, the reference's training.
    double cond_dropout = 0.0;
    /// Ours (issue 18): conditioning augmentation of the noise prior (as cascaded diffusion
    /// models noise their low-resolution input). Training builds a segment's prior from the clean
    /// coarser series, sampling from the generated one; this adds noise that is constant on each
    /// coarse block, with this standard deviation in diffusion units, to the coarser series the
    /// training prior sees, so the network learns not to take it as exact. 0 (default): the
    /// reference's clean prior, no draw.
    double prior_noise = 0.0;
};

struct DiffusionConfig {
    int layers = 4;
    int channels = 256;
    int nheads = 8;
    int diffusion_embedding_dim = 128;
    double beta_start = 1.0e-4;
    double beta_end = 0.05;
    int num_steps = 400;
    BetaSchedule schedule = BetaSchedule::kQuad;
    int time_scale = 1;
    int spatial_scale = 3;
    int spatial_scale_coarse = 3;
    /// Ours (issue 18): the diffusion runs on (x - data_mean) / data_std of the MinMax-scaled
    /// series x, and the sampler returns x again. The reference diffuses x itself (mean 0, std 1
    /// here): traffic scaled to [0, 1] has a std near 0.2 (0.196 on the sample city), so against
    /// unit noise the signal only shows in the last few steps of every segment. `standardize: true`
    /// has zoomdiff_train measure both on the training tiles of a new run and record them in its
    /// config.yaml.
    bool standardize = false;
    double data_mean = 0.0;
    double data_std = 1.0;
    Centering center = Centering::kMean;
    /// center: hour_of_week: the mean of the (transformed) training values at each hour of the
    /// series, measured by zoomdiff_train; data_std is then the spread around them.
    std::vector<double> hourly_mean;
    Spread spread = Spread::kPooled;
    /// spread: hour_of_week: the spread of the (transformed) training values around hourly_mean
    /// at each hour, measured by zoomdiff_train (never below kMinHourlySpread × data_std).
    std::vector<double> hourly_std;
    ValueTransform transform = ValueTransform::kNone;
    double log_offset = 0.1;  ///< κ as a fraction of the training tiles' mean (transform: log)
    double log_scale =
        0.0;  ///< κ in MinMax-scaled units, measured by zoomdiff_train (> 0 once trained)

    [[nodiscard]] bool standardized() const {
        return data_mean != 0.0 || data_std != 1.0 || hour_centred();
    }

    /// True once the hourly means are measured (center: hour_of_week).
    [[nodiscard]] bool hour_centred() const { return !hourly_mean.empty(); }

    /// True once the hourly spreads are measured (spread: hour_of_week).
    [[nodiscard]] bool hour_scaled() const { return !hourly_std.empty(); }

    [[nodiscard]] bool log_transformed() const { return transform == ValueTransform::kLog; }

    /// A MinMax-scaled value under `transform`, before standardisation.
    [[nodiscard]] double transformed(double x) const {
        return log_transformed() ? std::log1p(x / log_scale) : x;
    }
};

struct NetworkConfig {
    bool is_unconditional = false;  ///< read by the reference, never acts
    int timeemb = 128;
    int spatialemb = 128;
    int cond_emb = 128;  ///< read by the reference, never used
    int feature_emb = 128;
    double sim = 0.8;
    ConditionLayout condition_layout = ConditionLayout::kCorrected;
    /// POI categories per cell (ours): 21, the fixed schema, for reference / corrected; any
    /// positive count for poi_only (UoMo SD has 22). Written by to_yaml only when it is not the
    /// default 21 or the layout is poi_only, so existing run folders keep their config hash.
    int poi_channels = static_cast<int>(kPoiChannels);
};

struct ModelConfig {
    TrainConfig train;
    DiffusionConfig diffusion;
    NetworkConfig model;
    SamplerConfig sampler;

    /// Diffusion segments (scales) S = max(time_scale, spatial_scale).
    [[nodiscard]] int segments() const;
    /// Side-information channels d_t + d_s + d_f.
    [[nodiscard]] std::int64_t side_dim() const;
    /// Tile side H after the reference's spatial pre-pooling: 2^(spatial_scale_coarse - 1)
    /// cells (4 at base; MODEL.md §4.3).
    [[nodiscard]] std::int64_t tile_side() const;
    /// 4 (reference), 5 (corrected) or 0 (poi_only: the network has no static projection).
    [[nodiscard]] std::int64_t static_channels() const;

    /// `model.poi_channels` (21 unless poi_only says otherwise).
    [[nodiscard]] std::int64_t poi_channels() const { return model.poi_channels; }
};

/// sampler.guidance > 0 only for a model trained with train.cond_dropout > 0.
void validate_guidance(const ModelConfig& config, const std::string& source);

/// Parse YAML text (a base.yaml-style file, or the Python-dict string the goldens store, which is
/// valid YAML flow syntax). Missing keys take base.yaml's values; unknown keys, wrong types and
/// out-of-range values throw zoomdiff::Error naming `source` and the key.
ModelConfig parse_model_config(std::string_view yaml_text, const std::string& source);

/// Read a config file. A bare name that is not an existing file ("base.yaml") is looked up among
/// the configs embedded at build time.
ModelConfig load_model_config(const std::filesystem::path& path);

/// The resolved configuration as YAML (every key, ours included), for run folders.
std::string to_yaml(const ModelConfig& config);

/// The data area's static channels for a model config's condition layout.
data::StaticLayout static_layout(const ModelConfig& config);

/// The data area's tile options of a config: layout, pre-pooling, POI channel count.
data::TileOptions tile_options(const ModelConfig& config);

std::string_view to_string(ConditionLayout layout);
ConditionLayout parse_condition_layout(std::string_view text, const std::string& source);

}  // namespace zoomdiff::model
