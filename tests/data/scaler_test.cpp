#include "zoomdiff/data/scaler.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "support/errors.hpp"
#include "support/support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::data {
namespace {

std::uint32_t bits(float v) {
    std::uint32_t b = 0;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

float from_bits(std::uint32_t b) {
    float v = 0;
    std::memcpy(&v, &b, sizeof v);
    return v;
}

using test::error_of;

// Bit patterns below were printed by numpy 1.24.2 doing scikit-learn's float32 steps:
//   x = np.array([3.5, -1.25, 7.0, 0.1, 2.2], np.float32); scale = np.float32(1) / (x.max() -
//   x.min()) offset = np.float32(0) - x.min() * scale; t = x * scale; t = t + offset; back = (t -
//   offset) / scale
TEST(ScalerTest, FitTransformAndInverseUseFloat32Steps) {
    std::vector<float> x{3.5F, -1.25F, 7.0F, 0.1F, 2.2F};
    const MinMaxScaler s = MinMaxScaler::fit(x.data(), x.size());
    EXPECT_EQ(s.data_min, -1.25F);
    EXPECT_EQ(s.data_max, 7.0F);
    EXPECT_EQ(bits(s.scale), 1039678992U);
    EXPECT_EQ(bits(s.offset), 1041966794U);
    EXPECT_EQ(s.n_samples_seen, 5);

    s.transform(x.data(), x.size());
    const std::vector<std::uint32_t> scaled{1058235610U, 0U, 1065353216U, 1042780235U, 1054219246U};
    for (std::size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(bits(x[i]), scaled[i]) << "element " << i;
    }
    s.inverse(x.data(), x.size());
    // Not the input again: 3.5 comes back as 3.5000002 in float32, as in the reference.
    const std::vector<std::uint32_t> back{1080033281U, 3214934016U, 1088421888U, 1036831952U,
                                          1074580685U};
    for (std::size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(bits(x[i]), back[i]) << "element " << i;
    }
}

TEST(ScalerTest, ZeroAndTinyRangesGiveScaleOne) {
    std::vector<float> same(10, 4.0F);
    const MinMaxScaler s = MinMaxScaler::fit(same.data(), same.size());
    EXPECT_EQ(s.scale, 1.0F);
    EXPECT_EQ(s.offset, -4.0F);
    s.transform(same.data(), same.size());
    EXPECT_EQ(same[3], 0.0F);
    // scikit-learn treats a range below 10 float32 epsilons (1.19e-6) as zero.
    std::vector<float> tiny{1.0F, 1.0F + 8 * 1.1920929e-7F};
    EXPECT_EQ(MinMaxScaler::fit(tiny.data(), tiny.size()).scale, 1.0F);
    std::vector<float> small{0.0F, 2e-6F};
    EXPECT_EQ(MinMaxScaler::fit(small.data(), small.size()).scale, 1.0F / 2e-6F);
    EXPECT_THROW(MinMaxScaler::fit(small.data(), 0), std::invalid_argument);
}

std::vector<CityScaler> awkward_scalers() {
    CityScaler a;
    a.city = "Nanchang";
    a.token = "南昌";
    a.scaler.data_min = 0.1F;
    a.scaler.data_max = 12345.679F;
    a.scaler.scale = 1.0F / 12345.579F;
    a.scaler.offset = 0.0F - 0.1F * a.scaler.scale;
    a.scaler.n_samples_seen = 1212 * 2688;
    a.clip_bound = 12345.679F;
    a.tiles = 1212;
    a.data_mean = 1234.5678901234567;  // template statistics: float64, exact through JSON
    a.data_max = 40181.23046875;
    a.pop_mean = 1.0 / 3.0;
    for (std::size_t sc = 0; sc < 3; ++sc)  // template_quantile's levels: float64, exact
        for (std::size_t k = 0; k < CellLevelQuantiles::kLevels; ++k)
            a.cell_levels.by_scale[sc].push_back(std::pow(1.1, static_cast<double>(k)) / 3.0 + sc);
    CityScaler b;  // a run without them (written before template_quantile)
    b.city = "Nanjing";
    b.token = "Nanjing";
    b.scaler.data_min = from_bits(0x00000001U);  // the smallest subnormal
    b.scaler.data_max = from_bits(0x7F7FFFFFU);  // FLT_MAX
    b.scaler.scale = from_bits(0x3F800001U);     // 1 + 2^-23
    b.scaler.offset = -0.0F;
    b.clip_bound = from_bits(0x4B800001U);  // 16777218: needs all 9 digits
    return {a, b};
}

TEST(ScalerTest, JsonRoundTripIsBitExact) {
    const std::vector<CityScaler> in = awkward_scalers();
    const std::string text = scalers_to_json("traffic", in);
    std::string datatype;
    const std::vector<CityScaler> out = scalers_from_json(text, "scalers.json", &datatype);
    EXPECT_EQ(datatype, "traffic");
    ASSERT_EQ(out.size(), in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        SCOPED_TRACE(in[i].city);
        EXPECT_EQ(out[i].city, in[i].city);
        EXPECT_EQ(out[i].token, in[i].token);
        EXPECT_EQ(bits(out[i].scaler.data_min), bits(in[i].scaler.data_min));
        EXPECT_EQ(bits(out[i].scaler.data_max), bits(in[i].scaler.data_max));
        EXPECT_EQ(bits(out[i].scaler.scale), bits(in[i].scaler.scale));
        EXPECT_EQ(bits(out[i].scaler.offset), bits(in[i].scaler.offset));
        EXPECT_EQ(bits(out[i].clip_bound), bits(in[i].clip_bound));
        EXPECT_EQ(out[i].scaler.n_samples_seen, in[i].scaler.n_samples_seen);
        EXPECT_EQ(out[i].tiles, in[i].tiles);
        EXPECT_EQ(out[i].data_mean, in[i].data_mean);
        EXPECT_EQ(out[i].data_max, in[i].data_max);
        EXPECT_EQ(out[i].pop_mean, in[i].pop_mean);
        EXPECT_EQ(out[i].cell_levels.by_scale, in[i].cell_levels.by_scale);
    }
    EXPECT_TRUE(out[0].cell_levels.complete());
    EXPECT_FALSE(out[1].cell_levels.complete());
}

TEST(ScalerTest, CellLevelQuantilesMustBeAWholeNonDecreasingFunction) {
    const std::string good = scalers_to_json("traffic", awkward_scalers());
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"\"1000m\": [\n", "\"1000m\": [\n 1e9,\n"},  // one too many, and decreasing
             {"\"2000m\": [", "\"2000m\": \"x\", \"2001m\": ["}}) {
        std::string bad = good;
        const auto at = bad.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        bad.replace(at, from.size(), to);
        try {
            (void)scalers_from_json(bad, "run/scalers.json");
            ADD_FAILURE() << "accepted " << to;
        } catch (const zoomdiff::Error& e) {
            EXPECT_NE(std::string(e.what()).find("run/scalers.json"), std::string::npos);
            EXPECT_NE(std::string(e.what()).find("cell_mean_quantiles"), std::string::npos)
                << e.what();
        }
    }
}

TEST(LevelQuantiles, PerScaleFromTheTilesLeavingNonFiniteCellsOut) {
    // Two tiles of 4 x 4 cells, each cell constant at its index (0..31) over the week, except
    // cell 31, which has a NaN hour: 31 cells at 500 m, 7 at 1000 m (the block holding 31 is
    // left out), 1 at 2000 m.
    std::vector<float> tiles(2 * 16 * 168);
    for (std::size_t c = 0; c < 32; ++c)
        for (std::size_t h = 0; h < 168; ++h)
            tiles[c * 168 + h] = static_cast<float>(c);
    tiles[31 * 168 + 5] = std::numeric_limits<float>::quiet_NaN();
    const CellLevelQuantiles q = cell_level_quantiles(tiles.data(), 2);
    ASSERT_TRUE(q.complete());
    EXPECT_DOUBLE_EQ(q.by_scale[0].front(), 0.0);
    EXPECT_DOUBLE_EQ(q.by_scale[0].back(), 30.0);
    EXPECT_DOUBLE_EQ(q.by_scale[0][50], 15.0);  // numpy.quantile(range(31), 0.5)
    // 1000 m blocks of tile 0: means of {0,1,4,5} = 2.5, 4.5, 10.5, 12.5; tile 1 adds 18.5, 20.5,
    // 26.5 (28.5 holds cell 31).
    EXPECT_DOUBLE_EQ(q.by_scale[1].front(), 2.5);
    EXPECT_DOUBLE_EQ(q.by_scale[1].back(), 26.5);
    EXPECT_DOUBLE_EQ(q.by_scale[1][50], 12.5);
    // 2000 m: tile 0 only, mean 7.5.
    EXPECT_DOUBLE_EQ(q.by_scale[2].front(), 7.5);
    EXPECT_DOUBLE_EQ(q.by_scale[2].back(), 7.5);
    EXPECT_DOUBLE_EQ(quantile_at(q.by_scale[0], 0.25), 7.5);
    EXPECT_NEAR(quantile_at(q.by_scale[0], 0.255), 7.65, 1e-12);  // between two stored levels
    EXPECT_DOUBLE_EQ(quantile_at(q.by_scale[0], 2.0), 30.0);      // clamped
}

TEST(LevelQuantiles, MidRanksOfDistinctTiedAndOutsideValues) {
    const std::vector<double> p = mid_rank_probabilities({3, 1, 2, 2, 0.5, 9}, {3, 1, 2, 2});
    // Among {1, 2, 2, 3}: 3 -> 3.5/4, 1 -> 0.5/4, 2 (tied twice) -> (1 + 1) / 4, 0.5 -> 0, 9 -> 1.
    EXPECT_EQ(p, (std::vector<double>{3.5 / 4, 0.5 / 4, 0.5, 0.5, 0.0, 1.0}));
    EXPECT_THROW((void)mid_rank_probabilities({1}, {}), std::invalid_argument);
}

TEST(ScalerTest, JsonIsIndentedWithShortFloats) {
    const std::string text = scalers_to_json("user", awkward_scalers());
    EXPECT_NE(text.find("\n  \"cities\": ["), std::string::npos) << text;
    EXPECT_NE(text.find("\"format\": \"zoomdiff-scalers/1\""), std::string::npos);
    EXPECT_NE(text.find("\"data_min\": 0.1,"), std::string::npos) << text;  // not 0.10000000149
    EXPECT_NE(text.find("\"clip_bound\": 16777218.0"), std::string::npos) << text;
    EXPECT_NE(text.find("\"token\": \"南昌\""), std::string::npos);
}

TEST(ScalerTest, ReadScalersReadsAFileAndNamesIt) {
    test::TempDir dir;
    const auto path = dir.path() / "scalers.json";
    {
        std::ofstream out(path);
        out << scalers_to_json("traffic", awkward_scalers());
    }
    EXPECT_EQ(read_scalers(path).at(1).city, "Nanjing");
    const std::string missing = error_of([&] { (void)read_scalers(dir.path() / "none.json"); });
    EXPECT_NE(missing.find("none.json"), std::string::npos) << missing;
}

TEST(ScalerTest, JsonErrorsNameTheSourceAndTheKey) {
    const std::string good = scalers_to_json("traffic", awkward_scalers());
    const auto parse = [](const std::string& text) {
        return error_of([&] { (void)scalers_from_json(text, "run/scalers.json"); });
    };
    const std::string bad_json = parse("{\"format\": ");
    EXPECT_EQ(bad_json.rfind("run/scalers.json: not valid JSON", 0), 0U) << bad_json;

    std::string no_scale = good;
    no_scale.replace(no_scale.find("\"scale\""), 7, "\"scalx\"");
    EXPECT_NE(parse(no_scale).find("missing key 'cities[0].scale'"), std::string::npos)
        << parse(no_scale);

    std::string text_tiles = good;
    text_tiles.replace(text_tiles.find("\"tiles\": 1212"), 13, "\"tiles\": \"x\"");
    EXPECT_NE(parse(text_tiles).find("'cities[0].tiles' must be an integer"), std::string::npos);

    std::string other_format = good;
    other_format.replace(other_format.find("scalers/1"), 9, "scalers/9");
    EXPECT_NE(parse(other_format).find("format 'zoomdiff-scalers/9'"), std::string::npos);

    EXPECT_NE(parse("[1, 2]").find("not a JSON object"), std::string::npos);
    std::string huge = good;
    huge.replace(huge.find("\"data_min\": 0.1"), 15, "\"data_min\": 1e300");
    EXPECT_NE(parse(huge).find("not a finite float32"), std::string::npos) << parse(huge);
}

}  // namespace
}  // namespace zoomdiff::data
