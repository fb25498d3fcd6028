#pragma once

// The distribution of the cells' weekly means at each output scale: what --calibration
// template_quantile maps a generated map's cell levels onto (quantile mapping, as statistical
// downscaling corrects a model's marginal distribution; here only the level of each cell, so its
// hourly shape stays the model's).

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace zoomdiff::data {

/// The output scales, finest first, and the 500 m cells per side of one of their cells.
inline constexpr std::array<const char*, 3> kLevelScaleNames{"500m", "1000m", "2000m"};
inline constexpr std::array<std::size_t, 3> kLevelScaleBlocks{1, 2, 4};

/// Quantiles of the cells' weekly means (raw data units) at probability levels 0, 1/100, ...,
/// 1 (numpy's linear method), per scale. A 1000 or 2000 m cell's level is the mean of its
/// 500 m cells' levels; a cell with a non-finite hour (or a child with one) is left out.
struct CellLevelQuantiles {
    static constexpr std::size_t kLevels = 101;
    std::array<std::vector<double>, 3> by_scale;  ///< kLevelScaleNames order; empty: unknown

    /// Every scale has its kLevels quantiles.
    [[nodiscard]] bool complete() const;
};

/// From 2000 m tiles of 4 x 4 cells x 168 hours, (n_tiles, 4, 4, 168) row-major. A scale with
/// no finite cell stays empty.
CellLevelQuantiles cell_level_quantiles(const float* tiles, std::size_t n_tiles);

/// The quantile function at probability p in [0, 1]: linear between the stored levels.
double quantile_at(const std::vector<double>& quantiles, double p);

/// The mid-rank probability of each value among `reference` (those counted): (number below +
/// half the number equal) / count, so n distinct values get (rank + 1/2) / n. Values need not
/// be in `reference` (a cell outside the city gets the probability its level would have).
std::vector<double> mid_rank_probabilities(const std::vector<double>& values,
                                           std::vector<double> reference);

}  // namespace zoomdiff::data
