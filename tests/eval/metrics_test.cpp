#include "zoomdiff/eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::eval {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr std::size_t kCells = 6;
constexpr std::size_t kT = 168;  // hours
constexpr double kTol = 1e-12;   // unitless (divergences, correlations, shares)

// The fixture shared with the numpy cross-check: /usr/bin/python3 (numpy 1.24.2) on
//   c = arange(6)[:, None]; t = arange(168)[None, :]
//   Y = 10 + 5 sin(2πt/24 + c) + (c·t mod 7) + 2 sin(2πt/168)
//   X = 9 + 6 sin(2πt/24 + 0.5c) + ((c+1)·t mod 5)
// with each EVAL.md definition written out in numpy (np.histogram on the clipped values,
// np.fft.rfft, np.quantile, an explicit DAN-style Gaussian kernel sum, skimage's SSIM steps with
// a numpy Gaussian filter on symmetric padding). The literals below are its printed values.
Series fixture_real() {
    std::vector<double> v;
    for (std::size_t c = 0; c < kCells; ++c) {
        for (std::size_t t = 0; t < kT; ++t) {
            const double tc = static_cast<double>(t);
            v.push_back(10.0 + 5.0 * std::sin(2.0 * kPi * tc / 24.0 + static_cast<double>(c)) +
                        static_cast<double>((c * t) % 7) + 2.0 * std::sin(2.0 * kPi * tc / 168.0));
        }
    }
    return make_series(kCells, kT, v);
}

Series fixture_generated() {
    std::vector<double> v;
    for (std::size_t c = 0; c < kCells; ++c) {
        for (std::size_t t = 0; t < kT; ++t) {
            const double tc = static_cast<double>(t);
            v.push_back(9.0 + 6.0 * std::sin(2.0 * kPi * tc / 24.0 + 0.5 * static_cast<double>(c)) +
                        static_cast<double>(((c + 1) * t) % 5));
        }
    }
    return make_series(kCells, kT, v);
}

Series shifted(const Series& s, double offset) {
    Series out = s;
    for (double& v : out.values) {
        v += offset;
    }
    return out;
}

// ---- JSD ------------------------------------------------------------------------------------

TEST(EvalJsd, IdenticalInputsGiveZero) {
    const Series y = fixture_real();
    EXPECT_NEAR(value_jsd(y, y).jsd, 0.0, kTol);
    EXPECT_NEAR(value_jsd(y, y, 100, HistogramScale::kLog1p).jsd, 0.0, kTol);
    EXPECT_NEAR(increment_jsd(y, y).jsd, 0.0, kTol);
}

TEST(EvalJsd, DisjointHistogramsGiveLn2) {
    const JsdResult r = histogram_jsd({0.1, 0.2, 0.3}, {0.8, 0.9}, 2, 0.0, 1.0);
    EXPECT_NEAR(r.jsd, std::log(2.0), 1e-10);  // ε = 1e-12 moves it by ~1e-11
    EXPECT_EQ(r.bins, 2U);
    EXPECT_DOUBLE_EQ(r.epsilon, 1e-12);
}

TEST(EvalJsd, TwoBinShiftMatchesTheClosedForm) {
    // P = (3/4, 1/4), Q = (1/4, 3/4), M = (1/2, 1/2): JSD = ¾ ln(3/2) + ¼ ln(1/2).
    const JsdResult r =
        histogram_jsd({0.25, 0.25, 0.25, 0.75}, {0.25, 0.75, 0.75, 0.75}, 2, 0.0, 1.0);
    EXPECT_NEAR(r.jsd, 0.75 * std::log(1.5) + 0.25 * std::log(0.5), kTol);
}

TEST(EvalJsd, ValuesAboveMaxOfRealGoToTheLastBin) {
    // 5 bins on [0, 4]: P = (.2, .2, .2, .2, .2); X = Y + 100 all lands in the last bin, Q = e5;
    // M = (.1, .1, .1, .1, .6). JSD = ½(0.8 ln 2 − 0.2 ln 3) + ½ ln(5/3).
    const Series y = make_series(1, 5, std::vector<double>{0, 1, 2, 3, 4});
    const JsdResult r = value_jsd(y, shifted(y, 100.0), 5);
    const double expected =
        0.5 * (0.8 * std::log(2.0) - 0.2 * std::log(3.0)) + 0.5 * std::log(5.0 / 3.0);
    EXPECT_NEAR(r.jsd, expected, 1e-9);  // ε = 1e-12 in the empty bins moves it by ~5e-11
    EXPECT_DOUBLE_EQ(r.lower, 0.0);
    EXPECT_DOUBLE_EQ(r.upper, 4.0);
    // ... and values below 0 to the first bin: X = −Y puts 0 and all negatives in bin 0.
    const Series neg = make_series(1, 5, std::vector<double>{0, -1, -2, -3, -4});
    EXPECT_NEAR(value_jsd(y, neg, 5).jsd, expected, 1e-9);
}

TEST(EvalJsd, ConstantZeroRealUsesTheUnitRange) {
    const Series y = make_series(1, 4, std::vector<double>{0, 0, 0, 0});
    const Series x = make_series(1, 4, std::vector<double>{5, 5, 5, 5});
    const JsdResult r = value_jsd(y, x, 2);
    EXPECT_DOUBLE_EQ(r.upper, 1.0);
    EXPECT_NEAR(r.jsd, std::log(2.0), 1e-10);
}

TEST(EvalJsd, MatchesNumpyOnTheFixture) {
    const Series y = fixture_real();
    const Series x = fixture_generated();
    EXPECT_NEAR(value_jsd(y, x).jsd, 0.0679482569993495, 1e-12);
    const JsdResult log_r = value_jsd(y, x, 100, HistogramScale::kLog1p);
    EXPECT_NEAR(log_r.jsd, 0.06122042608637347, 1e-12);
    EXPECT_EQ(log_r.scale, HistogramScale::kLog1p);
    const JsdResult inc = increment_jsd(y, x);
    EXPECT_NEAR(inc.jsd, 0.1098421278347245, 1e-12);
    EXPECT_DOUBLE_EQ(inc.lower, -inc.upper);
    EXPECT_EQ(inc.real_count, kCells * (kT - 1));
}

TEST(EvalJsd, RejectsNonFiniteValues) {
    const Series y = make_series(1, 2, std::vector<double>{1.0, NAN});
    EXPECT_THROW((void)value_jsd(y, y), Error);
}

// ---- point errors ---------------------------------------------------------------------------

TEST(EvalPointErrors, IdenticalInputsGiveZero) {
    const Series y = fixture_real();
    const PointErrors e = point_errors(y, y);
    EXPECT_EQ(e.mae, 0.0);
    EXPECT_EQ(e.rmse, 0.0);
    EXPECT_EQ(e.nmae, 0.0);
    EXPECT_EQ(e.nrmse, 0.0);
}

TEST(EvalPointErrors, MatchesNumpyOnTheFixture) {
    const PointErrors e = point_errors(fixture_real(), fixture_generated());
    EXPECT_NEAR(e.mae, 4.734000086330193, 1e-12);   // physical units
    EXPECT_NEAR(e.rmse, 6.050936064079862, 1e-12);  // physical units
    EXPECT_NEAR(e.nmae, 0.37872000690641544, 1e-12);
    EXPECT_NEAR(e.nrmse, 0.3076736270153872, 1e-12);
}

TEST(EvalPointErrors, SampleMeanVersusPerSample) {
    const Series y = fixture_real();
    const std::vector<Series> samples = {shifted(y, 1.0), shifted(y, -1.0)};
    EXPECT_NEAR(point_errors(y, sample_mean(samples)).mae, 0.0, 1e-12);
    const PerSampleErrors per = point_errors_per_sample(y, samples);
    ASSERT_EQ(per.per_sample.size(), 2U);
    EXPECT_NEAR(per.mean.mae, 1.0, 1e-12);
    EXPECT_NEAR(per.mean.rmse, 1.0, 1e-12);
}

TEST(EvalPointErrors, ConstantOffsetIsAnalytic) {
    // X = Y + c: MAE = RMSE = c, NMAE = c / mean(Y), NRMSE = c / (max(Y) − min(Y)).
    const Series y = fixture_real();
    const double c = 2.5;
    const PointErrors e = point_errors(y, shifted(y, c));
    const double mean = std::accumulate(y.values.begin(), y.values.end(), 0.0) /
                        static_cast<double>(y.values.size());
    const auto [lo, hi] = std::minmax_element(y.values.begin(), y.values.end());
    EXPECT_NEAR(e.mae, c, 1e-12);
    EXPECT_NEAR(e.rmse, c, 1e-12);
    EXPECT_NEAR(e.nmae, c / mean, 1e-12);
    EXPECT_NEAR(e.nrmse, c / (*hi - *lo), 1e-12);
    EXPECT_NEAR(e.real_mean, mean, 1e-12);
}

TEST(EvalJsd, ShiftByWholeBinsIsKOverNTimesLn2) {
    // n values, one per unit bin on [0, 100); X = Y + k bins: P and Q share n − k bins of mass 1/n,
    // each has k bins alone: JSD = (k / n) ln 2 (ε = 1e-12 moves it by ~1e-10).
    std::vector<double> y;
    for (int i = 0; i < 40; ++i)
        y.push_back(i + 0.5);
    for (const int k : {1, 7, 25}) {
        std::vector<double> x;
        for (const double v : y)
            x.push_back(v + k);
        EXPECT_NEAR(histogram_jsd(y, x, 100, 0.0, 100.0).jsd, k / 40.0 * std::log(2.0), 1e-9) << k;
    }
}

TEST(EvalPointErrors, ShapeMismatchThrows) {
    const Series a = make_series(2, 2, std::vector<double>{1, 2, 3, 4});
    const Series b = make_series(1, 4, std::vector<double>{1, 2, 3, 4});
    EXPECT_THROW((void)point_errors(a, b), Error);
    EXPECT_THROW((void)make_series(2, 3, std::vector<double>{1, 2}), Error);
}

// ---- weekly profile -------------------------------------------------------------------------

TEST(EvalProfile, ScaledCopyGivesZeroAndNumpyValue) {
    const Series y = fixture_real();
    Series x3 = y;
    for (double& v : x3.values) {
        v *= 3.0;  // each profile is divided by its own mean
    }
    EXPECT_NEAR(weekly_profile_error(y, x3).l1, 0.0, 1e-12);
    const ProfileErrorResult r = weekly_profile_error(y, fixture_generated());
    EXPECT_NEAR(r.l1, 43.767837632836056, 1e-10);  // a sum over 168 h (numpy)
    EXPECT_EQ(r.period, kT);
    EXPECT_EQ(r.weeks_folded, 1U);
}

TEST(EvalProfile, FoldsWholeWeeksAndRejectsPartOnes) {
    std::vector<double> two_weeks;
    for (std::size_t w = 0; w < 2; ++w) {
        for (std::size_t t = 0; t < kT; ++t) {
            two_weeks.push_back(1.0 + static_cast<double>(t % 24));
        }
    }
    const Series y = make_series(1, 2 * kT, two_weeks);
    const ProfileErrorResult r = weekly_profile_error(y, y);
    EXPECT_EQ(r.weeks_folded, 2U);
    EXPECT_EQ(r.l1, 0.0);
    const Series odd = make_series(1, 100, std::vector<double>(100, 1.0));
    EXPECT_THROW((void)weekly_profile_error(odd, odd), Error);
}

// ---- ACF ------------------------------------------------------------------------------------

TEST(EvalAcf, EstimatorMatchesHandValues) {
    // x = 1, 2, 3, 4: centred ±1.5, ±0.5, Σ² = 5; lag sums 1.25, −1.5, −2.25.
    const std::vector<double> x = {1, 2, 3, 4};
    const std::vector<double> acf = autocorrelation(x.data(), x.size(), 3);
    ASSERT_EQ(acf.size(), 4U);
    EXPECT_NEAR(acf[0], 1.0, kTol);
    EXPECT_NEAR(acf[1], 0.25, kTol);
    EXPECT_NEAR(acf[2], -0.3, kTol);
    EXPECT_NEAR(acf[3], -0.45, kTol);
    const std::vector<double> flat = {2, 2, 2};
    EXPECT_TRUE(autocorrelation(flat.data(), flat.size(), 2).empty());
}

TEST(EvalAcf, IdenticalInputsGiveZero) {
    const Series y = fixture_real();
    const AcfResult r = acf_distance(y, y);
    EXPECT_EQ(r.per_cell, 0.0);
    EXPECT_EQ(r.city_total, 0.0);
    EXPECT_EQ(r.cells_used, kCells);
    EXPECT_EQ(r.max_lag_used, kT - 1);  // lag 168 has no pair in a 168-h series
}

TEST(EvalAcf, MatchesNumpyOnTheFixture) {
    const AcfResult r = acf_distance(fixture_real(), fixture_generated());
    EXPECT_NEAR(r.per_cell, 0.09136929261867906, 1e-12);
    EXPECT_NEAR(r.city_total, 0.33950135317518193, 1e-12);
    ASSERT_EQ(r.at_lags.size(), 2U);
    EXPECT_EQ(r.at_lags[0].lag, 24U);
    EXPECT_NEAR(r.at_lags[0].per_cell_abs_diff, 0.13501826256229849, 1e-12);
    EXPECT_NEAR(r.at_lags[0].city_real, 0.3540279965377017, 1e-12);
    EXPECT_EQ(r.at_lags[1].lag, 168U);
    EXPECT_TRUE(std::isnan(r.at_lags[1].per_cell_abs_diff));
    EXPECT_TRUE(std::isnan(r.at_lags[1].city_real));
}

TEST(EvalAcf, ConstantCellsAreSkippedAndCounted) {
    Series y = fixture_real();
    Series x = fixture_generated();
    for (std::size_t t = 0; t < kT; ++t) {
        x.values[2 * kT + t] = 4.0;  // cell 2 constant in X
    }
    const AcfResult r = acf_distance(y, x);
    EXPECT_EQ(r.cells_skipped, 1U);
    EXPECT_EQ(r.cells_used, kCells - 1);
    EXPECT_TRUE(std::isfinite(r.per_cell));
}

// ---- periodicity ----------------------------------------------------------------------------

TEST(EvalPeriodicity, SineShareComputedByHand) {
    // 3 + sin(2πt/24) + ½ sin(2πt/168): |F_7| = 84, |F_1| = 42, every other non-DC bin 0, so the
    // daily share is 84/126 = 2/3 and the weekly one 1/3 (DC left out of the total).
    std::vector<double> v;
    for (std::size_t t = 0; t < kT; ++t) {
        const double tc = static_cast<double>(t);
        v.push_back(3.0 + std::sin(2.0 * kPi * tc / 24.0) + 0.5 * std::sin(2.0 * kPi * tc / 168.0));
    }
    EXPECT_NEAR(spectral_share(v.data(), kT, 7), 2.0 / 3.0, 1e-12);
    EXPECT_NEAR(spectral_share(v.data(), kT, 1), 1.0 / 3.0, 1e-12);
    const Series y = make_series(1, kT, v);
    const PeriodicityResult r = periodicity_share(y, y);
    EXPECT_EQ(r.daily_bin, 7U);
    EXPECT_EQ(r.weekly_bin, 1U);
    EXPECT_TRUE(r.dc_excluded);
    EXPECT_NEAR(r.real_daily_share[0], 2.0 / 3.0, 1e-12);
    EXPECT_EQ(r.daily_rmse, 0.0);
    EXPECT_EQ(r.weekly_rmse, 0.0);
}

TEST(EvalPeriodicity, MatchesNumpyOnTheFixture) {
    const PeriodicityResult r = periodicity_share(fixture_real(), fixture_generated());
    EXPECT_NEAR(r.daily_rmse, 0.2603828962508583, 1e-12);
    EXPECT_NEAR(r.weekly_rmse, 0.19441586079532996, 1e-12);
    EXPECT_NEAR(r.real_daily_share[0], 0.7142857142857065, 1e-12);
    EXPECT_EQ(r.cells_used, kCells);
}

// ---- SSIM -----------------------------------------------------------------------------------

std::vector<double> ssim_map(double row_freq, double phase, double slope, double col_freq) {
    std::vector<double> m;
    for (std::size_t r = 0; r < 14; ++r) {
        for (std::size_t c = 0; c < 13; ++c) {
            const double rd = static_cast<double>(r);
            m.push_back(std::sin(rd * row_freq + phase) +
                        std::cos(static_cast<double>(c) * col_freq) + slope * rd);
        }
    }
    return m;
}

TEST(EvalSsim, MatchesTheSkimageStepsInNumpy) {
    // A = sin(0.7r) + cos(0.45c) + 0.1r, B = sin(0.6r + 0.2) + cos(0.5c) + 0.12r on 14×13.
    const std::vector<double> a = ssim_map(0.7, 0.0, 0.1, 0.45);
    const std::vector<double> b = ssim_map(0.6, 0.2, 0.12, 0.5);
    const auto [lo, hi] = std::minmax_element(a.begin(), a.end());
    EXPECT_NEAR(ssim_2d(a, b, 14, 13, *hi - *lo), 0.7082553172784722, 1e-12);
    EXPECT_NEAR(ssim_2d(a, a, 14, 13, *hi - *lo), 1.0, 1e-12);
    const std::vector<double> tile(10 * 10, 1.0);
    EXPECT_THROW((void)ssim_2d(tile, tile, 10, 10, 1.0), Error);  // smaller than the window
}

TEST(EvalSsim, IdenticalCityMapsGiveOne) {
    // 12×12 map, cells on every pixel but the corners (outside the mask = 0 on both sides).
    MapLayout layout;
    layout.rows = 12;
    layout.cols = 12;
    std::vector<double> v;
    const std::size_t hours = 3;
    std::size_t cells = 0;
    for (std::size_t r = 0; r < 12; ++r) {
        for (std::size_t c = 0; c < 12; ++c) {
            if ((r == 0 || r == 11) && (c == 0 || c == 11)) {
                continue;
            }
            layout.cell_row.push_back(r);
            layout.cell_col.push_back(c);
            ++cells;
        }
    }
    for (std::size_t i = 0; i < cells; ++i) {
        for (std::size_t h = 0; h < hours; ++h) {
            v.push_back(static_cast<double>((i * 7 + h * 3) % 11));
        }
    }
    const Series y = make_series(cells, hours, v);
    const SsimResult r = spatial_ssim(y, y, layout);
    EXPECT_NEAR(r.ssim, 1.0, 1e-12);
    EXPECT_EQ(r.per_hour.size(), hours);
    EXPECT_EQ(r.pixels_averaged, 4U);
    EXPECT_DOUBLE_EQ(r.data_range, 10.0);
    Series x = y;
    x.values[5] += 3.0;
    EXPECT_LT(spatial_ssim(y, x, layout).ssim, 1.0);
}

// ---- Spearman -------------------------------------------------------------------------------

TEST(EvalSpearman, IdentityReversalAndTies) {
    const std::vector<double> a = {1, 2, 3, 4, 5};
    EXPECT_NEAR(spearman(a, a), 1.0, kTol);
    EXPECT_NEAR(spearman(a, {50, 40, 30, 20, 10}), -1.0, kTol);
    // Average ranks (1, 2.5, 2.5, 4, 5) and (2, 1, 3.5, 3.5, 5): Pearson = 0.7631578947368421
    // (numpy corrcoef of those ranks; scipy.stats.spearmanr gives the same by definition).
    EXPECT_NEAR(spearman({1, 2, 2, 3, 5}, {2, 1, 3, 3, 4}), 0.7631578947368421, kTol);
    EXPECT_TRUE(std::isnan(spearman(a, {1, 1, 1, 1, 1})));
}

TEST(EvalSpearman, WeeklyTotalsWithTies) {
    const Series y = fixture_real();
    EXPECT_NEAR(spatial_spearman(y, y).rho, 1.0, kTol);
    // Totals 1, 2, 2, 3, 5 and 2, 1, 3, 3, 4: the tied pair of the test above, in integers so that
    // the ties are exact (the fixture's sine totals tie only up to rounding).
    const Series a = make_series(5, 2, std::vector<double>{1, 0, 1, 1, 1, 1, 2, 1, 5, 0});
    const Series b = make_series(5, 2, std::vector<double>{2, 0, 0, 1, 3, 0, 1, 2, 4, 0});
    const SpearmanResult r = spatial_spearman(a, b);
    EXPECT_NEAR(r.rho, 0.7631578947368421, kTol);
    EXPECT_EQ(r.cells, 5U);
}

// ---- cross-scale ----------------------------------------------------------------------------

TEST(EvalCrossScale, BlockMeansAndAKnownMismatch) {
    // 4x2 fine grid, 2 steps, factor 2 -> 2x1 coarse grid: block means (2.5, 6.5) and (25, 65).
    const Series fine = make_series(
        8, 2, std::vector<double>{1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60, 7, 70, 8, 80});
    const Series coarse = make_series(2, 2, std::vector<double>{2.5, 25, 6.5, 65});
    const CrossScaleResult same = cross_scale_consistency(fine, 4, 2, coarse, 2);
    EXPECT_NEAR(same.relative_error, 0.0, kTol);
    EXPECT_EQ(same.factor, 2U);
    Series doubled = coarse;
    for (double& v : doubled.values) {
        v *= 2.0;  // ‖p − 2p‖ / ‖2p‖ = 1/2
    }
    EXPECT_NEAR(cross_scale_consistency(fine, 4, 2, doubled, 2).relative_error, 0.5, kTol);
    EXPECT_THROW((void)cross_scale_consistency(fine, 4, 2, coarse, 4), Error);
}

// ---- CRPS -----------------------------------------------------------------------------------

TEST(EvalCrps, ExactForecastGivesZero) {
    const Series y = fixture_real();
    const CrpsResult r = crps(y, std::vector<Series>(10, y));
    EXPECT_EQ(r.crps, 0.0);
    ASSERT_EQ(r.quantile_levels.size(), 19U);
    EXPECT_DOUBLE_EQ(r.quantile_levels.front(), 0.05);
    EXPECT_DOUBLE_EQ(r.quantile_levels.back(), 0.95);
}

TEST(EvalCrps, ConstantOffsetIsAnalytic) {
    // Every quantile is y + d: the loss is d(1 − q) for d > 0 and |d|q for d < 0; both average to
    // d/2 over the 19 levels, so CRPS = 2·(d/2)·N / Σ|y| = |d|·N / Σ|y|.
    const Series y = fixture_real();
    double abs_sum = 0.0;
    for (double v : y.values) {
        abs_sum += std::abs(v);
    }
    const double n = static_cast<double>(y.values.size());
    EXPECT_NEAR(crps(y, std::vector<Series>(12, shifted(y, 1.5))).crps, 1.5 * n / abs_sum, 1e-12);
    EXPECT_NEAR(crps(y, std::vector<Series>(12, shifted(y, -0.5))).crps, 0.5 * n / abs_sum, 1e-12);
}

TEST(EvalCrps, MatchesNumpyQuantiles) {
    // samples[s] = Y + (s − 5.5)·0.7 + 0.3 sin(s·t/10 + c), s = 0..11.
    const Series y = fixture_real();
    std::vector<Series> samples;
    for (std::size_t s = 0; s < 12; ++s) {
        Series x = y;
        for (std::size_t c = 0; c < kCells; ++c) {
            for (std::size_t t = 0; t < kT; ++t) {
                x.values[c * kT + t] +=
                    (static_cast<double>(s) - 5.5) * 0.7 +
                    0.3 * std::sin(static_cast<double>(s * t) / 10.0 + static_cast<double>(c));
            }
        }
        samples.push_back(x);
    }
    EXPECT_NEAR(crps(y, samples).crps, 0.0539906534656561, 1e-12);
}

TEST(EvalCrps, FewerThanTenSamplesThrow) {
    const Series y = fixture_real();
    EXPECT_THROW((void)crps(y, std::vector<Series>(9, y)), Error);
}

// ---- MMD ------------------------------------------------------------------------------------

TEST(EvalMmd, IdenticalSetsGiveZero) {
    const Series y = fixture_real();
    const MmdResult r = mmd(y, y);
    EXPECT_NEAR(r.mmd2, 0.0, 1e-12);
    ASSERT_EQ(r.bandwidths.size(), 5U);
    EXPECT_DOUBLE_EQ(r.bandwidths[4], 16.0 * r.bandwidths[0]);
}

TEST(EvalMmd, MatchesTheDanKernelInNumpy) {
    const MmdResult r = mmd(fixture_real(), fixture_generated());
    EXPECT_NEAR(r.mmd2, 1.5236909772360816, 1e-10);
    EXPECT_NEAR(r.base_bandwidth, 6386.112451340271, 1e-8);
}

// ---- baselines ------------------------------------------------------------------------------

TEST(EvalBaselines, MeanProfileIsTheTrainingMean) {
    const Series train = make_series(2, 3, std::vector<double>{1, 2, 3, 5, 6, 7});
    const Series x = mean_profile_baseline(train, 4);
    ASSERT_EQ(x.cells, 4U);
    ASSERT_EQ(x.steps, 3U);
    for (std::size_t c = 0; c < 4; ++c) {
        EXPECT_EQ(x.at(c, 0), 3.0);
        EXPECT_EQ(x.at(c, 1), 4.0);
        EXPECT_EQ(x.at(c, 2), 5.0);
    }
}

TEST(EvalBaselines, ConditionProportionalScalesByShare) {
    const Series train = make_series(2, 3, std::vector<double>{1, 2, 3, 5, 6, 7});
    const Series x = condition_proportional_baseline(train, {1.0, 3.0});  // shares ×0.5, ×1.5
    EXPECT_DOUBLE_EQ(x.at(0, 1), 2.0);
    EXPECT_DOUBLE_EQ(x.at(1, 1), 6.0);
    EXPECT_THROW((void)condition_proportional_baseline(train, {0.0, 0.0}), Error);
    EXPECT_THROW((void)condition_proportional_baseline(train, {-1.0, 2.0}), Error);
}

TEST(EvalBaselines, NearestAnaloguePicksTheStandardisedNearestTile) {
    // Features (0, 0), (100, 1), (200, 2): std 81.65 and 0.8165. Target (0, 2) is nearest to tile
    // 1 once standardised (distance² 3 vs 6 and 6); in raw units it would be tile 0.
    const Series train = make_series(3, 2, std::vector<double>{10, 11, 20, 21, 30, 31});
    const Series cond = make_series(3, 2, std::vector<double>{0, 0, 100, 1, 200, 2});
    const Series target = make_series(2, 2, std::vector<double>{0, 2, 190, 2});
    const AnalogueResult r = nearest_analogue_baseline(train, cond, target);
    ASSERT_EQ(r.chosen.size(), 2U);
    EXPECT_EQ(r.chosen[0], 1U);
    EXPECT_EQ(r.chosen[1], 2U);
    EXPECT_EQ(r.generated.values, (std::vector<double>{20, 21, 30, 31}));
}

TEST(EvalBaselines, NearestAnalogueSkipsTheExcludedRow) {
    // Leave-one-out: target 0 is training tile 0 itself; excluded, it gets the next nearest (1).
    const Series train = make_series(3, 1, std::vector<double>{10, 20, 30});
    const Series cond = make_series(3, 1, std::vector<double>{0, 1, 5});
    const Series target = make_series(2, 1, std::vector<double>{0, 5});
    EXPECT_EQ(nearest_analogue_baseline(train, cond, target).chosen,
              (std::vector<std::size_t>{0, 2}));
    const AnalogueResult r = nearest_analogue_baseline(train, cond, target, {0, kNoRow});
    EXPECT_EQ(r.chosen, (std::vector<std::size_t>{1, 2}));
    EXPECT_EQ(r.generated.values, (std::vector<double>{20, 30}));
    EXPECT_THROW((void)nearest_analogue_baseline(train, cond, target, {0}),
                 Error);  // one per target
    const Series one = make_series(1, 1, std::vector<double>{1});
    EXPECT_THROW((void)nearest_analogue_baseline(one, one, one, {0}), Error);  // nothing left
}

}  // namespace
}  // namespace zoomdiff::eval
