#include "zoomdiff/data/split.hpp"

#include <algorithm>
#include <numeric>

#include <gtest/gtest.h>

namespace zoomdiff::data {
namespace {

using Ids = std::vector<std::int64_t>;

Ids head(const Ids& v, std::size_t n) {
    return Ids(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
}

// Expected values in this file were printed by numpy 1.24.2 (the golden environment's version):
//   /usr/bin/python3 -c "import numpy as np; print(np.random.RandomState(S).permutation(N)[:6])"
// and scikit-learn's train_test_split was applied by hand (MODEL.md §4.4): n_test = ceil(0.2 N),
// test = perm[:n_test], train = perm[n_test:].

TEST(SplitTest, PermutationEqualsNumpyLegacyRandomState) {
    EXPECT_EQ(head(numpy_permutation(1515, 24), 8),
              (Ids{736, 143, 939, 292, 1474, 953, 1140, 1404}));
    EXPECT_EQ(head(numpy_permutation(10, 24), 6), (Ids{9, 4, 8, 7, 5, 6}));
    EXPECT_EQ(head(numpy_permutation(13, 5), 6), (Ids{5, 1, 7, 2, 9, 12}));
    EXPECT_EQ(head(numpy_permutation(300, 0), 6), (Ids{208, 188, 12, 221, 239, 136}));
    EXPECT_EQ(numpy_permutation(7, 24), (Ids{4, 6, 1, 5, 0, 3, 2}));
    EXPECT_EQ(numpy_permutation(2, 24), (Ids{1, 0}));
    EXPECT_EQ(numpy_permutation(1, 24), (Ids{0}));
    EXPECT_TRUE(numpy_permutation(0, 24).empty());
}

TEST(SplitTest, LargePermutationWithTheLargestSeed) {
    // np.random.RandomState(4294967295).permutation(100000)[:6]
    const Ids perm = numpy_permutation(100000, 4294967295U);
    EXPECT_EQ(head(perm, 6), (Ids{85117, 19600, 4648, 56853, 35772, 22343}));
    Ids sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    Ids expected(100000);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(sorted, expected);
}

TEST(SplitTest, ReferenceSplitOf1515Tiles) {
    // MODEL.md §4.4's example: n_test 303, test starts 736, 143, 939; train starts 215, 99, 968.
    const Split s = split_by_test_fraction(1515, 0.2, 24);
    ASSERT_EQ(s.test.size(), 303U);
    ASSERT_EQ(s.train.size(), 1212U);
    EXPECT_EQ(head(s.test, 3), (Ids{736, 143, 939}));
    EXPECT_EQ(head(s.train, 8), (Ids{215, 99, 968, 1186, 1081, 549, 295, 414}));
    EXPECT_EQ(s.train.back(), 418);  // perm[-1]
}

TEST(SplitTest, TestSizeRoundsUp) {
    // ceil(0.2 * 7) = 2: perm(7) = 4 6 1 5 0 3 2.
    const Split s = split_by_test_fraction(7, 0.2, 24);
    EXPECT_EQ(s.test, (Ids{4, 6}));
    EXPECT_EQ(s.train, (Ids{1, 5, 0, 3, 2}));
    EXPECT_EQ(split_by_test_fraction(5, 0.2, 24).test.size(), 1U);  // 0.2 * 5 is 1 in double
    EXPECT_EQ(split_by_test_fraction(1, 0.2, 24).train.size(), 0U);
}

TEST(SplitTest, FewShotDrawTakesTheTailOfThePermutation) {
    // train_size 0.1 of 1212: n_train = floor(121.2) = 121, the train part is perm[1091:].
    const Split s = split_by_train_fraction(1212, 0.1, 24);
    ASSERT_EQ(s.train.size(), 121U);
    ASSERT_EQ(s.test.size(), 1091U);
    EXPECT_EQ(head(s.train, 5), (Ids{693, 472, 318, 671, 817}));
    EXPECT_TRUE(split_by_train_fraction(9, 0.1, 24).train.empty());
    EXPECT_EQ(split_by_train_fraction(10, 0.1, 24).train.size(), 1U);
}

TEST(SplitTest, BadFractionsAreRefused) {
    EXPECT_THROW(split_by_test_fraction(10, 0.0, 24), std::invalid_argument);
    EXPECT_THROW(split_by_test_fraction(10, 1.0, 24), std::invalid_argument);
    EXPECT_THROW(split_by_train_fraction(10, -0.1, 24), std::invalid_argument);
    EXPECT_THROW(numpy_permutation(-1, 24), std::invalid_argument);
}

}  // namespace
}  // namespace zoomdiff::data
