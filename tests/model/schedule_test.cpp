#include "zoomdiff/model/schedule.hpp"

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "zoomdiff/model/config.hpp"

namespace zoomdiff::model {
namespace {

using Levels = std::vector<std::pair<int, int>>;

Levels segment_levels(const MultiScaleSchedule& s) {
    Levels out;
    for (const auto& segment : s.segments) {
        out.emplace_back(segment.i_t, segment.i_s);
    }
    return out;
}

Levels previous_levels(const MultiScaleSchedule& s) {
    Levels out;
    for (const auto& segment : s.segments) {
        out.emplace_back(segment.prev_i_t, segment.prev_i_s);
    }
    return out;
}

DiffusionConfig scales(int time_scale, int spatial_scale) {
    DiffusionConfig c;
    c.time_scale = time_scale;
    c.spatial_scale = spatial_scale;
    return c;
}

TEST(Schedule, CutStepsExamplesOfModelMd) {
    EXPECT_EQ(cut_steps(400, 3), (std::vector<int>{400, 267, 133, 0}));
    EXPECT_EQ(cut_steps(50, 3), (std::vector<int>{50, 33, 17, 0}));
    EXPECT_EQ(cut_steps(600, 3), (std::vector<int>{600, 400, 200, 0}));
    EXPECT_EQ(cut_steps(100, 3), (std::vector<int>{100, 67, 33, 0}));
    EXPECT_EQ(cut_steps(400, 5), (std::vector<int>{400, 320, 240, 160, 80, 0}));
    EXPECT_EQ(cut_steps(12, 3), (std::vector<int>{12, 8, 4, 0}));
    EXPECT_EQ(cut_steps(400, 1), (std::vector<int>{400, 0}));
}

TEST(Schedule, CutStepsRoundsHalfToEven) {
    // 10 * [0, .25, .5, .75, 1] = [0, 2.5, 5, 7.5, 10] -> numpy.round [0, 2, 5, 8, 10];
    // half away from zero would give [0, 3, 5, 8, 10] and boundaries [10, 7, 5, 2, 0].
    EXPECT_EQ(cut_steps(10, 4), (std::vector<int>{10, 8, 5, 2, 0}));
}

TEST(Schedule, CutStepsDropsDuplicateBoundaries) {
    // 2 * [0, .25, .5, .75, 1] rounds to [0, 0, 1, 2, 2]: three distinct boundaries.
    EXPECT_EQ(cut_steps(2, 4), (std::vector<int>{2, 1, 0}));
}

TEST(Schedule, BaseLabelsAndSegments) {
    const MultiScaleSchedule s = make_schedule(DiffusionConfig{});
    EXPECT_EQ(s.num_steps, 400);
    EXPECT_EQ(s.step_list, (std::vector<int>{400, 267, 133, 0}));
    EXPECT_EQ(s.time_step_list, (std::vector<int>{400, 0}));
    EXPECT_EQ(s.spatial_step_list, (std::vector<int>{400, 267, 133, 0}));
    EXPECT_EQ(s.combined_values, (std::vector<int>{400, 267, 133, 0}));
    EXPECT_EQ(s.combined_labels, (std::vector<std::string>{"ts", "s", "s", "ts"}));
    EXPECT_EQ(s.t_labels, (std::vector<int>{2, 1, 1, 1}));
    EXPECT_EQ(s.s_labels, (std::vector<int>{4, 3, 2, 1}));
    ASSERT_EQ(s.segments.size(), 3U);
    EXPECT_EQ(segment_levels(s), (Levels{{1, 3}, {1, 2}, {1, 1}}));
    // Segment 0 has no previous segment: its prior is zero.
    EXPECT_EQ(previous_levels(s), (Levels{{0, 0}, {1, 3}, {1, 2}}));
    const std::vector<std::pair<int, int>> bounds{{400, 267}, {267, 133}, {133, 0}};
    const std::vector<std::size_t> beta_lengths{134, 135, 134};
    for (std::size_t i = 0; i < 3; ++i) {
        const Segment& segment = s.segments[i];
        EXPECT_EQ(segment.index, static_cast<int>(i));
        EXPECT_EQ(segment.upper, bounds[i].first) << "segment " << i;
        EXPECT_EQ(segment.lower, bounds[i].second) << "segment " << i;
        EXPECT_EQ(segment.beta.size(), beta_lengths[i]) << "segment " << i;
        EXPECT_EQ(segment.alpha_hat.size(), beta_lengths[i]) << "segment " << i;
        EXPECT_EQ(segment.alpha.size(), beta_lengths[i]) << "segment " << i;
        EXPECT_EQ(segment.alpha_f32.size(), beta_lengths[i]) << "segment " << i;
    }
}

TEST(Schedule, TimeScale2SpatialScale3) {
    const MultiScaleSchedule s = make_schedule(scales(2, 3));
    EXPECT_EQ(s.combined_values, (std::vector<int>{400, 267, 133, 0}));
    EXPECT_EQ(s.combined_labels, (std::vector<std::string>{"ts", "ts", "s", "ts"}));
    EXPECT_EQ(s.t_labels, (std::vector<int>{3, 2, 1, 1}));
    EXPECT_EQ(s.s_labels, (std::vector<int>{4, 3, 2, 1}));
    EXPECT_EQ(segment_levels(s), (Levels{{2, 3}, {1, 2}, {1, 1}}));
    EXPECT_EQ(previous_levels(s), (Levels{{0, 0}, {2, 3}, {1, 2}}));
}

TEST(Schedule, TimeScale5SpatialScale3) {
    const MultiScaleSchedule s = make_schedule(scales(5, 3));
    EXPECT_EQ(s.combined_values, (std::vector<int>{400, 320, 240, 160, 80, 0}));
    EXPECT_EQ(s.combined_labels, (std::vector<std::string>{"ts", "ts", "ts", "t", "t", "ts"}));
    EXPECT_EQ(s.t_labels, (std::vector<int>{6, 5, 4, 3, 2, 1}));
    EXPECT_EQ(s.s_labels, (std::vector<int>{4, 3, 2, 1, 1, 1}));
    EXPECT_EQ(segment_levels(s), (Levels{{5, 3}, {4, 2}, {3, 1}, {2, 1}, {1, 1}}));
    EXPECT_EQ(previous_levels(s), (Levels{{0, 0}, {5, 3}, {4, 2}, {3, 1}, {2, 1}}));
    for (const auto& segment : s.segments) {
        EXPECT_EQ(segment.upper - segment.lower, 80) << "segment " << segment.index;
        EXPECT_EQ(segment.beta.size(), 81U) << "segment " << segment.index;
    }
}

TEST(Schedule, QuadBetasRestartInEverySegment) {
    const DiffusionConfig c;
    const MultiScaleSchedule s = make_schedule(c);
    const double root_start = std::sqrt(c.beta_start);
    const double root_end = std::sqrt(c.beta_end);
    for (const auto& segment : s.segments) {
        const auto m = segment.beta.size();
        EXPECT_DOUBLE_EQ(segment.beta.front(), c.beta_start) << "segment " << segment.index;
        EXPECT_DOUBLE_EQ(segment.beta.back(), c.beta_end) << "segment " << segment.index;
        for (std::size_t k = 0; k < m; ++k) {
            // Squares of a linspace of square roots.
            const double root = root_start + static_cast<double>(k) * (root_end - root_start) /
                                                 static_cast<double>(m - 1);
            EXPECT_NEAR(segment.beta[k], root * root, 1e-15)
                << "segment " << segment.index << " k " << k;
            if (k > 0) {
                EXPECT_GT(segment.beta[k], segment.beta[k - 1]);
            }
        }
    }
}

TEST(Schedule, LinearBetasAreALinspace) {
    DiffusionConfig c;
    c.schedule = BetaSchedule::kLinear;
    c.num_steps = 50;
    const MultiScaleSchedule s = make_schedule(c);
    for (const auto& segment : s.segments) {
        const auto m = segment.beta.size();
        EXPECT_EQ(segment.beta.front(), c.beta_start);
        EXPECT_EQ(segment.beta.back(), c.beta_end);
        const double step = (c.beta_end - c.beta_start) / static_cast<double>(m - 1);
        for (std::size_t k = 1; k + 1 < m; ++k) {
            EXPECT_NEAR(segment.beta[k] - segment.beta[k - 1], step, 1e-15);
        }
    }
}

TEST(Schedule, AlphaIsTheCumulativeProduct) {
    for (const auto schedule : {BetaSchedule::kQuad, BetaSchedule::kLinear}) {
        DiffusionConfig c;
        c.schedule = schedule;
        const MultiScaleSchedule s = make_schedule(c);
        for (const auto& segment : s.segments) {
            double product = 1.0;
            for (std::size_t k = 0; k < segment.beta.size(); ++k) {
                EXPECT_EQ(segment.alpha_hat[k], 1.0 - segment.beta[k]);
                product *= 1.0 - segment.beta[k];
                EXPECT_DOUBLE_EQ(segment.alpha[k], product)
                    << "segment " << segment.index << " k " << k;
                EXPECT_EQ(segment.alpha_f32[k], static_cast<float>(segment.alpha[k]));
            }
        }
    }
}

TEST(Schedule, BaseAlphaBarEnds) {
    // MODEL.md §3.3: alpha-bar[0] = 1 - beta_start; top ~0.0924 (segments 0, 2), ~0.0908 (1).
    const MultiScaleSchedule s = make_schedule(DiffusionConfig{});
    const std::vector<double> top{0.0924, 0.0908, 0.0924};
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_DOUBLE_EQ(s.segments[i].alpha.front(), 0.9999);
        EXPECT_NEAR(s.segments[i].alpha.back(), top[i], 5e-5) << "segment " << i;
    }
}

TEST(Schedule, SegmentOfBoundarySteps) {
    const MultiScaleSchedule s = make_schedule(DiffusionConfig{});
    EXPECT_EQ(s.segment_of(399).index, 0);
    EXPECT_EQ(s.segment_of(267).index, 0);
    EXPECT_EQ(s.segment_of(266).index, 1);
    EXPECT_EQ(s.segment_of(133).index, 1);
    EXPECT_EQ(s.segment_of(132).index, 2);
    EXPECT_EQ(s.segment_of(0).index, 2);
    EXPECT_EQ(s.segment_of(267).position(267), 1);
    EXPECT_EQ(s.segment_of(399).position(399), 133);
    EXPECT_EQ(s.segment_of(266).position(266), 134);
    EXPECT_FALSE(s.segments[0].contains(400));
    EXPECT_TRUE(s.segments[1].contains(133));
    EXPECT_FALSE(s.segments[1].contains(267));
    EXPECT_ANY_THROW((void)s.segment_of(400));
    EXPECT_ANY_THROW((void)s.segment_of(-1));
}

TEST(Schedule, EveryStepBelongsToExactlyOneSegment) {
    const MultiScaleSchedule s = make_schedule(scales(5, 3));
    for (int n = 0; n < s.num_steps; ++n) {
        int holders = 0;
        for (const auto& segment : s.segments) {
            holders += segment.contains(n) ? 1 : 0;
        }
        EXPECT_EQ(holders, 1) << "step " << n;
        const Segment& segment = s.segment_of(n);
        EXPECT_GE(segment.position(n), 1);
        EXPECT_LE(segment.position(n), static_cast<int>(segment.beta.size()) - 1);
    }
}

TEST(Schedule, RespacedSamplingVisitsEvenlySpacedStepsWithBothEnds) {
    using V = std::vector<int>;
    EXPECT_EQ(visited_positions(20, 5), (V{20, 15, 11, 6, 1}));  // 10.5 rounds away from zero
    EXPECT_EQ(visited_positions(20, 3), (V{20, 11, 1}));
    EXPECT_EQ(visited_positions(4, 2), (V{4, 1}));
    V every;
    for (int k = 20; k >= 1; --k)
        every.push_back(k);
    EXPECT_EQ(visited_positions(20, 0), every) << "0: every step";
    EXPECT_EQ(visited_positions(20, 20), every);
    EXPECT_EQ(visited_positions(20, 500), every);
    // base.yaml's segments (133 and 134 steps) at 44 steps: 44 distinct positions, both ends kept.
    for (const int length : {133, 134}) {
        const auto kept = visited_positions(length, 44);
        ASSERT_EQ(kept.size(), 44U);
        EXPECT_EQ(kept.front(), length);
        EXPECT_EQ(kept.back(), 1);
        for (std::size_t j = 1; j < kept.size(); ++j)
            EXPECT_LT(kept[j], kept[j - 1]);
    }
}

}  // namespace
}  // namespace zoomdiff::model
