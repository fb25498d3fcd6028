#include "zoomdiff/geo/binning.hpp"

#include <algorithm>

namespace zoomdiff::geo {
namespace {

/// (#edges ≤ v): 0 below the first edge, N + 1 at or past the last.
std::size_t edges_at_or_below(const std::vector<double>& edges, double v) {
    return static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), v) -
                                    edges.begin());
}

}  // namespace

std::optional<std::size_t> closed_bin(const std::vector<double>& edges, double v) {
    if (!(v >= edges.front() && v <= edges.back())) {
        return std::nullopt;
    }
    return std::min(edges_at_or_below(edges, v) - 1, edges.size() - 2);
}

std::optional<std::size_t> half_open_bin(const std::vector<double>& edges, double v) {
    if (!(v >= edges.front() && v < edges.back())) {
        return std::nullopt;
    }
    return edges_at_or_below(edges, v) - 1;
}

}  // namespace zoomdiff::geo
