#include <cstdint>
#include <exception>

#include <gtest/gtest.h>
#include <torch/types.h>

#include "zoomdiff/model/diffusion.hpp"

namespace zoomdiff::model {
namespace {

constexpr int kCoarse = 3;  // 4 x 4 tiles: levels 1 (identity), 2 (2 x 2 blocks), 3 (whole tile)

torch::Tensor random_sample(std::int64_t batch, std::int64_t hours, std::uint64_t seed) {
    auto gen = GeneratorNoise::cpu_generator(seed);
    return torch::randn({batch, 1, hours, 4, 4}, gen);  // [B, K, L, H, W]
}

/// Block means of the last two axes computed element by element in double.
torch::Tensor hand_spatial_means(const torch::Tensor& x, std::int64_t block) {
    const auto flat = x.to(torch::kDouble).reshape({-1, 4, 4}).contiguous();
    auto out = torch::empty_like(flat);
    auto in_a = flat.accessor<double, 3>();
    auto out_a = out.accessor<double, 3>();
    for (std::int64_t i = 0; i < flat.size(0); ++i) {
        for (std::int64_t r = 0; r < 4; ++r) {
            for (std::int64_t q = 0; q < 4; ++q) {
                const auto r0 = r / block * block;
                const auto q0 = q / block * block;
                double sum = 0.0;
                for (std::int64_t a = r0; a < r0 + block; ++a) {
                    for (std::int64_t b = q0; b < q0 + block; ++b) {
                        sum += in_a[i][a][b];
                    }
                }
                out_a[i][r][q] = sum / static_cast<double>(block * block);
            }
        }
    }
    return out.reshape(x.sizes()).to(torch::kFloat);
}

/// Means over consecutive groups of `hours` along axis 2 of (B, K, L, H, W), in double.
torch::Tensor hand_temporal_means(const torch::Tensor& x, std::int64_t hours) {
    const auto d = x.to(torch::kDouble).contiguous();
    auto out = torch::empty_like(d);
    auto in_a = d.accessor<double, 5>();
    auto out_a = out.accessor<double, 5>();
    for (std::int64_t b = 0; b < d.size(0); ++b) {
        for (std::int64_t l = 0; l < d.size(2); ++l) {
            const auto l0 = l / hours * hours;
            for (std::int64_t r = 0; r < d.size(3); ++r) {
                for (std::int64_t q = 0; q < d.size(4); ++q) {
                    double sum = 0.0;
                    for (std::int64_t h = l0; h < l0 + hours; ++h) {
                        sum += in_a[b][0][h][r][q];
                    }
                    out_a[b][0][l][r][q] = sum / static_cast<double>(hours);
                }
            }
        }
    }
    return out.to(torch::kFloat);
}

TEST(Division, IdentityLevelsReturnEqualTensors) {
    const auto x = random_sample(2, 168, 1);
    EXPECT_TRUE(torch::equal(spatial_divide(x, 1, kCoarse), x));
    EXPECT_TRUE(torch::equal(temporal_divide(x, 1), x));
    EXPECT_TRUE(torch::equal(divide(x, 1, 1, kCoarse), x));
    // With coarse 2 the tile is 2 x 2 cells and level 1 is again the identity.
    const auto small = torch::arange(8, torch::kFloat).reshape({1, 1, 2, 2, 2});
    EXPECT_TRUE(torch::equal(spatial_divide(small, 1, 2), small));
}

TEST(Division, SpatialBlockMeansOfASmallTensor) {
    // One hour of a 4 x 4 tile holding 0 .. 15 row-major.
    const auto x = torch::arange(16, torch::kFloat).reshape({1, 1, 1, 4, 4});
    const auto blocks = torch::tensor({2.5F, 2.5F, 4.5F, 4.5F, 2.5F, 2.5F, 4.5F, 4.5F,  //
                                       10.5F, 10.5F, 12.5F, 12.5F, 10.5F, 10.5F, 12.5F, 12.5F})
                            .reshape({1, 1, 1, 4, 4});
    EXPECT_TRUE(torch::equal(spatial_divide(x, 2, kCoarse), blocks))
        << spatial_divide(x, 2, kCoarse);
    EXPECT_TRUE(torch::equal(spatial_divide(x, 3, kCoarse), torch::full({1, 1, 1, 4, 4}, 7.5F)));
    // coarse 2 on a 2 x 2 tile: level 2 is the whole-tile mean.
    const auto small = torch::tensor({1.0F, 2.0F, 3.0F, 6.0F}).reshape({1, 1, 1, 2, 2});
    EXPECT_TRUE(torch::equal(spatial_divide(small, 2, 2), torch::full({1, 1, 1, 2, 2}, 3.0F)));
}

TEST(Division, SpatialMeansOfRandomData) {
    const auto x = random_sample(3, 168, 2);
    EXPECT_TRUE(
        torch::allclose(spatial_divide(x, 2, kCoarse), hand_spatial_means(x, 2), 0.0, 1e-5));
    EXPECT_TRUE(
        torch::allclose(spatial_divide(x, 3, kCoarse), hand_spatial_means(x, 4), 0.0, 1e-5));
}

TEST(Division, TemporalGroupMeans) {
    const auto x = random_sample(2, 168, 3);
    const std::int64_t hours_per_group[] = {1, 2, 4, 24, 168};
    for (int level = 2; level <= 5; ++level) {
        const auto expected = hand_temporal_means(x, hours_per_group[level - 1]);
        EXPECT_TRUE(torch::allclose(temporal_divide(x, level), expected, 0.0, 1e-5))
            << "level " << level;
    }
    // Hand check: hours 0 .. 167 of one cell averaged per day are 11.5, 35.5, ...
    const auto ramp = torch::arange(168, torch::kFloat).reshape({1, 1, 168, 1, 1});
    const auto days = temporal_divide(ramp, 4);
    EXPECT_EQ(days[0][0][0][0][0].item<float>(), 11.5F);
    EXPECT_EQ(days[0][0][23][0][0].item<float>(), 11.5F);
    EXPECT_EQ(days[0][0][24][0][0].item<float>(), 35.5F);
    EXPECT_EQ(temporal_divide(ramp, 2)[0][0][5][0][0].item<float>(), 4.5F);
    EXPECT_EQ(temporal_divide(ramp, 3)[0][0][5][0][0].item<float>(), 5.5F);
    EXPECT_EQ(temporal_divide(ramp, 5)[0][0][100][0][0].item<float>(), 83.5F);
}

TEST(Division, DivideIsTemporalAfterSpatial) {
    const auto x = random_sample(2, 168, 4);
    const auto expected = hand_temporal_means(hand_spatial_means(x, 2), 24);
    EXPECT_TRUE(torch::allclose(divide(x, 4, 2, kCoarse), expected, 0.0, 1e-5));
    EXPECT_TRUE(
        torch::equal(divide(x, 4, 2, kCoarse), temporal_divide(spatial_divide(x, 2, kCoarse), 4)));
}

TEST(Division, OperatorsAreIdempotent) {
    const auto x = random_sample(2, 168, 5);
    for (int i_t = 1; i_t <= 5; ++i_t) {
        for (int i_s = 1; i_s <= 3; ++i_s) {
            const auto once = divide(x, i_t, i_s, kCoarse);
            const auto twice = divide(once, i_t, i_s, kCoarse);
            EXPECT_TRUE(torch::allclose(twice, once, 0.0, 1e-6)) << "i_t " << i_t << " i_s " << i_s;
        }
    }
}

TEST(Division, OperatorsPreserveTheMean) {
    const auto x = random_sample(2, 168, 6) + 3.0;
    const double mean = x.to(torch::kDouble).mean().item<double>();
    for (int i_t = 1; i_t <= 5; ++i_t) {
        for (int i_s = 1; i_s <= 3; ++i_s) {
            const auto y = divide(x, i_t, i_s, kCoarse);
            EXPECT_NEAR(y.to(torch::kDouble).mean().item<double>(), mean, 1e-5)
                << "i_t " << i_t << " i_s " << i_s;
            // Each item's tile-week mean is kept as well.
            EXPECT_TRUE(
                torch::allclose(divide(y, 5, 3, kCoarse), divide(x, 5, 3, kCoarse), 0.0, 1e-5));
        }
    }
}

TEST(Division, CoarserLevelsVaryLess) {
    // Each level averages the one below it, so the spread can only shrink.
    const auto x = random_sample(1, 168, 7);
    const double level1 = spatial_divide(x, 1, kCoarse).var().item<double>();
    const double level2 = spatial_divide(x, 2, kCoarse).var().item<double>();
    const double level3 = spatial_divide(x, 3, kCoarse).var().item<double>();
    EXPECT_GT(level1, level2);
    EXPECT_GT(level2, level3);
}

TEST(Division, SpatialDivideOfFourDimensionalConditions) {
    auto gen = GeneratorNoise::cpu_generator(8);
    const auto conditions = torch::rand({3, 5, 4, 4}, gen);  // [B, C, H, W]
    EXPECT_TRUE(torch::equal(spatial_divide(conditions, 1, kCoarse), conditions));
    const auto blocks = spatial_divide(conditions, 2, kCoarse);
    ASSERT_EQ(blocks.sizes(), conditions.sizes());
    EXPECT_TRUE(torch::allclose(blocks, hand_spatial_means(conditions, 2), 0.0, 1e-6));
    EXPECT_TRUE(torch::allclose(spatial_divide(conditions, 3, kCoarse),
                                hand_spatial_means(conditions, 4), 0.0, 1e-6));
}

TEST(Division, InvalidLevelsThrow) {
    const auto x = random_sample(1, 168, 9);
    EXPECT_THROW(temporal_divide(x, 0), std::exception);
    EXPECT_THROW(temporal_divide(x, 6), std::exception);
    EXPECT_THROW(divide(x, 6, 1, kCoarse), std::exception);
    // Level 0 asks for 8 x 8 blocks of a 4 x 4 tile.
    EXPECT_THROW(spatial_divide(x, 0, kCoarse), std::exception);
    EXPECT_THROW(spatial_divide(x, kCoarse + 1, kCoarse), std::exception);
    // Days need a multiple of 24 hours; a non-square tile has no blocks.
    EXPECT_THROW(temporal_divide(random_sample(1, 20, 10), 4), std::exception);
    EXPECT_THROW(spatial_divide(torch::zeros({1, 1, 2, 4, 2}), 2, kCoarse), std::exception);
}

}  // namespace
}  // namespace zoomdiff::model
