#include "zoomdiff/geo/boundary.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <vector>

#include "geo/detail/gdal_util.hpp"
#include <fmt/format.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>
#include <spdlog/spdlog.h>

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

/// The first layer of a vector file, kept open with its dataset.
struct OpenLayer {
    GDALDatasetUniquePtr ds;
    OGRLayer* layer = nullptr;
    int field_index = -1;
};

OpenLayer open_layer(const std::filesystem::path& path, const std::string& field) {
    const std::string subject = path.string();
    if (!std::filesystem::exists(path)) {
        throw Error(
            subject, "boundary file not found",
            "Pass the city boundary polygons (Shapefile, GeoPackage or GeoJSON) with --shp_path.");
    }
    OpenLayer open;
    open.ds.reset(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
    if (!open.ds || open.ds->GetLayerCount() < 1) {
        throw Error(subject, "not a readable vector file (" + detail::last_gdal_error() + ")",
                    "Pass a Shapefile, GeoPackage or GeoJSON of city polygons with --shp_path.");
    }
    open.layer = open.ds->GetLayer(0);
    OGRFeatureDefn* defn = open.layer->GetLayerDefn();
    open.field_index = defn->GetFieldIndex(field.c_str());
    if (open.field_index < 0) {
        std::vector<std::string> fields;
        for (int i = 0; i < defn->GetFieldCount(); ++i) {
            fields.emplace_back(defn->GetFieldDefn(i)->GetNameRef());
        }
        throw Error(subject,
                    fmt::format("has no field '{}' (fields: {})", field, fmt::join(fields, ", ")),
                    "Name the field holding city names with --boundary_field.");
    }
    return open;
}

/// The n values closest to any of `targets` (edit distance, case-insensitive), closest first.
std::vector<std::string> closest_values(std::vector<std::string> values,
                                        const std::vector<std::string>& targets, std::size_t n) {
    std::vector<std::string> lowered;
    for (const auto& t : targets) {
        lowered.push_back(lower_ascii(t));
    }
    const auto distance = [&](const std::string& v) {
        std::size_t best = std::string::npos;
        const std::string lv = lower_ascii(v);
        for (const auto& t : lowered) {
            best = std::min(best, edit_distance(lv, t));
        }
        return best;
    };
    std::stable_sort(values.begin(), values.end(), [&](const std::string& a, const std::string& b) {
        return distance(a) < distance(b);
    });
    values.resize(std::min(values.size(), n));
    return values;
}

/// The chosen record's polygon in WGS 84, with its envelope.
CityBoundary boundary_from_feature(const std::string& subject, OGRLayer* layer,
                                   const Candidate& chosen) {
    OGRFeatureUniquePtr feature(layer->GetFeature(chosen.fid));
    OGRGeometry* geometry = feature ? feature->GetGeometryRef() : nullptr;
    if (geometry == nullptr || geometry->IsEmpty()) {
        throw Error(subject, "the record of '" + chosen.value + "' has no geometry",
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
    CityBoundary boundary = detail::boundary_of(*geom, chosen.value, chosen.fid);
    const BBoxDeg& box = boundary.bbox;
    if (box.lon_min_deg < -180.0 || box.lon_max_deg > 180.0 || box.lat_min_deg < -90.0 ||
        box.lat_max_deg > 90.0) {
        throw Error(subject,
                    fmt::format("the boundary envelope ({}, {}, {}, {}) is not in degrees",
                                box.lon_min_deg, box.lat_min_deg, box.lon_max_deg, box.lat_max_deg),
                    "Give the file a CRS (.prj) or reproject it to EPSG:4326.");
    }
    return boundary;
}

std::string box_text(const BBoxDeg& b) {
    return fmt::format("{},{},{},{}", b.lon_min_deg, b.lat_min_deg, b.lon_max_deg, b.lat_max_deg);
}

void check_bbox(const BBoxDeg& b, const std::string& subject) {
    const auto fix =
        "Give the box as lon_min,lat_min,lon_max,lat_max in WGS 84 degrees, e.g. "
        "9.04,45.38,9.28,45.54.";
    if (!(b.lon_min_deg >= -180.0 && b.lon_max_deg <= 180.0 && b.lat_min_deg >= -90.0 &&
          b.lat_max_deg <= 90.0)) {
        throw Error(subject, "box outside -180..180 longitude / -90..90 latitude", fix);
    }
    if (!(b.lon_min_deg < b.lon_max_deg && b.lat_min_deg < b.lat_max_deg)) {
        throw Error(subject, "empty or inverted box (need lon_min < lon_max and lat_min < lat_max)",
                    fix);
    }
}

}  // namespace

CityBoundary find_boundary_by_value(const std::filesystem::path& path, const std::string& field,
                                    const std::string& value) {
    const std::string subject = path.string();
    OpenLayer open = open_layer(path, field);
    const std::string value_lower = lower_ascii(value);
    std::vector<Candidate> exact;
    std::vector<Candidate> caseless;
    std::vector<std::string> all_values;
    open.layer->ResetReading();
    detail::GdalReadErrors read_errors;
    for (auto feature = read_errors.next(*open.layer); feature;
         feature = read_errors.next(*open.layer)) {
        if (!feature->IsFieldSetAndNotNull(open.field_index)) {
            continue;
        }
        const std::string v = feature->GetFieldAsString(open.field_index);
        all_values.push_back(v);
        if (v == value) {
            exact.push_back({v, feature->GetFID(), true});
        } else if (lower_ascii(v) == value_lower) {
            caseless.push_back({v, feature->GetFID(), false});
        }
    }
    read_errors.throw_if_any(subject, detail::kVectorReadFix);
    const std::vector<Candidate>& pool = exact.empty() ? caseless : exact;
    if (pool.empty()) {
        const auto closest = closest_values(std::move(all_values), {value}, 5);
        throw Error(subject,
                    fmt::format("no record whose '{}' is '{}' (closest: {})", field, value,
                                closest.empty() ? std::string("none")
                                                : fmt::format("{}", fmt::join(closest, ", "))),
                    "Give the exact field value with --boundary_value.");
    }
    if (pool.size() > 1) {
        std::vector<std::string> found;
        for (const auto& c : pool) {
            found.push_back(fmt::format("{} (feature {})", c.value, c.fid));
        }
        throw Error(subject,
                    fmt::format("{} records have '{}' = '{}': {}", pool.size(), field, value,
                                fmt::join(found, ", ")),
                    "Pick another field whose values are unique, or clean the file.");
    }
    return boundary_from_feature(subject, open.layer, pool.front());
}

CityBoundary boundary_from_bbox(const BBoxDeg& b) {
    check_bbox(b, "bbox '" + box_text(b) + "'");
    CityBoundary boundary;
    boundary.bbox = b;
    boundary.matched_value = "bbox";
    boundary.feature_id = -1;
    boundary.polygon_wkt = fmt::format("POLYGON (({0} {1},{2} {1},{2} {3},{0} {3},{0} {1}))",
                                       b.lon_min_deg, b.lat_min_deg, b.lon_max_deg, b.lat_max_deg);
    return boundary;
}

CityBoundary find_city_boundary(const std::filesystem::path& path, const std::string& field,
                                const CityNames& names) {
    const std::string subject = path.string();
    OpenLayer open = open_layer(path, field);
    OGRLayer* layer = open.layer;
    const int field_index = open.field_index;

    const bool reference_rule = field == kReferenceBoundaryField;
    const std::string cn_lower = lower_ascii(names.cn);
    const std::string en_lower = lower_ascii(names.en);
    std::vector<Candidate> candidates;
    std::vector<std::string> all_values;
    layer->ResetReading();
    detail::GdalReadErrors read_errors;
    for (auto feature = read_errors.next(*layer); feature; feature = read_errors.next(*layer)) {
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
            partial =
                v.find(en_lower) != std::string::npos || v.find(cn_lower) != std::string::npos;
        }
        if (exact || partial) {
            candidates.push_back({value, feature->GetFID(), exact});
        }
    }

    read_errors.throw_if_any(subject, detail::kVectorReadFix);
    std::vector<Candidate> exact;
    std::copy_if(candidates.begin(), candidates.end(), std::back_inserter(exact),
                 [](const Candidate& c) { return c.exact; });
    const std::vector<Candidate>& pool = exact.empty() ? candidates : exact;
    if (pool.empty()) {
        const auto closest = closest_values(std::move(all_values), {names.cn, names.en}, 5);
        throw Error(subject,
                    fmt::format("no record whose '{}' matches '{}' (closest: {})", field,
                                names.cn == names.en ? names.cn : names.cn + "/" + names.en,
                                closest.empty() ? std::string("none")
                                                : fmt::format("{}", fmt::join(closest, ", "))),
                    "Check --cityname, or pick the field with --boundary_field.");
    }
    if (pool.size() > 1) {
        std::vector<std::string> values;
        for (const auto& c : pool) {
            values.push_back(c.value);
        }
        throw Error(subject,
                    fmt::format("{} records match '{}' in field '{}': {}", pool.size(), names.cn,
                                field, fmt::join(values, ", ")),
                    "Give the full name with --cityname (e.g. the exact field value).");
    }
    return boundary_from_feature(subject, layer, pool.front());
}

BBoxDeg parse_bbox(const std::string& text) {
    const std::string subject = "bbox '" + text + "'";
    const auto fix =
        "Give the box as lon_min,lat_min,lon_max,lat_max in WGS 84 degrees, e.g. "
        "9.04,45.38,9.28,45.54.";
    std::vector<double> numbers;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        const char* begin = part.c_str();
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(begin, &end);
        while (end != nullptr && *end != '\0' &&
               std::isspace(static_cast<unsigned char>(*end)) != 0) {
            ++end;
        }
        if (end == begin || end == nullptr || *end != '\0' || errno != 0 || !std::isfinite(v)) {
            throw Error(subject, "'" + part + "' is not a number", fix);
        }
        numbers.push_back(v);
    }
    if (numbers.size() != 4 || (!text.empty() && text.back() == ',')) {
        throw Error(subject, fmt::format("needs 4 comma-separated numbers, got {}", numbers.size()),
                    fix);
    }
    const BBoxDeg box{numbers[0], numbers[1], numbers[2], numbers[3]};
    check_bbox(box, subject);
    return box;
}

}  // namespace zoomdiff::geo
