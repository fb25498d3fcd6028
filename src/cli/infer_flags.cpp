#include "zoomdiff/cli/infer_flags.hpp"

#include "zoomdiff/cli/common.hpp"
#include "zoomdiff/model/config.hpp"

namespace zoomdiff::cli {

namespace {

/// The cities, the model and the size of the run.
void add_input_flags(CLI::App& app, model::InferOptions& request) {
    app.add_option("--dataset", request.dataset, "Cities separated by '*', English or Chinese")
        ->required();
    app.add_option("--datatype", request.datatype, "traffic or user")
        ->check(CLI::IsMember({"traffic", "user"}))
        ->capture_default_str();
    app.add_option("--device", request.device, "cpu, cuda or cuda:N")->capture_default_str();
    app.add_option(
        "--config", request.config,
        "Model config; default the run folder's config.yaml (a reference run's config.json)");
    app.add_option(
           "--modelfolder", request.modelfolder,
           "Run folder of zoomdiff_train (model.pt), or a reference one (model.pth + config.json)")
        ->required();
    app.add_option("--data_root", request.data_root, "Folder of <City>/cond/<City>_cond.h5")
        ->capture_default_str();
    app.add_option("--out", request.out, "Output folder")->capture_default_str();
    app.add_option("--nsample", request.nsample, "Samples per tile (all kept)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{100000}))
        ->capture_default_str();
    app.add_option("--batch_size", request.batch_size,
                   "Tiles per sampling batch; distributed, also the block of tiles one shard holds")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20))
        ->capture_default_str();
}

/// How the samples are drawn (each default: the model's config), and distributed waiting.
void add_sampler_flags(CLI::App& app, model::InferOptions& request) {
    app.add_option(
           "--noise", request.noise,
           "per_tile (each tile draws from a generator keyed by seed, city and tile: the same "
           "samples "
           "whatever the batch or rank) or reference (one stream per city in batch order, the "
           "reference's; one process only)")
        ->check(CLI::IsMember({"per_tile", "reference"}))
        ->capture_default_str();
    app.add_option(
           "--segment_start", request.segment_start,
           "coarse (each segment after the first starts from the coarser result at its top noise "
           "level) or noise (fresh noise, the reference's sampler); default: the model's config "
           "(sampler.segment_start)")
        ->check(CLI::IsMember({"coarse", "noise"}));
    app.add_option("--clip_x0", request.clip_x0,
                   "true: at every step clamp the implied clean series to the training data's "
                   "range and step "
                   "to the posterior mean from it; false: the reference's update; default: the "
                   "model's config "
                   "(sampler.clip_x0)")
        ->check(CLI::IsMember({"true", "false"}));
    app.add_option(
           "--steps_per_segment", request.steps_per_segment,
           "Respaced sampling: visit N evenly spaced steps of each segment (always its top and "
           "last "
           "steps) instead of every step; 0: every step (the reference's); default: the model's "
           "config "
           "(sampler.steps_per_segment). Network calls fall from T to 3N. Recommended: half a "
           "segment's steps (10 of 20 at sample.yaml/uomo.yaml), measured inside full sampling's "
           "seed-to-seed band on every metric; "
           "docs/sampling.md")
        ->check(CLI::Range(0, 1 << 20));
    app.add_option("--sampler", request.sampler,
                   "ddpm (ancestral steps, the reference's) or ddim (deterministic at --eta 0; "
                   "measured rougher "
                   "series at the small configs, docs/sampling.md); default: the model's config "
                   "(sampler.method)")
        ->check(CLI::IsMember({"ddpm", "ddim"}));
    app.add_option("--eta", request.eta,
                   "DDIM's share of the ancestral noise, in [0, 1] (0: deterministic); default: "
                   "the model's "
                   "config (sampler.eta, 0)")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--guidance", request.guidance,
                   "Classifier-free guidance weight w in [0, 10]: each step calls the network "
                   "with and without the conditions and takes e(c) + w*(e(c) - e(null)), twice "
                   "the calls; needs a model trained with train.cond_dropout > 0; default: the "
                   "model's config (sampler.guidance, 0)")
        ->check(CLI::Range(0.0, zoomdiff::model::kMaxGuidance));
    app.add_option("--dist_timeout", request.dist_timeout_s,
                   "Distributed: seconds a rank waits for the others (rendezvous, each meeting) "
                   "before it stops "
                   "with an error")
        ->check(CLI::Range(1, 7 * 24 * 3600))
        ->capture_default_str();
}

/// What is written: mask, formats, calibration; the reference's unused flags; the footer.
void add_output_flags(CLI::App& app, model::InferOptions& request) {
    app.add_option("--shp_path", request.shp_path,
                   "Boundary polygons for the city mask; default: the condition file's mask");
    app.add_option("--boundary_field", request.boundary_field,
                   "Field of --shp_path with city names")
        ->capture_default_str();
    app.add_option(
           "--format", request.formats,
           "h5, npz (the reference's 500 m file), geotiff (+ PNG quicklooks); a city of patches "
           "(uomo_import, no coordinates) takes h5 only")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->delimiter(',')
        ->transform(one_of(model::kOutputFormats, model::format_name))
        ->default_str("h5");
    app.add_flag("--geotiff_samples", request.geotiff_samples,
                 "With --format geotiff: also one GeoTIFF per sample "
                 "(maps/<City>_<datatype>_<scale>_sample<kkk>.tif), not only the sample mean");
    app.add_option("--calibration", request.calibration,
                   "template (the reference's: template mean x population ratio, peak-to-mean of "
                   "the sample mean "
                   "matched), template_each (ours: each sample's peak-to-mean matched on average; "
                   "the same with "
                   "one sample), template_spatial (ours: the same targets reached by a power on "
                   "each cell's weekly "
                   "mean alone, so every cell keeps its daily shape), template_quantile (ours: "
                   "each cell's weekly mean moved to the template's distribution of cell means at "
                   "its rank, each cell keeping its daily shape; runs trained before it lack the "
                   "quantiles) or none (the training scaler)")
        ->transform(one_of(model::kCalibrationKinds, model::calibration_name))
        ->default_str(model::calibration_name(request.calibration));
    app.add_option("--template", request.template_city,
                   "Template: a city the model was trained on (default its first) or a reference "
                   "template .npz");
    app.add_flag("--force", request.force, "Redo cities whose outputs exist");
    app.add_option("--nfold", "Accepted for the reference's scripts; unused")->group("");
    app.add_flag("--unconditional", "Accepted for the reference's scripts; unused")->group("");
    app.footer(
        "Example:\n"
        "  zoomdiff_infer --dataset Nanchang --datatype traffic --data_root out/sample \\\n"
        "    --modelfolder out/sample/runs/Nanchang_traffic --nsample 2 --format h5,npz,geotiff "
        "--out out/sample/results\n"
        "Distributed: one process per rank with torchrun's RANK, WORLD_SIZE, MASTER_ADDR and "
        "MASTER_PORT;\n"
        "  blocks of --batch_size tiles are shared out, each written as a shard under <out>/shards "
        "(reused\n"
        "  when a run is started again), and rank 0 writes every city: --out must be on a "
        "filesystem every\n"
        "  rank sees. The outputs equal a single process's with the same --seed, --batch_size and "
        "--threads.\n"
        "Exit codes: 0 ok, 2 bad input or usage, 1 internal error.");
}

}  // namespace

void add_infer_flags(CLI::App& app, model::InferOptions& request) {
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.description(
        "Generate a week of traffic (or users) for every 2000 m tile of one or more cities from\n"
        "their condition files (env_extra) with a trained ZoomDiff, at 2000, 1000 and 500 m.");
    add_input_flags(app, request);
    add_sampler_flags(app, request);
    add_output_flags(app, request);
}

}  // namespace zoomdiff::cli
