#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/core/week.hpp"

namespace zoomdiff::io {

/// Hours in one week: the length of every station series.
using core::kHoursPerWeek;

/// Base stations (or cells / sectors) with one hourly series each (PIPELINE §2.2).
struct StationTable {
    std::vector<double> lon_deg;  ///< N longitudes, WGS 84
    std::vector<double> lat_deg;  ///< N latitudes, WGS 84
    NdArray<double> series;  ///< (N, 168) values in the input's unit; NaN already replaced by 0
    std::vector<std::string> ids;  ///< N ids (the input's, else "BS-<row>")
    bool integer_input = false;  ///< the file stored integers (user counts); kept exact as doubles
    std::size_t nan_values = 0;  ///< NaN values found (and replaced by 0; a warning was logged)
    int input_step_minutes =
        60;  ///< step of the file's series (30 / 15: summed to hours on import)
    std::filesystem::path source;  ///< the file read

    [[nodiscard]] std::size_t size() const noexcept { return lon_deg.size(); }
};

/// Read a station file:
///  - the reference's raw `.npz`: key `<datatype>` (N, 168), `long` (N,), `lat` (N,) — any numeric
///    dtype numpy writes (f4, f8, i4, i8, u4, …); a week of 30- or 15-minute steps, (N, 336) or
///    (N, 672), is summed to hours;
///  - a wide CSV: header `lon,lat,h000,…,h167` (optional leading `station` column);
///  - a long CSV: header `station,lon,lat,hour,value`, one row per station and hour (0..167).
/// The extension picks the format; `datatype` names the series key of an `.npz` only. In a CSV
/// the `station` column may stand anywhere, `long` is accepted for `lon`, hour columns may be
/// unpadded (`h7`), and `integer_input` means every value is written as an integer literal.
/// Throws zoomdiff::Error naming the file and the fix: missing keys or columns (lists what was
/// found), extra columns, duplicate station ids, wrong series length (says what was found),
/// non-numeric or infinite values, coordinates outside ±180 / ±90 (the fix points at exchanged
/// or projected columns; grid_meta detects a swap that fits the city), no stations.
StationTable read_stations(const std::filesystem::path& path, const std::string& datatype);

}  // namespace zoomdiff::io
