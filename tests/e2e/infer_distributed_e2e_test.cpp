// End-to-end: zoomdiff_infer sharded over two ranks on this machine (torchrun's variables, a
// free local port): the same bits as one process, --noise reference refused, a killed rank
// stops the other within --dist_timeout, and a rerun reuses the shards the killed run left.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/ranks.hpp"
#include "support/support.hpp"
#include "support/tiny_city.hpp"
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "zoomdiff/io/npz.hpp"
#include "zoomdiff/io/results_store.hpp"

namespace zoomdiff::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kTinyYaml = R"(
train: {epochs: 1, batch_size: 2, lr: 0.001, valid_interval: 0}
diffusion: {layers: 1, channels: 8, nheads: 2, diffusion_embedding_dim: 8, num_steps: 6}
model: {timeemb: 4, spatialemb: 4, feature_emb: 4}
)";
constexpr int kDistTimeoutS = 10;
// Wuhan 3 x 3 tiles and Xian 2 x 3 in blocks of 2: Wuhan 0-2 2-4 4-6 6-8 8-9, Xian 0-2 2-4 4-6.
// Two ranks take 4 blocks each, so Wuhan is split between them (rank 1 starts at its 8-9).
constexpr int kBlocks = 8;
const char* const kCities[] = {"Wuhan", "Xian"};

std::string q(const fs::path& p) {
    return "'" + p.string() + "'";
}

std::string text_of(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

template <typename T>
::testing::AssertionResult same_bits(const std::vector<T>& a, const std::vector<T>& b,
                                     const std::string& what) {
    if (a.size() != b.size())
        return ::testing::AssertionFailure()
               << what << ": " << a.size() << " vs " << b.size() << " values";
    if (!a.empty() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) != 0) {
        std::size_t i = 0;
        while (std::memcmp(&a[i], &b[i], sizeof(T)) == 0)
            ++i;
        return ::testing::AssertionFailure()
               << what << ": value " << i << " differs (" << a[i] << " vs " << b[i] << ")";
    }
    return ::testing::AssertionSuccess();
}

/// Every band of a GeoTIFF as float32, band after band.
std::vector<float> raster(const fs::path& tif) {
    GDALDatasetUniquePtr ds(GDALDataset::Open(tif.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    if (!ds) {
        ADD_FAILURE() << tif << " does not open";
        return {};
    }
    const int w = ds->GetRasterXSize();
    const int h = ds->GetRasterYSize();
    std::vector<float> out(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) *
                           static_cast<std::size_t>(ds->GetRasterCount()));
    for (int b = 1; b <= ds->GetRasterCount(); ++b) {
        float* at = out.data() + static_cast<std::size_t>(b - 1) * static_cast<std::size_t>(w) *
                                     static_cast<std::size_t>(h);
        EXPECT_EQ(ds->GetRasterBand(b)->RasterIO(GF_Read, 0, 0, w, h, at, w, h, GDT_Float32, 0, 0),
                  CE_None);
    }
    return out;
}

/// The datasets of both folders' outputs (h5, npz, GeoTIFF) hold the same bits.
void expect_same_outputs(const fs::path& a, const fs::path& b) {
    for (const std::string city : kCities) {
        SCOPED_TRACE(city);
        const auto x = io::read_results_h5(a / (city + "_traffic.h5"));
        const auto y = io::read_results_h5(b / (city + "_traffic.h5"));
        ASSERT_EQ(x.scales.size(), 3U);
        ASSERT_EQ(y.scales.size(), 3U);
        EXPECT_EQ(x.calibration, y.calibration);
        for (std::size_t s = 0; s < 3; ++s) {
            const auto& u = x.scales[s];
            const auto& v = y.scales[s];
            EXPECT_TRUE(same_bits(u.samples.values(), v.samples.values(), u.name + "/samples"));
            EXPECT_TRUE(same_bits(u.mean.values(), v.mean.values(), u.name + "/mean"));
            EXPECT_TRUE(same_bits(u.mask.values(), v.mask.values(), u.name + "/mask"));
            EXPECT_TRUE(same_bits(u.lon_edges_deg, v.lon_edges_deg, u.name + "/lon edges"));
            EXPECT_TRUE(same_bits(u.y_edges_m, v.y_edges_m, u.name + "/y edges"));
            const auto tif = "maps/" + io::map_file_stem(city, "traffic", u.name) + ".tif";
            EXPECT_TRUE(same_bits(raster(a / tif), raster(b / tif), tif));
        }
        const auto p = io::NpzReader::open(a / (city + "_500m_traffic.npz"));
        const auto r = io::NpzReader::open(b / (city + "_500m_traffic.npz"));
        for (const char* key : {"data_500m", "pop_500m", "lat", "lon"}) {
            EXPECT_TRUE(same_bits(p.read_double(key).values(), r.read_double(key).values(),
                                  std::string("npz ") + key));
        }
    }
}

/// No shard and no temporary file is left in `out`.
void expect_clean(const fs::path& out) {
    EXPECT_FALSE(fs::exists(out / "shards"));
    for (const auto& entry : fs::recursive_directory_iterator(out)) {
        EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos)
            << entry.path();
    }
}

/// "<reused> of 8 blocks reused" from a rank's log; -1 when the line is missing.
int reused_blocks(const std::string& log) {
    std::smatch m;
    if (!std::regex_search(log, m, std::regex("(\\d+) of (\\d+) blocks reused")))
        return -1;
    EXPECT_EQ(m[2], std::to_string(kBlocks));
    return std::stoi(m[1]);
}

/// Two cities to infer, a tiny trained model (one per test process) and one single-process run
/// to compare with.
class InferDistributed : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<TempDir>();
        write_tiny_city(root(), "Nanchang", "traffic", 3, 3, 21);
        write_tiny_city(root(), "Wuhan", "traffic", 3, 3, 22);
        write_tiny_city(root(), "Xian", "traffic", 2, 3, 23);
        std::ofstream(dir() / "tiny.yaml") << kTinyYaml;
    }

    static void TearDownTestSuite() { dir_.reset(); }

    static fs::path dir() { return dir_->path(); }

    static fs::path root() { return dir() / "cities"; }

    static fs::path model() {
        static const bool trained = [] {
            const auto r = run_tool(ZOOMDIFF_ZOOMDIFF_TRAIN_EXE,
                                    "--dataset Nanchang --data_root " + q(root()) + " --config " +
                                        q(dir() / "tiny.yaml") + " --out " + q(dir() / "model") +
                                        " --seed 3 --threads 1 -q",
                                    dir());
            EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
            return r.exit_code == 0;
        }();
        EXPECT_TRUE(trained);
        return dir() / "model";
    }

    static std::string args(const std::string& out, int seed = 7) {
        return "--dataset Wuhan*Xian --datatype traffic --data_root " + q(root()) +
               " --modelfolder " + q(model()) + " --out " + q(dir() / out) +
               " --nsample 2 --batch_size 2 --seed " + std::to_string(seed) +
               " --threads 1 --format h5,npz,geotiff --dist_timeout " +
               std::to_string(kDistTimeoutS);
    }

    /// The single-process run (WORLD_SIZE unset), once per test process.
    static fs::path single() {
        static const bool done = [] {
            const auto r =
                run_tool("env -u WORLD_SIZE -u RANK " + std::string(ZOOMDIFF_ZOOMDIFF_INFER_EXE),
                         args("single") + " -q", dir());
            EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
            return r.exit_code == 0;
        }();
        EXPECT_TRUE(done);
        return dir() / "single";
    }

    /// Both ranks, to the end; their logs under <dir>/logs/<name>/rank<r>.log.
    static std::vector<RankEnd> two_ranks(const std::string& arguments, const std::string& name) {
        const auto ranks = start_ranks(ZOOMDIFF_ZOOMDIFF_INFER_EXE, arguments, 2, free_port(),
                                       dir() / "logs" / name);
        std::vector<RankEnd> ended;
        for (const auto& p : ranks)
            ended.push_back(wait_rank(p, std::chrono::seconds(60)));
        return ended;
    }

    static std::unique_ptr<TempDir> dir_;
};

std::unique_ptr<TempDir> InferDistributed::dir_;

TEST_F(InferDistributed, TwoRanksWriteWhatOneProcessWrites) {
    const auto single_out = single();
    const auto ranks = two_ranks(args("two"), "two");
    for (const auto& r : ranks) {
        ASSERT_TRUE(r.finished) << r.stderr_text;
        ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    }
    EXPECT_EQ(reused_blocks(ranks[0].stderr_text), 0) << ranks[0].stderr_text;
    // Both ranks sampled: rank 1 its share of Wuhan (tiles 8-9) and all of Xian.
    EXPECT_NE(ranks[1].stderr_text.find("4 on this rank (7 tiles)"), std::string::npos)
        << ranks[1].stderr_text;
    expect_same_outputs(single_out, dir() / "two");
    expect_clean(dir() / "two");
}

TEST_F(InferDistributed, ReferenceNoiseIsRefusedWithTwoRanks) {
    // Refused before any rendezvous: one rank alone gets the answer.
    const auto p =
        start_ranks(ZOOMDIFF_ZOOMDIFF_INFER_EXE,
                    "--dataset Wuhan --data_root " + q(root()) + " --modelfolder " +
                        q(dir() / "none") + " --out " + q(dir() / "ref") + " --noise reference -q",
                    2, free_port(), dir() / "logs" / "reference", {0});
    const auto e = wait_rank(p[0], std::chrono::seconds(30));
    ASSERT_TRUE(e.finished);
    EXPECT_EQ(e.exit_code, 2) << e.stderr_text;
    EXPECT_NE(e.stderr_text.find("--noise"), std::string::npos) << e.stderr_text;
    EXPECT_NE(e.stderr_text.find("per_tile"), std::string::npos) << e.stderr_text;
    EXPECT_EQ(std::count(e.stderr_text.begin(), e.stderr_text.end(), '\n'), 1) << e.stderr_text;
    EXPECT_FALSE(fs::exists(dir() / "ref"));
}

TEST_F(InferDistributed, KilledRankStopsTheOtherAndARerunReusesItsShards) {
    const auto single_out = single();
    const fs::path out = dir() / "killed";
    const auto ranks = start_ranks(ZOOMDIFF_ZOOMDIFF_INFER_EXE, args("killed"), 2, free_port(),
                                   dir() / "logs" / "killed");
    const auto& rank0 = ranks[0];
    const auto& rank1 = ranks[1];

    // Kill rank 1 (SIGKILL: no chance to say goodbye) once its first shard is written.
    const auto rank1_wrote = [&out] {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(out / "shards" / "Wuhan_traffic", ec)) {
            if (e.path().filename().string().rfind("tiles_8_9-", 0) == 0 &&
                e.path().extension() == ".pt")
                return true;
        }
        return false;
    };
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (!rank1_wrote() && Clock::now() < deadline &&
           ::waitpid(rank1.pid, &status, WNOHANG) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(rank1.pid, SIGKILL);
    const auto killed = Clock::now();
    const auto one = wait_rank(rank1, std::chrono::seconds(5));
    ASSERT_EQ(one.signal, SIGKILL) << "rank 1 ended before it was killed: " << one.stderr_text;

    // Rank 0 stops with the process group's error, within the timeout (not hanging).
    const auto zero = wait_rank(rank0, std::chrono::seconds(kDistTimeoutS + 20));
    ASSERT_TRUE(zero.finished) << "rank 0 still ran " << kDistTimeoutS + 20 << " s after the kill";
    const double after_kill_s = std::chrono::duration<double>(Clock::now() - killed).count();
    EXPECT_LT(after_kill_s, kDistTimeoutS + 5.0);
    EXPECT_NE(zero.exit_code, 0) << zero.stderr_text;
    EXPECT_NE(zero.stderr_text.find("rank 0/2: the process group failed"), std::string::npos)
        << zero.stderr_text;
    for (const std::string city : kCities)
        EXPECT_FALSE(fs::exists(out / (city + "_traffic.h5"))) << city;

    // The shards left behind: shards of another run (another seed) are stale and ignored ...
    fs::copy(out, dir() / "stale", fs::copy_options::recursive);
    const auto stale = two_ranks(args("stale", /*seed=*/8), "stale");
    for (const auto& r : stale)
        ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(reused_blocks(stale[0].stderr_text), 0) << stale[0].stderr_text;
    expect_clean(dir() / "stale");

    // ... while a rerun of the same run reuses them and ends with the bits of one process.
    const auto rerun = two_ranks(args("killed"), "rerun");
    for (const auto& r : rerun)
        ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    const int reused = reused_blocks(rerun[0].stderr_text);
    EXPECT_GE(reused, 5) << "rank 0's four blocks and rank 1's first: " << rerun[0].stderr_text;
    EXPECT_LT(reused, kBlocks) << "rank 1 finished before it was killed; make its blocks slower";
    expect_same_outputs(single_out, out);
    expect_clean(out);
    const auto seed8 = io::read_results_h5(dir() / "stale" / "Wuhan_traffic.h5");
    const auto seed7 = io::read_results_h5(out / "Wuhan_traffic.h5");
    EXPECT_NE(seed8.scales[2].samples.values(), seed7.scales[2].samples.values());
}

}  // namespace
}  // namespace zoomdiff::test
