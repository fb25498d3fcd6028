#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/city_grid.hpp"
#include "zoomdiff/poi/poi_schema.hpp"

namespace zoomdiff::poi {

/// POI counts per 100 m cell and category.
struct PoiCounts {
    /// (rows, cols, schema.size()) int32 on the 100 m grid, rows from the south (DESIGN §3);
    /// channel k = schema category k.
    NdArray<std::int32_t> counts;
    /// Per category: had at least one row in the files (before the city filter).
    std::vector<bool> category_present;
    /// Data rows read from all files (blank lines not counted).
    std::size_t rows_read = 0;
    /// Rows that passed the city filter and have category, longitude and latitude.
    std::size_t rows_kept = 0;
    /// Rows binned into a cell: city matched, coordinates and category present, inside the grid.
    std::size_t rows_counted = 0;
    /// Rows of excluded categories (schema.excluded()) that were skipped.
    std::size_t rows_excluded = 0;
    /// File names (not paths) of the CSVs read, sorted.
    std::vector<std::string> files_used;
};

/// Names of the four columns used from the POI tables (PIPELINE §3.5).
struct PoiColumns {
    std::string city;
    std::string category;
    std::string lon;
    std::string lat;
};

/// The column variant of a set of POI tables, decided once from the union of their headers as the
/// reference does: a header `lon_wgs84` anywhere → English (cityname, bigType, lon_wgs84,
/// lat_wgs84); else `wgs84_经度` anywhere → Chinese (cityname, 行业大类, wgs84_经度, wgs84_纬度).
/// Throws zoomdiff::Error (subject `folder`) listing the headers when neither is present.
PoiColumns detect_poi_columns(const std::vector<std::vector<std::string>>& headers,
                              const std::string& folder);

/// Count the POIs of every `*.csv` directly in `poi_dir` on the degree edges of `grid`.
///
/// CSVs are UTF-8 (a BOM is stripped), RFC 4180 quoting, LF or CRLF line ends. Values that are
/// empty or one of pandas' default NA tokens are missing. Each row's category is looked up in
/// `schema` by any name variant; rows of `schema.excluded()` categories are skipped (counted in
/// one warning). Rows are kept whose city column equals `city_filter` exactly (empty = keep all)
/// and that have longitude, latitude and category. Cell rule (PIPELINE §1.6, POI): a point is kept
/// if lon_edges[0] <= lon <= lon_edges[N] and likewise for latitude; cell = (#edges <= v) − 1,
/// and a point exactly on the last edge goes into the last cell. Categories with no rows at all
/// get zero channels and one spdlog warning listing them.
///
/// Throws zoomdiff::Error: missing folder or no *.csv in it; headers in neither column variant;
/// a file lacking one of the chosen columns (lists its columns); a category not in the schema
/// (names file, line and value); an unparsable coordinate (names file and line); a malformed CSV
/// (unterminated quote, too many fields).
PoiCounts count_pois(const std::filesystem::path& poi_dir, const geo::CityGrid& grid,
                     const PoiSchema& schema, const std::string& city_filter,
                     core::Progress& progress);

}  // namespace zoomdiff::poi
