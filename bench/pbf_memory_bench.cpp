// Streams a synthetic province-sized .osm.pbf through osm::compute_osm_conditions and reports
// peak RSS against the file size: memory should follow the grid and the node index, not the
// number of features. No real province extract is available offline, so the file is generated:
// a 3° × 3° "province" of street blocks (nodes on a lattice, residential roads along the rows,
// a closed building way in every block, a stream every 50 rows), written with libosmium.
//
//   pbf_memory_bench [target_MiB] [keep_file]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gdal.h>
#include <osmium/builder/attr.hpp>
#include <osmium/builder/osm_object_builder.hpp>
#include <osmium/io/pbf_output.hpp>
#include <osmium/io/writer.hpp>
#include <osmium/memory/buffer.hpp>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/osm/osm_conditions.hpp"

namespace fs = std::filesystem;

namespace {

constexpr double kWest = 114.0;
constexpr double kSouth = 26.0;
constexpr double kSpanDeg = 3.0;
constexpr double kBytesPerNode = 5.6;

/// Writes a lattice of `n` × `n` nodes with roads and buildings; returns the file size.
std::uintmax_t write_province(const fs::path& path, std::int64_t n) {
    using namespace osmium::builder::attr;  // NOLINT(google-build-using-namespace): libosmium's
                                            // builder DSL
    osmium::io::Writer writer{path.string(), osmium::io::overwrite::allow};
    const double step = kSpanDeg / static_cast<double>(n);
    const auto node_id = [n](std::int64_t r, std::int64_t c) { return r * n + c + 1; };
    osmium::memory::Buffer buffer{1 << 20, osmium::memory::Buffer::auto_grow::yes};
    std::uint64_t jitter = 7;
    const auto flush = [&] {
        if (buffer.committed() > (1 << 19)) {
            writer(std::move(buffer));
            buffer = osmium::memory::Buffer{1 << 20, osmium::memory::Buffer::auto_grow::yes};
        }
    };
    for (std::int64_t r = 0; r < n; ++r) {
        for (std::int64_t c = 0; c < n; ++c) {
            // Jitter of up to ±0.3 steps, so coordinate deltas compress like real data, not a
            // lattice.
            jitter = jitter * 6364136223846793005ULL + 1442695040888963407ULL;
            const double jx = (static_cast<double>((jitter >> 20) & 0xffff) / 65535.0 - 0.5) * 0.6;
            const double jy = (static_cast<double>((jitter >> 40) & 0xffff) / 65535.0 - 0.5) * 0.6;
            osmium::builder::add_node(buffer, _id(node_id(r, c)), _version(1),
                                      _location(kWest + step * (static_cast<double>(c) + jx),
                                                kSouth + step * (static_cast<double>(r) + jy)));
            flush();
        }
    }
    std::int64_t way = 1;
    for (std::int64_t r = 0; r + 1 < n; r += 2) {
        // a road along row r, in pieces of 64 nodes
        for (std::int64_t c0 = 0; c0 + 1 < n; c0 += 63) {
            std::vector<osmium::object_id_type> ids;
            for (std::int64_t c = c0; c < std::min(n, c0 + 64); ++c) {
                ids.push_back(node_id(r, c));
            }
            const char* tag = (r % 100 == 0) ? "waterway" : "highway";
            const char* value = (r % 100 == 0) ? "stream" : "residential";
            osmium::builder::add_way(buffer, _id(way++), _version(1), _nodes(ids),
                                     _tag(tag, value));
            flush();
        }
        // a building in every other block of the next row
        for (std::int64_t c = 0; c + 1 < n; c += 2) {
            osmium::builder::add_way(
                buffer, _id(way++), _version(1),
                _nodes({node_id(r, c), node_id(r, c + 1), node_id(r + 1, c + 1), node_id(r + 1, c),
                        node_id(r, c)}),
                _tag("building", "yes"));
            flush();
        }
    }
    writer(std::move(buffer));
    writer.close();
    return fs::file_size(path);
}

}  // namespace

/// Child mode: read the file through compute_osm_conditions and print one table row fragment.
int read_mode(const fs::path& path, std::int64_t nodes) {
    // A 20 km × 20 km city in the middle of the province.
    const double mid_lon = kWest + kSpanDeg / 2;
    const double mid_lat = kSouth + kSpanDeg / 2;
    const zoomdiff::geo::CityGrid grid = zoomdiff::geo::CityGrid::from_bbox(
        {mid_lon - 0.1, mid_lat - 0.09, mid_lon + 0.1, mid_lat + 0.09});
    zoomdiff::core::NullProgress progress;
    const auto t1 = std::chrono::steady_clock::now();
    const auto cond = zoomdiff::osm::compute_osm_conditions(path, grid, progress);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    long buildings = 0;
    for (std::size_t i = 0; i < cond.building_count.size(); ++i) {
        buildings += cond.building_count[i];
    }
    std::printf("| %.0f | %lld | %.1f | %zu x %zu | %ld | ",
                static_cast<double>(fs::file_size(path)) / (1024.0 * 1024.0),
                static_cast<long long>(nodes), s, grid.rows(), grid.cols(), buildings);
    std::fflush(stdout);
    return 0;
}

int main(int argc, char** argv) {
    GDALAllRegister();
    spdlog::set_level(spdlog::level::warn);
    if (argc == 4 && std::string(argv[1]) == "--read") {
        return read_mode(argv[2], std::atoll(argv[3]));
    }
    const double target_mib = argc > 1 ? std::atof(argv[1]) : 100.0;
    const bool keep = argc > 2;
    // Bytes per lattice node in this layout, measured on a small file: pick the lattice size.
    const auto n = static_cast<std::int64_t>(std::sqrt(target_mib * 1024 * 1024 / kBytesPerNode));
    const fs::path path = fs::temp_directory_path() / "zoomdiff_bench_province.osm.pbf";
    const auto t0 = std::chrono::steady_clock::now();
    const std::uintmax_t size = write_province(path, n);
    const double write_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    // Read in a fresh process (fork + exec): its peak RSS is the reader's alone, and libosmium's
    // thread pool does not survive a bare fork().
    const pid_t pid = fork();
    if (pid == 0) {
        const std::string nodes = std::to_string(n * n);
        execl("/proc/self/exe", argv[0], "--read", path.c_str(), nodes.c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    std::printf("%.0f |\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
    std::fprintf(stderr, "(wrote the synthetic file in %.1f s: %s)\n", write_s, path.c_str());
    if (!keep) {
        fs::remove(path);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
