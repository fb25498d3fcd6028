// zoomdiff_infer (reference/MODEL.md §5, docs/zoomdiff_infer.md): every tile of a city sampled
// with every sample kept, three scales from the one trajectory, calibrated against a trained city.
#include "zoomdiff/model/inference.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/file_hash.hpp"
#include "zoomdiff/core/recorded_path.hpp"
#include "zoomdiff/core/text_file.hpp"
#include "zoomdiff/core/week.hpp"
#include "zoomdiff/core/world.hpp"
#include "zoomdiff/data/condition_tiles.hpp"
#include "zoomdiff/data/level_quantiles.hpp"
#include "zoomdiff/data/scaler.hpp"
#include "zoomdiff/geo/blocks.hpp"
#include "zoomdiff/geo/boundary.hpp"
#include "zoomdiff/geo/city_names.hpp"
#include "zoomdiff/geo/mask.hpp"
#include "zoomdiff/io/npz.hpp"
#include "zoomdiff/io/results_store.hpp"
#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/diffusion.hpp"
#include "zoomdiff/model/distributed.hpp"
#include "zoomdiff/model/network.hpp"
#include "zoomdiff/model/reference_checkpoint.hpp"
#include "zoomdiff/model/weights.hpp"

namespace zoomdiff::model {
namespace {

namespace fs = std::filesystem;
using core::kHoursPerWeek;
using nlohmann::json;
using torch::Tensor;

constexpr int kGammaSteps = 200;  // MODEL.md §5.5: linspace(0.3, 3.5, 200)
constexpr double kGammaMin = 0.3;
constexpr double kGammaMax = 3.5;

// ---- the model and its scalers -----------------------------------------------------------------

struct LoadedModel {
    ModelConfig config;
    ZoomDiffNet net{nullptr};
    std::vector<data::CityScaler> scalers;  ///< empty for a reference run
    fs::path folder;
    bool reference = false;
    std::string weights_sha256;  ///< of the weights file, hashed once per run
};

/// The weight file a run folder's samples come from.
fs::path weights_file(const fs::path& folder) {
    if (fs::exists(folder / "model.pt"))
        return folder / "model.pt";
    if (fs::exists(folder / "model.pth"))
        return folder / "model.pth";
    return folder;  // a .pth given directly
}

LoadedModel load_model(const InferOptions& r, const torch::Device& device) {
    LoadedModel m;
    m.folder = r.modelfolder;
    if (r.modelfolder.empty()) {
        throw Error("--modelfolder", "no model given",
                    "Pass the run folder of zoomdiff_train (or a reference run folder)");
    }
    if (fs::exists(r.modelfolder / "model.pt")) {
        m.config = load_model_config(r.config.empty() ? r.modelfolder / "config.yaml" : r.config);
        m.net = ZoomDiffNet(m.config);
        load_weights(m.net, r.modelfolder / "model.pt");
        std::string datatype;
        m.scalers = data::read_scalers(r.modelfolder / "scalers.json", &datatype);
        if (datatype != r.datatype) {
            throw Error("--datatype",
                        fmt::format("the model in {} was trained on '{}', not '{}'",
                                    r.modelfolder.string(), datatype, r.datatype),
                        fmt::format("Pass --datatype {} or a {} model", datatype, r.datatype));
        }
    } else if (fs::exists(r.modelfolder / "model.pth") || r.modelfolder.extension() == ".pth") {
        ModelConfig override_config;
        const bool has_override = !r.config.empty();
        if (has_override)
            override_config = load_model_config(r.config);
        m.net = load_reference_run(r.modelfolder, has_override ? &override_config : nullptr, r.seed,
                                   &m.config);
        m.reference = true;
    } else {
        throw Error(r.modelfolder.string(),
                    "holds neither model.pt (zoomdiff_train) nor model.pth (the reference)",
                    "Pass the run folder of a finished training run with --modelfolder");
    }
    if (!r.segment_start.empty()) {
        m.config.sampler.segment_start = parse_segment_start(r.segment_start, "--segment_start");
    }
    if (!r.clip_x0.empty())
        m.config.sampler.clip_x0 = r.clip_x0 == "true";
    if (r.steps_per_segment >= 0)
        m.config.sampler.steps_per_segment = r.steps_per_segment;
    if (!r.sampler.empty())
        m.config.sampler.method = parse_sampler_method(r.sampler, "--sampler");
    if (r.eta >= 0.0)
        m.config.sampler.eta = r.eta;
    if (r.guidance >= 0.0)
        m.config.sampler.guidance = r.guidance;
    validate_sampler(m.config.sampler, "--steps_per_segment/--sampler/--eta/--guidance");
    validate_guidance(m.config, "--guidance");
    if (m.config.diffusion.spatial_scale != 3 || m.config.diffusion.spatial_scale_coarse != 3 ||
        m.config.diffusion.time_scale != 1) {
        throw Error(
            r.modelfolder.string(),
            "zoomdiff_infer writes 2000, 1000 and 500 m maps: it needs multi_scale time_scale 1, "
            "spatial_scale 3, spatial_scale_coarse 3 (base.yaml's)",
            "Use a model trained with base.yaml's multi_scale section");
    }
    m.weights_sha256 = core::sha256_file(weights_file(m.folder));
    m.net->to(device);
    m.net->eval();
    return m;
}

/// The reference's template file (`template_<datatype>.npz`: data_2000m, pop_2000m): the
/// statistics calibration needs. It carries no scaler, so only --calibration template uses it.
data::CityScaler npz_template(const fs::path& path) {
    const auto npz = io::NpzReader::open(path);
    data::CityScaler t;
    t.city = path.stem().string();
    t.token = t.city;
    const auto values = npz.read_double("data_2000m");
    double sum = 0.0;
    double max = -std::numeric_limits<double>::infinity();
    for (const double v : values.values()) {
        sum += v;
        max = std::max(max, v);
    }
    t.data_mean = sum / static_cast<double>(values.size());
    t.data_max = max;
    if (values.size() % (16 * kHoursPerWeek) ==
        0) {  // whole 2000 m tiles of 4 x 4 cells x 168 hours
        const std::vector<float> tiles(values.values().begin(), values.values().end());
        t.cell_levels =
            data::cell_level_quantiles(tiles.data(), tiles.size() / (16 * kHoursPerWeek));
    }
    const auto pop = npz.read_double("pop_2000m");
    double pop_sum = 0.0;
    for (const double v : pop.values())
        pop_sum += v;
    t.pop_mean = pop_sum / static_cast<double>(pop.size());
    return t;
}

/// The template city's statistics and scaler (MODEL.md §5.5): a city of the run's scalers.json
/// (default its first), or a reference template .npz.
data::CityScaler template_scaler(const LoadedModel& m, const InferOptions& r) {
    if (fs::path(r.template_city).extension() == ".npz") {
        if (r.calibration == CalibrationKind::kNone) {
            throw Error(
                "--calibration",
                "none needs the training scalers of a zoomdiff_train run; a template .npz has none",
                "Use --calibration template with a template .npz");
        }
        return npz_template(r.template_city);
    }
    if (m.scalers.empty()) {
        throw Error(
            "--template",
            fmt::format("{} is a reference run: it carries no scalers or template statistics",
                        m.folder.string()),
            "Pass the reference's template_<datatype>.npz with --template, or use a zoomdiff_train "
            "run");
    }
    const auto checked = [&](const data::CityScaler& s) -> const data::CityScaler& {
        if (r.calibration == CalibrationKind::kTemplateQuantile && !s.cell_levels.complete()) {
            throw Error((m.folder / "scalers.json").string(),
                        fmt::format("has no cell_mean_quantiles for {}: the run was trained before "
                                    "--calibration template_quantile existed",
                                    s.city),
                        "Retrain the model with this zoomdiff_train, or use --calibration "
                        "template_spatial");
        }
        return s;
    };
    if (r.template_city.empty())
        return checked(m.scalers.front());
    const auto names = geo::resolve_city_names(r.template_city);
    for (const auto& s : m.scalers) {
        if (s.city == names.en || s.token == r.template_city)
            return checked(s);
    }
    std::string known;
    for (const auto& s : m.scalers)
        known += (known.empty() ? "" : ", ") + s.city;
    throw Error(
        "--template",
        fmt::format("'{}' is not a city the model was trained on ({})", r.template_city, known),
        "Pick one of the trained cities, a template .npz, or leave --template out (the first one)");
}

// ---- scales -------------------------------------------------------------------------------------

/// One scale's grid (R k, C k, ns, 168) from tile-major values (N, ns, 168, 4, 4): the k x k block
/// means of each tile (geo::pool_tile_cells; k = 4 keeps the cells), placed by
/// geo::tiles_to_grid.
NdArray<float> scale_grid(const Tensor& tiles, std::int64_t rows, std::int64_t cols,
                          std::size_t k) {
    const auto ns = static_cast<std::size_t>(tiles.size(1));
    const auto cpu = tiles.to(torch::kCPU, torch::kFloat).contiguous();
    std::vector<float> values(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
    if (k != 4)
        values = geo::pool_tile_cells(values, k);
    const auto r = static_cast<std::size_t>(rows);
    const auto c = static_cast<std::size_t>(cols);
    return NdArray<float>({r * k, c * k, ns, kHoursPerWeek},
                          geo::tiles_to_grid(values, r, c, ns, k));
}

NdArray<float> sample_mean(const NdArray<float>& samples) {
    const std::size_t cells = samples.dim(0) * samples.dim(1);
    const std::size_t ns = samples.dim(2);
    NdArray<float> mean({samples.dim(0), samples.dim(1), kHoursPerWeek});
    for (std::size_t c = 0; c < cells; ++c)
        for (std::size_t h = 0; h < kHoursPerWeek; ++h) {
            double sum = 0.0;
            for (std::size_t s = 0; s < ns; ++s)
                sum += samples[(c * ns + s) * kHoursPerWeek + h];
            mean[c * kHoursPerWeek + h] = static_cast<float>(sum / static_cast<double>(ns));
        }
    return mean;
}

/// ‖pool(fine) − coarse‖ / ‖coarse‖ of two (rows, cols, 168) maps (EVAL.md, cross-scale
/// consistency).
double cross_scale(const NdArray<float>& fine, const NdArray<float>& coarse, std::size_t k) {
    const auto values = [](const NdArray<float>& map) {
        return std::vector<double>(map.values().begin(), map.values().end());
    };
    return geo::pooled_relative_error(values(fine), fine.dim(0), fine.dim(1), fine.dim(2),
                                      values(coarse), k);
}

// ---- calibration (MODEL.md §5.5)
// -----------------------------------------------------------------

struct Calibration {
    double gamma = 1.0;
    double factor =
        1.0;  ///< y = factor * max(x, 0)^gamma (template); y = (x - offset) / scale (none)
    double offset = 0.0;
    double scale = 1.0;
    bool power = false;
    bool spatial =
        false;  ///< template_spatial: y = factor * max(x, 0) * m^(gamma - 1), m the series' mean
    /// template_quantile: y = max(x, 0) * factor * Q(p) / m, Q the template's cell-level quantiles
    /// at the scale, p the mid-rank of m among the city's cells in that sample
    const data::CellLevelQuantiles* levels = nullptr;
    std::string label;
};

/// γ from the 500 m sample mean of the clipped, normalised outputs, as the reference computes it
/// (`template`), or, ours (`template_each`), so that each sample's own peak-to-mean matches the
/// template's on average: a mean over several samples has a lower peak than any one of them, so the
/// γ it asks for stretches every single sample further (with one sample both are the reference's).
/// y = factor · max(x, 0)^γ is then applied to every sample of every scale.
Calibration template_calibration(const Tensor& x500, const data::CityScaler& t, double pop_mean,
                                 bool each) {
    const auto clipped =
        x500.clamp_min(0).to(torch::kCPU, torch::kFloat).contiguous();  // (N, S, 168, 4, 4)
    // One row per map whose peak-to-mean is matched: the sample mean, or every sample.
    const auto maps = each ? clipped.transpose(0, 1).reshape({clipped.size(1), -1})
                           : clipped.mean(1).reshape({1, -1}).contiguous();
    const double r = t.pop_mean > 0 ? pop_mean / t.pop_mean : 1.0;
    const double target = t.data_mean > 0 ? t.data_max / t.data_mean : 1.0;
    Calibration c;
    c.power = true;
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < kGammaSteps; ++i) {
        const double gamma = kGammaMin + (kGammaMax - kGammaMin) * i / (kGammaSteps - 1);
        const auto p = maps.pow(static_cast<float>(gamma));
        const auto mean = p.mean(1);
        const auto ratio = std::get<0>(p.max(1)) / mean;
        const double pmr = (mean > 0).all().item<bool>() ? ratio.mean().item<double>()
                                                         : std::numeric_limits<double>::infinity();
        if (std::abs(pmr - target) < best) {
            best = std::abs(pmr - target);
            c.gamma = gamma;
        }
    }
    // The factor over every sample (not the sample mean): with one sample exactly the
    // reference's; with several, the mean of the calibrated samples is r·μ_T as well.
    const double mean = clipped.to(torch::kDouble).pow(c.gamma).mean().item<double>();
    c.factor = mean > 0 ? r * t.data_mean / mean : 0.0;
    c.label = std::string(each ? "template_each:" : "template:") + t.city;
    spdlog::info(
        "calibration against {}: population ratio {:.4g}, mean {:.6g}, peak-to-mean {:.4g} -> "
        "gamma {:.4f}",
        t.city, r, r * t.data_mean, target, c.gamma);
    return c;
}

/// Ours (`template_spatial`, issue 18): the template's peak-to-mean and mean, reached by a power on
/// each cell's weekly mean alone: y = factor · x · m^(γ−1), x clamped at 0, m the mean of that
/// cell's series in that sample. Each series keeps its own shape (its daily swing relative to its
/// mean, hence per-cell ACF and periodicity), where `template` powers every value and so bends it;
/// what the power corrects is the small models' compressed contrast between cells. γ is matched to
/// each sample's peak-to-mean on average, as template_each.
Calibration spatial_calibration(const Tensor& x500, const data::CityScaler& t, double pop_mean) {
    const auto clipped =
        x500.clamp_min(0).to(torch::kCPU, torch::kDouble).contiguous();  // (N, S, 168, 4, 4)
    const auto means = clipped.mean(2, /*keepdim=*/true);                // (N, S, 1, 4, 4)
    const double r = t.pop_mean > 0 ? pop_mean / t.pop_mean : 1.0;
    const double target = t.data_mean > 0 ? t.data_max / t.data_mean : 1.0;
    const auto powered = [&](double gamma) {
        return clipped * means.clamp_min(1e-30).pow(gamma - 1.0);
    };
    Calibration c;
    c.spatial = true;
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < kGammaSteps; ++i) {
        const double gamma = kGammaMin + (kGammaMax - kGammaMin) * i / (kGammaSteps - 1);
        const auto p =
            powered(gamma).transpose(0, 1).reshape({clipped.size(1), -1});  // one row per sample
        const auto mean = p.mean(1);
        const double pmr = (mean > 0).all().item<bool>()
                               ? (std::get<0>(p.max(1)) / mean).mean().item<double>()
                               : std::numeric_limits<double>::infinity();
        if (std::abs(pmr - target) < best) {
            best = std::abs(pmr - target);
            c.gamma = gamma;
        }
    }
    const double mean = powered(c.gamma).mean().item<double>();
    c.factor = mean > 0 ? r * t.data_mean / mean : 0.0;
    c.label = "template_spatial:" + t.city;
    spdlog::info(
        "calibration against {}: population ratio {:.4g}, mean {:.6g}, peak-to-mean {:.4g} -> "
        "gamma {:.4f} "
        "on the cells' weekly means",
        t.city, r, r * t.data_mean, target, c.gamma);
    return c;
}

/// Ours (`template_quantile`, issue 18): quantile mapping of the cells' levels. In each sample and
/// at each scale, a cell's weekly mean m moves to the template city's cell-level distribution at
/// the mid-rank m has among the city's cells (inside the mask): y = max(x, 0) · r · Q_T(p) / m, r
/// the population ratio. The model decides which cells are busy and each cell's hourly shape; the
/// template decides how busy the busiest are, over the whole distribution rather than only its
/// peak-to-mean (template_spatial), which a small model's compressed contrast gets wrong.
Calibration quantile_calibration(const data::CityScaler& t, double pop_mean) {
    Calibration c;
    c.levels = &t.cell_levels;
    c.factor = t.pop_mean > 0 ? pop_mean / t.pop_mean : 1.0;
    c.label = "template_quantile:" + t.city;
    spdlog::info(
        "calibration against {}: population ratio {:.4g}, the cells' weekly means mapped "
        "onto the template's quantiles (median {:.6g} at 500 m)",
        t.city, c.factor, c.factor * t.cell_levels.by_scale[0][50]);
    return c;
}

/// The model's own scale: the template scaler with its range times the population ratio
/// (MODEL.md §5.4 step 3).
Calibration scaler_calibration(const data::CityScaler& t, double pop_mean) {
    const double r = t.pop_mean > 0 ? pop_mean / t.pop_mean : 1.0;
    const double lo = static_cast<double>(t.scaler.data_min) * r;
    const double hi = static_cast<double>(t.scaler.data_max) * r;
    Calibration c;
    c.scale = hi > lo ? 1.0 / (hi - lo) : 1.0;
    c.offset = -lo * c.scale;
    c.label = "none";
    return c;
}

/// template_quantile on one scale: `values` (rows, cols, samples, 168), `mask` (rows, cols),
/// `quantiles` that scale's template quantiles.
void map_levels(const Calibration& c, const std::vector<double>& quantiles,
                const NdArray<std::uint8_t>& mask, NdArray<float>& values) {
    const std::size_t cells = values.dim(0) * values.dim(1);
    const std::size_t ns = values.dim(2);
    const bool any_inside = std::any_of(mask.values().begin(), mask.values().end(),
                                        [](std::uint8_t m) { return m != 0; });
    auto& v = values.values();
    std::vector<double> level(cells);
    for (std::size_t s = 0; s < ns; ++s) {
        std::vector<double> inside;
        for (std::size_t cell = 0; cell < cells; ++cell) {
            const float* x = v.data() + (cell * ns + s) * kHoursPerWeek;
            double sum = 0.0;
            for (std::size_t h = 0; h < kHoursPerWeek; ++h)
                sum += std::max(x[h], 0.0F);
            level[cell] = sum / static_cast<double>(kHoursPerWeek);
            if (!any_inside || mask[cell] != 0)
                inside.push_back(level[cell]);
        }
        const std::vector<double> p = data::mid_rank_probabilities(level, inside);
        for (std::size_t cell = 0; cell < cells; ++cell) {
            float* x = v.data() + (cell * ns + s) * kHoursPerWeek;
            const double gain = level[cell] > 0
                                    ? c.factor * data::quantile_at(quantiles, p[cell]) / level[cell]
                                    : 0.0;
            for (std::size_t h = 0; h < kHoursPerWeek; ++h)
                x[h] = static_cast<float>(gain * std::max(x[h], 0.0F));
        }
    }
}

/// `values`: (rows, cols, samples, 168), so a cell's series in one sample is 168 contiguous values;
/// `scale` indexes data::kLevelScaleNames, `mask` is the scale's (template_quantile ranks the
/// cells inside it).
void apply(const Calibration& c, std::size_t scale, const NdArray<std::uint8_t>& mask,
           NdArray<float>& values) {
    if (c.levels != nullptr) {
        map_levels(c, c.levels->by_scale.at(scale), mask, values);
        return;
    }
    if (c.spatial) {
        auto& v = values.values();
        for (std::size_t start = 0; start + kHoursPerWeek <= v.size(); start += kHoursPerWeek) {
            double sum = 0.0;
            for (std::size_t h = 0; h < kHoursPerWeek; ++h)
                sum += std::max(v[start + h], 0.0F);
            const double m = sum / static_cast<double>(kHoursPerWeek);
            const double gain = m > 0 ? c.factor * std::pow(m, c.gamma - 1.0) : 0.0;
            for (std::size_t h = 0; h < kHoursPerWeek; ++h)
                v[start + h] = static_cast<float>(gain * std::max(v[start + h], 0.0F));
        }
        return;
    }
    for (auto& v : values.values()) {
        v = c.power ? static_cast<float>(c.factor * std::pow(std::max(v, 0.0F), c.gamma))
                    : static_cast<float>((v - c.offset) / c.scale);
    }
}

// ---- masks and edges
// ------------------------------------------------------------------------------

/// 500 m degree edges from loc_2000m as the reference places its cell centres (MODEL.md §5.6
/// step 1: per tile row / column the extreme tile bounds, four equal steps), so the midpoints are
/// the reference's centres.
std::pair<std::vector<double>, std::vector<double>> reference_edges(const data::ConditionTiles& c) {
    const auto rows = static_cast<std::size_t>(c.tile_rows);
    const auto cols = static_cast<std::size_t>(c.tile_cols);
    // Edges along one axis: `lines` tile rows (or columns) of `across` tiles each; `tile(i, j)` is
    // the flat tile index, `lo` / `hi` the loc columns of that axis.
    const auto edges = [&c](std::size_t lines, std::size_t across, auto tile, std::size_t lo_col,
                            std::size_t hi_col) {
        std::vector<double> out;
        for (std::size_t i = 0; i < lines; ++i) {
            double lo = std::numeric_limits<double>::infinity();
            double hi = -lo;
            for (std::size_t j = 0; j < across; ++j) {
                lo = std::min(lo, c.loc[tile(i, j) * 4 + lo_col]);
                hi = std::max(hi, c.loc[tile(i, j) * 4 + hi_col]);
            }
            for (int k = 0; k < 4; ++k)
                out.push_back(lo + (hi - lo) * k / 4.0);
            if (i + 1 == lines)
                out.push_back(hi);
        }
        return out;
    };
    auto lat = edges(
        rows, cols, [cols](std::size_t i, std::size_t j) { return i * cols + j; }, 0, 1);
    auto lon = edges(
        cols, rows, [cols](std::size_t j, std::size_t i) { return i * cols + j; }, 2, 3);
    return {std::move(lon), std::move(lat)};
}

std::vector<double> every(const std::vector<double>& edges, std::size_t k, std::size_t count) {
    std::vector<double> out;
    for (std::size_t i = 0; i <= count; ++i)
        out.push_back(edges.at(i * k));
    return out;
}

/// A coarse cell is in the city when any of its 500 m cells is.
NdArray<std::uint8_t> coarsen_mask(const NdArray<std::uint8_t>& fine, std::size_t k) {
    NdArray<std::uint8_t> out({fine.dim(0) / k, fine.dim(1) / k}, 0);
    for (std::size_t i = 0; i < fine.dim(0); ++i)
        for (std::size_t j = 0; j < fine.dim(1); ++j)
            if (fine.at(i, j))
                out.at(i / k, j / k) = 1;
    return out;
}

struct OutputPaths {
    fs::path h5, npz, maps;
};

OutputPaths output_paths(const InferOptions& r, const data::CitySource& s) {
    return {r.out / fmt::format("{}_{}.h5", s.city, r.datatype),
            r.out / fmt::format("{}_500m_{}.npz", s.token, r.datatype), r.out / "maps"};
}

bool wants(const InferOptions& r, OutputFormat format) {
    return std::find(r.formats.begin(), r.formats.end(), format) != r.formats.end();
}

/// The record of the request that made a city's outputs, written beside them after them.
fs::path request_record(const InferOptions& r, const std::string& city) {
    return r.out / fmt::format("{}_{}.request.json", city, r.datatype);
}

/// The SHA-256 of `path` when it is a file; otherwise the path as given (a folder, a city name).
std::string content_or_name(const std::string& path) {
    std::error_code ec;
    return !path.empty() && fs::is_regular_file(path, ec) ? core::sha256_file(path) : path;
}

/// The fields every record of a request shares (a city's request record, a shard's identity):
/// `format`, the datatype, seed, sample count, draw order and the model's weights and resolved
/// config (sampler overrides included). Keys are sorted in the dump, so callers add theirs freely.
json model_request(const char* format, const InferOptions& r, const LoadedModel& model) {
    const SamplerConfig& s = model.config.sampler;
    json id;
    id["format"] = format;
    id["datatype"] = r.datatype;
    id["seed"] = r.seed;
    id["nsample"] = r.nsample;
    id["noise"] = r.noise;
    id["weights_sha256"] = model.weights_sha256;
    id["config_sha256"] = core::sha256_text(to_yaml(model.config));
    // The resolved sampler keys one by one (the config hash covers them too), so that a refused
    // reuse names the key that changed (--guidance, --steps_per_segment, ...).
    id["sampler"] = json{{"segment_start", to_string(s.segment_start)},
                         {"clip_x0", s.clip_x0},
                         {"steps_per_segment", s.steps_per_segment},
                         {"method", to_string(s.method)},
                         {"eta", s.eta},
                         {"guidance", s.guidance}};
    return id;
}

/// What makes a city's results (issue 19): the model's weights and resolved config (sampler
/// overrides included), the seed, the samples, the draw order, the calibration and its template,
/// the conditions and the boundary. Threads, device and batch size (with per-tile noise) change
/// only the last bits, so they are not part of it.
std::string request_identity(const InferOptions& r, const LoadedModel& model,
                             const data::CitySource& s) {
    json id = model_request("zoomdiff-infer-request 1", r, model);
    id["city"] = s.city;
    if (r.noise == "reference")
        id["batch_size"] = r.batch_size;
    id["calibration"] = calibration_name(r.calibration);
    id["template"] = content_or_name(r.template_city);
    id["cond_sha256"] = core::sha256_file(s.cond_file);
    id["shp"] = content_or_name(r.shp_path.string());
    id["boundary_field"] = r.shp_path.empty() ? std::string() : r.boundary_field;
    if (r.geotiff_samples)
        id["geotiff_samples"] = true;  // absent when false: earlier records stay valid
    return id.dump(2);
}

/// Appends "key: was X, the request has Y" for every key of `now` that `was` lacks or holds
/// another value of; objects are walked key by key ("sampler.guidance").
void collect_differences(const json& was, const json& now, const std::string& prefix,
                         std::vector<std::string>& out) {
    for (const auto& [key, value] : now.items()) {
        const std::string name = prefix + key;
        if (was.is_object() && was.contains(key) && was.at(key).is_object() && value.is_object()) {
            collect_differences(was.at(key), value, name + ".", out);
        } else if (!was.is_object() || !was.contains(key) || was.at(key) != value) {
            const bool hash = name.size() > 7 && name.compare(name.size() - 7, 7, "_sha256") == 0;
            if (hash && was.is_object() && was.contains(key)) {
                out.push_back(name + " differs");
                continue;
            }
            out.push_back(
                fmt::format("{} was {}, the request has {}", name,
                            was.is_object() && was.contains(key) ? was.at(key).dump() : "missing",
                            value.dump()));
        }
    }
}

/// The keys whose values differ between two request records (or why they cannot be read): the
/// named settings first, the hashes that follow from them (config_sha256, ...) last.
std::string first_difference(const std::string& recorded, const std::string& requested) {
    const auto was = json::parse(recorded, nullptr, false);
    if (was.is_discarded() || !was.is_object())
        return "its record cannot be read";
    std::vector<std::string> differences;
    collect_differences(was, json::parse(requested), "", differences);
    if (differences.empty())
        return "its record differs";
    std::stable_partition(differences.begin(), differences.end(), [](const std::string& d) {
        return d.find("_sha256 ") == std::string::npos;
    });
    return fmt::format("{}", fmt::join(differences, "; "));
}

/// Whether a city must be sampled: its wanted outputs are not all there, or --force. Outputs
/// that exist are reused only when the record beside them holds this very request; outputs of
/// another request, or of an unknown one (no record), are an error naming --force (issue 19).
bool needs_sampling(const InferOptions& r, const data::CitySource& s, const std::string& identity) {
    const auto p = output_paths(r, s);
    std::vector<fs::path> wanted;
    if (wants(r, OutputFormat::kH5))
        wanted.push_back(p.h5);
    if (wants(r, OutputFormat::kNpz))
        wanted.push_back(p.npz);
    if (wants(r, OutputFormat::kGeoTiff))
        wanted.push_back(p.maps / (io::map_file_stem(s.city, r.datatype, "500m") + ".tif"));
    std::vector<fs::path> present;
    for (const auto& f : wanted)
        if (fs::exists(f))
            present.push_back(f);
    if (r.force)
        return true;
    const auto record = request_record(r, s.city);
    const bool recorded = fs::exists(record);
    const std::string was = recorded
                                ? core::read_text_file(record, "cannot read the record of a result",
                                                       "Delete it, or pass --force")
                                : std::string();
    if (recorded && was == identity)
        return present.size() < wanted.size();
    if (present.empty() && !recorded)
        return true;
    const fs::path& first = present.empty() ? record : present.front();
    throw Error(first.string(),
                recorded ? fmt::format("holds results of another request ({})",
                                       first_difference(was, identity))
                         : fmt::format("exists with no record of the request that made it ({})",
                                       record.filename().string()),
                "Pass --force to replace it, or choose another --out");
}

/// FNV-1a of a city's English name: what keys its draws, independent of the other cities.
std::uint64_t city_hash(const std::string& city) {
    std::uint64_t h = 1469598103934665603ULL;
    for (const unsigned char ch : city)
        h = (h ^ ch) * 1099511628211ULL;
    return h;
}

/// --noise reference: the seed of the city's one stream.
std::uint64_t city_seed(std::uint64_t seed, const std::string& city) {
    return seed ^ city_hash(city);
}

/// --noise per_tile: the keys of tiles first .. first + count - 1 of `city`.
std::vector<std::uint64_t> tile_keys(std::uint64_t seed, const std::string& city,
                                     std::int64_t first, std::int64_t count) {
    std::vector<std::uint64_t> keys;
    for (std::int64_t t = first; t < first + count; ++t) {
        keys.push_back(TileNoise::tile_key({seed, city_hash(city), static_cast<std::uint64_t>(t)}));
    }
    return keys;
}

// ---- sampling -----------------------------------------------------------------------------------

/// Generated values of some tiles, on the CPU, each (n, ns, 168, 4, 4): the 500 m samples and the
/// ends of segments 0 (2000 m after pooling) and 1 (1000 m).
struct TileSamples {
    Tensor x500;
    Tensor x2000;
    Tensor x1000;
};

/// What every city of a run shares: the model, the calibration template, the device.
struct InferSetup {
    LoadedModel model;
    data::CityScaler templ;
    std::map<std::string, std::string> requests;  ///< request_identity of each city, by name
    torch::Device device{torch::kCPU};
};

/// Samples tiles first .. first + count - 1 of `c` as one batch. `city_stream`: the city's one
/// stream (--noise reference, carried from batch to batch); null: per-tile draws.
TileSamples sample_block(MultiScaleDiffusion& diffusion, const InferOptions& r,
                         const data::ConditionTiles& c, const torch::Device& device,
                         std::int64_t first, std::int64_t count, GeneratorNoise* city_stream) {
    // Fresh (aligned) copies of the block's conditions, so the batch's memory does not depend on
    // where the city's arrays happen to sit.
    auto* static_data = const_cast<float*>(c.static_cond.data()) + first * c.static_channels * 16;
    auto* poi_data = const_cast<float*>(c.poi.data()) + first * c.poi_channels * 16;
    const auto copy = [&device](float* data, std::int64_t channels, std::int64_t n) {
        return torch::from_blob(data, {n, channels, 4, 4}, torch::kFloat)
            .to(device, /*non_blocking=*/false, /*copy=*/true);
    };
    BatchConditions batch{
        copy(static_data, c.static_channels, count),
        copy(poi_data, c.poi_channels, count),
        torch::arange(kHours, torch::dtype(torch::kFloat).device(device)).expand({count, kHours}),
        {}};
    SampleOutput out;
    if (city_stream != nullptr) {
        out = diffusion.sample(batch, r.nsample, *city_stream);
    } else {
        TileNoise noise(tile_keys(r.seed, c.city, first, count));
        out = diffusion.sample(batch, r.nsample, noise);
    }
    // (B, ns, 1, 168, 4, 4) -> (B, ns, 168, 4, 4); segment ends (B, ns, S, 1, 168, 4, 4)
    return {out.samples.select(2, 0).to(torch::kCPU).contiguous(),
            out.segment_ends.select(2, 0).select(2, 0).to(torch::kCPU).contiguous(),
            out.segment_ends.select(2, 1).select(2, 0).to(torch::kCPU).contiguous()};
}

/// Blocks in tile order -> the whole city.
TileSamples concat(const std::vector<TileSamples>& blocks) {
    std::vector<Tensor> x500;
    std::vector<Tensor> x2000;
    std::vector<Tensor> x1000;
    for (const auto& b : blocks) {
        x500.push_back(b.x500);
        x2000.push_back(b.x2000);
        x1000.push_back(b.x1000);
    }
    return {torch::cat(x500), torch::cat(x2000), torch::cat(x1000)};
}

// ---- one city's outputs ------------------------------------------------------------------------

/// Checks, calibrates and writes one city from all its tiles' samples: the one place a single
/// process and rank 0 of a sharded run turn samples into files. `started`: when work on the
/// city began (its `seconds` metric).
/// A broken checkpoint shows as non-finite samples: refused before anything is written.
void require_finite(const LoadedModel& model, const data::ConditionTiles& c, const TileSamples& x) {
    for (const auto& [scale, values] :
         {std::pair{"500 m", x.x500}, std::pair{"segment ends", torch::cat({x.x2000, x.x1000})}}) {
        const auto bad = (~torch::isfinite(values)).sum().item<std::int64_t>();
        if (bad > 0) {
            throw Error(
                model.folder.string(),
                fmt::format("generated {} non-finite values ({}) for {}", bad, scale, c.city),
                "The checkpoint is broken or does not fit these conditions (config, "
                "condition_layout)");
        }
    }
}

Calibration choose_calibration(CalibrationKind kind, const Tensor& x500,
                               const data::CityScaler& templ, double pop_mean) {
    switch (kind) {
        case CalibrationKind::kNone:
            return scaler_calibration(templ, pop_mean);
        case CalibrationKind::kTemplateSpatial:
            return spatial_calibration(x500, templ, pop_mean);
        case CalibrationKind::kTemplateQuantile:
            return quantile_calibration(templ, pop_mean);
        default:
            return template_calibration(x500, templ, pop_mean,
                                        kind == CalibrationKind::kTemplateEach);
    }
}

/// The 500 m city mask: the --shp_path boundary's cell centres, else the condition file's mask,
/// else every cell.
NdArray<std::uint8_t> city_mask(const InferOptions& r, const data::ConditionTiles& c,
                                const std::vector<double>& lon500,
                                const std::vector<double>& lat500) {
    NdArray<std::uint8_t> mask500(
        {static_cast<std::size_t>(4 * c.tile_rows), static_cast<std::size_t>(4 * c.tile_cols)}, 1);
    if (!r.shp_path.empty()) {
        const auto boundary =
            geo::find_city_boundary(r.shp_path, r.boundary_field, geo::resolve_city_names(c.token));
        mask500 = geo::centre_mask(boundary, lon500, lat500);
    } else if (!c.mask_500m.empty()) {
        mask500 = NdArray<std::uint8_t>(mask500.shape(), c.mask_500m);
    } else {
        spdlog::warn("{}: no --shp_path and no mask in {}: every cell counts as inside the city",
                     c.city, c.cond_file.string());
    }
    return mask500;
}

/// The three scales' calibrated maps (2000 m, 1000 m, 500 m) with their edges and masks.
void add_scales(io::CityMaps& maps, const data::ConditionTiles& c, const TileSamples& x,
                const Calibration& cal, const NdArray<std::uint8_t>& mask500,
                const std::vector<double>& lon500, const std::vector<double>& lat500) {
    const auto rows = static_cast<std::size_t>(c.tile_rows);
    const auto cols = static_cast<std::size_t>(c.tile_cols);
    for (const auto& [name, values, k] : {std::tuple{"2000m", x.x2000, std::size_t{1}},
                                          std::tuple{"1000m", x.x1000, std::size_t{2}},
                                          std::tuple{"500m", x.x500, std::size_t{4}}}) {
        io::ScaleMaps s;
        s.name = name;
        s.cell_size_m = 2000.0 / static_cast<double>(k);
        s.rows = rows * k;
        s.cols = cols * k;
        s.samples = scale_grid(values, c.tile_rows, c.tile_cols, k);
        s.mask = k == 4 ? mask500 : coarsen_mask(mask500, 4 / k);
        apply(cal, k == 4 ? 0 : k == 2 ? 1 : 2, s.mask, s.samples);
        s.mean = sample_mean(s.samples);
        const std::size_t step100 = 20 / k;  // 100 m edges per cell at this scale
        s.x_edges_m = every(c.grid.x_edges_m, step100, s.cols);
        s.y_edges_m = every(c.grid.y_edges_m, step100, s.rows);
        s.lon_edges_deg = every(lon500, 4 / k, s.cols);
        s.lat_edges_deg = every(lat500, 4 / k, s.rows);
        maps.scales.push_back(std::move(s));
    }
}

/// The run's summary numbers: cross-scale consistency, the calibration and its targets.
json city_metrics(const io::CityMaps& maps, const Calibration& cal, const data::CityScaler& templ,
                  const data::ConditionTiles& c, std::chrono::steady_clock::time_point started) {
    json metrics;
    metrics["cross_scale_500_to_1000"] = cross_scale(maps.scales[2].mean, maps.scales[1].mean, 2);
    metrics["cross_scale_500_to_2000"] = cross_scale(maps.scales[2].mean, maps.scales[0].mean, 4);
    metrics["cross_scale_1000_to_2000"] = cross_scale(maps.scales[1].mean, maps.scales[0].mean, 2);
    metrics["gamma"] = cal.gamma;
    metrics["calibration"] = cal.label;
    const auto& m500 = maps.scales[2].mean.values();
    double sum = 0.0;
    float peak = 0.0F;
    for (const float v : m500) {
        sum += v;
        peak = std::max(peak, v);
    }
    const double mean = sum / static_cast<double>(m500.size());
    metrics["mean_500m"] = mean;
    metrics["peak_to_mean_500m"] = mean > 0 ? peak / mean : 0.0;
    if (cal.power || cal.spatial || cal.levels != nullptr) {
        metrics["target_mean"] =
            (templ.pop_mean > 0 ? c.pop_mean / templ.pop_mean : 1.0) * templ.data_mean;
        metrics["target_peak_to_mean"] =
            templ.data_mean > 0 ? templ.data_max / templ.data_mean : 0.0;
    }
    metrics["tiles"] = c.tiles;
    metrics["tile_arrangement"] = c.tile_arrangement;
    metrics["seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return metrics;
}

/// The request as resolved, for the results' provenance.
std::string resolved_request(const InferOptions& r, const InferSetup& setup,
                             const io::CityMaps& maps, const data::ConditionTiles& c) {
    json resolved;
    resolved["config"] = to_yaml(setup.model.config);
    resolved["modelfolder"] = maps.model_run;
    resolved["nsample"] = r.nsample;
    resolved["batch_size"] = r.batch_size;
    resolved["noise"] = r.noise;
    resolved["calibration"] = maps.calibration;
    resolved["device"] = setup.device.str();
    resolved["threads"] = at::get_num_threads();
    resolved["world_size"] = r.world.world_size;
    resolved["shp_path"] = r.shp_path.string();
    resolved["tile_arrangement"] = c.tile_arrangement;
    return resolved.dump();
}

void write_city(const InferOptions& r, const InferSetup& setup, const data::ConditionTiles& c,
                const TileSamples& x, std::chrono::steady_clock::time_point started) {
    const auto& model = setup.model;
    const data::CityScaler& templ = setup.templ;
    require_finite(model, c, x);
    const Calibration cal = choose_calibration(r.calibration, x.x500, templ, c.pop_mean);

    io::CityMaps maps;
    maps.city = c.city;
    maps.token = c.token;
    maps.datatype = r.datatype;
    maps.units = fmt::format(
        "{} per 500 m cell per hour, in the unit of {}'s training data (cell means at 1000 and "
        "2000 m)",
        r.datatype, templ.city);
    if (c.tile_arrangement == "patches") {
        maps.units +=
            "; tile_arrangement = patches: tiles side by side on a placeholder grid, no "
            "coordinates";
    }
    maps.epsg = c.grid.epsg;
    maps.nsample = r.nsample;
    maps.calibration = cal.label;
    maps.model_run = core::recorded_path(model.folder);
    maps.conditions = c.conditions_500m;
    const auto [lon500, lat500] = reference_edges(c);
    add_scales(maps, c, x, cal, city_mask(r, c, lon500, lat500), lon500, lat500);
    const json metrics = city_metrics(maps, cal, templ, c, started);
    maps.metrics_json = metrics.dump();
    spdlog::info(
        "{}: {} tiles x {} samples in {:.1f} s; cross-scale consistency 500->1000 {:.3f}, "
        "500->2000 {:.3f}",
        c.city, c.tiles, r.nsample, metrics["seconds"].get<double>(),
        metrics["cross_scale_500_to_1000"].get<double>(),
        metrics["cross_scale_500_to_2000"].get<double>());
    maps.provenance.tool = "zoomdiff_infer";
    maps.provenance.command_line = r.command_line;
    maps.provenance.seed = r.seed;
    maps.provenance.city_en = c.city;
    maps.provenance.city_cn = geo::resolve_city_names(c.token).cn;
    maps.provenance.resolved_config_json = resolved_request(r, setup, maps, c);

    const auto paths = output_paths(r, data::CitySource{c.token, c.city, {}, c.cond_file});
    fs::create_directories(r.out);
    // The record goes first and comes back last: outputs half-replaced by an interrupted run are
    // never taken for the old request's.
    const auto record = request_record(r, c.city);
    fs::remove(record);
    if (wants(r, OutputFormat::kH5))
        io::write_results_h5(paths.h5, maps);
    if (wants(r, OutputFormat::kNpz))
        io::write_reference_npz(paths.npz, maps);
    if (wants(r, OutputFormat::kGeoTiff)) {
        fs::create_directories(paths.maps);
        io::write_geotiffs(paths.maps, maps, r.geotiff_samples);
        io::write_quicklooks(paths.maps, maps);
    }
    core::write_text_file(record, setup.requests.at(c.city));
}

// ---- ranks -------------------------------------------------------------------------------------

/// Rank 0's `values` on every rank. Every rank must pass as many values (`what` they are, for
/// the error when they do not: ranks started with other flags or input files).
std::vector<std::int64_t> rank0_view(ProcessGroup& group, const core::World& world,
                                     std::vector<std::int64_t> values, const std::string& what) {
    auto size = torch::tensor({static_cast<std::int64_t>(values.size())}, torch::kLong);
    group.broadcast(size, 0, "counting " + what);
    const auto leader_size = size.item<std::int64_t>();
    on_every_rank(&group, world, "counting " + what, [&] {
        if (leader_size != static_cast<std::int64_t>(values.size())) {
            throw Error(
                core::world_label(world),
                fmt::format("sees {} {} where rank 0 sees {}", values.size(), what, leader_size),
                "Start every rank with the same flags (--dataset, --batch_size) and the same input "
                "files");
        }
    });
    if (values.empty())
        return values;
    auto t = torch::tensor(values, torch::kLong);
    group.broadcast(t, 0, what);
    return {t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel()};
}

// ---- shards ------------------------------------------------------------------------------------

/// Tiles first .. first + count - 1 of city `city` (an index into the run's cities): a batch of
/// --batch_size tiles counted from tile 0 of the city, as a single process samples it.
struct Block {
    std::size_t city = 0;
    std::int64_t first = 0;
    std::int64_t count = 0;
    std::string identity;  ///< what makes its samples (JSON): a shard of another identity is stale
    fs::path shard;        ///< <out>/shards/<City>_<datatype>/tiles_<first>_<end>-<id>.pt
};

fs::path shard_dir(const InferOptions& r, const std::string& city) {
    return r.out / "shards" / fmt::format("{}_{}", city, r.datatype);
}

/// Every block of every city, with the identity and file name of its shard.
std::vector<Block> plan_blocks(const InferOptions& r, const InferSetup& setup,
                               const std::vector<data::ConditionTiles>& cities) {
    json run = model_request("zoomdiff-infer-shard 1", r, setup.model);
    run["modelfolder"] = core::recorded_path(setup.model.folder);
    run["threads"] = at::get_num_threads();
    run["device"] = setup.device.str();
    std::vector<Block> blocks;
    for (std::size_t i = 0; i < cities.size(); ++i) {
        const auto& c = cities[i];
        for (std::int64_t first = 0; first < c.tiles; first += r.batch_size) {
            Block b;
            b.city = i;
            b.first = first;
            b.count = std::min(r.batch_size, c.tiles - first);
            json id = run;
            id["city"] = c.city;
            id["city_tiles"] = c.tiles;
            id["first_tile"] = b.first;
            id["tile_count"] = b.count;
            b.identity = id.dump();
            b.shard =
                shard_dir(r, c.city) / fmt::format("tiles_{}_{}-{}.pt", b.first, b.first + b.count,
                                                   core::sha256_text(b.identity).substr(0, 16));
            blocks.push_back(std::move(b));
        }
    }
    return blocks;
}

Tensor text_tensor(const std::string& text) {
    return torch::from_blob(const_cast<char*>(text.data()),
                            {static_cast<std::int64_t>(text.size())}, torch::kUInt8)
        .clone();
}

void save_shard(const Block& b, const TileSamples& x) {
    torch::serialize::OutputArchive archive;
    archive.write("identity", text_tensor(b.identity));
    archive.write("x500", x.x500);
    archive.write("x2000", x.x2000);
    archive.write("x1000", x.x1000);
    save_archive(archive, b.shard);
}

/// A shard back, checked against its block (identity and shapes).
TileSamples load_shard(const Block& b, std::int64_t nsample) {
    constexpr const char* kFix =
        "--out must be on a filesystem every rank sees; delete <out>/shards and run again";
    if (!fs::exists(b.shard)) {
        throw Error(b.shard.string(), "not found, though the rank that sampled it finished", kFix);
    }
    TileSamples x;
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(b.shard.string());
        // A fresh tensor per read: InputArchive::read set_()s into a defined tensor's storage.
        const auto read = [&archive](const char* key) {
            Tensor t;
            archive.read(key, t);
            return t;
        };
        const auto identity = read("identity").contiguous();
        const std::string text(reinterpret_cast<const char*>(identity.data_ptr<std::uint8_t>()),
                               static_cast<std::size_t>(identity.numel()));
        if (text != b.identity) {
            throw Error(b.shard.string(),
                        "holds the samples of another block or run than its name says", kFix);
        }
        x = {read("x500"), read("x2000"), read("x1000")};
    } catch (const c10::Error& e) {
        throw Error(b.shard.string(),
                    fmt::format("not a readable shard ({})", e.what_without_backtrace()), kFix);
    }
    const std::vector<std::int64_t> shape{b.count, nsample, kHours, 4, 4};
    for (const auto& t : {x.x500, x.x2000, x.x1000}) {
        if (t.sizes() != at::IntArrayRef(shape) || t.scalar_type() != torch::kFloat) {
            throw Error(b.shard.string(), "holds arrays of another shape than its block's", kFix);
        }
    }
    return x;
}

// ---- the two ways to run
// -------------------------------------------------------------------------

/// The run's sampler (the model config's `sampler` section with the flags' overrides), its cost
/// logged. Both ways count progress in network calls per tile, so rate and ETA hold for any
/// --steps_per_segment.
MultiScaleDiffusion run_sampler(const InferSetup& setup) {
    MultiScaleDiffusion diffusion(setup.model.net);
    diffusion.set_sampler(setup.model.config.sampler);
    const auto& sampler = diffusion.sampler();
    spdlog::info("sampling: {} network calls per sample ({} sampler, {} steps per segment{})",
                 diffusion.calls_per_sample(), to_string(sampler.method),
                 sampler.steps_per_segment == 0 ? std::string("every")
                                                : std::to_string(sampler.steps_per_segment),
                 sampler.guidance > 0 ? fmt::format(", guidance {}", sampler.guidance) : "");
    return diffusion;
}

/// One process: each city sampled batch by batch in memory, then written.
void run_single(const InferOptions& r, const InferSetup& setup,
                const std::vector<data::ConditionTiles>& cities, core::Progress& progress) {
    std::int64_t total = 0;
    for (const auto& c : cities)
        total += c.tiles;
    MultiScaleDiffusion diffusion = run_sampler(setup);
    const auto calls = diffusion.calls_per_sample() * r.nsample;
    progress.start("sampling", static_cast<std::uint64_t>(total * calls), "tile steps");
    for (const auto& c : cities) {
        const auto started = std::chrono::steady_clock::now();
        std::unique_ptr<GeneratorNoise> stream;
        if (r.noise == "reference") {
            stream = std::make_unique<GeneratorNoise>(
                GeneratorNoise::cpu_generator(city_seed(r.seed, c.city)));
        }
        std::vector<TileSamples> blocks;
        for (std::int64_t first = 0; first < c.tiles; first += r.batch_size) {
            const auto count = std::min(r.batch_size, c.tiles - first);
            blocks.push_back(
                sample_block(diffusion, r, c, setup.device, first, count, stream.get()));
            progress.advance(static_cast<std::uint64_t>(count * calls));
        }
        write_city(r, setup, c, concat(blocks), started);
    }
    progress.finish();
}

/// Several ranks: blocks without a shard shared out, one shard per block, then rank 0 assembles
/// and writes every city (DESIGN §6).
void run_sharded(const InferOptions& r, const InferSetup& setup,
                 const std::vector<data::ConditionTiles>& cities, ProcessGroup& group,
                 core::Progress& progress) {
    const core::World& world = r.world;
    const auto blocks = plan_blocks(r, setup, cities);
    // Rank 0's view of which blocks already have a shard decides for everyone.
    std::vector<std::int64_t> have(blocks.size(), 0);
    if (world.leader()) {
        for (std::size_t i = 0; i < blocks.size(); ++i)
            have[i] = fs::exists(blocks[i].shard) ? 1 : 0;
    }
    have = rank0_view(group, world, have, "blocks");
    std::vector<std::size_t> missing;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (have[i] == 0)
            missing.push_back(i);
    }
    const auto [lo, hi] = core::rank_share(missing.size(), world.rank, world.world_size);
    std::int64_t mine = 0;
    for (auto k = lo; k < hi; ++k)
        mine += blocks[missing[k]].count;
    spdlog::info(
        "{} blocks of up to {} tiles in {} cities: {} of {} blocks reused from shards in {}, {} to "
        "sample, "
        "{} on this rank ({} tiles)",
        blocks.size(), r.batch_size, cities.size(), blocks.size() - missing.size(), blocks.size(),
        (r.out / "shards").string(), missing.size(), hi - lo, mine);

    const auto started = std::chrono::steady_clock::now();
    MultiScaleDiffusion diffusion = run_sampler(setup);
    const auto calls = diffusion.calls_per_sample() * r.nsample;
    progress.start("sampling", static_cast<std::uint64_t>(mine * calls), "tile steps");
    on_every_rank(&group, world, "sampling", [&] {
        for (auto k = lo; k < hi; ++k) {
            const auto& b = blocks[missing[k]];
            save_shard(b, sample_block(diffusion, r, cities[b.city], setup.device, b.first, b.count,
                                       nullptr));
            spdlog::debug("wrote {}", b.shard.string());
            progress.advance(static_cast<std::uint64_t>(b.count * calls));
        }
    });
    progress.finish();

    // City by city, so no rank waits longer than one city's writing for the next collective.
    for (std::size_t i = 0; i < cities.size(); ++i) {
        on_every_rank(&group, world, "writing " + cities[i].city, [&] {
            if (!world.leader())
                return;
            std::vector<TileSamples> parts;
            for (const auto& b : blocks) {
                if (b.city == i)
                    parts.push_back(load_shard(b, r.nsample));
            }
            write_city(r, setup, cities[i], concat(parts), started);
            // A city named twice in --dataset keeps its shards until its last turn.
            const auto again = std::any_of(
                cities.begin() + static_cast<std::ptrdiff_t>(i) + 1, cities.end(),
                [&](const data::ConditionTiles& d) { return d.city == cities[i].city; });
            if (!again)
                fs::remove_all(shard_dir(r, cities[i].city));
        });
    }
    if (world.leader()) {
        std::error_code ignored;
        fs::remove(r.out / "shards", ignored);  // only when empty: other datatypes' shards stay
    }
    group.barrier("the end of inference");
}

}  // namespace

const char* calibration_name(CalibrationKind kind) {
    switch (kind) {
        case CalibrationKind::kTemplate:
            return "template";
        case CalibrationKind::kTemplateEach:
            return "template_each";
        case CalibrationKind::kTemplateSpatial:
            return "template_spatial";
        case CalibrationKind::kTemplateQuantile:
            return "template_quantile";
        case CalibrationKind::kNone:
            break;
    }
    return "none";
}

const char* format_name(OutputFormat format) {
    switch (format) {
        case OutputFormat::kH5:
            return "h5";
        case OutputFormat::kNpz:
            return "npz";
        case OutputFormat::kGeoTiff:
            break;
    }
    return "geotiff";
}

namespace {

/// The flags that need no file.
void check_request(const InferOptions& r) {
    if (r.geotiff_samples && !wants(r, OutputFormat::kGeoTiff)) {
        throw Error(
            "--geotiff_samples", "given without --format geotiff",
            "Add geotiff to --format (e.g. --format h5,geotiff), or drop --geotiff_samples");
    }
    if (r.nsample < 1 || r.batch_size < 1) {
        throw Error(r.nsample < 1 ? "--nsample" : "--batch_size", "must be at least 1",
                    "Pass a positive number");
    }
    if (parse_noise_mode(r.noise, "--noise") == NoiseMode::kReference && r.world.distributed()) {
        throw Error("--noise",
                    fmt::format("reference (one stream of draws per city, in batch order) cannot "
                                "be shared out over "
                                "{} ranks",
                                r.world.world_size),
                    "Use --noise per_tile (the default) with WORLD_SIZE > 1, or run one process "
                    "(WORLD_SIZE unset) "
                    "for the reference's draw order");
    }
    if (r.dist_timeout_s < 1)
        throw Error("--dist_timeout", "must be at least 1 second", "Pass a positive number");
}

/// Tiles without positions (uomo_import): no map to draw or to place on the earth.
void refuse_maps_of_patches(const InferOptions& r, const data::ConditionTiles& c) {
    if (c.tile_arrangement != "patches")
        return;
    for (const OutputFormat format : {OutputFormat::kNpz, OutputFormat::kGeoTiff}) {
        if (wants(r, format)) {
            throw Error(c.cond_file.string(),
                        fmt::format("{} is a city of patches (tile_arrangement = patches: tiles "
                                    "without coordinates, side by side on a placeholder grid); "
                                    "--format {} needs a real map",
                                    c.city, format_name(format)),
                        "Use --format h5 (tile-wise results; the placeholder grid is not a "
                        "map)");
        }
    }
}

/// The condition tiles of the cities still to sample (todo[i] != 0).
std::vector<data::ConditionTiles> load_cities(const InferOptions& r, const InferSetup& setup,
                                              const std::vector<data::CitySource>& sources,
                                              const std::vector<std::int64_t>& todo) {
    std::vector<data::ConditionTiles> cities;
    const auto layout = static_layout(setup.model.config);
    for (std::size_t i = 0; i < sources.size(); ++i) {
        const auto& s = sources[i];
        if (todo[i] == 0) {
            spdlog::info(
                "{}: the outputs in {} were made by this very request (model, config, seed, "
                "nsample, calibration, conditions); reusing them (--force to redo)",
                s.city, r.out.string());
            continue;
        }
        cities.push_back(data::load_condition_tiles(s, layout, setup.model.config.poi_channels()));
        refuse_maps_of_patches(r, cities.back());
    }
    return cities;
}

}  // namespace

void run_inference(const InferOptions& r, core::Progress& progress) {
    check_request(r);
    const core::World& world = r.world;
    at::set_num_threads(std::max(1, r.threads));
    InferSetup setup;
    setup.device = rank_device(r.device, world);
    std::unique_ptr<ProcessGroup> group;
    if (world.distributed())
        group = ProcessGroup::connect(world, setup.device, dist_timeout(r.dist_timeout_s));

    // Every input is checked before any sampling, on every rank.
    std::vector<data::CitySource> sources;
    std::vector<std::int64_t> todo;
    on_every_rank(group.get(), world, "setting up", [&] {
        for (const auto& token : data::split_dataset(r.dataset))
            sources.push_back(data::locate_conditions(r.data_root, token));
        setup.model = load_model(r, setup.device);
        setup.templ = template_scaler(setup.model, r);
        core::check_output_folder(r.out, "--out",
                                  {{"--data_root", r.data_root}, {"--modelfolder", r.modelfolder}});
        for (const auto& s : sources) {
            setup.requests[s.city] = request_identity(r, setup.model, s);
            todo.push_back(needs_sampling(r, s, setup.requests.at(s.city)) ? 1 : 0);
        }
    });
    // Rank 0 writes the outputs, so its view of which cities are complete decides for all.
    if (group)
        todo = rank0_view(*group, world, todo, "cities");
    std::vector<data::ConditionTiles> cities;
    on_every_rank(group.get(), world, "reading the condition files",
                  [&] { cities = load_cities(r, setup, sources, todo); });
    if (!group || world.rank == 0) {
        // 21 cells per tile (16 of 500 m, 4 of 1000 m, one of 2000 m), float32 samples and mean.
        std::uintmax_t bytes = 0;
        for (const auto& c : cities)
            bytes += static_cast<std::uintmax_t>(c.tiles) * 21U * 168U * 4U *
                     static_cast<std::uintmax_t>(r.nsample + 1) * r.formats.size();
        core::warn_if_low_space(r.out, bytes, "results");
    }
    if (group) {
        run_sharded(r, setup, cities, *group, progress);
    } else {
        run_single(r, setup, cities, progress);
    }
}

}  // namespace zoomdiff::model
