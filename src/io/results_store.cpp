#include "zoomdiff/io/results_store.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <system_error>
#include <utility>

#include "geo/detail/gdal_util.hpp"
#include <cpl_error.h>
#include <cpl_string.h>
#include <fmt/format.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/week.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/io/cf.hpp"
#include "zoomdiff/io/h5_file.hpp"
#include "zoomdiff/io/npz.hpp"

namespace zoomdiff::io {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kHours = core::kHoursPerWeek;
constexpr const char* kBugFix = "This is a bug in zoomdiff; please report it";
// Quicklooks: the smallest width a map is enlarged to (whole multiples of a cell, nearest
// neighbour), so a city of a few 2000 m tiles is still visible.
constexpr std::size_t kMinQuicklookWidthPx = 256;

std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string out = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        out += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
    }
    return out + ")";
}

[[noreturn]] void inconsistent(const fs::path& out, const std::string& problem) {
    throw Error(out.string(), "cannot write inconsistent maps: " + problem, kBugFix,
                ExitCode::kInternal);
}

void check_shape(const fs::path& out, const std::string& what,
                 const std::vector<std::size_t>& actual, const std::vector<std::size_t>& expected) {
    if (actual != expected) {
        inconsistent(
            out, what + " has shape " + shape_text(actual) + ", expected " + shape_text(expected));
    }
}

void check_edges(const fs::path& out, const std::string& what, const std::vector<double>& edges,
                 std::size_t cells) {
    if (edges.size() != cells + 1) {
        inconsistent(out, what + " has " + std::to_string(edges.size()) + " edges, expected " +
                              std::to_string(cells + 1));
    }
}

/// Every shape of one scale against its rows, cols and the city's nsample.
void check_scale(const fs::path& out, const ScaleMaps& scale, std::int64_t nsample) {
    if (scale.rows == 0 || scale.cols == 0 || !(scale.cell_size_m > 0.0)) {
        inconsistent(out, "scale '" + scale.name + "' has no cells or no cell size");
    }
    const auto ns = static_cast<std::size_t>(nsample);
    const std::string prefix = "scale " + scale.name + ": ";
    check_shape(out, prefix + "samples", scale.samples.shape(),
                {scale.rows, scale.cols, ns, kHours});
    check_shape(out, prefix + "mean", scale.mean.shape(), {scale.rows, scale.cols, kHours});
    check_shape(out, prefix + "mask", scale.mask.shape(), {scale.rows, scale.cols});
    check_edges(out, prefix + "x_edges_m", scale.x_edges_m, scale.cols);
    check_edges(out, prefix + "y_edges_m", scale.y_edges_m, scale.rows);
    check_edges(out, prefix + "lon_edges_deg", scale.lon_edges_deg, scale.cols);
    check_edges(out, prefix + "lat_edges_deg", scale.lat_edges_deg, scale.rows);
}

void check_maps(const fs::path& out, const CityMaps& maps) {
    if (maps.scales.empty()) {
        inconsistent(out, "no scales");
    }
    if (maps.nsample <= 0) {
        inconsistent(out, "nsample = " + std::to_string(maps.nsample));
    }
    for (const auto& scale : maps.scales) {
        check_scale(out, scale, maps.nsample);
    }
}

const ScaleMaps& scale_500m(const fs::path& out, const CityMaps& maps) {
    for (const auto& scale : maps.scales) {
        if (scale.name == "500m") {
            return scale;
        }
    }
    inconsistent(out, "no '500m' scale");
}

/// The folder an output goes to must be a folder: AtomicOutput would name only the folder, and
/// a user looking at the message wants the file it was writing.
void check_output_folder(const fs::path& file) {
    const fs::path folder = file.parent_path();
    std::error_code ec;
    if (!folder.empty() && fs::exists(folder, ec) && !fs::is_directory(folder, ec)) {
        throw Error(file.string(), "cannot write it: " + folder.string() + " is not a directory",
                    "Choose an output folder that is a writable directory");
    }
}

/// Masked cells of a scale in row-major order from the south-west (DESIGN §3).
struct MaskedCells {
    std::vector<std::size_t> row;
    std::vector<std::size_t> col;

    [[nodiscard]] std::size_t size() const noexcept { return row.size(); }
};

MaskedCells masked_cells(const ScaleMaps& scale) {
    MaskedCells cells;
    for (std::size_t r = 0; r < scale.rows; ++r) {
        for (std::size_t c = 0; c < scale.cols; ++c) {
            if (scale.mask.at(r, c) != 0) {
                cells.row.push_back(r);
                cells.col.push_back(c);
            }
        }
    }
    return cells;
}

/// (M, rest...) rows of a (rows, cols, rest...) array at the masked cells.
template <typename T>
NdArray<T> gather(const NdArray<T>& grid, const MaskedCells& cells) {
    std::vector<std::size_t> shape{cells.size()};
    std::size_t per_cell = 1;
    for (std::size_t axis = 2; axis < grid.rank(); ++axis) {
        shape.push_back(grid.dim(axis));
        per_cell *= grid.dim(axis);
    }
    NdArray<T> out(std::move(shape));
    const std::size_t cols = grid.dim(1);
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const std::size_t src = (cells.row[i] * cols + cells.col[i]) * per_cell;
        std::copy_n(grid.data() + src, per_cell, out.data() + i * per_cell);
    }
    return out;
}

template <typename To, typename From>
NdArray<To> cast(const NdArray<From>& in) {
    std::vector<To> values(in.size());
    std::transform(in.values().begin(), in.values().end(), values.begin(),
                   [](From v) { return static_cast<To>(v); });
    return {in.shape(), std::move(values)};
}

/// Cell-centre (lat, lon) of the masked cells, degrees.
struct CellCentres {
    NdArray<double> lat;
    NdArray<double> lon;
};

CellCentres centres(const ScaleMaps& scale, const MaskedCells& cells) {
    const std::vector<double> lat_mid = cell_centres(scale.lat_edges_deg);
    const std::vector<double> lon_mid = cell_centres(scale.lon_edges_deg);
    CellCentres out{NdArray<double>({cells.size()}), NdArray<double>({cells.size()})};
    for (std::size_t i = 0; i < cells.size(); ++i) {
        out.lat[i] = lat_mid[cells.row[i]];
        out.lon[i] = lon_mid[cells.col[i]];
    }
    return out;
}

/// The UTM zone of a WGS 84 / UTM EPSG code (326zz north, 327zz south), 0 for anything else.
int utm_zone_of_epsg(int epsg) {
    if ((epsg > 32600 && epsg <= 32660) || (epsg > 32700 && epsg <= 32760)) {
        return epsg % 100;
    }
    return 0;
}

/// The grid that write_standard_attributes describes: the finest scale's edges, the CRS, and
/// as bbox the degree extent the maps cover (whole 2000 m tiles, so a little beyond the city's
/// requested box).
geo::CityGrid attribute_grid(const CityMaps& maps) {
    const ScaleMaps& finest = *std::min_element(
        maps.scales.begin(), maps.scales.end(),
        [](const ScaleMaps& a, const ScaleMaps& b) { return a.cell_size_m < b.cell_size_m; });
    geo::CityGrid grid;
    const auto [lon_min, lon_max] =
        std::minmax_element(finest.lon_edges_deg.begin(), finest.lon_edges_deg.end());
    const auto [lat_min, lat_max] =
        std::minmax_element(finest.lat_edges_deg.begin(), finest.lat_edges_deg.end());
    grid.bbox = {*lon_min, *lat_min, *lon_max, *lat_max};
    grid.epsg = maps.epsg;
    grid.utm_zone = utm_zone_of_epsg(maps.epsg);
    grid.north = maps.epsg < 32700;
    grid.x_edges_m = finest.x_edges_m;
    grid.y_edges_m = finest.y_edges_m;
    grid.lon_edges_deg = finest.lon_edges_deg;
    grid.lat_edges_deg = finest.lat_edges_deg;
    return grid;
}

double finest_cell_size_m(const CityMaps& maps) {
    double size_m = std::numeric_limits<double>::infinity();
    for (const auto& scale : maps.scales) {
        size_m = std::min(size_m, scale.cell_size_m);
    }
    return size_m;
}

// ---- GDAL helpers ------------------------------------------------------------------------------

int gdal_size(const fs::path& out, std::size_t n) {
    if (n > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        inconsistent(out, "raster size " + std::to_string(n) + " exceeds GDAL's int");
    }
    return static_cast<int>(n);
}

GDALDriver& gdal_driver(const char* name, const fs::path& out) {
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(name);
    if (driver == nullptr) {
        throw Error(out.string(), std::string("GDAL has no ") + name + " driver",
                    "Install a GDAL build with the " + std::string(name) + " driver",
                    ExitCode::kInternal);
    }
    return *driver;
}

/// Closes a written dataset and reports what GDAL only reports on close (the last blocks, the
/// directory). GDAL 3.6 (our image) has no checked Close(): the before/after error-state idiom
/// of RFC 91.
void close_checked(GDALDatasetUniquePtr& ds, const fs::path& out) {
    CPLErrorReset();
    ds.reset();
    if (CPLGetLastErrorType() == CE_Failure || CPLGetLastErrorType() == CE_Fatal) {
        throw Error(out.string(), "writing failed (" + geo::detail::last_gdal_error() + ")",
                    "Check free disk space and permissions of the output folder");
    }
}

void check_cpl(CPLErr err, const fs::path& out, const std::string& what) {
    if (err != CE_None) {
        throw Error(out.string(), what + " failed (" + geo::detail::last_gdal_error() + ")",
                    "Check free disk space and permissions of the output folder");
    }
}

/// Removes a `<file>.aux.xml` GDAL may leave beside a temporary file (PAM), so only the
/// committed file remains.
/// Writes the in-memory raster `mem` to `temp` with `driver` (GDAL's CreateCopy: COG, PNG),
/// checked and closed; errors name `final_path`.
void copy_raster(const char* driver, GDALDataset& mem, const fs::path& temp,
                 const CPLStringList& options, const fs::path& final_path) {
    GDALDatasetUniquePtr copy(
        gdal_driver(driver, final_path)
            .CreateCopy(temp.c_str(), &mem, FALSE, options.List(), nullptr, nullptr));
    if (!copy) {
        throw Error(final_path.string(), "cannot write (" + geo::detail::last_gdal_error() + ")",
                    "Check that the output folder is writable");
    }
    close_checked(copy, final_path);
}

void remove_aux(const fs::path& temp) {
    std::error_code ignored;
    fs::remove(fs::path(temp.string() + ".aux.xml"), ignored);
}

std::string file_stem(const CityMaps& maps, const ScaleMaps& scale) {
    return map_file_stem(maps.city, maps.datatype, scale.name);
}

/// What a GeoTIFF holds: the sample mean, or one sample.
constexpr int kSampleMean = -1;

/// Band `hour` (0..167) of the sample mean (`sample` = kSampleMean) or of one sample, or the
/// weekly mean for hour == 168, as a north-up float32 image (line 0 = the northernmost row), NaN
/// outside the mask.
std::vector<float> north_up_band(const ScaleMaps& scale, std::size_t hour, int sample) {
    const std::size_t ns = scale.samples.rank() == 4 ? scale.samples.dim(2) : 0;
    const auto value_at = [&](std::size_t r, std::size_t c, std::size_t h) {
        if (sample == kSampleMean)
            return scale.mean.at(r, c, h);
        return scale
            .samples[((r * scale.cols + c) * ns + static_cast<std::size_t>(sample)) * kHours + h];
    };
    std::vector<float> image(scale.rows * scale.cols, std::numeric_limits<float>::quiet_NaN());
    for (std::size_t r = 0; r < scale.rows; ++r) {
        const std::size_t line = scale.rows - 1 - r;
        for (std::size_t c = 0; c < scale.cols; ++c) {
            if (scale.mask.at(r, c) == 0) {
                continue;
            }
            float value = 0.0F;
            if (hour < kHours) {
                value = value_at(r, c, hour);
            } else {
                double sum = 0.0;
                for (std::size_t h = 0; h < kHours; ++h) {
                    sum += value_at(r, c, h);
                }
                value = static_cast<float>(sum / static_cast<double>(kHours));
            }
            image[line * scale.cols + c] = value;
        }
    }
    return image;
}

/// A cloud-optimised GeoTIFF (GDAL's COG driver: tiled, deflate with the floating-point
/// predictor, overviews where the map is larger than a tile) of the sample mean or of one sample.
void write_geotiff(const fs::path& final_path, const CityMaps& maps, const ScaleMaps& scale,
                   int sample) {
    core::AtomicOutput out(final_path);
    const int width = gdal_size(final_path, scale.cols);
    const int height = gdal_size(final_path, scale.rows);
    const int bands = static_cast<int>(kHours) + 1;
    std::string note;
    const std::string units = cf_units(maps.units, &note);
    const std::string what = sample == kSampleMean
                                 ? fmt::format("sample mean of {} sample(s)", maps.nsample)
                                 : fmt::format("sample {} of {}", sample, maps.nsample);
    {
        GDALDatasetUniquePtr mem(
            gdal_driver("MEM", final_path).Create("", width, height, bands, GDT_Float32, nullptr));
        if (!mem) {
            throw Error(
                final_path.string(),
                "cannot create an in-memory raster (" + geo::detail::last_gdal_error() + ")",
                kBugFix, ExitCode::kInternal);
        }
        // North-up: the origin is the north-west corner, lines run south.
        std::array<double, 6> geotransform{
            scale.x_edges_m.front(), scale.cell_size_m, 0.0, scale.y_edges_m.back(), 0.0,
            -scale.cell_size_m};
        check_cpl(mem->SetGeoTransform(geotransform.data()), final_path,
                  "setting the geotransform");
        const OGRSpatialReference srs = geo::detail::srs_from_epsg(maps.epsg);
        check_cpl(mem->SetSpatialRef(&srs), final_path, "setting the CRS");
        const std::pair<const char*, std::string> items[] = {
            {"city", maps.city},
            {"datatype", maps.datatype},
            {"units", units},
            {"units_note", note},
            {"values", what},
            {"scale", scale.name},
            {"nsample", std::to_string(maps.nsample)},
            {"calibration", maps.calibration},
            {"tool", maps.provenance.tool},
            {"version", ZOOMDIFF_VERSION}};
        for (const auto& [key, value] : items) {
            if (!value.empty())
                mem->SetMetadataItem(key, value.c_str());
        }
        for (int b = 1; b <= bands; ++b) {
            const auto hour = static_cast<std::size_t>(b - 1);
            GDALRasterBand* band = mem->GetRasterBand(b);
            check_cpl(band->SetNoDataValue(std::numeric_limits<double>::quiet_NaN()), final_path,
                      "setting nodata");
            band->SetDescription(hour < kHours ? fmt::format("hour {:03d}", hour).c_str()
                                               : "weekly mean");
            check_cpl(band->SetUnitType(units.c_str()), final_path, "setting the band unit");
            band->SetMetadataItem("hour", hour < kHours ? std::to_string(hour).c_str() : "mean");
            std::vector<float> image = north_up_band(scale, hour, sample);
            check_cpl(band->RasterIO(GF_Write, 0, 0, width, height, image.data(), width, height,
                                     GDT_Float32, 0, 0, nullptr),
                      final_path, "writing band " + std::to_string(b));
        }
        CPLStringList options;
        options.SetNameValue("COMPRESS", "DEFLATE");
        options.SetNameValue("PREDICTOR", "YES");  // the floating-point predictor: smaller files
        // 256-pixel tiles (COG's smallest sensible size; a small city is one tile per band).
        options.SetNameValue("BLOCKSIZE", "256");
        options.SetNameValue("BIGTIFF", "IF_SAFER");
        copy_raster("COG", *mem, out.temp_path(), options, final_path);
    }
    remove_aux(out.temp_path());
    out.commit();
}

// ---- quicklooks --------------------------------------------------------------------------------

/// numpy's default percentile (linear interpolation between order statistics).
double percentile(std::vector<double> values, double q) {
    if (values.empty()) {
        return 0.0;
    }
    std::sort(values.begin(), values.end());
    const double pos = q / 100.0 * static_cast<double>(values.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const std::size_t hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

/// The hour with the largest city total (masked cells) of the sample mean.
std::size_t peak_hour(const ScaleMaps& scale) {
    std::vector<double> total(kHours, 0.0);
    for (std::size_t r = 0; r < scale.rows; ++r) {
        for (std::size_t c = 0; c < scale.cols; ++c) {
            if (scale.mask.at(r, c) == 0) {
                continue;
            }
            for (std::size_t h = 0; h < kHours; ++h) {
                total[h] += static_cast<double>(scale.mean.at(r, c, h));
            }
        }
    }
    return static_cast<std::size_t>(std::max_element(total.begin(), total.end()) - total.begin());
}

/// Writes a north-up image (from north_up_band) as an RGBA PNG, each cell `factor` × `factor`
/// pixels, scaled from 0 to the 99th percentile of its finite values; NaN is transparent.
void write_png(const fs::path& final_path, const std::vector<float>& image, std::size_t rows,
               std::size_t cols, const std::string& title) {
    const std::size_t factor = std::max<std::size_t>(1, (kMinQuicklookWidthPx + cols - 1) / cols);
    const std::size_t width = cols * factor;
    const std::size_t height = rows * factor;
    std::vector<double> finite;
    for (float v : image) {
        if (std::isfinite(v)) {
            finite.push_back(static_cast<double>(v));
        }
    }
    double top = percentile(finite, 99.0);
    if (!(top > 0.0)) {
        top = finite.empty() ? 1.0 : std::max(1.0, *std::max_element(finite.begin(), finite.end()));
    }
    // Pixel-interleaved RGBA, alpha 0 (and black) where a cell is nodata.
    std::vector<std::uint8_t> rgba(4 * width * height, 0);
    for (std::size_t y = 0; y < height; ++y) {
        for (std::size_t x = 0; x < width; ++x) {
            const float v = image[(y / factor) * cols + x / factor];
            if (!std::isfinite(v)) {
                continue;
            }
            const auto rgb = colour_ramp(static_cast<double>(v) / top);
            std::uint8_t* p = rgba.data() + 4 * (y * width + x);
            p[0] = rgb[0];
            p[1] = rgb[1];
            p[2] = rgb[2];
            p[3] = 255;
        }
    }
    // Stored as PNG tEXt chunks: what the map shows and the value of the brightest colour.
    write_rgba_png(final_path, rgba, width, height,
                   {{"title", title}, {"colour_scale_max", fmt::format("{:g}", top)}});
}

// ---- reading ------------------------------------------------------------------------------------

constexpr const char* kResultsFormat = "zoomdiff-results 2";
/// The first layout (until December 2026): masked cells as lists with row/col; still read.
constexpr const char* kResultsFormatV1 = "zoomdiff-results 1";

std::vector<double> read_vector(const H5File& file, const std::string& dataset) {
    return file.read<double>(dataset).values();
}

[[noreturn]] void bad_results(const fs::path& path, const std::string& problem) {
    throw Error(path.string(), problem,
                "Pass the <City>_<datatype>.h5 that zoomdiff_infer wrote (or run zoomdiff_infer "
                "again to rewrite it)");
}

ScaleMaps read_scale(const H5File& file, const std::string& name, std::int64_t nsample) {
    const std::string group = "/" + name;
    for (const char* dataset : {"samples", "mean", "row", "col", "mask", "x_edges_m", "y_edges_m",
                                "lon_edges_deg", "lat_edges_deg"}) {
        if (!file.exists(group + "/" + dataset)) {
            bad_results(file.path(), "scale group " + group + " has no dataset '" + dataset + "'");
        }
    }
    ScaleMaps s;
    s.name = name;
    s.cell_size_m = file.attr_double(group, "cell_size_m");
    s.mask = file.read<std::uint8_t>(group + "/mask");
    if (s.mask.rank() != 2) {
        bad_results(file.path(), group + "/mask has shape " + shape_text(s.mask.shape()) +
                                     ", expected (rows, cols)");
    }
    s.rows = s.mask.dim(0);
    s.cols = s.mask.dim(1);
    s.x_edges_m = read_vector(file, group + "/x_edges_m");
    s.y_edges_m = read_vector(file, group + "/y_edges_m");
    s.lon_edges_deg = read_vector(file, group + "/lon_edges_deg");
    s.lat_edges_deg = read_vector(file, group + "/lat_edges_deg");
    const auto samples = file.read<float>(group + "/samples");
    const auto mean = file.read<float>(group + "/mean");
    const auto row = file.read<std::int64_t>(group + "/row");
    const auto col = file.read<std::int64_t>(group + "/col");
    const std::size_t m = row.size();
    const auto ns = static_cast<std::size_t>(nsample);
    const std::string prefix = group + ": ";
    if (samples.shape() != std::vector<std::size_t>{m, ns, kHours} ||
        mean.shape() != std::vector<std::size_t>{m, kHours} || col.size() != m ||
        s.x_edges_m.size() != s.cols + 1 || s.y_edges_m.size() != s.rows + 1 ||
        s.lon_edges_deg.size() != s.cols + 1 || s.lat_edges_deg.size() != s.rows + 1) {
        bad_results(file.path(),
                    prefix + "shapes disagree (samples " + shape_text(samples.shape()) + ", mean " +
                        shape_text(mean.shape()) + ", " + std::to_string(m) + " rows, " +
                        std::to_string(col.size()) + " cols, mask " + shape_text(s.mask.shape()) +
                        ", nsample " + std::to_string(nsample) + ")");
    }
    s.samples = NdArray<float>({s.rows, s.cols, ns, kHours}, 0.0F);
    s.mean = NdArray<float>({s.rows, s.cols, kHours}, 0.0F);
    for (std::size_t i = 0; i < m; ++i) {
        if (row[i] < 0 || col[i] < 0 || static_cast<std::size_t>(row[i]) >= s.rows ||
            static_cast<std::size_t>(col[i]) >= s.cols) {
            bad_results(file.path(), prefix + "cell " + std::to_string(i) + " at (" +
                                         std::to_string(row[i]) + ", " + std::to_string(col[i]) +
                                         ") lies off the " + shape_text(s.mask.shape()) + " grid");
        }
        const auto cell =
            static_cast<std::size_t>(row[i]) * s.cols + static_cast<std::size_t>(col[i]);
        std::copy_n(samples.data() + i * ns * kHours, ns * kHours,
                    s.samples.data() + cell * ns * kHours);
        std::copy_n(mean.data() + i * kHours, kHours, s.mean.data() + cell * kHours);
    }
    return s;
}

/// A scale of a second-layout file: the CF cubes of group `g` ("" for the root) back into
/// ScaleMaps, values outside the mask 0 as the first layout gave them.
ScaleMaps read_scale_cube(const H5File& file, const std::string& g, const std::string& name,
                          std::int64_t nsample) {
    for (const char* dataset :
         {"samples", "mean", "mask", "x_edges_m", "y_edges_m", "lon_edges_deg", "lat_edges_deg"}) {
        if (!file.exists(g + "/" + dataset)) {
            bad_results(file.path(), "scale " + name + " (group '" + (g.empty() ? "/" : g) +
                                         "') has no variable '" + dataset + "'");
        }
    }
    ScaleMaps s;
    s.name = name;
    s.cell_size_m = file.attr_double(g.empty() ? "/" : g, "cell_size_m");
    s.mask = file.read<std::uint8_t>(g + "/mask");
    if (s.mask.rank() != 2) {
        bad_results(file.path(),
                    name + ": mask has shape " + shape_text(s.mask.shape()) + ", expected (y, x)");
    }
    s.rows = s.mask.dim(0);
    s.cols = s.mask.dim(1);
    s.x_edges_m = read_vector(file, g + "/x_edges_m");
    s.y_edges_m = read_vector(file, g + "/y_edges_m");
    s.lon_edges_deg = read_vector(file, g + "/lon_edges_deg");
    s.lat_edges_deg = read_vector(file, g + "/lat_edges_deg");
    const auto samples = file.read<float>(g + "/samples");
    const auto mean = file.read<float>(g + "/mean");
    const auto ns = static_cast<std::size_t>(nsample);
    if (samples.shape() != std::vector<std::size_t>{ns, kHours, s.rows, s.cols} ||
        mean.shape() != std::vector<std::size_t>{kHours, s.rows, s.cols} ||
        s.x_edges_m.size() != s.cols + 1 || s.y_edges_m.size() != s.rows + 1 ||
        s.lon_edges_deg.size() != s.cols + 1 || s.lat_edges_deg.size() != s.rows + 1) {
        bad_results(file.path(),
                    name + ": shapes disagree (samples " + shape_text(samples.shape()) + ", mean " +
                        shape_text(mean.shape()) + ", mask " + shape_text(s.mask.shape()) +
                        ", nsample " + std::to_string(nsample) + ")");
    }
    const std::size_t cells = s.rows * s.cols;
    s.samples = NdArray<float>({s.rows, s.cols, ns, kHours}, 0.0F);
    s.mean = NdArray<float>({s.rows, s.cols, kHours}, 0.0F);
    for (std::size_t cell = 0; cell < cells; ++cell) {
        if (s.mask[cell] == 0)
            continue;
        for (std::size_t h = 0; h < kHours; ++h) {
            s.mean[cell * kHours + h] = mean[h * cells + cell];
            for (std::size_t k = 0; k < ns; ++k)
                s.samples[(cell * ns + k) * kHours + h] = samples[(k * kHours + h) * cells + cell];
        }
    }
    return s;
}

}  // namespace

CityMaps read_results_h5(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        throw Error(path.string(), "no such file",
                    "Check the path; zoomdiff_infer writes <out>/<City>_<datatype>.h5");
    }
    const H5File file = H5File::open_read(path);
    const std::string format = file.has_attr("/", "format") ? file.attr_string("/", "format") : "";
    if (format != kResultsFormat && format != kResultsFormatV1) {
        bad_results(path, std::string("not a zoomdiff-results file (root attribute 'format' is '") +
                              format + "', not '" + kResultsFormat + "' or '" + kResultsFormatV1 +
                              "')");
    }
    CityMaps maps;
    const auto text = [&file](const char* name) {
        return file.has_attr("/", name) ? file.attr_string("/", name) : std::string();
    };
    maps.city = text("city");
    maps.token = text("token");
    maps.datatype = text("datatype");
    maps.units = text("units");
    maps.calibration = text("calibration");
    maps.model_run = text("model_run");
    maps.metrics_json = text("metrics");
    maps.epsg = file.has_attr("/", "epsg") ? static_cast<int>(file.attr_int("/", "epsg")) : 0;
    maps.nsample = file.has_attr("/", "nsample") ? file.attr_int("/", "nsample") : 0;
    if (maps.nsample <= 0) {
        bad_results(path, "root attribute 'nsample' is missing or not positive");
    }
    maps.provenance.tool = text("tool");
    maps.provenance.command_line = text("command_line");
    maps.provenance.seed =
        file.has_attr("/", "seed") ? static_cast<std::uint64_t>(file.attr_int("/", "seed")) : 0;
    maps.provenance.city_en = maps.city;
    maps.provenance.city_cn = text("city_cn");
    maps.provenance.resolved_config_json = text("resolved_config");
    const std::string root_scale = text("root_scale");
    for (const std::string name : {"2000m", "1000m", "500m"}) {
        if (format == kResultsFormatV1) {
            if (file.exists("/" + name))
                maps.scales.push_back(read_scale(file, name, maps.nsample));
        } else if (name == root_scale) {
            maps.scales.push_back(read_scale_cube(file, "", name, maps.nsample));
        } else if (file.exists("/" + name)) {
            maps.scales.push_back(read_scale_cube(file, "/" + name, name, maps.nsample));
        }
    }
    if (maps.scales.empty()) {
        bad_results(path, "no scale group (/2000m, /1000m, /500m)");
    }
    return maps;
}

std::array<std::uint8_t, 3> colour_ramp(double t) {
    static constexpr std::array<std::array<double, 3>, 5> kStops{
        {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}};
    if (std::isnan(t)) {
        t = 0.0;
    }
    t = std::clamp(t, 0.0, 1.0) * static_cast<double>(kStops.size() - 1);
    const auto lo = std::min(static_cast<std::size_t>(t), kStops.size() - 2);
    const double f = t - static_cast<double>(lo);
    std::array<std::uint8_t, 3> rgb{};
    for (std::size_t k = 0; k < 3; ++k) {
        const double v = kStops[lo][k] + f * (kStops[lo + 1][k] - kStops[lo][k]);
        rgb[k] = static_cast<std::uint8_t>(std::lround(v));
    }
    return rgb;
}

void write_rgba_png(const fs::path& final_path, const std::vector<std::uint8_t>& rgba,
                    std::size_t width, std::size_t height,
                    const std::vector<std::pair<std::string, std::string>>& text) {
    if (rgba.size() != 4 * width * height || width == 0 || height == 0) {
        inconsistent(final_path, "RGBA buffer of " + std::to_string(rgba.size()) + " bytes for " +
                                     std::to_string(width) + " x " + std::to_string(height) +
                                     " pixels");
    }
    check_output_folder(final_path);
    core::AtomicOutput out(final_path);
    const int w = gdal_size(final_path, width);
    const int h = gdal_size(final_path, height);
    {
        GDALDatasetUniquePtr mem(
            gdal_driver("MEM", final_path).Create("", w, h, 4, GDT_Byte, nullptr));
        if (!mem) {
            throw Error(final_path.string(),
                        "cannot create an in-memory image (" + geo::detail::last_gdal_error() + ")",
                        kBugFix, ExitCode::kInternal);
        }
        // Pixel-interleaved source: 4 bytes per pixel, 4 w per line, 1 between bands.
        check_cpl(mem->RasterIO(GF_Write, 0, 0, w, h, const_cast<std::uint8_t*>(rgba.data()), w, h,
                                GDT_Byte, 4, nullptr, 4, static_cast<GSpacing>(4) * w, 1, nullptr),
                  final_path, "filling the image");
        mem->GetRasterBand(4)->SetColorInterpretation(GCI_AlphaBand);
        for (const auto& [key, value] : text) {
            mem->SetMetadataItem(key.c_str(), value.c_str());
        }
        CPLStringList options;
        options.SetNameValue("WRITE_METADATA_AS_TEXT", "YES");
        copy_raster("PNG", *mem, out.temp_path(), options, final_path);
    }
    remove_aux(out.temp_path());
    out.commit();
}

namespace {

/// One scale as CF variables under `g` ("" for the root): the grid (write_cf_grid), the
/// `sample` and `time` axes, samples(sample, time, y, x), mean(time, y, x) and mask(y, x),
/// float32 NaN outside the city.
void write_scale_cube(H5File& file, const std::string& g, const CityMaps& maps,
                      const ScaleMaps& scale) {
    const std::size_t rows = scale.rows;
    const std::size_t cols = scale.cols;
    const std::size_t cells = rows * cols;
    const auto ns = static_cast<std::size_t>(maps.nsample);
    write_cf_grid(
        file, g,
        {scale.x_edges_m, scale.y_edges_m, scale.lon_edges_deg, scale.lat_edges_deg, maps.epsg});
    write_cf_index_axis(file, g, "sample", ns, "sample number (independent draws of the model)");
    write_cf_hours(file, g, kHours, "unspecified");
    file.set_attr(g + "/time", "long_name", "hours since the start of the generated week");

    constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
    NdArray<float> samples({ns, kHours, rows, cols}, kNaN);
    NdArray<float> mean({kHours, rows, cols}, kNaN);
    for (std::size_t cell = 0; cell < cells; ++cell) {
        if (scale.mask[cell] == 0)
            continue;
        for (std::size_t h = 0; h < kHours; ++h) {
            mean[h * cells + cell] = scale.mean[cell * kHours + h];
            for (std::size_t k = 0; k < ns; ++k)
                samples[(k * kHours + h) * cells + cell] =
                    scale.samples[(cell * ns + k) * kHours + h];
        }
    }
    const std::string what = maps.datatype == "user" ? "mobile users" : "mobile traffic";
    file.write(g + "/samples", samples);
    cf_grid_variable(file, g, "samples", {"sample", "time", "y", "x"},
                     fmt::format("generated {} per {} cell and hour", what, scale.name), maps.units,
                     true);
    file.write(g + "/mean", mean);
    cf_grid_variable(
        file, g, "mean", {"time", "y", "x"},
        fmt::format("generated {} per {} cell and hour, mean over the samples", what, scale.name),
        maps.units, true);
    file.set_attr(g + "/mean", "cell_methods", "sample: mean");
    file.write(g + "/mask", scale.mask);
    cf_grid_variable(file, g, "mask", {"y", "x"},
                     "1 where the cell centre lies inside the city, else 0", "", false);
    const std::string group = g.empty() ? "/" : g;
    file.set_attr(group, "scale", scale.name);
    file.set_attr(group, "cell_size_m", scale.cell_size_m);
    file.set_attr(group, "rows", static_cast<std::int64_t>(scale.rows));
    file.set_attr(group, "cols", static_cast<std::int64_t>(scale.cols));
    file.set_attr(group, "nsample", maps.nsample);
    file.set_attr(group, "units", maps.units);
}

}  // namespace

void write_results_h5(const fs::path& path, const CityMaps& maps) {
    check_maps(path, maps);
    check_output_folder(path);
    // The finest scale at the root (what xarray.open_dataset shows), the others in groups.
    const ScaleMaps& finest = *std::min_element(
        maps.scales.begin(), maps.scales.end(),
        [](const ScaleMaps& a, const ScaleMaps& b) { return a.cell_size_m < b.cell_size_m; });
    core::AtomicOutput out(path);
    {
        H5File file = H5File::create(out.temp_path());
        write_standard_attributes(file, attribute_grid(maps), finest_cell_size_m(maps),
                                  maps.provenance);
        file.set_attr("/", "format", kResultsFormat);
        file.set_attr("/", "Conventions", kCfConventions);
        file.set_attr("/", "title",
                      fmt::format("ZoomDiff generated {} of {}, {} sample(s), 168 hours",
                                  maps.datatype == "user" ? "mobile users" : "mobile traffic",
                                  maps.city, maps.nsample));
        file.set_attr("/", "source", "zoomdiff_infer " ZOOMDIFF_VERSION);
        file.set_attr("/", "history", maps.provenance.command_line);
        file.set_attr("/", "root_scale", finest.name);
        file.set_attr("/", "city", maps.city);
        file.set_attr("/", "token", maps.token);
        file.set_attr("/", "datatype", maps.datatype);
        file.set_attr("/", "units", maps.units);
        file.set_attr("/", "nsample", maps.nsample);
        file.set_attr("/", "calibration", maps.calibration);
        file.set_attr("/", "model_run", maps.model_run);
        file.set_attr("/", "metrics", maps.metrics_json);
        for (const auto& scale : maps.scales)
            write_scale_cube(file, &scale == &finest ? std::string() : "/" + scale.name, maps,
                             scale);
        file.close();
    }
    out.commit();
    spdlog::info("wrote {}", path.string());
}

void write_reference_npz(const fs::path& path, const CityMaps& maps) {
    check_maps(path, maps);
    const ScaleMaps& scale = scale_500m(path, maps);
    const Conditions500m& cond = maps.conditions;
    const std::vector<std::size_t> grid{scale.rows, scale.cols};
    check_shape(path, "conditions.pop", cond.pop.shape(), grid);
    check_shape(path, "conditions.building", cond.building.shape(), grid);
    check_shape(path, "conditions.roadlen", cond.roadlen.shape(), grid);
    check_shape(path, "conditions.water_area", cond.water_area.shape(), grid);
    if (cond.poi.rank() != 3) {
        inconsistent(path, "conditions.poi has shape " + shape_text(cond.poi.shape()) +
                               ", expected (rows, cols, categories)");
    }
    check_shape(path, "conditions.poi", cond.poi.shape(),
                {scale.rows, scale.cols, cond.poi.dim(2)});
    check_output_folder(path);

    const MaskedCells cells = masked_cells(scale);
    const CellCentres centre = centres(scale, cells);
    core::AtomicOutput out(path);
    {
        // Key order and dtypes as the reference's np.savez call writes them (MODEL.md §5.7).
        NpzWriter npz = NpzWriter::create(out.temp_path(), NpzCompression::kStored);
        npz.write("data_500m", gather(scale.mean, cells));  // [M, 168] <f4
        npz.write("pop_500m", gather(cond.pop, cells));     // [M] <f4
        npz.write("building_500m", gather(cond.building, cells));
        npz.write("roadlen_500m", gather(cond.roadlen, cells));
        npz.write("water_area_500m", gather(cond.water_area, cells));
        npz.write("poi_500m", gather(cond.poi, cells));  // [M, 21] <i8
        npz.write("lat", centre.lat);
        npz.write("lon", centre.lon);
        npz.close();
    }
    out.commit();
    spdlog::info("wrote {}", path.string());
}

std::vector<fs::path> write_geotiffs(const fs::path& dir, const CityMaps& maps, bool every_sample) {
    check_maps(dir, maps);
    std::vector<fs::path> written;
    for (const auto& scale : maps.scales) {
        const fs::path path = dir / (file_stem(maps, scale) + ".tif");
        check_output_folder(path);
        write_geotiff(path, maps, scale, kSampleMean);
        spdlog::info("wrote {}", path.string());
        written.push_back(path);
        for (int k = 0; every_sample && k < static_cast<int>(maps.nsample); ++k) {
            const fs::path one =
                dir / fmt::format("{}_sample{:03d}.tif", file_stem(maps, scale), k);
            write_geotiff(one, maps, scale, k);
            written.push_back(one);
        }
        if (every_sample)
            spdlog::info("wrote {} sample GeoTIFF(s) of {}", maps.nsample, scale.name);
    }
    return written;
}

std::vector<fs::path> write_quicklooks(const fs::path& dir, const CityMaps& maps) {
    check_maps(dir, maps);
    std::vector<fs::path> written;
    for (const auto& scale : maps.scales) {
        const std::string stem = file_stem(maps, scale);
        const fs::path mean_path = dir / (stem + "_mean.png");
        const fs::path peak_path = dir / (stem + "_peak.png");
        check_output_folder(mean_path);
        const std::string what =
            fmt::format("{} {} {} ({})", maps.city, maps.datatype, scale.name, maps.units);
        write_png(mean_path, north_up_band(scale, kHours, kSampleMean), scale.rows, scale.cols,
                  what + ", weekly mean");
        written.push_back(mean_path);
        const std::size_t peak = peak_hour(scale);
        write_png(peak_path, north_up_band(scale, peak, kSampleMean), scale.rows, scale.cols,
                  fmt::format("{}, peak hour {:03d}", what, peak));
        written.push_back(peak_path);
        spdlog::info("wrote quicklooks {} and {} (peak hour {})", mean_path.string(),
                     peak_path.string(), peak);
    }
    return written;
}

std::string map_file_stem(const std::string& city, const std::string& datatype,
                          const std::string& scale) {
    return city + "_" + datatype + "_" + scale;
}

}  // namespace zoomdiff::io
