// grid_meta's core (PIPELINE §2.3 steps 2 and 5–9): station series → synthetic residents → 100 m
// cells. The seeding scheme is described in pipeline/detail/seeded_stream.hpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "geo/detail/gdal_util.hpp"
#include "pipeline/detail/residents.hpp"
#include "pipeline/detail/seeded_stream.hpp"
#include "pipeline/detail/workers.hpp"
#include <fmt/format.h>
#include <nanoflann.hpp>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/geo/binning.hpp"
#include "zoomdiff/pipeline/grid_meta.hpp"

namespace zoomdiff::pipeline {
namespace {

constexpr std::size_t kHours = io::kHoursPerWeek;
constexpr std::uint32_t kNoCell = std::numeric_limits<std::uint32_t>::max();

/// Frees a vector's memory (clear() keeps the capacity).
template <typename T>
void release(std::vector<T>& v) {
    std::vector<T>().swap(v);
}

void check_inputs(const geo::CityGrid& grid, const NdArray<float>& pop_100m,
                  const io::StationTable& stations, int threads) {
    if (pop_100m.rank() != 2 || pop_100m.dim(0) != grid.rows() || pop_100m.dim(1) != grid.cols()) {
        std::string shape;
        for (const std::size_t d : pop_100m.shape()) {
            shape += (shape.empty() ? "" : ", ") + std::to_string(d);
        }
        throw Error(
            "population",
            fmt::format("array is ({}) but the grid is ({}, {})", shape, grid.rows(), grid.cols()),
            "Sample the population on the same grid.", ExitCode::kInternal);
    }
    const std::string subject =
        stations.source.empty() ? std::string("stations") : stations.source.string();
    const std::size_t n = stations.size();
    if (stations.lat_deg.size() != n) {
        throw Error(subject,
                    fmt::format("{} longitudes but {} latitudes", n, stations.lat_deg.size()),
                    "Give one longitude and one latitude per station.");
    }
    const NdArray<double>& series = stations.series;
    if (series.rank() != 2 || series.dim(0) != n || series.dim(1) != kHours) {
        std::string shape;
        for (const std::size_t d : series.shape()) {
            shape += (shape.empty() ? "" : ", ") + std::to_string(d);
        }
        throw Error(subject,
                    fmt::format("series array is ({}), expected ({}, {})", shape, n, kHours),
                    "Give one 168-hour series (one week) per station.");
    }
    if (threads < 1) {
        throw Error("--threads", fmt::format("{} threads", threads), "Use 1 or more.");
    }
}

/// Cell index along one axis by the POI binning rule (PIPELINE §1.6: (#edges ≤ v) − 1, the last
/// edge closed), clamped to the grid: a station inside the envelope but outside the degree edges
/// (the corner wedges of P-1) goes to the nearest border cell, so that no series is lost.
std::size_t bin_clamped(const std::vector<double>& edges, double v) {
    if (const auto cell = geo::closed_bin(edges, v)) {
        return *cell;
    }
    return v < edges.front() ? 0 : edges.size() - 2;
}

/// Stations with identical projected coordinates (co-located sectors) form one site; the k-d
/// tree holds sites, so the nearest-station query never has to break an exact tie.
struct Sites {
    std::vector<double> x_m;                ///< per site
    std::vector<double> y_m;                ///< per site
    std::vector<std::size_t> owner;         ///< per site: its first selected station (lowest row)
    std::vector<std::size_t> members;       ///< per site: stations at that location
    std::vector<std::uint32_t> of_station;  ///< per selected station: its site
};

Sites group_sites(const std::vector<double>& x_m, const std::vector<double>& y_m) {
    const std::size_t n = x_m.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (x_m[a] != x_m[b]) {
            return x_m[a] < x_m[b];
        }
        if (y_m[a] != y_m[b]) {
            return y_m[a] < y_m[b];
        }
        return a < b;
    });
    Sites sites;
    sites.of_station.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = order[k];
        const bool same = k > 0 && x_m[i] == x_m[order[k - 1]] && y_m[i] == y_m[order[k - 1]];
        if (!same) {
            sites.x_m.push_back(x_m[i]);
            sites.y_m.push_back(y_m[i]);
            sites.owner.push_back(i);
            sites.members.push_back(0);
        }
        sites.of_station[i] = static_cast<std::uint32_t>(sites.x_m.size() - 1);
        ++sites.members.back();
    }
    return sites;
}

/// nanoflann's dataset interface over the sites.
struct SitePoints {
    const Sites& sites;

    [[nodiscard]] std::size_t kdtree_get_point_count() const { return sites.x_m.size(); }

    [[nodiscard]] double kdtree_get_pt(std::size_t i, std::size_t dim) const {
        return dim == 0 ? sites.x_m[i] : sites.y_m[i];
    }

    template <class BBox>
    bool kdtree_get_bbox(BBox& /*bb*/) const {
        return false;
    }
};

using SiteTree =
    nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, SitePoints>,
                                        SitePoints, 2, std::uint32_t>;

/// Projects residents (in place: lon → x, lat → y) to `epsg` and returns each one's nearest
/// site. Each worker builds its own PROJ transformation (they are not thread-safe).
std::vector<std::uint32_t> nearest_sites(detail::Residents& residents, int epsg,
                                         const SiteTree& tree, int threads,
                                         core::Progress& progress) {
    const std::size_t count = residents.size();
    std::vector<std::uint32_t> site(count);
    progress.start("nearest station", count, "residents");
    detail::ProgressRelay relay(progress);
    constexpr std::size_t kChunk = 16384;
    const int workers = static_cast<int>(
        std::min<std::size_t>(static_cast<std::size_t>(threads), count / kChunk + 1));
    detail::run_workers(workers, [&](int w) {
        const OGRSpatialReference wgs84 = geo::detail::srs_from_epsg(4326);
        const OGRSpatialReference utm = geo::detail::srs_from_epsg(epsg);
        const auto to_utm = geo::detail::make_transform(wgs84, utm, "residents");
        const detail::Range range = detail::even_split(count, workers, w);
        for (std::size_t first = range.begin; first < range.end; first += kChunk) {
            const std::size_t n = std::min(kChunk, range.end - first);
            double* x = residents.lon_deg.data() + first;
            double* y = residents.lat_deg.data() + first;
            if (!to_utm->Transform(n, x, y)) {
                throw Error("residents",
                            fmt::format("cannot project to EPSG:{} ({})", epsg,
                                        geo::detail::last_gdal_error()),
                            "Check the city envelope.", ExitCode::kInternal);
            }
            for (std::size_t k = 0; k < n; ++k) {
                const double point[2] = {x[k], y[k]};
                std::uint32_t nearest = 0;
                double dist2 = 0;
                tree.knnSearch(point, 1, &nearest, &dist2);
                site[first + k] = nearest;
            }
            relay.add(n);
            if (w == 0) {
                relay.flush();
            }
        }
    });
    relay.flush();
    progress.finish();
    return site;
}

/// Each site's residents as runs of equal cells (residents ascend by id, so cells ascend too):
/// run r of site s covers run_count[r] residents of cell run_cell[r], r in
/// [run_begin[s], run_begin[s + 1]). Memory: one entry per (site, cell) pair, not per resident.
struct SiteRuns {
    std::vector<std::size_t> run_begin;
    std::vector<std::uint32_t> run_cell;
    std::vector<std::uint32_t> run_count;
    std::vector<std::size_t> residents;  ///< per site
};

SiteRuns site_runs(const std::vector<std::uint32_t>& cell, const std::vector<std::uint32_t>& site,
                   std::size_t sites) {
    SiteRuns out;
    out.residents.assign(sites, 0);
    std::vector<std::uint32_t> last(sites, kNoCell);
    std::vector<std::size_t> runs(sites, 0);
    for (std::size_t r = 0; r < cell.size(); ++r) {
        const std::uint32_t s = site[r];
        ++out.residents[s];
        if (last[s] != cell[r]) {
            last[s] = cell[r];
            ++runs[s];
        }
    }
    out.run_begin.assign(sites + 1, 0);
    for (std::size_t s = 0; s < sites; ++s) {
        out.run_begin[s + 1] = out.run_begin[s] + runs[s];
    }
    out.run_cell.assign(out.run_begin[sites], kNoCell);
    out.run_count.assign(out.run_begin[sites], 0);
    std::vector<std::size_t> cursor(out.run_begin.begin(), out.run_begin.end() - 1);
    for (std::size_t r = 0; r < cell.size(); ++r) {
        const std::uint32_t s = site[r];
        if (cursor[s] == out.run_begin[s] || out.run_cell[cursor[s] - 1] != cell[r]) {
            out.run_cell[cursor[s]] = cell[r];
            ++cursor[s];
        }
        ++out.run_count[cursor[s] - 1];
    }
    return out;
}

}  // namespace

namespace {

/// Step 2: the input rows (ascending) inside the closed envelope (P-4: not the polygon; NaN
/// coordinates are outside).
std::vector<std::size_t> stations_in_envelope(const geo::CityGrid& grid,
                                              const io::StationTable& stations) {
    const geo::BBoxDeg& box = grid.bbox;
    std::vector<std::size_t> selected;
    for (std::size_t b = 0; b < stations.size(); ++b) {
        const double lon = stations.lon_deg[b];
        const double lat = stations.lat_deg[b];
        if (box.lon_min_deg <= lon && lon <= box.lon_max_deg && box.lat_min_deg <= lat &&
            lat <= box.lat_max_deg) {
            selected.push_back(b);
        }
    }
    return selected;
}

/// Step 6: one UTM plane for residents and stations; the selected stations' coordinates in it.
struct StationPlane {
    int epsg = 0;
    std::vector<double> x_m;
    std::vector<double> y_m;
};

StationPlane project_stations(const detail::Residents& residents, const io::StationTable& stations,
                              const std::vector<std::size_t>& selected) {
    // REFCOMPAT: the zone comes from the mean lon/lat of all residents and stations together and
    // may differ from the grid's zone near a zone border (PIPELINE P-11).
    double lon_sum = 0;
    double lat_sum = 0;
    for (std::size_t r = 0; r < residents.size(); ++r) {
        lon_sum += residents.lon_deg[r];
        lat_sum += residents.lat_deg[r];
    }
    StationPlane plane;
    plane.x_m.resize(selected.size());
    plane.y_m.resize(selected.size());
    for (std::size_t i = 0; i < selected.size(); ++i) {
        plane.x_m[i] = stations.lon_deg[selected[i]];
        plane.y_m[i] = stations.lat_deg[selected[i]];
        lon_sum += plane.x_m[i];
        lat_sum += plane.y_m[i];
    }
    const auto points = static_cast<double>(residents.size() + selected.size());
    plane.epsg = geo::utm_epsg(geo::utm_zone_of(lon_sum / points), lat_sum / points >= 0.0);
    spdlog::debug("nearest-station search in EPSG:{}", plane.epsg);
    const OGRSpatialReference wgs84 = geo::detail::srs_from_epsg(4326);
    const OGRSpatialReference utm = geo::detail::srs_from_epsg(plane.epsg);
    const auto to_utm = geo::detail::make_transform(wgs84, utm, "stations");
    if (!to_utm->Transform(selected.size(), plane.x_m.data(), plane.y_m.data())) {
        throw Error("stations",
                    fmt::format("cannot project to EPSG:{} ({})", plane.epsg,
                                geo::detail::last_gdal_error()),
                    "Check the station coordinates.");
    }
    return plane;
}

/// Step 7: each site's residents (those nearer to it than to any other site), as runs of cells.
/// Releases the residents' coordinates and cells.
SiteRuns assign_residents(detail::Residents& residents, const Sites& sites, int epsg, int threads,
                          core::Progress& progress) {
    SiteRuns runs;
    if (residents.size() > 0) {
        const SitePoints site_points{sites};
        const SiteTree tree(2, site_points, nanoflann::KDTreeSingleIndexAdaptorParams(16));
        const std::vector<std::uint32_t> site =
            nearest_sites(residents, epsg, tree, threads, progress);
        release(residents.lon_deg);
        release(residents.lat_deg);
        runs = site_runs(residents.cell, site, sites.x_m.size());
    } else {
        runs.residents.assign(sites.x_m.size(), 0);
        runs.run_begin.assign(sites.x_m.size() + 1, 0);
    }
    release(residents.cell);
    return runs;
}

/// Which stations spread over residents; the others keep their series in their own cell
/// (kCorrected) or are dropped (kReference, P-5).
struct StationFates {
    std::vector<bool> spreads;
    std::vector<std::size_t> own_cell;
    std::size_t max_residents = 0;
};

StationFates station_fates(const geo::CityGrid& grid, const io::StationTable& stations,
                           const std::vector<std::size_t>& selected, const Sites& sites,
                           const SiteRuns& runs, bool corrected, Disaggregation& result) {
    StationFates fates;
    fates.spreads.resize(selected.size());
    fates.own_cell.assign(selected.size(), 0);
    std::size_t outside_degree_grid = 0;
    for (std::size_t i = 0; i < selected.size(); ++i) {
        const std::uint32_t s = sites.of_station[i];
        // REFCOMPAT (kReference): an exact tie goes to one station, here the lowest row (P-5).
        fates.spreads[i] = runs.residents[s] > 0 && (corrected || sites.owner[s] == i);
        if (fates.spreads[i]) {
            fates.max_residents = std::max(fates.max_residents, runs.residents[s]);
            continue;
        }
        ++result.stations_without_residents;
        const double lon = stations.lon_deg[selected[i]];
        const double lat = stations.lat_deg[selected[i]];
        const std::size_t row = bin_clamped(grid.lat_edges_deg, lat);
        const std::size_t col = bin_clamped(grid.lon_edges_deg, lon);
        fates.own_cell[i] = row * grid.cols() + col;
        outside_degree_grid +=
            (lon < grid.lon_edges_deg.front() || lon > grid.lon_edges_deg.back() ||
             lat < grid.lat_edges_deg.front() || lat > grid.lat_edges_deg.back())
                ? 1
                : 0;
    }
    if (result.stations_without_residents == 0)
        return fates;
    if (corrected) {
        spdlog::info(
            "{} stations have no resident nearer to them than to another station; "
            "their series stay in the cell they stand in",
            result.stations_without_residents);
        if (outside_degree_grid > 0) {
            spdlog::debug(
                "{} of them stand outside the degree grid (P-1 corners) and go to "
                "the nearest border cell",
                outside_degree_grid);
        }
    } else {
        spdlog::warn(
            "stations without any resident: {} (no resident nearer to them, or a "
            "co-located station took them all): their data are lost, as in the "
            "reference; the corrected layout keeps them",
            result.stations_without_residents);
    }
    return fates;
}

/// Resident k of a site gets w_k·D = z_k·(D / Σz) of the station's hour t, z_k = |N(0, 1)| from
/// the station-hour's own stream: their sums per cell go to `data` (hour t of each cell).
void spread_station_hour(std::uint64_t seed, std::size_t b, std::size_t t, double value,
                         const SiteRuns& runs, std::uint32_t s, std::vector<double>& z,
                         double* data) {
    const std::size_t m = runs.residents[s];
    detail::SeededStream stream(detail::stream_key(seed, detail::StreamDomain::kStationHour, b, t));
    double z_sum = 0;
    for (std::size_t k = 0; k < m; ++k) {
        z[k] = std::fabs(stream.normal());
        z_sum += z[k];
    }
    if (!(z_sum > 0)) {  // all draws exactly 0 (probability ~2^-53 · m)
        std::fill_n(z.begin(), m, 1.0);
        z_sum = static_cast<double>(m);
    }
    // One division per station-hour.
    const double per_z = value / z_sum;
    std::size_t k = 0;
    for (std::size_t r = runs.run_begin[s]; r < runs.run_begin[s + 1]; ++r) {
        double share = 0;
        for (std::uint32_t c = 0; c < runs.run_count[r]; ++c, ++k) {
            share += z[k] * per_z;
        }
        data[static_cast<std::size_t>(runs.run_cell[r]) * kHours + t] += share;
    }
}

}  // namespace

Disaggregation disaggregate(const geo::CityGrid& grid, const NdArray<float>& pop_100m,
                            const io::StationTable& stations, GridMetaLayout layout,
                            std::uint64_t seed, int threads, core::Progress& progress) {
    check_inputs(grid, pop_100m, stations, threads);
    const bool corrected = layout == GridMetaLayout::kCorrected;
    const std::size_t rows = grid.rows();
    const std::size_t cols = grid.cols();
    Disaggregation result;

    const std::vector<std::size_t> selected = stations_in_envelope(grid, stations);
    result.stations_in_box = selected.size();
    result.stations_outside = stations.size() - selected.size();
    spdlog::info("{} of {} stations inside the city envelope, {} outside it (ignored)",
                 selected.size(), stations.size(), result.stations_outside);

    // Step 5: residents.
    detail::Residents residents = detail::draw_residents(grid, pop_100m, seed, threads, progress);
    result.residents = residents.size();
    result.residents_100m = std::move(residents.per_cell);
    spdlog::info("{} synthetic residents in {} x {} cells", result.residents, rows, cols);
    result.data_100m = NdArray<double>({rows, cols, kHours});
    if (selected.empty()) {
        return result;
    }

    const StationPlane plane = project_stations(residents, stations, selected);
    const Sites sites = group_sites(plane.x_m, plane.y_m);
    std::size_t shared_locations = 0;
    for (const std::size_t members : sites.members) {
        result.stations_tied += members > 1 ? members : 0;
        shared_locations += members > 1 ? 1 : 0;
    }
    if (result.stations_tied > 0) {
        spdlog::info("{} stations share their location with another station ({} locations); {}",
                     result.stations_tied, shared_locations,
                     corrected ? "each location's residents serve all its stations"
                               : "one station per location gets all its residents (reference)");
    }
    const SiteRuns runs = assign_residents(residents, sites, plane.epsg, threads, progress);
    const StationFates fates =
        station_fates(grid, stations, selected, sites, runs, corrected, result);

    // Steps 8–9 fused: each station's weights go straight into the cells of its residents. The
    // workers split the hours (in blocks of 8 = one cache line of the cube) and each visits the
    // stations in input order, so every (cell, hour) sums its terms in the same order for any
    // thread count, and no worker needs a copy of the cube.
    constexpr std::size_t kHourBlock = 8;
    constexpr std::size_t kHourBlocks = (kHours + kHourBlock - 1) / kHourBlock;
    const int workers = std::min(threads, static_cast<int>(kHourBlocks));
    double* data = result.data_100m.data();
    const double* series = stations.series.data();
    progress.start("stations", selected.size(), "stations");
    detail::run_workers(workers, [&](int w) {
        const detail::Range blocks = detail::even_split(kHourBlocks, workers, w);
        const std::size_t t_begin = blocks.begin * kHourBlock;
        const std::size_t t_end = std::min(kHours, blocks.end * kHourBlock);
        std::vector<double> z(fates.max_residents);
        for (std::size_t i = 0; i < selected.size(); ++i) {
            const std::size_t b = selected[i];
            const double* d = series + b * kHours;
            if (fates.spreads[i]) {
                for (std::size_t t = t_begin; t < t_end; ++t)
                    spread_station_hour(seed, b, t, d[t], runs, sites.of_station[i], z, data);
            } else if (corrected) {
                for (std::size_t t = t_begin; t < t_end; ++t) {
                    data[fates.own_cell[i] * kHours + t] += d[t];
                }
            }
            if (w == 0) {
                progress.advance(1);
            }
        }
    });
    progress.finish();
    return result;
}

}  // namespace zoomdiff::pipeline
