#include "zoomdiff/eval/synthetic_scores.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::eval {
namespace {

constexpr std::size_t kDay = 24;

std::vector<std::size_t> shuffled(std::size_t n, std::mt19937_64& rng) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::shuffle(order.begin(), order.end(), rng);
    return order;
}

/// Rows `rows` of `s` as an Eigen matrix (one series per row).
Eigen::MatrixXd rows_of(const Series& s, const std::vector<std::size_t>& rows) {
    Eigen::MatrixXd m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(s.steps));
    for (std::size_t i = 0; i < rows.size(); ++i)
        for (std::size_t t = 0; t < s.steps; ++t)
            m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(t)) = s.at(rows[i], t);
    return m;
}

/// Every (previous day, next day) window of every series of `m`, standardised by (mean, sd).
std::pair<Eigen::MatrixXd, Eigen::MatrixXd> day_windows(const Eigen::MatrixXd& m, double mean,
                                                        double sd) {
    const Eigen::Index days = m.cols() / static_cast<Eigen::Index>(kDay);
    const Eigen::Index per_series = days - 1;
    const Eigen::Index n = m.rows() * per_series;
    const auto day = static_cast<Eigen::Index>(kDay);
    Eigen::MatrixXd inputs(n, day + 1);
    Eigen::MatrixXd targets(n, day);
    Eigen::Index row = 0;
    for (Eigen::Index c = 0; c < m.rows(); ++c) {
        for (Eigen::Index d = 0; d < per_series; ++d, ++row) {
            inputs.row(row).head(day) = (m.row(c).segment(d * day, day).array() - mean) / sd;
            inputs(row, day) = 1.0;  // bias
            targets.row(row) = (m.row(c).segment((d + 1) * day, day).array() - mean) / sd;
        }
    }
    return {std::move(inputs), std::move(targets)};
}

/// Ridge weights W (inputs × outputs) of (AᵀA + λI) W = AᵀB, the bias not penalised.
Eigen::MatrixXd ridge_fit(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, double lambda) {
    Eigen::MatrixXd gram = a.transpose() * a;
    for (Eigen::Index i = 0; i + 1 < gram.rows(); ++i)
        gram(i, i) += lambda;
    return gram.ldlt().solve(a.transpose() * b);
}

/// NMAE of the forecaster trained on `train` (windows standardised by its own mean and sd)
/// on the windows of `test`, in the original units.
double forecast_nmae(const Eigen::MatrixXd& train, const Eigen::MatrixXd& test, double lambda) {
    const double mean = train.mean();
    const double var = (train.array() - mean).square().mean();
    const double sd = var > 0.0 ? std::sqrt(var) : 1.0;
    const auto [a, b] = day_windows(train, mean, sd);
    const Eigen::MatrixXd w = ridge_fit(a, b, lambda);
    const auto [ta, tb] = day_windows(test, mean, sd);
    const Eigen::MatrixXd predicted = ((ta * w).array() * sd + mean).matrix();
    const Eigen::MatrixXd actual = (tb.array() * sd + mean).matrix();
    const double denominator = actual.array().abs().sum();
    return denominator > 0.0 ? (predicted - actual).array().abs().sum() / denominator
                             : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

C2stResult classifier_two_sample(const Series& real, const Series& generated, std::uint64_t seed) {
    if (real.steps != generated.steps || real.cells < 4 || generated.cells < 4) {
        throw Error("classifier two-sample test",
                    fmt::format("needs two sets of at least 4 series of equal length ({} x {}, "
                                "{} x {})",
                                real.cells, real.steps, generated.cells, generated.steps),
                    "Evaluate more cells");
    }
    std::mt19937_64 rng(seed);
    const std::size_t n = std::min(real.cells, generated.cells);
    std::vector<std::size_t> real_rows = shuffled(real.cells, rng);
    std::vector<std::size_t> gen_rows = shuffled(generated.cells, rng);
    real_rows.resize(n);
    gen_rows.resize(n);
    const std::size_t half = n / 2;
    const std::vector<std::size_t> real_train(real_rows.begin(), real_rows.begin() + half);
    const std::vector<std::size_t> real_test(real_rows.begin() + half, real_rows.end());
    const std::vector<std::size_t> gen_train(gen_rows.begin(), gen_rows.begin() + half);
    const std::vector<std::size_t> gen_test(gen_rows.begin() + half, gen_rows.end());

    Eigen::MatrixXd train(static_cast<Eigen::Index>(2 * half),
                          static_cast<Eigen::Index>(real.steps));
    train << rows_of(real, real_train), rows_of(generated, gen_train);
    Eigen::MatrixXd test(static_cast<Eigen::Index>(real_test.size() + gen_test.size()),
                         static_cast<Eigen::Index>(real.steps));
    test << rows_of(real, real_test), rows_of(generated, gen_test);
    // Standardise every hour with the training half's pooled statistics.
    const Eigen::RowVectorXd mean = train.colwise().mean();
    Eigen::RowVectorXd sd =
        ((train.rowwise() - mean).array().square().colwise().sum() / static_cast<double>(2 * half))
            .sqrt();
    sd = sd.unaryExpr([](double v) { return v > 0.0 ? v : 1.0; });
    train = (train.rowwise() - mean).array().rowwise() / sd.array();
    test = (test.rowwise() - mean).array().rowwise() / sd.array();

    std::size_t k = std::min<std::size_t>(5, std::max<std::size_t>(1, half));
    if (k % 2 == 0)
        --k;  // odd: no tied votes
    std::size_t correct = 0;
    std::vector<std::pair<double, std::size_t>> distance(2 * half);
    for (Eigen::Index i = 0; i < test.rows(); ++i) {
        for (Eigen::Index j = 0; j < train.rows(); ++j)
            distance[static_cast<std::size_t>(j)] = {(train.row(j) - test.row(i)).squaredNorm(),
                                                     static_cast<std::size_t>(j)};
        std::partial_sort(distance.begin(), distance.begin() + static_cast<std::ptrdiff_t>(k),
                          distance.end());
        std::size_t generated_votes = 0;
        for (std::size_t v = 0; v < k; ++v)
            generated_votes += distance[v].second >= half ? 1 : 0;
        const bool said_generated = 2 * generated_votes > k;
        const bool is_generated = static_cast<std::size_t>(i) >= real_test.size();
        correct += said_generated == is_generated ? 1 : 0;
    }
    C2stResult r;
    r.test_count = static_cast<std::size_t>(test.rows());
    r.accuracy = static_cast<double>(correct) / static_cast<double>(r.test_count);
    r.per_class = n;
    r.neighbours = k;
    return r;
}

PredictiveResult train_synthetic_test_real(const Series& real, const Series& generated,
                                           std::uint64_t seed, double ridge) {
    if (real.steps != generated.steps || real.steps < 2 * kDay || real.cells < 2 ||
        generated.cells < 1) {
        throw Error("train-on-synthetic test-on-real score",
                    fmt::format("needs at least 2 real series and 1 generated series of the same "
                                "length, at least 48 hours ({} x {}, {} x {})",
                                real.cells, real.steps, generated.cells, generated.steps),
                    "Evaluate more cells or longer series");
    }
    std::mt19937_64 rng(seed);
    const std::vector<std::size_t> order = shuffled(real.cells, rng);
    const std::size_t half = real.cells / 2;
    const std::vector<std::size_t> train_rows(order.begin(), order.begin() + half);
    const std::vector<std::size_t> test_rows(order.begin() + half, order.end());
    std::vector<std::size_t> all_generated(generated.cells);
    std::iota(all_generated.begin(), all_generated.end(), std::size_t{0});
    const Eigen::MatrixXd test = rows_of(real, test_rows);
    PredictiveResult r;
    r.tstr_nmae = forecast_nmae(rows_of(generated, all_generated), test, ridge);
    r.trtr_nmae = forecast_nmae(rows_of(real, train_rows), test, ridge);
    r.window_hours = kDay;
    r.test_cells = test_rows.size();
    r.ridge = ridge;
    return r;
}

}  // namespace zoomdiff::eval
