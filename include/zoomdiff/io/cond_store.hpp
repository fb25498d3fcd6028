#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::io {

/// The true condition quantities of one city on its 100 m grid, each (rows, cols) with rows from
/// the south (poi_count: (rows, cols, K) in the fixed schema order).
struct CityConditions {
    geo::CityGrid grid;
    NdArray<float> population;                       ///< people per cell (reference window rule)
    NdArray<std::int32_t> building_count;            ///< OSM buildings by centroid
    NdArray<double> road_length_m;                   ///< OSM roads only
    NdArray<double> waterway_length_m;               ///< OSM waterways only
    NdArray<double> water_area_m2;                   ///< OSM water polygons
    NdArray<std::int32_t> natural_count;             ///< OSM natural points + polygons by centroid
    NdArray<std::int32_t> osm_poi_count;             ///< OSM pois layer
    NdArray<std::int32_t> poi_count;                 ///< POI table counts per category
    std::vector<std::string> poi_categories;         ///< K names (Chinese), schema order
    std::vector<std::uint8_t> poi_category_present;  ///< K flags: rows of it were in the input
    NdArray<std::uint8_t>
        mask_100m;  ///< (rows, cols): 1 where the cell centre is in the city polygon
    NdArray<std::uint8_t> mask_500m;  ///< (rows/5, cols/5), same rule on 500 m centres
};

/// Provenance written as root attributes of every output (DESIGN §3).
struct Provenance {
    std::string tool;
    std::string command_line;
    std::uint64_t seed = 0;
    std::string city_en;
    std::string city_cn;
    std::string resolved_config_json;  ///< every option after defaults, as JSON (reproducibility)
};

/// Write `<City>_cond.h5` (layout in README "env_extra"):
///  /grid/{x_edges_m,y_edges_m,lon_edges_deg,lat_edges_deg}
///  /100m/<q>, /500m/<q> (5×5 sums), /2000m/<q> ((R, C, 4, 4[, K]) tiles) for q in population,
///    building_count, road_length_m, waterway_length_m, water_area_m2, natural_count,
///    osm_poi_count, poi_count; each with a `units` attribute;
///  /poi_categories, /poi_category_present; /100m/mask, /500m/mask, /2000m/mask (tiles of the
///    500 m mask): 1 where the cell centre lies in the city polygon (holes excluded);
///  the reference's keys with the reference's meaning: pop_2000m (float32), building_2000m
///    (int64), roadlen_2000m (float64, roads + waterways), water_area_2000m (float64),
///    poi_2000m (int64, K = 21), loc_2000m (float64 [lat_min, lat_max, lon_min, lon_max]);
///  root attributes epsg, cell_size_m, bbox, row_order, utm_zone, tool, version, command line,
///  seed.
/// Written to a temporary file and renamed: a failure leaves no file at `path`.
void write_cond_file(const std::filesystem::path& path, const CityConditions& cond,
                     const Provenance& provenance);

/// An upper bound of the bytes write_cond_file writes for `grid` and `poi_categories`
/// (uncompressed arrays): the free-space check before the work (issue 19).
std::uintmax_t cond_file_bytes_bound(const geo::CityGrid& grid, std::size_t poi_categories);

/// Root attributes every zoomdiff output carries (one helper so no writer forgets one).
void write_standard_attributes(H5File& file, const geo::CityGrid& grid, double cell_size_m,
                               const Provenance& provenance);

/// Write the grid's edges under /grid (x_edges_m, y_edges_m, lon_edges_deg, lat_edges_deg).
void write_grid(H5File& file, const geo::CityGrid& grid);

/// Read the grid stored in a condition (or data) file.
geo::CityGrid read_grid(const H5File& file);

}  // namespace zoomdiff::io
