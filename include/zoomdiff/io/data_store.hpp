#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/io/cond_store.hpp"

namespace zoomdiff::io {

/// Gridded training targets of one city and datatype (grid_meta's output).
struct CityData {
    geo::CityGrid grid;
    std::string datatype;                    ///< traffic | user
    std::string units;                       ///< the input's unit (traffic) or "users"
    NdArray<double> data_100m;               ///< (rows, cols, 168), rows from the south
    NdArray<std::int32_t> residents_100m;    ///< (rows, cols) synthetic residents per cell
    std::string time_start = "unspecified";  ///< local date-time of step 0 (ISO 8601)
    std::string time_zone = "unspecified";   ///< IANA name
    int input_step_minutes = 60;             ///< step of the input (summed to hours)
};

/// Counts recorded as attributes of the data file.
struct DataSummary {
    std::int64_t stations_in_file = 0;
    std::int64_t stations_in_box = 0;
    std::int64_t stations_outside = 0;
    std::int64_t stations_without_residents = 0;
    std::int64_t stations_tied = 0;
    std::int64_t residents = 0;
    std::int64_t nan_values = 0;
    std::string layout;  ///< corrected | reference
};

/// Write `<City>_<datatype>_data.h5`:
///  /data_2000m (R, C, 4, 4, 168) float64 and /loc_2000m (R, C, 4): the reference's two keys;
///  /100m/data (rows, cols, 168), /500m/data (rows/5, cols/5, 168), /100m/residents;
///  /grid/* as in the condition file, and the standard root attributes plus the time base
///  (`time_start`, `time_zone`, `time_step_minutes` = 60, `time_steps` = 168,
///  `input_step_minutes`), `datatype`, `units`
///  and the DataSummary counts. Written to a temporary file and renamed.
void write_data_file(const std::filesystem::path& path, const CityData& data,
                     const DataSummary& summary, const Provenance& provenance);

/// An upper bound of the bytes write_data_file writes for `grid` and `hours` (uncompressed
/// arrays; deflate makes the file smaller): the free-space check before the work (issue 19).
std::uintmax_t data_file_bytes_bound(const geo::CityGrid& grid, std::size_t hours);

}  // namespace zoomdiff::io
