#include "pipeline/detail/residents.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "pipeline/detail/seeded_stream.hpp"
#include "pipeline/detail/workers.hpp"
#include <fmt/format.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::pipeline::detail {

std::int64_t residents_of(float population) {
    // REFCOMPAT: numpy's round (ties to even) of the float32 value (PIPELINE P-7).
    const float n = std::nearbyint(population);
    if (!(n > 0.0F)) {
        return 0;
    }
    if (n > static_cast<float>(std::numeric_limits<std::int32_t>::max())) {
        throw Error("population", fmt::format("a 100 m cell holds {} people", population),
                    "Check the population raster's unit (people per pixel expected).");
    }
    return static_cast<std::int64_t>(n);
}

namespace {

/// Splits the cells into `workers` consecutive ranges of about equal cost (residents + cells):
/// worker w takes cells [first[w], first[w + 1]). offsets[c] is the first resident of cell c.
std::vector<std::size_t> balanced_cell_split(const std::vector<std::size_t>& offsets, int workers) {
    const std::size_t cells = offsets.size() - 1;
    const std::size_t cost_total = offsets[cells] + cells;
    std::vector<std::size_t> first_cell(static_cast<std::size_t>(workers) + 1, cells);
    first_cell[0] = 0;
    for (int w = 1; w < workers; ++w) {
        const std::size_t target =
            cost_total * static_cast<std::size_t>(w) / static_cast<std::size_t>(workers);
        std::size_t lo = 0;
        std::size_t hi = cells;
        while (lo < hi) {  // first c with offsets[c] + c >= target
            const std::size_t mid = lo + (hi - lo) / 2;
            if (offsets[mid] + mid < target) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        first_cell[static_cast<std::size_t>(w)] = lo;
    }
    return first_cell;
}

}  // namespace

Residents draw_residents(const geo::CityGrid& grid, const NdArray<float>& pop_100m,
                         std::uint64_t seed, int threads, core::Progress& progress) {
    const std::size_t rows = grid.rows();
    const std::size_t cols = grid.cols();
    const std::size_t cells = rows * cols;
    if (cells > std::numeric_limits<std::uint32_t>::max()) {
        throw Error("grid", fmt::format("{} x {} cells is too large", rows, cols),
                    "Use a smaller city envelope.");
    }
    Residents out;
    out.per_cell = NdArray<std::int32_t>({rows, cols});
    // offsets[c] = first resident of cell c; residents are numbered in cell order.
    std::vector<std::size_t> offsets(cells + 1, 0);
    for (std::size_t c = 0; c < cells; ++c) {
        const std::int64_t n = residents_of(pop_100m[c]);
        out.per_cell[c] = static_cast<std::int32_t>(n);
        offsets[c + 1] = offsets[c] + static_cast<std::size_t>(n);
    }
    const std::size_t total = offsets[cells];
    out.lon_deg.resize(total);
    out.lat_deg.resize(total);
    out.cell.resize(total);

    const int workers = static_cast<int>(
        std::clamp<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), 1, cells + 1));
    const std::vector<std::size_t> first_cell = balanced_cell_split(offsets, workers);

    progress.start("residents", cells, "cells");
    ProgressRelay relay(progress);
    constexpr std::size_t kReportEvery = 4096;
    run_workers(workers, [&](int w) {
        const std::size_t begin = first_cell[static_cast<std::size_t>(w)];
        const std::size_t end = first_cell[static_cast<std::size_t>(w) + 1];
        for (std::size_t c = begin; c < end; ++c) {
            const std::size_t first = offsets[c];
            const std::size_t n = offsets[c + 1] - first;
            if (n > 0) {
                const std::size_t row = c / cols;
                const std::size_t col = c % cols;
                SeededStream stream(stream_key(seed, StreamDomain::kResidentCell, c));
                const double lat_lo = grid.lat_edges_deg[row];
                const double lat_hi = grid.lat_edges_deg[row + 1];
                const double lon_lo = grid.lon_edges_deg[col];
                const double lon_hi = grid.lon_edges_deg[col + 1];
                for (std::size_t k = 0; k < n; ++k) {
                    out.lat_deg[first + k] = stream.uniform(lat_lo, lat_hi);
                }
                for (std::size_t k = 0; k < n; ++k) {
                    out.lon_deg[first + k] = stream.uniform(lon_lo, lon_hi);
                    out.cell[first + k] = static_cast<std::uint32_t>(c);
                }
            }
            if ((c - begin + 1) % kReportEvery == 0) {
                relay.add(kReportEvery);
                if (w == 0) {
                    relay.flush();
                }
            }
        }
        relay.add((end - begin) % kReportEvery);
    });
    relay.flush();
    progress.finish();
    return out;
}

}  // namespace zoomdiff::pipeline::detail
