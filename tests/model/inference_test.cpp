// zoomdiff_infer's core in process: a tiny model trained by the train code generates tiny
// cities end to end (square and non-square tile grids).
#include "zoomdiff/model/inference.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "support/errors.hpp"
#include "support/support.hpp"
#include "support/tiny_city.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "zoomdiff/data/scaler.hpp"
#include "zoomdiff/io/h5_file.hpp"
#include "zoomdiff/io/npz.hpp"
#include "zoomdiff/io/results_store.hpp"
#include "zoomdiff/model/training.hpp"

namespace zoomdiff::model {
namespace {

namespace fs = std::filesystem;
using test::error_of;

/// The 500 m samples of a results file through the format's own reader: (rows, cols, nsample,
/// 168), 0 outside the city.
std::vector<float> samples_500m(const fs::path& results) {
    return io::read_results_h5(results).scales.back().samples.values();
}

using test::mentions;

/// Over the hours a series was not clamped at 0, a calibration that multiplies each series by a
/// constant (template_spatial, template_quantile) and `none` (an affine map of the same draws)
/// correlate perfectly. Both (rows, cols, nsample, 168).
void expect_each_series_a_multiple_of(const std::vector<float>& calibrated,
                                      const std::vector<float>& raw) {
    ASSERT_EQ(calibrated.size(), raw.size());
    std::size_t compared = 0;
    for (std::size_t start = 0; start + 168 <= raw.size(); start += 168) {
        double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (std::size_t h = 0; h < 168; ++h) {
            const double y = calibrated[start + h];
            if (y <= 0.0)
                continue;  // clamped
            const double x = raw[start + h];
            n += 1;
            sx += x;
            sy += y;
            sxx += x * x;
            syy += y * y;
            sxy += x * y;
        }
        const double vx = sxx - sx * sx / n;
        const double vy = syy - sy * sy / n;
        if (n < 24 || vx <= 0 || vy <= 0)
            continue;
        EXPECT_NEAR((sxy - sx * sy / n) / std::sqrt(vx * vy), 1.0, 1e-3)
            << "series " << start / 168;
        ++compared;
    }
    EXPECT_GT(compared, 0U) << "no series with a day of unclamped hours to compare";
}

constexpr const char* kTinyTrainYaml = R"(
train: {epochs: 2, batch_size: 2, lr: 0.001, valid_interval: 0}
diffusion: {layers: 1, channels: 8, nheads: 2, diffusion_embedding_dim: 8, num_steps: 6}
model: {timeemb: 4, spatialemb: 4, feature_emb: 4}
)";

void infer(const InferOptions& r) {
    core::NullProgress progress;
    run_inference(r, progress);
}

/// One tiny model (trained once per process) and three tiny cities.
class InferenceFixture {
public:
    InferenceFixture() {
        test::write_tiny_city(root(), "Nanchang", "traffic", 3, 3, 31);
        test::write_tiny_city(root(), "Wuhan", "traffic", 2, 3, 32);
        test::write_tiny_city(root(), "Xian", "traffic", 3, 3, 33);
        std::ofstream(dir_.path() / "tiny.yaml") << kTinyTrainYaml;
        TrainOptions t;
        t.dataset = "Nanchang";
        t.config = dir_.path() / "tiny.yaml";
        t.data_root = root();
        t.out = run();
        t.seed = 5;
        t.threads = 1;  // ctest runs suites side by side: one torch thread each
        core::NullProgress progress;
        run_training(t, progress);
    }

    [[nodiscard]] fs::path root() const { return dir_.path() / "cities"; }

    [[nodiscard]] fs::path run() const { return dir_.path() / "run"; }

    /// Wuhan sampled (2 samples, h5 only) under `calibration` into `out`: its results file.
    [[nodiscard]] fs::path wuhan_results(const std::string& out,
                                         CalibrationKind calibration) const {
        auto r = request(out, "Wuhan");
        r.calibration = calibration;
        r.nsample = 2;
        r.formats = {OutputFormat::kH5};
        infer(r);
        return r.out / "Wuhan_traffic.h5";
    }

    [[nodiscard]] InferOptions request(const std::string& out,
                                       const std::string& dataset = "Wuhan*Xian") const {
        InferOptions r;
        r.dataset = dataset;
        r.data_root = root();
        r.modelfolder = run();
        r.out = dir_.path() / out;
        r.nsample = 2;
        r.batch_size = 4;
        r.seed = 9;
        r.threads = 1;
        r.formats = {OutputFormat::kH5, OutputFormat::kNpz};
        return r;
    }

private:
    test::TempDir dir_;
};

TEST(Inference, EveryTileAtThreeScalesWithEverySample) {
    InferenceFixture f;
    const auto r = f.request("out");
    infer(r);
    for (const auto& [city, rows, cols] :
         {std::tuple{"Wuhan", 2U, 3U}, std::tuple{"Xian", 3U, 3U}}) {
        SCOPED_TRACE(city);
        const fs::path path = r.out / (std::string(city) + "_traffic.h5");
        const auto file = io::H5File::open_read(path);
        const io::CityMaps maps = io::read_results_h5(path);
        ASSERT_EQ(maps.scales.size(), 3U);
        for (std::size_t i = 0; i < 3; ++i) {
            const io::ScaleMaps& s = maps.scales[i];
            const std::size_t k = std::size_t{1} << i;  // 2000 m, 1000 m, 500 m
            SCOPED_TRACE(s.name);
            ASSERT_EQ(s.mask.shape(), (std::vector<std::size_t>{rows * k, cols * k}));
            ASSERT_EQ(s.samples.shape(), (std::vector<std::size_t>{rows * k, cols * k, 2, 168}));
            std::size_t inside = 0;
            for (std::size_t cell = 0; cell < s.mask.size(); ++cell) {
                if (s.mask[cell] == 0)
                    continue;
                ++inside;
                for (std::size_t j = 0; j < 2 * 168; ++j) {
                    const float v = s.samples[cell * 2 * 168 + j];
                    ASSERT_TRUE(std::isfinite(v) && v >= 0.0F);
                }
                EXPECT_FLOAT_EQ(
                    s.mean[cell * 168 + 5],
                    (s.samples[cell * 2 * 168 + 5] + s.samples[cell * 2 * 168 + 168 + 5]) / 2);
            }
            EXPECT_GT(inside, 0U);
        }
        const auto metrics = nlohmann::json::parse(file.attr_string("/", "metrics"));
        EXPECT_TRUE(metrics.contains("cross_scale_500_to_1000"));
        EXPECT_TRUE(metrics.contains("cross_scale_500_to_2000"));
        // Template calibration: the 500 m sample mean has the template's mean x population ratio.
        EXPECT_NEAR(metrics.at("mean_500m").get<double>(), metrics.at("target_mean").get<double>(),
                    1e-3 * metrics.at("target_mean").get<double>());
    }
    // The reference's .npz, named by the token as typed.
    const auto npz = io::NpzReader::open(r.out / "Wuhan_500m_traffic.npz");
    EXPECT_EQ(npz.info("data_500m").shape.at(1), 168U);
    EXPECT_EQ(npz.info("data_500m").dtype, "<f4");
}

TEST(Inference, TemplateEachMatchesEachSamplesPeakAndIsTheReferencesWithOneSample) {
    // template_each fits gamma to the samples' own peak-to-mean, template to the sample mean's (a
    // mean of several samples peaks lower, so it asks for a larger gamma); with one sample they
    // agree.
    InferenceFixture f;
    const auto gamma_and_samples = [&](const std::string& out, CalibrationKind calibration,
                                       std::int64_t n) {
        auto r = f.request(out, "Wuhan");
        r.calibration = calibration;
        r.nsample = n;
        r.formats = {OutputFormat::kH5};
        infer(r);
        const auto file = io::H5File::open_read(r.out / "Wuhan_traffic.h5");
        const auto metrics = nlohmann::json::parse(file.attr_string("/", "metrics"));
        EXPECT_NEAR(metrics.at("mean_500m").get<double>(), metrics.at("target_mean").get<double>(),
                    1e-3 * metrics.at("target_mean").get<double>());
        EXPECT_EQ(metrics.at("calibration")
                      .get<std::string>()
                      .rfind(std::string(calibration_name(calibration)) + ":", 0),
                  0U);
        return std::pair{metrics.at("gamma").get<double>(),
                         samples_500m(r.out / "Wuhan_traffic.h5")};
    };
    const auto one_template = gamma_and_samples("t1", CalibrationKind::kTemplate, 1);
    const auto one_each = gamma_and_samples("e1", CalibrationKind::kTemplateEach, 1);
    EXPECT_EQ(one_template.first, one_each.first);
    EXPECT_EQ(one_template.second, one_each.second);
    const auto several_template = gamma_and_samples("t4", CalibrationKind::kTemplate, 4);
    const auto several_each = gamma_and_samples("e4", CalibrationKind::kTemplateEach, 4);
    EXPECT_LT(several_each.first, several_template.first);
}

TEST(Inference, TemplateSpatialKeepsEachCellsShapeAndReachesTheTemplatesMean) {
    // template_spatial: the template's mean (x the population ratio) like template, but each cell's
    // series in each sample is only multiplied by a constant; `none` is an affine map of the same
    // draws.
    InferenceFixture f;
    const auto run = [&](const std::string& out, CalibrationKind calibration) {
        return f.wuhan_results(out, calibration);
    };
    const fs::path spatial = run("s", CalibrationKind::kTemplateSpatial);
    const auto metrics =
        nlohmann::json::parse(io::H5File::open_read(spatial).attr_string("/", "metrics"));
    EXPECT_EQ(metrics.at("calibration").get<std::string>().rfind("template_spatial:", 0), 0U);
    EXPECT_NEAR(metrics.at("mean_500m").get<double>(), metrics.at("target_mean").get<double>(),
                1e-3 * metrics.at("target_mean").get<double>());
    expect_each_series_a_multiple_of(samples_500m(spatial),
                                     samples_500m(run("n", CalibrationKind::kNone)));
}

TEST(Inference, TemplateQuantileMapsEachSamplesCellLevelsOntoTheTemplatesQuantiles) {
    // template_quantile: in each sample the cells' weekly means (inside the city) are the
    // template's cell-level quantiles at their mid-ranks, times one population ratio; each series
    // keeps the model's shape (a multiple of `none`'s).
    InferenceFixture f;
    const auto run = [&](const std::string& out, CalibrationKind calibration) {
        return f.wuhan_results(out, calibration);
    };
    const auto templ = data::read_scalers(f.run() / "scalers.json").front();
    ASSERT_TRUE(templ.cell_levels.complete());
    const fs::path mapped = run("q", CalibrationKind::kTemplateQuantile);
    const auto results = io::read_results_h5(mapped);
    EXPECT_EQ(results.calibration.rfind("template_quantile:", 0), 0U);
    for (std::size_t scale = 0; scale < 3; ++scale) {
        const auto& maps = results.scales.at(2 - scale);  // the reader lists 2000 m first
        SCOPED_TRACE(maps.name);
        const auto& q = templ.cell_levels.by_scale[scale];
        const std::size_t ns = maps.samples.dim(2);
        for (std::size_t s = 0; s < ns; ++s) {
            std::vector<double> levels;
            for (std::size_t cell = 0; cell < maps.mask.size(); ++cell) {
                if (maps.mask[cell] == 0)
                    continue;
                double sum = 0.0;
                for (std::size_t h = 0; h < 168; ++h)
                    sum += maps.samples[(cell * ns + s) * 168 + h];
                levels.push_back(sum / 168.0);
            }
            ASSERT_GE(levels.size(), 2U);
            std::sort(levels.begin(), levels.end());
            // One ratio (the population ratio) between each level and its quantile.
            const double n = static_cast<double>(levels.size());
            const double ratio = levels.back() / data::quantile_at(q, (n - 0.5) / n);
            for (std::size_t i = 0; i < levels.size(); ++i) {
                const double expected =
                    ratio * data::quantile_at(q, (static_cast<double>(i) + 0.5) / n);
                EXPECT_NEAR(levels[i], expected, 1e-4 * expected + 1e-6) << "rank " << i;
            }
        }
    }
    expect_each_series_a_multiple_of(samples_500m(mapped),
                                     samples_500m(run("n", CalibrationKind::kNone)));
}

TEST(Inference, TemplateQuantileNeedsARunThatRecordedTheQuantiles) {
    InferenceFixture f;
    // A run folder from before template_quantile: its scalers.json has no cell_mean_quantiles.
    const fs::path old_run = f.run().parent_path() / "old_run";
    fs::copy(f.run(), old_run, fs::copy_options::recursive);
    auto scalers = data::read_scalers(old_run / "scalers.json");
    scalers.front().cell_levels = {};
    std::ofstream(old_run / "scalers.json") << data::scalers_to_json("traffic", scalers);
    auto r = f.request("old", "Wuhan");
    r.modelfolder = old_run;
    r.calibration = CalibrationKind::kTemplateQuantile;
    const std::string message = error_of([&] { infer(r); });
    for (const std::string part :
         {(old_run / "scalers.json").string(), std::string("cell_mean_quantiles"),
          std::string("template_spatial")})
        EXPECT_TRUE(mentions(message, part));
    EXPECT_FALSE(fs::exists(r.out / "Wuhan_traffic.h5"));
}

TEST(Inference, SameSeedSameBitsOtherSeedOtherBits) {
    InferenceFixture f;
    auto a = f.request("a", "Wuhan");
    auto b = f.request("b", "Wuhan");
    auto c = f.request("c", "Wuhan");
    c.seed = 10;
    for (const auto& r : {a, b, c})
        infer(r);
    const auto read = [](const InferOptions& r) {
        return samples_500m(r.out / "Wuhan_traffic.h5");
    };
    EXPECT_EQ(read(a), read(b));
    EXPECT_NE(read(a), read(c));
}

TEST(Inference, PerTileNoiseIsReproducibleAndDiffersFromReferenceNoise) {
    InferenceFixture f;
    const auto a = f.request("a", "Wuhan");
    const auto again = f.request("again", "Wuhan");
    auto reference = f.request("reference", "Wuhan");
    reference.noise = "reference";
    // per_tile: a tile's samples do not depend on its batch, so another batch size gives the
    // same values within float32 rounding (the same bits on some CPUs, not on every one:
    // TileNoise_TileSamplesDoNotDependOnHowTilesAreBatched says why).
    auto batched = f.request("batched", "Wuhan");
    batched.batch_size = 1;
    auto reference_batched = f.request("reference_batched", "Wuhan");
    reference_batched.noise = "reference";
    reference_batched.batch_size = 1;
    EXPECT_EQ(a.noise, "per_tile") << "per_tile is the default";
    for (const auto& r : {a, again, reference, batched, reference_batched})
        infer(r);
    const auto read = [](const InferOptions& r) {
        return io::read_results_h5(r.out / "Wuhan_traffic.h5");
    };
    const auto samples = [&read](const InferOptions& r) {
        return read(r).scales.at(2).samples.values();
    };
    EXPECT_EQ(samples(a), samples(again));
    EXPECT_NE(samples(a), samples(reference));
    const auto per_tile = samples(a);
    const auto other_batches = samples(batched);
    ASSERT_EQ(per_tile.size(), other_batches.size());
    float largest = 0.0F;
    float scale = 0.0F;
    for (std::size_t i = 0; i < per_tile.size(); ++i) {
        largest = std::max(largest, std::abs(per_tile[i] - other_batches[i]));
        scale = std::max(scale, std::abs(per_tile[i]));
    }
    EXPECT_LE(largest, 1e-4F * scale)
        << "largest difference " << largest << " of values up to " << scale;
    EXPECT_NE(samples(reference), samples(reference_batched))
        << "one stream: draws follow the batches";
    for (const auto& [r, noise] : {std::pair{a, "per_tile"}, std::pair{reference, "reference"}}) {
        const auto resolved = nlohmann::json::parse(read(r).provenance.resolved_config_json);
        EXPECT_EQ(resolved.at("noise"), noise);
    }
}

TEST(Inference, ReferenceNoiseIsOneProcessOnly) {
    // Refused before anything is read and before any rendezvous: no model or city is needed.
    test::TempDir dir;
    InferOptions r;
    r.dataset = "Wuhan";
    r.modelfolder = dir.path() / "model";
    r.out = dir.path() / "out";
    r.noise = "reference";
    r.world.world_size = 2;
    r.world.rank = 1;
    r.world.master_port = 1;  // nobody listens there
    r.dist_timeout_s = 1;
    const auto message = error_of([&] { infer(r); });
    EXPECT_TRUE(mentions(message, "--noise")) << message;
    EXPECT_TRUE(mentions(message, "per_tile")) << message;
    auto unknown = r;
    unknown.world = core::World{};
    unknown.noise = "stream";
    EXPECT_TRUE(mentions(error_of([&] { infer(unknown); }), "--noise"));
    EXPECT_FALSE(fs::exists(r.out));
}

TEST(Inference, CompleteCitiesAreSkippedAndBadInputIsOneLine) {
    InferenceFixture f;
    auto r = f.request("out", "Wuhan");
    infer(r);
    const auto h5 = r.out / "Wuhan_traffic.h5";
    const auto written = fs::last_write_time(h5);
    infer(r);
    EXPECT_EQ(fs::last_write_time(h5), written) << "a complete city is not redone";
    // issue 19: a result is reused only for the very request that made it.
    auto other_seed = r;
    other_seed.seed = r.seed + 1;
    const auto seed_error = error_of([&] { infer(other_seed); });
    EXPECT_TRUE(mentions(seed_error, "--force") && mentions(seed_error, "seed")) << seed_error;
    auto more = r;
    more.nsample = r.nsample + 1;
    EXPECT_TRUE(mentions(error_of([&] { infer(more); }), "nsample"));
    EXPECT_EQ(fs::last_write_time(h5), written) << "a refused request writes nothing";
    other_seed.force = true;
    infer(other_seed);
    EXPECT_TRUE(mentions(error_of([&] { infer(r); }), "--force")) << "the record follows --force";
    auto garbage = f.request("garbage", "Wuhan");
    fs::create_directories(garbage.out);
    std::ofstream(garbage.out / "Wuhan_traffic.h5") << "garbage";
    EXPECT_TRUE(mentions(error_of([&] { infer(garbage); }), "no record"));
    auto into_data = f.request("x", "Wuhan");
    into_data.out = into_data.data_root;
    EXPECT_TRUE(mentions(error_of([&] { infer(into_data); }), "--data_root"));

    auto unknown = f.request("x", "Wuhan*Gotham");
    EXPECT_TRUE(mentions(error_of([&] { infer(unknown); }), "Gotham"));
    auto no_model = f.request("x", "Wuhan");
    no_model.modelfolder = r.out;
    EXPECT_TRUE(mentions(error_of([&] { infer(no_model); }), "model.pt"));
    auto user = f.request("x", "Wuhan");
    user.datatype = "user";
    EXPECT_TRUE(mentions(error_of([&] { infer(user); }), "--datatype"));
    auto templ = f.request("x", "Wuhan");
    templ.template_city = "Beijing";
    EXPECT_TRUE(mentions(error_of([&] { infer(templ); }), "Nanchang"));
    EXPECT_FALSE(fs::exists(f.request("x").out / "Wuhan_traffic.h5"));
}

TEST(Inference, ReferenceRunFolderWithATemplateNpz) {
    InferenceFixture f;
    // The reference's template file: data_2000m and pop_2000m of some city (here a tiny one).
    test::TempDir dir;
    const fs::path templ = dir.path() / "template_traffic.npz";
    {
        auto npz = io::NpzWriter::create(templ);
        npz.write("data_2000m",
                  NdArray<float>({2, 3, 4, 4, 168}, std::vector<float>(2 * 3 * 16 * 168, 50.0F)));
        npz.write("pop_2000m",
                  NdArray<float>({2, 3, 4, 4}, std::vector<float>(2 * 3 * 16, 100.0F)));
        npz.close();
    }
    auto r = f.request("ref", "Wuhan");
    r.modelfolder = test::test_data_dir() / "model/reference_small";  // model.pth + config.json
    EXPECT_TRUE(mentions(error_of([&] { infer(r); }), "--template"));
    r.template_city = templ.string();
    infer(r);
    const auto file = io::H5File::open_read(r.out / "Wuhan_traffic.h5");
    const auto metrics = nlohmann::json::parse(file.attr_string("/", "metrics"));
    EXPECT_EQ(metrics.at("calibration"), "template:template_traffic");
    EXPECT_NEAR(metrics.at("mean_500m").get<double>(), metrics.at("target_mean").get<double>(),
                1e-3 * metrics.at("target_mean").get<double>());
    EXPECT_EQ(io::read_results_h5(r.out / "Wuhan_traffic.h5").scales.back().samples.dim(2), 2U);
    r.calibration = CalibrationKind::kNone;
    r.force = true;
    EXPECT_TRUE(mentions(error_of([&] { infer(r); }), "--calibration"));
    // A checkpoint whose samples overflow (reference_tiny's weights grow to 56) is refused, not
    // written.
    auto broken = f.request("broken", "Wuhan");
    broken.modelfolder = test::test_data_dir() / "model/reference_tiny";
    broken.template_city = templ.string();
    EXPECT_TRUE(mentions(error_of([&] { infer(broken); }), "non-finite"));
    EXPECT_FALSE(fs::exists(broken.out / "Wuhan_traffic.h5"));
}

}  // namespace
}  // namespace zoomdiff::model
