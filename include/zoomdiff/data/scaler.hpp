#pragma once

// Per-city MinMax scaling to [0, 1] (MODEL.md §4.5) with scikit-learn's float32 arithmetic, and
// the readable scalers.json of a run folder.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "zoomdiff/data/level_quantiles.hpp"

namespace zoomdiff::data {

struct MinMaxScaler {
    float data_min = 0.0F;
    float data_max = 1.0F;
    float scale = 1.0F;   ///< fl32(1 / (max - min)); 1 for a zero range
    float offset = 0.0F;  ///< fl32(0 - min * scale)
    std::int64_t n_samples_seen = 0;

    /// Fit on every value (float32 min / max).
    static MinMaxScaler fit(const float* values, std::size_t count);
    /// x <- x * scale, then x <- x + offset (float32, in place).
    void transform(float* values, std::size_t count) const;
    /// x <- x - offset, then x <- x / scale (float32, in place).
    void inverse(float* values, std::size_t count) const;
};

/// One city's entry in scalers.json.
struct CityScaler {
    std::string city;   ///< English name
    std::string token;  ///< as typed in --dataset
    MinMaxScaler scaler;
    float clip_bound = 0.0F;  ///< the second P99 bound (what the scaler's max normally is)
    std::int64_t tiles = 0;
    double data_mean = 0.0;          ///< template statistics (TemplateStats): raw data mean,
    double data_max = 0.0;           ///< raw data max
    double pop_mean = 0.0;           ///< and population mean of the city's files
    CellLevelQuantiles cell_levels;  ///< and its cells' weekly means per scale (empty in runs
                                     ///< written before template_quantile existed)
};

/// scalers.json: {"format": "zoomdiff-scalers/1", "datatype": ..., "feature_range": [0, 1],
/// "cities": [{"city", "token", "data_min", "data_max", "scale", "offset", "n_samples_seen",
/// "clip_bound", "tiles", "template": {"data_mean", "data_max", "pop_mean", optional
/// "cell_mean_quantiles": {"500m": [101], "1000m": [101], "2000m": [101]}}}, ...]}. Floats are
/// written with enough digits to round-trip float32.
std::string scalers_to_json(const std::string& datatype, const std::vector<CityScaler>& scalers);
/// Parse scalers.json; errors name `source` and the key.
std::vector<CityScaler> scalers_from_json(const std::string& text, const std::string& source,
                                          std::string* datatype = nullptr);
/// Read a scalers.json file (errors name the file).
std::vector<CityScaler> read_scalers(const std::filesystem::path& path,
                                     std::string* datatype = nullptr);

}  // namespace zoomdiff::data
