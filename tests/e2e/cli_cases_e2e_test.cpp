// End-to-end, table-driven (issue 19): every line of cli_cases.tsv runs one tool on one bad input
// or resource fault and checks the exit code, the error line, the files that must not exist, that
// nothing crashed, that no temporary file was left and that no input changed.
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/support.hpp"
#include "support/tiny_city.hpp"
#include <gdal_priv.h>
#include <gtest/gtest.h>

#include "zoomdiff/core/file_hash.hpp"
#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/io/npz.hpp"

namespace zoomdiff::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTinyYaml = R"(
train: {epochs: 2, batch_size: 2, lr: 0.001, valid_interval: 0}
diffusion: {layers: 1, channels: 8, nheads: 2, diffusion_embedding_dim: 8, num_steps: 6}
model: {timeemb: 4, spatialemb: 4, feature_emb: 4}
)";

struct Case {
    std::string name, tool, args;
    int exit = 0;
    std::string message;
    std::vector<std::string> absent, given;
    int fsize_kb = 0;
    int line = 0;
};

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, sep))
        parts.push_back(part);
    return parts;
}

std::vector<Case> read_cases(const fs::path& file) {
    std::ifstream in(file);
    std::vector<Case> cases;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (line.empty() || line[0] == '#')
            continue;
        const auto f = split(line, '\t');
        if (f.size() != 8) {
            ADD_FAILURE() << file << ":" << number << ": " << f.size() << " columns, not 8";
            continue;
        }
        const auto list = [](const std::string& cell) {
            return cell == "-" ? std::vector<std::string>{} : split(cell, ',');
        };
        cases.push_back({f[0], f[1], f[2], std::stoi(f[3]), f[4], list(f[5]), list(f[6]),
                         std::stoi(f[7]), number});
    }
    return cases;
}

std::string replace_all(std::string text, const std::map<std::string, std::string>& values) {
    for (const auto& [key, value] : values) {
        for (auto at = text.find(key); at != std::string::npos;
             at = text.find(key, at + value.size()))
            text.replace(at, key.size(), value);
    }
    return text;
}

/// SHA-256 of every file under `folders`, by path.
std::map<std::string, std::string> hashes(const std::vector<fs::path>& folders) {
    std::map<std::string, std::string> out;
    for (const auto& folder : folders)
        for (const auto& entry : fs::recursive_directory_iterator(folder))
            if (entry.is_regular_file())
                out[entry.path().string()] = core::sha256_file(entry.path());
    return out;
}

std::vector<std::string> temporaries(const fs::path& folder) {
    std::vector<std::string> found;
    if (!fs::exists(folder))
        return found;
    for (const auto& entry : fs::recursive_directory_iterator(folder))
        if (entry.path().filename().string().find(".tmp-") != std::string::npos)
            found.push_back(entry.path().string());
    return found;
}

std::string exe_of(const std::string& tool) {
    const std::map<std::string, std::string> exes{{"grid_meta", ZOOMDIFF_GRID_META_EXE},
                                                  {"env_extra", ZOOMDIFF_ENV_EXTRA_EXE},
                                                  {"zoomdiff_train", ZOOMDIFF_ZOOMDIFF_TRAIN_EXE},
                                                  {"zoomdiff_infer", ZOOMDIFF_ZOOMDIFF_INFER_EXE},
                                                  {"zoomdiff_eval", ZOOMDIFF_ZOOMDIFF_EVAL_EXE},
                                                  {"uomo_import", ZOOMDIFF_UOMO_IMPORT_EXE}};
    const auto it = exes.find(tool);
    return it == exes.end() ? std::string() : it->second;
}

/// The inputs every case may read, written once: a copy of data/sample, broken copies of some of
/// its files, a tiny city, a tiny model and its results.
class Inputs {
public:
    Inputs() {
        fs::copy(source_dir() / "data/sample", sample(), fs::copy_options::recursive);
        write_broken_inputs();
        write_tiny_city(cities(), "Nanchang", "traffic", 2, 2, 41);
        std::ofstream(dir_.path() / "tiny.yaml") << kTinyYaml;
        const auto train =
            run_tool(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE,
                     "--dataset Nanchang --data_root '" + cities().string() + "' --config '" +
                         (dir_.path() / "tiny.yaml").string() + "' --out '" + model().string() +
                         "' --seed 3 --threads 1 -q",
                     dir_.path());
        EXPECT_EQ(train.exit_code, 0) << train.stderr_text;
        const auto infer =
            run_tool(ZOOMDIFF_ZOOMDIFF_INFER_EXE,
                     "--dataset Nanchang --data_root '" + cities().string() + "' --modelfolder '" +
                         model().string() + "' --out '" + results().string() +
                         "' --seed 7 --nsample 2 --threads 1 -q",
                     dir_.path());
        EXPECT_EQ(infer.exit_code, 0) << infer.stderr_text;
    }

    [[nodiscard]] fs::path sample() const { return dir_.path() / "sample"; }

    [[nodiscard]] fs::path bad() const { return dir_.path() / "bad"; }

    [[nodiscard]] fs::path cities() const { return dir_.path() / "cities"; }

    [[nodiscard]] fs::path model() const { return dir_.path() / "model"; }

    [[nodiscard]] fs::path results() const { return dir_.path() / "results"; }

    [[nodiscard]] fs::path scratch() const { return dir_.path() / "cases"; }

private:
    void write_broken_inputs() const {
        fs::create_directories(bad());
        // A population raster with a block of -1000 people per pixel in its middle.
        const fs::path pop = bad() / "negative_population.tif";
        fs::copy_file(sample() / "population.tif", pop);
        {
            GDALDatasetUniquePtr ds(
                GDALDataset::Open(pop.c_str(), GDAL_OF_RASTER | GDAL_OF_UPDATE));
            ASSERT_TRUE(ds) << pop;
            const int cols = ds->GetRasterXSize();
            const int rows = ds->GetRasterYSize();
            std::vector<float> block(25, -1000.0F);
            ASSERT_EQ(
                ds->GetRasterBand(1)->RasterIO(GF_Write, cols / 2 - 2, rows / 2 - 2, 5, 5,
                                               block.data(), 5, 5, GDT_Float32, 0, 0, nullptr),
                CE_None);
        }
        // A station table whose second station has a negative hour.
        std::ifstream in(sample() / "stations_traffic.csv");
        std::ofstream out(bad() / "negative_traffic.csv");
        std::string line;
        for (int n = 0; std::getline(in, line); ++n) {
            if (n == 2)
                line = line.substr(0, line.rfind(',')) + ",-5";
            out << line << '\n';
        }
        // A Geofabrik folder and a boundary whose shapefiles lost their second half.
        fs::copy(sample() / "OSM_Jiangxi", bad() / "OSM_truncated", fs::copy_options::recursive);
        const fs::path natural = bad() / "OSM_truncated/gis_osm_natural_free_1.shp";
        fs::resize_file(natural, fs::file_size(natural) / 2);
        fs::copy(sample() / "boundary", bad() / "boundary_truncated", fs::copy_options::recursive);
        const fs::path boundary = bad() / "boundary_truncated/nanchang_sample.shp";
        fs::resize_file(boundary, fs::file_size(boundary) / 2);
        // A UoMo file with one negative user count.
        auto npz = io::NpzWriter::create(bad() / "negative_users.npz");
        npz.write("traffic", NdArray<double>({2, 168, 4, 4}, 1.0));
        NdArray<double> users({2, 168, 4, 4}, 1.0);
        users.values()[(5 * 4 + 2) * 4 + 3] = -1.0;  // patch 0, step 5, row 2, column 3
        npz.write("users", users);
        npz.write("poi", NdArray<std::int32_t>({2, 3, 4, 4}, 1));
        npz.write_strings("split",
                          NdArray<std::string>({2}, std::vector<std::string>{"train", "train"}));
        npz.write("steps_per_day", NdArray<std::int64_t>({}, std::vector<std::int64_t>{24}));
        npz.close();
    }

    TempDir dir_;
};

TEST(CliCases, EveryBadInputAndFaultGivesOneClearLineAndLeavesNothing) {
    const fs::path table = source_dir() / "tests/e2e/cli_cases.tsv";
    const auto cases = read_cases(table);
    ASSERT_GE(cases.size(), 20U) << table;
    Inputs inputs;
    const std::vector<fs::path> watched{inputs.sample(), inputs.bad(), inputs.cities(),
                                        inputs.model(), inputs.results()};
    const auto before = hashes(watched);
    for (const auto& c : cases) {
        SCOPED_TRACE(table.string() + ":" + std::to_string(c.line) + " " + c.name);
        const fs::path tmp = inputs.scratch() / c.name;
        fs::create_directories(tmp);
        const std::map<std::string, std::string> values{
            {"{sample}", inputs.sample().string()},
            {"{bad}", inputs.bad().string()},
            {"{cities}", inputs.cities().string()},
            {"{model}", inputs.model().string()},
            {"{results}", inputs.results().string()},
            {"{tmp}", tmp.string()},
            {"{uomo}",
             (test_data_dir() / "uomo_patches_traffic_users_poi/uomo_SD_series.npz").string()}};
        for (const auto& g : c.given)
            std::ofstream(replace_all(g, values)) << "garbage";
        std::string exe = exe_of(c.tool);
        ASSERT_FALSE(exe.empty()) << "unknown tool " << c.tool;
        if (c.fsize_kb > 0) {
            // sh's ulimit -f counts 1024-byte blocks; an ignored SIGXFSZ survives exec, so a write
            // past the limit fails with EFBIG as on a full disk.
            exe = "trap '' XFSZ; ulimit -f " + std::to_string(c.fsize_kb) + "; exec " + exe;
        }
        const auto run = run_tool(exe, replace_all(c.args, values) + " --threads 1 -q", tmp);
        EXPECT_NE(run.exit_code, -1) << "killed by a signal:\n" << run.stderr_text;
        EXPECT_EQ(run.exit_code, c.exit) << run.stderr_text;
        EXPECT_NE(run.stderr_text.find(c.message), std::string::npos)
            << "expected '" << c.message << "' in:\n"
            << run.stderr_text;
        for (const char* crash : {"Segmentation", "terminate called", "HDF5-DIAG", "Aborted"})
            EXPECT_EQ(run.stderr_text.find(crash), std::string::npos) << run.stderr_text;
        for (const auto& a : c.absent)
            EXPECT_FALSE(fs::exists(replace_all(a, values))) << replace_all(a, values);
        EXPECT_EQ(temporaries(tmp), std::vector<std::string>{});
        EXPECT_EQ(hashes(watched), before) << "an input changed";
    }
}

}  // namespace
}  // namespace zoomdiff::test
