// disaggregate() (grid_meta's core: residents, nearest station, allocation) on a Nanchang-sized
// synthetic city: a 110 km × 110 km envelope (≈ 1,080 × 1,080 cells of 100 m, ≈ 2,900 tiles of
// 2 km, PIPELINE §4.3), a few million people in five Gaussian centres over a sparse background,
// and 20,000 stations (the released Nanchang file has 20,373), 12,000 of them as three co-located
// sectors per site, each with a diurnal 168-hour series. Each run is a forked child, so its peak
// RSS is its own (wait4's ru_maxrss); the inputs, built before the fork, are part of it.
// Prints a Markdown table.
//
//   grid_meta_bench [stations] [repeats]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "run_in_child.hpp"
#include <gdal_priv.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/io/stations.hpp"
#include "zoomdiff/pipeline/grid_meta.hpp"

namespace {

using zoomdiff::NdArray;
using zoomdiff::geo::CityGrid;

constexpr std::size_t kHours = zoomdiff::io::kHoursPerWeek;

/// A small seeded generator for the synthetic inputs (SplitMix64).
class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}

    double uniform() {
        state_ += 0x9e3779b97f4a7c15ULL;
        std::uint64_t z = state_;
        z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
        return static_cast<double>((z ^ (z >> 31U)) >> 11U) * 0x1.0p-53;
    }

    double normal() {
        const double u = 1.0 - uniform();
        return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * uniform());
    }

private:
    std::uint64_t state_;
};

struct Centre {
    double row;
    double col;
    double peak_per_cell;
    double sigma_cells;
};

const std::vector<Centre> kCentres = {{540, 540, 120, 60},
                                      {400, 700, 60, 35},
                                      {700, 350, 50, 30},
                                      {300, 300, 30, 25},
                                      {800, 800, 30, 25}};

NdArray<float> synthetic_population(const CityGrid& grid) {
    NdArray<float> pop({grid.rows(), grid.cols()});
    Rng rng(1);
    for (std::size_t r = 0; r < grid.rows(); ++r) {
        for (std::size_t c = 0; c < grid.cols(); ++c) {
            double v = 0.8 * rng.uniform();  // rural background: a third of the cells round to 1
            for (const Centre& k : kCentres) {
                const double d2 =
                    (static_cast<double>(r) - k.row) * (static_cast<double>(r) - k.row) +
                    (static_cast<double>(c) - k.col) * (static_cast<double>(c) - k.col);
                v += k.peak_per_cell * std::exp(-d2 / (2 * k.sigma_cells * k.sigma_cells)) *
                     (0.5 + rng.uniform());
            }
            pop.at(r, c) = rng.uniform() < 0.1 ? 0.0F : static_cast<float>(v);  // 10 % no data
        }
    }
    return pop;
}

/// Degree coordinates of a fractional (row, col) position.
double interpolate(const std::vector<double>& edges, double index) {
    const double clamped = std::clamp(index, 0.0, static_cast<double>(edges.size() - 1) - 1e-9);
    const auto k = static_cast<std::size_t>(clamped);
    return edges[k] + (clamped - static_cast<double>(k)) * (edges[k + 1] - edges[k]);
}

zoomdiff::io::StationTable synthetic_stations(const CityGrid& grid, std::size_t count) {
    zoomdiff::io::StationTable table;
    table.series = NdArray<double>({count, kHours});
    Rng rng(2);
    double weight_total = 0;
    for (const Centre& k : kCentres) {
        weight_total += k.peak_per_cell * k.sigma_cells * k.sigma_cells;
    }
    const std::size_t sectored = count * 3 / 5 / 3 * 3;  // three sectors per site
    double lon = 0;
    double lat = 0;
    for (std::size_t b = 0; b < count; ++b) {
        if (b >= sectored || b % 3 == 0) {
            double row = rng.uniform() * static_cast<double>(grid.rows());
            double col = rng.uniform() * static_cast<double>(grid.cols());
            if (rng.uniform() < 0.9) {  // near a centre, in proportion to its people
                double pick = rng.uniform() * weight_total;
                for (const Centre& k : kCentres) {
                    pick -= k.peak_per_cell * k.sigma_cells * k.sigma_cells;
                    if (pick <= 0 || &k == &kCentres.back()) {
                        row = k.row + 1.2 * k.sigma_cells * rng.normal();
                        col = k.col + 1.2 * k.sigma_cells * rng.normal();
                        break;
                    }
                }
            }
            lon = interpolate(grid.lon_edges_deg, col);
            lat = interpolate(grid.lat_edges_deg, row);
        }
        table.lon_deg.push_back(lon);
        table.lat_deg.push_back(lat);
        table.ids.push_back("BS-" + std::to_string(b));
        const double scale = 50.0 + 450.0 * rng.uniform();
        for (std::size_t t = 0; t < kHours; ++t) {
            const double diurnal =
                1.0 + 0.6 * std::sin(2.0 * M_PI * (static_cast<double>(t) - 8.0) / 24.0);
            table.series.at(b, t) = scale * diurnal * (1.0 + 0.1 * rng.normal());
        }
    }
    return table;
}

struct Measure {
    double seconds = 0;
    long peak_rss_kb = 0;
    std::size_t residents = 0;
    std::size_t tied = 0;
    std::size_t without_residents = 0;
};

/// One disaggregate() call in a forked child: wall time, counts, the child's peak RSS.
Measure measure(const CityGrid& grid, const NdArray<float>& pop,
                const zoomdiff::io::StationTable& stations, int threads) {
    auto run = zoomdiff::bench::run_in_child<Measure>([&] {
        zoomdiff::core::NullProgress progress;
        const auto t0 = std::chrono::steady_clock::now();
        const auto out = zoomdiff::pipeline::disaggregate(
            grid, pop, stations, zoomdiff::pipeline::GridMetaLayout::kCorrected, 42, threads,
            progress);
        Measure m;
        m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        m.residents = out.residents;
        m.tied = out.stations_tied;
        m.without_residents = out.stations_without_residents;
        return m;
    });
    run.result.peak_rss_kb = run.peak_rss_kb;
    return run.result;
}

}  // namespace

int main(int argc, char** argv) {
    GDALAllRegister();
    spdlog::set_level(spdlog::level::err);
    const std::size_t count = argc > 1 ? static_cast<std::size_t>(std::atol(argv[1])) : 20000;
    const int repeats = argc > 2 ? std::atoi(argv[2]) : 1;
    // About Nanchang (PIPELINE P-1 quotes 115.45–116.58 °E × 28.16–29.18 °N for its envelope).
    const CityGrid grid = CityGrid::from_bbox({115.45, 28.16, 116.58, 29.16});
    const NdArray<float> pop = synthetic_population(grid);
    const zoomdiff::io::StationTable stations = synthetic_stations(grid, count);
    const double cube_mib =
        static_cast<double>(grid.rows() * grid.cols() * kHours * sizeof(double)) / 1048576.0;

    std::printf(
        "disaggregate() on a synthetic Nanchang-sized city: %zu x %zu cells of 100 m "
        "(%zu tiles of 2 km), corrected layout, best of %d, each run in a fresh process; "
        "output cube (rows, cols, 168) float64 = %.0f MiB\n\n",
        grid.rows(), grid.cols(), grid.rows_2000m() * grid.cols_2000m(), repeats, cube_mib);
    std::printf(
        "| threads | stations | co-located | without residents | cells | residents | "
        "seconds | peak RSS (MiB) |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const int threads : {1, 2}) {
        Measure best;
        best.seconds = 1e300;
        for (int r = 0; r < repeats; ++r) {
            const Measure m = measure(grid, pop, stations, threads);
            if (m.seconds < best.seconds) {
                best.seconds = m.seconds;
            }
            best.peak_rss_kb = std::max(best.peak_rss_kb, m.peak_rss_kb);
            best.residents = m.residents;
            best.tied = m.tied;
            best.without_residents = m.without_residents;
        }
        std::printf("| %d | %zu | %zu | %zu | %zu | %zu | %.2f | %.0f |\n", threads, count,
                    best.tied, best.without_residents, grid.rows() * grid.cols(), best.residents,
                    best.seconds, static_cast<double>(best.peak_rss_kb) / 1024.0);
    }
    return 0;
}
