#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/geo/population.hpp"
#include "zoomdiff/io/stations.hpp"

namespace zoomdiff::pipeline {

/// Which behaviour grid_meta follows where the reference loses data (PIPELINE §2.3, P-5, P-8).
enum class GridMetaLayout {
    kCorrected,  ///< default: stations without residents keep their traffic (in the cell they
                 ///< stand in), exact ties between co-located stations are split evenly
    kReference,  ///< the reference: such stations are dropped, a tie goes to one station
};

/// Options of grid_meta; flags keep the reference's names (PIPELINE §2.1).
struct GridMetaOptions {
    std::string cityname = "Nanchang";
    std::string province = "Jiangxi";  ///< accepted and ignored, as by the reference
    std::string datatype = "traffic";  ///< traffic | user: the series key and part of file names
    std::filesystem::path data_path;   ///< station file (.npz or .csv)
    std::filesystem::path shp_path;
    std::filesystem::path pop_path;
    std::filesystem::path
        out;  ///< default ZoomDiff/datasets/cities/<City>/data/<City>_<datatype>_data.h5
    std::string boundary_field = "地名";
    GridMetaLayout layout = GridMetaLayout::kCorrected;
    geo::PopulationRule pop_rule = geo::PopulationRule::kReference;  ///< as env_extra's --pop_rule
    /// Local date and time of hour 0, ISO 8601 "YYYY-MM-DDTHH:MM" (the reference stores none).
    std::string time_start = "unspecified";
    /// IANA time zone of the series, e.g. "Asia/Shanghai", "Europe/Rome".
    std::string time_zone = "unspecified";
    std::uint64_t seed = 0;
    int threads = 1;
    std::string command_line;
};

/// The reference's default paths (PIPELINE §2.1) for empty ones.
GridMetaOptions default_grid_meta_paths(GridMetaOptions options);

/// The result of spreading station series over synthetic residents on the 100 m grid.
struct Disaggregation {
    NdArray<double> data_100m;             ///< (rows, cols, 168), rows from the south
    NdArray<std::int32_t> residents_100m;  ///< (rows, cols) synthetic residents per cell
    std::size_t stations_in_box = 0;       ///< selected by the closed envelope
    std::size_t stations_outside = 0;      ///< ignored (outside the envelope)
    std::size_t stations_without_residents =
        0;                          ///< kept in their own cell (corrected) or dropped (reference)
    std::size_t stations_tied = 0;  ///< stations sharing a location with another
    std::size_t residents = 0;
};

/// The core of grid_meta, without files: select the stations inside the grid's bbox, draw
/// round-half-even(pop) residents per cell uniformly in the cell's degree rectangle, give each
/// resident its nearest station in a UTM plane (k-d tree), spread each station's hourly value
/// over its residents with normalised half-normal weights, and sum per cell. Every draw comes
/// from `seed` through per-cell and per-station streams, so the result does not depend on
/// `threads`. Conservation: for every hour, the sum over cells equals the sum over the kept
/// stations (all in-box stations in kCorrected) to float rounding.
Disaggregation disaggregate(const geo::CityGrid& grid, const NdArray<float>& pop_100m,
                            const io::StationTable& stations, GridMetaLayout layout,
                            std::uint64_t seed, int threads, core::Progress& progress);

struct GridMetaResult {
    std::filesystem::path output;
    geo::CityGrid grid;
    Disaggregation summary;  ///< data arrays moved out after writing (counts kept)
};

/// Boundary → grid → population → stations → disaggregate → `<City>_<datatype>_data.h5`
/// (atomic). Throws zoomdiff::Error for bad input (file and fix in one line).
GridMetaResult run_grid_meta(const GridMetaOptions& options, core::Progress& progress);

}  // namespace zoomdiff::pipeline
