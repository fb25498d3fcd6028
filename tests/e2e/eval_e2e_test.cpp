// End-to-end: zoomdiff_eval as a user runs it. The generated file is written from the real data
// through the results writer (every sample = the real maps), so the tool must report a perfect
// score (JSD 0, MAE 0, SSIM 1, ...) for zoomdiff, real scores for the baselines, every plot, and
// one clear line for each kind of bad input.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/support.hpp"
#include "support/tiny_city.hpp"
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "zoomdiff/data/condition_tiles.hpp"
#include "zoomdiff/geo/blocks.hpp"
#include "zoomdiff/io/h5_file.hpp"
#include "zoomdiff/io/results_store.hpp"

namespace zoomdiff::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::size_t kT = 168;
constexpr std::int64_t kSamples = 10;  // CRPS needs 10

std::string q(const fs::path& p) {
    return "'" + p.string() + "'";
}

std::vector<double> every(const std::vector<double>& edges, std::size_t k, std::size_t count) {
    std::vector<double> out;
    for (std::size_t i = 0; i <= count; ++i)
        out.push_back(edges.at(i * k));
    return out;
}

/// Results maps whose every sample is the real data of `data_file` (500 m = the interleaved
/// tiles, 1000 / 2000 m their block means); the 500 m mask drops the south-west 500 m cell.
io::CityMaps maps_from_real(const fs::path& data_file, const std::string& model_run) {
    const io::H5File f = io::H5File::open_read(data_file);
    const NdArray<double> tiles = f.read<double>("/data_2000m");
    const std::size_t R = tiles.dim(0);
    const std::size_t C = tiles.dim(1);
    const std::vector<double> grid500 = geo::interleave_tiles(tiles.values(), R, C, kT);
    const std::vector<double> x = f.read<double>("/grid/x_edges_m").values();
    const std::vector<double> y = f.read<double>("/grid/y_edges_m").values();
    const std::vector<double> lon = f.read<double>("/grid/lon_edges_deg").values();
    const std::vector<double> lat = f.read<double>("/grid/lat_edges_deg").values();
    io::CityMaps maps;
    maps.city = "Nanchang";
    maps.token = "Nanchang";
    maps.datatype = "traffic";
    maps.units = "test units";
    maps.epsg = 32650;
    maps.nsample = kSamples;
    maps.calibration = "none";
    maps.model_run = model_run;
    maps.provenance.tool = "eval_e2e_test";
    for (const std::size_t k : {4, 2, 1}) {  // 500 m cells per cell side
        io::ScaleMaps s;
        s.name = std::to_string(500 * k) + "m";
        s.cell_size_m = 500.0 * static_cast<double>(k);
        s.rows = 4 * R / k;
        s.cols = 4 * C / k;
        s.samples = NdArray<float>({s.rows, s.cols, static_cast<std::size_t>(kSamples), kT});
        s.mean = NdArray<float>({s.rows, s.cols, kT});
        s.mask = NdArray<std::uint8_t>({s.rows, s.cols}, 1);
        if (k == 1)
            s.mask.at(0, 0) = 0;
        for (std::size_t r = 0; r < s.rows; ++r)
            for (std::size_t c = 0; c < s.cols; ++c)
                for (std::size_t t = 0; t < kT; ++t) {
                    double v = 0.0;
                    for (std::size_t a = 0; a < k; ++a)
                        for (std::size_t b = 0; b < k; ++b)
                            v += grid500[((r * k + a) * 4 * C + c * k + b) * kT + t];
                    const auto value = static_cast<float>(v / static_cast<double>(k * k));
                    s.mean.at(r, c, t) = value;
                    for (std::size_t n = 0; n < static_cast<std::size_t>(kSamples); ++n)
                        s.samples[((r * s.cols + c) * kSamples + n) * kT + t] = value;
                }
        s.x_edges_m = every(x, 5 * k, s.cols);
        s.y_edges_m = every(y, 5 * k, s.rows);
        s.lon_edges_deg = every(lon, 5 * k, s.cols);
        s.lat_edges_deg = every(lat, 5 * k, s.rows);
        maps.scales.insert(maps.scales.begin(), std::move(s));  // 2000m, 1000m, 500m
    }
    return maps;
}

bool decodes(const fs::path& png) {
    GDALAllRegister();
    GDALDatasetUniquePtr ds(GDALDataset::Open(png.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    return ds && ds->GetRasterXSize() > 100 && ds->GetRasterYSize() > 100 &&
           ds->GetRasterCount() == 4 && std::string(ds->GetDriver()->GetDescription()) == "PNG";
}

double value(const json& j) {
    return j.is_null() ? std::nan("") : j.get<double>();
}

class EvalTool : public ::testing::Test {
protected:
    void SetUp() override {
        write_tiny_city(root(), "Nanchang", "traffic", 3, 3, 21);  // 500 m: 12 x 12, SSIM fits
        write_tiny_city(root(), "Wuhan", "traffic", 2, 3, 5);      // the training city
        fs::create_directories(run_dir());
        std::ofstream(run_dir() / "manifest.json")
            << json{{"cities",
                     json::array(
                         {json{{"data_file", train_data().string()},
                               {"cond_file", (root() / "Wuhan/cond/Wuhan_cond.h5").string()}}})}}
                   .dump();
        io::write_results_h5(generated(), maps_from_real(real(), run_dir().string()));
    }

    [[nodiscard]] fs::path root() const { return dir_.path() / "cities"; }

    [[nodiscard]] fs::path real() const {
        return root() / "Nanchang/data/Nanchang_traffic_data.h5";
    }

    [[nodiscard]] fs::path train_data() const {
        return root() / "Wuhan/data/Wuhan_traffic_data.h5";
    }

    [[nodiscard]] fs::path run_dir() const { return dir_.path() / "run"; }

    [[nodiscard]] fs::path generated() const {
        return dir_.path() / "results" / "Nanchang_traffic.h5";
    }

    [[nodiscard]] ToolRun eval(const std::string& arguments) const {
        return run_tool(ZOOMDIFF_ZOOMDIFF_EVAL_EXE, arguments + " -q --threads 1", dir_.path());
    }

    [[nodiscard]] static json read_json(const fs::path& p) {
        std::ifstream in(p);
        return json::parse(in);
    }

    TempDir dir_;
};

TEST_F(EvalTool, GeneratedEqualToRealScoresPerfectlyWithBaselinesAndPlots) {
    const ToolRun r =
        eval("--real " + q(real()) + " --generated " + q(generated()) + " --mask --baselines");
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    const fs::path out = dir_.path() / "results/eval/Nanchang_traffic";  // the default --out
    const json m = read_json(out / "metrics.json");
    EXPECT_EQ(m["tool"]["name"], "zoomdiff_eval");
    EXPECT_EQ(m["inputs"]["real"]["sha256"].get<std::string>().size(), 64U);
    EXPECT_EQ(m["inputs"]["train"].size(), 1U);  // Wuhan, from the run's manifest
    EXPECT_EQ(m["options"]["mask"], true);
    EXPECT_EQ(m["methods"],
              json({"zoomdiff", "mean_profile", "condition_proportional", "nearest_analogue"}));
    for (const char* scale : {"2000m", "1000m", "500m"}) {
        SCOPED_TRACE(scale);
        const json& s = m["scales"][scale];
        const json& z = s["methods"]["zoomdiff"];
        EXPECT_NEAR(value(z["value_jsd"]["mean"]), 0.0, 1e-12);
        EXPECT_EQ(z["value_jsd"]["per_sample"].size(), static_cast<std::size_t>(kSamples));
        EXPECT_EQ(z["value_jsd"]["parameters"]["bins"], 100);
        EXPECT_NEAR(value(z["value_jsd_log1p"]["mean"]), 0.0, 1e-12);
        EXPECT_NEAR(value(z["increment_jsd"]["mean"]), 0.0, 1e-12);
        // float32 storage of the generated maps: errors are rounding only.
        const double real_mean = value(z["point_errors"]["parameters"]["real_mean"]);
        EXPECT_GT(real_mean, 0.0);
        EXPECT_LT(value(z["point_errors"]["sample_mean"]["mae"]), 1e-6 * real_mean);
        EXPECT_LT(value(z["point_errors"]["per_sample"]["mean"]["nmae"]), 1e-6);
        EXPECT_NEAR(value(z["weekly_profile_error"]["l1"]), 0.0, 1e-5);
        EXPECT_NEAR(value(z["acf_distance"]["per_cell"]["mean"]), 0.0, 1e-5);
        EXPECT_NEAR(value(z["spatial_rank_correlation"]["rho"]), 1.0, 1e-12);
        EXPECT_NEAR(value(z["crps"]["value"]), 0.0, 1e-6);
        EXPECT_NEAR(value(z["mmd"]["mean"]), 0.0, 1e-6);
        // Baselines are scored on the same cells and do not match the real data.
        EXPECT_EQ(s["methods"]["mean_profile"]["available"], true);
        EXPECT_GT(value(s["methods"]["mean_profile"]["point_errors"]["sample_mean"]["mae"]),
                  1e-3 * real_mean);
        EXPECT_GT(value(s["methods"]["condition_proportional"]["value_jsd"]["mean"]), 1e-6);
        EXPECT_EQ(s["methods"]["nearest_analogue"]["crps"]["value"], nullptr);  // deterministic
        for (const char* plot : {"value_hist", "weekly_profile", "acf", "weekly_mean_map"}) {
            const fs::path png = out / "plots" / (std::string(scale) + "_" + plot + ".png");
            EXPECT_TRUE(decodes(png)) << png;
        }
    }
    const json& s500 = m["scales"]["500m"];
    EXPECT_EQ(s500["cells"]["evaluated"], 143);  // 12 x 12 less the masked-out corner
    EXPECT_NEAR(value(s500["methods"]["zoomdiff"]["spatial_ssim"]["value"]), 1.0, 1e-9);
    EXPECT_EQ(m["scales"]["2000m"]["methods"]["zoomdiff"]["spatial_ssim"]["value"],
              nullptr);  // 3 x 3
    // The generated coarse maps are the real block means: as consistent as the real maps.
    const json& cross = s500["methods"]["zoomdiff"]["cross_scale_consistency"]["to_2000m"];
    EXPECT_NEAR(value(cross["value"]), value(cross["real_reference"]), 1e-6);
    EXPECT_GT(value(cross["value"]), 0.0);  // the masked-out cell counts as 0 in the pool
    // The Markdown table: one per scale, zoomdiff's perfect MAE in bold.
    std::ifstream md(out / "metrics.md");
    const std::string text{std::istreambuf_iterator<char>(md), std::istreambuf_iterator<char>()};
    EXPECT_NE(text.find("## 500m (143 of 144 cells)"), std::string::npos) << text;
    EXPECT_NE(
        text.find(
            "| metric | zoomdiff | mean_profile | condition_proportional | nearest_analogue |"),
        std::string::npos);
    EXPECT_NE(text.find("| value JSD | **0** |"), std::string::npos) << text;
}

TEST_F(EvalTool, HeldOutTilesFromTheRunsSplitOrByIdAndLeftOutOfTheBaselines) {
    // The run trained on Nanchang itself (and Wuhan) and held tiles 4 and 8 out.
    std::vector<int> train_ids{0, 1, 2, 3, 5, 6, 7};
    std::ofstream(run_dir() / "manifest.json")
        << json{{"cities",
                 json::array(
                     {json{{"data_file", train_data().string()},
                           {"cond_file", (root() / "Wuhan/cond/Wuhan_cond.h5").string()}},
                      json{{"city", "Nanchang"},
                           {"data_file", real().string()},
                           {"cond_file", (root() / "Nanchang/cond/Nanchang_cond.h5").string()},
                           {"split_tile_ids", json{{"train", train_ids}, {"valid", {4, 8}}}}}})}}
               .dump();
    const fs::path out = dir_.path() / "held_out";
    const ToolRun r = eval("--real " + q(real()) + " --generated " + q(generated()) +
                           " --mask --baselines --tiles valid --out " + q(out));
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    const json m = read_json(out / "metrics.json");
    EXPECT_EQ(m["options"]["tiles"], "valid");
    EXPECT_EQ(m["scales"]["500m"]["cells"]["evaluated"], 32);  // two tiles of 4 x 4
    EXPECT_EQ(m["scales"]["500m"]["cells"]["outside_chosen_tiles"], 144 - 32);
    EXPECT_EQ(m["scales"]["2000m"]["cells"]["evaluated"], 2);
    // The baselines learn from Wuhan's 6 tiles and Nanchang's 7 others, never from 4 and 8.
    EXPECT_EQ(m["baselines"]["training_set"]["evaluated_tiles_left_out"], 2);
    EXPECT_EQ(m["baselines"]["training_set"]["tiles_used"], 6 + 7);

    // Explicit ids: tile 0 holds the masked-out corner, so 15 cells; one tile is one 2000 m cell,
    // so that scale is left out (named), not an error.
    const fs::path by_id = dir_.path() / "by_id";
    const ToolRun r0 = eval("--real " + q(real()) + " --generated " + q(generated()) +
                            " --mask --tiles 0 --out " + q(by_id));
    ASSERT_EQ(r0.exit_code, 0) << r0.stderr_text;
    const json m0 = read_json(by_id / "metrics.json");
    EXPECT_EQ(m0["scales"]["500m"]["cells"]["evaluated"], 15);
    EXPECT_FALSE(m0["scales"].contains("2000m"));
    EXPECT_EQ(m0["options"]["scales_not_evaluated"], json({"2000m"}));

    // A tile beyond the city, or a split of a city the run did not train on: one line, exit 2.
    const ToolRun beyond = eval("--real " + q(real()) + " --generated " + q(generated()) +
                                " --tiles 9 --out " + q(dir_.path() / "x"));
    EXPECT_EQ(beyond.exit_code, 2);
    EXPECT_NE(beyond.stderr_text.find("tile 9 is beyond the city's 3 x 3 tiles"), std::string::npos)
        << beyond.stderr_text;
    std::ofstream(run_dir() / "manifest.json") << json{{"cities", json::array()}}.dump();
    const ToolRun unknown = eval("--real " + q(real()) + " --generated " + q(generated()) +
                                 " --tiles valid --out " + q(dir_.path() / "y"));
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_NE(unknown.stderr_text.find("has no valid split of Nanchang"), std::string::npos)
        << unknown.stderr_text;
}

TEST_F(EvalTool, TrainFlagAndPatchesWithoutMosaicMetrics) {
    // A data file of separate 4 x 4 patches (the UoMo importer's): the same tiles, no /grid.
    const fs::path patches = dir_.path() / "patches" / "Nanchang/data/Nanchang_traffic_data.h5";
    fs::create_directories(patches.parent_path());
    {
        const io::H5File src = io::H5File::open_read(real());
        io::H5File f = io::H5File::create(patches);
        f.write("/data_2000m", src.read<double>("/data_2000m"));
        f.set_attr("/", "datatype", "traffic");
        f.set_attr("/", "tile_arrangement", "patches");
        f.close();
    }
    const fs::path out = dir_.path() / "out";
    const ToolRun r = eval("--real " + q(patches) + " --generated " + q(generated()) +
                           " --baselines --train " + q(train_data()) + " --cond " +
                           q(root() / "Nanchang/cond/Nanchang_cond.h5") + " --out " + q(out));
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    const json m = read_json(out / "metrics.json");
    EXPECT_EQ(m["tile_arrangement"], "patches");
    EXPECT_EQ(m["baselines"]["training_set"]["source"], "--train");
    const json& ssim = m["scales"]["500m"]["methods"]["zoomdiff"]["spatial_ssim"];
    EXPECT_EQ(ssim["value"], nullptr);
    EXPECT_EQ(ssim["reason"], "patches, not a mosaic");
    EXPECT_FALSE(fs::exists(out / "plots/500m_weekly_mean_map.png"));
    EXPECT_TRUE(decodes(out / "plots/500m_weekly_profile.png"));
}

TEST_F(EvalTool, BadInputIsOneLineNamingTheFile) {
    const auto one_line = [](const ToolRun& r) {
        return std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n') == 1;
    };
    const fs::path missing = dir_.path() / "missing.h5";
    ToolRun r = eval("--real " + q(missing) + " --generated " + q(generated()));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.stderr_text.find(missing.string()), std::string::npos) << r.stderr_text;
    EXPECT_TRUE(one_line(r)) << r.stderr_text;

    // A generated file of another grid (2 x 3 tiles against the 3 x 3 real city).
    const fs::path other = dir_.path() / "other" / "Nanchang_traffic.h5";
    io::write_results_h5(other, maps_from_real(train_data(), ""));
    r = eval("--real " + q(real()) + " --generated " + q(other));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.stderr_text.find("different grid"), std::string::npos) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find(other.string()), std::string::npos) << r.stderr_text;

    // Another datatype on the same grid.
    write_tiny_city(root(), "Nanchang", "user", 3, 3, 21);
    r = eval("--real " + q(root() / "Nanchang/data/Nanchang_user_data.h5") + " --generated " +
             q(generated()));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.stderr_text.find("datatype"), std::string::npos) << r.stderr_text;

    // Not a results file.
    r = eval("--real " + q(real()) + " --generated " + q(real()));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.stderr_text.find("not a zoomdiff-results file"), std::string::npos)
        << r.stderr_text;

    // --baselines without a training set: no --train and no model run.
    const fs::path no_run = dir_.path() / "norun" / "Nanchang_traffic.h5";
    io::write_results_h5(no_run, maps_from_real(real(), ""));
    r = eval("--real " + q(real()) + " --generated " + q(no_run) + " --baselines");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.stderr_text.find("--train"), std::string::npos) << r.stderr_text;
    EXPECT_TRUE(one_line(r)) << r.stderr_text;
    EXPECT_FALSE(fs::exists(no_run.parent_path() / "eval"));  // nothing written
}

}  // namespace
}  // namespace zoomdiff::test
