#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"

namespace zoomdiff::geo {

/// The six numbers of a north-up raster's geotransform, in GDAL order, named (STYLE §2.6).
/// Pixel (col, row) covers lon [origin + col·width, origin + (col+1)·width] and, with a negative
/// `pixel_height_deg`, lat [origin_y + (row+1)·height, origin_y + row·height]: rows from the north.
struct GeoTransformDeg {
    double origin_x_deg = 0;       ///< GDAL gt[0]: west edge of column 0
    double pixel_width_deg = 1;    ///< gt[1]
    double row_rotation = 0;       ///< gt[2]: must be 0
    double origin_y_deg = 0;       ///< gt[3]: north edge of row 0
    double col_rotation = 0;       ///< gt[4]: must be 0
    double pixel_height_deg = -1;  ///< gt[5]: negative for north-up rasters

    /// From GDAL's `double[6]` order.
    static GeoTransformDeg from_gdal(const double (&gt)[6]);
    static GeoTransformDeg from_gdal(const std::vector<double>& gt);
};

/// A fractional pixel window (rasterio's `Window`): offsets and sizes in pixels, float64.
struct PixelWindow {
    double col_off = 0;
    double row_off = 0;
    double width = 0;
    double height = 0;
};

/// The fractional window of the degree rectangle [lon_min, lon_max] × [lat_min, lat_max], computed
/// exactly as rasterio 1.3's `windows.from_bounds` (the four corners through the inverse affine,
/// each nudged by DBL_EPSILON as its `rowcol` does; offsets = min, sizes = max − min, at least 0).
PixelWindow window_from_bounds(const GeoTransformDeg& gt, double lon_min_deg, double lat_min_deg,
                               double lon_max_deg, double lat_max_deg);

/// Output pixels of a window read: round-half-up(height) rows × round-half-up(width) cols.
struct WindowShape {
    std::int64_t rows = 0;
    std::int64_t cols = 0;
};

WindowShape window_out_shape(const PixelWindow& window);

/// Source pixel column (or row) that lands at output position `pos` of `out_len` by the centre
/// rule: the pixel containing off + (pos + ½)·length/out_len. May lie outside the raster.
std::int64_t centre_rule_pixel(double off, double length, std::int64_t out_len, std::int64_t pos);

/// Flat source pixel index (row·raster_cols + col) at every output position of `window`,
/// (out rows × out cols) row-major from the window's top (north) row; −1 where the centre lies
/// outside the raster (the reference fills those with nodata).
std::vector<std::int64_t> sampled_pixel_indices(const PixelWindow& window, std::int64_t raster_cols,
                                                std::int64_t raster_rows);

/// Pixels of one band held in memory: the rectangle [col0, col0 + cols) × [row0, row0 + rows) of a
/// raster of raster_cols × raster_rows pixels, rows from the north as in the file.
struct RasterBlock {
    std::int64_t col0 = 0;
    std::int64_t row0 = 0;
    std::int64_t cols = 0;
    std::int64_t rows = 0;
    std::int64_t raster_cols = 0;
    std::int64_t raster_rows = 0;
    std::vector<float> values;     ///< rows × cols, row-major
    std::optional<double> nodata;  ///< the band's nodata value, if it has one
};

/// One cell's sample: the mean of its valid output pixels and how many there were.
struct CellSample {
    float mean = 0;                ///< people per pixel; 0 when valid_count == 0
    std::int32_t valid_count = 0;  ///< output pixels that were inside, not nodata, not NaN
};

/// Sample `window` from `block` by the reference's rule (PIPELINE §1.4): the output grid of
/// window_out_shape() pixels, each taken by the centre rule; pixels outside the raster, equal to
/// nodata (compared in float32, as numpy compares a float32 array with a Python float) or NaN are
/// dropped; the mean of the rest is accumulated in float32 in numpy's pairwise order and divided
/// by the count (numpy's float32 `mean`). Throws std::out_of_range if a needed pixel inside the
/// raster is not in `block`.
CellSample sample_window(const RasterBlock& block, const PixelWindow& window);

/// How sample_population() turns raster pixels into people per 100 m cell.
enum class PopulationRule {
    /// The reference's window rule (PIPELINE §1.4): one degree window per cell, the mean of its
    /// centre-rule pixels. Needs an EPSG:4326 raster with pixels of about 100 m or finer and
    /// carries the latitude-dependent bias of PIPELINE P-3.
    kReference,
    /// People are spread over cells by area: each cell gets Σ pixel value × (fraction of the
    /// pixel's area inside the cell), so the people of every pixel inside the grid are conserved.
    /// Any CRS, any pixel size. CLI: `--pop_rule area_weighted`.
    kAreaWeighted,
};

/// Options of sample_population().
struct PopulationOptions {
    /// Which rule; kReference reproduces the reference's values (golden `population/`).
    PopulationRule rule = PopulationRule::kReference;
};

/// People per 100 m cell, float32 (rows, cols) with rows from the south, by `options.rule`.
///
/// PopulationRule::kReference (the default) follows the reference's window rule (PIPELINE §1.4,
/// golden README `population/`): each cell's degree rectangle
/// [lon_edges[j], lon_edges[j+1]] × [lat_edges[i], lat_edges[i+1]] becomes a fractional pixel
/// window (window_from_bounds), sampled by sample_window(). For 3″ WorldPop pixels this is a
/// nearest-pixel lookup (one pixel per cell). Reads band 1 once: the pixel rectangle covering the
/// grid's footprint (plus one pixel), clipped to the raster, so memory grows with the grid, not
/// with the raster.
///
/// Differences from the reference, on purpose:
/// - NaN pixels always count as nodata (the reference only drops them when nodata is NaN).
/// - Window pixels outside the raster are always dropped, also for a raster without nodata
///   (the reference would average its fill value). At the raster border the reference's boundless
///   read can also repeat the edge pixel where the centre rule says "outside" (golden README).
/// - Errors instead of silent zeros (zoomdiff::Error, exit code 2, naming `raster` and the fix):
///   the file is missing or not a readable raster; it has no CRS; its CRS is not EPSG:4326
///   (refused, not reprojected: the window rule is defined on the raster's own degree pixels —
///   the fix names `--pop_rule area_weighted` and `gdalwarp -t_srs EPSG:4326`); it has a rotated
///   geotransform; its pixels are so coarse that every window rounds to no pixel (the fix names
///   `--pop_rule area_weighted`); it does not overlap the grid; every cell is nodata/NaN; or a
///   pixel read is negative and not nodata (issue 19; the reference averages it in: a fill value
///   the raster does not declare, or a broken raster, would make negative people).
///
/// PopulationRule::kAreaWeighted works in the grid's UTM metre plane (`grid.epsg`,
/// `grid.x_edges_m`, `grid.y_edges_m`; degree edges are not used) for a raster in any CRS with an
/// affine (also rotated) geotransform. Each pixel's four corners are transformed into that plane
/// with OGR (one transformation per pixel corner); the quadrilateral they span is clipped against
/// every 100 m cell it overlaps (Sutherland–Hodgman), and the cell gets value × clipped area /
/// quadrilateral area. Cells tile the grid's rectangle, so the people of every pixel inside it are
/// conserved exactly (up to float64 rounding; cells are stored as float32). The only approximation
/// is the straight quadrilateral edge where the true image of a pixel edge is slightly curved: for
/// a geographic raster the sagitta is about L²/(8R), R ≳ 6,000 km at mid latitudes, i.e. ≈ 6 mm
/// for a 0.005° (≈ 550 m) pixel and < 0.2 mm for WorldPop's 3″; none when the raster is already in
/// the grid's UTM zone. Nodata, NaN and ±inf pixels contribute 0. Reads band 1 once: the pixel
/// rectangle covering the grid's footprint (its densified outline transformed into the raster's
/// CRS, plus one pixel), clipped to the raster; pixels whose quadrilateral misses the grid are
/// skipped. Errors as above (missing/unreadable file, no CRS, no geotransform, no overlap, nodata
/// everywhere) plus a CRS that cannot be transformed to the grid's UTM zone.
NdArray<float> sample_population(const std::filesystem::path& raster, const CityGrid& grid,
                                 core::Progress& progress,
                                 const PopulationOptions& options = PopulationOptions{});

}  // namespace zoomdiff::geo
