#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>

#include "support/support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::test {

/// prep.h5 of the golden folder; fails the test (never skips) when it is missing.
inline std::filesystem::path prep_h5() {
    return golden_dir() / "prep.h5";
}

/// Count of arrays compared, printed at the end of the run.
int& compared_arrays();

/// The grid of golden group `grids/<name>`, rebuilt from its stored bbox.
geo::CityGrid grid_from_golden(const io::H5File& prep, const std::string& name);

/// Expect identical shapes and values (integers, or floats that must match bit for bit).
template <typename T, typename U>
void expect_equal(const NdArray<T>& ours, const NdArray<U>& golden, const std::string& what) {
    ++compared_arrays();
    ASSERT_EQ(ours.shape(), golden.shape()) << what;
    std::size_t mismatches = 0;
    std::size_t first = 0;
    for (std::size_t i = 0; i < golden.size(); ++i) {
        if (static_cast<double>(ours[i]) != static_cast<double>(golden[i])) {
            if (mismatches++ == 0) {
                first = i;
            }
        }
    }
    EXPECT_EQ(mismatches, 0U) << what << ": first mismatch at flat index " << first << ": ours "
                              << static_cast<double>(ours[first]) << ", golden "
                              << static_cast<double>(golden[first]);
}

/// Expect |ours − golden| ≤ rel_tol · max(1, max|golden|) element-wise (scale-relative).
template <typename T, typename U>
void expect_near_rel(const NdArray<T>& ours, const NdArray<U>& golden, double rel_tol,
                     const std::string& what) {
    ++compared_arrays();
    ASSERT_EQ(ours.shape(), golden.shape()) << what;
    double scale = 1.0;
    for (std::size_t i = 0; i < golden.size(); ++i) {
        scale = std::max(scale, std::abs(static_cast<double>(golden[i])));
    }
    double worst = 0.0;
    std::size_t worst_i = 0;
    for (std::size_t i = 0; i < golden.size(); ++i) {
        const double d = std::abs(static_cast<double>(ours[i]) - static_cast<double>(golden[i]));
        if (!(d <= worst)) {
            worst = d;
            worst_i = i;
        }
    }
    EXPECT_LE(worst, rel_tol * scale)
        << what << ": worst at flat index " << worst_i << ": ours "
        << static_cast<double>(ours[worst_i]) << ", golden " << static_cast<double>(golden[worst_i])
        << " (scale " << scale << ")";
}

}  // namespace zoomdiff::test
