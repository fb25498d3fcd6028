#include "zoomdiff/model/config.hpp"

#include <cmath>
#include <string>

#include "support/errors.hpp"
#include "support/support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::model {
namespace {

using test::error_of;
using test::mentions;

/// Field-by-field equality (ModelConfig has no operator==).
void expect_same(const ModelConfig& a, const ModelConfig& b) {
    EXPECT_EQ(a.train.epochs, b.train.epochs);
    EXPECT_EQ(a.train.batch_size, b.train.batch_size);
    EXPECT_EQ(a.train.lr, b.train.lr);
    EXPECT_EQ(a.train.valid_interval, b.train.valid_interval);
    EXPECT_EQ(a.train.batch_order, b.train.batch_order);
    EXPECT_EQ(a.diffusion.layers, b.diffusion.layers);
    EXPECT_EQ(a.diffusion.channels, b.diffusion.channels);
    EXPECT_EQ(a.diffusion.nheads, b.diffusion.nheads);
    EXPECT_EQ(a.diffusion.diffusion_embedding_dim, b.diffusion.diffusion_embedding_dim);
    EXPECT_EQ(a.diffusion.beta_start, b.diffusion.beta_start);
    EXPECT_EQ(a.diffusion.beta_end, b.diffusion.beta_end);
    EXPECT_EQ(a.diffusion.num_steps, b.diffusion.num_steps);
    EXPECT_EQ(a.diffusion.schedule, b.diffusion.schedule);
    EXPECT_EQ(a.diffusion.time_scale, b.diffusion.time_scale);
    EXPECT_EQ(a.diffusion.spatial_scale, b.diffusion.spatial_scale);
    EXPECT_EQ(a.diffusion.spatial_scale_coarse, b.diffusion.spatial_scale_coarse);
    EXPECT_EQ(a.model.is_unconditional, b.model.is_unconditional);
    EXPECT_EQ(a.model.timeemb, b.model.timeemb);
    EXPECT_EQ(a.model.spatialemb, b.model.spatialemb);
    EXPECT_EQ(a.model.cond_emb, b.model.cond_emb);
    EXPECT_EQ(a.model.feature_emb, b.model.feature_emb);
    EXPECT_EQ(a.model.sim, b.model.sim);
    EXPECT_EQ(a.model.condition_layout, b.model.condition_layout);
    EXPECT_EQ(a.train.ema, b.train.ema);
    EXPECT_EQ(a.diffusion.standardize, b.diffusion.standardize);
    EXPECT_EQ(a.diffusion.data_mean, b.diffusion.data_mean);
    EXPECT_EQ(a.diffusion.data_std, b.diffusion.data_std);
    EXPECT_EQ(a.sampler.segment_start, b.sampler.segment_start);
    EXPECT_EQ(a.sampler.clip_x0, b.sampler.clip_x0);
    EXPECT_EQ(a.sampler.steps_per_segment, b.sampler.steps_per_segment);
    EXPECT_EQ(a.sampler.method, b.sampler.method);
    EXPECT_EQ(a.sampler.eta, b.sampler.eta);
    EXPECT_EQ(a.train.cond_dropout, b.train.cond_dropout);
    EXPECT_EQ(a.sampler.guidance, b.sampler.guidance);
}

/// The message of the zoomdiff::Error that parsing `yaml` throws.
std::string parse_error(const std::string& yaml, const std::string& source) {
    return error_of([&] { parse_model_config(yaml, source); });
}

/// A valid small config with one line of the model section replaced by `model_line`.
std::string with_model_line(const std::string& model_line) {
    return "diffusion:\n  channels: 16\n  nheads: 2\nmodel:\n  " + model_line + "\n";
}

TEST(Config, EmbeddedBaseYamlHasTheReferenceDefaults) {
    const ModelConfig c = load_model_config("base.yaml");
    EXPECT_EQ(c.train.epochs, 500);
    EXPECT_EQ(c.train.batch_size, 128);
    EXPECT_DOUBLE_EQ(c.train.lr, 1.0e-3);
    EXPECT_EQ(c.diffusion.layers, 4);
    EXPECT_EQ(c.diffusion.channels, 256);
    EXPECT_EQ(c.diffusion.nheads, 8);
    EXPECT_EQ(c.diffusion.diffusion_embedding_dim, 128);
    EXPECT_DOUBLE_EQ(c.diffusion.beta_start, 1.0e-4);
    EXPECT_DOUBLE_EQ(c.diffusion.beta_end, 0.05);
    EXPECT_EQ(c.diffusion.num_steps, 400);
    EXPECT_EQ(c.diffusion.schedule, BetaSchedule::kQuad);
    EXPECT_EQ(c.diffusion.time_scale, 1);
    EXPECT_EQ(c.diffusion.spatial_scale, 3);
    EXPECT_EQ(c.diffusion.spatial_scale_coarse, 3);
    EXPECT_FALSE(c.model.is_unconditional);
    EXPECT_EQ(c.model.timeemb, 128);
    EXPECT_EQ(c.model.spatialemb, 128);
    EXPECT_EQ(c.model.cond_emb, 128);
    EXPECT_EQ(c.model.feature_emb, 128);
    EXPECT_DOUBLE_EQ(c.model.sim, 0.8);
    EXPECT_EQ(c.model.condition_layout, ConditionLayout::kCorrected);
    EXPECT_EQ(c.segments(), 3);
    EXPECT_EQ(c.side_dim(), 384);
    EXPECT_EQ(c.tile_side(), 4);
    EXPECT_EQ(c.static_channels(), 5);
    EXPECT_EQ(c.poi_channels(), 21);
}

TEST(Config, EmbeddedBaseYamlEqualsTheFileInConfigs) {
    expect_same(load_model_config("base.yaml"),
                load_model_config(test::source_dir() / "configs" / "base.yaml"));
}

TEST(Config, EmptyTextTakesBaseYamlValues) {
    expect_same(parse_model_config("{}", "test"), load_model_config("base.yaml"));
}

TEST(Config, ConditionLayoutSetsTheStaticChannels) {
    const ModelConfig reference =
        parse_model_config("model: {condition_layout: reference}", "test");
    EXPECT_EQ(reference.model.condition_layout, ConditionLayout::kReference);
    EXPECT_EQ(reference.static_channels(), 4);
    const ModelConfig corrected =
        parse_model_config("model: {condition_layout: corrected}", "test");
    EXPECT_EQ(corrected.model.condition_layout, ConditionLayout::kCorrected);
    EXPECT_EQ(corrected.static_channels(), 5);
    EXPECT_EQ(to_string(ConditionLayout::kReference), "reference");
    EXPECT_EQ(to_string(ConditionLayout::kCorrected), "corrected");
}

TEST(Config, PythonDictStringOfTheGoldensParses) {
    // The root attribute `config_yaml` of model_small.h5, verbatim.
    const std::string text =
        "{'diffusion': {'layers': 2, 'channels': 64, 'nheads': 8, 'diffusion_embedding_dim': 128, "
        "'beta_start': 0.0001, 'beta_end': 0.05, 'num_steps': 50, 'schedule': 'quad', "
        "'multi_scale': {'time_scale': 1, 'spatial_scale': 3, 'spatial_scale_coarse': 3}}, "
        "'model': {'is_unconditional': False, 'timeemb': 128, 'spatialemb': 128, 'cond_emb': 128, "
        "'feature_emb': 128, 'sim': 0.8}}";
    const ModelConfig c = parse_model_config(text, "model_small.h5");
    EXPECT_EQ(c.diffusion.layers, 2);
    EXPECT_EQ(c.diffusion.channels, 64);
    EXPECT_EQ(c.diffusion.nheads, 8);
    EXPECT_EQ(c.diffusion.num_steps, 50);
    EXPECT_DOUBLE_EQ(c.diffusion.beta_start, 1.0e-4);
    EXPECT_EQ(c.diffusion.schedule, BetaSchedule::kQuad);
    EXPECT_EQ(c.diffusion.spatial_scale, 3);
    EXPECT_FALSE(c.model.is_unconditional);
    EXPECT_DOUBLE_EQ(c.model.sim, 0.8);
    // Keys the dict does not hold keep base.yaml's values.
    EXPECT_EQ(c.train.epochs, 500);
    EXPECT_EQ(c.model.condition_layout, ConditionLayout::kCorrected);
}

TEST(Config, PythonDictWithTrueAndSideDimParses) {
    // The reference inserts `side_dim` into the in-memory diffusion section (MODEL.md §1.1).
    const ModelConfig c = parse_model_config(
        "{'diffusion': {'side_dim': 384, 'schedule': 'linear'},"
        " 'model': {'is_unconditional': True}}",
        "test");
    EXPECT_TRUE(c.model.is_unconditional);
    EXPECT_EQ(c.diffusion.schedule, BetaSchedule::kLinear);
}

TEST(Config, UnknownKeysAreNamed) {
    EXPECT_TRUE(mentions(parse_error("model: {timemb: 128}", "cfg.yaml"), "model.timemb"));
    EXPECT_TRUE(mentions(parse_error("train: {epoch: 5}", "cfg.yaml"), "train.epoch"));
    EXPECT_TRUE(mentions(parse_error("diffusion: {multi_scale: {time_scales: 2}}", "cfg.yaml"),
                         "time_scales"));
    EXPECT_TRUE(mentions(parse_error("optimizer: {lr: 1}", "cfg.yaml"), "optimizer"));
}

TEST(Config, ErrorsNameTheSource) {
    EXPECT_TRUE(
        mentions(parse_error("model: {timemb: 128}", "my/run/config.yaml"), "my/run/config.yaml"));
}

TEST(Config, WrongTypesAreNamed) {
    EXPECT_TRUE(mentions(parse_error("diffusion: {channels: wide}", "cfg"), "diffusion.channels"));
    EXPECT_TRUE(mentions(parse_error("diffusion: {layers: 2.5}", "cfg"), "diffusion.layers"));
    EXPECT_TRUE(
        mentions(parse_error("model: {is_unconditional: maybe}", "cfg"), "model.is_unconditional"));
    EXPECT_TRUE(mentions(parse_error("model: {sim: high}", "cfg"), "model.sim"));
    EXPECT_TRUE(mentions(parse_error("diffusion: {multi_scale: {spatial_scale: [3]}}", "cfg"),
                         "spatial_scale"));
    EXPECT_TRUE(mentions(parse_error("model: 5", "cfg"), "'model'"));
}

TEST(Config, SpatialembMustEqualTimeemb) {
    const std::string message = parse_error(with_model_line("spatialemb: 64"), "cfg");
    EXPECT_TRUE(mentions(message, "model.spatialemb"));
    EXPECT_TRUE(mentions(message, "model.timeemb"));
}

TEST(Config, ChannelsMustBeAMultipleOfHeads) {
    const std::string message = parse_error("diffusion: {channels: 20, nheads: 8}", "cfg");
    EXPECT_TRUE(mentions(message, "diffusion.channels"));
    EXPECT_TRUE(mentions(message, "diffusion.nheads"));
    EXPECT_NO_THROW(parse_model_config("diffusion: {channels: 24, nheads: 8}", "cfg"));
}

TEST(Config, UnknownScheduleIsNamed) {
    const std::string message = parse_error("diffusion: {schedule: cosine}", "cfg");
    EXPECT_TRUE(mentions(message, "diffusion.schedule"));
    EXPECT_TRUE(mentions(message, "cosine"));
}

TEST(Config, ScalarMultiScaleAndInfiniteRateAreRefused) {
    EXPECT_TRUE(
        mentions(parse_error("diffusion: {multi_scale: 3}", "cfg.yaml"), "diffusion.multi_scale"));
    EXPECT_TRUE(mentions(parse_error("diffusion: {multi_scale: [1, 2]}", "cfg.yaml"),
                         "diffusion.multi_scale"));
    EXPECT_TRUE(mentions(parse_error("train: {lr: .inf}", "cfg.yaml"), "train.lr"));
}

TEST(Config, UnknownConditionLayoutIsNamed) {
    const std::string message =
        parse_error(with_model_line("condition_layout: legacy"), "cfg.yaml");
    EXPECT_TRUE(mentions(message, "cfg.yaml"));
    EXPECT_TRUE(mentions(message, "model.condition_layout"));
    EXPECT_TRUE(mentions(message, "legacy"));
    EXPECT_TRUE(mentions(message, "condition"));
    EXPECT_THROW(parse_condition_layout("Reference", "--condition-layout"), Error);
}

TEST(Config, OutOfRangeValuesAreNamed) {
    EXPECT_TRUE(
        mentions(parse_error("diffusion: {multi_scale: {time_scale: 6}}", "cfg"), "time_scale"));
    EXPECT_TRUE(mentions(parse_error("diffusion: {multi_scale: {spatial_scale: 4}}", "cfg"),
                         "spatial_scale"));
    EXPECT_TRUE(mentions(parse_error("diffusion: {num_steps: 5}", "cfg"), "diffusion.num_steps"));
    EXPECT_TRUE(mentions(parse_error("model: {sim: 1.5}", "cfg"), "model.sim"));
    EXPECT_TRUE(mentions(parse_error("train: {epochs: 0}", "cfg"), "train.epochs"));
    EXPECT_TRUE(
        mentions(parse_error("train: {valid_interval: -1}", "cfg"), "train.valid_interval"));
    EXPECT_TRUE(mentions(parse_error("train: {batch_order: random}", "cfg"), "random"));
    EXPECT_TRUE(mentions(parse_error("train: {ema: 1.0}", "cfg"), "train.ema"));
    EXPECT_TRUE(mentions(parse_error("diffusion: {data_std: 0}", "cfg"), "diffusion.data_std"));
    EXPECT_TRUE(
        mentions(parse_error("sampler: {segment_start: zero}", "cfg"), "sampler.segment_start"));
    EXPECT_TRUE(mentions(parse_error("sampler: {steps: 5}", "cfg"), "sampler.steps"));
    EXPECT_TRUE(mentions(parse_error("sampler: {method: euler}", "cfg"), "sampler.method"));
    EXPECT_TRUE(
        mentions(parse_error("sampler: {steps_per_segment: 1}", "cfg"), "steps_per_segment"));
    EXPECT_TRUE(mentions(parse_error("sampler: {method: ddim, eta: 1.5}", "cfg"), "eta"));
    EXPECT_TRUE(mentions(parse_error("sampler: {eta: 0.5}", "cfg"), "ddim"));
    EXPECT_TRUE(mentions(parse_error("train: {cond_dropout: 1.0}", "cfg"), "train.cond_dropout"));
    EXPECT_TRUE(mentions(parse_error("train: {cond_dropout: 0.1}\nsampler: {guidance: 11}", "cfg"),
                         "[0, 10]"));
    EXPECT_TRUE(mentions(parse_error("sampler: {guidance: 2}", "cfg"), "train.cond_dropout 0"))
        << "guidance needs a model that learned the null condition";
}

TEST(Config, RecipeKeysDefaultToTheReferenceAndAreWrittenOnlyWhenSet) {
    // Defaults are the reference's behaviour, and a config without the keys writes the same YAML
    // as before they existed (the config hash of older run folders is unchanged).
    const ModelConfig base = load_model_config("base.yaml");
    EXPECT_EQ(base.train.ema, 0.0);
    EXPECT_FALSE(base.diffusion.standardize);
    EXPECT_FALSE(base.diffusion.standardized());
    EXPECT_EQ(base.sampler.segment_start, SegmentStart::kNoise);
    EXPECT_FALSE(base.sampler.clip_x0);
    const auto yaml = to_yaml(base);
    for (const char* key : {"ema", "standardize", "data_mean", "sampler", "clip_x0"}) {
        EXPECT_EQ(yaml.find(key), std::string::npos) << key;
    }
    const ModelConfig set = parse_model_config(
        "train: {ema: 0.99}\ndiffusion: {standardize: true, data_mean: 0.125, data_std: 0.25}\n"
        "sampler: {segment_start: coarse, clip_x0: true}\n",
        "cfg");
    EXPECT_DOUBLE_EQ(set.train.ema, 0.99);
    EXPECT_TRUE(set.diffusion.standardized());
    EXPECT_EQ(set.sampler.segment_start, SegmentStart::kCoarse);
    EXPECT_TRUE(set.sampler.clip_x0);
    expect_same(parse_model_config(to_yaml(set), "round trip"), set);
    EXPECT_EQ(to_yaml(set).find("steps_per_segment"), std::string::npos)
        << "respacing keys are written only when set: older run configs keep their hashes";
    EXPECT_EQ(base.sampler.steps_per_segment, 0);
    EXPECT_EQ(base.sampler.method, SamplerMethod::kDdpm);
    const ModelConfig fast =
        parse_model_config("sampler: {steps_per_segment: 10, method: ddim, eta: 0.5}\n", "cfg");
    EXPECT_EQ(fast.sampler.steps_per_segment, 10);
    EXPECT_EQ(fast.sampler.method, SamplerMethod::kDdim);
    EXPECT_DOUBLE_EQ(fast.sampler.eta, 0.5);
    expect_same(parse_model_config(to_yaml(fast), "round trip"), fast);
    for (const char* key : {"cond_dropout", "guidance"})
        EXPECT_EQ(yaml.find(key), std::string::npos) << key << " is written only when set";
    const ModelConfig guided =
        parse_model_config("train: {cond_dropout: 0.1}\nsampler: {guidance: 1.5}\n", "cfg");
    EXPECT_DOUBLE_EQ(guided.train.cond_dropout, 0.1);
    EXPECT_DOUBLE_EQ(guided.sampler.guidance, 1.5);
    EXPECT_FALSE(guided.sampler.is_reference());
    const ModelConfig guided_again = parse_model_config(to_yaml(guided), "round trip");
    EXPECT_DOUBLE_EQ(guided_again.train.cond_dropout, 0.1);
    EXPECT_DOUBLE_EQ(guided_again.sampler.guidance, 1.5);

    EXPECT_EQ(base.diffusion.transform, ValueTransform::kNone);
    EXPECT_EQ(to_yaml(base).find("transform"), std::string::npos) << "written only when set";
    const ModelConfig logged = parse_model_config(
        "diffusion: {standardize: true, transform: log, log_offset: 0.25, log_scale: 0.03}\n",
        "cfg");
    EXPECT_TRUE(logged.diffusion.log_transformed());
    EXPECT_DOUBLE_EQ(logged.diffusion.log_offset, 0.25);
    EXPECT_DOUBLE_EQ(logged.diffusion.log_scale, 0.03);
    EXPECT_DOUBLE_EQ(logged.diffusion.transformed(0.03), std::log(2.0));
    const ModelConfig logged_again = parse_model_config(to_yaml(logged), "round trip");
    EXPECT_EQ(logged_again.diffusion.transform, ValueTransform::kLog);
    EXPECT_DOUBLE_EQ(logged_again.diffusion.log_offset, 0.25);
    EXPECT_DOUBLE_EQ(logged_again.diffusion.log_scale, 0.03);
    for (const char* bad :
         {"diffusion: {transform: log}\n", "diffusion: {standardize: true, transform: sqrt}\n",
          "diffusion: {standardize: true, transform: log, log_offset: 0}\n"}) {
        EXPECT_THROW(parse_model_config(bad, "cfg"), Error) << bad;
    }

    // diffusion.center: hour_of_week, with its measured hourly means, round-trips exactly.
    EXPECT_EQ(base.diffusion.center, Centering::kMean);
    EXPECT_EQ(to_yaml(base).find("center"), std::string::npos) << "written only when set";
    const ModelConfig hourly = parse_model_config(
        "diffusion: {standardize: true, data_mean: 0.5, data_std: 0.3, center: hour_of_week, "
        "hourly_mean: [0.1, 0.30000000000000004, -2.5e-7]}\n",
        "cfg");
    EXPECT_EQ(hourly.diffusion.center, Centering::kHourOfWeek);
    EXPECT_TRUE(hourly.diffusion.hour_centred());
    EXPECT_TRUE(hourly.diffusion.standardized());
    const ModelConfig hourly_again = parse_model_config(to_yaml(hourly), "round trip");
    EXPECT_EQ(hourly_again.diffusion.center, Centering::kHourOfWeek);
    EXPECT_EQ(hourly_again.diffusion.hourly_mean, hourly.diffusion.hourly_mean) << "exact";
    EXPECT_FALSE(parse_model_config("diffusion: {standardize: true, center: hour_of_week}\n", "cfg")
                     .diffusion.hour_centred())
        << "not measured yet: zoomdiff_train measures it";
    const std::pair<const char*, const char*> refused[] = {
        {"diffusion: {center: hour_of_week}\n", "standardize"},
        {"diffusion: {standardize: true, center: hour_of_week, multi_scale: {time_scale: 2}}\n",
         "time_scale"},
        {"diffusion: {standardize: true, hourly_mean: [0.5]}\n", "hourly_mean"},
        {"diffusion: {standardize: true, center: hour_of_week, hourly_mean: [.nan]}\n", "finite"},
        {"diffusion: {standardize: true, center: week}\n", "week"},
    };
    for (const auto& [bad, named] : refused)
        EXPECT_TRUE(mentions(parse_error(bad, "cfg"), named)) << bad;

    // diffusion.spread: hour_of_week, with its measured hourly spreads, round-trips exactly.
    EXPECT_EQ(base.diffusion.spread, Spread::kPooled);
    EXPECT_EQ(to_yaml(base).find("spread"), std::string::npos) << "written only when set";
    EXPECT_EQ(to_yaml(hourly).find("spread"), std::string::npos);
    const ModelConfig scaled = parse_model_config(
        "diffusion: {standardize: true, data_std: 0.3, center: hour_of_week, spread: hour_of_week, "
        "hourly_mean: [0.1, 0.2, 0.3], hourly_std: [0.7, 1.0000000000000002, 3e-5]}\n",
        "cfg");
    EXPECT_EQ(scaled.diffusion.spread, Spread::kHourOfWeek);
    EXPECT_TRUE(scaled.diffusion.hour_scaled());
    const ModelConfig scaled_again = parse_model_config(to_yaml(scaled), "round trip");
    EXPECT_EQ(scaled_again.diffusion.spread, Spread::kHourOfWeek);
    EXPECT_EQ(scaled_again.diffusion.hourly_std, scaled.diffusion.hourly_std) << "exact";
    EXPECT_EQ(scaled_again.diffusion.hourly_mean, scaled.diffusion.hourly_mean);
    EXPECT_FALSE(parse_model_config("diffusion: {standardize: true, center: hour_of_week, spread: "
                                    "hour_of_week}\n",
                                    "cfg")
                     .diffusion.hour_scaled())
        << "not measured yet: zoomdiff_train measures it";
    const std::pair<const char*, const char*> spread_refused[] = {
        {"diffusion: {standardize: true, spread: hour_of_week}\n", "center"},
        {"diffusion: {standardize: true, center: hour_of_week, hourly_mean: [0.5], hourly_std: "
         "[1.0]}\n",
         "hourly_std"},
        {"diffusion: {standardize: true, center: hour_of_week, spread: hour_of_week, hourly_mean: "
         "[0.5, 0.6], hourly_std: [1.0]}\n",
         "hourly_std"},
        {"diffusion: {standardize: true, center: hour_of_week, spread: hour_of_week, hourly_mean: "
         "[0.5], hourly_std: [0.0]}\n",
         "positive"},
        {"diffusion: {standardize: true, center: hour_of_week, spread: daily}\n", "daily"},
    };
    for (const auto& [bad, named] : spread_refused)
        EXPECT_TRUE(mentions(parse_error(bad, "cfg"), named)) << bad;
}

/// Every key away from its base.yaml value.
constexpr const char* kEveryKeyChanged = R"(
train: {epochs: 7, batch_size: 3, lr: 0.00025, valid_interval: 2, batch_order: reference}
diffusion:
  layers: 3
  channels: 12
  nheads: 3
  diffusion_embedding_dim: 10
  beta_start: 0.00015
  beta_end: 0.035
  num_steps: 37
  schedule: linear
  multi_scale: {time_scale: 4, spatial_scale: 2, spatial_scale_coarse: 2}
model:
  is_unconditional: True
  timeemb: 6
  spatialemb: 6
  cond_emb: 9
  feature_emb: 5
  sim: 0.7
  condition_layout: reference
)";

TEST(Config, EveryKeyIsRead) {
    const ModelConfig c = parse_model_config(kEveryKeyChanged, "cfg");
    EXPECT_EQ(c.train.epochs, 7);
    EXPECT_EQ(c.train.batch_size, 3);
    EXPECT_DOUBLE_EQ(c.train.lr, 0.00025);
    EXPECT_EQ(c.train.valid_interval, 2);
    EXPECT_EQ(c.train.batch_order, data::BatchOrder::kReference);
    EXPECT_EQ(c.diffusion.layers, 3);
    EXPECT_EQ(c.diffusion.channels, 12);
    EXPECT_EQ(c.diffusion.nheads, 3);
    EXPECT_EQ(c.diffusion.diffusion_embedding_dim, 10);
    EXPECT_DOUBLE_EQ(c.diffusion.beta_start, 0.00015);
    EXPECT_DOUBLE_EQ(c.diffusion.beta_end, 0.035);
    EXPECT_EQ(c.diffusion.num_steps, 37);
    EXPECT_EQ(c.diffusion.schedule, BetaSchedule::kLinear);
    EXPECT_EQ(c.diffusion.time_scale, 4);
    EXPECT_EQ(c.diffusion.spatial_scale, 2);
    EXPECT_EQ(c.diffusion.spatial_scale_coarse, 2);
    EXPECT_TRUE(c.model.is_unconditional);
    EXPECT_EQ(c.model.timeemb, 6);
    EXPECT_EQ(c.model.spatialemb, 6);
    EXPECT_EQ(c.model.cond_emb, 9);
    EXPECT_EQ(c.model.feature_emb, 5);
    EXPECT_DOUBLE_EQ(c.model.sim, 0.7);
    EXPECT_EQ(c.model.condition_layout, ConditionLayout::kReference);
    EXPECT_EQ(c.segments(), 4);
    EXPECT_EQ(c.side_dim(), 17);
    EXPECT_EQ(c.tile_side(), 2);
    EXPECT_EQ(c.static_channels(), 4);
}

TEST(Config, ToYamlRoundTrips) {
    ModelConfig c = parse_model_config(kEveryKeyChanged, "cfg");
    // A value with no short decimal form must survive too.
    c.model.sim = 1.0 / 3.0;
    const std::string yaml = to_yaml(c);
    const ModelConfig back = parse_model_config(yaml, "round trip");
    expect_same(back, c);
    EXPECT_EQ(to_yaml(back), yaml);

    const ModelConfig base = load_model_config("base.yaml");
    expect_same(parse_model_config(to_yaml(base), "round trip"), base);
}

TEST(Config, MissingFileIsAnError) {
    const test::TempDir dir;
    EXPECT_TRUE(
        mentions(error_of([&] { load_model_config(dir.path() / "absent.yaml"); }), "absent.yaml"));
}

}  // namespace
}  // namespace zoomdiff::model
