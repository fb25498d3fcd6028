#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace zoomdiff::geo {

/// The reference's two point-binning rules along one axis (PIPELINE §1.6), one definition each.
/// `edges` are the N + 1 increasing cell edges; the result is a cell index 0..N−1, or nullopt for
/// a value the rule drops (NaN always).

/// POI rule (degree edges; POIs, stations): kept if edges[0] ≤ v ≤ edges[N];
/// cell = (#edges ≤ v) − 1, and v == edges[N] goes into the last cell.
std::optional<std::size_t> closed_bin(const std::vector<double>& edges, double v);

/// OSM count rule (metre edges): cell = (#edges ≤ v) − 1, kept only if 0 ≤ cell < N, so a value
/// on the far (east / north) edge is dropped.
std::optional<std::size_t> half_open_bin(const std::vector<double>& edges, double v);

}  // namespace zoomdiff::geo
