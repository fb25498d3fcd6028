// Golden: prep.h5:/population/<name> — the reference's population window means on the small grid,
// for each stored raster (<name>.tif in the golden folder). The fractional windows and output
// shapes must be bit-identical for every cell; pixel choice, valid counts and values must be
// exact wherever the golden says the centre rule matches GDAL's read (all cells of pop_small;
// all but the 84 border cells of pop_small_fine). 500 m / 2000 m sums of our 100 m array are
// compared exactly where all their cells match.
#include "zoomdiff/geo/population.hpp"

#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "golden/golden_support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/blocks.hpp"

namespace zoomdiff::test {
namespace {

constexpr std::size_t kMaxOut = 6;  // window_sampled_pixel_index is padded to 6×6

/// Compares `ours` with `golden` exactly where `use(flat)` holds; returns how many were compared
/// and how many were bit-identical.
template <typename Use>
std::pair<std::size_t, std::size_t> compare_sums(const NdArray<float>& ours,
                                                 const NdArray<float>& golden, Use use,
                                                 const std::string& what) {
    ++compared_arrays();
    std::size_t compared = 0;
    std::size_t exact = 0;
    EXPECT_EQ(ours.shape(), golden.shape()) << what;
    for (std::size_t i = 0; i < golden.size() && i < ours.size(); ++i) {
        if (!use(i)) {
            continue;
        }
        ++compared;
        exact += ours[i] == golden[i] ? 1 : 0;
        EXPECT_EQ(ours[i], golden[i])
            << what << " flat " << i << ": ours " << ours[i] << ", golden " << golden[i];
    }
    return {compared, exact};
}

struct Counts {
    std::size_t cells = 0;
    std::size_t compared = 0;
    std::size_t matched = 0;
};

TEST(GoldenPrep_population, WindowsShapesPixelsAndMeansMatchTheReference) {
    const auto prep = io::H5File::open_read(prep_h5());
    const std::string grid_name = prep.attr_string("/population", "grid");
    const geo::CityGrid grid = grid_from_golden(prep, grid_name);
    const std::size_t rows = grid.rows();
    const std::size_t cols = grid.cols();
    const auto names = prep.children("/population");
    ASSERT_FALSE(names.empty());

    for (const auto& name : names) {
        SCOPED_TRACE(name);
        const std::string g = "/population/" + name;
        const auto gt = geo::GeoTransformDeg::from_gdal(prep.attr_doubles(g, "geotransform_gdal"));
        const std::int64_t raster_cols = prep.attr_int(g, "width");
        const std::int64_t raster_rows = prep.attr_int(g, "height");

        const auto win_golden = prep.read<double>(g + "/window_col_row_w_h");
        const auto shape_golden = prep.read<std::int32_t>(g + "/window_out_shape");
        const auto index_golden = prep.read<std::int64_t>(g + "/window_sampled_pixel_index");
        const auto valid_golden = prep.read<std::int32_t>(g + "/window_n_valid");
        const auto matches = prep.read<std::uint8_t>(g + "/centre_rule_matches");
        const auto inside = prep.read<std::uint8_t>(g + "/window_fully_inside_raster");
        const auto pop_golden = prep.read<float>(g + "/pop_100m");
        ASSERT_EQ(pop_golden.shape(), (std::vector<std::size_t>{rows, cols}));

        // The whole raster as one block, from the golden's own copy of its values.
        geo::RasterBlock block;
        block.cols = block.raster_cols = raster_cols;
        block.rows = block.raster_rows = raster_rows;
        block.values = prep.read<float>(g + "/raster_values").values();
        block.nodata = prep.attr_double(g, "nodata");

        // Ours, from the GeoTIFF through GDAL.
        core::NullProgress progress;
        const NdArray<float> pop =
            geo::sample_population(golden_dir() / (name + ".tif"), grid, progress);
        ASSERT_EQ(pop.shape(), pop_golden.shape());

        NdArray<double> windows({rows, cols, 4});
        NdArray<std::int32_t> shapes({rows, cols, 2});
        Counts pixels;
        Counts values;
        std::size_t inside_cells = 0;
        std::size_t centre_rule_cells = 0;
        for (std::size_t i = 0; i < rows; ++i) {
            for (std::size_t j = 0; j < cols; ++j) {
                const auto w =
                    geo::window_from_bounds(gt, grid.lon_edges_deg[j], grid.lat_edges_deg[i],
                                            grid.lon_edges_deg[j + 1], grid.lat_edges_deg[i + 1]);
                windows.at(i, j, 0) = w.col_off;
                windows.at(i, j, 1) = w.row_off;
                windows.at(i, j, 2) = w.width;
                windows.at(i, j, 3) = w.height;
                const auto s = geo::window_out_shape(w);
                shapes.at(i, j, 0) = static_cast<std::int32_t>(s.rows);
                shapes.at(i, j, 1) = static_cast<std::int32_t>(s.cols);

                const bool cell_inside = inside.at(i, j) != 0;
                inside_cells += cell_inside ? 1 : 0;
                // The golden's claim: inside the raster the centre rule is GDAL's rule.
                if (cell_inside) {
                    EXPECT_NE(matches.at(i, j), 0) << "cell " << i << "," << j;
                }
                ++pixels.cells;
                ++values.cells;
                if (matches.at(i, j) == 0) {
                    continue;
                }
                ++centre_rule_cells;

                ASSERT_LE(static_cast<std::size_t>(s.rows), kMaxOut);
                ASSERT_LE(static_cast<std::size_t>(s.cols), kMaxOut);
                const auto idx = geo::sampled_pixel_indices(w, raster_cols, raster_rows);
                bool same = true;
                for (std::size_t r = 0; r < kMaxOut; ++r) {
                    for (std::size_t c = 0; c < kMaxOut; ++c) {
                        const bool used = r < static_cast<std::size_t>(s.rows) &&
                                          c < static_cast<std::size_t>(s.cols);
                        const std::int64_t ours =
                            used ? idx[r * static_cast<std::size_t>(s.cols) + c] : -1;
                        const std::int64_t golden =
                            index_golden[((i * cols + j) * kMaxOut + r) * kMaxOut + c];
                        same = same && ours == golden;
                    }
                }
                ++pixels.compared;
                pixels.matched += same ? 1 : 0;
                EXPECT_TRUE(same) << "sampled pixels differ at cell " << i << "," << j;

                const geo::CellSample sample = geo::sample_window(block, w);
                ++values.compared;
                const bool value_ok = sample.valid_count == valid_golden.at(i, j) &&
                                      sample.mean == pop_golden.at(i, j) &&
                                      pop.at(i, j) == pop_golden.at(i, j);
                values.matched += value_ok ? 1 : 0;
                EXPECT_TRUE(value_ok)
                    << "cell " << i << "," << j << ": n_valid " << sample.valid_count << " vs "
                    << valid_golden.at(i, j) << ", block mean " << sample.mean << ", file mean "
                    << pop.at(i, j) << " vs golden " << pop_golden.at(i, j);
            }
        }
        expect_equal(windows, win_golden, g + "/window_col_row_w_h");
        expect_equal(shapes, shape_golden, g + "/window_out_shape");
        std::cout << "[ population ] " << name << ": " << values.cells << " cells, " << inside_cells
                  << " fully inside the raster, " << centre_rule_cells
                  << " where the centre rule applies; pixel choice matched " << pixels.matched
                  << "/" << pixels.compared << ", n_valid and pop_100m matched " << values.matched
                  << "/" << values.compared << "\n";

        // 500 m and 2000 m from our 100 m array: everything when every cell matched, otherwise
        // only the 500 m blocks (and 2000 m tiles) made of matching cells.
        const auto pop500 = geo::sum_blocks_500m(pop);
        const auto pop2000 = geo::tile_blocks_2000m(pop500);
        const auto pop500_golden = prep.read<float>(g + "/pop_500m");
        const auto pop2000_golden = prep.read<float>(g + "/pop_2000m");
        // A 500 m block is compared when all its 25 cells follow the centre rule, a 2000 m tile
        // when all its 16 blocks are compared (pop_small: everything).
        NdArray<std::uint8_t> block_ok({pop500.dim(0), pop500.dim(1)}, 1);
        for (std::size_t bi = 0; bi < pop500.dim(0); ++bi) {
            for (std::size_t bj = 0; bj < pop500.dim(1); ++bj) {
                for (std::size_t di = 0; di < geo::kCellsPer500m; ++di) {
                    for (std::size_t dj = 0; dj < geo::kCellsPer500m; ++dj) {
                        if (matches.at(bi * geo::kCellsPer500m + di,
                                       bj * geo::kCellsPer500m + dj) == 0) {
                            block_ok.at(bi, bj) = 0;
                        }
                    }
                }
            }
        }
        const std::size_t tile_cols = pop2000.dim(1);
        const std::size_t tile_cells = geo::kCellsPer2000m * geo::kCellsPer2000m;
        std::vector<std::uint8_t> tile_ok(pop2000.dim(0) * tile_cols, 1);
        for (std::size_t t = 0; t < tile_ok.size(); ++t) {
            const std::size_t ti = t / tile_cols;
            const std::size_t tj = t % tile_cols;
            for (std::size_t a = 0; a < geo::kCellsPer2000m; ++a) {
                for (std::size_t b = 0; b < geo::kCellsPer2000m; ++b) {
                    if (block_ok.at(ti * geo::kCellsPer2000m + a, tj * geo::kCellsPer2000m + b) ==
                        0) {
                        tile_ok[t] = 0;
                    }
                }
            }
        }
        const auto [n500, exact500] = compare_sums(
            pop500, pop500_golden, [&](std::size_t flat) { return block_ok[flat] != 0; },
            g + "/pop_500m");
        const auto [n2000, exact2000] = compare_sums(
            pop2000, pop2000_golden,
            [&](std::size_t flat) { return tile_ok[flat / tile_cells] != 0; }, g + "/pop_2000m");
        if (centre_rule_cells == rows * cols) {
            EXPECT_EQ(n500, pop500.size());
            EXPECT_EQ(n2000, pop2000.size());
        }
        std::cout << "[ population ] " << name << ": pop_500m compared on " << n500 << "/"
                  << pop500.size() << " blocks (" << exact500 << " bit-identical), pop_2000m on "
                  << n2000 << "/" << pop2000.size() << " values (" << exact2000
                  << " bit-identical); blocks holding border cells are not compared\n";
    }
}

}  // namespace
}  // namespace zoomdiff::test
