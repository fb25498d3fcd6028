#pragma once
// What the data area's two readers share (training tiles, condition tiles): where a city's files
// are, how a missing one is fixed, the layout's condition keys, and a dataset read with its
// shape checked against the city's grid.

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/data/city_tiles.hpp"
#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::data::detail {

/// The English folder and the two file paths of `token` (nothing checked on disk but the
/// folder): a token in neither the city table nor a folder under `data_root` throws, naming
/// where it looked and `prepare_hint` (the tools that write the city).
CitySource city_paths(const std::filesystem::path& data_root, const std::string& token,
                      const std::string& datatype, const char* prepare_hint);

/// "Write it with: env_extra ..." for a missing or broken condition file.
std::string cond_fix(const CitySource& source);

/// The static condition datasets of a layout, in channel order, and its POI dataset.
std::vector<std::string> static_keys(StaticLayout layout);
std::string poi_key(StaticLayout layout);

/// A POI dataset whose category axis is not `channels` (the fixed schema's 21, or poi_only's
/// model.poi_channels) throws, naming the file.
void require_poi_schema(const io::H5File& cond, const std::string& key, const CitySource& source,
                        std::int64_t channels = kPoiChannels);

/// The root attribute `tile_arrangement` of a city file: "patches" (uomo_import: tiles without
/// positions, side by side on a placeholder grid) or "grid" (absent: a real map).
std::string tile_arrangement(const io::H5File& file);

/// `key` of `file` as T, after checking it exists and has `expected` shape (else zoomdiff::Error
/// naming the file, the key, both shapes and `fix`).
template <typename T>
std::vector<T> read_checked(const io::H5File& file, const std::string& key,
                            const std::vector<std::size_t>& expected, const std::string& fix) {
    if (!file.exists(key)) {
        throw Error(file.path().string(), fmt::format("no dataset {}", key), fix);
    }
    const std::vector<std::size_t> shape = file.shape(key);
    if (shape != expected) {
        throw Error(file.path().string(),
                    fmt::format("{} has shape ({}), expected ({}) for this city's grid", key,
                                fmt::join(shape, ", "), fmt::join(expected, ", ")),
                    fix);
    }
    return file.read<T>(key).values();
}

/// `key` of `file` as read_checked() does, refused when a value is negative (issue 19: traffic,
/// users, population, buildings, lengths, areas and POI counts are >= 0; NaN is left to the
/// readers' tile filters). The error names the file, the key and the first offending index.
template <typename T>
std::vector<T> read_not_negative(const io::H5File& file, const std::string& key,
                                 const std::vector<std::size_t>& expected, const std::string& fix) {
    std::vector<T> values = read_checked<T>(file, key, expected, fix);
    if constexpr (!std::is_unsigned_v<T>) {
        const auto bad = std::find_if(values.begin(), values.end(), [](T v) { return v < T{0}; });
        if (bad != values.end()) {
            auto flat = static_cast<std::size_t>(bad - values.begin());
            std::vector<std::size_t> index(expected.size());
            for (std::size_t axis = expected.size(); axis-- > 0;) {
                index[axis] = flat % expected[axis];
                flat /= expected[axis];
            }
            throw Error(file.path().string(),
                        fmt::format("{} holds {} at index ({}): these values cannot be negative",
                                    key, *bad, fmt::join(index, ", ")),
                        fix);
        }
    }
    return values;
}

}  // namespace zoomdiff::data::detail
