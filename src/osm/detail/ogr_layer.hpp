#pragma once

#include <cstdint>
#include <filesystem>

#include "osm/detail/cell_accumulator.hpp"
#include "osm/detail/layer_rules.hpp"
#include <gdal_priv.h>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"

namespace zoomdiff::osm::detail {

/// Where one layer's features go: a count array (kind kCount) or a length / area array.
struct LayerSink {
    TargetKind kind = TargetKind::kCount;
    NdArray<std::int32_t>* counts = nullptr;
    NdArray<double>* values = nullptr;
};

/// Throws zoomdiff::Error naming `layer_path` if no such file exists (VSI-aware, so /vsimem/
/// works).
void require_layer_file(const std::filesystem::path& layer_path);

/// Opens a Geofabrik shapefile layer (UTF-8 attributes) read-only; throws zoomdiff::Error naming
/// the file when it is missing or not a vector layer. The layer is dataset->GetLayer(0).
GDALDatasetUniquePtr open_geofabrik_layer(const std::filesystem::path& layer_path);

/// Reads one OGR layer into `sink` through `accumulator` (see osm/layer_stats.hpp for the rules).
void accumulate_ogr_layer(const std::filesystem::path& layer_path, const geo::CityGrid& grid,
                          CellAccumulator& accumulator, const LayerSink& sink,
                          core::Progress& progress);

}  // namespace zoomdiff::osm::detail
