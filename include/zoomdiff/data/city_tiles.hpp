#pragma once

// Training tiles of one city (reference/MODEL.md §4.1–4.3): the 2000 m tiles of grid_meta's data
// file and env_extra's condition file, filtered, clipped and pre-pooled as the reference does.
// Torch-free: the model area turns these buffers into tensors.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "zoomdiff/core/week.hpp"
#include "zoomdiff/data/level_quantiles.hpp"

namespace zoomdiff::data {

inline constexpr auto kHours =
    static_cast<std::int64_t>(core::kHoursPerWeek);  ///< hours of a sample (one week)
inline constexpr std::int64_t kPoiChannels =
    21;  ///< fixed POI schema (configs/poi_categories.yaml)

/// Which static conditions a city's tiles carry (the model config's `condition_layout`).
enum class StaticLayout {
    kReference,  ///< [pop_2000m, pop_2000m, roadlen_2000m, water_area_2000m] (D-7: pop twice)
    kCorrected,  ///< [/2000m/population, building_count, road_length_m, waterway_length_m,
                 ///< water_area_m2]
    /// No static condition: only /2000m/poi_count with TileOptions::poi_channels categories (any
    /// count, checked against the config). No static key is read, and no population either:
    /// TemplateStats::pop_mean and ConditionTiles::pop_mean are 0, which makes calibration's
    /// population ratio 1 (the generated city gets the template's mean). For cities without a
    /// map, e.g. UoMo's patches (uomo_import).
    kPoiOnly,
};

[[nodiscard]] std::int64_t static_channels(StaticLayout layout);

/// One `--dataset` entry and the two files it names.
struct CitySource {
    std::string token;                ///< as typed on the command line (Chinese or English)
    std::string city;                 ///< English directory name (configs/cities.yaml)
    std::filesystem::path data_file;  ///< <root>/<City>/data/<City>_<datatype>_data.h5
    std::filesystem::path cond_file;  ///< <root>/<City>/cond/<City>_cond.h5
};

/// Split "A*B*C" into its tokens. Empty tokens and repeated cities (after name resolution) throw
/// zoomdiff::Error naming --dataset.
std::vector<std::string> split_dataset(const std::string& dataset);

/// Resolve a token to its English name and files. A missing data or condition file throws
/// zoomdiff::Error naming the expected path and the command that writes it (grid_meta /
/// env_extra); an unknown city (in neither the city table nor on disk) says so.
CitySource locate_city(const std::filesystem::path& data_root, const std::string& token,
                       const std::string& datatype);

struct TileOptions {
    StaticLayout layout = StaticLayout::kCorrected;
    int spatial_scale_coarse = 3;  ///< pre-pooling: 2^(coarse-1) cells per tile side (4: identity)
    /// POI categories the files must hold (the config's model.poi_channels): 21 for the reference
    /// and corrected layouts; any positive count for poi_only.
    std::int64_t poi_channels = kPoiChannels;

    /// The reference drops the last tile of every city (D-9); ours only under the reference layout.
    [[nodiscard]] bool drop_last_tile() const { return layout == StaticLayout::kReference; }
};

/// What calibration against a template city needs (MODEL.md §5.5), over every tile of the files
/// before any filter or clip: zoomdiff_infer reads them from the run folder, so no separate
/// template file is needed.
struct TemplateStats {
    double data_mean = 0.0;          ///< mean of data_2000m (finite values)
    double data_max = 0.0;           ///< max of data_2000m
    double pop_mean = 0.0;           ///< mean of pop_2000m (0 under poi_only: no population read)
    std::int64_t values = 0;         ///< finite data values counted
    CellLevelQuantiles cell_levels;  ///< the cells' weekly means per scale (template_quantile)
};

/// Split labels of /split_2000m (uomo_import writes them: upstream train, val, test).
inline constexpr std::int8_t kSplitTrain = 0;
inline constexpr std::int8_t kSplitValid = 1;
inline constexpr std::int8_t kSplitTest = 2;

/// One city's tiles after §4.2–4.3, float32, row-major, tiles in the file's order (R, C).
struct CityTiles {
    std::string token;
    std::string city;
    std::int64_t tiles = 0;                    ///< N, kept tiles
    std::int64_t side = 4;                     ///< H = W after pre-pooling
    std::int64_t static_channels = 5;          ///< 4 (reference), 5 (corrected) or 0 (poi_only)
    std::int64_t poi_channels = kPoiChannels;  ///< P: 21, or poi_only's count
    std::vector<float> series;                 ///< (N, 1, 168, H, W), unscaled (clipped) values
    std::vector<float> static_cond;            ///< (N, static_channels, H, W), raw quantities
    std::vector<float> poi;                    ///< (N, P, H, W), counts
    std::vector<float> loc;                    ///< (N, 4): lat_min, lat_max, lon_min, lon_max
    std::vector<std::int64_t> tile_id;         ///< N: flat index R_idx * C + C_idx in the files
    /// N split labels of the kept tiles from the data file's /split_2000m ((R, C) integers:
    /// kSplitTrain, kSplitValid, kSplitTest), empty when the file has none.
    std::vector<std::int8_t> split_label;
    std::int64_t tile_rows = 0;          ///< R of the files
    std::int64_t tile_cols = 0;          ///< C of the files
    std::int64_t removed_constant = 0;   ///< tiles whose 16 series all have float32 variance 0
    std::int64_t removed_nonfinite = 0;  ///< tiles with a NaN / inf in data or static conditions
    bool last_dropped = false;           ///< D-9 applied
    float clip_first = 0.0F;             ///< P99 of the filtered data (first clip, to [0, P99])
    float clip_second = 0.0F;            ///< P99 of the clipped data (second clip, upper only)
    TemplateStats template_stats;        ///< raw statistics of the whole files
};

/// Read both files and apply §4.2–4.3: constant filter, finite filter, clip to [0, P99], last-tile
/// drop (reference layout), pre-pooling, second clip. Files on different grids (different
/// /grid edges or 2000 m tile counts), wrong shapes, a POI axis other than options.poi_channels,
/// a /split_2000m that is not (R, C) of 0 / 1 / 2, or a city with no tile left throw
/// zoomdiff::Error naming the file.
CityTiles load_city_tiles(const CitySource& source, const TileOptions& options);

/// numpy's percentile with the "linear" method on float32 values (MODEL.md §4.2 step 5), as
/// float64. `values` is taken by value because it is partially sorted.
double percentile_linear(std::vector<float> values, double q);

}  // namespace zoomdiff::data
