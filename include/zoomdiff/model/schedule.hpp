#pragma once

// Multi-scale step cutting and the per-segment noise schedules (reference/MODEL.md §3.1-3.3).
// Torch-free: plain float64 arrays, plus the float32 copy of alpha-bar the tensors use.

#include <string>
#include <vector>

#include "zoomdiff/model/config.hpp"

namespace zoomdiff::model {

/// One diffusion segment: steps n with lower <= n < upper, run at time level i_t and spatial level
/// i_s (1 = finest). Its schedule arrays have upper - lower + 1 entries; step n reads position
/// n - lower + 1, position 0 only as "the previous alpha-bar" at n = lower.
struct Segment {
    int index = 0;
    int upper = 0;
    int lower = 0;
    int i_t = 1;
    int i_s = 1;
    int prev_i_t = 0;  ///< levels of the segment before (0 for segment 0: its prior is zero)
    int prev_i_s = 0;
    std::vector<double> beta;
    std::vector<double> alpha_hat;  ///< 1 - beta
    std::vector<double> alpha;      ///< cumulative product of alpha_hat (alpha-bar)
    std::vector<float> alpha_f32;   ///< float32 alpha-bar, the only form tensor arithmetic uses

    [[nodiscard]] bool contains(int n) const { return lower <= n && n < upper; }

    [[nodiscard]] int position(int n) const { return n - lower + 1; }
};

struct MultiScaleSchedule {
    int num_steps = 0;
    std::vector<int> step_list;                ///< descending boundaries T ... 0
    std::vector<int> time_step_list;           ///< boundaries of the temporal scale
    std::vector<int> spatial_step_list;        ///< boundaries of the spatial scale
    std::vector<int> combined_values;          ///< union of both, descending
    std::vector<std::string> combined_labels;  ///< "ts", "t" or "s" per combined boundary
    std::vector<int> t_labels;                 ///< time level recorded at each combined boundary
    std::vector<int> s_labels;                 ///< spatial level recorded at each combined boundary
    std::vector<Segment> segments;  ///< segment i lies between combined boundary i and i+1

    /// The segment that holds step n (0 <= n < num_steps).
    [[nodiscard]] const Segment& segment_of(int n) const;
};

/// Boundaries from cutting T steps into `segments` equal parts (numpy's round-half-to-even),
/// descending from T to 0; duplicates removed (MODEL.md §3.1).
std::vector<int> cut_steps(int num_steps, int segments);

/// The whole multi-scale schedule of a configuration.
MultiScaleSchedule make_schedule(const DiffusionConfig& config);

/// Ours (respaced sampling, DESIGN §5): the positions (n - lower + 1) a sampler visits in a segment
/// of `length` = upper - lower steps, descending from `length` to 1: `count` evenly spaced
/// (rounded half away from zero, duplicates dropped), always both ends. `count` 0, or at least
/// `length`: every position, as the reference samples.
std::vector<int> visited_positions(int length, int count);

}  // namespace zoomdiff::model
