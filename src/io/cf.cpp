#include "zoomdiff/io/cf.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>

#include "geo/detail/gdal_util.hpp"
#include <fmt/format.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::io {
namespace {

std::string at(const std::string& group, const std::string& name) {
    return group + "/" + name;
}

/// A 1-D coordinate variable that is its own dimension.
void write_axis(H5File& file, const std::string& path, const std::vector<double>& values) {
    file.write(path, NdArray<double>({values.size()}, values));
    file.make_dimension(path);
}

/// CF's transverse-Mercator parameters of WGS 84 / UTM zone `epsg`, plus the WKT that GDAL
/// (`spatial_ref`) and CF-1.7+ readers (`crs_wkt`) take.
void write_grid_mapping(H5File& file, const std::string& path, int epsg) {
    const bool north = epsg > 32600 && epsg <= 32660;
    if (!north && !(epsg > 32700 && epsg <= 32760)) {
        throw Error("EPSG:" + std::to_string(epsg), "is not a WGS 84 / UTM zone",
                    "Report this: our grids are UTM", ExitCode::kInternal);
    }
    const int zone = epsg % 100;
    file.write(path, NdArray<std::int32_t>({}, 0));
    file.set_attr(path, "grid_mapping_name", "transverse_mercator");
    file.set_attr(path, "longitude_of_central_meridian", 6.0 * zone - 183.0);
    file.set_attr(path, "latitude_of_projection_origin", 0.0);
    file.set_attr(path, "scale_factor_at_central_meridian", 0.9996);
    file.set_attr(path, "false_easting", 500000.0);
    file.set_attr(path, "false_northing", north ? 0.0 : 10000000.0);
    file.set_attr(path, "semi_major_axis", 6378137.0);
    file.set_attr(path, "inverse_flattening", 298.257223563);
    const OGRSpatialReference srs = geo::detail::srs_from_epsg(epsg);
    char* wkt = nullptr;
    srs.exportToWkt(&wkt);
    const std::string text = wkt != nullptr ? wkt : "";
    CPLFree(wkt);
    file.set_attr(path, "crs_wkt", text);
    file.set_attr(path, "spatial_ref", text);
    file.set_attr(path, "epsg_code", fmt::format("EPSG:{}", epsg));
}

}  // namespace

std::vector<double> cell_centres(const std::vector<double>& edges) {
    std::vector<double> out;
    for (std::size_t i = 0; i + 1 < edges.size(); ++i)
        out.push_back(0.5 * (edges[i] + edges[i + 1]));
    return out;
}

void write_cf_index_axis(H5File& file, const std::string& group, const std::string& name,
                         std::size_t n, const std::string& long_name) {
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i)
        values[i] = static_cast<double>(i);
    write_cf_axis(file, group, name, values, "", long_name);
}

CfGrid cf_grid_of(const geo::CityGrid& grid, std::size_t step) {
    const auto every = [step](const std::vector<double>& edges) {
        std::vector<double> out;
        for (std::size_t i = 0; i < edges.size(); i += step)
            out.push_back(edges[i]);
        return out;
    };
    return {every(grid.x_edges_m), every(grid.y_edges_m), every(grid.lon_edges_deg),
            every(grid.lat_edges_deg), grid.epsg};
}

void write_cf_hours(H5File& file, const std::string& group, std::size_t hours,
                    const std::string& time_start) {
    std::vector<double> values(hours);
    for (std::size_t h = 0; h < hours; ++h)
        values[h] = static_cast<double>(h);
    const bool known = !time_start.empty() && time_start != "unspecified";
    std::string since = time_start;
    std::replace(since.begin(), since.end(), 'T', ' ');
    write_cf_axis(file, group, "time", values, known ? "hours since " + since : "hours",
                  known ? "local time" : "hours since the start of the week");
    file.set_attr(at(group, "time"), "axis", "T");
    if (known)
        file.set_attr(at(group, "time"), "standard_name", "time");
}

void write_cf_tile_axes(H5File& file, const std::string& group, std::size_t tile_rows,
                        std::size_t tile_cols) {
    write_cf_index_axis(file, group, "tile_row", tile_rows,
                        "row of the 2000 m tile, from the south");
    write_cf_index_axis(file, group, "tile_col", tile_cols,
                        "column of the 2000 m tile, from the west");
    write_cf_index_axis(file, group, "cell_row", geo::kCellsPer2000m,
                        "row of the 500 m cell inside its tile, from the south");
    write_cf_index_axis(file, group, "cell_col", geo::kCellsPer2000m,
                        "column of the 500 m cell inside its tile, from the west");
}

void write_cf_labels(H5File& file, const std::string& group, const std::string& name,
                     const std::vector<std::string>& labels, const std::string& long_name) {
    file.write_strings(at(group, name), labels);
    file.make_dimension(at(group, name));
    file.set_attr(at(group, name), "long_name", long_name);
}

std::string cf_units(const std::string& units, std::string* note) {
    static const std::map<std::string, std::string> kUdunits{
        {"B", "byte"}, {"byte", "byte"}, {"bytes", "byte"}, {"kB", "kB"},
        {"KB", "kB"},  {"MB", "MB"},     {"GB", "GB"},      {"TB", "TB"},
        {"1", "1"},    {"m", "m"},       {"m2", "m2"},      {"km", "km"}};
    const auto it = kUdunits.find(units);
    if (it != kUdunits.end()) {
        if (note != nullptr)
            note->clear();
        return it->second;
    }
    if (note != nullptr)
        *note = units;
    return "1";
}

void write_cf_grid(H5File& file, const std::string& group, const CfGrid& grid) {
    const std::vector<double> x = cell_centres(grid.x_edges_m);
    const std::vector<double> y = cell_centres(grid.y_edges_m);
    write_axis(file, at(group, "x"), x);
    file.set_attr(at(group, "x"), "standard_name", "projection_x_coordinate");
    file.set_attr(at(group, "x"), "long_name", "easting of the cell centre");
    file.set_attr(at(group, "x"), "units", "m");
    file.set_attr(at(group, "x"), "axis", "X");
    write_axis(file, at(group, "y"), y);
    file.set_attr(at(group, "y"), "standard_name", "projection_y_coordinate");
    file.set_attr(at(group, "y"), "long_name", "northing of the cell centre (rows from the south)");
    file.set_attr(at(group, "y"), "units", "m");
    file.set_attr(at(group, "y"), "axis", "Y");

    const struct {
        const char* name;
        const std::vector<double>* values;
        const char* units;
        const char* long_name;
    } edges[] = {
        {"x_edges_m", &grid.x_edges_m, "m", "cell edges, easting"},
        {"y_edges_m", &grid.y_edges_m, "m", "cell edges, northing"},
        {"lon_edges_deg", &grid.lon_edges_deg, "degrees_east",
         "cell edges, longitude (the metre edges projected along the grid's middle row)"},
        {"lat_edges_deg", &grid.lat_edges_deg, "degrees_north",
         "cell edges, latitude (the metre edges projected along the grid's middle column)"}};

    for (const auto& e : edges) {
        write_axis(file, at(group, e.name), *e.values);
        file.set_attr(at(group, e.name), "units", e.units);
        file.set_attr(at(group, e.name), "long_name", e.long_name);
    }

    if (grid.epsg == 0)
        return;  // a placeholder grid (UoMo patches side by side): no map, so no CRS
    // Exact cell-centre coordinates: each (x, y) projected to WGS 84.
    const OGRSpatialReference utm = geo::detail::srs_from_epsg(grid.epsg);
    const OGRSpatialReference wgs84 = geo::detail::srs_from_epsg(4326);
    const auto to_wgs84 =
        geo::detail::make_transform(utm, wgs84, "EPSG:" + std::to_string(grid.epsg));
    NdArray<double> lat({y.size(), x.size()});
    NdArray<double> lon({y.size(), x.size()});
    for (std::size_t r = 0; r < y.size(); ++r) {
        std::vector<double> px = x;
        std::vector<double> py(x.size(), y[r]);
        if (!px.empty() &&
            !to_wgs84->Transform(static_cast<int>(px.size()), px.data(), py.data())) {
            throw Error("EPSG:" + std::to_string(grid.epsg),
                        "cannot project the cell centres to WGS 84", "Report this",
                        ExitCode::kInternal);
        }
        for (std::size_t c = 0; c < x.size(); ++c) {
            lon.at(r, c) = px[c];
            lat.at(r, c) = py[c];
        }
    }
    file.write(at(group, "lat"), lat);
    file.write(at(group, "lon"), lon);
    for (const char* name : {"lat", "lon"}) {
        const bool is_lat = name[1] == 'a';
        file.attach_dimensions(at(group, name), {at(group, "y"), at(group, "x")});
        file.set_attr(at(group, name), "standard_name", is_lat ? "latitude" : "longitude");
        file.set_attr(at(group, name), "long_name",
                      is_lat ? "latitude of the cell centre" : "longitude of the cell centre");
        file.set_attr(at(group, name), "units", is_lat ? "degrees_north" : "degrees_east");
    }
    write_grid_mapping(file, at(group, "crs"), grid.epsg);
}

void write_cf_axis(H5File& file, const std::string& group, const std::string& name,
                   const std::vector<double>& values, const std::string& units,
                   const std::string& long_name) {
    write_axis(file, at(group, name), values);
    if (!units.empty())
        file.set_attr(at(group, name), "units", units);
    file.set_attr(at(group, name), "long_name", long_name);
}

void cf_grid_variable(H5File& file, const std::string& group, const std::string& variable,
                      const std::vector<std::string>& dims, const std::string& long_name,
                      const std::string& units, bool float32_fill) {
    const std::string path = at(group, variable);
    std::vector<std::string> scales;
    bool gridded = false;
    for (const auto& d : dims) {
        scales.push_back(at(group, d));
        gridded = gridded || d == "x";
    }
    file.attach_dimensions(path, scales);
    file.set_attr(path, "long_name", long_name);
    // No unit given: the words a writer put in `units` become a note beside a UDUNITS unit.
    const std::string given =
        units.empty() && file.has_attr(path, "units") ? file.attr_string(path, "units") : units;
    if (!given.empty()) {
        std::string note;
        file.set_attr(path, "units", cf_units(given, &note));
        if (!note.empty())
            file.set_attr(path, "units_note", note);
    }
    if (gridded && file.exists(at(group, "crs"))) {
        file.set_attr(path, "grid_mapping", "crs");
        file.set_attr(path, "coordinates", "lat lon");
    }
    if (float32_fill)
        file.set_attr(path, "_FillValue", std::numeric_limits<float>::quiet_NaN());
}

}  // namespace zoomdiff::io
