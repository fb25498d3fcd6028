// Golden: prep.h5:/grids/<name> — the 100 m grid, degree edges, 500 m edges and loc_2000m of every
// stored box, rebuilt from the box alone. Exact (same PROJ as the reference: PROJ 9.1.1).
#include "golden/golden_support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/geo/blocks.hpp"

namespace zoomdiff::test {
namespace {

NdArray<double> as_array(const std::vector<double>& v) {
    return NdArray<double>({v.size()}, v);
}

TEST(GoldenPrep_grids, EveryStoredGridIsRebuiltExactly) {
    const auto prep = io::H5File::open_read(prep_h5());
    const auto names = prep.children("/grids");
    ASSERT_FALSE(names.empty());
    for (const auto& name : names) {
        SCOPED_TRACE(name);
        const std::string g = "/grids/" + name;
        const geo::CityGrid grid = grid_from_golden(prep, name);
        EXPECT_EQ(grid.epsg, prep.attr_int(g, "epsg"));
        EXPECT_EQ(static_cast<std::int64_t>(grid.cols()), prep.attr_int(g, "Nx"));
        EXPECT_EQ(static_cast<std::int64_t>(grid.rows()), prep.attr_int(g, "Ny"));
        expect_equal(as_array(grid.x_edges_m), prep.read<double>(g + "/x_edges"), g + "/x_edges");
        expect_equal(as_array(grid.y_edges_m), prep.read<double>(g + "/y_edges"), g + "/y_edges");
        expect_equal(as_array(grid.lon_edges_deg), prep.read<double>(g + "/lon_edges"),
                     g + "/lon_edges");
        expect_equal(as_array(grid.lat_edges_deg), prep.read<double>(g + "/lat_edges"),
                     g + "/lat_edges");
        expect_equal(as_array(grid.lon_edges_500m_deg()), prep.read<double>(g + "/lon_edges_500m"),
                     g + "/lon_edges_500m");
        expect_equal(as_array(grid.lat_edges_500m_deg()), prep.read<double>(g + "/lat_edges_500m"),
                     g + "/lat_edges_500m");
        expect_equal(geo::loc_2000m(grid), prep.read<double>(g + "/loc_2000m"), g + "/loc_2000m");
    }
}

}  // namespace
}  // namespace zoomdiff::test
