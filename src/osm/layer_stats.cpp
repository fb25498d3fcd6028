#include "zoomdiff/osm/layer_stats.hpp"

#include <type_traits>

#include "osm/detail/cell_accumulator.hpp"
#include "osm/detail/geos_context.hpp"
#include "osm/detail/ogr_layer.hpp"

namespace zoomdiff::osm {

namespace {

/// One layer into one (rows, cols) array of `T` by the accumulator rule `kind`.
template <typename T>
NdArray<T> accumulate_layer(const std::filesystem::path& layer_path, const geo::CityGrid& grid,
                            detail::TargetKind kind, core::Progress& progress) {
    detail::GeosContext geos;
    detail::CellAccumulator accumulator(geos, grid);
    NdArray<T> out({grid.rows(), grid.cols()});
    detail::LayerSink sink;
    sink.kind = kind;
    if constexpr (std::is_same_v<T, std::int32_t>) {
        sink.counts = &out;
    } else {
        sink.values = &out;
    }
    detail::accumulate_ogr_layer(layer_path, grid, accumulator, sink, progress);
    return out;
}

}  // namespace

NdArray<std::int32_t> count_layer_centroids(const std::filesystem::path& layer_path,
                                            const geo::CityGrid& grid, core::Progress& progress) {
    return accumulate_layer<std::int32_t>(layer_path, grid, detail::TargetKind::kCount, progress);
}

NdArray<double> layer_length_per_cell_m(const std::filesystem::path& layer_path,
                                        const geo::CityGrid& grid, core::Progress& progress) {
    return accumulate_layer<double>(layer_path, grid, detail::TargetKind::kLength, progress);
}

NdArray<double> layer_area_per_cell_m2(const std::filesystem::path& layer_path,
                                       const geo::CityGrid& grid, core::Progress& progress) {
    return accumulate_layer<double>(layer_path, grid, detail::TargetKind::kArea, progress);
}

}  // namespace zoomdiff::osm
