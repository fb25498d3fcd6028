#pragma once

#include <array>
#include <filesystem>

#include "osm/detail/cell_accumulator.hpp"
#include "osm/detail/layer_rules.hpp"
#include "osm/detail/ogr_layer.hpp"

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"

namespace zoomdiff::osm::detail {

/// Streams an .osm.pbf (or any format libosmium reads) into one sink per target, following
/// `rules.pbf`: node rules count points, way rules add line length, area rules (closed ways and
/// multipolygon relations, assembled by libosmium) count centroids or add polygon area, by the
/// target's kind. Coordinates are projected to the grid's UTM CRS before accumulating. Objects
/// whose envelope misses the grid (degree box with a margin) are skipped. Throws zoomdiff::Error
/// naming the file if it cannot be read.
void accumulate_pbf(const std::filesystem::path& pbf_path, const geo::CityGrid& grid,
                    const LayerRules& rules, CellAccumulator& accumulator,
                    const std::array<LayerSink, kTargetCount>& sinks, core::Progress& progress);

}  // namespace zoomdiff::osm::detail
