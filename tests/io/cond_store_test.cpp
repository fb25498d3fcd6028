#include "zoomdiff/io/cond_store.hpp"

#include <fstream>
#include <iterator>
#include <random>

#include "support/support.hpp"
#include <gtest/gtest.h>
#include <unistd.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/io/data_store.hpp"
#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::io {
namespace {

namespace fs = std::filesystem;

CityConditions small_conditions() {
    CityConditions c;
    c.grid = geo::CityGrid::from_bbox({115.80, 28.68, 115.90, 28.73});  // 55 x 99 cells
    const std::vector<std::size_t> shape{c.grid.rows(), c.grid.cols()};
    c.population = NdArray<float>(shape, 1.5F);
    c.building_count = NdArray<std::int32_t>(shape, 2);
    c.road_length_m = NdArray<double>(shape, 10.0);
    c.waterway_length_m = NdArray<double>(shape, 0.25);
    c.water_area_m2 = NdArray<double>(shape, 3.0);
    c.natural_count = NdArray<std::int32_t>(shape, 0);
    c.osm_poi_count = NdArray<std::int32_t>(shape, 1);
    c.poi_count = NdArray<std::int32_t>({shape[0], shape[1], 21}, 0);
    c.poi_count.at(0, 0, 20) = 7;
    for (int k = 0; k < 21; ++k) {
        c.poi_categories.push_back("cat" + std::to_string(k));
        c.poi_category_present.push_back(k == 20 ? 1 : 0);
    }
    return c;
}

std::string bytes_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(CondStoreTest, WritesTrueQuantitiesAndTheReferenceKeys) {
    test::TempDir dir;
    const fs::path path = dir.path() / "X_cond.h5";
    const CityConditions c = small_conditions();
    write_cond_file(path, c, {"env_extra", "env_extra --cityname X", 5, "X", "X"});
    const H5File f = H5File::open_read(path);
    // 55 x 99 cells -> 11 x 19 of 500 m -> 2 x 4 tiles.
    EXPECT_EQ(f.shape("/500m/population"), (std::vector<std::size_t>{11, 19}));
    EXPECT_EQ(f.shape("/2000m/poi_count"), (std::vector<std::size_t>{2, 4, 4, 4, 21}));
    EXPECT_EQ(f.shape("/pop_2000m"), (std::vector<std::size_t>{2, 4, 4, 4}));
    EXPECT_EQ(f.shape("/loc_2000m"), (std::vector<std::size_t>{2, 4, 4}));
    EXPECT_EQ(f.read<float>("/pop_2000m")[0], 25 * 1.5F);
    EXPECT_EQ(f.read<std::int64_t>("/building_2000m")[0], 50);
    // The reference's road length includes waterways; ours keep them apart.
    EXPECT_DOUBLE_EQ(f.read<double>("/roadlen_2000m")[0], 25 * 10.25);
    EXPECT_DOUBLE_EQ(f.read<double>("/2000m/road_length_m")[0], 250.0);
    EXPECT_DOUBLE_EQ(f.read<double>("/2000m/waterway_length_m")[0], 6.25);
    EXPECT_EQ(f.read<std::int64_t>("/poi_2000m")[20], 7);
    EXPECT_EQ(f.attr_string("/2000m/water_area_m2", "units"), "m2");
    EXPECT_EQ(f.attr_int("/", "epsg"), 32650);
    EXPECT_EQ(f.attr_string("/", "row_order"), "south_to_north");
    EXPECT_EQ(f.attr_int("/", "seed"), 5);
    EXPECT_EQ(f.read_strings("/poi_categories").at(3), "cat3");
    const geo::CityGrid back = read_grid(f);
    EXPECT_EQ(back.x_edges_m, c.grid.x_edges_m);
    EXPECT_EQ(back.lat_edges_deg, c.grid.lat_edges_deg);
}

TEST(CondStoreTest, CondAndDataFilesOpenInXarrayAndGdal) {
    // DESIGN §7: every dimension named, coordinates, the CRS, UDUNITS units (check_cf.py).
    test::TempDir dir;
    CityConditions c = small_conditions();
    c.mask_100m = NdArray<std::uint8_t>({c.grid.rows(), c.grid.cols()}, 1);
    c.mask_500m = NdArray<std::uint8_t>({c.grid.rows_500m(), c.grid.cols_500m()}, 1);
    const fs::path cond = dir.path() / "X_cond.h5";
    write_cond_file(cond, c, {"env_extra", "env_extra --cityname X", 5, "X", "X"});
    const test::ToolRun cond_check = test::check_cf("cond", cond, dir.path());
    EXPECT_EQ(cond_check.exit_code, 0) << cond_check.stderr_text;

    CityData d;
    d.grid = c.grid;
    d.datatype = "traffic";
    d.units = "traffic (input unit)";
    d.time_start = "2024-03-04T00:00";
    d.data_100m = NdArray<double>({c.grid.rows(), c.grid.cols(), 168}, 2.5);
    d.residents_100m = NdArray<std::int32_t>({c.grid.rows(), c.grid.cols()}, 3);
    const fs::path data = dir.path() / "X_traffic_data.h5";
    write_data_file(data, d, {}, {"grid_meta", "grid_meta --cityname X", 0, "X", "X"});
    const test::ToolRun data_check = test::check_cf("data", data, dir.path());
    EXPECT_EQ(data_check.exit_code, 0) << data_check.stderr_text;
    // Our readers still find what they read.
    const H5File f = H5File::open_read(data);
    EXPECT_EQ(f.attr_string("/100m/time", "units"), "hours since 2024-03-04 00:00");
    EXPECT_EQ(read_grid(f).x_edges_m, c.grid.x_edges_m);
}

TEST(CondStoreTest, SameInputGivesTheSameBytes) {
    test::TempDir dir;
    const CityConditions c = small_conditions();
    write_cond_file(dir.path() / "a.h5", c, {"env_extra", "cmd", 0, "X", "X"});
    write_cond_file(dir.path() / "b.h5", c, {"env_extra", "cmd", 0, "X", "X"});
    EXPECT_EQ(bytes_of(dir.path() / "a.h5"), bytes_of(dir.path() / "b.h5"));
}

TEST(StoreSizeTest, TheFreeSpaceBoundsHoldForIncompressibleData) {
    // Random values defeat deflate, so the files come close to the arrays' raw size: the bounds
    // must hold there, and stay within a factor 1.5 of what is written (a useful estimate).
    test::TempDir dir;
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(0.0, 1e6);
    const auto any_int = [&rng] { return static_cast<std::int32_t>(rng()); };
    CityConditions c = small_conditions();
    for (std::size_t i = 0; i < c.population.size(); ++i) {
        c.population[i] = static_cast<float>(u(rng));
        c.building_count[i] = any_int();
        c.road_length_m[i] = u(rng);
        c.waterway_length_m[i] = u(rng);
        c.water_area_m2[i] = u(rng);
        c.natural_count[i] = any_int();
        c.osm_poi_count[i] = any_int();
    }
    for (std::size_t i = 0; i < c.poi_count.size(); ++i)
        c.poi_count[i] = any_int();
    c.mask_100m = NdArray<std::uint8_t>({c.grid.rows(), c.grid.cols()}, 1);
    c.mask_500m = NdArray<std::uint8_t>({c.grid.rows_500m(), c.grid.cols_500m()}, 1);
    const fs::path cond = dir.path() / "X_cond.h5";
    write_cond_file(cond, c, {"env_extra", "cmd", 0, "X", "X"});
    const auto cond_bound = cond_file_bytes_bound(c.grid, c.poi_categories.size());
    EXPECT_LE(fs::file_size(cond), cond_bound);
    EXPECT_GE(fs::file_size(cond) * 3 / 2, cond_bound);

    CityData d;
    d.grid = c.grid;
    d.datatype = "traffic";
    d.units = "MB";
    d.data_100m = NdArray<double>({c.grid.rows(), c.grid.cols(), 168});
    for (std::size_t i = 0; i < d.data_100m.size(); ++i)
        d.data_100m[i] = u(rng);
    d.residents_100m = NdArray<std::int32_t>({c.grid.rows(), c.grid.cols()}, 3);
    const fs::path data = dir.path() / "X_traffic_data.h5";
    write_data_file(data, d, {}, {"grid_meta", "cmd", 0, "X", "X"});
    const auto data_bound = data_file_bytes_bound(d.grid, 168);
    EXPECT_LE(fs::file_size(data), data_bound);
    EXPECT_GE(fs::file_size(data) * 3 / 2, data_bound);
}

TEST(CondStoreTest, UnwritableDirectoryFailsWithoutOutput) {
    if (::geteuid() == 0) {
        // root ignores directory permissions; use a path below a regular file instead.
        test::TempDir dir;
        std::ofstream(dir.path() / "file") << "x";
        EXPECT_THROW(write_cond_file(dir.path() / "file" / "X_cond.h5", small_conditions(),
                                     {"env_extra", "cmd", 0, "X", "X"}),
                     Error);
        return;
    }
    test::TempDir dir;
    fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(write_cond_file(dir.path() / "X_cond.h5", small_conditions(),
                                 {"env_extra", "cmd", 0, "X", "X"}),
                 Error);
    EXPECT_TRUE(fs::is_empty(dir.path()));
    fs::permissions(dir.path(), fs::perms::owner_all);
}

TEST(H5FileTest, MissingAndCorruptFilesAreInputErrors) {
    test::TempDir dir;
    EXPECT_THROW(H5File::open_read(dir.path() / "none.h5"), Error);
    std::ofstream(dir.path() / "bad.h5") << "not hdf5";
    try {
        H5File::open_read(dir.path() / "bad.h5");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::kInput);
    }
    const fs::path good = dir.path() / "g.h5";
    {
        H5File f = H5File::create(good);
        f.write("/a/b", NdArray<double>({2}, std::vector<double>{1, 2}));
        f.close();
    }
    const H5File f = H5File::open_read(good);
    EXPECT_TRUE(f.exists("/a/b"));
    EXPECT_FALSE(f.exists("/a/c"));
    EXPECT_THROW((void)f.read<double>("/a/c"), Error);
}

}  // namespace
}  // namespace zoomdiff::io
