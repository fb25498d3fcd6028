#pragma once

// zoomdiff_infer's job, torch-free so the flag layer can fill it (reference/MODEL.md §5, README
// "zoomdiff_infer"): multi-scale maps of every tile of any city with a condition file.
//
// Sharded inference (DESIGN §6): with world.world_size > 1 (torchrun's RANK / WORLD_SIZE /
// MASTER_ADDR / MASTER_PORT, one process per rank) the work is the list of blocks of
// `batch_size` consecutive tiles of every city still to do, blocks aligned at tile 0 of each city
// (so each block is exactly a batch a single process would sample). Rank 0 decides which cities
// are complete and which blocks already have a shard, for every rank, before anyone writes; the
// remaining blocks are shared out in contiguous balanced runs. Each rank writes one shard per
// block, atomically, to
//     <out>/shards/<City>_<datatype>/tiles_<first>_<end>-<id>.pt
// (tiles first .. end-1; <id>: 16 hex digits of a hash of what makes the shard: city, tile range,
// seed, nsample, noise, model folder and weights, config, threads, device), so a rerun reuses a
// matching shard (interrupted work resumes) and ignores a stale one. Then rank 0 assembles each
// city in tile order, calibrates and writes it exactly as a single process does, and deletes the
// city's shards. With the same seed, nsample, batch_size, threads and device the outputs equal a
// single-process run's bit for bit. `out` must be on a filesystem every rank sees.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/core/world.hpp"

namespace zoomdiff::model {

/// --calibration: how generated values reach physical units (MODEL.md §5.5;
/// docs/zoomdiff_infer.md).
enum class CalibrationKind { kTemplate, kTemplateEach, kTemplateSpatial, kTemplateQuantile, kNone };
inline constexpr CalibrationKind kCalibrationKinds[] = {
    CalibrationKind::kTemplate, CalibrationKind::kTemplateEach, CalibrationKind::kTemplateSpatial,
    CalibrationKind::kTemplateQuantile, CalibrationKind::kNone};
/// The flag's value of each ("template_spatial"), as request records and logs name it.
[[nodiscard]] const char* calibration_name(CalibrationKind kind);

/// --format: the files written per city.
enum class OutputFormat { kH5, kNpz, kGeoTiff };
inline constexpr OutputFormat kOutputFormats[] = {OutputFormat::kH5, OutputFormat::kNpz,
                                                  OutputFormat::kGeoTiff};
/// The flag's value of each ("h5", "npz", "geotiff").
[[nodiscard]] const char* format_name(OutputFormat format);

struct InferOptions {
    std::string dataset;  ///< "X*Y", Chinese or English names
    std::string datatype = "traffic";
    std::string device = "cpu";  ///< distributed, a bare "cuda" means cuda:LOCAL_RANK
    std::filesystem::path
        config;  ///< empty: the run folder's config.yaml (config.json for a reference run)
    std::filesystem::path data_root = "datasets/cities";  ///< <root>/<City>/cond/<City>_cond.h5
    std::filesystem::path
        modelfolder;  ///< our run folder, or a reference one (model.pth + config.json)
    std::filesystem::path out = "results";  ///< output folder (distributed: seen by every rank)
    std::filesystem::path
        shp_path;  ///< boundary polygons for the mask; empty: the condition file's mask
    std::string boundary_field = "地名";
    std::uint64_t seed = 1;
    int threads = 1;
    std::int64_t nsample = 1;
    std::int64_t batch_size = 16;  ///< tiles per sampling batch (and per shard)
    /// `per_tile` (default): tile t of city C draws from a generator keyed by
    /// (seed, FNV-1a hash of C's English name, t) and the sample index, so its samples do not
    /// depend on the other tiles of its batch, the other cities or the rank; `reference`: one
    /// stream per city in batch order (the reference's draw order; a single process only).
    std::string noise = "per_tile";
    /// `coarse` | `noise` (config key sampler.segment_start); empty: the model's config.
    std::string segment_start;
    /// `true` | `false` (config key sampler.clip_x0); empty: the model's config.
    std::string clip_x0;
    /// Steps visited per segment (config key sampler.steps_per_segment; 0: every step); -1: the
    /// model's config.
    int steps_per_segment = -1;
    /// `ddpm` | `ddim` (config key sampler.method); empty: the model's config.
    std::string sampler;
    /// DDIM's eta in [0, 1] (config key sampler.eta); negative: the model's config.
    double eta = -1.0;
    /// Classifier-free guidance weight (config key sampler.guidance); negative: the model's config.
    double guidance = -1.0;
    std::vector<OutputFormat> formats{OutputFormat::kH5};  ///< geotiff adds PNG quicklooks
    bool geotiff_samples = false;  ///< with geotiff: one GeoTIFF per sample too
    CalibrationKind calibration = CalibrationKind::kTemplate;
    std::string template_city;  ///< a city of the run's scalers.json (default: its first)
    bool force = false;         ///< redo cities whose outputs exist
    /// Where this process stands in a distributed run (torchrun's variables; the tool reads them).
    core::World world;
    int dist_timeout_s = 300;  ///< rendezvous and collective timeout (seconds)
    std::string command_line;
};

/// Generate, calibrate and write every listed city (README "zoomdiff_infer"). Cities whose
/// outputs all exist are skipped unless `force`. Bad input throws zoomdiff::Error before any
/// sampling (distributed: on every rank, the others naming the step that failed); outputs are
/// written atomically, by rank 0 only. A failure of the process group (a rank that stopped, a
/// timeout of `dist_timeout_s`) throws zoomdiff::Error naming this rank.
void run_inference(const InferOptions& request, core::Progress& progress);

}  // namespace zoomdiff::model
