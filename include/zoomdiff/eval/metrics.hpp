#pragma once

#include <cstddef>
#include <vector>

#include "zoomdiff/core/week.hpp"

namespace zoomdiff::eval {

// The metrics of EVAL.md (the metric contract of zoomdiff_eval) on plain in-memory data: no torch,
// no HDF5. Real maps are Y, generated maps X, both [cells, T] in physical units, restricted to the
// cells inside the city mask. Every function returns the parameters it used next to the value, so
// that `zoomdiff_eval` can write them beside it in metrics.json.
//
// Errors: shapes that do not match, empty inputs and non-finite values throw zoomdiff::Error
// (subject "eval::<metric>"). A value that is mathematically undefined for valid input (a mean of
// zero in a normaliser, a constant series in a correlation) is returned as NaN and documented at
// the function.

/// Hours in the weekly series the metrics are written for.
using core::kHoursPerWeek;

/// A row-major [cells, steps] block of values: row c is cell c's time series.
struct Series {
    std::size_t cells = 0;
    std::size_t steps = 0;       ///< T, usually 168 hourly steps
    std::vector<double> values;  ///< [cells, steps], size cells * steps

    [[nodiscard]] double at(std::size_t cell, std::size_t step) const {
        return values[cell * steps + step];
    }
};

/// A Series from float data (e.g. read from HDF5 or a tensor); throws if the size is not
/// cells * steps.
[[nodiscard]] Series make_series(std::size_t cells, std::size_t steps,
                                 const std::vector<float>& values);

/// A Series from double data; throws if the size is not cells * steps.
[[nodiscard]] Series make_series(std::size_t cells, std::size_t steps, std::vector<double> values);

/// The element-wise mean of S samples, each [cells, T]; throws if the list is empty or the shapes
/// differ.
[[nodiscard]] Series sample_mean(const std::vector<Series>& samples);

// ---- distribution ---------------------------------------------------------------------------

/// Which values a histogram is taken of.
enum class HistogramScale {
    kLinear,  ///< the values themselves
    kLog1p,   ///< log1p(max(v, 0)): negatives all fall in the first bin either way
};

struct JsdResult {
    double jsd = 0.0;  ///< the divergence (not its square root), natural log, in [0, ln 2]
    std::size_t bins = 0;
    double lower = 0.0;    ///< shared lower edge (after the scale transform)
    double upper = 0.0;    ///< shared upper edge (after the scale transform)
    double epsilon = 0.0;  ///< added to every bin probability before renormalising
    HistogramScale scale = HistogramScale::kLinear;
    std::size_t real_count = 0;       ///< values histogrammed from Y
    std::size_t generated_count = 0;  ///< values histogrammed from X
};

/// Jensen-Shannon divergence between two 1-D samples on one shared binning [lower, upper] with
/// `bins` equal-width bins. Values above `upper` go to the last bin, values below `lower` to the
/// first; a value equal to an inner edge goes to the bin on its right, `upper` itself to the last
/// bin (numpy.histogram's rule). P and Q are counts / N, then + epsilon, then renormalised;
/// JSD = ½KL(P‖M) + ½KL(Q‖M), M = ½(P+Q), natural log. If upper <= lower, upper = lower + 1.
/// Used by value_jsd and increment_jsd; exposed for tests and for other binnings.
[[nodiscard]] JsdResult histogram_jsd(const std::vector<double>& real,
                                      const std::vector<double>& generated, std::size_t bins,
                                      double lower, double upper, double epsilon = 1e-12);

/// EVAL.md "value JSD": histograms of all values of Y and of X on shared edges, `bins`
/// equal-width bins on [0, max(Y)] (on [0, log1p(max(Y))] for kLog1p), epsilon 1e-12.
/// max(Y) <= 0 gives the range [0, 1] (see histogram_jsd).
[[nodiscard]] JsdResult value_jsd(const Series& real, const Series& generated,
                                  std::size_t bins = 100,
                                  HistogramScale scale = HistogramScale::kLinear);

/// EVAL.md "increment JSD": the same divergence on the increments X[c, t+1] − X[c, t] (within
/// each cell, never across cells), on the symmetric shared range [−m, m], m = max |ΔY| (m = 0
/// gives [−0.5, 0.5]). kLog1p is not offered: increments are signed. Needs steps >= 2.
[[nodiscard]] JsdResult increment_jsd(const Series& real, const Series& generated,
                                      std::size_t bins = 100);

// ---- point errors ---------------------------------------------------------------------------

struct PointErrors {
    double mae = 0.0;    ///< mean |X − Y| over all cells and steps, physical units
    double rmse = 0.0;   ///< sqrt(mean (X − Y)²), physical units
    double nmae = 0.0;   ///< MAE / mean(Y); NaN if mean(Y) == 0
    double nrmse = 0.0;  ///< RMSE / (max(Y) − min(Y)); NaN if Y is constant
    double real_mean = 0.0;
    double real_range = 0.0;  ///< max(Y) − min(Y)
};

/// EVAL.md "MAE, RMSE" of one generated map X against Y. For S samples the caller says which it
/// reports: point_errors(Y, sample_mean(samples)) ("on the sample mean") or
/// point_errors_per_sample ("per sample").
[[nodiscard]] PointErrors point_errors(const Series& real, const Series& generated);

struct PerSampleErrors {
    std::vector<PointErrors> per_sample;  ///< one entry per sample, in order
    PointErrors mean;  ///< the field-wise mean of per_sample (normalisers are Y's, so shared)
};

/// point_errors of every sample against Y, and their mean.
[[nodiscard]] PerSampleErrors point_errors_per_sample(const Series& real,
                                                      const std::vector<Series>& samples);

// ---- temporal -------------------------------------------------------------------------------

struct ProfileErrorResult {
    /// Σ_h |p_Y(h)/mean(p_Y) − p_X(h)/mean(p_X)| over the `period` hours: a SUM, not a mean, so
    /// it lies in [0, 2·period]; divide by `period` for the mean absolute difference.
    double l1 = 0.0;
    std::size_t period = 0;                 ///< hours in the profile (168)
    std::size_t weeks_folded = 0;           ///< steps / period: steps t and t + period share hour h
    std::vector<double> real_profile;       ///< p_Y / mean(p_Y), [period]
    std::vector<double> generated_profile;  ///< p_X / mean(p_X), [period]
};

/// EVAL.md "weekly-profile error". p(h) is the city-mean profile: the mean over cells (and over
/// weeks when steps is a multiple of `period`) at hour h = t mod period. Throws if steps is not a
/// multiple of period. NaN if either profile has mean 0.
[[nodiscard]] ProfileErrorResult weekly_profile_error(const Series& real, const Series& generated,
                                                      std::size_t period = kHoursPerWeek);

/// The autocorrelation estimator used by acf_distance: mean-removed, biased (the lag-k sum over
/// the T − k available pairs divided by T, like the lag-0 one), normalised by lag 0:
///   ACF(k) = Σ_{t=0}^{T−1−k} (x_t − x̄)(x_{t+k} − x̄) / Σ_{t=0}^{T−1} (x_t − x̄)².
/// Returns lags 0..max_lag (max_lag < T); empty if the series is constant (ACF undefined).
[[nodiscard]] std::vector<double> autocorrelation(const double* series, std::size_t steps,
                                                  std::size_t max_lag);

struct AcfAtLag {
    std::size_t lag = 0;
    /// Mean over the cells used of |ACF_Y(lag) − ACF_X(lag)|; NaN if the lag is not estimable
    /// (lag >= steps) or no cell was used.
    double per_cell_abs_diff = 0.0;
    double city_real = 0.0;       ///< ACF of Y's city-total series at this lag (NaN as above)
    double city_generated = 0.0;  ///< ACF of X's city-total series at this lag
};

struct AcfResult {
    /// Mean over cells of (mean over lags 1..max_lag_used of |ACF_Y(k) − ACF_X(k)|). NaN if no
    /// cell could be used.
    double per_cell = 0.0;
    /// The same on the city-total series Σ_c Y[c, t] and Σ_c X[c, t]; NaN if either is constant.
    double city_total = 0.0;
    std::size_t max_lag_requested = 0;
    /// min(max_lag_requested, steps − 1): a lag of steps or more has no pair of values, so with
    /// T = 168 the lags are 1..167.
    std::size_t max_lag_used = 0;
    std::size_t cells_used = 0;
    /// Cells where Y or X is constant (ACF undefined): left out of per_cell, not counted as 0.
    std::size_t cells_skipped = 0;
    std::vector<AcfAtLag> at_lags;  ///< the report lags (24 and 168 by default)
};

/// EVAL.md "ACF distance" with the estimator of `autocorrelation`. Needs steps >= 2.
[[nodiscard]] AcfResult acf_distance(const Series& real, const Series& generated,
                                     std::size_t max_lag = kHoursPerWeek,
                                     const std::vector<std::size_t>& report_lags = {24,
                                                                                    kHoursPerWeek});

struct PeriodicityResult {
    /// RMSE over the cells used between X's and Y's daily shares; NaN if no cell was used.
    double daily_rmse = 0.0;
    /// The same for the weekly bin; NaN if steps is not a multiple of 168 (no weekly bin).
    double weekly_rmse = 0.0;
    std::size_t daily_bin = 0;   ///< steps / 24
    std::size_t weekly_bin = 0;  ///< steps / 168 (0 if steps is not a multiple of 168)
    bool dc_excluded = true;     ///< the total spectrum is Σ_{j=1}^{steps/2} |F_j|, no DC term
    std::size_t cells_used = 0;
    /// Cells where Y or X is constant (zero non-DC spectrum): share undefined, left out.
    std::size_t cells_skipped = 0;
    std::vector<double> real_daily_share;  ///< per cell, NaN for a constant series, [cells]
    std::vector<double> generated_daily_share;
    std::vector<double> real_weekly_share;
    std::vector<double> generated_weekly_share;
};

/// Share of spectral magnitude at bin `bin` of one series: |F_bin| / Σ_{j=1}^{⌊T/2⌋} |F_j|, with
/// F the unnormalised DFT (numpy.fft.rfft). The DC term is left out of the total because the
/// traffic mean would otherwise dominate it and the share would mostly measure mean/amplitude.
/// NaN if the non-DC spectrum is zero (constant series).
[[nodiscard]] double spectral_share(const double* series, std::size_t steps, std::size_t bin);

/// EVAL.md "periodicity share": per cell, the daily (bin T/24) and weekly (bin T/168) shares of
/// spectral_share, for Y and X; RMSE between X and Y over the cells. Throws if steps is not a
/// multiple of 24.
[[nodiscard]] PeriodicityResult periodicity_share(const Series& real, const Series& generated);

// ---- spatial --------------------------------------------------------------------------------

/// Where each of a Series' cells lies on the whole-city 500 m grid.
struct MapLayout {
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<std::size_t> cell_row;  ///< [cells]
    std::vector<std::size_t> cell_col;  ///< [cells]
};

struct SsimResult {
    double ssim = 0.0;             ///< mean over hours of the per-hour SSIM
    std::vector<double> per_hour;  ///< [steps]
    double data_range = 0.0;       ///< max(Y) − min(Y) over the masked cells and all hours
    std::size_t window = 11;
    double sigma = 1.5;
    double k1 = 0.01;
    double k2 = 0.03;
    /// Pixels whose whole window lies inside the map ((rows − 10)·(cols − 10)); SSIM is the mean
    /// over these, including the zero pixels outside the mask.
    std::size_t pixels_averaged = 0;
};

/// SSIM of two maps [rows, cols] (row-major), as skimage.metrics.structural_similarity with
/// gaussian_weights=True, sigma=1.5, use_sample_covariance=False, K1=0.01, K2=0.03 and the given
/// data_range: the local statistics use the normalised 11×11 Gaussian (radius 5 = int(3.5σ+0.5)),
/// and the mean is taken over the pixels whose whole window lies inside the map. skimage filters
/// with reflect padding and then crops 5 pixels at each border, so the padding never reaches the
/// averaged pixels and this equals skimage's value. Throws if rows or cols < 11 or
/// data_range <= 0.
[[nodiscard]] double ssim_2d(const std::vector<double>& a, const std::vector<double>& b,
                             std::size_t rows, std::size_t cols, double data_range);

/// EVAL.md "spatial SSIM": each hour's Y and X scattered onto [rows, cols] maps (pixels without a
/// cell, i.e. outside the mask, are 0), ssim_2d with data_range = max(Y) − min(Y) over all masked
/// cells and hours, mean over hours. Throws if the layout does not match or the data range is 0.
[[nodiscard]] SsimResult spatial_ssim(const Series& real, const Series& generated,
                                      const MapLayout& layout);

/// Spearman rank correlation of two equal-length vectors: the Pearson correlation of their
/// ranks, tied values sharing their average rank (scipy.stats.spearmanr). NaN if either is
/// constant; throws if fewer than 2 values.
[[nodiscard]] double spearman(const std::vector<double>& a, const std::vector<double>& b);

struct SpearmanResult {
    double rho = 0.0;
    std::size_t cells = 0;
};

/// EVAL.md "spatial rank correlation": Spearman of the per-cell totals Σ_t Y[c, t] and
/// Σ_t X[c, t] (the weekly totals when steps = 168).
[[nodiscard]] SpearmanResult spatial_spearman(const Series& real, const Series& generated);

// ---- cross-scale ----------------------------------------------------------------------------

struct CrossScaleResult {
    /// ‖pool(fine) − coarse‖₂ / ‖coarse‖₂ over all pixels and steps; NaN if coarse is all zero.
    double relative_error = 0.0;
    std::size_t factor = 0;  ///< fine pixels per coarse pixel along each axis (2 or 4)
};

/// EVAL.md "cross-scale consistency" on whole-grid maps: `fine` is [fine_rows · fine_cols, T]
/// (cells in row-major grid order, pixels outside the mask 0), `coarse` is
/// [(fine_rows/factor) · (fine_cols/factor), T]; pool = the factor × factor block mean, zeros
/// outside the mask included (the division operators' block mean; the same as zoomdiff_infer's
/// cross_scale metrics). Throws if the sizes do not divide or match.
[[nodiscard]] CrossScaleResult cross_scale_consistency(const Series& fine, std::size_t fine_rows,
                                                       std::size_t fine_cols, const Series& coarse,
                                                       std::size_t factor);

// ---- probabilistic --------------------------------------------------------------------------

struct CrpsResult {
    double crps = 0.0;                    ///< NaN if Σ|y| == 0
    std::vector<double> quantile_levels;  ///< 0.05, 0.10, ..., 0.95
    std::vector<double> per_quantile;     ///< 2·Σ pinball / Σ|y| per level, [19]
    std::size_t samples = 0;
};

/// EVAL.md "CRPS" (the normalised quantile loss of the forecasting literature):
///   (1/19)·Σ_q 2·Σ_{c,t} |(x̂_q − y)(1{y ≤ x̂_q} − q)| / Σ_{c,t} |y|,
/// q = 0.05, 0.10, ..., 0.95, x̂_q[c, t] the q-quantile of the S samples at (c, t) with numpy's
/// default "linear" rule (position q·(S − 1) in the sorted samples). Throws zoomdiff::Error if
/// S < min_samples (10 by EVAL.md: fewer samples give too coarse quantiles).
[[nodiscard]] CrpsResult crps(const Series& real, const std::vector<Series>& samples,
                              std::size_t min_samples = 10);

struct MmdResult {
    double mmd2 = 0.0;  ///< the squared MMD, biased V-statistic (can be slightly < 0 only by
                        ///< rounding, never by estimator bias)
    double base_bandwidth = 0.0;  ///< mean squared distance over distinct pairs of the pooled set
    std::vector<double> bandwidths;   ///< base · 2^{−2..2}
    std::size_t real_count = 0;       ///< per-cell series in Y
    std::size_t generated_count = 0;  ///< per-cell series in X
};

/// EVAL.md "MMD" between the sets {Y[c, :]} and {X[c, :]} of per-cell series (vectors of length
/// T). Kernel k(a, b) = Σ_{i=0}^{4} exp(−‖a − b‖² / (β·2^{i−2})), β = the mean of ‖z_i − z_j‖²
/// over the ordered pairs i != j of the pooled set (the "guassian_kernel" of the DAN/JAN code,
/// kernel_mul = 2, kernel_num = 5; a sum, so k(a, a) = 5). MMD² = mean K(Y,Y) + mean K(X,X) −
/// 2·mean K(Y,X), diagonals included (V-statistic). β = 0 (all series equal) gives 0.
/// Cost O((cells_Y + cells_X)² · T), no extra memory beyond the inputs.
[[nodiscard]] MmdResult mmd(const Series& real, const Series& generated);

// ---- baselines ------------------------------------------------------------------------------

/// The training set's city-mean profile: p[t] = mean over train cells of train[c, t]. Its mean
/// over t is the training mean, so it is already "scaled to the training mean".
[[nodiscard]] std::vector<double> mean_profile(const Series& train);

/// EVAL.md baseline "mean profile": every one of `cells` target cells gets mean_profile(train).
[[nodiscard]] Series mean_profile_baseline(const Series& train, std::size_t cells);

/// EVAL.md baseline "condition-proportional": target cell i gets
/// mean_profile(train) · n · w_i / Σ_j w_j, n = weights.size(), so a cell of average weight gets
/// the mean profile and the city total equals the mean-profile baseline's. `weights` are the
/// cells' populations (or total POI counts where there is no population). Throws if a weight is
/// negative or non-finite or all are 0.
[[nodiscard]] Series condition_proportional_baseline(const Series& train,
                                                     const std::vector<double>& weights);

struct AnalogueResult {
    Series generated;                 ///< [targets, train.steps]: the chosen training rows
    std::vector<std::size_t> chosen;  ///< [targets]: the training row used for each target
};

/// EVAL.md baseline "nearest analogue". Each row of `train` is one training tile's series (its
/// cells × T flattened, or one cell), each row of `train_conditions` ([train.cells, features])
/// its condition vector; every target condition vector ([targets, features], as a Series with
/// steps = features) gets the training row at the smallest standardised Euclidean distance:
/// features are centred and divided by their population standard deviation over the training
/// rows (a feature constant over training is left out). Ties go to the lowest index.
/// `excluded` (empty, or one entry per target) names a training row target j may not use
/// (kNoRow: none) — leave-one-out when the evaluated city is part of the training set, so a tile
/// is never its own analogue. Throws if a target has no usable row.
inline constexpr std::size_t kNoRow = static_cast<std::size_t>(-1);
[[nodiscard]] AnalogueResult nearest_analogue_baseline(
    const Series& train, const Series& train_conditions, const Series& target_conditions,
    const std::vector<std::size_t>& excluded = {});

}  // namespace zoomdiff::eval
