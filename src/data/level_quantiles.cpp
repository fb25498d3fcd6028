#include "zoomdiff/data/level_quantiles.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "zoomdiff/core/week.hpp"

namespace zoomdiff::data {
namespace {

constexpr std::size_t kSide = 4;
constexpr std::size_t kHours = core::kHoursPerWeek;

/// numpy.quantile(sorted, level) with the linear method, on sorted values.
double linear_quantile(const std::vector<double>& sorted, double level) {
    const double h = static_cast<double>(sorted.size() - 1) * level;
    const auto lo = static_cast<std::size_t>(std::floor(h));
    if (lo + 1 >= sorted.size())
        return sorted.back();
    return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (h - static_cast<double>(lo));
}

}  // namespace

bool CellLevelQuantiles::complete() const {
    return std::all_of(by_scale.begin(), by_scale.end(),
                       [](const std::vector<double>& q) { return q.size() == kLevels; });
}

CellLevelQuantiles cell_level_quantiles(const float* tiles, std::size_t n_tiles) {
    // Each 500 m cell's weekly mean, NaN when an hour is not finite.
    std::vector<double> level(n_tiles * kSide * kSide);
    for (std::size_t c = 0; c < level.size(); ++c) {
        double sum = 0.0;
        for (std::size_t h = 0; h < kHours; ++h)
            sum += static_cast<double>(tiles[c * kHours + h]);
        level[c] = sum / static_cast<double>(kHours);  // NaN or inf propagates
    }
    CellLevelQuantiles out;
    for (std::size_t s = 0; s < kLevelScaleBlocks.size(); ++s) {
        const std::size_t b = kLevelScaleBlocks[s];
        std::vector<double> cells;
        for (std::size_t t = 0; t < n_tiles; ++t) {
            for (std::size_t i = 0; i < kSide; i += b) {
                for (std::size_t j = 0; j < kSide; j += b) {
                    double sum = 0.0;
                    for (std::size_t a = i; a < i + b; ++a)
                        for (std::size_t d = j; d < j + b; ++d)
                            sum += level[(t * kSide + a) * kSide + d];
                    if (std::isfinite(sum))
                        cells.push_back(sum / static_cast<double>(b * b));
                }
            }
        }
        if (cells.empty())
            continue;
        std::sort(cells.begin(), cells.end());
        auto& q = out.by_scale[s];
        for (std::size_t k = 0; k < CellLevelQuantiles::kLevels; ++k) {
            q.push_back(linear_quantile(
                cells,
                static_cast<double>(k) / static_cast<double>(CellLevelQuantiles::kLevels - 1)));
        }
    }
    return out;
}

double quantile_at(const std::vector<double>& quantiles, double p) {
    if (quantiles.empty())
        throw std::invalid_argument("quantile_at: no quantiles");
    return linear_quantile(quantiles, std::clamp(p, 0.0, 1.0));
}

std::vector<double> mid_rank_probabilities(const std::vector<double>& values,
                                           std::vector<double> reference) {
    if (reference.empty())
        throw std::invalid_argument("mid_rank_probabilities: no reference values");
    std::sort(reference.begin(), reference.end());
    const auto n = static_cast<double>(reference.size());
    std::vector<double> out;
    out.reserve(values.size());
    for (const double v : values) {
        const auto below = std::lower_bound(reference.begin(), reference.end(), v);
        const auto upto = std::upper_bound(below, reference.end(), v);
        out.push_back((static_cast<double>(below - reference.begin()) +
                       0.5 * static_cast<double>(upto - below)) /
                      n);
    }
    return out;
}

}  // namespace zoomdiff::data
