#pragma once
// The week: every series zoomdiff prepares, trains on, generates and scores is one week of hours.

#include <cstddef>

namespace zoomdiff::core {

/// Hours of one week, the length of every series (PIPELINE §1, MODEL.md: L = 168).
inline constexpr std::size_t kHoursPerWeek = 168;

}  // namespace zoomdiff::core
