#include "zoomdiff/eval/synthetic_scores.hpp"

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::eval {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr std::size_t kT = 168;

/// `cells` weekly series: a daily cycle of a random level and phase, plus hourly noise.
Series draw(std::size_t cells, std::uint64_t seed, double offset = 0.0, double noise = 0.2) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> level(1.0, 3.0);
    std::uniform_real_distribution<double> phase(0.0, 2.0 * kPi);
    std::normal_distribution<double> e(0.0, noise);
    Series s{cells, kT, std::vector<double>(cells * kT)};
    for (std::size_t c = 0; c < cells; ++c) {
        const double a = level(rng);
        const double p = phase(rng);
        for (std::size_t t = 0; t < kT; ++t)
            s.values[c * kT + t] =
                offset + a * (1.0 + 0.5 * std::sin(2.0 * kPi * static_cast<double>(t) / 24 + p)) +
                e(rng);
    }
    return s;
}

TEST(ClassifierTwoSample, KnownAnswersChanceApartAndSeeded) {
    // Two draws of one generator: a classifier can do no better than chance.
    const C2stResult same = classifier_two_sample(draw(400, 1), draw(400, 2), 7);
    EXPECT_NEAR(same.accuracy, 0.5, 0.08);
    EXPECT_EQ(same.per_class, 400U);
    EXPECT_EQ(same.test_count, 400U);
    EXPECT_EQ(same.neighbours, 5U);
    // Shifted by ten times the spread: every held-out series is told apart.
    EXPECT_EQ(classifier_two_sample(draw(100, 1), draw(100, 2, 20.0), 7).accuracy, 1.0);
    // A generator that lost the daily cycle (flat series at the same level) is found out.
    Series flat = draw(200, 3);
    for (std::size_t c = 0; c < flat.cells; ++c) {
        double mean = 0.0;
        for (std::size_t t = 0; t < kT; ++t)
            mean += flat.values[c * kT + t] / kT;
        for (std::size_t t = 0; t < kT; ++t)
            flat.values[c * kT + t] = mean;
    }
    EXPECT_GT(classifier_two_sample(draw(200, 1), flat, 7).accuracy, 0.9);
    // The same seed, the same answer; sets of unequal size use the smaller one.
    EXPECT_EQ(classifier_two_sample(draw(60, 1), draw(90, 2), 3).accuracy,
              classifier_two_sample(draw(60, 1), draw(90, 2), 3).accuracy);
    EXPECT_EQ(classifier_two_sample(draw(60, 1), draw(90, 2), 3).per_class, 60U);
    EXPECT_THROW((void)classifier_two_sample(draw(3, 1), draw(60, 2), 3), Error);
}

TEST(TrainSyntheticTestReal, KnownAnswersCopiesNoiseAndPerfectRepeats) {
    const Series real = draw(200, 1);
    // Generated series from the same generator teach what real ones teach.
    const PredictiveResult same = train_synthetic_test_real(real, draw(200, 2), 5);
    EXPECT_EQ(same.window_hours, 24U);
    EXPECT_EQ(same.test_cells, 100U);
    EXPECT_NEAR(same.tstr_nmae / same.trtr_nmae, 1.0, 0.05);
    // Pure noise around the right level teaches no daily cycle: clearly worse.
    Series noise = draw(200, 2);
    std::mt19937_64 rng(9);
    std::uniform_real_distribution<double> u(0.5, 3.5);
    for (auto& v : noise.values)
        v = u(rng);
    const PredictiveResult bad = train_synthetic_test_real(real, noise, 5);
    EXPECT_GT(bad.tstr_nmae, 1.5 * bad.trtr_nmae);
    EXPECT_EQ(bad.trtr_nmae, same.trtr_nmae);  // the real half and its forecaster do not change
    // Every day the same: tomorrow = today, learnt almost exactly (ridge shrinks a little).
    const Series repeat = draw(50, 4, 0.0, 0.0);
    const PredictiveResult exact = train_synthetic_test_real(repeat, repeat, 5, 1e-6);
    EXPECT_LT(exact.tstr_nmae, 1e-6);
    EXPECT_LT(exact.trtr_nmae, 1e-6);
    EXPECT_THROW((void)train_synthetic_test_real(draw(1, 1), draw(5, 2), 5), Error);
}

}  // namespace
}  // namespace zoomdiff::eval
