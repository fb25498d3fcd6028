#include "zoomdiff/osm/layer_stats.hpp"

#include "osm/detail/cell_accumulator.hpp"
#include "osm/detail/geos_context.hpp"
#include "osm/detail/ogr_layer.hpp"

namespace zoomdiff::osm {

NdArray<std::int32_t> count_layer_centroids(const std::filesystem::path& layer_path,
                                            const geo::CityGrid& grid, core::Progress& progress) {
    detail::GeosContext geos;
    detail::CellAccumulator accumulator(geos, grid);
    NdArray<std::int32_t> counts({grid.rows(), grid.cols()});
    detail::LayerSink sink;
    sink.kind = detail::TargetKind::kCount;
    sink.counts = &counts;
    detail::accumulate_ogr_layer(layer_path, grid, accumulator, sink, progress);
    return counts;
}

NdArray<double> layer_length_per_cell_m(const std::filesystem::path& layer_path,
                                        const geo::CityGrid& grid, core::Progress& progress) {
    detail::GeosContext geos;
    detail::CellAccumulator accumulator(geos, grid);
    NdArray<double> length_m({grid.rows(), grid.cols()});
    detail::LayerSink sink;
    sink.kind = detail::TargetKind::kLength;
    sink.values = &length_m;
    detail::accumulate_ogr_layer(layer_path, grid, accumulator, sink, progress);
    return length_m;
}

NdArray<double> layer_area_per_cell_m2(const std::filesystem::path& layer_path,
                                       const geo::CityGrid& grid, core::Progress& progress) {
    detail::GeosContext geos;
    detail::CellAccumulator accumulator(geos, grid);
    NdArray<double> area_m2({grid.rows(), grid.cols()});
    detail::LayerSink sink;
    sink.kind = detail::TargetKind::kArea;
    sink.values = &area_m2;
    detail::accumulate_ogr_layer(layer_path, grid, accumulator, sink, progress);
    return area_m2;
}

}  // namespace zoomdiff::osm
