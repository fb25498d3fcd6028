#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "pipeline/detail/residents.hpp"
#include "pipeline/detail/seeded_stream.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/io/stations.hpp"
#include "zoomdiff/pipeline/grid_meta.hpp"

namespace zoomdiff::pipeline {
namespace {

constexpr std::size_t kHours = io::kHoursPerWeek;

/// About 29 x 22 cells of 100 m near Nanchang.
geo::CityGrid small_grid() {
    return geo::CityGrid::from_bbox({115.80, 28.68, 115.83, 28.70});
}

struct LonLat {
    double lon_deg;
    double lat_deg;
};

LonLat cell_centre(const geo::CityGrid& grid, std::size_t row, std::size_t col) {
    return {(grid.lon_edges_deg[col] + grid.lon_edges_deg[col + 1]) / 2.0,
            (grid.lat_edges_deg[row] + grid.lat_edges_deg[row + 1]) / 2.0};
}

/// Stations at `where`; station b's value at hour t is series(b, t).
template <typename Series>
io::StationTable make_stations(const std::vector<LonLat>& where, Series series) {
    io::StationTable table;
    table.series = NdArray<double>({where.size(), kHours});
    for (std::size_t b = 0; b < where.size(); ++b) {
        table.lon_deg.push_back(where[b].lon_deg);
        table.lat_deg.push_back(where[b].lat_deg);
        table.ids.push_back("BS-" + std::to_string(b));
        for (std::size_t t = 0; t < kHours; ++t) {
            table.series.at(b, t) = series(b, t);
        }
    }
    return table;
}

/// A deterministic population with empty, fractional and dense cells.
NdArray<float> patterned_population(const geo::CityGrid& grid) {
    NdArray<float> pop({grid.rows(), grid.cols()});
    for (std::size_t r = 0; r < grid.rows(); ++r) {
        for (std::size_t c = 0; c < grid.cols(); ++c) {
            pop.at(r, c) = static_cast<float>((r * 7 + c * 3) % 11) * 1.3F;
        }
    }
    return pop;
}

std::vector<double> hour_sums(const NdArray<double>& data) {
    std::vector<double> sums(kHours, 0.0);
    for (std::size_t i = 0; i < data.size(); ++i) {
        sums[i % kHours] += data[i];
    }
    return sums;
}

std::vector<double> station_sums(const io::StationTable& table,
                                 const std::vector<std::size_t>& rows) {
    std::vector<double> sums(kHours, 0.0);
    for (const std::size_t b : rows) {
        for (std::size_t t = 0; t < kHours; ++t) {
            sums[t] += table.series.at(b, t);
        }
    }
    return sums;
}

void expect_conserved(const NdArray<double>& data, const std::vector<double>& expected,
                      double relative_tolerance) {
    const std::vector<double> got = hour_sums(data);
    for (std::size_t t = 0; t < kHours; ++t) {
        EXPECT_NEAR(got[t], expected[t], relative_tolerance * std::fabs(expected[t]))
            << "hour " << t;
    }
}

bool same_bits(const NdArray<double>& a, const NdArray<double>& b) {
    return a.shape() == b.shape() &&
           std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

Disaggregation run(const geo::CityGrid& grid, const NdArray<float>& pop,
                   const io::StationTable& stations, GridMetaLayout layout, std::uint64_t seed = 7,
                   int threads = 1) {
    core::NullProgress progress;
    return disaggregate(grid, pop, stations, layout, seed, threads, progress);
}

TEST(SeededStreamTest, UniformInRangeAndHalfNormalMean) {
    detail::SeededStream stream(detail::stream_key(1, detail::StreamDomain::kStationHour, 2, 3));
    double sum = 0;
    constexpr int kDraws = 200000;
    for (int k = 0; k < kDraws; ++k) {
        const double u = stream.uniform(2.0, 3.0);
        ASSERT_GE(u, 2.0);
        ASSERT_LT(u, 3.0);
        sum += std::fabs(stream.normal());
    }
    // E|N(0,1)| = sqrt(2/pi); SD of |N| = sqrt(1 - 2/pi) = 0.603, so SE = 0.603/sqrt(2e5) = 1.3e-3.
    EXPECT_NEAR(sum / kDraws, std::sqrt(2.0 / M_PI), 6.5e-3);
    EXPECT_NE(detail::stream_key(1, detail::StreamDomain::kStationHour, 2, 3),
              detail::stream_key(1, detail::StreamDomain::kStationHour, 3, 2));
    EXPECT_NE(detail::stream_key(1, detail::StreamDomain::kResidentCell, 2),
              detail::stream_key(1, detail::StreamDomain::kStationHour, 2));
}

TEST(DisaggregateTest, ConservesEveryHourOverTheInBoxStations) {
    const geo::CityGrid grid = small_grid();
    const NdArray<float> pop = patterned_population(grid);
    const io::StationTable stations =
        make_stations({cell_centre(grid, 2, 3),
                       cell_centre(grid, 15, 20),
                       cell_centre(grid, 8, 10),
                       {115.90, 28.69},
                       cell_centre(grid, 19, 4)},
                      [](std::size_t b, std::size_t t) {
                          return 10.0 * static_cast<double>(b + 1) + std::sin(t) * 3.0 + 4.0;
                      });
    for (const GridMetaLayout layout : {GridMetaLayout::kCorrected, GridMetaLayout::kReference}) {
        const Disaggregation out = run(grid, pop, stations, layout);
        EXPECT_EQ(out.stations_in_box, 4U);
        EXPECT_EQ(out.stations_outside, 1U);
        EXPECT_EQ(out.stations_without_residents, 0U);  // dense population: every station has some
        ASSERT_EQ(out.data_100m.shape(),
                  (std::vector<std::size_t>{grid.rows(), grid.cols(), kHours}));
        expect_conserved(out.data_100m, station_sums(stations, {0, 1, 2, 4}), 1e-9);
    }
}

TEST(DisaggregateTest, ResidentCountsAreRoundHalfEvenOfThePopulation) {
    const geo::CityGrid grid = small_grid();
    NdArray<float> pop({grid.rows(), grid.cols()});
    const std::vector<std::pair<float, std::int32_t>> cases = {
        {0.5F, 0},    {1.5F, 2},
        {2.5F, 2},    {3.5F, 4},
        {0.49F, 0},   {-2.0F, 0},
        {7.0F, 7},    {1e-3F, 0},
        {12.51F, 13}, {std::numeric_limits<float>::quiet_NaN(), 0}};
    std::int64_t expected_total = 0;
    for (std::size_t k = 0; k < cases.size(); ++k) {
        pop.at(3, k) = cases[k].first;
        expected_total += cases[k].second;
    }
    const io::StationTable stations =
        make_stations({cell_centre(grid, 3, 5)}, [](std::size_t, std::size_t) { return 1.0; });
    const Disaggregation out = run(grid, pop, stations, GridMetaLayout::kCorrected);
    for (std::size_t k = 0; k < cases.size(); ++k) {
        EXPECT_EQ(out.residents_100m.at(3, k), cases[k].second) << "population " << cases[k].first;
    }
    EXPECT_EQ(out.residents, static_cast<std::size_t>(expected_total));

    // Each resident lies in the half-open degree rectangle of its cell.
    core::NullProgress progress;
    const detail::Residents residents = detail::draw_residents(grid, pop, 3, 2, progress);
    ASSERT_EQ(residents.size(), static_cast<std::size_t>(expected_total));
    for (std::size_t r = 0; r < residents.size(); ++r) {
        const std::size_t row = residents.cell[r] / grid.cols();
        const std::size_t col = residents.cell[r] % grid.cols();
        EXPECT_GE(residents.lat_deg[r], grid.lat_edges_deg[row]);
        EXPECT_LT(residents.lat_deg[r], grid.lat_edges_deg[row + 1]);
        EXPECT_GE(residents.lon_deg[r], grid.lon_edges_deg[col]);
        EXPECT_LT(residents.lon_deg[r], grid.lon_edges_deg[col + 1]);
    }
}

TEST(DisaggregateTest, MeanOverSeedsIsThePopulationWeightedVoronoiSplit) {
    const geo::CityGrid grid = small_grid();
    ASSERT_GE(grid.cols(), 27U);
    NdArray<float> pop({grid.rows(), grid.cols()});
    pop.at(5, 2) = 30.0F;   // near A
    pop.at(5, 4) = 10.0F;   // near A
    pop.at(5, 24) = 20.0F;  // near B
    const io::StationTable stations =
        make_stations({cell_centre(grid, 5, 3), cell_centre(grid, 5, 25)},
                      [](std::size_t b, std::size_t t) { return b == 0 ? 100.0 + t : 50.0; });
    // Station A has m = 40 residents, 30 of them in cell (5, 2): E[share] = f = 0.75. For
    // normalised half-normal weights the share W of n1 = f·m residents has, to first order,
    // SD = CV·sqrt(f(1 − f)/m) with CV = sd/mean of |N(0,1)| = sqrt(pi/2 − 1) ≈ 0.7555
    // (the 0.76 of PIPELINE §2.4): 0.7555·sqrt(0.1875/40) = 0.0517. Every (seed, hour) is an
    // independent stream, so the mean of 300 seeds × 168 hours has SE = 0.0517/sqrt(50400) =
    // 2.3e-4. Tolerance 5 SE = 1.2e-3 (absolute, on a share).
    constexpr int kSeeds = 300;
    double share_sum = 0;
    for (int seed = 0; seed < kSeeds; ++seed) {
        const Disaggregation out =
            run(grid, pop, stations, GridMetaLayout::kCorrected, static_cast<std::uint64_t>(seed));
        for (std::size_t t = 0; t < kHours; ++t) {
            const double a = stations.series.at(0, t);
            share_sum += out.data_100m.at(5, 2, t) / a;
            ASSERT_NEAR(out.data_100m.at(5, 2, t) + out.data_100m.at(5, 4, t), a, 1e-12 * a);
            ASSERT_NEAR(out.data_100m.at(5, 24, t), 50.0, 1e-12 * 50.0);  // B: one cell, all of it
        }
    }
    EXPECT_NEAR(share_sum / (kSeeds * static_cast<double>(kHours)), 0.75, 1.2e-3);
}

TEST(DisaggregateTest, SameSeedSameBitsForAnyThreadCountOtherSeedOtherBits) {
    const geo::CityGrid grid = small_grid();
    // Dense enough (> 16,384 residents) for every stage to use several workers.
    NdArray<float> pop = patterned_population(grid);
    for (float& v : pop.values()) {
        v *= 6.0F;
    }
    const LonLat shared_site = cell_centre(grid, 9, 9);
    const io::StationTable stations =
        make_stations({cell_centre(grid, 2, 3), shared_site, cell_centre(grid, 15, 20), shared_site,
                       cell_centre(grid, 19, 26), cell_centre(grid, 12, 1)},
                      [](std::size_t b, std::size_t t) {
                          return static_cast<double>((b * 31 + t * 7) % 13) + 0.25;
                      });
    for (const GridMetaLayout layout : {GridMetaLayout::kCorrected, GridMetaLayout::kReference}) {
        const Disaggregation one = run(grid, pop, stations, layout, 11, 1);
        const Disaggregation again = run(grid, pop, stations, layout, 11, 1);
        const Disaggregation two = run(grid, pop, stations, layout, 11, 2);
        const Disaggregation five = run(grid, pop, stations, layout, 11, 5);
        const Disaggregation other = run(grid, pop, stations, layout, 12, 2);
        EXPECT_TRUE(same_bits(one.data_100m, again.data_100m));
        EXPECT_TRUE(same_bits(one.data_100m, two.data_100m));
        EXPECT_TRUE(same_bits(one.data_100m, five.data_100m));
        EXPECT_FALSE(same_bits(one.data_100m, other.data_100m));
        EXPECT_EQ(one.residents_100m.values(), other.residents_100m.values());
        EXPECT_EQ(one.residents, other.residents);
        EXPECT_GT(one.residents, 16384U);
    }
}

TEST(DisaggregateTest, StationsOutsideTheClosedEnvelopeAreIgnoredAndCounted) {
    const geo::CityGrid grid = small_grid();
    const NdArray<float> pop = patterned_population(grid);
    const geo::BBoxDeg& box = grid.bbox;
    const io::StationTable stations = make_stations(
        {{box.lon_max_deg, box.lat_max_deg},  // on the corner: inside (closed)
         {box.lon_max_deg + 1e-6, 28.69},     // just east
         {115.81, box.lat_min_deg - 1e-6},    // just south
         {std::numeric_limits<double>::quiet_NaN(), 28.69},
         cell_centre(grid, 10, 10)},
        [](std::size_t b, std::size_t) { return 1000.0 * static_cast<double>(b + 1); });
    const Disaggregation out = run(grid, pop, stations, GridMetaLayout::kCorrected);
    EXPECT_EQ(out.stations_in_box, 2U);
    EXPECT_EQ(out.stations_outside, 3U);
    expect_conserved(out.data_100m, station_sums(stations, {0, 4}), 1e-9);
}

TEST(DisaggregateTest, StationWithoutResidentsKeepsItsCellOrIsDropped) {
    const geo::CityGrid grid = small_grid();
    NdArray<float> pop({grid.rows(), grid.cols()});
    for (std::size_t r = 0; r < 6; ++r) {
        for (std::size_t c = 0; c < 6; ++c) {
            pop.at(r, c) = 4.0F;  // people only in the south-west corner
        }
    }
    // A stands among the people; C stands in the empty north-east, nearer to no one.
    const io::StationTable stations =
        make_stations({cell_centre(grid, 3, 3), cell_centre(grid, 18, 25)},
                      [](std::size_t b, std::size_t t) { return b == 0 ? 5.0 + t : 70.0 + t; });

    const Disaggregation corrected = run(grid, pop, stations, GridMetaLayout::kCorrected);
    EXPECT_EQ(corrected.stations_without_residents, 1U);
    expect_conserved(corrected.data_100m, station_sums(stations, {0, 1}), 1e-9);
    for (std::size_t t = 0; t < kHours; ++t) {
        EXPECT_EQ(corrected.data_100m.at(18, 25, t), stations.series.at(1, t));
    }

    const Disaggregation reference = run(grid, pop, stations, GridMetaLayout::kReference);
    EXPECT_EQ(reference.stations_without_residents, 1U);
    expect_conserved(reference.data_100m, station_sums(stations, {0}), 1e-9);
    EXPECT_EQ(reference.data_100m.at(18, 25, 0), 0.0);
}

TEST(DisaggregateTest, NoResidentsAnywhere) {
    const geo::CityGrid grid = small_grid();
    const NdArray<float> pop({grid.rows(), grid.cols()}, 0.4F);  // rounds to 0 everywhere
    const io::StationTable stations =
        make_stations({cell_centre(grid, 1, 2), cell_centre(grid, 7, 9)},
                      [](std::size_t b, std::size_t) { return 3.0 + static_cast<double>(b); });
    const Disaggregation corrected = run(grid, pop, stations, GridMetaLayout::kCorrected);
    EXPECT_EQ(corrected.residents, 0U);
    EXPECT_EQ(corrected.stations_without_residents, 2U);
    EXPECT_EQ(corrected.data_100m.at(1, 2, 0), 3.0);
    EXPECT_EQ(corrected.data_100m.at(7, 9, 167), 4.0);
    const Disaggregation reference = run(grid, pop, stations, GridMetaLayout::kReference);
    expect_conserved(reference.data_100m, std::vector<double>(kHours, 0.0), 0.0);
}

TEST(DisaggregateTest, CoLocatedStationsShareOrOneTakesAll) {
    const geo::CityGrid grid = small_grid();
    NdArray<float> pop({grid.rows(), grid.cols()});
    pop.at(4, 4) = 6.0F;
    pop.at(4, 6) = 9.0F;
    const LonLat site = cell_centre(grid, 4, 5);
    const io::StationTable stations = make_stations(
        {site, site}, [](std::size_t b, std::size_t t) { return b == 0 ? 1.0 + t : 1000.0; });

    const Disaggregation corrected = run(grid, pop, stations, GridMetaLayout::kCorrected);
    EXPECT_EQ(corrected.stations_tied, 2U);
    EXPECT_EQ(corrected.stations_without_residents, 0U);
    expect_conserved(corrected.data_100m, station_sums(stations, {0, 1}), 1e-9);
    // Both stations spread over the same 15 residents, so both cells carry a part of each.
    EXPECT_GT(corrected.data_100m.at(4, 4, 0), 0.0);
    EXPECT_GT(corrected.data_100m.at(4, 6, 0), 0.0);

    const Disaggregation reference = run(grid, pop, stations, GridMetaLayout::kReference);
    EXPECT_EQ(reference.stations_tied, 2U);
    EXPECT_EQ(reference.stations_without_residents, 1U);
    expect_conserved(reference.data_100m, station_sums(stations, {0}), 1e-9);  // the second is lost
}

TEST(DisaggregateTest, IntegerSeriesAreSpreadAsFractionsNotTruncated) {
    const geo::CityGrid grid = small_grid();
    const NdArray<float> pop = patterned_population(grid);
    io::StationTable stations = make_stations(
        {cell_centre(grid, 6, 6), cell_centre(grid, 14, 17)},
        [](std::size_t b, std::size_t t) { return static_cast<double>((b + t) % 3 + 1); });
    stations.integer_input = true;
    const Disaggregation out = run(grid, pop, stations, GridMetaLayout::kCorrected);
    expect_conserved(out.data_100m, station_sums(stations, {0, 1}), 1e-12);
    const bool has_fraction =
        std::any_of(out.data_100m.values().begin(), out.data_100m.values().end(),
                    [](double v) { return v != std::floor(v); });
    EXPECT_TRUE(has_fraction);
}

TEST(DisaggregateTest, WrongShapesAreErrors) {
    const geo::CityGrid grid = small_grid();
    const NdArray<float> pop = patterned_population(grid);
    const io::StationTable stations =
        make_stations({cell_centre(grid, 1, 1)}, [](std::size_t, std::size_t) { return 1.0; });
    const NdArray<float> transposed({grid.cols(), grid.rows()});
    EXPECT_THROW(run(grid, transposed, stations, GridMetaLayout::kCorrected), Error);

    io::StationTable short_week = stations;
    short_week.series = NdArray<double>({1, kHours - 1});
    EXPECT_THROW(run(grid, pop, short_week, GridMetaLayout::kCorrected), Error);

    io::StationTable missing_row = stations;
    missing_row.lon_deg.push_back(115.81);
    missing_row.lat_deg.push_back(28.69);
    EXPECT_THROW(run(grid, pop, missing_row, GridMetaLayout::kCorrected), Error);

    core::NullProgress progress;
    EXPECT_THROW(disaggregate(grid, pop, stations, GridMetaLayout::kCorrected, 0, 0, progress),
                 Error);
}

}  // namespace
}  // namespace zoomdiff::pipeline
