#include "osm/detail/ogr_layer.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "geo/detail/gdal_util.hpp"
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogr_geometry.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::osm::detail {

namespace {

// The source-CRS prefilter box is the grid box transformed back (densified edges) and then
// enlarged by this fraction of its size on every side, to absorb the curvature between the
// densified points. It only needs to be conservative: the exact test is done in metres.
constexpr double kPrefilterMarginFraction = 0.1;
constexpr int kDensifyPoints = 21;

std::string gdal_error_or(const char* fallback) {
    const char* msg = CPLGetLastErrorMsg();
    return (msg != nullptr && *msg != '\0') ? std::string(msg) : std::string(fallback);
}

struct CtDeleter {
    void operator()(OGRCoordinateTransformation* ct) const noexcept {
        OGRCoordinateTransformation::DestroyCT(ct);
    }
};

using CtPtr = std::unique_ptr<OGRCoordinateTransformation, CtDeleter>;

struct BoxDeg {
    double x_min = 0;
    double y_min = 0;
    double x_max = 0;
    double y_max = 0;
};

}  // namespace

void require_layer_file(const std::filesystem::path& layer_path) {
    VSIStatBufL stat{};
    if (VSIStatL(layer_path.string().c_str(), &stat) != 0) {
        throw Error(layer_path.string(), "OSM layer file not found",
                    "Put the Geofabrik shapefile layer (.shp with its .shx, .dbf and .prj) in the "
                    "OSM folder, or pass an .osm.pbf file instead");
    }
}

GDALDatasetUniquePtr open_geofabrik_layer(const std::filesystem::path& layer_path) {
    require_layer_file(layer_path);
    const std::string path = layer_path.string();
    const char* const kOpenOptions[] = {"ENCODING=UTF-8", nullptr};
    CPLErrorReset();
    GDALDatasetUniquePtr dataset(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY,
                                                   nullptr, kOpenOptions, nullptr));
    if (!dataset || dataset->GetLayerCount() < 1) {
        throw Error(path, "cannot open as a vector layer (" + gdal_error_or("no layer") + ")",
                    "Pass a readable Geofabrik shapefile (.shp with .shx and .dbf)");
    }
    return dataset;
}

namespace {

/// A layer's way to the grid's CRS: none where it is already in it. The reference goes source →
/// EPSG:4326 → UTM; every Geofabrik layer is already EPSG:4326, so that is the one direct step
/// here (other CRSs: one step instead of two, same up to rounding).
struct LayerTransforms {
    CtPtr to_grid;
    CtPtr to_source;
};

LayerTransforms layer_transforms(OGRLayer& layer, const geo::CityGrid& grid,
                                 const std::string& path) {
    // CRS: none means EPSG:4326, as the reference assumes. Always x/y (lon/lat) axis order.
    OGRSpatialReference source_srs;
    if (const OGRSpatialReference* layer_srs = layer.GetSpatialRef(); layer_srs != nullptr) {
        source_srs = *layer_srs;
    } else {
        source_srs.importFromEPSG(4326);
    }
    source_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    const OGRSpatialReference grid_srs = geo::detail::srs_from_epsg(grid.epsg);
    LayerTransforms t;
    if (source_srs.IsSame(&grid_srs))
        return t;
    CPLErrorReset();
    t.to_grid.reset(OGRCreateCoordinateTransformation(&source_srs, &grid_srs));
    if (!t.to_grid) {
        throw Error(path,
                    "its CRS cannot be transformed to EPSG:" + std::to_string(grid.epsg) + " (" +
                        gdal_error_or("no transformation") + ")",
                    "Give the layer a valid .prj (Geofabrik layers are EPSG:4326)");
    }
    t.to_source.reset(OGRCreateCoordinateTransformation(&grid_srs, &source_srs));
    return t;
}

/// The prefilter box in the source CRS, from the grid's closed metre box; none where the box
/// cannot be transformed back.
std::optional<BoxDeg> prefilter_box(const EnvelopeM& box_m, const LayerTransforms& t) {
    if (!t.to_grid)
        return BoxDeg{box_m.x_min_m, box_m.y_min_m, box_m.x_max_m, box_m.y_max_m};
    BoxDeg prefilter;
    if (!t.to_source ||
        !t.to_source->TransformBounds(box_m.x_min_m, box_m.y_min_m, box_m.x_max_m, box_m.y_max_m,
                                      &prefilter.x_min, &prefilter.y_min, &prefilter.x_max,
                                      &prefilter.y_max, kDensifyPoints)) {
        return std::nullopt;
    }
    const double dx = (prefilter.x_max - prefilter.x_min) * kPrefilterMarginFraction;
    const double dy = (prefilter.y_max - prefilter.y_min) * kPrefilterMarginFraction;
    return BoxDeg{prefilter.x_min - dx, prefilter.y_min - dy, prefilter.x_max + dx,
                  prefilter.y_max + dy};
}

/// Attributes are never consulted: skip decoding them.
void ignore_attributes(OGRLayer& layer) {
    OGRFeatureDefn* defn = layer.GetLayerDefn();
    CPLStringList ignored;
    for (int i = 0; i < defn->GetFieldCount(); ++i) {
        ignored.AddString(defn->GetFieldDefn(i)->GetNameRef());
    }
    ignored.AddString("OGR_STYLE");
    layer.SetIgnoredFields(const_cast<const char**>(ignored.List()));
}

enum class FeatureFate { kSkipped, kUntransformed, kUnconvertible, kAdded };

/// One feature's geometry into the sink's cells (counted, or its length or area per cell).
FeatureFate add_feature(OGRGeometry& geom, const std::optional<BoxDeg>& prefilter,
                        const LayerTransforms& t, CellAccumulator& accumulator,
                        const LayerSink& sink) {
    if (geom.IsEmpty())
        return FeatureFate::kSkipped;
    if (prefilter) {
        OGREnvelope env;
        geom.getEnvelope(&env);
        if (env.MaxX < prefilter->x_min || env.MinX > prefilter->x_max ||
            env.MaxY < prefilter->y_min || env.MinY > prefilter->y_max) {
            return FeatureFate::kSkipped;
        }
    }
    if (t.to_grid && geom.transform(t.to_grid.get()) != OGRERR_NONE)
        return FeatureFate::kUntransformed;
    OGREnvelope env_m;
    geom.getEnvelope(&env_m);
    if (!accumulator.meets_grid(EnvelopeM{env_m.MinX, env_m.MinY, env_m.MaxX, env_m.MaxY}))
        return FeatureFate::kSkipped;
    if (sink.kind == TargetKind::kCount && wkbFlatten(geom.getGeometryType()) == wkbPoint) {
        const auto* point = geom.toPoint();
        accumulator.count_point(point->getX(), point->getY(), *sink.counts);
        return FeatureFate::kAdded;
    }
    GeomPtr geos_geom =
        make_geom(accumulator.geos(), geom.exportToGEOS(accumulator.geos().handle()));
    if (!geos_geom)
        return FeatureFate::kUnconvertible;
    switch (sink.kind) {
        case TargetKind::kCount:
            accumulator.count_centroid(geos_geom.get(), *sink.counts);
            break;
        case TargetKind::kLength:
            accumulator.add_length(geos_geom.get(), *sink.values);
            break;
        case TargetKind::kArea:
            accumulator.add_area(geos_geom.get(), *sink.values);
            break;
    }
    return FeatureFate::kAdded;
}

}  // namespace

void accumulate_ogr_layer(const std::filesystem::path& layer_path, const geo::CityGrid& grid,
                          CellAccumulator& accumulator, const LayerSink& sink,
                          core::Progress& progress) {
    const std::string path = layer_path.string();
    const GDALDatasetUniquePtr dataset = open_geofabrik_layer(layer_path);
    OGRLayer* layer = dataset->GetLayer(0);
    const LayerTransforms transforms = layer_transforms(*layer, grid, path);
    const std::optional<BoxDeg> prefilter = prefilter_box(accumulator.grid_box(), transforms);
    ignore_attributes(*layer);

    const GIntBig feature_count = layer->GetFeatureCount(TRUE);
    const std::string stem = layer_path.stem().string();
    if (feature_count == 0) {
        spdlog::warn("{}: layer has no features; its cells stay zero", path);
        return;
    }
    progress.start(stem, feature_count > 0 ? static_cast<std::uint64_t>(feature_count) : 0,
                   "features");
    const std::size_t repaired_before = accumulator.repaired_count();
    std::size_t failed_transform = 0;
    std::size_t failed_conversion = 0;
    std::size_t in_grid = 0;
    layer->ResetReading();
    geo::detail::GdalReadErrors read_errors;
    for (OGRFeatureUniquePtr feature = read_errors.next(*layer); feature;
         feature = read_errors.next(*layer)) {
        progress.advance();
        OGRGeometry* geom = feature->GetGeometryRef();
        if (geom == nullptr)
            continue;
        switch (add_feature(*geom, prefilter, transforms, accumulator, sink)) {
            case FeatureFate::kSkipped:
                break;
            case FeatureFate::kUntransformed:
                ++failed_transform;
                break;
            case FeatureFate::kUnconvertible:
                ++in_grid;
                ++failed_conversion;
                break;
            case FeatureFate::kAdded:
                ++in_grid;
                break;
        }
    }
    progress.finish();
    read_errors.throw_if_any(path, geo::detail::kVectorReadFix);
    spdlog::debug("{}: {} features, {} meet the grid", path, feature_count, in_grid);
    if (failed_transform > 0) {
        spdlog::warn("{}: {} features could not be transformed to EPSG:{} and were skipped", path,
                     failed_transform, grid.epsg);
    }
    if (failed_conversion > 0) {
        spdlog::warn(
            "{}: {} geometries GEOS could not read (e.g. a line of one point) were skipped", path,
            failed_conversion);
    }
    if (const std::size_t repaired = accumulator.repaired_count() - repaired_before; repaired > 0) {
        spdlog::warn("{}: {} invalid geometries were repaired with GEOSMakeValid before clipping",
                     path, repaired);
    }
}

}  // namespace zoomdiff::osm::detail
