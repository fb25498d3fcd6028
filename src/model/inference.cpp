// zoomdiff_infer (reference/MODEL.md §5, README "zoomdiff_infer"): every tile of a city sampled
// with every sample kept, three scales from the one trajectory, calibrated against a trained city.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/data/condition_tiles.hpp"
#include "zoomdiff/data/scaler.hpp"
#include "zoomdiff/eval/metrics.hpp"
#include "zoomdiff/geo/boundary.hpp"
#include "zoomdiff/geo/city_names.hpp"
#include "zoomdiff/geo/mask.hpp"
#include "zoomdiff/io/npz.hpp"
#include "zoomdiff/io/results_store.hpp"
#include "zoomdiff/model/config.hpp"
#include "zoomdiff/model/diffusion.hpp"
#include "zoomdiff/model/inference.hpp"
#include "zoomdiff/model/network.hpp"
#include "zoomdiff/model/reference_checkpoint.hpp"
#include "zoomdiff/model/weights.hpp"

namespace zoomdiff::model {
namespace {

namespace fs = std::filesystem;
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
};

LoadedModel load_model(const InferRequest& r, const torch::Device& device) {
    LoadedModel m;
    m.folder = r.modelfolder;
    if (r.modelfolder.empty()) {
        throw Error("--modelfolder", "no model given", "Pass the run folder of zoomdiff_train (or a reference run folder)");
    }
    if (fs::exists(r.modelfolder / "model.pt")) {
        m.config = load_model_config(r.config.empty() ? r.modelfolder / "config.yaml" : r.config);
        m.net = ZoomDiffNet(m.config);
        load_weights(m.net, r.modelfolder / "model.pt");
        std::string datatype;
        m.scalers = data::read_scalers(r.modelfolder / "scalers.json", &datatype);
        if (datatype != r.datatype) {
            throw Error("--datatype",
                        fmt::format("the model in {} was trained on '{}', not '{}'", r.modelfolder.string(), datatype,
                                    r.datatype),
                        fmt::format("Pass --datatype {} or a {} model", datatype, r.datatype));
        }
    } else if (fs::exists(r.modelfolder / "model.pth") || r.modelfolder.extension() == ".pth") {
        ModelConfig override_config;
        const bool has_override = !r.config.empty();
        if (has_override) override_config = load_model_config(r.config);
        m.net = load_reference_run(r.modelfolder, has_override ? &override_config : nullptr, r.seed, &m.config);
        m.reference = true;
    } else {
        throw Error(r.modelfolder.string(), "holds neither model.pt (zoomdiff_train) nor model.pth (the reference)",
                    "Pass the run folder of a finished training run with --modelfolder");
    }
    if (m.config.diffusion.spatial_scale != 3 || m.config.diffusion.spatial_scale_coarse != 3 ||
        m.config.diffusion.time_scale != 1) {
        throw Error(r.modelfolder.string(),
                    "zoomdiff_infer writes 2000, 1000 and 500 m maps: it needs multi_scale time_scale 1, "
                    "spatial_scale 3, spatial_scale_coarse 3 (base.yaml's)",
                    "Use a model trained with base.yaml's multi_scale section");
    }
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
    const auto pop = npz.read_double("pop_2000m");
    double pop_sum = 0.0;
    for (const double v : pop.values()) pop_sum += v;
    t.pop_mean = pop_sum / static_cast<double>(pop.size());
    return t;
}

/// The template city's statistics and scaler (MODEL.md §5.5): a city of the run's scalers.json
/// (default its first), or a reference template .npz.
data::CityScaler template_scaler(const LoadedModel& m, const InferRequest& r) {
    if (fs::path(r.template_city).extension() == ".npz") {
        if (r.calibration == "none") {
            throw Error("--calibration", "none needs the training scalers of a zoomdiff_train run; a template .npz has none",
                        "Use --calibration template with a template .npz");
        }
        return npz_template(r.template_city);
    }
    if (m.scalers.empty()) {
        throw Error("--template",
                    fmt::format("{} is a reference run: it carries no scalers or template statistics", m.folder.string()),
                    "Pass the reference's template_<datatype>.npz with --template, or use a zoomdiff_train run");
    }
    if (r.template_city.empty()) return m.scalers.front();
    const auto names = geo::resolve_city_names(r.template_city);
    for (const auto& s : m.scalers) {
        if (s.city == names.en || s.token == r.template_city) return s;
    }
    std::string known;
    for (const auto& s : m.scalers) known += (known.empty() ? "" : ", ") + s.city;
    throw Error("--template", fmt::format("'{}' is not a city the model was trained on ({})", r.template_city, known),
                "Pick one of the trained cities, a template .npz, or leave --template out (the first one)");
}

// ---- scales -------------------------------------------------------------------------------------

/// One scale's grid (R k, C k, ns, 168) from tile-major values (N, ns, 168, 4, 4): the k x k block
/// means of each tile (data::pool_tile_cells; k = 4 keeps the cells), placed by data::tiles_to_grid.
NdArray<float> scale_grid(const Tensor& tiles, std::int64_t rows, std::int64_t cols, std::size_t k) {
    const auto ns = static_cast<std::size_t>(tiles.size(1));
    const auto cpu = tiles.to(torch::kCPU, torch::kFloat).contiguous();
    std::vector<float> values(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
    if (k != 4) values = data::pool_tile_cells(values, k);
    const auto r = static_cast<std::size_t>(rows);
    const auto c = static_cast<std::size_t>(cols);
    return NdArray<float>({r * k, c * k, ns, 168}, data::tiles_to_grid(values, r, c, ns, k));
}

NdArray<float> sample_mean(const NdArray<float>& samples) {
    const std::size_t cells = samples.dim(0) * samples.dim(1);
    const std::size_t ns = samples.dim(2);
    NdArray<float> mean({samples.dim(0), samples.dim(1), 168});
    for (std::size_t c = 0; c < cells; ++c)
        for (std::size_t h = 0; h < 168; ++h) {
            double sum = 0.0;
            for (std::size_t s = 0; s < ns; ++s) sum += samples[(c * ns + s) * 168 + h];
            mean[c * 168 + h] = static_cast<float>(sum / static_cast<double>(ns));
        }
    return mean;
}

/// ‖pool(fine) − coarse‖ / ‖coarse‖ of two (rows, cols, 168) maps (EVAL.md, cross-scale consistency).
double cross_scale(const NdArray<float>& fine, const NdArray<float>& coarse, std::size_t k) {
    const auto series = [](const NdArray<float>& map) {
        return eval::make_series(map.dim(0) * map.dim(1), map.dim(2), map.values());
    };
    return eval::cross_scale_consistency(series(fine), fine.dim(0), fine.dim(1), series(coarse), k).relative_error;
}

// ---- calibration (MODEL.md §5.5) -----------------------------------------------------------------

struct Calibration {
    double gamma = 1.0;
    double factor = 1.0;  ///< y = factor * max(x, 0)^gamma (template); y = (x - offset) / scale (none)
    double offset = 0.0;
    double scale = 1.0;
    bool power = false;
    std::string label;
};

/// γ from the 500 m sample mean of the clipped, normalised outputs, as the reference computes it;
/// y = factor · max(x, 0)^γ is then applied to every sample of every scale.
Calibration template_calibration(const Tensor& x500, const data::CityScaler& t, double pop_mean) {
    const auto x0 = x500.clamp_min(0).mean(1).to(torch::kCPU, torch::kFloat).contiguous();  // (N, 168, 4, 4)
    const double r = t.pop_mean > 0 ? pop_mean / t.pop_mean : 1.0;
    const double target = t.data_mean > 0 ? t.data_max / t.data_mean : 1.0;
    Calibration c;
    c.power = true;
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < kGammaSteps; ++i) {
        const double gamma = kGammaMin + (kGammaMax - kGammaMin) * i / (kGammaSteps - 1);
        const auto p = x0.pow(static_cast<float>(gamma));
        const double mean = p.mean().item<double>();
        const double pmr = mean > 0 ? p.max().item<double>() / mean : std::numeric_limits<double>::infinity();
        if (std::abs(pmr - target) < best) {
            best = std::abs(pmr - target);
            c.gamma = gamma;
        }
    }
    // The factor over every sample (not the sample mean): with one sample exactly the
    // reference's; with several, the mean of the calibrated samples is r·μ_T as well.
    const double mean = x500.clamp_min(0).to(torch::kCPU, torch::kDouble).pow(c.gamma).mean().item<double>();
    c.factor = mean > 0 ? r * t.data_mean / mean : 0.0;
    c.label = "template:" + t.city;
    spdlog::info("calibration against {}: population ratio {:.4g}, mean {:.6g}, peak-to-mean {:.4g} -> gamma {:.4f}",
                 t.city, r, r * t.data_mean, target, c.gamma);
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

void apply(const Calibration& c, NdArray<float>& values) {
    for (auto& v : values.values()) {
        v = c.power ? static_cast<float>(c.factor * std::pow(std::max(v, 0.0F), c.gamma))
                    : static_cast<float>((v - c.offset) / c.scale);
    }
}

// ---- masks and edges ------------------------------------------------------------------------------

/// 500 m degree edges from loc_2000m as the reference places its cell centres (MODEL.md §5.6
/// step 1: per tile row / column the extreme tile bounds, four equal steps), so the midpoints are
/// the reference's centres.
std::pair<std::vector<double>, std::vector<double>> reference_edges(const data::ConditionTiles& c) {
    const auto rows = static_cast<std::size_t>(c.tile_rows);
    const auto cols = static_cast<std::size_t>(c.tile_cols);
    // Edges along one axis: `lines` tile rows (or columns) of `across` tiles each; `tile(i, j)` is
    // the flat tile index, `lo` / `hi` the loc columns of that axis.
    const auto edges = [&c](std::size_t lines, std::size_t across, auto tile, std::size_t lo_col, std::size_t hi_col) {
        std::vector<double> out;
        for (std::size_t i = 0; i < lines; ++i) {
            double lo = std::numeric_limits<double>::infinity();
            double hi = -lo;
            for (std::size_t j = 0; j < across; ++j) {
                lo = std::min(lo, c.loc[tile(i, j) * 4 + lo_col]);
                hi = std::max(hi, c.loc[tile(i, j) * 4 + hi_col]);
            }
            for (int k = 0; k < 4; ++k) out.push_back(lo + (hi - lo) * k / 4.0);
            if (i + 1 == lines) out.push_back(hi);
        }
        return out;
    };
    auto lat = edges(rows, cols, [cols](std::size_t i, std::size_t j) { return i * cols + j; }, 0, 1);
    auto lon = edges(cols, rows, [cols](std::size_t j, std::size_t i) { return i * cols + j; }, 2, 3);
    return {std::move(lon), std::move(lat)};
}

std::vector<double> every(const std::vector<double>& edges, std::size_t k, std::size_t count) {
    std::vector<double> out;
    for (std::size_t i = 0; i <= count; ++i) out.push_back(edges.at(i * k));
    return out;
}

/// A coarse cell is in the city when any of its 500 m cells is.
NdArray<std::uint8_t> coarsen_mask(const NdArray<std::uint8_t>& fine, std::size_t k) {
    NdArray<std::uint8_t> out({fine.dim(0) / k, fine.dim(1) / k}, 0);
    for (std::size_t i = 0; i < fine.dim(0); ++i)
        for (std::size_t j = 0; j < fine.dim(1); ++j)
            if (fine.at(i, j)) out.at(i / k, j / k) = 1;
    return out;
}

struct OutputPaths {
    fs::path h5, npz, maps;
};

OutputPaths output_paths(const InferRequest& r, const data::CitySource& s) {
    return {r.out / fmt::format("{}_{}.h5", s.city, r.datatype),
            r.out / fmt::format("{}_500m_{}.npz", s.token, r.datatype), r.out / "maps"};
}

bool wants(const InferRequest& r, const std::string& format) {
    return std::find(r.formats.begin(), r.formats.end(), format) != r.formats.end();
}

bool complete(const InferRequest& r, const data::CitySource& s) {
    const auto p = output_paths(r, s);
    if (wants(r, "h5") && !fs::exists(p.h5)) return false;
    if (wants(r, "npz") && !fs::exists(p.npz)) return false;
    if (wants(r, "geotiff") && !fs::exists(p.maps / (io::map_file_stem(s.city, r.datatype, "500m") + ".tif"))) return false;
    return true;
}

std::uint64_t city_seed(std::uint64_t seed, const std::string& city) {
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a: the stream of a city does not depend on the others
    for (const unsigned char ch : city) h = (h ^ ch) * 1099511628211ULL;
    return seed ^ h;
}

}  // namespace

void run_inference(const InferRequest& r, core::Progress& progress) {
    for (const auto& f : r.formats) {
        if (f != "h5" && f != "npz" && f != "geotiff") {
            throw Error("--format", fmt::format("unknown format '{}'", f), "Use h5, npz and/or geotiff");
        }
    }
    if (r.calibration != "template" && r.calibration != "none") {
        throw Error("--calibration", fmt::format("unknown calibration '{}'", r.calibration), "Use template or none");
    }
    if (r.nsample < 1 || r.batch_size < 1) {
        throw Error(r.nsample < 1 ? "--nsample" : "--batch_size", "must be at least 1", "Pass a positive number");
    }
    at::set_num_threads(std::max(1, r.threads));
    const torch::Device device = resolve_device(r.device);

    // Every input is checked before any sampling.
    std::vector<data::CitySource> sources;
    for (const auto& token : data::split_dataset(r.dataset)) sources.push_back(data::locate_conditions(r.data_root, token));
    LoadedModel model = load_model(r, device);
    const data::CityScaler templ_value = template_scaler(model, r);
    const data::CityScaler* templ = &templ_value;
    const auto layout = static_layout(model.config);
    std::vector<data::ConditionTiles> cities;
    for (const auto& s : sources) {
        if (!r.force && complete(r, s)) {
            spdlog::info("{}: outputs exist in {}; skipping (--force to redo)", s.city, r.out.string());
            continue;
        }
        cities.push_back(data::load_condition_tiles(s, layout, model.config.poi_channels()));
        const auto& c = cities.back();
        if (c.tile_arrangement == "patches") {
            // Tiles without positions (uomo_import): no map to draw or to place on the earth.
            for (const char* format : {"npz", "geotiff"}) {
                if (wants(r, format)) {
                    throw Error(c.cond_file.string(),
                                fmt::format("{} is a city of patches (tile_arrangement = patches: tiles "
                                            "without coordinates, side by side on a placeholder grid); "
                                            "--format {} needs a real map",
                                            c.city, format),
                                "Use --format h5 (tile-wise results; the placeholder grid is not a map)");
                }
            }
        }
    }
    std::int64_t total = 0;
    for (const auto& c : cities) total += c.tiles;
    MultiScaleDiffusion diffusion(model.net);
    progress.start("sampling", static_cast<std::uint64_t>(total * r.nsample), "tile samples");

    for (const auto& c : cities) {
        const auto started = std::chrono::steady_clock::now();
        const auto n = c.tiles;
        const auto cond_static = torch::from_blob(const_cast<float*>(c.static_cond.data()),
                                                  {n, c.static_channels, 4, 4}, torch::kFloat).to(device);
        const auto cond_poi = torch::from_blob(const_cast<float*>(c.poi.data()), {n, c.poi_channels, 4, 4},
                                               torch::kFloat).to(device);
        GeneratorNoise noise(GeneratorNoise::cpu_generator(city_seed(r.seed, c.city)));
        std::vector<Tensor> finest;
        std::vector<Tensor> ends0;
        std::vector<Tensor> ends1;
        for (std::int64_t start = 0; start < n; start += r.batch_size) {
            const auto b = std::min(r.batch_size, n - start);
            BatchConditions batch{cond_static.narrow(0, start, b), cond_poi.narrow(0, start, b),
                                  torch::arange(168, torch::dtype(torch::kFloat).device(device)).expand({b, 168})};
            const auto out = diffusion.sample(batch, r.nsample, noise);
            // (B, ns, 1, 168, 4, 4) -> (B, ns, 168, 4, 4); segment ends (B, ns, S, 1, 168, 4, 4)
            finest.push_back(out.samples.select(2, 0).to(torch::kCPU));
            ends0.push_back(out.segment_ends.select(2, 0).select(2, 0).to(torch::kCPU));  // (B, ns, 168, 4, 4)
            ends1.push_back(out.segment_ends.select(2, 1).select(2, 0).to(torch::kCPU));
            progress.advance(static_cast<std::uint64_t>(b * r.nsample));
        }
        const auto x500 = torch::cat(finest);
        const auto x2000 = torch::cat(ends0);  // segment 0's end: the 2000 m scale after pooling
        const auto x1000 = torch::cat(ends1);  // segment 1's end: the 1000 m scale
        for (const auto& [scale, values] : {std::pair{"500 m", x500}, std::pair{"segment ends", torch::cat({x2000, x1000})}}) {
            const auto bad = (~torch::isfinite(values)).sum().item<std::int64_t>();
            if (bad > 0) {
                throw Error(model.folder.string(),
                            fmt::format("generated {} non-finite values ({}) for {}", bad, scale, c.city),
                            "The checkpoint is broken or does not fit these conditions (config, condition_layout)");
            }
        }
        const Calibration cal = r.calibration == "template" ? template_calibration(x500, *templ, c.pop_mean)
                                                            : scaler_calibration(*templ, c.pop_mean);

        io::CityMaps maps;
        maps.city = c.city;
        maps.token = c.token;
        maps.datatype = r.datatype;
        maps.units = fmt::format("{} per 500 m cell per hour, in the unit of {}'s training data (cell means at 1000 and 2000 m)",
                                 r.datatype, templ->city);
        if (c.tile_arrangement == "patches") {
            maps.units += "; tile_arrangement = patches: tiles side by side on a placeholder grid, no coordinates";
        }
        maps.epsg = c.grid.epsg;
        maps.nsample = r.nsample;
        maps.calibration = cal.label;
        maps.model_run = fs::absolute(model.folder).lexically_normal().string();
        maps.conditions = c.conditions_500m;

        const auto [lon500, lat500] = reference_edges(c);
        NdArray<std::uint8_t> mask500({static_cast<std::size_t>(4 * c.tile_rows), static_cast<std::size_t>(4 * c.tile_cols)}, 1);
        if (!r.shp_path.empty()) {
            const auto boundary = geo::find_city_boundary(r.shp_path, r.boundary_field, geo::resolve_city_names(c.token));
            mask500 = geo::centre_mask(boundary, lon500, lat500);
        } else if (!c.mask_500m.empty()) {
            mask500 = NdArray<std::uint8_t>(mask500.shape(), c.mask_500m);
        } else {
            spdlog::warn("{}: no --shp_path and no mask in {}: every cell counts as inside the city", c.city,
                         c.cond_file.string());
        }
        const auto rows = static_cast<std::size_t>(c.tile_rows);
        const auto cols = static_cast<std::size_t>(c.tile_cols);
        for (const auto& [name, values, k] : {std::tuple{"2000m", x2000, std::size_t{1}},
                                             std::tuple{"1000m", x1000, std::size_t{2}},
                                             std::tuple{"500m", x500, std::size_t{4}}}) {
            io::ScaleMaps s;
            s.name = name;
            s.cell_size_m = 2000.0 / static_cast<double>(k);
            s.rows = rows * k;
            s.cols = cols * k;
            s.samples = scale_grid(values, c.tile_rows, c.tile_cols, k);
            apply(cal, s.samples);
            s.mean = sample_mean(s.samples);
            s.mask = k == 4 ? mask500 : coarsen_mask(mask500, 4 / k);
            const std::size_t step100 = 20 / k;  // 100 m edges per cell at this scale
            s.x_edges_m = every(c.grid.x_edges_m, step100, s.cols);
            s.y_edges_m = every(c.grid.y_edges_m, step100, s.rows);
            s.lon_edges_deg = every(lon500, 4 / k, s.cols);
            s.lat_edges_deg = every(lat500, 4 / k, s.rows);
            maps.scales.push_back(std::move(s));
        }
        json metrics;
        metrics["cross_scale_500_to_1000"] = cross_scale(maps.scales[2].mean, maps.scales[1].mean, 2);
        metrics["cross_scale_500_to_2000"] = cross_scale(maps.scales[2].mean, maps.scales[0].mean, 4);
        metrics["cross_scale_1000_to_2000"] = cross_scale(maps.scales[1].mean, maps.scales[0].mean, 2);
        metrics["gamma"] = cal.gamma;
        metrics["calibration"] = cal.label;
        {
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
            if (cal.power) {
                metrics["target_mean"] = (templ->pop_mean > 0 ? c.pop_mean / templ->pop_mean : 1.0) * templ->data_mean;
                metrics["target_peak_to_mean"] = templ->data_mean > 0 ? templ->data_max / templ->data_mean : 0.0;
            }
        }
        metrics["tiles"] = n;
        metrics["tile_arrangement"] = c.tile_arrangement;
        metrics["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        maps.metrics_json = metrics.dump();
        spdlog::info("{}: {} tiles x {} samples in {:.1f} s; cross-scale consistency 500->1000 {:.3f}, 500->2000 {:.3f}",
                     c.city, n, r.nsample, metrics["seconds"].get<double>(),
                     metrics["cross_scale_500_to_1000"].get<double>(), metrics["cross_scale_500_to_2000"].get<double>());

        maps.provenance.tool = "zoomdiff_infer";
        maps.provenance.command_line = r.command_line;
        maps.provenance.seed = r.seed;
        maps.provenance.city_en = c.city;
        maps.provenance.city_cn = geo::resolve_city_names(c.token).cn;
        json resolved;
        resolved["config"] = to_yaml(model.config);
        resolved["modelfolder"] = maps.model_run;
        resolved["nsample"] = r.nsample;
        resolved["batch_size"] = r.batch_size;
        resolved["calibration"] = cal.label;
        resolved["device"] = device.str();
        resolved["threads"] = at::get_num_threads();
        resolved["shp_path"] = r.shp_path.string();
        resolved["tile_arrangement"] = c.tile_arrangement;
        maps.provenance.resolved_config_json = resolved.dump();

        const auto paths = output_paths(r, data::CitySource{c.token, c.city, {}, c.cond_file});
        fs::create_directories(r.out);
        if (wants(r, "h5")) io::write_results_h5(paths.h5, maps);
        if (wants(r, "npz")) io::write_reference_npz(paths.npz, maps);
        if (wants(r, "geotiff")) {
            fs::create_directories(paths.maps);
            io::write_geotiffs(paths.maps, maps);
            io::write_quicklooks(paths.maps, maps);
        }
    }
    progress.finish();
}

}  // namespace zoomdiff::model
