#pragma once
// Helpers of the osm unit tests: tiny vector layers written with OGR, and a small test grid.

#include <stdexcept>
#include <string>
#include <vector>

#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include "zoomdiff/geo/city_grid.hpp"

namespace zoomdiff::test {

/// A 4.9 km × 4.4 km grid near Nanchang (UTM zone 50N).
inline geo::CityGrid small_test_grid() {
    geo::BBoxDeg bbox;
    bbox.lon_min_deg = 115.80;
    bbox.lat_min_deg = 28.68;
    bbox.lon_max_deg = 115.85;
    bbox.lat_max_deg = 28.72;
    return geo::CityGrid::from_bbox(bbox);
}

/// Writes a single-layer ESRI shapefile at `path` (a real path or /vsimem/…) in EPSG `epsg`
/// (0 = no .prj) holding `wkts`.
inline void write_shapefile(const std::string& path, int epsg, OGRwkbGeometryType type,
                            const std::vector<std::string>& wkts) {
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("ESRI Shapefile");
    GDALDatasetUniquePtr ds(driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
    if (!ds) {
        throw std::runtime_error("cannot create " + path);
    }
    OGRSpatialReference srs;
    if (epsg != 0) {
        srs.importFromEPSG(epsg);
        srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    }
    OGRLayer* layer = ds->CreateLayer("layer", epsg != 0 ? &srs : nullptr, type, nullptr);
    OGRFieldDefn field("osm_id", OFTString);
    layer->CreateField(&field);
    for (const auto& wkt : wkts) {
        OGRFeature feature(layer->GetLayerDefn());
        OGRGeometry* geom = nullptr;
        if (OGRGeometryFactory::createFromWkt(wkt.c_str(), nullptr, &geom) != OGRERR_NONE) {
            throw std::runtime_error("bad WKT " + wkt);
        }
        feature.SetGeometryDirectly(geom);
        feature.SetField("osm_id", "1");
        if (layer->CreateFeature(&feature) != OGRERR_NONE) {
            throw std::runtime_error("cannot write a feature to " + path);
        }
    }
}

}  // namespace zoomdiff::test
