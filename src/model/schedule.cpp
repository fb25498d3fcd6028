#include "zoomdiff/model/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

namespace zoomdiff::model {
namespace {

// numpy.linspace(start, stop, num): start + i * step, the last entry exactly stop.
std::vector<double> linspace(double start, double stop, int num) {
    if (num <= 1)
        return {start};
    std::vector<double> out(static_cast<std::size_t>(num));
    const double step = (stop - start) / (num - 1);
    for (int i = 0; i < num; ++i)
        out[static_cast<std::size_t>(i)] = i * step + start;
    out.back() = stop;
    return out;
}

bool contains(const std::vector<int>& list, int value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

const Segment& MultiScaleSchedule::segment_of(int n) const {
    for (const auto& segment : segments) {
        if (segment.contains(n))
            return segment;
    }
    throw std::out_of_range("diffusion step outside the schedule");
}

std::vector<int> cut_steps(int num_steps, int segments) {
    const auto x = linspace(0.0, 1.0, segments + 1);
    std::vector<int> values;
    for (const double xk : x) {
        // power 1, then numpy.round (half to even: nearbyint in the default rounding mode)
        values.push_back(static_cast<int>(std::nearbyint(xk * num_steps)));
    }
    std::sort(values.begin(), values.end(), std::greater<>());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    for (int& v : values)
        v = num_steps - v;
    std::reverse(values.begin(), values.end());
    return values;
}

MultiScaleSchedule make_schedule(const DiffusionConfig& config) {
    MultiScaleSchedule s;
    s.num_steps = config.num_steps;
    const int n_segments = std::max(config.time_scale, config.spatial_scale);
    s.step_list = cut_steps(config.num_steps, n_segments);

    const auto first_then_zero = [&](int count) {
        std::vector<int> out(
            s.step_list.begin(),
            s.step_list.begin() +
                std::min<std::ptrdiff_t>(count, static_cast<std::ptrdiff_t>(s.step_list.size())));
        if (out.empty() || out.back() != 0)
            out.push_back(0);
        return out;
    };
    s.time_step_list = first_then_zero(config.time_scale);
    s.spatial_step_list = first_then_zero(config.spatial_scale);

    s.combined_values = s.time_step_list;
    for (int v : s.spatial_step_list) {
        if (!contains(s.combined_values, v))
            s.combined_values.push_back(v);
    }
    std::sort(s.combined_values.begin(), s.combined_values.end(), std::greater<>());

    int i_t = config.time_scale + 1;
    int i_s = config.spatial_scale + 1;
    for (int v : s.combined_values) {
        const bool is_time = contains(s.time_step_list, v);
        const bool is_space = contains(s.spatial_step_list, v);
        s.combined_labels.emplace_back(is_time && is_space ? "ts" : (is_time ? "t" : "s"));
        s.t_labels.push_back(i_t);
        s.s_labels.push_back(i_s);
        if (is_time)
            --i_t;
        if (is_space)
            --i_s;
    }

    for (std::size_t i = 0; i + 1 < s.combined_values.size(); ++i) {
        Segment seg;
        seg.index = static_cast<int>(i);
        seg.upper = s.combined_values[i];
        seg.lower = s.combined_values[i + 1];
        seg.i_t = s.t_labels[i + 1];
        seg.i_s = s.s_labels[i + 1];
        if (i > 0) {
            seg.prev_i_t = s.t_labels[i];
            seg.prev_i_s = s.s_labels[i];
        }
        const int length = seg.upper - seg.lower + 1;
        if (config.schedule == BetaSchedule::kQuad) {
            seg.beta =
                linspace(std::pow(config.beta_start, 0.5), std::pow(config.beta_end, 0.5), length);
            for (double& b : seg.beta)
                b = b * b;
        } else {
            seg.beta = linspace(config.beta_start, config.beta_end, length);
        }
        double product = 1.0;
        for (const double b : seg.beta) {
            const double a = 1.0 - b;
            seg.alpha_hat.push_back(a);
            product = (seg.alpha.empty() ? a : product * a);
            seg.alpha.push_back(product);
            seg.alpha_f32.push_back(static_cast<float>(product));
        }
        s.segments.push_back(std::move(seg));
    }
    return s;
}

std::vector<int> visited_positions(int length, int count) {
    std::vector<int> out;
    if (count <= 0 || count >= length) {
        for (int k = length; k >= 1; --k)
            out.push_back(k);
        return out;
    }
    count = std::max(count, 2);
    for (int j = 0; j < count; ++j) {
        const int k = static_cast<int>(
            std::lround(length - j * static_cast<double>(length - 1) / (count - 1)));
        if (out.empty() || out.back() != k)
            out.push_back(k);
    }
    return out;
}

}  // namespace zoomdiff::model
