#pragma once

#include <cstdint>
#include <filesystem>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"

namespace zoomdiff::osm {

/// Per-cell statistics of one vector layer (normally a Geofabrik `gis_osm_*_free_1.shp`, but any
/// single-layer file OGR reads, `/vsimem/` paths included), on the metre edges of `grid`
/// (PIPELINE §3.4). All results are (grid.rows(), grid.cols()), rows from the south.
///
/// Reading: the layer is read with OGR (attributes ignored), given EPSG:4326 if it has no CRS,
/// and transformed to the grid's UTM CRS (EPSG grid.epsg, x/y axis order). Features whose
/// envelope cannot meet the grid are skipped before the transform; this never changes a result,
/// because a centroid lies inside its geometry's envelope and a geometry that misses the grid
/// has no length or area in it. Null and empty geometries are skipped.
///
/// Throws zoomdiff::Error (exit code 2) naming the file when it does not exist or cannot be
/// opened, or when its CRS cannot be transformed to the grid's. An empty layer gives zeros and a
/// warning.

/// Counts features by centroid: a point as is, any other geometry at its GEOS centroid computed
/// in UTM (area-weighted; it may fall outside a concave or multi-part shape). Cell rule:
/// index = (#edges ≤ coordinate) − 1, kept only if 0 ≤ index < N, so a centroid exactly on the
/// grid's east or north edge is dropped, one on an inner edge goes to the east / north cell.
NdArray<std::int32_t> count_layer_centroids(const std::filesystem::path& layer_path,
                                            const geo::CityGrid& grid, core::Progress& progress);

/// Length in metres of the layer's lines inside each closed cell square: a segment lying exactly
/// on a cell edge counts in both neighbouring cells (the reference's rule). Polygons contribute
/// nothing useful here; pass line layers.
NdArray<double> layer_length_per_cell_m(const std::filesystem::path& layer_path,
                                        const geo::CityGrid& grid, core::Progress& progress);

/// Area in m² of the layer's polygons inside each cell. A polygon GEOS cannot intersect is
/// repaired with GEOSMakeValid and counted in a warning (the reference aborts instead).
NdArray<double> layer_area_per_cell_m2(const std::filesystem::path& layer_path,
                                       const geo::CityGrid& grid, core::Progress& progress);

}  // namespace zoomdiff::osm
