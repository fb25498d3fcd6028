#include "zoomdiff/io/stations.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/io/npz.hpp"

namespace zoomdiff::io {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormats =
    "Supported: .npz (the reference's raw file: '<datatype>' (N, 168), 'long' (N,), 'lat' (N,)), "
    ".csv wide (lon,lat,h000..h167, optional leading station) or .csv long "
    "(station,lon,lat,hour,value)";
constexpr const char* kCoordinateFix =
    "Coordinates must be WGS 84 degrees in lon, lat order; check that the columns are not "
    "swapped or projected";

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string out = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        out += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
    }
    return out + (shape.size() == 1 ? ",)" : ")");
}

std::string number_text(double value) {
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return {buffer.data(), result.ptr};
}

/// Checks shared by every format, then NaN → 0 with one warning (PIPELINE §2.3 step 2).
void finish(StationTable& table) {
    const std::string file = table.source.string();
    const std::size_t n = table.size();
    if (n == 0) {
        throw Error(file, "no stations", "Pass a file with at least one station");
    }
    std::size_t bad_count = 0;
    std::size_t first_bad = 0;
    for (std::size_t b = 0; b < n; ++b) {
        // Written so that NaN coordinates fail too.
        const bool ok = table.lon_deg[b] >= -180.0 && table.lon_deg[b] <= 180.0 &&
                        table.lat_deg[b] >= -90.0 && table.lat_deg[b] <= 90.0;
        if (!ok && bad_count++ == 0) {
            first_bad = b;
        }
    }
    if (bad_count > 0) {
        throw Error(
            file,
            std::to_string(bad_count) + " of " + std::to_string(n) +
                " stations have coordinates outside lon [-180, 180] / lat [-90, 90] (or NaN), "
                "e.g. '" +
                table.ids[first_bad] + "' at lon " + number_text(table.lon_deg[first_bad]) +
                ", lat " + number_text(table.lat_deg[first_bad]),
            kCoordinateFix);
    }
    std::size_t nan_count = 0;
    std::size_t inf_count = 0;
    std::size_t first_inf = 0;
    std::size_t negative_count = 0;
    std::size_t first_negative = 0;
    std::vector<double>& values = table.series.values();
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (std::isnan(values[i])) {
            values[i] = 0.0;
            ++nan_count;
        } else if (std::isinf(values[i]) && inf_count++ == 0) {
            first_inf = i;
        } else if (values[i] < 0.0 && negative_count++ == 0) {
            first_negative = i;
        }
    }
    if (negative_count > 0) {
        // issue 19: traffic and user counts are >= 0; a negative one made negative maps.
        throw Error(
            file,
            fmt::format("{} negative values in the series, e.g. station '{}' hour {}: {} "
                        "(traffic and user counts cannot be negative)",
                        negative_count, table.ids[first_negative / kHoursPerWeek],
                        first_negative % kHoursPerWeek, number_text(values[first_negative])),
            "Fix the values, or replace them by NaN (read as 0)");
    }
    if (inf_count > 0) {
        // The reference would carry inf into every sum; no downstream step can use it.
        throw Error(file,
                    std::to_string(inf_count) + " infinite values in the series, e.g. station '" +
                        table.ids[first_inf / kHoursPerWeek] + "' hour " +
                        std::to_string(first_inf % kHoursPerWeek),
                    "Replace them by finite values or NaN (read as 0)");
    }
    table.nan_values += nan_count;
    if (table.nan_values > 0) {
        spdlog::warn("{}: {} NaN values in the station series replaced by 0", file,
                     table.nan_values);
    }
}

// ---- .npz ------------------------------------------------------------------------------------

/// (N, 168·k) → (N, 168): each hour is the sum of its k consecutive sub-hourly steps; a NaN step
/// counts as 0 (and in `nan_values`), as a NaN hour would.
NdArray<double> sum_to_hours(const NdArray<double>& series, std::size_t& nan_values) {
    const std::size_t n = series.dim(0);
    const std::size_t k = series.dim(1) / kHoursPerWeek;
    if (k == 1) {
        return series;
    }
    NdArray<double> hourly({n, kHoursPerWeek});
    for (std::size_t b = 0; b < n; ++b) {
        for (std::size_t h = 0; h < kHoursPerWeek; ++h) {
            double sum = 0.0;
            for (std::size_t j = 0; j < k; ++j) {
                const double v = series[(b * kHoursPerWeek + h) * k + j];
                if (std::isnan(v)) {
                    ++nan_values;
                } else {
                    sum += v;
                }
            }
            hourly[b * kHoursPerWeek + h] = sum;
        }
    }
    return hourly;
}

StationTable read_npz(const fs::path& path, const std::string& datatype) {
    const NpzReader npz = NpzReader::open(path);
    const std::string file = path.string();
    const std::string needs =
        "A raw station file holds '" + datatype + "' (N, 168), 'long' (N,) and 'lat' (N,)";
    for (const std::string& key : {datatype, std::string("long"), std::string("lat")}) {
        if (!npz.contains(key)) {
            std::string found;
            for (const auto& k : npz.keys()) {
                found += (found.empty() ? "'" : ", '") + k + "'";
            }
            throw Error(file,
                        "no array '" + key +
                            "' (keys found: " + (found.empty() ? std::string("none") : found) + ")",
                        needs + "; check --datatype (traffic or user)");
        }
    }
    const NpyInfo series_info = npz.info(datatype);
    // One week at 60, 30 or 15 minutes: sub-hourly steps are summed to hours on import.
    const std::size_t steps = series_info.shape.size() == 2 ? series_info.shape[1] : 0;
    const bool weekly =
        steps == kHoursPerWeek || steps == 2 * kHoursPerWeek || steps == 4 * kHoursPerWeek;
    if (!weekly) {
        throw Error(
            file,
            "array '" + datatype + "' has shape " + shape_text(series_info.shape) +
                (series_info.shape.size() == 2
                     ? ", i.e. " + std::to_string(series_info.shape[1]) + " values per station"
                     : std::string()) +
                "; expected (N, 168), or (N, 336) / (N, 672) for 30- / 15-minute steps",
            "Give every station one week of values (168 hourly, 336 half-hourly or 672 "
            "quarter-hourly)");
    }
    const std::size_t n = series_info.shape[0];
    for (const char* key : {"long", "lat"}) {
        const NpyInfo info = npz.info(key);
        if (info.shape != std::vector<std::size_t>{n}) {
            throw Error(file,
                        std::string("array '") + key + "' has shape " + shape_text(info.shape) +
                            "; expected (" + std::to_string(n) + ",) to match '" + datatype + "' " +
                            shape_text(series_info.shape),
                        needs);
        }
    }
    StationTable table;
    table.source = path;
    // bool counts as integer: numpy would truncate float shares added to it just the same (P-8).
    table.integer_input = series_info.is_integer() || series_info.is_bool();
    table.series = sum_to_hours(npz.read_double(datatype), table.nan_values);
    table.input_step_minutes = static_cast<int>(60 * kHoursPerWeek / steps);
    if (table.input_step_minutes != 60) {
        spdlog::info("{}: {}-minute steps summed to hours", file, table.input_step_minutes);
    }
    table.lon_deg = std::move(npz.read_double("long").values());
    table.lat_deg = std::move(npz.read_double("lat").values());
    table.ids.reserve(n);
    for (std::size_t b = 0; b < n; ++b) {
        // Like the reference's "NJBS-k" (k = row in the file, PIPELINE §2.2) without its fixed
        // "NJ" prefix, which it uses for every city.
        table.ids.push_back("BS-" + std::to_string(b));
    }
    return table;
}

// ---- CSV -------------------------------------------------------------------------------------

/// Splits one CSV record into fields: RFC 4180 quotes ("a,b", "say ""hi"""), spaces around
/// unquoted fields trimmed. A record never spans lines.
class CsvSplitter {
public:
    explicit CsvSplitter(const std::string& file) : file_(file) {}

    const std::vector<std::string_view>& split(std::string_view line, std::size_t line_number) {
        fields_.clear();
        unescaped_.clear();
        std::size_t pos = 0;
        while (true) {
            while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) {
                ++pos;
            }
            if (pos < line.size() && line[pos] == '"') {
                pos = quoted(line, pos, line_number);
            } else {
                const std::size_t comma = std::min(line.find(',', pos), line.size());
                std::size_t end = comma;
                while (end > pos && (line[end - 1] == ' ' || line[end - 1] == '\t')) {
                    --end;
                }
                fields_.push_back(line.substr(pos, end - pos));
                pos = comma;
            }
            if (pos >= line.size()) {
                break;
            }
            ++pos;  // the comma
            if (pos == line.size()) {
                fields_.emplace_back();  // a trailing empty field
                break;
            }
        }
        return fields_;
    }

private:
    std::size_t quoted(std::string_view line, std::size_t pos, std::size_t line_number) {
        std::string text;
        ++pos;
        while (true) {
            const std::size_t quote = line.find('"', pos);
            if (quote == std::string_view::npos) {
                throw Error(file_, "line " + std::to_string(line_number) + ": unterminated quote",
                            "Close the quoted field on the same line");
            }
            text.append(line.substr(pos, quote - pos));
            if (quote + 1 < line.size() && line[quote + 1] == '"') {
                text += '"';
                pos = quote + 2;
                continue;
            }
            pos = quote + 1;
            break;
        }
        while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) {
            ++pos;
        }
        if (pos < line.size() && line[pos] != ',') {
            throw Error(file_,
                        "line " + std::to_string(line_number) + ": text after a closing quote",
                        "Quote the whole field");
        }
        // A deque never moves its elements, so the views stay valid until the next record.
        unescaped_.push_back(std::move(text));
        fields_.emplace_back(unescaped_.back());
        return pos;
    }

    const std::string& file_;
    std::vector<std::string_view> fields_;
    std::deque<std::string> unescaped_;
};

/// Walks the lines of a text file held in memory, numbering them from 1.
class LineCursor {
public:
    explicit LineCursor(std::string_view text) : text_(text) {
        if (text_.substr(0, 3) == "\xEF\xBB\xBF") {  // UTF-8 byte-order mark
            text_.remove_prefix(3);
        }
    }

    /// The next non-blank line without its line ending; nullopt at the end.
    std::optional<std::string_view> next() {
        while (pos_ < text_.size()) {
            const std::size_t end = std::min(text_.find('\n', pos_), text_.size());
            std::string_view line = text_.substr(pos_, end - pos_);
            pos_ = end + 1;
            ++number_;
            if (!line.empty() && line.back() == '\r') {
                line.remove_suffix(1);
            }
            if (line.find_first_not_of(" \t") != std::string_view::npos) {
                return line;
            }
        }
        return std::nullopt;
    }

    [[nodiscard]] std::size_t number() const noexcept { return number_; }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t number_ = 0;
};

/// One parsed series value.
struct CsvValue {
    double value = 0.0;
    bool is_nan = false;
    bool integer_literal = false;  // written as [+-]digits
};

bool is_integer_literal(std::string_view text) {
    std::size_t start = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
    if (start == text.size()) {
        return false;
    }
    return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(start), text.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}

/// Parses numbers of one file; errors name the line and the column.
class NumberParser {
public:
    explicit NumberParser(const std::string& file) : file_(file) {}

    /// A series value: empty and nan/NaN mean NaN.
    CsvValue value(std::string_view text, std::size_t line, std::string_view column) const {
        CsvValue out;
        if (text.empty()) {
            out.is_nan = true;
            out.value = std::nan("");
            return out;
        }
        if (is_integer_literal(text)) {
            // Parsed as an integer so that big counts stay exact or fail loudly.
            std::int64_t v = 0;
            const std::string_view digits = text[0] == '+' ? text.substr(1) : text;
            const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
            const auto d = static_cast<double>(v);
            if (ec != std::errc() || ptr != digits.data() + digits.size() ||
                !(d < 9223372036854775808.0 && static_cast<std::int64_t>(d) == v)) {
                fail(text, line, column, "an integer that a double cannot hold exactly");
            }
            out.value = d;
            out.integer_literal = true;
            return out;
        }
        out.value = real(text, line, column);
        out.is_nan = std::isnan(out.value);
        return out;
    }

    /// A coordinate: must be a finite number.
    double coordinate(std::string_view text, std::size_t line, std::string_view column) const {
        const double v = text.empty() ? std::nan("") : real(text, line, column);
        if (!std::isfinite(v)) {
            throw Error(file_,
                        "line " + std::to_string(line) + ", column " + std::string(column) +
                            ": coordinate '" + std::string(text) + "' is not a finite number",
                        kCoordinateFix);
        }
        return v;
    }

    /// An hour of the week, 0..167.
    std::size_t hour(std::string_view text, std::size_t line) const {
        std::size_t h = 0;
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), h);
        if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() ||
            h >= kHoursPerWeek) {
            throw Error(file_,
                        "line " + std::to_string(line) + ": hour '" + std::string(text) +
                            "' is not an integer in 0..167",
                        "Number the hours of the week 0..167");
        }
        return h;
    }

private:
    double real(std::string_view text, std::size_t line, std::string_view column) const {
        const std::string_view body = text[0] == '+' ? text.substr(1) : text;
        double v = 0.0;
        const auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
        if (ec == std::errc::result_out_of_range) {
            fail(text, line, column, "a number out of the double range");
        }
        if (ec != std::errc() || ptr != body.data() + body.size()) {
            fail(text, line, column, "not a number");
        }
        return v;
    }

    [[noreturn]] void fail(std::string_view text, std::size_t line, std::string_view column,
                           const std::string& what) const {
        throw Error(file_,
                    "line " + std::to_string(line) + ", column " + std::string(column) + ": '" +
                        std::string(text) + "' is " + what,
                    "Write plain decimal numbers; leave a field empty or write nan for no data");
    }

    const std::string& file_;
};

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(path.string(), "cannot open", "Check that the file is readable");
    }
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    in.seekg(0, std::ios::beg);
    std::string text(static_cast<std::size_t>(std::max<std::streamoff>(size, 0)), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (!in) {
        throw Error(path.string(), "read failed", "Check that the file is readable");
    }
    return text;
}

/// Where each known column sits in the header.
struct CsvColumns {
    std::optional<std::size_t> station, lon, lat, hour, value;
    std::vector<std::optional<std::size_t>> hour_columns =
        std::vector<std::optional<std::size_t>>(kHoursPerWeek);  // wide: column of h000..h167
    std::size_t hour_column_count = 0;
    std::size_t field_count = 0;
    std::vector<std::string> names;  // as written, for messages
};

std::string header_text(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < 8; ++i) {
        out += (i == 0 ? "" : ",") + names[i];
    }
    return names.size() > 8 ? out + ",… (" + std::to_string(names.size()) + " columns)" : out;
}

/// `h<digits>` → the hour, else nullopt.
std::optional<std::size_t> hour_column(const std::string& name) {
    if (name.size() < 2 || name[0] != 'h') {
        return std::nullopt;
    }
    std::size_t h = 0;
    const auto [ptr, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), h);
    if (ec != std::errc() || ptr != name.data() + name.size()) {
        return std::nullopt;
    }
    return h;
}

CsvColumns parse_header(const std::string& file, const std::vector<std::string_view>& fields) {
    CsvColumns c;
    c.field_count = fields.size();
    const std::string fix = std::string("Fix the header. ") + kFormats;
    const auto place = [&](std::optional<std::size_t>& slot, std::size_t index,
                           const std::string& name) {
        if (slot) {
            throw Error(file, "column '" + name + "' appears twice in the header (or lon and long)",
                        fix);
        }
        slot = index;
    };
    c.names.assign(fields.begin(), fields.end());
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const std::string name = lower(fields[i]);
        if (name == "station") {
            place(c.station, i, name);
        } else if (name == "lon" || name == "long") {
            place(c.lon, i, name);
        } else if (name == "lat") {
            place(c.lat, i, name);
        } else if (name == "hour") {
            place(c.hour, i, name);
        } else if (name == "value") {
            place(c.value, i, name);
        } else if (const auto h = hour_column(name)) {
            if (*h >= kHoursPerWeek) {
                throw Error(file, "column '" + c.names[i] + "' is beyond one week (h000..h167)",
                            "Give every station one week of hourly values (168)");
            }
            place(c.hour_columns[*h], i, name);
            ++c.hour_column_count;
        } else {
            throw Error(file,
                        "unexpected column '" + c.names[i] + "' in header " + header_text(c.names),
                        fix);
        }
    }
    if (!c.lon || !c.lat) {
        throw Error(
            file, "header " + header_text(c.names) + " has no lon (or long) and lat columns", fix);
    }
    return c;
}

/// Reads a series field of a record and folds it into the integer flag.
struct SeriesFlags {
    bool all_integer = true;
    bool any_value = false;

    double take(const CsvValue& v) {
        if (!v.is_nan) {
            any_value = true;
            all_integer = all_integer && v.integer_literal;
        }
        return v.value;
    }
};

void check_field_count(const std::string& file, const std::vector<std::string_view>& fields,
                       const CsvColumns& c, std::size_t line) {
    if (fields.size() != c.field_count) {
        throw Error(file,
                    "line " + std::to_string(line) + " has " + std::to_string(fields.size()) +
                        " fields, the header has " + std::to_string(c.field_count),
                    "Give every row one field per header column");
    }
}

StationTable read_wide_csv(const std::string& file, const CsvColumns& c, LineCursor& lines,
                           CsvSplitter& splitter) {
    if (c.hour_column_count != kHoursPerWeek) {
        std::size_t missing = 0;
        while (c.hour_columns[missing]) {
            ++missing;
        }
        throw Error(file,
                    "found " + std::to_string(c.hour_column_count) +
                        " hour columns, expected 168 (h000..h167); the first missing is h" +
                        std::to_string(missing),
                    "Give every station one week of hourly values (168)");
    }
    const NumberParser numbers(file);
    StationTable table;
    std::vector<double> series;
    SeriesFlags flags;
    std::unordered_map<std::string, std::size_t> id_line;
    while (const auto line = lines.next()) {
        const std::size_t line_number = lines.number();
        const auto& fields = splitter.split(*line, line_number);
        check_field_count(file, fields, c, line_number);
        const std::size_t row = table.lon_deg.size();
        table.lon_deg.push_back(numbers.coordinate(fields[*c.lon], line_number, c.names[*c.lon]));
        table.lat_deg.push_back(numbers.coordinate(fields[*c.lat], line_number, c.names[*c.lat]));
        if (c.station) {
            std::string id(fields[*c.station]);
            if (id.empty()) {
                throw Error(file, "line " + std::to_string(line_number) + ": empty station id",
                            "Give every row a station id, or drop the station column");
            }
            const auto [it, fresh] = id_line.emplace(id, line_number);
            if (!fresh) {
                throw Error(file,
                            "station '" + id + "' appears on lines " + std::to_string(it->second) +
                                " and " + std::to_string(line_number),
                            "Give each station one row and its own id");
            }
            table.ids.push_back(std::move(id));
        } else {
            table.ids.push_back("BS-" + std::to_string(row));
        }
        for (std::size_t h = 0; h < kHoursPerWeek; ++h) {
            const std::size_t col = *c.hour_columns[h];
            series.push_back(flags.take(numbers.value(fields[col], line_number, c.names[col])));
        }
    }
    table.integer_input = flags.any_value && flags.all_integer;
    table.series = NdArray<double>({table.lon_deg.size(), kHoursPerWeek}, std::move(series));
    return table;
}

/// A long table must give every station every hour: refuses the first missing station-hour
/// (seen_line[station * 168 + hour] == 0), with the count of all missing.
void require_every_hour(const std::string& file, const std::vector<std::string>& ids,
                        const std::vector<std::size_t>& seen_line) {
    std::size_t missing_count = 0;
    std::size_t first_missing = 0;
    for (std::size_t i = 0; i < seen_line.size(); ++i) {
        if (seen_line[i] == 0 && missing_count++ == 0) {
            first_missing = i;
        }
    }
    if (missing_count > 0) {
        throw Error(file,
                    "station '" + ids[first_missing / kHoursPerWeek] + "' has no row for hour " +
                        std::to_string(first_missing % kHoursPerWeek) + " (" +
                        std::to_string(missing_count) + " station-hours missing in all)",
                    "Give each station exactly one row per hour 0..167");
    }
}

StationTable read_long_csv(const std::string& file, const CsvColumns& c, LineCursor& lines,
                           CsvSplitter& splitter) {
    if (!c.station || !c.hour || !c.value || c.hour_column_count > 0) {
        throw Error(file,
                    "header " + header_text(c.names) +
                        " is neither wide (lon,lat,h000..h167) nor long "
                        "(station,lon,lat,hour,value)",
                    kFormats);
    }
    const NumberParser numbers(file);
    StationTable table;
    std::vector<double> series;
    std::vector<std::size_t> seen_line;   // (N, 168) line that gave the value; 0 = none yet
    std::vector<std::size_t> first_line;  // N: line where the station first appears
    SeriesFlags flags;
    std::unordered_map<std::string, std::size_t> index_of;
    std::size_t last = 0;  // rows usually come grouped by station: skip the hash lookup then
    while (const auto line = lines.next()) {
        const std::size_t line_number = lines.number();
        const auto& fields = splitter.split(*line, line_number);
        check_field_count(file, fields, c, line_number);
        const std::string_view id = fields[*c.station];
        if (id.empty()) {
            throw Error(file, "line " + std::to_string(line_number) + ": empty station id",
                        "Give every row a station id");
        }
        const double lon = numbers.coordinate(fields[*c.lon], line_number, c.names[*c.lon]);
        const double lat = numbers.coordinate(fields[*c.lat], line_number, c.names[*c.lat]);
        std::size_t b = last;
        if (table.ids.empty() || table.ids[last] != id) {
            const auto [it, fresh] = index_of.emplace(std::string(id), table.ids.size());
            b = it->second;
            if (fresh) {
                table.ids.emplace_back(id);
                table.lon_deg.push_back(lon);
                table.lat_deg.push_back(lat);
                first_line.push_back(line_number);
                series.resize(series.size() + kHoursPerWeek, 0.0);
                seen_line.resize(seen_line.size() + kHoursPerWeek, 0);
            }
            last = b;
        }
        if (lon != table.lon_deg[b] || lat != table.lat_deg[b]) {
            throw Error(file,
                        "station '" + std::string(id) + "' is at lon " +
                            number_text(table.lon_deg[b]) + ", lat " +
                            number_text(table.lat_deg[b]) + " on line " +
                            std::to_string(first_line[b]) + " but at lon " + number_text(lon) +
                            ", lat " + number_text(lat) + " on line " + std::to_string(line_number),
                        "Give each station one position, or distinct ids to distinct sectors");
        }
        const std::size_t h = numbers.hour(fields[*c.hour], line_number);
        std::size_t& seen = seen_line[b * kHoursPerWeek + h];
        if (seen != 0) {
            throw Error(file,
                        "station '" + std::string(id) + "' has hour " + std::to_string(h) +
                            " twice (lines " + std::to_string(seen) + " and " +
                            std::to_string(line_number) + ")",
                        "Give each station exactly one row per hour 0..167");
        }
        seen = line_number;
        series[b * kHoursPerWeek + h] =
            flags.take(numbers.value(fields[*c.value], line_number, c.names[*c.value]));
    }
    require_every_hour(file, table.ids, seen_line);
    const std::size_t n = table.ids.size();
    table.integer_input = flags.any_value && flags.all_integer;
    table.series = NdArray<double>({n, kHoursPerWeek}, std::move(series));
    return table;
}

StationTable read_csv(const fs::path& path) {
    const std::string file = path.string();
    const std::string text = read_text(path);
    LineCursor lines(text);
    CsvSplitter splitter(file);
    const auto header = lines.next();
    if (!header) {
        throw Error(file, "empty file, no header", kFormats);
    }
    const CsvColumns columns = parse_header(file, splitter.split(*header, lines.number()));
    const bool is_long = columns.hour || columns.value;
    StationTable table = is_long ? read_long_csv(file, columns, lines, splitter)
                                 : read_wide_csv(file, columns, lines, splitter);
    table.source = path;
    return table;
}

}  // namespace

StationTable read_stations(const fs::path& path, const std::string& datatype) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        throw Error(path.string(), "no such file", "Check the path of the station file");
    }
    const std::string extension = lower(path.extension().string());
    StationTable table;
    if (extension == ".npz") {
        table = read_npz(path, datatype);
    } else if (extension == ".csv") {
        table = read_csv(path);
    } else {
        throw Error(path.string(), "unknown station file type '" + path.extension().string() + "'",
                    kFormats);
    }
    finish(table);
    return table;
}

}  // namespace zoomdiff::io
