#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "zoomdiff/geo/city_grid.hpp"

namespace zoomdiff::io {

class H5File;

/// The CF conventions our netCDF-4 outputs follow (DESIGN §7).
inline constexpr const char* kCfConventions = "CF-1.8";

/// A UDUNITS unit for a value unit as our files name it, and a note when it is not one: "MB",
/// "GB", "kB", "byte" stay; a count ("users", "people", ...) or a unit we cannot name becomes
/// "1", and `note` gets the original words (written as the variable's `units_note`).
std::string cf_units(const std::string& units, std::string* note);

/// One horizontal grid in a group of a netCDF-4 file: cell edges in UTM metres (west to east,
/// south to north) and in degrees, and the CRS.
struct CfGrid {
    std::vector<double> x_edges_m;
    std::vector<double> y_edges_m;
    std::vector<double> lon_edges_deg;
    std::vector<double> lat_edges_deg;
    int epsg = 0;  ///< WGS 84 / UTM (326zz, 327zz); 0: a placeholder grid without a map
};

/// The midpoints of consecutive `edges`: cell centres.
std::vector<double> cell_centres(const std::vector<double>& edges);

/// `group`/`name` = 0, 1, …, n−1 as the coordinate variable of dimension `name` (an index axis:
/// `sample`, `tile_row`, …).
void write_cf_index_axis(H5File& file, const std::string& group, const std::string& name,
                         std::size_t n, const std::string& long_name);

/// The grid of every `step`-th cell of `grid` (1: the 100 m grid, 5: its 500 m grid).
CfGrid cf_grid_of(const geo::CityGrid& grid, std::size_t step);

/// Writes under `group` ("" for the root, else "/name") the dimensions and coordinate variables
/// of `grid`: `x`, `y` (cell centres, m, projection coordinates), 2-D `lat(y, x)`, `lon(y, x)`,
/// the edges as 1-D coordinate variables of their own (`x_edges_m`, `y_edges_m`,
/// `lon_edges_deg`, `lat_edges_deg`) and the grid-mapping variable `crs` (transverse Mercator
/// parameters, `crs_wkt`, `spatial_ref` for GDAL, `epsg_code`); a placeholder grid (epsg 0) gets
/// x, y and the edges only. Variables on this grid name it with cf_grid_variable.
void write_cf_grid(H5File& file, const std::string& group, const CfGrid& grid);

/// Writes `group`/`name` = 0..n-1 as the coordinate variable of dimension `name` (e.g.
/// `sample`), or, with `units`, the values `values` (e.g. `time` in hours).
void write_cf_axis(H5File& file, const std::string& group, const std::string& name,
                   const std::vector<double>& values, const std::string& units,
                   const std::string& long_name);

/// The `time` axis of `hours` hourly steps under `group`: "hours since <time_start>" (CF time,
/// local time) when `time_start` is an ISO 8601 date and time, else "hours" since the start of
/// the week.
void write_cf_hours(H5File& file, const std::string& group, std::size_t hours,
                    const std::string& time_start);

/// The index axes of the reference's tile arrays (R, C, 4, 4[, ...]) under `group`: `tile_row`,
/// `tile_col` (2000 m tiles from the south-west) and `cell_row`, `cell_col` (the 4 x 4 cells of
/// 500 m inside a tile, from its south-west corner).
void write_cf_tile_axes(H5File& file, const std::string& group, std::size_t tile_rows,
                        std::size_t tile_cols);

/// A string coordinate variable `group`/`name` (e.g. the POI categories) as a dimension.
void write_cf_labels(H5File& file, const std::string& group, const std::string& name,
                     const std::vector<std::string>& labels, const std::string& long_name);

/// Attaches `dims` (names of dimensions of `group`, in axis order) to `group`/`variable` and
/// gives it the CF attributes of a gridded variable: `long_name`, `units` (UDUNITS, via cf_units;
/// with `units` empty, the variable's own `units` words are converted the same way),
/// `grid_mapping` = crs and `coordinates` = "lat lon" when it has the y and x axes, and
/// `_FillValue` NaN for float32 data.
void cf_grid_variable(H5File& file, const std::string& group, const std::string& variable,
                      const std::vector<std::string>& dims, const std::string& long_name,
                      const std::string& units, bool float32_fill);

}  // namespace zoomdiff::io
