#pragma once

// A small raster canvas for zoomdiff_eval's plots: filled rectangles, lines, a built-in 5×7 bitmap
// font, and line charts / side-by-side maps on top of them, written as PNG through the quicklooks'
// writer (io::write_rgba_png). No plotting library: the images only need to be readable, and the
// tool must stay free of LibTorch and Python.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace zoomdiff::eval {

struct Rgb {
    std::uint8_t r = 0;
    std::uint8_t g = 0;
    std::uint8_t b = 0;

    friend bool operator==(const Rgb& a, const Rgb& b) {
        return a.r == b.r && a.g == b.g && a.b == b.b;
    }

    friend bool operator!=(const Rgb& a, const Rgb& b) { return !(a == b); }
};

inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr Rgb kBlack{0, 0, 0};
inline constexpr Rgb kGrey{160, 160, 160};
inline constexpr Rgb kLightGrey{225, 225, 225};

/// Pixel width and height of one glyph of the built-in font at scale 1; glyphs advance by
/// kGlyphWidth + 1 pixels.
inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 7;

/// An opaque RGB image, (0, 0) at the top left, x to the right, y down. Drawing outside the image
/// is clipped, never an error.
class Canvas {
public:
    Canvas(std::size_t width, std::size_t height, Rgb background = kWhite);

    [[nodiscard]] std::size_t width() const noexcept { return width_; }

    [[nodiscard]] std::size_t height() const noexcept { return height_; }

    /// The pixel at (x, y); throws std::out_of_range outside the image.
    [[nodiscard]] Rgb pixel(std::size_t x, std::size_t y) const;

    void set(long x, long y, Rgb colour);
    /// Fills [x0, x1) × [y0, y1).
    void fill_rect(long x0, long y0, long x1, long y1, Rgb colour);
    /// A straight line from (x0, y0) to (x1, y1), both ends included (Bresenham), `thickness`
    /// pixels wide (a square brush).
    void line(long x0, long y0, long x1, long y1, Rgb colour, int thickness = 1);
    /// Text with its top-left corner at (x, y), glyphs `scale` × enlarged. Letters print as
    /// capitals; a character the font lacks prints as '?'.
    void text(long x, long y, const std::string& text, Rgb colour, int scale = 1);
    /// Width in pixels of `text` at `scale` (no trailing gap).
    [[nodiscard]] static long text_width(const std::string& text, int scale = 1);

    /// RGBA (opaque), pixel-interleaved, for io::write_rgba_png.
    [[nodiscard]] std::vector<std::uint8_t> rgba() const;
    /// Write as PNG atomically with a `title` tEXt chunk.
    void write_png(const std::filesystem::path& path, const std::string& title) const;

private:
    std::size_t width_;
    std::size_t height_;
    std::vector<Rgb> pixels_;
};

/// Up to `max_ticks`+2 "nice" tick values (1, 2 or 5 × 10^k steps) covering [lo, hi].
[[nodiscard]] std::vector<double> nice_ticks(double lo, double hi, int max_ticks = 6);

/// A number for an axis label: at most 4 significant digits, no trailing zeros ("0.25", "1.2e+05").
[[nodiscard]] std::string axis_number(double value);

struct LineSeries {
    std::string label;
    std::vector<double> x;
    std::vector<double> y;  ///< non-finite points break the line
    Rgb colour;
    int thickness = 1;
};

/// Where a chart's plot area lies and how data map to it (returned so tests can find a point).
struct ChartFrame {
    long left = 0, top = 0, right = 0, bottom = 0;  ///< plot area in pixels, inclusive
    double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
    [[nodiscard]] long px(double x) const;
    [[nodiscard]] long py(double y) const;
};

/// A line chart: title, axes with ticks and numbers, axis labels, a legend; the y range covers
/// every finite value (and 0 when `y_from_zero`).
ChartFrame draw_line_chart(Canvas& canvas, const std::string& title, const std::string& x_label,
                           const std::string& y_label, const std::vector<LineSeries>& series,
                           bool y_from_zero = true);

/// One map of a map panel: (rows, cols) values with rows from the south (drawn north-up), NaN =
/// no value (drawn light grey).
struct MapPanel {
    std::string label;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<double> values;
};

/// Maps side by side on one colour scale [0, scale_max] (the quicklooks' ramp) with a colour bar;
/// each cell is enlarged to whole pixels. Returns the canvas.
[[nodiscard]] Canvas draw_map_panels(const std::string& title, const std::vector<MapPanel>& panels,
                                     double scale_max);

}  // namespace zoomdiff::eval
