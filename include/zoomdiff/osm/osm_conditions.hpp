#pragma once

#include <cstdint>
#include <filesystem>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"

namespace zoomdiff::osm {

/// The OSM condition arrays of one city. All are (grid.rows(), grid.cols()) on the 100 m metre
/// grid, rows from the south, columns from the west (DESIGN §3).
struct OsmConditions {
    /// Buildings counted at their centroid (half-open cell rule, see layer_stats.hpp).
    NdArray<std::int32_t> building_count;
    /// Length of roads per cell, metres (roads only).
    NdArray<double> road_length_m;
    /// Length of waterways per cell, metres. The reference adds them to the road length; the
    /// env_extra orchestrator does that for the reference layout, this array keeps them apart.
    NdArray<double> waterway_length_m;
    /// Area of water polygons per cell, m².
    NdArray<double> water_area_m2;
    /// Natural points plus natural polygons at their centroid.
    NdArray<std::int32_t> natural_count;
    /// Points of the OSM pois layer.
    NdArray<std::int32_t> osm_poi_count;
};

/// Computes every OsmConditions array from `source`, with the rules of PIPELINE §3.4 (counts by
/// centroid, exact line lengths and polygon areas per closed cell square; see layer_stats.hpp).
///
/// `source` is either
/// * a folder of Geofabrik "free" shapefiles: the layers named in configs/osm_layers.yaml
///   (`shapefile_layers`: buildings_a, roads, waterways, water_a, natural + natural_a, pois) must
///   all exist; each is read whole and prefiltered to the grid, as for layer_stats.hpp; or
/// * an `.osm.pbf` file, streamed with libosmium (two passes: multipolygon relations, then
///   nodes / ways / relations with an in-memory node-location index). Layers are re-derived from
///   tags by `pbf_rules` of configs/osm_layers.yaml, an approximation of Geofabrik's classes.
///   Memory grows with the node index and the grid, not with the number of features.
///
/// Throws zoomdiff::Error (exit code 2) when `source` is neither, when a folder holds no
/// gis_osm_*.shp at all or lacks one of the needed layers (naming it), when a layer's CRS cannot
/// be transformed, or when the .osm.pbf cannot be read. An empty layer gives zeros and a warning;
/// polygons GEOS cannot clip are repaired (warning) instead of aborting the run as the reference
/// does.
OsmConditions compute_osm_conditions(const std::filesystem::path& source, const geo::CityGrid& grid,
                                     core::Progress& progress);

}  // namespace zoomdiff::osm
