// The plot canvas: drawn pixels are where they should be, and the PNG decodes (GDAL) with its size.
#include "zoomdiff/eval/canvas.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "support/support.hpp"
#include <gdal_priv.h>
#include <gtest/gtest.h>

namespace zoomdiff::eval {
namespace {

constexpr Rgb kRed{255, 0, 0};

TEST(EvalCanvas, LinesAndRectanglesLandOnTheirPixels) {
    Canvas c(20, 10);
    c.line(2, 3, 12, 3, kRed);  // horizontal, both ends included
    for (std::size_t x = 0; x < 20; ++x) {
        EXPECT_EQ(c.pixel(x, 3) == kRed, x >= 2 && x <= 12) << x;
    }
    EXPECT_EQ(c.pixel(7, 2), kWhite);
    c.line(0, 0, 9, 9, kBlack);  // diagonal: (i, i)
    for (std::size_t i = 0; i < 10; ++i)
        EXPECT_EQ(c.pixel(i, i), kBlack) << i;
    EXPECT_EQ(c.pixel(1, 0), kWhite);
    c.fill_rect(15, 5, 18, 7, kRed);  // [15, 18) × [5, 7)
    EXPECT_EQ(c.pixel(15, 5), kRed);
    EXPECT_EQ(c.pixel(17, 6), kRed);
    EXPECT_EQ(c.pixel(18, 6), kWhite);
    EXPECT_EQ(c.pixel(17, 7), kWhite);
    c.line(-5, 8, 30, 8, kRed);  // clipped, no throw
    EXPECT_EQ(c.pixel(19, 8), kRed);
}

TEST(EvalCanvas, GlyphsOfTheBuiltInFont) {
    Canvas c(40, 12);
    c.text(1, 1, "1", kBlack);  // '1': column 2 set in rows 0..6, row 6 columns 1..3
    for (int row = 0; row < 7; ++row)
        EXPECT_EQ(c.pixel(3, 1 + row), kBlack) << row;
    EXPECT_EQ(c.pixel(2, 7), kBlack);
    EXPECT_EQ(c.pixel(1, 1), kWhite);
    EXPECT_EQ(Canvas::text_width("ABC"), 17);    // 3 glyphs of 5 + 2 gaps
    EXPECT_EQ(Canvas::text_width("ab", 2), 22);  // 2 × (12) − 2
    Canvas lower(12, 9);
    Canvas upper(12, 9);
    lower.text(0, 0, "a", kBlack);
    upper.text(0, 0, "A", kBlack);
    EXPECT_EQ(lower.rgba(), upper.rgba());  // lower case prints as capitals
}

TEST(EvalCanvas, ChartPlacesPointsOnItsFrame) {
    Canvas c(400, 300);
    const ChartFrame f = draw_line_chart(c, "T", "x", "y", {{"s", {0, 10}, {0, 10}, kRed, 1}});
    // The series runs from (x_min, y 0) to (x_max, 10): both ends are red.
    EXPECT_EQ(c.pixel(static_cast<std::size_t>(f.px(0)), static_cast<std::size_t>(f.py(0))), kRed);
    EXPECT_EQ(c.pixel(static_cast<std::size_t>(f.px(10)), static_cast<std::size_t>(f.py(10))),
              kRed);
    EXPECT_EQ(f.px(0), f.left);
    EXPECT_EQ(f.py(0), f.bottom);
    // The legend is right of the plot area: its swatch lies beyond the frame, not on a curve.
    EXPECT_LT(f.right + 12 + 20, static_cast<long>(c.width()));
    EXPECT_EQ(c.pixel(static_cast<std::size_t>(f.right + 14), static_cast<std::size_t>(f.top + 9)),
              kRed);
}

TEST(EvalCanvas, NiceTicks) {
    EXPECT_EQ(nice_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
    EXPECT_EQ(nice_ticks(0, 167, 8), (std::vector<double>{0, 50, 100, 150}));
    EXPECT_EQ(axis_number(0.25), "0.25");
    EXPECT_EQ(axis_number(950), "950");
    EXPECT_EQ(axis_number(300000), "300k");
    EXPECT_EQ(axis_number(1.5e6), "1.5M");
    EXPECT_EQ(axis_number(-2e9), "-2G");
}

TEST(EvalCanvas, PngDecodesWithItsSizeAndPixels) {
    test::TempDir dir;
    Canvas c(33, 17);
    c.line(0, 5, 32, 5, kRed);
    const auto path = dir.path() / "sub" / "p.png";
    c.write_png(path, "a title");
    GDALAllRegister();
    GDALDatasetUniquePtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    ASSERT_TRUE(ds);
    EXPECT_EQ(ds->GetRasterXSize(), 33);
    EXPECT_EQ(ds->GetRasterYSize(), 17);
    ASSERT_EQ(ds->GetRasterCount(), 4);
    std::vector<unsigned char> red(33 * 17);
    std::vector<unsigned char> green(33 * 17);
    ASSERT_EQ(ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, 33, 17, red.data(), 33, 17, GDT_Byte, 0,
                                             0, nullptr),
              CE_None);
    ASSERT_EQ(ds->GetRasterBand(2)->RasterIO(GF_Read, 0, 0, 33, 17, green.data(), 33, 17, GDT_Byte,
                                             0, 0, nullptr),
              CE_None);
    EXPECT_EQ(red[5 * 33 + 10], 255);
    EXPECT_EQ(green[5 * 33 + 10], 0);    // the line
    EXPECT_EQ(green[6 * 33 + 10], 255);  // white below it
    const char* title = ds->GetMetadataItem("title");
    ASSERT_NE(title, nullptr);
    EXPECT_EQ(std::string(title), "a title");
}

TEST(EvalCanvas, MapPanelsShareOneColourScale) {
    // Two 1 × 2 maps, south-up rows: value 0 is the ramp's first colour, the maximum its last.
    const Canvas c =
        draw_map_panels("M", {{"A", 1, 2, {0.0, 4.0}}, {"B", 1, 2, {4.0, std::nan("")}}}, 4.0);
    // Layout: panels 24 px apart from x = 24, top at y = 52, 24 px per cell for 2 columns.
    const Rgb low{68, 1, 84};      // ramp(0)
    const Rgb high{253, 231, 37};  // ramp(1)
    EXPECT_EQ(c.pixel(30, 60), low);
    EXPECT_EQ(c.pixel(60, 60), high);
    EXPECT_EQ(c.pixel(100, 60), high);        // panel B, same value, same colour
    EXPECT_EQ(c.pixel(130, 60), kLightGrey);  // NaN
    EXPECT_EQ(c.pixel(30, 40), kWhite);
}

}  // namespace
}  // namespace zoomdiff::eval
