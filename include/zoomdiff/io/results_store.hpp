#pragma once

// zoomdiff_infer's outputs (README "zoomdiff_infer"): one city's generated maps at three scales,
// written as our HDF5 results file, the reference's 500 m .npz, north-up GeoTIFFs and PNG
// quicklooks. Torch-free: the model area fills CityMaps, this area writes it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/io/cond_store.hpp"

namespace zoomdiff::io {

/// One scale of a city's maps over its whole 2000 m tiles, rows from the south (DESIGN §3).
struct ScaleMaps {
    std::string name;                   ///< "2000m", "1000m" or "500m"
    double cell_size_m = 0.0;           ///< 2000, 1000 or 500
    std::size_t rows = 0;               ///< R, 2R or 4R cells
    std::size_t cols = 0;               ///< C, 2C or 4C cells
    NdArray<float> samples;             ///< (rows, cols, nsample, 168)
    NdArray<float> mean;                ///< (rows, cols, 168): mean over the samples
    NdArray<std::uint8_t> mask;         ///< (rows, cols): 1 where the cell centre is in the city
    std::vector<double> x_edges_m;      ///< cols + 1 UTM eastings (the city grid's, every k-th)
    std::vector<double> y_edges_m;      ///< rows + 1 UTM northings
    std::vector<double> lon_edges_deg;  ///< cols + 1: cell centres are the midpoints
    std::vector<double> lat_edges_deg;  ///< rows + 1
};

/// The 500 m conditions the reference's .npz carries (MODEL.md §5.7), (4R, 4C[, 21]).
struct Conditions500m {
    NdArray<float> pop;              ///< pop_500m
    NdArray<std::int64_t> building;  ///< building_500m
    NdArray<double> roadlen;         ///< roadlen_500m (the reference's: roads + waterways)
    NdArray<double> water_area;      ///< water_area_500m
    NdArray<std::int64_t> poi;       ///< poi_500m, 21 categories
};

struct CityMaps {
    std::string city;      ///< English name
    std::string token;     ///< as typed in --dataset (names the .npz, as the reference does)
    std::string datatype;  ///< traffic | user
    std::string units;     ///< unit of the values (the template's / training data's)
    int epsg = 0;          ///< UTM CRS of x/y edges
    std::int64_t nsample = 0;
    std::vector<ScaleMaps> scales;  ///< 2000m, 1000m, 500m, in that order
    Conditions500m conditions;
    std::string calibration;   ///< "template:<City>" or "none"
    std::string model_run;     ///< the run folder the weights came from
    std::string metrics_json;  ///< cross-scale consistency etc., stored as an attribute
    Provenance provenance;     ///< tool, command line, seed, resolved config (JSON)
};

/// `<City>_<datatype>.h5`: per scale group /<scale>/ with samples (cells x nsample x 168, masked
/// cells only, row-major from the south-west), mean (cells x 168), lat, lon (cell centres),
/// row, col, and the full-grid mask and edges; attributes cell_size_m, epsg, units,
/// row_order = south_to_north, calibration, model run, metrics, and the standard provenance.
/// Written to a temporary file and renamed.
void write_results_h5(const std::filesystem::path& path, const CityMaps& maps);

/// The inverse of write_results_h5 (zoomdiff_eval reads generated maps with it): every scale
/// group back on its full grid, values of the cells outside the mask 0 (the file stores the
/// masked cells only), root attributes into the CityMaps fields and the provenance (tool,
/// command line, seed, city, city_cn, resolved config). `conditions` stays empty: the .h5 does not
/// carry them. A file that is not a zoomdiff-results file (root attribute `format` missing or not
/// "zoomdiff-results 1"), a scale group missing a dataset or with shapes that disagree with its
/// rows, cols and nsample, or a cell index off the grid throw zoomdiff::Error naming the file.
CityMaps read_results_h5(const std::filesystem::path& path);

/// The reference's `<token>_500m_<datatype>.npz` (MODEL.md §5.7), uncompressed, keys and dtypes
/// exactly: data_500m (M, 168) float32 = the 500 m sample mean, pop_500m, building_500m,
/// roadlen_500m, water_area_500m, poi_500m (M, 21), lat, lon (M,) float64; M = masked 500 m
/// cells in row-major order from the south-west. Atomic.
void write_reference_npz(const std::filesystem::path& path, const CityMaps& maps);

/// `<City>_<datatype>_<scale>`: the name of a scale's GeoTIFF (+ ".tif") and quicklooks.
std::string map_file_stem(const std::string& city, const std::string& datatype,
                          const std::string& scale);

/// `<dir>/<City>_<datatype>_<scale>.tif` per scale: a north-up cloud-optimised GeoTIFF (COG) in
/// the city's UTM CRS of the sample mean, float32, 169 bands (described "hour 000" ..
/// "hour 167", then "weekly mean"; each band's unit the UDUNITS unit of the values), cells
/// outside the city = nodata (NaN); with `every_sample` also
/// `<City>_<datatype>_<scale>_sample<kkk>.tif` per sample. Atomic per file. Returns the paths
/// written.
std::vector<std::filesystem::path> write_geotiffs(const std::filesystem::path& dir,
                                                  const CityMaps& maps, bool every_sample = false);

/// `<dir>/<City>_<datatype>_<scale>_{mean,peak}.png` per scale: the weekly mean and the peak hour
/// of the sample mean, north-up, a fixed colour ramp scaled to the city's 99th percentile, cells
/// outside the city transparent. Returns the paths written.
std::vector<std::filesystem::path> write_quicklooks(const std::filesystem::path& dir,
                                                    const CityMaps& maps);

/// The colour of t (clamped to [0, 1]) on the quicklooks' ramp: five stops of matplotlib's
/// viridis, linearly interpolated (the eval plots use it too, so both read the same way).
std::array<std::uint8_t, 3> colour_ramp(double t);

/// Writes an 8-bit RGBA image, pixel-interleaved (width * height * 4 bytes, line 0 at the top),
/// as a PNG through GDAL, atomically; each `text` pair becomes a tEXt chunk (key, value).
/// A buffer of the wrong size is an internal error; an unwritable folder throws zoomdiff::Error
/// naming the file.
void write_rgba_png(const std::filesystem::path& path, const std::vector<std::uint8_t>& rgba,
                    std::size_t width, std::size_t height,
                    const std::vector<std::pair<std::string, std::string>>& text = {});

}  // namespace zoomdiff::io
