#pragma once

// The reference's train/test split and few-shot draw (MODEL.md §4.4, §4.10): scikit-learn's
// shuffle split over numpy's legacy RandomState permutation, reproduced bit for bit.

#include <cstdint>
#include <vector>

namespace zoomdiff::data {

/// numpy.random.RandomState(seed).permutation(n): MT19937 with the standard 32-bit seeding,
/// Fisher–Yates from the end with masked rejection sampling.
std::vector<std::int64_t> numpy_permutation(std::int64_t n, std::uint32_t seed);

struct Split {
    std::vector<std::int64_t> train;  ///< in permutation order (not sorted)
    std::vector<std::int64_t> test;
};

/// train_test_split(arange(n), test_size=test_fraction, random_state=seed):
/// n_test = ceil(test_fraction * n), test = perm[:n_test], train = perm[n_test:].
Split split_by_test_fraction(std::int64_t n, double test_fraction, std::uint32_t seed);

/// train_test_split(arange(n), train_size=train_fraction, random_state=seed):
/// n_train = floor(train_fraction * n), n_test = n - n_train, test = perm[:n_test],
/// train = perm[n_test:].
Split split_by_train_fraction(std::int64_t n, double train_fraction, std::uint32_t seed);

}  // namespace zoomdiff::data
