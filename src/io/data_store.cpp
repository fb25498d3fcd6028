#include "zoomdiff/io/data_store.hpp"

#include <utility>

#include <fmt/format.h>

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/geo/blocks.hpp"
#include "zoomdiff/io/cf.hpp"
#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::io {
namespace {

/// The data file as CF netCDF-4 (DESIGN §7): dimensions and coordinates for every variable the
/// file already holds, so xarray and GDAL open it; the variables themselves stay where our
/// readers and the reference's keys expect them.
void write_cf_data_layout(H5File& file, const CityData& data, std::size_t tile_rows,
                          std::size_t tile_cols) {
    const std::size_t hours = data.data_100m.dim(2);
    file.set_attr("/", "Conventions", kCfConventions);
    file.set_attr("/", "title",
                  "gridded " +
                      std::string(data.datatype == "user" ? "mobile users" : "mobile traffic") +
                      " (grid_meta)");
    file.set_attr("/", "history", file.attr_string("/", "command_line"));
    const std::string what = data.datatype == "user" ? "mobile users" : "mobile traffic";
    for (const auto& [scale, step] : {std::pair{"100m", 1}, std::pair{"500m", 5}}) {
        const std::string group = std::string("/") + scale;
        write_cf_grid(file, group, cf_grid_of(data.grid, static_cast<std::size_t>(step)));
        write_cf_hours(file, group, hours, data.time_start);
        cf_grid_variable(file, group, "data", {"y", "x", "time"},
                         fmt::format("{} per {} cell and hour", what, scale), data.units, false);
    }
    cf_grid_variable(file, "/100m", "residents", {"y", "x"},
                     "synthetic residents per 100 m cell (population disaggregation)", "1", false);
    write_cf_tile_axes(file, "", tile_rows, tile_cols);
    write_cf_hours(file, "", hours, data.time_start);
    write_cf_axis(file, "", "loc", {0, 1, 2, 3}, "", "lat_min, lat_max, lon_min, lon_max");
    cf_grid_variable(file, "", "data_2000m",
                     {"tile_row", "tile_col", "cell_row", "cell_col", "time"},
                     what + " per 500 m cell and hour, by 2000 m tile (the reference's layout)",
                     data.units, false);
    cf_grid_variable(file, "", "loc_2000m", {"tile_row", "tile_col", "loc"},
                     "tile extent in degrees (lat_min, lat_max, lon_min, lon_max)", "", false);
    file.set_attr("/loc_2000m", "units", "degree");
}

}  // namespace

void write_data_file(const std::filesystem::path& path, const CityData& data,
                     const DataSummary& summary, const Provenance& provenance) {
    core::AtomicOutput out(path);
    {
        H5File file = H5File::create(out.temp_path());
        write_standard_attributes(file, data.grid, geo::kBaseCellSizeM, provenance);
        file.set_attr("/", "format", "zoomdiff-data 1");
        file.set_attr("/", "datatype", data.datatype);
        file.set_attr("/", "units", data.units);
        file.set_attr("/", "time_start", data.time_start);
        file.set_attr("/", "time_zone", data.time_zone);
        file.set_attr("/", "time_step_minutes", std::int64_t{60});
        file.set_attr("/", "time_steps", static_cast<std::int64_t>(data.data_100m.dim(2)));
        file.set_attr("/", "input_step_minutes",
                      static_cast<std::int64_t>(data.input_step_minutes));
        file.set_attr("/", "layout", summary.layout);
        file.set_attr("/", "stations_in_file", summary.stations_in_file);
        file.set_attr("/", "stations_in_box", summary.stations_in_box);
        file.set_attr("/", "stations_outside", summary.stations_outside);
        file.set_attr("/", "stations_without_residents", summary.stations_without_residents);
        file.set_attr("/", "stations_tied", summary.stations_tied);
        file.set_attr("/", "residents", summary.residents);
        file.set_attr("/", "nan_values", summary.nan_values);
        write_grid(file, data.grid);

        const auto data_500m = geo::sum_blocks_500m(data.data_100m);
        file.write("/100m/data", data.data_100m);
        file.write("/500m/data", data_500m);
        file.write("/100m/residents", data.residents_100m);
        for (const char* key : {"/100m/data", "/500m/data"}) {
            file.set_attr(key, "units", data.units + " per cell and hour");
        }
        file.set_attr("/100m/residents", "units", "synthetic residents per cell");
        // The reference's two keys (PIPELINE §2.3 step 10-11).
        const auto tiles = geo::tile_blocks_2000m(data_500m);
        file.write("/data_2000m", tiles);
        file.write("/loc_2000m", geo::loc_2000m(data.grid));
        file.set_attr("/data_2000m", "units", data.units + " per 500 m cell and hour");
        file.set_attr("/loc_2000m", "units", "deg [lat_min, lat_max, lon_min, lon_max]");
        write_cf_data_layout(file, data, tiles.dim(0), tiles.dim(1));
        file.close();
    }
    out.commit();
}

std::uintmax_t data_file_bytes_bound(const geo::CityGrid& grid, std::size_t hours) {
    const std::uintmax_t cells = grid.rows() * grid.cols();
    // /100m/data float64 and residents int32, then /500m/data and /data_2000m: the 500 m grid
    // twice (1/25 of the cells each); the grid edges and attributes are a few kilobytes.
    const std::uintmax_t per_cell =
        hours * sizeof(double) + sizeof(std::int32_t) + 2 * sizeof(double);  // + the CF lat/lon
    return cells * per_cell + 2 * (cells / 25 + 1) * hours * sizeof(double) + (1U << 16);
}

}  // namespace zoomdiff::io
