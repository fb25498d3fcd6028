#include "zoomdiff/poi/poi_counts.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

#include "poi/detail/csv_reader.hpp"
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/geo/binning.hpp"

namespace zoomdiff::poi {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPoiDirFix = "Pass the folder holding the POI tables with --poi_dir.";

// pandas' default missing-value tokens (read_csv na_values); the empty string is missing too.
constexpr std::array<std::string_view, 19> kNaTokens{
    "",     "#N/A", "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A",  "NA",       "NULL", "NaN",     "None",     "n/a",  "nan",  "null"};

bool is_missing(std::string_view value) {
    return std::find(kNaTokens.begin(), kNaTokens.end(), value) != kNaTokens.end();
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += sep;
        }
        out += item;
    }
    return out;
}

// A coordinate as Python's float() reads it for ordinary numbers (surrounding spaces, leading
// '+'); nullopt if it is not a number.
std::optional<double> parse_double(std::string_view text) {
    const auto is_space = [](char ch) {
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
    };
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    if (!text.empty() && text.front() == '+') {
        text.remove_prefix(1);
    }
    double value = 0.0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::vector<fs::path> list_csv_files(const fs::path& poi_dir) {
    std::error_code ec;
    if (!fs::is_directory(poi_dir, ec)) {
        throw Error(poi_dir.string(),
                    fs::exists(poi_dir, ec) ? "is not a folder" : "no such folder", kPoiDirFix);
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(poi_dir)) {
        if (entry.path().extension() == ".csv" && entry.is_regular_file()) {
            files.push_back(entry.path());
        }
    }
    if (files.empty()) {
        throw Error(poi_dir.string(), "no .csv files found", kPoiDirFix);
    }
    // The reference takes filesystem order; the result does not depend on it, but logs do.
    std::sort(files.begin(), files.end());
    return files;
}

// Position of each chosen column in a header; throws listing the file's columns if one lacks.
std::array<std::size_t, 4> column_positions(const std::vector<std::string>& header,
                                            const PoiColumns& columns, const fs::path& file) {
    std::array<std::size_t, 4> positions{};
    const std::array<const std::string*, 4> wanted{&columns.city, &columns.category, &columns.lon,
                                                   &columns.lat};
    std::vector<std::string> lacking;
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        const auto it = std::find(header.begin(), header.end(), *wanted[i]);
        if (it == header.end()) {
            lacking.push_back(*wanted[i]);
        } else {
            positions[i] = static_cast<std::size_t>(it - header.begin());
        }
    }
    if (!lacking.empty()) {
        throw Error(file.string(),
                    "lacks the column(s) " + join(lacking) + " (it has: " + join(header) + ")",
                    "Give every POI table the columns " + *wanted[0] + ", " + *wanted[1] + ", " +
                        *wanted[2] + ", " + *wanted[3] + ".");
    }
    return positions;
}

}  // namespace

PoiColumns detect_poi_columns(const std::vector<std::vector<std::string>>& headers,
                              const std::string& folder) {
    const auto has = [&](const std::string& name) {
        return std::any_of(headers.begin(), headers.end(), [&](const auto& header) {
            return std::find(header.begin(), header.end(), name) != header.end();
        });
    };
    if (has("lon_wgs84")) {
        return {"cityname", "bigType", "lon_wgs84", "lat_wgs84"};
    }
    if (has("wgs84_经度")) {
        return {"cityname", "行业大类", "wgs84_经度", "wgs84_纬度"};
    }
    std::vector<std::string> all;
    for (const auto& header : headers) {
        for (const auto& name : header) {
            if (std::find(all.begin(), all.end(), name) == all.end()) {
                all.push_back(name);
            }
        }
    }
    throw Error(folder,
                "the POI tables have neither a lon_wgs84 nor a wgs84_经度 column (columns: " +
                    join(all) + ")",
                "Use the English (cityname, bigType, lon_wgs84, lat_wgs84) or the Chinese "
                "(cityname, 行业大类, wgs84_经度, wgs84_纬度) column names.");
}

namespace {

/// The schema index of a row's category, remembering the last lookup (one file usually holds
/// one category).
class CategoryLookup {
public:
    explicit CategoryLookup(const PoiSchema& schema) : schema_(schema) {}

    /// The channel of `category` (never empty), or none for an excluded category; an unknown
    /// one throws naming the file, line and column.
    std::optional<std::size_t> channel(std::string_view category, const fs::path& file,
                                       std::size_t line, const std::string& column) {
        if (category != last_) {
            last_ = std::string(category);
            index_ = schema_.index_of(category);
            excluded_ = !index_ && schema_.is_excluded(category);
            if (!index_ && !excluded_) {
                throw Error(file.string(),
                            "line " + std::to_string(line) + ": unknown POI category '" + last_ +
                                "' in column " + column,
                            "Add it to a POI schema file (layout of "
                            "configs/poi_categories.yaml) and pass it with --poi_schema.");
            }
        }
        return excluded_ ? std::nullopt : index_;
    }

private:
    const PoiSchema& schema_;
    std::string last_;
    std::optional<std::size_t> index_;
    bool excluded_ = false;
};

/// One POI table's rows into `result` (`columns`: city, category, lon, lat positions;
/// `width`: the header's field count).
void count_file(const fs::path& file, const std::array<std::size_t, 4>& columns, std::size_t width,
                const std::string& category_column, const PoiSchema& schema,
                const std::string& city_filter, const geo::CityGrid& grid, PoiCounts& result,
                std::size_t& rows_missing_category) {
    const auto [city_col, category_col, lon_col, lat_col] = columns;
    detail::CsvReader reader = detail::CsvReader::from_file(file);
    std::vector<std::string_view> fields;
    reader.next(fields);  // the header, already checked
    CategoryLookup lookup(schema);
    while (reader.next(fields)) {
        if (fields.size() > width) {
            throw Error(file.string(),
                        "line " + std::to_string(reader.record_line()) + " has " +
                            std::to_string(fields.size()) + " fields, the header " +
                            std::to_string(width),
                        "Quote fields that contain commas.");
        }
        ++result.rows_read;
        const auto field = [&](std::size_t col) {
            return col < fields.size() ? fields[col] : std::string_view();
        };
        const std::string_view category = field(category_col);
        if (is_missing(category)) {
            // Deviation: the reference aborts here (its sort of text mixed with NaN fails,
            // PIPELINE P-16); dropping the row and warning once loses nothing else.
            ++rows_missing_category;
            continue;
        }
        const auto k = lookup.channel(category, file, reader.record_line(), category_column);
        if (!k) {
            ++result.rows_excluded;
            continue;
        }
        result.category_present[*k] = true;
        if (!city_filter.empty() && field(city_col) != city_filter) {
            continue;
        }
        const std::string_view lon_text = field(lon_col);
        const std::string_view lat_text = field(lat_col);
        if (is_missing(lon_text) || is_missing(lat_text)) {
            continue;
        }
        const std::optional<double> lon_deg = parse_double(lon_text);
        const std::optional<double> lat_deg = parse_double(lat_text);
        if (!lon_deg || !lat_deg) {
            throw Error(file.string(),
                        "line " + std::to_string(reader.record_line()) +
                            ": coordinate is not a number ('" + std::string(lon_text) + "', '" +
                            std::string(lat_text) + "')",
                        "Fix or remove that row.");
        }
        ++result.rows_kept;
        const auto col = geo::closed_bin(grid.lon_edges_deg, *lon_deg);
        const auto row = geo::closed_bin(grid.lat_edges_deg, *lat_deg);
        if (!col || !row) {
            continue;
        }
        ++result.counts.at(*row, *col, *k);
        ++result.rows_counted;
    }
}

/// One warning per kind of row left out, and for the categories no row had.
void report_counts(const fs::path& poi_dir, const PoiSchema& schema,
                   const std::string& category_column, const PoiCounts& result,
                   std::size_t rows_missing_category, std::size_t files) {
    if (rows_missing_category > 0) {
        spdlog::warn("{}: {} POI row(s) without a category in column {} were skipped",
                     poi_dir.string(), rows_missing_category, category_column);
    }
    if (result.rows_excluded > 0) {
        std::vector<std::string> names;
        for (const auto& c : schema.excluded()) {
            names.push_back(c.name_cn.empty() ? c.tag_en : c.name_cn);
        }
        spdlog::warn("{}: {} POI row(s) of excluded categories ({}) were skipped", poi_dir.string(),
                     result.rows_excluded, join(names));
    }
    std::vector<std::string> absent;
    for (std::size_t k = 0; k < schema.size(); ++k) {
        if (!result.category_present[k]) {
            const PoiCategory& c = schema.at(k);
            absent.push_back(std::to_string(k) + " " + (c.name_cn.empty() ? c.tag_en : c.name_cn));
        }
    }
    if (!absent.empty()) {
        spdlog::warn("{}: no rows for {} of {} POI categories; their channels are zero: {}",
                     poi_dir.string(), absent.size(), schema.size(), join(absent));
    }
    spdlog::debug("{}: {} POI rows read from {} files, {} kept, {} counted in the grid",
                  poi_dir.string(), result.rows_read, files, result.rows_kept, result.rows_counted);
}

}  // namespace

PoiCounts count_pois(const fs::path& poi_dir, const geo::CityGrid& grid, const PoiSchema& schema,
                     const std::string& city_filter, core::Progress& progress) {
    const std::vector<fs::path> files = list_csv_files(poi_dir);

    // Check every header before reading any data (STYLE P3).
    std::vector<std::vector<std::string>> headers;
    headers.reserve(files.size());
    for (const auto& file : files) {
        headers.push_back(detail::CsvReader::read_header(file));
    }
    const PoiColumns columns = detect_poi_columns(headers, poi_dir.string());
    std::vector<std::array<std::size_t, 4>> positions;
    for (std::size_t f = 0; f < files.size(); ++f) {
        positions.push_back(column_positions(headers[f], columns, files[f]));
    }

    PoiCounts result;
    result.counts = NdArray<std::int32_t>({grid.rows(), grid.cols(), schema.size()});
    result.category_present.assign(schema.size(), false);
    std::size_t rows_missing_category = 0;
    progress.start("POI tables", files.size(), "files");
    for (std::size_t f = 0; f < files.size(); ++f) {
        result.files_used.push_back(files[f].filename().string());
        count_file(files[f], positions[f], headers[f].size(), columns.category, schema, city_filter,
                   grid, result, rows_missing_category);
        progress.advance();
    }
    progress.finish();
    report_counts(poi_dir, schema, columns.category, result, rows_missing_category, files.size());
    return result;
}

}  // namespace zoomdiff::poi
