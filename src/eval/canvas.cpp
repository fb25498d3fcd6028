#include "zoomdiff/eval/canvas.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "zoomdiff/io/results_store.hpp"

namespace zoomdiff::eval {
namespace {

struct Glyph {
    char c;
    std::array<const char*, 7> rows;
};

// A 5×7 font: digits, capitals and the punctuation of titles, labels and numbers.
constexpr std::array<Glyph, 60> kFont{{
    {'0', {" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "}},
    {'1', {"  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}},
    {'2', {" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"}},
    {'3', {"#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "}},
    {'4', {"   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "}},
    {'5', {"#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "}},
    {'6', {"  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "}},
    {'7', {"#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "}},
    {'8', {" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "}},
    {'9', {" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "}},
    {'A', {" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"}},
    {'B', {"#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### "}},
    {'C', {" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### "}},
    {'D', {"###  ", "#  # ", "#   #", "#   #", "#   #", "#  # ", "###  "}},
    {'E', {"#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####"}},
    {'F', {"#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    "}},
    {'G', {" ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####"}},
    {'H', {"#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"}},
    {'I', {" ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}},
    {'J', {"  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  "}},
    {'K', {"#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #"}},
    {'L', {"#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####"}},
    {'M', {"#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #"}},
    {'N', {"#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #"}},
    {'O', {" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "}},
    {'P', {"#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    "}},
    {'Q', {" ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #"}},
    {'R', {"#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #"}},
    {'S', {" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### "}},
    {'T', {"#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "}},
    {'U', {"#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "}},
    {'V', {"#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  "}},
    {'W', {"#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # "}},
    {'X', {"#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #"}},
    {'Y', {"#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  "}},
    {'Z', {"#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####"}},
    {' ', {"     ", "     ", "     ", "     ", "     ", "     ", "     "}},
    {'.', {"     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "}},
    {',', {"     ", "     ", "     ", "     ", " ##  ", "  #  ", " #   "}},
    {'-', {"     ", "     ", "     ", "#####", "     ", "     ", "     "}},
    {'+', {"     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     "}},
    {':', {"     ", " ##  ", " ##  ", "     ", " ##  ", " ##  ", "     "}},
    {'(', {"   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # "}},
    {')', {" #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   "}},
    {'/', {"     ", "    #", "   # ", "  #  ", " #   ", "#    ", "     "}},
    {'%', {"##   ", "##  #", "   # ", "  #  ", " #   ", "#  ##", "   ##"}},
    {'_', {"     ", "     ", "     ", "     ", "     ", "     ", "#####"}},
    {'=', {"     ", "     ", "#####", "     ", "#####", "     ", "     "}},
    {'|', {"  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "}},
    {'\'', {"  #  ", "  #  ", " #   ", "     ", "     ", "     ", "     "}},
    {'<', {"   # ", "  #  ", " #   ", "#    ", " #   ", "  #  ", "   # "}},
    {'>', {" #   ", "  #  ", "   # ", "    #", "   # ", "  #  ", " #   "}},
    {'[', {" ### ", " #   ", " #   ", " #   ", " #   ", " #   ", " ### "}},
    {']', {" ### ", "   # ", "   # ", "   # ", "   # ", "   # ", " ### "}},
    {'*', {"     ", "  #  ", "# # #", " ### ", "# # #", "  #  ", "     "}},
    {'#', {" # # ", " # # ", "#####", " # # ", "#####", " # # ", " # # "}},
    {'^', {"  #  ", " # # ", "#   #", "     ", "     ", "     ", "     "}},
    {'!', {"  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "  #  "}},
    {'"', {" # # ", " # # ", "     ", "     ", "     ", "     ", "     "}},
    {'?', {" ### ", "#   #", "    #", "   # ", "  #  ", "     ", "  #  "}},
}};

const Glyph& glyph(char c) {
    if (c >= 'a' && c <= 'z') {
        c = static_cast<char>(c - 'a' + 'A');
    }
    for (const Glyph& g : kFont) {
        if (g.c == c) {
            return g;
        }
    }
    return kFont.back();  // '?'
}

}  // namespace

Canvas::Canvas(std::size_t width, std::size_t height, Rgb background)
    : width_(width), height_(height), pixels_(width * height, background) {
    if (width == 0 || height == 0) {
        throw std::invalid_argument("Canvas: empty image");
    }
}

Rgb Canvas::pixel(std::size_t x, std::size_t y) const {
    if (x >= width_ || y >= height_) {
        throw std::out_of_range("Canvas::pixel outside the image");
    }
    return pixels_[y * width_ + x];
}

void Canvas::set(long x, long y, Rgb colour) {
    if (x < 0 || y < 0 || static_cast<std::size_t>(x) >= width_ ||
        static_cast<std::size_t>(y) >= height_) {
        return;
    }
    pixels_[static_cast<std::size_t>(y) * width_ + static_cast<std::size_t>(x)] = colour;
}

void Canvas::fill_rect(long x0, long y0, long x1, long y1, Rgb colour) {
    x0 = std::max(x0, 0L);
    y0 = std::max(y0, 0L);
    x1 = std::min(x1, static_cast<long>(width_));
    y1 = std::min(y1, static_cast<long>(height_));
    for (long y = y0; y < y1; ++y) {
        for (long x = x0; x < x1; ++x) {
            pixels_[static_cast<std::size_t>(y) * width_ + static_cast<std::size_t>(x)] = colour;
        }
    }
}

void Canvas::line(long x0, long y0, long x1, long y1, Rgb colour, int thickness) {
    const long dx = std::labs(x1 - x0);
    const long dy = -std::labs(y1 - y0);
    const long sx = x0 < x1 ? 1 : -1;
    const long sy = y0 < y1 ? 1 : -1;
    const long lo = -(thickness - 1) / 2;
    const long hi = lo + thickness;
    long err = dx + dy;
    for (;;) {
        if (thickness <= 1) {
            set(x0, y0, colour);
        } else {
            fill_rect(x0 + lo, y0 + lo, x0 + hi, y0 + hi, colour);
        }
        if (x0 == x1 && y0 == y1) {
            break;
        }
        const long e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

void Canvas::text(long x, long y, const std::string& text, Rgb colour, int scale) {
    long pen = x;
    for (const char c : text) {
        const Glyph& g = glyph(c);
        for (int row = 0; row < kGlyphHeight; ++row) {
            for (int col = 0; col < kGlyphWidth; ++col) {
                if (g.rows[static_cast<std::size_t>(row)][col] == '#') {
                    fill_rect(pen + col * scale, y + row * scale, pen + (col + 1) * scale,
                              y + (row + 1) * scale, colour);
                }
            }
        }
        pen += (kGlyphWidth + 1) * scale;
    }
}

long Canvas::text_width(const std::string& text, int scale) {
    if (text.empty()) {
        return 0;
    }
    return static_cast<long>(text.size()) * (kGlyphWidth + 1) * scale - scale;
}

std::vector<std::uint8_t> Canvas::rgba() const {
    std::vector<std::uint8_t> out(4 * pixels_.size());
    for (std::size_t i = 0; i < pixels_.size(); ++i) {
        out[4 * i] = pixels_[i].r;
        out[4 * i + 1] = pixels_[i].g;
        out[4 * i + 2] = pixels_[i].b;
        out[4 * i + 3] = 255;
    }
    return out;
}

void Canvas::write_png(const std::filesystem::path& path, const std::string& title) const {
    io::write_rgba_png(path, rgba(), width_, height_, {{"title", title}});
}

// ---- charts -------------------------------------------------------------------------------------

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
    if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) {
        return {lo};
    }
    const double raw = (hi - lo) / std::max(1, max_ticks);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (const double m : {1.0, 2.0, 5.0, 10.0}) {
        step = m * magnitude;
        if (step >= raw) {
            break;
        }
    }
    std::vector<double> ticks;
    for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
        ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    }
    return ticks;
}

std::string axis_number(double value) {
    // Engineering suffixes (300k, 1.5M), not the "3E+05" of %g in an upper-case font.
    static constexpr const char* kSuffix[] = {"k", "M", "G", "T"};
    if (!std::isfinite(value) || std::abs(value) < 1e3)
        return fmt::format("{:.4g}", value);
    double scaled = value / 1e3;
    std::size_t i = 0;
    while (std::abs(scaled) >= 1e3 && i + 1 < std::size(kSuffix)) {
        scaled /= 1e3;
        ++i;
    }
    return fmt::format("{:.3g}{}", scaled, kSuffix[i]);
}

long ChartFrame::px(double x) const {
    const double f = x_max > x_min ? (x - x_min) / (x_max - x_min) : 0.0;
    return left + std::lround(f * static_cast<double>(right - left));
}

long ChartFrame::py(double y) const {
    const double f = y_max > y_min ? (y - y_min) / (y_max - y_min) : 0.0;
    return bottom - std::lround(f * static_cast<double>(bottom - top));
}

namespace {

/// The data range of the finite points (y from 0 when asked), with 5 % headroom on top.
void fit_range(ChartFrame& f, const std::vector<LineSeries>& series, bool y_from_zero) {
    double x_lo = std::numeric_limits<double>::infinity();
    double x_hi = -x_lo;
    double y_lo = y_from_zero ? 0.0 : std::numeric_limits<double>::infinity();
    double y_hi = y_from_zero ? 0.0 : -std::numeric_limits<double>::infinity();
    for (const auto& s : series) {
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
                x_lo = std::min(x_lo, s.x[i]);
                x_hi = std::max(x_hi, s.x[i]);
                y_lo = std::min(y_lo, s.y[i]);
                y_hi = std::max(y_hi, s.y[i]);
            }
        }
    }
    if (!std::isfinite(x_lo)) {
        x_lo = 0.0;
        x_hi = 1.0;
    }
    if (!std::isfinite(y_lo) || !std::isfinite(y_hi)) {
        y_lo = 0.0;
        y_hi = 1.0;
    }
    if (!(x_hi > x_lo)) {
        x_hi = x_lo + 1.0;
    }
    if (!(y_hi > y_lo)) {
        y_hi = y_lo + 1.0;
    }
    y_hi += 0.05 * (y_hi - y_lo);  // headroom above the highest curve
    f.x_min = x_lo;
    f.x_max = x_hi;
    f.y_min = y_lo;
    f.y_max = y_hi;
}

/// Title, grid lines, ticks, axes and their labels.
void draw_axes(Canvas& canvas, const ChartFrame& f, const std::string& title,
               const std::string& x_label, const std::string& y_label) {
    canvas.text((static_cast<long>(canvas.width()) - Canvas::text_width(title, 2)) / 2, 8, title,
                kBlack, 2);
    // Grid lines and ticks.
    for (const double t : nice_ticks(f.y_min, f.y_max)) {
        const long y = f.py(t);
        canvas.line(f.left, y, f.right, y, kLightGrey);
        canvas.line(f.left - 4, y, f.left, y, kBlack);
        const std::string label = axis_number(t);
        canvas.text(f.left - 7 - Canvas::text_width(label), y - kGlyphHeight / 2, label, kBlack);
    }
    for (const double t : nice_ticks(f.x_min, f.x_max, 8)) {
        const long x = f.px(t);
        canvas.line(x, f.top, x, f.bottom, kLightGrey);
        canvas.line(x, f.bottom, x, f.bottom + 4, kBlack);
        const std::string label = axis_number(t);
        canvas.text(x - Canvas::text_width(label) / 2, f.bottom + 8, label, kBlack);
    }
    canvas.line(f.left, f.top, f.left, f.bottom, kBlack);
    canvas.line(f.left, f.bottom, f.right, f.bottom, kBlack);
    canvas.text((f.left + f.right - Canvas::text_width(x_label)) / 2, f.bottom + 24, x_label,
                kBlack);
    canvas.text(6, f.top - 12, y_label, kBlack);
}

/// Each series as a polyline, broken at non-finite points.
void draw_curves(Canvas& canvas, const ChartFrame& f, const std::vector<LineSeries>& series) {
    for (const auto& s : series) {
        bool pen_down = false;
        long last_x = 0;
        long last_y = 0;
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
                pen_down = false;
                continue;
            }
            const long x = f.px(s.x[i]);
            const long y = f.py(s.y[i]);
            if (pen_down) {
                canvas.line(last_x, last_y, x, y, s.colour, s.thickness);
            } else {
                canvas.line(x, y, x, y, s.colour, s.thickness);
            }
            pen_down = true;
            last_x = x;
            last_y = y;
        }
    }
}

/// The legend, right of the plot area.
void draw_legend(Canvas& canvas, const ChartFrame& f, const std::vector<LineSeries>& series) {
    const long lx = f.right + 12;
    long ly = f.top + 6;
    for (const auto& s : series) {
        canvas.fill_rect(lx, ly + 2, lx + 20, ly + 5, s.colour);
        canvas.text(lx + 26, ly, s.label, kBlack);
        ly += 12;
    }
}

}  // namespace

ChartFrame draw_line_chart(Canvas& canvas, const std::string& title, const std::string& x_label,
                           const std::string& y_label, const std::vector<LineSeries>& series,
                           bool y_from_zero) {
    ChartFrame f;
    f.left = 78;
    f.top = 34;
    // The legend sits right of the plot area, never over the curves.
    long widest = 0;
    for (const auto& s : series) {
        widest = std::max(widest, Canvas::text_width(s.label));
    }
    const long legend_w = series.empty() ? 0 : widest + 40;
    f.right = static_cast<long>(canvas.width()) - 20 - legend_w;
    f.bottom = static_cast<long>(canvas.height()) - 46;
    fit_range(f, series, y_from_zero);
    draw_axes(canvas, f, title, x_label, y_label);
    draw_curves(canvas, f, series);
    draw_legend(canvas, f, series);
    return f;
}

Canvas draw_map_panels(const std::string& title, const std::vector<MapPanel>& panels,
                       double scale_max) {
    std::size_t rows = 1;
    std::size_t cols = 1;
    for (const auto& p : panels) {
        rows = std::max(rows, p.rows);
        cols = std::max(cols, p.cols);
    }
    const std::size_t factor = std::max<std::size_t>(1, std::min<std::size_t>(24, 300 / cols));
    const long panel_w = static_cast<long>(cols * factor);
    const long panel_h = static_cast<long>(rows * factor);
    const long gap = 24;
    const long top = 52;
    const long width = std::max<long>(gap + static_cast<long>(panels.size()) * (panel_w + gap),
                                      Canvas::text_width(title, 2) + 20);
    const long height = top + panel_h + 70;
    Canvas canvas(static_cast<std::size_t>(width), static_cast<std::size_t>(height));
    canvas.text((width - Canvas::text_width(title, 2)) / 2, 8, title, kBlack, 2);
    if (!(scale_max > 0.0) || !std::isfinite(scale_max)) {
        scale_max = 1.0;
    }
    for (std::size_t k = 0; k < panels.size(); ++k) {
        const MapPanel& p = panels[k];
        const long x0 = gap + static_cast<long>(k) * (panel_w + gap);
        canvas.text(x0, top - 14, p.label, kBlack);
        for (std::size_t r = 0; r < p.rows; ++r) {
            const long y = top + static_cast<long>((p.rows - 1 - r) * factor);  // north up
            for (std::size_t c = 0; c < p.cols; ++c) {
                const double v = p.values[r * p.cols + c];
                Rgb colour = kLightGrey;
                if (std::isfinite(v)) {
                    const auto rgb = io::colour_ramp(v / scale_max);
                    colour = {rgb[0], rgb[1], rgb[2]};
                }
                const long x = x0 + static_cast<long>(c * factor);
                canvas.fill_rect(x, y, x + static_cast<long>(factor), y + static_cast<long>(factor),
                                 colour);
            }
        }
    }
    // Colour bar under the panels: 0 .. scale_max.
    const long bar_y = top + panel_h + 14;
    const long bar_w = std::min<long>(width - 2 * gap, 256);
    for (long i = 0; i < bar_w; ++i) {
        const auto rgb = io::colour_ramp(static_cast<double>(i) / static_cast<double>(bar_w - 1));
        canvas.fill_rect(gap + i, bar_y, gap + i + 1, bar_y + 12, {rgb[0], rgb[1], rgb[2]});
    }
    // Ticks at round values of the scale, and its top.
    for (const double t : nice_ticks(0.0, scale_max, 5)) {
        if (t > scale_max)
            continue;
        const long x = gap + std::lround(t / scale_max * static_cast<double>(bar_w - 1));
        canvas.line(x, bar_y + 12, x, bar_y + 15, kBlack);
        const std::string label = axis_number(t);
        if (scale_max - t > 0.2 * scale_max || t == 0.0)  // keep clear of the top label
            canvas.text(x - Canvas::text_width(label) / 2, bar_y + 18, label, kBlack);
    }
    const std::string top_label = axis_number(scale_max);
    canvas.line(gap + bar_w - 1, bar_y + 12, gap + bar_w - 1, bar_y + 15, kBlack);
    canvas.text(gap + bar_w - Canvas::text_width(top_label), bar_y + 18, top_label, kBlack);
    canvas.text(gap, bar_y + 32, "GREY: NO VALUE (OUTSIDE THE EVALUATED CELLS)", kGrey);
    return canvas;
}

}  // namespace zoomdiff::eval
