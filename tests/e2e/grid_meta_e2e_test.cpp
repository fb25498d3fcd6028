// End-to-end: the grid_meta executable on the sample city, on real Milan data, and on bad input.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/support.hpp"
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>
#include <sys/wait.h>

#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::test {
namespace {

namespace fs = std::filesystem;

std::string q(const fs::path& p) {
    return "'" + p.string() + "'";
}

std::string sample_args(const std::string& datatype, const fs::path& out, int seed) {
    const fs::path s = source_dir() / "data/sample";
    return "--cityname Nanchang --datatype " + datatype + " --data_path " +
           q(s / ("stations_" + datatype + ".csv")) + " --shp_path " +
           q(s / "boundary/nanchang_sample.shp") + " --pop_path " + q(s / "population.tif") +
           " --out " + q(out) + " --seed " + std::to_string(seed) + " -q";
}

std::string bytes_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Per-hour sums of the station series of a wide CSV (lon,lat,h000..) inside a box.
std::vector<double> hourly_totals_in_box(const fs::path& csv, const std::vector<double>& bbox) {
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);
    std::vector<double> totals(168, 0.0);
    while (std::getline(in, line)) {
        std::stringstream ss(line);
        std::string cell;
        std::vector<std::string> f;
        while (std::getline(ss, cell, ',')) {
            f.push_back(cell);
        }
        const double lon = std::stod(f[1]);
        const double lat = std::stod(f[2]);
        if (lon < bbox[0] || lon > bbox[2] || lat < bbox[1] || lat > bbox[3]) {
            continue;
        }
        for (std::size_t t = 0; t < 168; ++t) {
            totals[t] += std::stod(f[3 + t]);
        }
    }
    return totals;
}

void expect_conserved(const io::H5File& f, const std::vector<double>& expected, double rel_tol) {
    const auto data = f.read<double>("/100m/data");
    const auto data_500m = f.read<double>("/500m/data");
    std::vector<double> sums(168, 0.0);
    for (std::size_t i = 0; i < data.size(); ++i) {
        sums[i % 168] += data[i];
    }
    for (std::size_t t = 0; t < 168; ++t) {
        EXPECT_NEAR(sums[t], expected[t], rel_tol * std::max(1.0, expected[t])) << "hour " << t;
    }
}

TEST(GridMetaE2E, SampleCityConservesAndUsesEnvExtrasGrid) {
    TempDir tmp;
    const fs::path out = tmp.path() / "Nanchang_traffic_data.h5";
    const ToolRun r = run_tool(
        ZOOMDIFF_GRID_META_EXE,
        sample_args("traffic", out, 1) + " --time_start 2024-03-04T00:00 --time_zone Asia/Shanghai",
        tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    const auto f = io::H5File::open_read(out);
    // The time base travels with the data.
    EXPECT_EQ(f.attr_string("/", "time_start"), "2024-03-04T00:00");
    EXPECT_EQ(f.attr_string("/", "time_zone"), "Asia/Shanghai");
    EXPECT_EQ(f.attr_int("/", "time_step_minutes"), 60);
    EXPECT_EQ(f.attr_int("/", "time_steps"), 168);
    EXPECT_EQ(f.attr_int("/", "input_step_minutes"), 60);
    EXPECT_EQ(f.shape("/data_2000m"), (std::vector<std::size_t>{2, 4, 4, 4, 168}));
    EXPECT_EQ(f.shape("/loc_2000m"), (std::vector<std::size_t>{2, 4, 4}));
    expect_conserved(
        f,
        hourly_totals_in_box(source_dir() / "data/sample/stations_traffic.csv",
                             f.attr_doubles("/", "bbox_lon_min_lat_min_lon_max_lat_max")),
        1e-9);

    // The grid is the one env_extra builds for the same city.
    const fs::path s = source_dir() / "data/sample";
    const fs::path cond = tmp.path() / "Nanchang_cond.h5";
    const ToolRun e = run_tool(
        ZOOMDIFF_ENV_EXTRA_EXE,
        "--cityname Nanchang --shp_path " + q(s / "boundary/nanchang_sample.shp") + " --pop_path " +
            q(s / "population.tif") + " --osm_dir " + q(s / "OSM_Jiangxi") + " --poi_dir " +
            q(s / "POI_Nanchang") + " --out " + q(cond) + " -q",
        tmp.path());
    ASSERT_EQ(e.exit_code, 0) << e.stderr_text;
    const auto c = io::H5File::open_read(cond);
    for (const char* key : {"/grid/x_edges_m", "/grid/y_edges_m", "/grid/lon_edges_deg",
                            "/grid/lat_edges_deg", "/loc_2000m"}) {
        EXPECT_EQ(f.read<double>(key).values(), c.read<double>(key).values()) << key;
    }
    EXPECT_EQ(f.attr_int("/", "epsg"), c.attr_int("/", "epsg"));
}

TEST(GridMetaE2E, SameSeedSameBitsOtherSeedOtherBits) {
    TempDir tmp;
    const fs::path a = tmp.path() / "a" / "Nanchang_user_data.h5";
    const fs::path b = tmp.path() / "b" / "Nanchang_user_data.h5";
    const fs::path c = tmp.path() / "c" / "Nanchang_user_data.h5";
    ASSERT_EQ(run_tool(ZOOMDIFF_GRID_META_EXE, sample_args("user", a, 7), tmp.path()).exit_code, 0);
    ASSERT_EQ(
        run_tool(ZOOMDIFF_GRID_META_EXE, sample_args("user", b, 7) + " --threads 1", tmp.path())
            .exit_code,
        0);
    ASSERT_EQ(run_tool(ZOOMDIFF_GRID_META_EXE, sample_args("user", c, 8), tmp.path()).exit_code, 0);
    const auto fa = io::H5File::open_read(a);
    const auto fb = io::H5File::open_read(b);
    const auto fc = io::H5File::open_read(c);
    EXPECT_EQ(fa.read<double>("/100m/data").values(), fb.read<double>("/100m/data").values());
    EXPECT_NE(fa.read<double>("/100m/data").values(), fc.read<double>("/100m/data").values());
    // Integer user counts are spread, not truncated: the totals survive.
    expect_conserved(
        fa,
        hourly_totals_in_box(source_dir() / "data/sample/stations_user.csv",
                             fa.attr_doubles("/", "bbox_lon_min_lat_min_lon_max_lat_max")),
        1e-9);
}

TEST(GridMetaE2E, BadInputIsOneLineExitTwoAndNoOutput) {
    TempDir tmp;
    const fs::path out = tmp.path() / "out" / "x.h5";
    const fs::path s = source_dir() / "data/sample";
    // A CSV with lon and lat exchanged, and one far away from the city.
    std::ifstream in(s / "stations_traffic.csv");
    std::ofstream swapped(tmp.path() / "swapped.csv");
    std::ofstream away(tmp.path() / "away.csv");
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
        if (header) {
            swapped << line << "\n";
            away << line << "\n";
            header = false;
            continue;
        }
        const auto c1 = line.find(',');
        const auto c2 = line.find(',', c1 + 1);
        const auto c3 = line.find(',', c2 + 1);
        const std::string lon = line.substr(c1 + 1, c2 - c1 - 1);
        const std::string lat = line.substr(c2 + 1, c3 - c2 - 1);
        swapped << line.substr(0, c1) << "," << lat << "," << lon << line.substr(c3) << "\n";
        away << line.substr(0, c1) << ",10.0,50.0" << line.substr(c3) << "\n";
    }
    swapped.close();
    away.close();
    std::ofstream(tmp.path() / "short.csv") << "lon,lat,h000,h001\n115.85,28.70,1,2\n";

    struct Case {
        std::string name;
        std::string data;
        std::string must_mention;
        std::string extra;
    };

    const std::string good = (s / "stations_traffic.csv").string();
    const std::vector<Case> cases{
        {"missing station file", "/nonexistent/st.npz", "/nonexistent/st.npz", ""},
        {"swapped lon/lat", (tmp.path() / "swapped.csv").string(), "swapped", ""},
        {"stations elsewhere", (tmp.path() / "away.csv").string(), "span lon", ""},
        {"wrong series length", (tmp.path() / "short.csv").string(), "short.csv", ""},
        {"bad time start", good, "--time_start", " --time_start yesterday"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const std::string args = "--cityname Nanchang --datatype traffic --data_path " + q(c.data) +
                                 " --shp_path " + q(s / "boundary/nanchang_sample.shp") +
                                 " --pop_path " + q(s / "population.tif") + " --out " + q(out) +
                                 " -q" + c.extra;
        const ToolRun r = run_tool(ZOOMDIFF_GRID_META_EXE, args, tmp.path());
        EXPECT_EQ(r.exit_code, 2) << r.stderr_text;
        ASSERT_FALSE(r.stderr_text.empty());
        const std::string last =
            r.stderr_text.substr(r.stderr_text.rfind('\n', r.stderr_text.size() - 2) + 1);
        EXPECT_EQ(last.rfind("grid_meta: ", 0), 0U) << r.stderr_text;
        EXPECT_NE(last.find(c.must_mention), std::string::npos) << r.stderr_text;
        EXPECT_FALSE(fs::exists(out));
    }
}

TEST(GridMetaE2E, OutputOntoAnInputIsRefusedBeforeAnyWork) {
    // issue 19: `--out` naming the station CSV or the raster replaced them with HDF5, exit 0.
    TempDir tmp;
    const fs::path s = source_dir() / "data/sample";
    for (const std::string name : {"stations_traffic.csv", "population.tif"}) {
        fs::copy_file(s / name, tmp.path() / name);
    }
    const auto before = [&](const std::string& name) { return fs::file_size(tmp.path() / name); };
    const auto csv_size = before("stations_traffic.csv");
    const auto tif_size = before("population.tif");
    for (const std::string target : {"stations_traffic.csv", "population.tif"}) {
        SCOPED_TRACE(target);
        const std::string args = "--cityname Nanchang --datatype traffic --data_path " +
                                 q(tmp.path() / "stations_traffic.csv") + " --shp_path " +
                                 q(s / "boundary/nanchang_sample.shp") + " --pop_path " +
                                 q(tmp.path() / "population.tif") + " --out " +
                                 q(tmp.path() / target) + " -q";
        const ToolRun r = run_tool(ZOOMDIFF_GRID_META_EXE, args, tmp.path());
        EXPECT_EQ(r.exit_code, 2) << r.stderr_text;
        EXPECT_NE(r.stderr_text.find("would destroy that input"), std::string::npos)
            << r.stderr_text;
    }
    EXPECT_EQ(before("stations_traffic.csv"), csv_size);
    EXPECT_EQ(before("population.tif"), tif_size);
}

/// Real data: the Milan grid's 10,000 cells as stations (centroids), each with its real 62-day
/// internet total spread over the real hourly shape of a week at the Duomo cell; the ISTAT
/// population raster; the Comune di Milano boundary. Conservation must hold on this skewed field.
TEST(GridMetaE2E, MilanRealDataConserves) {
    const fs::path milan = test_data_dir();
    TempDir tmp;
    // Weekly shape: Monday 2013-11-04 00:00 CET (hour 72 of the file) to Sunday 23:00, cell 5161.
    std::vector<double> shape;
    {
        std::ifstream in(milan / "milan_telecom/ts_hourly_cet_3squares.csv");
        std::string line;
        std::getline(in, line);
        std::vector<double> hours;
        while (std::getline(in, line)) {
            if (line.rfind("5161,", 0) == 0) {
                hours.push_back(std::stod(line.substr(line.rfind(',') + 1)));
            }
        }
        ASSERT_GE(hours.size(), 72U + 168U);
        shape.assign(hours.begin() + 72, hours.begin() + 72 + 168);
        double sum = 0;
        for (double v : shape) {
            sum += v;
        }
        for (double& v : shape) {
            v /= sum;
        }
    }
    std::map<int, double> totals;
    {
        std::ifstream in(milan / "milan_telecom/square_totals_2mo.csv");
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            const auto comma = line.find(',');
            totals[std::stoi(line.substr(0, comma))] = std::stod(line.substr(comma + 1));
        }
    }
    const fs::path csv = tmp.path() / "milan_stations.csv";
    {
        GDALDatasetUniquePtr grid(GDALDataset::Open(
            (milan / "milan_telecom/milano-grid.geojson").c_str(), GDAL_OF_VECTOR));
        ASSERT_TRUE(grid);
        std::ofstream out(csv);
        out << "station,lon,lat";
        for (int h = 0; h < 168; ++h) {
            out << ",h" << (h < 10 ? "00" : h < 100 ? "0" : "") << h;
        }
        out << "\n";
        out.precision(17);
        for (auto& feature : *grid->GetLayer(0)) {
            OGRPoint centroid;
            feature->GetGeometryRef()->Centroid(&centroid);
            const int id = feature->GetFieldAsInteger("cellId");
            out << "M" << id << "," << centroid.getX() << "," << centroid.getY();
            const double weekly = totals.at(id) * 7.0 / 62.0;  // one week's share of the 62 days
            for (double p : shape) {
                out << "," << weekly * p;
            }
            out << "\n";
        }
    }
    const fs::path out = tmp.path() / "Milano_traffic_data.h5";
    const fs::path coarse = milan / "milan_population/population_wgs84_0p005deg_sum.tif";
    const auto args_with = [&](const fs::path& raster) {
        return "--cityname Milano --datatype traffic --data_path " + q(csv) + " --shp_path " +
               q(milan / "milan_boundary/milano_comune_015146.geojson") + " --boundary_field name" +
               " --pop_path " + q(raster) + " --out " + q(out) + " --seed 3 -q";
    };
    // The ISTAT raster's 0.005° pixels are coarser than the cells: the window rule samples none.
    const ToolRun too_coarse = run_tool(ZOOMDIFF_GRID_META_EXE, args_with(coarse), tmp.path());
    EXPECT_EQ(too_coarse.exit_code, 2);
    EXPECT_NE(too_coarse.stderr_text.find("too coarse"), std::string::npos)
        << too_coarse.stderr_text;
    // The same people on WorldPop's 3″ pixels: each 0.005° pixel split into 6 × 6 equal parts.
    const fs::path fine = tmp.path() / "milan_3arcsec.tif";
    {
        GDALDatasetUniquePtr src(GDALDataset::Open(coarse.c_str(), GDAL_OF_RASTER));
        ASSERT_TRUE(src);
        const int w = src->GetRasterXSize();
        const int h = src->GetRasterYSize();
        std::vector<float> v(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
        ASSERT_EQ(
            src->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, w, h, v.data(), w, h, GDT_Float32, 0, 0),
            CE_None);
        std::vector<float> f(v.size() * 36);
        for (int r = 0; r < 6 * h; ++r) {
            for (int c = 0; c < 6 * w; ++c) {
                const float x = v[static_cast<std::size_t>(r / 6) * static_cast<std::size_t>(w) +
                                  static_cast<std::size_t>(c / 6)];
                f[static_cast<std::size_t>(r) * static_cast<std::size_t>(6 * w) +
                  static_cast<std::size_t>(c)] = x < 0 ? x : x / 36.0F;
            }
        }
        GDALDriver* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
        GDALDatasetUniquePtr dst(
            gtiff->Create(fine.c_str(), 6 * w, 6 * h, 1, GDT_Float32, nullptr));
        double gt[6];
        src->GetGeoTransform(gt);
        gt[1] /= 6.0;
        gt[5] /= 6.0;
        dst->SetGeoTransform(gt);
        dst->SetSpatialRef(src->GetSpatialRef());
        dst->GetRasterBand(1)->SetNoDataValue(src->GetRasterBand(1)->GetNoDataValue());
        ASSERT_EQ(dst->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, 6 * w, 6 * h, f.data(), 6 * w,
                                                  6 * h, GDT_Float32, 0, 0),
                  CE_None);
    }
    const ToolRun r = run_tool(ZOOMDIFF_GRID_META_EXE, args_with(fine), tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    const auto f = io::H5File::open_read(out);
    EXPECT_EQ(f.attr_int("/", "epsg"), 32632);
    expect_conserved(
        f, hourly_totals_in_box(csv, f.attr_doubles("/", "bbox_lon_min_lat_min_lon_max_lat_max")),
        1e-9);
    EXPECT_GT(f.attr_int("/", "stations_in_box"), 3000);
    EXPECT_GT(f.attr_int("/", "stations_outside"), 1000);
}

}  // namespace
}  // namespace zoomdiff::test
