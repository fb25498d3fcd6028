#include "zoomdiff/geo/boundary.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <vector>

#include <gdal_priv.h>
#include <ogrsf_frmts.h>
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include "geo/detail/gdal_util.hpp"
#include "zoomdiff/core/error.hpp"

namespace zoomdiff::geo {
namespace {

std::string lower_ascii(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

/// Edit distance over bytes, good enough to rank close names for an error message.
std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1);
    std::vector<std::size_t> cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        prev[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

struct Candidate {
    std::string value;
    GIntBig fid;
    bool exact;
};

}  // namespace

CityBoundary find_city_boundary(const std::filesystem::path& path, const std::string& field,
                                const CityNames& names) {
    const std::string subject = path.string();
    if (!std::filesystem::exists(path)) {
        throw Error(subject, "boundary file not found",
                    "Pass the city boundary polygons (Shapefile, GeoPackage or GeoJSON) with --shp_path.");
    }
    GDALDatasetUniquePtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
    if (!ds || ds->GetLayerCount() < 1) {
        throw Error(subject, "not a readable vector file (" + detail::last_gdal_error() + ")",
                    "Pass a Shapefile, GeoPackage or GeoJSON of city polygons with --shp_path.");
    }
    OGRLayer* layer = ds->GetLayer(0);
    OGRFeatureDefn* defn = layer->GetLayerDefn();
    const int field_index = defn->GetFieldIndex(field.c_str());
    if (field_index < 0) {
        std::vector<std::string> fields;
        for (int i = 0; i < defn->GetFieldCount(); ++i) {
            fields.emplace_back(defn->GetFieldDefn(i)->GetNameRef());
        }
        throw Error(subject, fmt::format("has no field '{}' (fields: {})", field, fmt::join(fields, ", ")),
                    "Name the field holding city names with --boundary_field.");
    }

    const bool reference_rule = field == kReferenceBoundaryField;
    const std::string cn_lower = lower_ascii(names.cn);
    const std::string en_lower = lower_ascii(names.en);
    std::vector<Candidate> candidates;
    std::vector<std::string> all_values;
    layer->ResetReading();
    for (auto& feature : *layer) {
        if (!feature->IsFieldSetAndNotNull(field_index)) {
            continue;
        }
        const std::string value = feature->GetFieldAsString(field_index);
        all_values.push_back(value);
        const std::string v = lower_ascii(value);
        bool exact = false;
        bool partial = false;
        if (reference_rule) {
            // REFCOMPAT: the reference keeps records whose 地名 contains the Chinese name.
            exact = value == names.cn || value == names.cn + "市";
            partial = value.find(names.cn) != std::string::npos;
        } else {
            exact = v == cn_lower || v == en_lower || v == cn_lower + "市";
            partial = v.find(en_lower) != std::string::npos || v.find(cn_lower) != std::string::npos;
        }
        if (exact || partial) {
            candidates.push_back({value, feature->GetFID(), exact});
        }
    }

    std::vector<Candidate> exact;
    std::copy_if(candidates.begin(), candidates.end(), std::back_inserter(exact),
                 [](const Candidate& c) { return c.exact; });
    const std::vector<Candidate>& pool = exact.empty() ? candidates : exact;
    if (pool.empty()) {
        std::sort(all_values.begin(), all_values.end(), [&](const std::string& a, const std::string& b) {
            const auto da = std::min(edit_distance(lower_ascii(a), cn_lower), edit_distance(lower_ascii(a), en_lower));
            const auto db = std::min(edit_distance(lower_ascii(b), cn_lower), edit_distance(lower_ascii(b), en_lower));
            return da < db;
        });
        all_values.resize(std::min<std::size_t>(all_values.size(), 5));
        throw Error(subject,
                    fmt::format("no record whose '{}' matches '{}' (closest: {})", field,
                                names.cn == names.en ? names.cn : names.cn + "/" + names.en,
                                all_values.empty() ? std::string("none") : fmt::format("{}", fmt::join(all_values, ", "))),
                    "Check --cityname, or pick the field with --boundary_field.");
    }
    if (pool.size() > 1) {
        std::vector<std::string> values;
        for (const auto& c : pool) {
            values.push_back(c.value);
        }
        throw Error(subject,
                    fmt::format("{} records match '{}' in field '{}': {}", pool.size(), names.cn, field,
                                fmt::join(values, ", ")),
                    "Give the full name with --cityname (e.g. the exact field value).");
    }

    OGRFeatureUniquePtr feature(layer->GetFeature(pool.front().fid));
    OGRGeometry* geometry = feature ? feature->GetGeometryRef() : nullptr;
    if (geometry == nullptr || geometry->IsEmpty()) {
        throw Error(subject, "the record of '" + pool.front().value + "' has no geometry",
                    "Repair the boundary file or choose another one.");
    }
    std::unique_ptr<OGRGeometry> geom(geometry->clone());
    const OGRSpatialReference* layer_srs = layer->GetSpatialRef();
    const OGRSpatialReference wgs84 = detail::srs_from_epsg(4326);
    if (layer_srs == nullptr) {
        spdlog::warn("{}: no CRS; taking it as WGS 84 longitude/latitude", subject);
    } else {
        OGRSpatialReference srs(*layer_srs);
        srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        if (!srs.IsSame(&wgs84)) {
            const auto ct = detail::make_transform(srs, wgs84, subject);
            if (geom->transform(ct.get()) != OGRERR_NONE) {
                throw Error(subject, "cannot convert the boundary to WGS 84",
                            "Reproject it with ogr2ogr -t_srs EPSG:4326.");
            }
            spdlog::info("{}: boundary converted from {} to WGS 84", subject,
                         srs.GetName() != nullptr ? srs.GetName() : "its CRS");
        }
    }
    OGREnvelope env;
    geom->getEnvelope(&env);
    CityBoundary boundary;
    boundary.bbox = {env.MinX, env.MinY, env.MaxX, env.MaxY};
    boundary.matched_value = pool.front().value;
    boundary.feature_id = pool.front().fid;
    char* wkt = nullptr;
    geom->exportToWkt(&wkt);
    boundary.polygon_wkt = wkt != nullptr ? wkt : "";
    CPLFree(wkt);
    if (env.MinX < -180.0 || env.MaxX > 180.0 || env.MinY < -90.0 || env.MaxY > 90.0) {
        throw Error(subject, fmt::format("the boundary envelope ({}, {}, {}, {}) is not in degrees",
                                         env.MinX, env.MinY, env.MaxX, env.MaxY),
                    "Give the file a CRS (.prj) or reproject it to EPSG:4326.");
    }
    return boundary;
}

}  // namespace zoomdiff::geo
