#include "zoomdiff/eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/geo/blocks.hpp"

namespace zoomdiff::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;

[[noreturn]] void fail(const std::string& metric, const std::string& problem,
                       const std::string& fix) {
    throw Error("eval::" + metric, problem, fix, ExitCode::kInput);
}

void check_series(const std::string& metric, const Series& s, const char* what) {
    if (s.values.size() != s.cells * s.steps) {
        fail(metric,
             std::string(what) + " holds " + std::to_string(s.values.size()) +
                 " values, not cells * steps = " + std::to_string(s.cells * s.steps),
             "build it with make_series");
    }
    if (s.cells == 0 || s.steps == 0) {
        fail(metric, std::string(what) + " is empty", "pass at least one cell and one step");
    }
    for (double v : s.values) {
        if (!std::isfinite(v)) {
            fail(metric, std::string(what) + " holds a non-finite value",
                 "remove NaN/inf values before evaluating");
        }
    }
}

void check_pair(const std::string& metric, const Series& real, const Series& generated) {
    check_series(metric, real, "the real series");
    check_series(metric, generated, "the generated series");
    if (real.cells != generated.cells || real.steps != generated.steps) {
        fail(metric,
             "real [" + std::to_string(real.cells) + ", " + std::to_string(real.steps) +
                 "] and generated [" + std::to_string(generated.cells) + ", " +
                 std::to_string(generated.steps) + "] differ in shape",
             "evaluate the same cells and hours");
    }
}

double mean_of(const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

/// numpy.histogram's binning of equal-width bins, reproduced so that values on an edge land in
/// the same bin as in numpy: index floor((v − lower)·bins/(upper − lower)), then corrected
/// against the edges of numpy.linspace(lower, upper, bins + 1). Out-of-range values are clamped
/// to the first and last bins (EVAL.md), which numpy would drop.
class EqualBins {
public:
    EqualBins(std::size_t bins, double lower, double upper)
        : bins_(bins),
          lower_(lower),
          norm_(static_cast<double>(bins) / (upper - lower)),
          edges_(bins + 1) {
        const double step = (upper - lower) / static_cast<double>(bins);
        for (std::size_t i = 0; i < bins; ++i) {
            edges_[i] = lower + static_cast<double>(i) * step;
        }
        edges_[bins] = upper;
    }

    [[nodiscard]] std::size_t index(double v) const {
        if (!(v > edges_.front())) {
            return 0;
        }
        if (v >= edges_.back()) {
            return bins_ - 1;
        }
        auto i = static_cast<std::size_t>(std::floor((v - lower_) * norm_));
        i = std::min(i, bins_ - 1);
        if (v < edges_[i]) {
            --i;
        } else if (i + 1 < bins_ && v >= edges_[i + 1]) {
            ++i;
        }
        return i;
    }

private:
    std::size_t bins_;
    double lower_;
    double norm_;
    std::vector<double> edges_;
};

std::vector<double> normalised_histogram(const std::vector<double>& values, std::size_t bins,
                                         double lower, double upper, double epsilon) {
    std::vector<double> p(bins, 0.0);
    const EqualBins binning(bins, lower, upper);
    for (double v : values) {
        p[binning.index(v)] += 1.0;
    }
    const double n = static_cast<double>(values.size());
    double total = 0.0;
    for (double& x : p) {
        x = x / n + epsilon;
        total += x;
    }
    for (double& x : p) {
        x /= total;
    }
    return p;
}

std::vector<double> increments(const Series& s) {
    std::vector<double> d;
    d.reserve(s.cells * (s.steps - 1));
    for (std::size_t c = 0; c < s.cells; ++c) {
        for (std::size_t t = 0; t + 1 < s.steps; ++t) {
            d.push_back(s.at(c, t + 1) - s.at(c, t));
        }
    }
    return d;
}

bool is_constant(const double* x, std::size_t steps) {
    return std::all_of(x, x + steps, [x](double v) { return v == x[0]; });
}

/// Mean over lags 1..max_lag of |a(k) − b(k)|.
double mean_abs_lag_diff(const std::vector<double>& a, const std::vector<double>& b,
                         std::size_t max_lag) {
    double sum = 0.0;
    for (std::size_t k = 1; k <= max_lag; ++k) {
        sum += std::abs(a[k] - b[k]);
    }
    return sum / static_cast<double>(max_lag);
}

std::vector<double> city_total(const Series& s) {
    std::vector<double> total(s.steps, 0.0);
    for (std::size_t c = 0; c < s.cells; ++c) {
        for (std::size_t t = 0; t < s.steps; ++t) {
            total[t] += s.at(c, t);
        }
    }
    return total;
}

/// |F_j| for j = 0..⌊T/2⌋ (numpy.fft.rfft magnitudes) by direct summation: T = 168 makes this
/// cheap, and it needs no FFT library.
class RealDft {
public:
    explicit RealDft(std::size_t steps) : steps_(steps), cos_(steps), sin_(steps) {
        for (std::size_t i = 0; i < steps; ++i) {
            const double angle = 2.0 * kPi * static_cast<double>(i) / static_cast<double>(steps);
            cos_[i] = std::cos(angle);
            sin_[i] = std::sin(angle);
        }
    }

    [[nodiscard]] std::vector<double> magnitudes(const double* x) const {
        std::vector<double> mag(steps_ / 2 + 1);
        for (std::size_t j = 0; j < mag.size(); ++j) {
            double re = 0.0;
            double im = 0.0;
            for (std::size_t t = 0; t < steps_; ++t) {
                const std::size_t i = (j * t) % steps_;
                re += x[t] * cos_[i];
                im -= x[t] * sin_[i];
            }
            mag[j] = std::hypot(re, im);
        }
        return mag;
    }

private:
    std::size_t steps_;
    std::vector<double> cos_;
    std::vector<double> sin_;
};

/// The share of bin `bin` in the non-DC spectrum; NaN for a constant series, whose non-DC
/// spectrum is rounding noise only (checked on the series, not on the noise).
double share_of(const RealDft& dft, const double* x, std::size_t steps, std::size_t bin) {
    if (is_constant(x, steps)) {
        return kNaN;
    }
    const std::vector<double> mag = dft.magnitudes(x);
    if (bin == 0 || bin >= mag.size()) {
        return kNaN;
    }
    const double total = std::accumulate(mag.begin() + 1, mag.end(), 0.0);
    return mag[bin] / total;
}

double rmse_over_defined(const std::vector<double>& a, const std::vector<double>& b,
                         std::size_t& used) {
    double sum = 0.0;
    used = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) || std::isnan(b[i])) {
            continue;
        }
        sum += (a[i] - b[i]) * (a[i] - b[i]);
        ++used;
    }
    return used == 0 ? kNaN : std::sqrt(sum / static_cast<double>(used));
}

/// scipy.ndimage's Gaussian kernel for sigma and radius int(truncate·σ + 0.5), truncate 4.0 in
/// scipy but 3.5 in skimage's structural_similarity: 11 taps for σ = 1.5.
std::vector<double> gaussian_taps(std::size_t window, double sigma) {
    std::vector<double> w(window);
    const double centre = static_cast<double>(window / 2);
    double sum = 0.0;
    for (std::size_t i = 0; i < window; ++i) {
        const double x = static_cast<double>(i) - centre;
        w[i] = std::exp(-0.5 * x * x / (sigma * sigma));
        sum += w[i];
    }
    for (double& x : w) {
        x /= sum;
    }
    return w;
}

/// Average ranks (1-based), ties sharing the mean of their positions.
std::vector<double> average_ranks(const std::vector<double>& v) {
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&v](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    std::vector<double> ranks(v.size());
    std::size_t i = 0;
    while (i < order.size()) {
        std::size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) {
            ++j;
        }
        const double rank = 0.5 * static_cast<double>(i + j) + 1.0;
        for (std::size_t k = i; k <= j; ++k) {
            ranks[order[k]] = rank;
        }
        i = j + 1;
    }
    return ranks;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const double ma = mean_of(a);
    const double mb = mean_of(b);
    double sab = 0.0;
    double saa = 0.0;
    double sbb = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    if (saa == 0.0 || sbb == 0.0) {
        return kNaN;
    }
    return sab / std::sqrt(saa * sbb);
}

double squared_distance(const double* a, const double* b, std::size_t n) {
    double d = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double e = a[i] - b[i];
        d += e * e;
    }
    return d;
}

}  // namespace

Series make_series(std::size_t cells, std::size_t steps, const std::vector<float>& values) {
    return make_series(cells, steps, std::vector<double>(values.begin(), values.end()));
}

Series make_series(std::size_t cells, std::size_t steps, std::vector<double> values) {
    if (values.size() != cells * steps) {
        fail("make_series",
             std::to_string(values.size()) + " values for [" + std::to_string(cells) + ", " +
                 std::to_string(steps) + "]",
             "pass cells * steps values in row-major [cells, steps] order");
    }
    Series s;
    s.cells = cells;
    s.steps = steps;
    s.values = std::move(values);
    return s;
}

Series sample_mean(const std::vector<Series>& samples) {
    if (samples.empty()) {
        fail("sample_mean", "no samples", "pass at least one sample");
    }
    Series mean = samples.front();
    for (std::size_t s = 1; s < samples.size(); ++s) {
        check_pair("sample_mean", samples.front(), samples[s]);
        for (std::size_t i = 0; i < mean.values.size(); ++i) {
            mean.values[i] += samples[s].values[i];
        }
    }
    for (double& v : mean.values) {
        v /= static_cast<double>(samples.size());
    }
    return mean;
}

// ---- distribution ---------------------------------------------------------------------------

JsdResult histogram_jsd(const std::vector<double>& real, const std::vector<double>& generated,
                        std::size_t bins, double lower, double upper, double epsilon) {
    if (bins == 0) {
        fail("histogram_jsd", "0 bins", "use at least one bin");
    }
    if (real.empty() || generated.empty()) {
        fail("histogram_jsd", "an empty sample", "pass at least one value on each side");
    }
    if (!(upper > lower)) {
        upper = lower + 1.0;
    }
    const std::vector<double> p = normalised_histogram(real, bins, lower, upper, epsilon);
    const std::vector<double> q = normalised_histogram(generated, bins, lower, upper, epsilon);
    double kl_pm = 0.0;
    double kl_qm = 0.0;
    for (std::size_t i = 0; i < bins; ++i) {
        const double m = 0.5 * (p[i] + q[i]);
        kl_pm += p[i] * std::log(p[i] / m);
        kl_qm += q[i] * std::log(q[i] / m);
    }
    JsdResult r;
    r.jsd = std::max(0.0, 0.5 * kl_pm + 0.5 * kl_qm);
    r.bins = bins;
    r.lower = lower;
    r.upper = upper;
    r.epsilon = epsilon;
    r.real_count = real.size();
    r.generated_count = generated.size();
    return r;
}

JsdResult value_jsd(const Series& real, const Series& generated, std::size_t bins,
                    HistogramScale scale) {
    check_series("value_jsd", real, "the real series");
    check_series("value_jsd", generated, "the generated series");
    std::vector<double> y = real.values;
    std::vector<double> x = generated.values;
    double upper = *std::max_element(y.begin(), y.end());
    if (scale == HistogramScale::kLog1p) {
        const auto transform = [](double v) { return std::log1p(std::max(v, 0.0)); };
        std::transform(y.begin(), y.end(), y.begin(), transform);
        std::transform(x.begin(), x.end(), x.begin(), transform);
        upper = transform(upper);
    }
    JsdResult r = histogram_jsd(y, x, bins, 0.0, upper);
    r.scale = scale;
    return r;
}

JsdResult increment_jsd(const Series& real, const Series& generated, std::size_t bins) {
    check_series("increment_jsd", real, "the real series");
    check_series("increment_jsd", generated, "the generated series");
    if (real.steps < 2 || generated.steps < 2) {
        fail("increment_jsd", "fewer than 2 steps", "pass series with at least 2 steps");
    }
    const std::vector<double> dy = increments(real);
    const std::vector<double> dx = increments(generated);
    double m = 0.0;
    for (double d : dy) {
        m = std::max(m, std::abs(d));
    }
    if (m == 0.0) {
        m = 0.5;
    }
    return histogram_jsd(dy, dx, bins, -m, m);
}

// ---- point errors ---------------------------------------------------------------------------

PointErrors point_errors(const Series& real, const Series& generated) {
    check_pair("point_errors", real, generated);
    double abs_sum = 0.0;
    double sq_sum = 0.0;
    for (std::size_t i = 0; i < real.values.size(); ++i) {
        const double e = generated.values[i] - real.values[i];
        abs_sum += std::abs(e);
        sq_sum += e * e;
    }
    const double n = static_cast<double>(real.values.size());
    const auto [lo, hi] = std::minmax_element(real.values.begin(), real.values.end());
    PointErrors r;
    r.mae = abs_sum / n;
    r.rmse = std::sqrt(sq_sum / n);
    r.real_mean = mean_of(real.values);
    r.real_range = *hi - *lo;
    r.nmae = r.real_mean == 0.0 ? kNaN : r.mae / r.real_mean;
    r.nrmse = r.real_range == 0.0 ? kNaN : r.rmse / r.real_range;
    return r;
}

PerSampleErrors point_errors_per_sample(const Series& real, const std::vector<Series>& samples) {
    if (samples.empty()) {
        fail("point_errors_per_sample", "no samples", "pass at least one sample");
    }
    PerSampleErrors r;
    for (const Series& s : samples) {
        r.per_sample.push_back(point_errors(real, s));
    }
    const double n = static_cast<double>(samples.size());
    r.mean.real_mean = r.per_sample.front().real_mean;
    r.mean.real_range = r.per_sample.front().real_range;
    r.mean.mae = 0.0;
    r.mean.rmse = 0.0;
    r.mean.nmae = 0.0;
    r.mean.nrmse = 0.0;
    for (const PointErrors& e : r.per_sample) {
        r.mean.mae += e.mae / n;
        r.mean.rmse += e.rmse / n;
        r.mean.nmae += e.nmae / n;
        r.mean.nrmse += e.nrmse / n;
    }
    return r;
}

// ---- temporal -------------------------------------------------------------------------------

ProfileErrorResult weekly_profile_error(const Series& real, const Series& generated,
                                        std::size_t period) {
    check_pair("weekly_profile_error", real, generated);
    if (period == 0 || real.steps % period != 0) {
        fail("weekly_profile_error",
             std::to_string(real.steps) + " steps are not whole periods of " +
                 std::to_string(period) + " h",
             "pass whole weeks");
    }
    const auto profile = [period](const Series& s) {
        std::vector<double> p(period, 0.0);
        for (std::size_t c = 0; c < s.cells; ++c) {
            for (std::size_t t = 0; t < s.steps; ++t) {
                p[t % period] += s.at(c, t);
            }
        }
        const double m = mean_of(p);
        for (double& v : p) {
            v = m == 0.0 ? kNaN : v / m;  // the cell and week counts cancel here
        }
        return p;
    };
    ProfileErrorResult r;
    r.period = period;
    r.weeks_folded = real.steps / period;
    r.real_profile = profile(real);
    r.generated_profile = profile(generated);
    r.l1 = 0.0;
    for (std::size_t h = 0; h < period; ++h) {
        r.l1 += std::abs(r.real_profile[h] - r.generated_profile[h]);
    }
    return r;
}

std::vector<double> autocorrelation(const double* series, std::size_t steps, std::size_t max_lag) {
    if (max_lag >= steps) {
        fail("autocorrelation",
             "lag " + std::to_string(max_lag) + " of a " + std::to_string(steps) + "-step series",
             "use lags below the series length");
    }
    double mean = 0.0;
    for (std::size_t t = 0; t < steps; ++t) {
        mean += series[t];
    }
    mean /= static_cast<double>(steps);
    // A constant series is caught on its values: its mean removal may leave rounding noise.
    if (is_constant(series, steps)) {
        return {};
    }
    std::vector<double> centred(steps);
    double c0 = 0.0;
    for (std::size_t t = 0; t < steps; ++t) {
        centred[t] = series[t] - mean;
        c0 += centred[t] * centred[t];
    }
    std::vector<double> acf(max_lag + 1);
    for (std::size_t k = 0; k <= max_lag; ++k) {
        double ck = 0.0;
        for (std::size_t t = 0; t + k < steps; ++t) {
            ck += centred[t] * centred[t + k];
        }
        acf[k] = ck / c0;
    }
    return acf;
}

AcfResult acf_distance(const Series& real, const Series& generated, std::size_t max_lag,
                       const std::vector<std::size_t>& report_lags) {
    check_pair("acf_distance", real, generated);
    if (real.steps < 2 || max_lag == 0) {
        fail("acf_distance", "no lag to compare", "pass at least 2 steps and max_lag >= 1");
    }
    AcfResult r;
    r.max_lag_requested = max_lag;
    r.max_lag_used = std::min(max_lag, real.steps - 1);
    const std::size_t lag_max = r.max_lag_used;
    // The report lags are computed even when above max_lag, as long as they are estimable.
    std::size_t lag_needed = lag_max;
    for (std::size_t k : report_lags) {
        if (k < real.steps) {
            lag_needed = std::max(lag_needed, k);
        }
    }
    std::vector<double> diff_sum_at(report_lags.size(), 0.0);
    double per_cell_sum = 0.0;
    for (std::size_t c = 0; c < real.cells; ++c) {
        const std::vector<double> ay =
            autocorrelation(real.values.data() + c * real.steps, real.steps, lag_needed);
        const std::vector<double> ax =
            autocorrelation(generated.values.data() + c * real.steps, real.steps, lag_needed);
        if (ay.empty() || ax.empty()) {
            ++r.cells_skipped;
            continue;
        }
        ++r.cells_used;
        per_cell_sum += mean_abs_lag_diff(ay, ax, lag_max);
        for (std::size_t i = 0; i < report_lags.size(); ++i) {
            const std::size_t k = report_lags[i];
            if (k < real.steps) {
                diff_sum_at[i] += std::abs(ay[k] - ax[k]);
            }
        }
    }
    r.per_cell = r.cells_used == 0 ? kNaN : per_cell_sum / static_cast<double>(r.cells_used);

    const std::vector<double> ty = city_total(real);
    const std::vector<double> tx = city_total(generated);
    const std::vector<double> cy = autocorrelation(ty.data(), ty.size(), lag_needed);
    const std::vector<double> cx = autocorrelation(tx.data(), tx.size(), lag_needed);
    const bool city_ok = !cy.empty() && !cx.empty();
    r.city_total = city_ok ? mean_abs_lag_diff(cy, cx, lag_max) : kNaN;

    for (std::size_t i = 0; i < report_lags.size(); ++i) {
        const std::size_t k = report_lags[i];
        AcfAtLag at;
        at.lag = k;
        const bool estimable = k < real.steps;
        at.per_cell_abs_diff = estimable && r.cells_used > 0
                                   ? diff_sum_at[i] / static_cast<double>(r.cells_used)
                                   : kNaN;
        at.city_real = estimable && city_ok ? cy[k] : kNaN;
        at.city_generated = estimable && city_ok ? cx[k] : kNaN;
        r.at_lags.push_back(at);
    }
    return r;
}

double spectral_share(const double* series, std::size_t steps, std::size_t bin) {
    return share_of(RealDft(steps), series, steps, bin);
}

PeriodicityResult periodicity_share(const Series& real, const Series& generated) {
    check_pair("periodicity_share", real, generated);
    if (real.steps % 24 != 0) {
        fail("periodicity_share",
             std::to_string(real.steps) + " steps are not whole days, so there is no daily bin",
             "pass whole days of hourly values");
    }
    PeriodicityResult r;
    r.daily_bin = real.steps / 24;
    r.weekly_bin = real.steps % kHoursPerWeek == 0 ? real.steps / kHoursPerWeek : 0;
    r.dc_excluded = true;
    const RealDft dft(real.steps);
    for (std::size_t c = 0; c < real.cells; ++c) {
        const double* y = real.values.data() + c * real.steps;
        const double* x = generated.values.data() + c * real.steps;
        r.real_daily_share.push_back(share_of(dft, y, real.steps, r.daily_bin));
        r.generated_daily_share.push_back(share_of(dft, x, real.steps, r.daily_bin));
        r.real_weekly_share.push_back(share_of(dft, y, real.steps, r.weekly_bin));
        r.generated_weekly_share.push_back(share_of(dft, x, real.steps, r.weekly_bin));
    }
    r.daily_rmse = rmse_over_defined(r.real_daily_share, r.generated_daily_share, r.cells_used);
    r.cells_skipped = real.cells - r.cells_used;
    std::size_t weekly_used = 0;
    r.weekly_rmse = r.weekly_bin == 0 ? kNaN
                                      : rmse_over_defined(r.real_weekly_share,
                                                          r.generated_weekly_share, weekly_used);
    return r;
}

// ---- spatial --------------------------------------------------------------------------------

double ssim_2d(const std::vector<double>& a, const std::vector<double>& b, std::size_t rows,
               std::size_t cols, double data_range) {
    constexpr std::size_t kWindow = 11;
    constexpr double kSigma = 1.5;
    constexpr double kK1 = 0.01;
    constexpr double kK2 = 0.03;
    if (a.size() != rows * cols || b.size() != rows * cols) {
        fail("ssim_2d", "map sizes differ from rows * cols", "pass two [rows, cols] maps");
    }
    if (rows < kWindow || cols < kWindow) {
        fail("ssim_2d",
             "a " + std::to_string(rows) + "x" + std::to_string(cols) +
                 " map is smaller than the 11x11 window",
             "compute SSIM on whole-city mosaics, not on tiles");
    }
    if (!(data_range > 0.0)) {
        fail("ssim_2d", "data range " + std::to_string(data_range), "pass a positive data range");
    }
    const std::vector<double> w = gaussian_taps(kWindow, kSigma);
    const double c1 = (kK1 * data_range) * (kK1 * data_range);
    const double c2 = (kK2 * data_range) * (kK2 * data_range);
    const std::size_t out_rows = rows - kWindow + 1;
    const std::size_t out_cols = cols - kWindow + 1;

    // Separable filtering: first along columns (valid part only), then along rows.
    const auto filter = [&](const std::vector<double>& img) {
        std::vector<double> horiz(rows * out_cols, 0.0);
        for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t c = 0; c < out_cols; ++c) {
                double s = 0.0;
                for (std::size_t k = 0; k < kWindow; ++k) {
                    s += w[k] * img[r * cols + c + k];
                }
                horiz[r * out_cols + c] = s;
            }
        }
        std::vector<double> out(out_rows * out_cols, 0.0);
        for (std::size_t r = 0; r < out_rows; ++r) {
            for (std::size_t c = 0; c < out_cols; ++c) {
                double s = 0.0;
                for (std::size_t k = 0; k < kWindow; ++k) {
                    s += w[k] * horiz[(r + k) * out_cols + c];
                }
                out[r * out_cols + c] = s;
            }
        }
        return out;
    };
    std::vector<double> aa(a.size());
    std::vector<double> bb(a.size());
    std::vector<double> ab(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        aa[i] = a[i] * a[i];
        bb[i] = b[i] * b[i];
        ab[i] = a[i] * b[i];
    }
    const std::vector<double> ux = filter(a);
    const std::vector<double> uy = filter(b);
    const std::vector<double> uxx = filter(aa);
    const std::vector<double> uyy = filter(bb);
    const std::vector<double> uxy = filter(ab);
    double sum = 0.0;
    for (std::size_t i = 0; i < ux.size(); ++i) {
        const double vx = uxx[i] - ux[i] * ux[i];
        const double vy = uyy[i] - uy[i] * uy[i];
        const double vxy = uxy[i] - ux[i] * uy[i];
        sum += ((2.0 * ux[i] * uy[i] + c1) * (2.0 * vxy + c2)) /
               ((ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2));
    }
    return sum / static_cast<double>(ux.size());
}

SsimResult spatial_ssim(const Series& real, const Series& generated, const MapLayout& layout) {
    check_pair("spatial_ssim", real, generated);
    if (layout.cell_row.size() != real.cells || layout.cell_col.size() != real.cells) {
        fail("spatial_ssim", "the layout places a different number of cells than the series hold",
             "pass one (row, col) per cell");
    }
    for (std::size_t c = 0; c < real.cells; ++c) {
        if (layout.cell_row[c] >= layout.rows || layout.cell_col[c] >= layout.cols) {
            fail("spatial_ssim", "cell " + std::to_string(c) + " lies outside the map",
                 "pass cell indices inside [rows, cols]");
        }
    }
    const auto [lo, hi] = std::minmax_element(real.values.begin(), real.values.end());
    SsimResult r;
    r.data_range = *hi - *lo;
    if (!(r.data_range > 0.0)) {
        fail("spatial_ssim", "the real maps are constant (data range 0)",
             "SSIM is undefined for a constant city; leave it out");
    }
    std::vector<double> ymap(layout.rows * layout.cols);
    std::vector<double> xmap(layout.rows * layout.cols);
    for (std::size_t t = 0; t < real.steps; ++t) {
        std::fill(ymap.begin(), ymap.end(), 0.0);
        std::fill(xmap.begin(), xmap.end(), 0.0);
        for (std::size_t c = 0; c < real.cells; ++c) {
            const std::size_t p = layout.cell_row[c] * layout.cols + layout.cell_col[c];
            ymap[p] = real.at(c, t);
            xmap[p] = generated.at(c, t);
        }
        r.per_hour.push_back(ssim_2d(ymap, xmap, layout.rows, layout.cols, r.data_range));
    }
    r.ssim = mean_of(r.per_hour);
    r.pixels_averaged = (layout.rows - r.window + 1) * (layout.cols - r.window + 1);
    return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size() || a.size() < 2) {
        fail("spearman",
             "vectors of " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
                 " values",
             "pass two vectors of the same length, at least 2");
    }
    return pearson(average_ranks(a), average_ranks(b));
}

SpearmanResult spatial_spearman(const Series& real, const Series& generated) {
    check_pair("spatial_spearman", real, generated);
    std::vector<double> ty(real.cells, 0.0);
    std::vector<double> tx(real.cells, 0.0);
    for (std::size_t c = 0; c < real.cells; ++c) {
        for (std::size_t t = 0; t < real.steps; ++t) {
            ty[c] += real.at(c, t);
            tx[c] += generated.at(c, t);
        }
    }
    SpearmanResult r;
    r.rho = spearman(ty, tx);
    r.cells = real.cells;
    return r;
}

// ---- cross-scale ----------------------------------------------------------------------------

CrossScaleResult cross_scale_consistency(const Series& fine, std::size_t fine_rows,
                                         std::size_t fine_cols, const Series& coarse,
                                         std::size_t factor) {
    check_series("cross_scale_consistency", fine, "the fine maps");
    check_series("cross_scale_consistency", coarse, "the coarse maps");
    if (factor == 0 || fine_rows % factor != 0 || fine_cols % factor != 0 ||
        fine.cells != fine_rows * fine_cols) {
        fail("cross_scale_consistency",
             "a " + std::to_string(fine_rows) + "x" + std::to_string(fine_cols) + " grid of " +
                 std::to_string(fine.cells) + " cells cannot be pooled by " +
                 std::to_string(factor),
             "pass whole grids whose sides are multiples of the factor");
    }
    const std::size_t rows = fine_rows / factor;
    const std::size_t cols = fine_cols / factor;
    if (coarse.cells != rows * cols || coarse.steps != fine.steps) {
        fail("cross_scale_consistency",
             "the coarse maps are not [" + std::to_string(rows * cols) + ", " +
                 std::to_string(fine.steps) + "]",
             "pass the coarse grid of the same city and hours");
    }
    CrossScaleResult r;
    r.factor = factor;
    r.relative_error = geo::pooled_relative_error(fine.values, fine_rows, fine_cols, fine.steps,
                                                  coarse.values, factor);
    return r;
}

// ---- probabilistic --------------------------------------------------------------------------

CrpsResult crps(const Series& real, const std::vector<Series>& samples, std::size_t min_samples) {
    check_series("crps", real, "the real series");
    if (samples.size() < min_samples || samples.size() < 2) {
        fail("crps",
             std::to_string(samples.size()) + " samples, fewer than the " +
                 std::to_string(std::max<std::size_t>(min_samples, 2)) + " its quantiles need",
             "generate at least 10 samples per city or leave CRPS out");
    }
    for (const Series& s : samples) {
        check_pair("crps", real, s);
    }
    CrpsResult r;
    r.samples = samples.size();
    for (std::size_t i = 1; i <= 19; ++i) {
        r.quantile_levels.push_back(static_cast<double>(i) / 20.0);
    }
    std::vector<double> loss(r.quantile_levels.size(), 0.0);
    double abs_y = 0.0;
    std::vector<double> sorted(samples.size());
    const double last = static_cast<double>(samples.size() - 1);
    for (std::size_t i = 0; i < real.values.size(); ++i) {
        for (std::size_t s = 0; s < samples.size(); ++s) {
            sorted[s] = samples[s].values[i];
        }
        std::sort(sorted.begin(), sorted.end());
        const double y = real.values[i];
        abs_y += std::abs(y);
        for (std::size_t qi = 0; qi < r.quantile_levels.size(); ++qi) {
            const double q = r.quantile_levels[qi];
            // numpy.quantile, method "linear": position q·(S − 1), interpolate its neighbours.
            const double pos = q * last;
            const auto below = static_cast<std::size_t>(std::floor(pos));
            const std::size_t above = std::min(below + 1, samples.size() - 1);
            const double frac = pos - static_cast<double>(below);
            const double xq = sorted[below] + frac * (sorted[above] - sorted[below]);
            const double indicator = y <= xq ? 1.0 : 0.0;
            loss[qi] += std::abs((xq - y) * (indicator - q));
        }
    }
    double sum = 0.0;
    for (double l : loss) {
        const double per_q = abs_y == 0.0 ? kNaN : 2.0 * l / abs_y;
        r.per_quantile.push_back(per_q);
        sum += per_q;
    }
    r.crps = sum / static_cast<double>(loss.size());
    return r;
}

MmdResult mmd(const Series& real, const Series& generated) {
    check_series("mmd", real, "the real series");
    check_series("mmd", generated, "the generated series");
    if (real.steps != generated.steps) {
        fail("mmd", "the real and generated series differ in length",
             "compare series of the same hours");
    }
    const std::size_t n_y = real.cells;
    const std::size_t n_x = generated.cells;
    const std::size_t steps = real.steps;
    const std::size_t n = n_y + n_x;
    const auto point = [&](std::size_t i) {
        return i < n_y ? real.values.data() + i * steps
                       : generated.values.data() + (i - n_y) * steps;
    };
    MmdResult r;
    r.real_count = n_y;
    r.generated_count = n_x;
    double dist_sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j) {
            dist_sum += 2.0 * squared_distance(point(i), point(j), steps);
        }
    }
    const double pairs = static_cast<double>(n) * static_cast<double>(n - 1);
    r.base_bandwidth = pairs > 0.0 ? dist_sum / pairs : 0.0;
    for (int i = -2; i <= 2; ++i) {
        r.bandwidths.push_back(r.base_bandwidth * std::pow(2.0, i));
    }
    if (r.base_bandwidth == 0.0) {
        r.mmd2 = 0.0;
        return r;
    }
    const auto kernel = [&](std::size_t i, std::size_t j) {
        const double d = squared_distance(point(i), point(j), steps);
        double k = 0.0;
        for (double bw : r.bandwidths) {
            k += std::exp(-d / bw);
        }
        return k;
    };
    // Each unordered pair once; the diagonal contributes k(z, z) = 5 to its own block.
    double kyy = 0.0;
    double kxx = 0.0;
    double kyx = 0.0;
    const double self = static_cast<double>(r.bandwidths.size());
    for (std::size_t i = 0; i < n; ++i) {
        (i < n_y ? kyy : kxx) += self;
        for (std::size_t j = i + 1; j < n; ++j) {
            const double k = kernel(i, j);
            if (j < n_y) {
                kyy += 2.0 * k;
            } else if (i >= n_y) {
                kxx += 2.0 * k;
            } else {
                kyx += k;
            }
        }
    }
    const double dy = static_cast<double>(n_y);
    const double dx = static_cast<double>(n_x);
    r.mmd2 = kyy / (dy * dy) + kxx / (dx * dx) - 2.0 * kyx / (dy * dx);
    return r;
}

// ---- baselines ------------------------------------------------------------------------------

std::vector<double> mean_profile(const Series& train) {
    check_series("mean_profile", train, "the training series");
    std::vector<double> p = city_total(train);
    for (double& v : p) {
        v /= static_cast<double>(train.cells);
    }
    return p;
}

Series mean_profile_baseline(const Series& train, std::size_t cells) {
    const std::vector<double> p = mean_profile(train);
    Series out;
    out.cells = cells;
    out.steps = train.steps;
    out.values.reserve(cells * train.steps);
    for (std::size_t c = 0; c < cells; ++c) {
        out.values.insert(out.values.end(), p.begin(), p.end());
    }
    return out;
}

Series condition_proportional_baseline(const Series& train, const std::vector<double>& weights) {
    double total = 0.0;
    for (double w : weights) {
        if (!std::isfinite(w) || w < 0.0) {
            fail("condition_proportional_baseline", "a negative or non-finite weight",
                 "pass each cell's population (or POI count), >= 0");
        }
        total += w;
    }
    if (!(total > 0.0)) {
        fail("condition_proportional_baseline", "all weights are 0",
             "use the POI counts where there is no population");
    }
    Series out = mean_profile_baseline(train, weights.size());
    const double n = static_cast<double>(weights.size());
    for (std::size_t c = 0; c < out.cells; ++c) {
        const double factor = n * weights[c] / total;
        for (std::size_t t = 0; t < out.steps; ++t) {
            out.values[c * out.steps + t] *= factor;
        }
    }
    return out;
}

AnalogueResult nearest_analogue_baseline(const Series& train, const Series& train_conditions,
                                         const Series& target_conditions,
                                         const std::vector<std::size_t>& excluded) {
    check_series("nearest_analogue_baseline", train, "the training series");
    check_series("nearest_analogue_baseline", train_conditions, "the training conditions");
    check_series("nearest_analogue_baseline", target_conditions, "the target conditions");
    if (train_conditions.cells != train.cells) {
        fail("nearest_analogue_baseline",
             std::to_string(train.cells) + " training rows but " +
                 std::to_string(train_conditions.cells) + " condition vectors",
             "pass one condition vector per training row");
    }
    if (train_conditions.steps != target_conditions.steps) {
        fail("nearest_analogue_baseline", "training and target condition vectors differ in length",
             "build both with the same condition layout");
    }
    if (!excluded.empty() && excluded.size() != target_conditions.cells) {
        fail("nearest_analogue_baseline",
             std::to_string(excluded.size()) + " exclusions for " +
                 std::to_string(target_conditions.cells) + " targets",
             "pass one excluded row (or kNoRow) per target");
    }
    const std::size_t features = train_conditions.steps;
    std::vector<double> mean(features, 0.0);
    std::vector<double> inv_std(features, 0.0);
    const double rows = static_cast<double>(train_conditions.cells);
    for (std::size_t f = 0; f < features; ++f) {
        double s = 0.0;
        for (std::size_t i = 0; i < train_conditions.cells; ++i) {
            s += train_conditions.at(i, f);
        }
        mean[f] = s / rows;
        double v = 0.0;
        for (std::size_t i = 0; i < train_conditions.cells; ++i) {
            const double d = train_conditions.at(i, f) - mean[f];
            v += d * d;
        }
        const double sd = std::sqrt(v / rows);
        inv_std[f] = sd > 0.0 ? 1.0 / sd : 0.0;  // constant feature: weight 0
    }
    AnalogueResult r;
    r.generated.cells = target_conditions.cells;
    r.generated.steps = train.steps;
    r.generated.values.reserve(target_conditions.cells * train.steps);
    for (std::size_t j = 0; j < target_conditions.cells; ++j) {
        std::size_t best = kNoRow;
        double best_d = std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < train_conditions.cells; ++i) {
            if (!excluded.empty() && excluded[j] == i) {
                continue;
            }
            double d = 0.0;
            for (std::size_t f = 0; f < features; ++f) {
                const double e =
                    (target_conditions.at(j, f) - train_conditions.at(i, f)) * inv_std[f];
                d += e * e;
            }
            if (d < best_d || best == kNoRow) {
                best_d = d;
                best = i;
            }
        }
        if (best == kNoRow) {
            fail("nearest_analogue_baseline",
                 "target " + std::to_string(j) + " has no training row left after its exclusion",
                 "use a training set with more than the evaluated tile");
        }
        r.chosen.push_back(best);
        const auto first = train.values.begin() + static_cast<std::ptrdiff_t>(best * train.steps);
        r.generated.values.insert(r.generated.values.end(), first,
                                  first + static_cast<std::ptrdiff_t>(train.steps));
    }
    return r;
}

}  // namespace zoomdiff::eval
