#include "zoomdiff/data/split.hpp"

#include <cmath>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <utility>

namespace zoomdiff::data {
namespace {

/// numpy's random_interval (legacy RandomState): a uniform integer in [0, max] from 32-bit words
/// masked to the smallest all-ones mask covering `max`, rejecting values above it.
std::uint32_t random_interval(std::mt19937& words, std::uint32_t max) {
    if (max == 0) {
        return 0;
    }
    std::uint32_t mask = max;
    mask |= mask >> 1U;
    mask |= mask >> 2U;
    mask |= mask >> 4U;
    mask |= mask >> 8U;
    mask |= mask >> 16U;
    std::uint32_t value = 0;
    do {
        value = static_cast<std::uint32_t>(words()) & mask;
    } while (value > max);
    return value;
}

Split split_at(std::vector<std::int64_t> perm, std::int64_t n_test) {
    Split split;
    const auto cut = perm.begin() + n_test;
    split.test.assign(perm.begin(), cut);
    split.train.assign(cut, perm.end());
    return split;
}

void check_count(std::int64_t n) {
    // numpy's legacy shuffle draws 32-bit words only below 2^32 elements.
    if (n < 0 || n > std::int64_t{0xFFFFFFFF}) {
        throw std::invalid_argument("split: the number of tiles must be in [0, 2^32)");
    }
}

}  // namespace

std::vector<std::int64_t> numpy_permutation(std::int64_t n, std::uint32_t seed) {
    check_count(n);
    // std::mt19937's seeding is MT19937's init_genrand, which numpy's legacy seeding uses for an
    // integer seed; its outputs are genrand_int32, numpy's next_uint32.
    std::mt19937 words(seed);
    std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < perm.size(); ++i) {
        perm[i] = static_cast<std::int64_t>(i);
    }
    for (std::size_t i = perm.size(); i-- > 1;) {
        const std::uint32_t j = random_interval(words, static_cast<std::uint32_t>(i));
        std::swap(perm[i], perm[j]);
    }
    return perm;
}

Split split_by_test_fraction(std::int64_t n, double test_fraction, std::uint32_t seed) {
    check_count(n);
    if (!(test_fraction > 0.0 && test_fraction < 1.0)) {
        throw std::invalid_argument("split: test_fraction must be in (0, 1)");
    }
    // scikit-learn's _validate_shuffle_split: n_test = ceil(test_size * n_samples) in double.
    const auto n_test =
        static_cast<std::int64_t>(std::ceil(test_fraction * static_cast<double>(n)));
    return split_at(numpy_permutation(n, seed), n_test);
}

Split split_by_train_fraction(std::int64_t n, double train_fraction, std::uint32_t seed) {
    check_count(n);
    if (!(train_fraction > 0.0 && train_fraction < 1.0)) {
        throw std::invalid_argument("split: train_fraction must be in (0, 1)");
    }
    // n_train = floor(train_size * n_samples); the test part takes the rest and comes first.
    const auto n_train =
        static_cast<std::int64_t>(std::floor(train_fraction * static_cast<double>(n)));
    return split_at(numpy_permutation(n, seed), n - n_train);
}

}  // namespace zoomdiff::data
