#pragma once
// The UoMo patch series (/work/shared/data/uomo_patches_traffic_users_poi/SOURCE.md), read and
// checked: a uomo_<city>_series.npz with traffic and users (P, T, 4, 4), poi (P, K, 4, 4), split
// (P,) and steps_per_day. pipeline/uomo_import.hpp writes them as a zoomdiff city.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"

namespace zoomdiff::io {

/// Cells per patch side (upstream and ours).
inline constexpr std::size_t kUomoPatchSide = 4;

/// The upstream split names in label order: train 0, val 1, test 2.
[[nodiscard]] const std::vector<std::string>& uomo_split_names();

/// Everything read and checked from the npz.
struct UomoSource {
    NdArray<double> traffic;         ///< (P, T, 4, 4)
    NdArray<double> users;           ///< (P, T, 4, 4)
    NdArray<std::int64_t> poi;       ///< (P, K, 4, 4)
    std::vector<std::string> split;  ///< (P,): train, val or test
    int steps_per_day = 0;
};

/// Reads the npz and checks it: keys traffic, users, poi, split, steps_per_day; shapes
/// (P, T, 4, 4), (P, K, 4, 4), (P,); steps_per_day dividing a day into whole minutes and hours
/// into whole steps; known split names; finite, non-negative values. Every problem throws
/// zoomdiff::Error naming the file.
[[nodiscard]] UomoSource read_uomo_source(const std::filesystem::path& npz);

}  // namespace zoomdiff::io
