#include "zoomdiff/io/cond_store.hpp"

#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/geo/blocks.hpp"
#include "zoomdiff/io/cf.hpp"
#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::io {
namespace {

template <typename T>
NdArray<double> as_double_vector(const std::vector<T>& v) {
    return NdArray<double>({v.size()}, std::vector<double>(v.begin(), v.end()));
}

template <typename T>
NdArray<T> add(NdArray<T> a, const NdArray<T>& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        a[i] += b[i];
    }
    return a;
}

/// Writes one quantity at the three scales, with its units.
template <typename T>
void write_three_scales(H5File& file, const std::string& name, const NdArray<T>& a100,
                        const std::string& units) {
    const auto a500 = geo::sum_blocks_500m(a100);
    const auto a2000 = geo::tile_blocks_2000m(a500);
    file.write("/100m/" + name, a100);
    file.write("/500m/" + name, a500);
    file.write("/2000m/" + name, a2000);
    for (const char* scale : {"/100m/", "/500m/", "/2000m/"}) {
        file.set_attr(scale + name, "units", units);
    }
}

/// The quantities of a condition file: name, long name, UDUNITS unit.
struct Quantity {
    const char* name;
    const char* long_name;
    const char* units;
};

constexpr Quantity kQuantities[] = {{"population", "people (WorldPop)", "1"},
                                    {"building_count", "OSM buildings (centroid in the cell)", "1"},
                                    {"road_length_m", "OSM road length", "m"},
                                    {"waterway_length_m", "OSM waterway length", "m"},
                                    {"water_area_m2", "OSM water area", "m2"},
                                    {"natural_count", "OSM natural features", "1"},
                                    {"osm_poi_count", "OSM points of interest", "1"},
                                    {"poi_count", "points of interest per category", "1"}};

/// The condition file as CF netCDF-4 (DESIGN §7): dimensions and coordinates for every variable
/// the file already holds; the variables stay where our readers and the reference expect them.
void write_cf_cond_layout(H5File& file, const CityConditions& cond, std::size_t tile_rows,
                          std::size_t tile_cols) {
    file.set_attr("/", "Conventions", kCfConventions);
    file.set_attr("/", "title", "grid conditions (env_extra)");
    file.set_attr("/", "history", file.attr_string("/", "command_line"));
    const bool masked = cond.mask_100m.size() > 0;
    const std::vector<std::string> tile_dims{"tile_row", "tile_col", "cell_row", "cell_col"};
    const auto with = [](std::vector<std::string> dims, const char* extra) {
        dims.emplace_back(extra);
        return dims;
    };
    for (const auto& [scale, step] :
         {std::pair{"100m", 1}, std::pair{"500m", 5}, std::pair{"2000m", 0}}) {
        const std::string group = std::string("/") + scale;
        std::vector<std::string> dims{"y", "x"};
        if (step == 0) {
            write_cf_tile_axes(file, group, tile_rows, tile_cols);
            dims = tile_dims;
        } else {
            write_cf_grid(file, group, cf_grid_of(cond.grid, static_cast<std::size_t>(step)));
        }
        write_cf_labels(file, group, "poi_category", cond.poi_categories, "POI category");
        for (const Quantity& q : kQuantities) {
            const bool per_category = std::string(q.name) == "poi_count";
            cf_grid_variable(file, group, q.name, per_category ? with(dims, "poi_category") : dims,
                             fmt::format("{} per {} cell", q.long_name, scale), q.units, false);
        }
        if (masked) {
            cf_grid_variable(file, group, "mask", dims,
                             "1 where the cell centre lies inside the city polygon", "", false);
        }
    }
    // The reference's keys at the root.
    write_cf_tile_axes(file, "", tile_rows, tile_cols);
    write_cf_labels(file, "", "poi_category", cond.poi_categories, "POI category");
    write_cf_axis(file, "", "loc", {0, 1, 2, 3}, "", "lat_min, lat_max, lon_min, lon_max");
    const Quantity reference_keys[] = {{"pop_2000m", "people (WorldPop)", "1"},
                                       {"building_2000m", "OSM buildings", "1"},
                                       {"roadlen_2000m", "OSM road and waterway length", "m"},
                                       {"water_area_2000m", "OSM water area", "m2"},
                                       {"poi_2000m", "points of interest per category", "1"}};
    for (const Quantity& q : reference_keys) {
        const bool per_category = std::string(q.name) == "poi_2000m";
        cf_grid_variable(
            file, "", q.name, per_category ? with(tile_dims, "poi_category") : tile_dims,
            fmt::format("{} per 500 m cell, by 2000 m tile (the reference's layout)", q.long_name),
            q.units, false);
    }
    cf_grid_variable(file, "", "loc_2000m", {"tile_row", "tile_col", "loc"},
                     "tile extent in degrees (lat_min, lat_max, lon_min, lon_max)", "", false);
    file.set_attr("/loc_2000m", "units", "degree");
    for (const char* name : {"poi_categories", "poi_category_present"})
        file.attach_dimensions(std::string("/") + name, {"/poi_category"});
}

}  // namespace

void write_standard_attributes(H5File& file, const geo::CityGrid& grid, double cell_size_m,
                               const Provenance& provenance) {
    file.set_attr("/", "epsg", static_cast<std::int64_t>(grid.epsg));
    file.set_attr("/", "utm_zone", static_cast<std::int64_t>(grid.utm_zone));
    file.set_attr("/", "cell_size_m", cell_size_m);
    file.set_attr("/", "bbox_lon_min_lat_min_lon_max_lat_max",
                  std::vector<double>{grid.bbox.lon_min_deg, grid.bbox.lat_min_deg,
                                      grid.bbox.lon_max_deg, grid.bbox.lat_max_deg});
    file.set_attr("/", "row_order", "south_to_north");
    file.set_attr("/", "tool", provenance.tool);
    file.set_attr("/", "version", ZOOMDIFF_VERSION);
    file.set_attr("/", "command_line", provenance.command_line);
    file.set_attr("/", "seed", static_cast<std::int64_t>(provenance.seed));
    file.set_attr("/", "city", provenance.city_en);
    file.set_attr("/", "city_cn", provenance.city_cn);
    if (!provenance.resolved_config_json.empty()) {
        file.set_attr("/", "resolved_config", provenance.resolved_config_json);
    }
}

void write_cond_file(const std::filesystem::path& path, const CityConditions& cond,
                     const Provenance& provenance) {
    core::AtomicOutput out(path);
    {
        H5File file = H5File::create(out.temp_path());
        write_standard_attributes(file, cond.grid, geo::kBaseCellSizeM, provenance);
        file.set_attr("/", "format", "zoomdiff-cond 1");

        write_grid(file, cond.grid);

        write_three_scales(file, "population", cond.population, "people per cell");
        write_three_scales(file, "building_count", cond.building_count, "buildings per cell");
        write_three_scales(file, "road_length_m", cond.road_length_m, "m");
        write_three_scales(file, "waterway_length_m", cond.waterway_length_m, "m");
        write_three_scales(file, "water_area_m2", cond.water_area_m2, "m2");
        write_three_scales(file, "natural_count", cond.natural_count, "features per cell");
        write_three_scales(file, "osm_poi_count", cond.osm_poi_count, "features per cell");
        write_three_scales(file, "poi_count", cond.poi_count, "POIs per cell and category");
        if (cond.mask_100m.size() > 0) {
            file.write("/100m/mask", cond.mask_100m);
            file.write("/500m/mask", cond.mask_500m);
            file.write("/2000m/mask", geo::tile_blocks_2000m(cond.mask_500m));
            for (const char* key : {"/100m/mask", "/500m/mask", "/2000m/mask"}) {
                file.set_attr(key, "units", "1 = cell centre inside the city polygon");
            }
        }
        file.write_strings("/poi_categories", cond.poi_categories);
        file.write(
            "/poi_category_present",
            NdArray<std::uint8_t>({cond.poi_category_present.size()}, cond.poi_category_present));

        // The reference's keys, with exactly the reference's meaning and dtypes (PIPELINE §3.6).
        const auto tiles = [](const auto& a100) {
            return geo::tile_blocks_2000m(geo::sum_blocks_500m(a100));
        };
        file.write("/pop_2000m", tiles(cond.population));
        file.write("/building_2000m", tiles(cond.building_count));
        // REFCOMPAT: the reference's road length includes waterways (PIPELINE N-17).
        file.write("/roadlen_2000m", tiles(add(cond.road_length_m, cond.waterway_length_m)));
        file.write("/water_area_2000m", tiles(cond.water_area_m2));
        file.write("/poi_2000m", tiles(cond.poi_count));
        file.write("/loc_2000m", geo::loc_2000m(cond.grid));
        file.set_attr("/pop_2000m", "units", "people per 500 m cell");
        file.set_attr("/building_2000m", "units", "buildings per 500 m cell");
        file.set_attr("/roadlen_2000m", "units", "m (roads + waterways) per 500 m cell");
        file.set_attr("/water_area_2000m", "units", "m2 per 500 m cell");
        file.set_attr("/poi_2000m", "units", "POIs per 500 m cell and category");
        file.set_attr("/loc_2000m", "units", "deg [lat_min, lat_max, lon_min, lon_max]");
        const auto pop_tiles = tiles(cond.population);
        write_cf_cond_layout(file, cond, pop_tiles.dim(0), pop_tiles.dim(1));
        file.close();
    }
    out.commit();
}

void write_grid(H5File& file, const geo::CityGrid& grid) {
    const struct {
        const char* name;
        const std::vector<double>* edges;
        const char* units;
    } edges[] = {{"x_edges_m", &grid.x_edges_m, "m"},
                 {"y_edges_m", &grid.y_edges_m, "m"},
                 {"lon_edges_deg", &grid.lon_edges_deg, "degrees_east"},
                 {"lat_edges_deg", &grid.lat_edges_deg, "degrees_north"}};

    for (const auto& e : edges) {
        const std::string path = std::string("/grid/") + e.name;
        file.write(path, as_double_vector(*e.edges));
        file.make_dimension(path);  // each its own netCDF dimension (DESIGN §7)
        file.set_attr(path, "units", e.units);
    }
}

geo::CityGrid read_grid(const H5File& file) {
    geo::CityGrid grid;
    const auto bbox = file.attr_doubles("/", "bbox_lon_min_lat_min_lon_max_lat_max");
    grid.bbox = {bbox.at(0), bbox.at(1), bbox.at(2), bbox.at(3)};
    grid.epsg = static_cast<int>(file.attr_int("/", "epsg"));
    grid.utm_zone = static_cast<int>(file.attr_int("/", "utm_zone"));
    grid.north = grid.epsg < 32700;
    grid.x_edges_m = file.read<double>("/grid/x_edges_m").values();
    grid.y_edges_m = file.read<double>("/grid/y_edges_m").values();
    grid.lon_edges_deg = file.read<double>("/grid/lon_edges_deg").values();
    grid.lat_edges_deg = file.read<double>("/grid/lat_edges_deg").values();
    return grid;
}

std::uintmax_t cond_file_bytes_bound(const geo::CityGrid& grid, std::size_t poi_categories) {
    const std::uintmax_t cells = grid.rows() * grid.cols();
    // At 100 m: population (float32), three lengths and areas (float64), three counts and the
    // POI counts per category (int32), the mask (uint8), the CF lat/lon (float64). The /500m/
    // and /2000m/ copies hold 1/25 of the cells each; the reference's keys widen to 8 bytes
    // (pop_2000m stays float32).
    const std::uintmax_t k = poi_categories;
    const std::uintmax_t per_cell = 4 + 3 * 8 + 3 * 4 + k * 4 + 1 + 2 * 8;
    const std::uintmax_t reference_keys = 4 + 3 * 8 + k * 8;
    return cells * per_cell + (cells / 25 + 1) * (2 * per_cell + reference_keys) + (1U << 16);
}

}  // namespace zoomdiff::io
