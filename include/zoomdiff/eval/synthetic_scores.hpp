#pragma once

#include <cstddef>
#include <cstdint>

#include "zoomdiff/eval/metrics.hpp"

namespace zoomdiff::eval {

// The scores users of synthetic-data toolkits expect (SDMetrics, TSGM, the TimeGAN /
// Diffusion-TS "discriminative" and "predictive" scores), on per-cell series. Torch-free.

struct C2stResult {
    double accuracy = 0.0;       ///< on the held-out half: 0.5 = indistinguishable, 1 = apart
    std::size_t per_class = 0;   ///< series per class used (the smaller set, all of it)
    std::size_t test_count = 0;  ///< held-out series classified (both classes)
    std::size_t neighbours = 0;  ///< k of the k-nearest-neighbour classifier
};

/// Classifier two-sample test: can a k-nearest-neighbour classifier tell real series {Y[c, :]}
/// from generated ones {X[c, :]}? Both sets are cut to the same size n = min(cells) (a seeded
/// draw), each class is split in halves by a seeded shuffle, every feature (hour) is standardised
/// with the training half's pooled mean and standard deviation, and each held-out series gets the
/// majority label of its k = min(5, n/2 odd) nearest training series (Euclidean; ties to "real").
/// Accuracy over the held-out halves. Throws if either set has fewer than 4 series or the steps
/// differ.
[[nodiscard]] C2stResult classifier_two_sample(const Series& real, const Series& generated,
                                               std::uint64_t seed);

struct PredictiveResult {
    double tstr_nmae = 0.0;  ///< trained on the generated series, scored on the real test half
    double trtr_nmae = 0.0;  ///< trained on the real training half, scored on the same half
    std::size_t window_hours = 0;  ///< input and output length: one day
    std::size_t test_cells = 0;
    double ridge = 0.0;  ///< λ of (AᵀA + λI)
};

/// Train-on-synthetic, test-on-real: a ridge forecaster of the next day (24 h) from the previous
/// day (24 h + a bias; every day-to-day window of each series, values standardised by the
/// training set's mean and standard deviation) trained on all generated series, and the same
/// trained on a seeded half of the real series; both scored on the other real half as NMAE =
/// Σ|ŷ − y| / Σ|y|. TSTR close to TRTR: the generated series teach what the real ones teach.
/// Throws if steps < 48, or the real set has fewer than 2 series.
[[nodiscard]] PredictiveResult train_synthetic_test_real(const Series& real,
                                                         const Series& generated,
                                                         std::uint64_t seed, double ridge = 1.0);

}  // namespace zoomdiff::eval
