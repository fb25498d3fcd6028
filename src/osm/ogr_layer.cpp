#include "osm/detail/ogr_layer.hpp"

#include <algorithm>
#include <memory>
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

void accumulate_ogr_layer(const std::filesystem::path& layer_path, const geo::CityGrid& grid,
                          CellAccumulator& accumulator, const LayerSink& sink,
                          core::Progress& progress) {
    const std::string path = layer_path.string();
    const GDALDatasetUniquePtr dataset = open_geofabrik_layer(layer_path);
    OGRLayer* layer = dataset->GetLayer(0);

    // CRS: none means EPSG:4326, as the reference assumes. Always x/y (lon/lat) axis order.
    OGRSpatialReference source_srs;
    if (const OGRSpatialReference* layer_srs = layer->GetSpatialRef(); layer_srs != nullptr) {
        source_srs = *layer_srs;
    } else {
        source_srs.importFromEPSG(4326);
    }
    source_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    const OGRSpatialReference grid_srs = geo::detail::srs_from_epsg(grid.epsg);

    // The reference goes source → EPSG:4326 → UTM; every Geofabrik layer is already EPSG:4326,
    // so that is the one direct step here (other CRSs: one step instead of two, same up to
    // rounding). A layer already in the grid's CRS is used as is.
    CtPtr to_grid;
    CtPtr to_source;
    if (!source_srs.IsSame(&grid_srs)) {
        CPLErrorReset();
        to_grid.reset(OGRCreateCoordinateTransformation(&source_srs, &grid_srs));
        if (!to_grid) {
            throw Error(path,
                        "its CRS cannot be transformed to EPSG:" + std::to_string(grid.epsg) +
                            " (" + gdal_error_or("no transformation") + ")",
                        "Give the layer a valid .prj (Geofabrik layers are EPSG:4326)");
        }
        to_source.reset(OGRCreateCoordinateTransformation(&grid_srs, &source_srs));
    }

    // Prefilter box in the source CRS, from the grid's closed metre box.
    const EnvelopeM& box_m = accumulator.grid_box();
    bool have_prefilter = false;
    BoxDeg prefilter;
    if (!to_grid) {
        prefilter = BoxDeg{box_m.x_min_m, box_m.y_min_m, box_m.x_max_m, box_m.y_max_m};
        have_prefilter = true;
    } else if (to_source &&
               to_source->TransformBounds(box_m.x_min_m, box_m.y_min_m, box_m.x_max_m,
                                          box_m.y_max_m, &prefilter.x_min, &prefilter.y_min,
                                          &prefilter.x_max, &prefilter.y_max, kDensifyPoints)) {
        const double dx = (prefilter.x_max - prefilter.x_min) * kPrefilterMarginFraction;
        const double dy = (prefilter.y_max - prefilter.y_min) * kPrefilterMarginFraction;
        prefilter = BoxDeg{prefilter.x_min - dx, prefilter.y_min - dy, prefilter.x_max + dx,
                           prefilter.y_max + dy};
        have_prefilter = true;
    }

    // Attributes are never consulted: skip decoding them.
    OGRFeatureDefn* defn = layer->GetLayerDefn();
    CPLStringList ignored;
    for (int i = 0; i < defn->GetFieldCount(); ++i) {
        ignored.AddString(defn->GetFieldDefn(i)->GetNameRef());
    }
    ignored.AddString("OGR_STYLE");
    layer->SetIgnoredFields(const_cast<const char**>(ignored.List()));

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
        if (geom == nullptr || geom->IsEmpty()) {
            continue;
        }
        if (have_prefilter) {
            OGREnvelope env;
            geom->getEnvelope(&env);
            if (env.MaxX < prefilter.x_min || env.MinX > prefilter.x_max ||
                env.MaxY < prefilter.y_min || env.MinY > prefilter.y_max) {
                continue;
            }
        }
        if (to_grid && geom->transform(to_grid.get()) != OGRERR_NONE) {
            ++failed_transform;
            continue;
        }
        OGREnvelope env_m;
        geom->getEnvelope(&env_m);
        if (!accumulator.meets_grid(EnvelopeM{env_m.MinX, env_m.MinY, env_m.MaxX, env_m.MaxY})) {
            continue;
        }
        ++in_grid;
        if (sink.kind == TargetKind::kCount && wkbFlatten(geom->getGeometryType()) == wkbPoint) {
            const auto* point = geom->toPoint();
            accumulator.count_point(point->getX(), point->getY(), *sink.counts);
            continue;
        }
        GeomPtr geos_geom =
            make_geom(accumulator.geos(), geom->exportToGEOS(accumulator.geos().handle()));
        if (!geos_geom) {
            ++failed_conversion;
            continue;
        }
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
