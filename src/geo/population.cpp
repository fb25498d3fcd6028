#include "zoomdiff/geo/population.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "geo/detail/gdal_util.hpp"
#include <boost/geometry.hpp>
#include <boost/geometry/geometries/box.hpp>
#include <boost/geometry/geometries/point_xy.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#include <fmt/format.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::geo {
namespace {

constexpr const char* kRasterFix =
    "Pass a people-per-pixel GeoTIFF in EPSG:4326 (e.g. WorldPop *_ppp_2020*.tif) with --pop_path.";

/// numpy's pairwise summation of a contiguous float32 array (numpy/core/src/umath/
/// loops_utils.h.src, `pairwise_sum`): below 8 elements a plain loop; up to 128 eight
/// accumulators combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) then the tail; above that the
/// array is split at a multiple of 8 near the middle.
// REFCOMPAT: the reference's mean is numpy's float32 mean; this order reproduces its last bit.
float pairwise_sum_f32(const float* a, std::size_t n) {
    if (n < 8) {
        float res = 0.0F;
        for (std::size_t i = 0; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    if (n <= 128) {
        float r[8];
        for (std::size_t k = 0; k < 8; ++k) {
            r[k] = a[k];
        }
        std::size_t i = 8;
        for (; i < n - (n % 8); i += 8) {
            for (std::size_t k = 0; k < 8; ++k) {
                r[k] += a[i + k];
            }
        }
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    std::size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum_f32(a, n2) + pairwise_sum_f32(a + n2, n - n2);
}

/// How a pixel is recognised as nodata: numpy compares the float32 array with the Python float
/// nodata after casting it to float32, so an out-of-range nodata becomes ±inf.
/// The band's nodata value, if it declares one.
std::optional<double> band_nodata(GDALRasterBand& band) {
    int has_nodata = 0;
    const double nodata = band.GetNoDataValue(&has_nodata);
    if (has_nodata == 0)
        return std::nullopt;
    return nodata;
}

struct NodataTest {
    bool has_value = false;
    float value = 0.0F;

    explicit NodataTest(const std::optional<double>& nodata) {
        if (!nodata || std::isnan(*nodata)) {
            return;  // NaN pixels are dropped anyway
        }
        has_value = true;
        if (std::abs(*nodata) > static_cast<double>(FLT_MAX)) {
            value = *nodata > 0 ? std::numeric_limits<float>::infinity()
                                : -std::numeric_limits<float>::infinity();
        } else {
            value = static_cast<float>(*nodata);
        }
    }

    [[nodiscard]] bool is_nodata(float v) const {
        return std::isnan(v) || (has_value && v == value);
    }
};

/// Population is a count: a negative pixel that is not nodata is refused (issue 19: -1000 people
/// per pixel passed silently and made 95 % of the generated cells negative). `values` is a
/// window of `cols` pixels per row starting at pixel (row0, col0) of band 1.
void require_nonnegative(const std::vector<float>& values, std::int64_t cols, std::int64_t row0,
                         std::int64_t col0, const NodataTest& nodata, const std::string& subject) {
    std::size_t negative = 0;
    std::size_t first = 0;
    for (std::size_t k = 0; k < values.size(); ++k) {
        const float v = values[k];
        if (v < 0.0F && !nodata.is_nodata(v) && std::isfinite(v) && negative++ == 0)
            first = k;
    }
    if (negative == 0)
        return;
    const auto c = static_cast<std::int64_t>(first);
    throw Error(
        subject,
        fmt::format("pixel (row {}, column {}) of band 1 holds {} people, and {} of the {} "
                    "pixels read are negative: a population cannot be negative",
                    row0 + c / cols, col0 + c % cols, values[first], negative, values.size()),
        "Give the raster the nodata value that marks its missing pixels (gdal_edit.py "
        "-a_nodata VALUE), or set negative pixels to 0 (gdal_calc.py)");
}

CellSample sample_window_with(const RasterBlock& block, const PixelWindow& window,
                              const NodataTest& nodata, std::vector<float>& scratch) {
    const WindowShape shape = window_out_shape(window);
    scratch.clear();
    for (std::int64_t r = 0; r < shape.rows; ++r) {
        const std::int64_t row = centre_rule_pixel(window.row_off, window.height, shape.rows, r);
        if (row < 0 || row >= block.raster_rows) {
            continue;
        }
        for (std::int64_t c = 0; c < shape.cols; ++c) {
            const std::int64_t col = centre_rule_pixel(window.col_off, window.width, shape.cols, c);
            if (col < 0 || col >= block.raster_cols) {
                continue;
            }
            const std::int64_t br = row - block.row0;
            const std::int64_t bc = col - block.col0;
            if (br < 0 || br >= block.rows || bc < 0 || bc >= block.cols) {
                throw std::out_of_range("sample_window: pixel outside the block read");
            }
            const float v = block.values[static_cast<std::size_t>(br * block.cols + bc)];
            if (!nodata.is_nodata(v)) {
                scratch.push_back(v);
            }
        }
    }
    CellSample out;
    out.valid_count = static_cast<std::int32_t>(scratch.size());
    if (!scratch.empty()) {
        // numpy: float32 sum / intp count promotes to float64, then back to float32; for one
        // division that double rounding equals the float32 quotient.
        const float sum = pairwise_sum_f32(scratch.data(), scratch.size());
        out.mean =
            static_cast<float>(static_cast<double>(sum) / static_cast<double>(scratch.size()));
    }
    return out;
}

int to_gdal_int(std::int64_t v, const std::string& subject) {
    if (v < 0 || v > std::numeric_limits<int>::max()) {
        throw Error(subject, "the grid's footprint is too large for one raster read",
                    "Split the city into smaller boxes.", ExitCode::kInternal);
    }
    return static_cast<int>(v);
}

/// The cell index of `v` along one axis of strictly increasing `edges`, half-open
/// [edges[k], edges[k+1]); −1 outside. A guess from the mean step, corrected against the edges,
/// so it is exact for any edges and O(1) for the (nearly) uniform ones of a CityGrid.
std::int64_t half_open_index(const std::vector<double>& edges, double inv_step, double v) {
    const auto n = static_cast<std::int64_t>(edges.size()) - 1;
    if (!(v >= edges.front() && v < edges.back())) {
        return -1;
    }
    auto k = static_cast<std::int64_t>((v - edges.front()) * inv_step);
    k = std::clamp<std::int64_t>(k, 0, n - 1);
    while (k > 0 && v < edges[static_cast<std::size_t>(k)]) {
        --k;
    }
    while (k < n - 1 && v >= edges[static_cast<std::size_t>(k + 1)]) {
        ++k;
    }
    return k;
}

/// The one error for a raster that misses the grid, whichever rule found it.
Error no_overlap_error(const std::string& subject, const CityGrid& grid) {
    return Error(subject,
                 fmt::format("raster does not overlap the grid (grid lon {:.4f}..{:.4f}, lat "
                             "{:.4f}..{:.4f})",
                             grid.lon_edges_deg.front(), grid.lon_edges_deg.back(),
                             grid.lat_edges_deg.front(), grid.lat_edges_deg.back()),
                 "Pass the population raster that covers this city with --pop_path.");
}

/// A point of the grid's UTM plane.
struct PointM {
    double x_m = 0;
    double y_m = 0;
};

/// Cell index of `v` along `edges`, clamped into [0, cells − 1] (for ranges of cells to visit).
std::int64_t clamped_index(const std::vector<double>& edges, double inv_step, double v) {
    if (v < edges.front()) {
        return 0;
    }
    if (v >= edges.back()) {
        return static_cast<std::int64_t>(edges.size()) - 2;
    }
    return half_open_index(edges, inv_step, v);
}

namespace bg = boost::geometry;
using BgPoint = bg::model::d2::point_xy<double>;
using BgPolygon = bg::model::polygon<BgPoint>;
using BgBox = bg::model::box<BgPoint>;

/// The parts of `polygon` inside `box` (Boost.Geometry's clipping; boundaries are closed).
std::vector<BgPolygon> clip_to_box(const BgPolygon& polygon, const BgBox& box) {
    std::vector<BgPolygon> pieces;
    bg::intersection(box, polygon, pieces);
    return pieces;
}

/// PopulationRule::kAreaWeighted (see the header): each pixel's quadrilateral in the UTM plane,
/// clipped against the metre cells it overlaps, its people shared by area.
/// Pixels [col_lo, col_hi] x [row_lo, row_hi] of a raster, inclusive.
struct PixelBox {
    std::int64_t col_lo = 0;
    std::int64_t col_hi = 0;
    std::int64_t row_lo = 0;
    std::int64_t row_hi = 0;

    [[nodiscard]] std::int64_t cols() const { return col_hi - col_lo + 1; }

    [[nodiscard]] std::int64_t rows() const { return row_hi - row_lo + 1; }
};

/// The grid's footprint in pixels: its outline, densified (a UTM rectangle is curved in
/// degrees), through the inverse geotransform; one pixel of margin, clipped to the raster.
PixelBox footprint_pixels(const CityGrid& grid, OGRCoordinateTransformation& to_raster,
                          const double (&inv)[6], std::int64_t raster_cols,
                          std::int64_t raster_rows, const std::string& subject) {
    const double x0_m = grid.x_edges_m.front();
    const double x1_m = grid.x_edges_m.back();
    const double y0_m = grid.y_edges_m.front();
    const double y1_m = grid.y_edges_m.back();
    constexpr int kOutlineSteps = 64;
    std::vector<double> ox;
    std::vector<double> oy;
    for (int s = 0; s < kOutlineSteps; ++s) {
        const double t = static_cast<double>(s) / kOutlineSteps;
        const double xs[4] = {x0_m + t * (x1_m - x0_m), x1_m, x1_m - t * (x1_m - x0_m), x0_m};
        const double ys[4] = {y0_m, y0_m + t * (y1_m - y0_m), y1_m, y1_m - t * (y1_m - y0_m)};
        for (int side = 0; side < 4; ++side) {
            ox.push_back(xs[side]);
            oy.push_back(ys[side]);
        }
    }
    std::vector<int> ok(ox.size(), 0);
    to_raster.Transform(static_cast<int>(ox.size()), ox.data(), oy.data(), nullptr, ok.data());
    double px_min = std::numeric_limits<double>::infinity();
    double px_max = -px_min;
    double py_min = px_min;
    double py_max = -px_min;
    for (std::size_t k = 0; k < ox.size(); ++k) {
        if (ok[k] == 0 || !std::isfinite(ox[k]) || !std::isfinite(oy[k])) {
            continue;
        }
        const double px = inv[0] + inv[1] * ox[k] + inv[2] * oy[k];
        const double py = inv[3] + inv[4] * ox[k] + inv[5] * oy[k];
        px_min = std::min(px_min, px);
        px_max = std::max(px_max, px);
        py_min = std::min(py_min, py);
        py_max = std::max(py_max, py);
    }
    const auto clip = [](double v, std::int64_t hi) {
        return static_cast<std::int64_t>(std::clamp(v, -1.0, static_cast<double>(hi)));
    };
    PixelBox box;
    box.col_lo = std::max<std::int64_t>(clip(std::floor(px_min), raster_cols) - 1, 0);
    box.col_hi = std::min(clip(std::floor(px_max), raster_cols) + 1, raster_cols - 1);
    box.row_lo = std::max<std::int64_t>(clip(std::floor(py_min), raster_rows) - 1, 0);
    box.row_hi = std::min(clip(std::floor(py_max), raster_rows) + 1, raster_rows - 1);
    if (!(px_min <= px_max) || px_max < 0.0 || py_max < 0.0 ||
        px_min >= static_cast<double>(raster_cols) || py_min >= static_cast<double>(raster_rows) ||
        box.col_hi < box.col_lo || box.row_hi < box.row_lo) {
        throw no_overlap_error(subject, grid);
    }
    return box;
}

/// Band 1's values over `box` as float32, row-major; negative counts are refused.
std::vector<float> read_pixels(GDALRasterBand& band, const PixelBox& box,
                               const NodataTest& nodata_test, const std::string& subject) {
    const std::int64_t wcols = box.cols();
    const std::int64_t wrows = box.rows();
    std::vector<float> values(static_cast<std::size_t>(wcols * wrows));
    if (band.RasterIO(GF_Read, to_gdal_int(box.col_lo, subject), to_gdal_int(box.row_lo, subject),
                      to_gdal_int(wcols, subject), to_gdal_int(wrows, subject), values.data(),
                      to_gdal_int(wcols, subject), to_gdal_int(wrows, subject), GDT_Float32, 0, 0,
                      nullptr) != CE_None) {
        throw Error(subject, "cannot read band 1 (" + detail::last_gdal_error() + ")",
                    "Check that the file is complete and readable (gdalinfo -checksum).");
    }
    require_nonnegative(values, wcols, box.row_lo, box.col_lo, nodata_test, subject);
    return values;
}

/// Pixel corners of one corner row (col_lo .. col_hi + 1) in the UTM plane; NaN where the
/// transformation failed.
std::vector<PointM> corner_row(OGRCoordinateTransformation& to_utm, const double (&gt)[6],
                               const PixelBox& box, std::int64_t row) {
    const std::int64_t wcols = box.cols();
    std::vector<double> xs(static_cast<std::size_t>(wcols + 1));
    std::vector<double> ys(xs.size());
    for (std::int64_t c = 0; c <= wcols; ++c) {
        const auto col = static_cast<double>(box.col_lo + c);
        const auto r = static_cast<double>(row);
        xs[static_cast<std::size_t>(c)] = gt[0] + gt[1] * col + gt[2] * r;
        ys[static_cast<std::size_t>(c)] = gt[3] + gt[4] * col + gt[5] * r;
    }
    std::vector<int> good(xs.size(), 0);
    to_utm.Transform(static_cast<int>(xs.size()), xs.data(), ys.data(), nullptr, good.data());
    std::vector<PointM> out(xs.size());
    for (std::size_t k = 0; k < xs.size(); ++k) {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        out[k] = good[k] != 0 ? PointM{xs[k], ys[k]} : PointM{nan, nan};
    }
    return out;
}

/// A pixel's corners in the UTM plane: p00 = corner (col, row), p10 = (col + 1, row),
/// p01 = (col, row + 1), p11.
struct PixelQuad {
    PointM p00, p10, p01, p11;
};

enum class PixelFate { kUntransformed, kOutside, kCounted };

/// Spreads `people` over the grid cells that the pixel's quad overlaps, by area (`acc`: the
/// grid's cells, row-major).
/// The grid with its inverse cell steps, computed once per raster, not once per pixel.
struct SteppedGrid {
    const CityGrid& grid;
    double inv_x_step;
    double inv_y_step;

    explicit SteppedGrid(const CityGrid& g)
        : grid(g),
          inv_x_step(static_cast<double>(g.cols()) / (g.x_edges_m.back() - g.x_edges_m.front())),
          inv_y_step(static_cast<double>(g.rows()) / (g.y_edges_m.back() - g.y_edges_m.front())) {}
};

PixelFate spread_pixel(float people, const PixelQuad& q, const SteppedGrid& stepped,
                       std::vector<double>& acc) {
    const CityGrid& grid = stepped.grid;
    const double inv_x_step = stepped.inv_x_step;
    const double inv_y_step = stepped.inv_y_step;
    const double qx_min = std::min({q.p00.x_m, q.p10.x_m, q.p01.x_m, q.p11.x_m});
    const double qx_max = std::max({q.p00.x_m, q.p10.x_m, q.p01.x_m, q.p11.x_m});
    const double qy_min = std::min({q.p00.y_m, q.p10.y_m, q.p01.y_m, q.p11.y_m});
    const double qy_max = std::max({q.p00.y_m, q.p10.y_m, q.p01.y_m, q.p11.y_m});
    if (std::isnan(qx_min + qx_max + qy_min + qy_max))
        return PixelFate::kUntransformed;
    const auto& xe = grid.x_edges_m;
    const auto& ye = grid.y_edges_m;
    if (qx_max < xe.front() || qx_min >= xe.back() || qy_max < ye.front() || qy_min >= ye.back())
        return PixelFate::kOutside;  // outside the grid's footprint
    if (people == 0.0F)
        return PixelFate::kCounted;
    BgPolygon quad;
    for (const PointM& p : {q.p00, q.p10, q.p11, q.p01, q.p00}) {
        bg::append(quad.outer(), BgPoint(p.x_m, p.y_m));
    }
    bg::correct(quad);  // Boost wants clockwise, closed rings
    const double quad_area_m2 = bg::area(quad);
    if (!(quad_area_m2 > 0.0))
        return PixelFate::kCounted;  // degenerate (e.g. a pixel beyond the pole)
    const std::size_t cols = grid.cols();
    const double people_per_m2 = static_cast<double>(people) / quad_area_m2;
    const std::int64_t j_lo = clamped_index(xe, inv_x_step, qx_min);
    const std::int64_t j_hi = clamped_index(xe, inv_x_step, qx_max);
    const std::int64_t i_lo = clamped_index(ye, inv_y_step, qy_min);
    const std::int64_t i_hi = clamped_index(ye, inv_y_step, qy_max);
    const auto jl = static_cast<std::size_t>(j_lo);
    const auto il = static_cast<std::size_t>(i_lo);
    if (j_lo == j_hi && i_lo == i_hi && qx_min >= xe[jl] && qx_max <= xe[jl + 1] &&
        qy_min >= ye[il] && qy_max <= ye[il + 1]) {
        acc[il * cols + jl] += static_cast<double>(people);  // the whole pixel in one cell
        return PixelFate::kCounted;
    }
    // Column strips first, then cells: each clip works on a small piece.
    for (std::int64_t j = j_lo; j <= j_hi; ++j) {
        const auto ju = static_cast<std::size_t>(j);
        const BgBox strip(BgPoint(xe[ju], qy_min), BgPoint(xe[ju + 1], qy_max));
        const std::vector<BgPolygon> column =
            j_lo == j_hi ? std::vector<BgPolygon>{quad} : clip_to_box(quad, strip);
        for (std::int64_t i = i_lo; i <= i_hi && !column.empty(); ++i) {
            const auto iu = static_cast<std::size_t>(i);
            const BgBox cell(BgPoint(xe[ju], ye[iu]), BgPoint(xe[ju + 1], ye[iu + 1]));
            double area_m2 = 0.0;
            for (const BgPolygon& part : column) {
                for (const BgPolygon& piece : clip_to_box(part, cell)) {
                    area_m2 += bg::area(piece);
                }
            }
            acc[iu * cols + ju] += people_per_m2 * area_m2;
        }
    }
    return PixelFate::kCounted;
}

NdArray<float> sample_area_weighted(GDALDataset& ds, const OGRSpatialReference& file_srs,
                                    const std::string& subject, const CityGrid& grid,
                                    core::Progress& progress) {
    OGRSpatialReference raster_srs(file_srs);
    raster_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    const OGRSpatialReference utm = detail::srs_from_epsg(grid.epsg);
    const auto to_utm = detail::make_transform(raster_srs, utm, subject);
    const auto to_raster = detail::make_transform(utm, raster_srs, subject);

    double gt[6] = {0, 1, 0, 0, 0, 1};
    double inv[6] = {0, 1, 0, 0, 0, 1};
    if (ds.GetGeoTransform(gt) != CE_None || GDALInvGeoTransform(gt, inv) == FALSE) {
        throw Error(subject, "raster has no (invertible) geotransform",
                    "Georeference it (gdal_translate -a_ullr).");
    }
    const PixelBox box =
        footprint_pixels(grid, *to_raster, inv, ds.GetRasterXSize(), ds.GetRasterYSize(), subject);
    const std::int64_t wcols = box.cols();
    const std::int64_t wrows = box.rows();
    GDALRasterBand* band = ds.GetRasterBand(1);
    const NodataTest nodata_test(band_nodata(*band));
    const std::vector<float> values = read_pixels(*band, box, nodata_test, subject);

    const std::size_t rows = grid.rows();
    const std::size_t cols = grid.cols();
    const SteppedGrid stepped(grid);
    std::vector<double> acc(rows * cols, 0.0);
    std::size_t valid_pixels = 0;
    std::size_t failed_pixels = 0;
    progress.start("population", static_cast<std::uint64_t>(wrows), "pixel rows");
    std::vector<PointM> top = corner_row(*to_utm, gt, box, box.row_lo);
    for (std::int64_t r = 0; r < wrows; ++r) {
        std::vector<PointM> bottom = corner_row(*to_utm, gt, box, box.row_lo + r + 1);
        for (std::int64_t c = 0; c < wcols; ++c) {
            const float v = values[static_cast<std::size_t>(r * wcols + c)];
            if (nodata_test.is_nodata(v) || !std::isfinite(v)) {
                continue;
            }
            const auto cu = static_cast<std::size_t>(c);
            const PixelQuad quad{top[cu], top[cu + 1], bottom[cu], bottom[cu + 1]};
            switch (spread_pixel(v, quad, stepped, acc)) {
                case PixelFate::kUntransformed:
                    ++failed_pixels;
                    break;
                case PixelFate::kOutside:
                    break;
                case PixelFate::kCounted:
                    ++valid_pixels;
                    break;
            }
        }
        top = std::move(bottom);
        progress.advance(1);
    }
    progress.finish();
    if (valid_pixels == 0) {
        throw Error(subject, "NaN/nodata everywhere on the grid (no valid population pixel)",
                    "Pass the population raster that covers this city with --pop_path.");
    }
    if (failed_pixels > 0) {
        spdlog::warn("{}: {} pixels near the grid could not be transformed to EPSG:{} and count 0",
                     subject, failed_pixels, grid.epsg);
    }
    NdArray<float> out({rows, cols}, 0.0F);
    double total = 0.0;
    for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
            out.at(i, j) = static_cast<float>(acc[i * cols + j]);
            total += acc[i * cols + j];
        }
    }
    spdlog::debug("{}: population area-weighted, {} people, {} valid pixels ({}x{} pixels read)",
                  subject, total, valid_pixels, wcols, wrows);
    return out;
}

}  // namespace

GeoTransformDeg GeoTransformDeg::from_gdal(const double (&gt)[6]) {
    GeoTransformDeg out;
    out.origin_x_deg = gt[0];
    out.pixel_width_deg = gt[1];
    out.row_rotation = gt[2];
    out.origin_y_deg = gt[3];
    out.col_rotation = gt[4];
    out.pixel_height_deg = gt[5];
    return out;
}

GeoTransformDeg GeoTransformDeg::from_gdal(const std::vector<double>& gt) {
    if (gt.size() != 6) {
        throw std::invalid_argument("GeoTransformDeg::from_gdal: need 6 numbers");
    }
    const double arr[6] = {gt[0], gt[1], gt[2], gt[3], gt[4], gt[5]};
    return from_gdal(arr);
}

PixelWindow window_from_bounds(const GeoTransformDeg& gt, double lon_min_deg, double lat_min_deg,
                               double lon_max_deg, double lat_max_deg) {
    // REFCOMPAT: rasterio 1.3 `from_bounds` → `rowcol(op=float)` with affine's `~transform`, term
    // by term in the same order, so the float64 window is bit-identical to the reference's.
    const double a = gt.pixel_width_deg;
    const double b = gt.row_rotation;
    const double c = gt.origin_x_deg;
    const double d = gt.col_rotation;
    const double e = gt.pixel_height_deg;
    const double f = gt.origin_y_deg;
    const double idet = 1.0 / (a * e - b * d);
    const double ra = e * idet;
    const double rb = -b * idet;
    const double rd = -d * idet;
    const double re = a * idet;
    const double rc = -c * ra - f * rb;
    const double rf = -c * rd - f * re;

    const double eps = DBL_EPSILON;  // rowcol nudges every point by +eps in x, −eps in y
    const double xs[4] = {lon_min_deg, lon_max_deg, lon_max_deg, lon_min_deg};
    const double ys[4] = {lat_max_deg, lat_max_deg, lat_min_deg, lat_min_deg};
    double col_min = std::numeric_limits<double>::infinity();
    double col_max = -col_min;
    double row_min = col_min;
    double row_max = -col_min;
    for (int k = 0; k < 4; ++k) {
        const double x = xs[k] + eps;
        const double y = ys[k] - eps;
        const double fcol = x * ra + y * rb + rc;
        const double frow = x * rd + y * re + rf;
        col_min = std::min(col_min, fcol);
        col_max = std::max(col_max, fcol);
        row_min = std::min(row_min, frow);
        row_max = std::max(row_max, frow);
    }
    PixelWindow w;
    w.col_off = col_min;
    w.row_off = row_min;
    w.width = std::max(col_max - col_min, 0.0);
    w.height = std::max(row_max - row_min, 0.0);
    return w;
}

WindowShape window_out_shape(const PixelWindow& window) {
    WindowShape s;
    s.rows = static_cast<std::int64_t>(std::floor(window.height + 0.5));
    s.cols = static_cast<std::int64_t>(std::floor(window.width + 0.5));
    return s;
}

std::int64_t centre_rule_pixel(double off, double length, std::int64_t out_len, std::int64_t pos) {
    const double step = length / static_cast<double>(out_len);
    return static_cast<std::int64_t>(std::floor(off + (static_cast<double>(pos) + 0.5) * step));
}

std::vector<std::int64_t> sampled_pixel_indices(const PixelWindow& window, std::int64_t raster_cols,
                                                std::int64_t raster_rows) {
    const WindowShape shape = window_out_shape(window);
    std::vector<std::int64_t> out;
    out.reserve(static_cast<std::size_t>(shape.rows * shape.cols));
    for (std::int64_t r = 0; r < shape.rows; ++r) {
        const std::int64_t row = centre_rule_pixel(window.row_off, window.height, shape.rows, r);
        for (std::int64_t c = 0; c < shape.cols; ++c) {
            const std::int64_t col = centre_rule_pixel(window.col_off, window.width, shape.cols, c);
            const bool inside = row >= 0 && row < raster_rows && col >= 0 && col < raster_cols;
            out.push_back(inside ? row * raster_cols + col : -1);
        }
    }
    return out;
}

CellSample sample_window(const RasterBlock& block, const PixelWindow& window) {
    std::vector<float> scratch;
    return sample_window_with(block, window, NodataTest(block.nodata), scratch);
}

namespace {

/// The window rule's geotransform: a north-up raster in WGS 84 degrees, or one clear error.
GeoTransformDeg north_up_degrees(GDALDataset& ds, const OGRSpatialReference& srs,
                                 const std::string& subject) {
    const OGRSpatialReference wgs84 = detail::srs_from_epsg(4326);
    const char* const same_options[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES",
                                        "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS", nullptr};
    if (!srs.IsSame(&wgs84, same_options)) {
        const char* name = srs.GetName();
        throw Error(subject,
                    fmt::format("raster CRS is '{}', not EPSG:4326 (the window rule works on "
                                "degree pixels)",
                                name != nullptr ? name : "unknown"),
                    "Use --pop_rule area_weighted, or reproject it with "
                    "'gdalwarp -t_srs EPSG:4326'.");
    }
    double gt_raw[6] = {0, 1, 0, 0, 0, 1};
    if (ds.GetGeoTransform(gt_raw) != CE_None) {
        throw Error(subject, "raster has no geotransform",
                    "Georeference it (gdal_translate -a_ullr).");
    }
    const GeoTransformDeg gt = GeoTransformDeg::from_gdal(gt_raw);
    if (gt.row_rotation != 0.0 || gt.col_rotation != 0.0 || gt.pixel_width_deg <= 0.0 ||
        gt.pixel_height_deg >= 0.0) {
        throw Error(subject, "raster is not north-up (rotated or flipped geotransform)",
                    "Make it north-up with 'gdalwarp -t_srs EPSG:4326'.");
    }
    return gt;
}

/// Every cell's pixel window, and the pixel rectangle the centre rule touches inside the raster
/// (the footprint), so that one RasterIO call reads exactly what is needed.
struct CellWindows {
    std::vector<PixelWindow> windows;  // rows x cols, row-major
    PixelBox footprint;
};

CellWindows cell_windows(const GeoTransformDeg& gt, const CityGrid& grid, std::int64_t raster_cols,
                         std::int64_t raster_rows, const std::string& subject) {
    const std::size_t rows = grid.rows();
    const std::size_t cols = grid.cols();
    CellWindows out;
    out.windows.resize(rows * cols);
    PixelBox& box = out.footprint;
    box = {raster_cols, -1, raster_rows, -1};
    std::size_t empty_windows = 0;
    for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
            const PixelWindow w =
                window_from_bounds(gt, grid.lon_edges_deg[j], grid.lat_edges_deg[i],
                                   grid.lon_edges_deg[j + 1], grid.lat_edges_deg[i + 1]);
            out.windows[i * cols + j] = w;
            const WindowShape shape = window_out_shape(w);
            if (shape.rows <= 0 || shape.cols <= 0) {
                ++empty_windows;
                continue;
            }
            const std::int64_t r0 = centre_rule_pixel(w.row_off, w.height, shape.rows, 0);
            const std::int64_t r1 =
                centre_rule_pixel(w.row_off, w.height, shape.rows, shape.rows - 1);
            const std::int64_t c0 = centre_rule_pixel(w.col_off, w.width, shape.cols, 0);
            const std::int64_t c1 =
                centre_rule_pixel(w.col_off, w.width, shape.cols, shape.cols - 1);
            const std::int64_t cell_row_lo = std::max<std::int64_t>(r0, 0);
            const std::int64_t cell_row_hi = std::min(r1, raster_rows - 1);
            const std::int64_t cell_col_lo = std::max<std::int64_t>(c0, 0);
            const std::int64_t cell_col_hi = std::min(c1, raster_cols - 1);
            if (cell_row_hi < cell_row_lo || cell_col_hi < cell_col_lo) {
                continue;  // the whole window lies outside the raster
            }
            box.row_lo = std::min(box.row_lo, cell_row_lo);
            box.row_hi = std::max(box.row_hi, cell_row_hi);
            box.col_lo = std::min(box.col_lo, cell_col_lo);
            box.col_hi = std::max(box.col_hi, cell_col_hi);
        }
    }
    if (empty_windows == rows * cols) {
        // REFCOMPAT: the window rule rounds a cell's window to whole pixels; with pixels more
        // than twice the 100 m cell it rounds to none, and the reference silently gives zeros.
        throw Error(subject,
                    fmt::format("pixels of {:.6f}° x {:.6f}° are too coarse for 100 m cells: the "
                                "reference's window rule samples no pixel",
                                gt.pixel_width_deg, -gt.pixel_height_deg),
                    "Use --pop_rule area_weighted, or a raster with pixels of about 100 m or "
                    "finer (WorldPop's 3 arc-seconds).");
    }
    if (box.row_hi < box.row_lo || box.col_hi < box.col_lo) {
        throw no_overlap_error(subject, grid);
    }
    return out;
}

}  // namespace

NdArray<float> sample_population(const std::filesystem::path& raster, const CityGrid& grid,
                                 core::Progress& progress, const PopulationOptions& options) {
    const std::string subject = raster.string();
    if (!std::filesystem::exists(raster)) {
        throw Error(subject, "population raster not found", kRasterFix);
    }
    GDALDatasetUniquePtr ds(GDALDataset::Open(raster.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    if (!ds || ds->GetRasterCount() < 1) {
        throw Error(subject, "not a readable raster (" + detail::last_gdal_error() + ")",
                    kRasterFix);
    }
    const OGRSpatialReference* srs = ds->GetSpatialRef();
    if (srs == nullptr || srs->IsEmpty()) {
        throw Error(subject, "raster has no coordinate reference system",
                    "If its coordinates are WGS 84 degrees, assign one with "
                    "'gdal_edit.py -a_srs EPSG:4326'.");
    }
    if (options.rule == PopulationRule::kAreaWeighted) {
        return sample_area_weighted(*ds, *srs, subject, grid, progress);
    }
    const GeoTransformDeg gt = north_up_degrees(*ds, *srs, subject);

    const std::size_t rows = grid.rows();
    const std::size_t cols = grid.cols();
    RasterBlock block;
    block.raster_cols = ds->GetRasterXSize();
    block.raster_rows = ds->GetRasterYSize();
    GDALRasterBand* band = ds->GetRasterBand(1);
    block.nodata = band_nodata(*band);
    const CellWindows cells = cell_windows(gt, grid, block.raster_cols, block.raster_rows, subject);
    const PixelBox& box = cells.footprint;
    block.row0 = box.row_lo;
    block.col0 = box.col_lo;
    block.rows = box.rows();
    block.cols = box.cols();
    const NodataTest nodata_test(block.nodata);
    block.values = read_pixels(*band, box, nodata_test, subject);

    NdArray<float> out({rows, cols}, 0.0F);
    std::vector<float> scratch;
    std::size_t valid_cells = 0;
    progress.start("population", static_cast<std::uint64_t>(rows * cols), "cells");
    for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
            const CellSample s =
                sample_window_with(block, cells.windows[i * cols + j], nodata_test, scratch);
            out.at(i, j) = s.mean;
            valid_cells += s.valid_count > 0 ? 1 : 0;
        }
        progress.advance(cols);
    }
    progress.finish();
    if (valid_cells == 0) {
        throw Error(subject, "NaN/nodata everywhere on the grid (no valid population pixel)",
                    "Pass the population raster that covers this city with --pop_path.");
    }
    spdlog::debug("{}: population sampled, {} of {} cells with valid pixels ({}x{} pixels read)",
                  subject, valid_cells, rows * cols, block.cols, block.rows);
    return out;
}

}  // namespace zoomdiff::geo
