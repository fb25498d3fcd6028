#include "zoomdiff/io/data_store.hpp"

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/geo/blocks.hpp"
#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::io {

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
        file.write("/data_2000m", geo::tile_blocks_2000m(data_500m));
        file.write("/loc_2000m", geo::loc_2000m(data.grid));
        file.set_attr("/data_2000m", "units", data.units + " per 500 m cell and hour");
        file.set_attr("/loc_2000m", "units", "deg [lat_min, lat_max, lon_min, lon_max]");
        file.close();
    }
    out.commit();
}

std::uintmax_t data_file_bytes_bound(const geo::CityGrid& grid, std::size_t hours) {
    const std::uintmax_t cells = grid.rows() * grid.cols();
    // /100m/data float64 and residents int32, then /500m/data and /data_2000m: the 500 m grid
    // twice (1/25 of the cells each); the grid edges and attributes are a few kilobytes.
    const std::uintmax_t per_cell = hours * sizeof(double) + sizeof(std::int32_t);
    return cells * per_cell + 2 * (cells / 25 + 1) * hours * sizeof(double) + (1U << 16);
}

}  // namespace zoomdiff::io
