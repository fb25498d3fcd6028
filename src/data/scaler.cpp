#include "zoomdiff/data/scaler.hpp"

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/text_file.hpp"

namespace zoomdiff::data {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "zoomdiff-scalers/1";
constexpr const char* kFixHint =
    "Use the scalers.json that zoomdiff_train wrote into the run folder";

/// A float32 as a JSON number that reads back to the same bits: the shortest decimal of the
/// float when it survives the trip decimal -> double -> float (nlohmann reads numbers as double),
/// else the float's exact value as a double (always exact, less readable).
json float_number(float value) {
    const std::string shortest = fmt::format("{}", value);
    const double near = std::strtod(shortest.c_str(), nullptr);
    if (static_cast<float>(near) == value && std::signbit(near) == std::signbit(value)) {
        return near;
    }
    return static_cast<double>(value);
}

/// Reads one key of a JSON object, naming `where.key` in every error.
class Reader {
public:
    Reader(const json& object, std::string where, const std::string& source)
        : object_(object), where_(std::move(where)), source_(source) {
        if (!object_.is_object()) {
            fail(where_.empty() ? std::string("the file is not a JSON object")
                                : fmt::format("'{}' is not a JSON object", where_));
        }
    }

    [[nodiscard]] const json& at(const std::string& key) const {
        const auto it = object_.find(key);
        if (it == object_.end()) {
            fail(fmt::format("missing key '{}'", name(key)));
        }
        return *it;
    }

    [[nodiscard]] std::string text(const std::string& key) const {
        const json& value = at(key);
        if (!value.is_string()) {
            fail(fmt::format("key '{}' must be a string", name(key)));
        }
        return value.get<std::string>();
    }

    [[nodiscard]] double number(const std::string& key) const {
        const json& value = at(key);
        if (!value.is_number()) {
            fail(fmt::format("key '{}' must be a number", name(key)));
        }
        return value.get<double>();
    }

    /// A float32 value (scaler fields): finite after narrowing.
    [[nodiscard]] float real(const std::string& key) const {
        const double value = number(key);
        const auto single = static_cast<float>(value);
        if (!std::isfinite(single)) {
            fail(fmt::format("key '{}' = {} is not a finite float32", name(key), value));
        }
        return single;
    }

    /// A float64 value (template statistics).
    [[nodiscard]] double real64(const std::string& key) const {
        const double value = number(key);
        if (!std::isfinite(value)) {
            fail(fmt::format("key '{}' = {} is not finite", name(key), value));
        }
        return value;
    }

    [[nodiscard]] bool has(const std::string& key) const { return object_.contains(key); }

    /// An array of `count` finite numbers, each >= the one before (a quantile function).
    [[nodiscard]] std::vector<double> increasing(const std::string& key, std::size_t count) const {
        const json& value = at(key);
        std::vector<double> out;
        if (value.is_array() && value.size() == count) {
            for (const json& v : value) {
                if (!v.is_number() || !std::isfinite(v.get<double>()) ||
                    (!out.empty() && v.get<double>() < out.back()))
                    break;
                out.push_back(v.get<double>());
            }
        }
        if (out.size() != count) {
            fail(
                fmt::format("key '{}' must be {} finite non-decreasing numbers", name(key), count));
        }
        return out;
    }

    [[nodiscard]] std::int64_t integer(const std::string& key) const {
        const json& value = at(key);
        if (!value.is_number_integer()) {
            fail(fmt::format("key '{}' must be an integer", name(key)));
        }
        return value.get<std::int64_t>();
    }

    [[noreturn]] void fail(const std::string& problem) const {
        throw Error(source_, problem, kFixHint);
    }

private:
    [[nodiscard]] std::string name(const std::string& key) const {
        return where_.empty() ? key : where_ + "." + key;
    }

    const json& object_;
    std::string where_;
    const std::string& source_;
};

}  // namespace

MinMaxScaler MinMaxScaler::fit(const float* values, std::size_t count) {
    if (count == 0) {
        throw std::invalid_argument("MinMaxScaler::fit: no values");
    }
    MinMaxScaler s;
    s.data_min = values[0];
    s.data_max = values[0];
    for (std::size_t i = 1; i < count; ++i) {
        s.data_min = std::fmin(s.data_min, values[i]);
        s.data_max = std::fmax(s.data_max, values[i]);
    }
    // REFCOMPAT: scikit-learn's MinMaxScaler on a float32 column. The range is float32;
    // _handle_zeros_in_scale treats a range below 10 float32 epsilons as zero (scale 1).
    const float range = s.data_max - s.data_min;
    s.scale = range < 10.0F * FLT_EPSILON ? 1.0F : 1.0F / range;
    s.offset = 0.0F - s.data_min * s.scale;
    s.n_samples_seen = static_cast<std::int64_t>(count);
    return s;
}

void MinMaxScaler::transform(float* values, std::size_t count) const {
    // Two float32 steps, as scikit-learn's in-place `X *= scale_; X += min_` (no fused
    // multiply-add).
    for (std::size_t i = 0; i < count; ++i) {
        const float scaled = values[i] * scale;
        values[i] = scaled + offset;
    }
}

void MinMaxScaler::inverse(float* values, std::size_t count) const {
    for (std::size_t i = 0; i < count; ++i) {
        const float shifted = values[i] - offset;
        values[i] = shifted / scale;
    }
}

std::string scalers_to_json(const std::string& datatype, const std::vector<CityScaler>& scalers) {
    json cities = json::array();
    for (const auto& c : scalers) {
        json entry = json::object();
        entry["city"] = c.city;
        entry["token"] = c.token;
        entry["data_min"] = float_number(c.scaler.data_min);
        entry["data_max"] = float_number(c.scaler.data_max);
        entry["scale"] = float_number(c.scaler.scale);
        entry["offset"] = float_number(c.scaler.offset);
        entry["n_samples_seen"] = c.scaler.n_samples_seen;
        entry["clip_bound"] = float_number(c.clip_bound);
        entry["tiles"] = c.tiles;
        // Template statistics (MODEL.md §5.5): float64 values, written exactly by nlohmann.
        entry["template"] = {
            {"data_mean", c.data_mean}, {"data_max", c.data_max}, {"pop_mean", c.pop_mean}};
        if (c.cell_levels.complete()) {
            json levels = json::object();
            for (std::size_t s = 0; s < kLevelScaleNames.size(); ++s)
                levels[kLevelScaleNames[s]] = c.cell_levels.by_scale[s];
            entry["template"]["cell_mean_quantiles"] = std::move(levels);
        }
        cities.push_back(std::move(entry));
    }
    json root = json::object();
    root["format"] = kFormat;
    root["datatype"] = datatype;
    root["feature_range"] = json::array({0, 1});
    root["cities"] = std::move(cities);
    return root.dump(2) + "\n";
}

std::vector<CityScaler> scalers_from_json(const std::string& text, const std::string& source,
                                          std::string* datatype) {
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        throw Error(source, fmt::format("not valid JSON ({})", e.what()), kFixHint);
    }
    const Reader top(root, "", source);
    const std::string format = top.text("format");
    if (format != kFormat) {
        top.fail(fmt::format("format '{}' is not '{}'", format, kFormat));
    }
    const json& range = top.at("feature_range");
    if (range != json::array({0, 1})) {
        top.fail(fmt::format("feature_range {} is not [0, 1]", range.dump()));
    }
    const json& cities = top.at("cities");
    if (!cities.is_array()) {
        top.fail("key 'cities' must be an array");
    }
    std::vector<CityScaler> out;
    for (std::size_t i = 0; i < cities.size(); ++i) {
        const Reader r(cities[i], fmt::format("cities[{}]", i), source);
        CityScaler c;
        c.city = r.text("city");
        c.token = r.text("token");
        c.scaler.data_min = r.real("data_min");
        c.scaler.data_max = r.real("data_max");
        c.scaler.scale = r.real("scale");
        c.scaler.offset = r.real("offset");
        c.scaler.n_samples_seen = r.integer("n_samples_seen");
        c.clip_bound = r.real("clip_bound");
        c.tiles = r.integer("tiles");
        const Reader stats(r.at("template"), fmt::format("cities[{}].template", i), source);
        c.data_mean = stats.real64("data_mean");
        c.data_max = stats.real64("data_max");
        c.pop_mean = stats.real64("pop_mean");
        // Optional: runs written before --calibration template_quantile have no quantiles.
        if (stats.has("cell_mean_quantiles")) {
            const Reader levels(stats.at("cell_mean_quantiles"),
                                fmt::format("cities[{}].template.cell_mean_quantiles", i), source);
            for (std::size_t s = 0; s < kLevelScaleNames.size(); ++s) {
                c.cell_levels.by_scale[s] =
                    levels.increasing(kLevelScaleNames[s], CellLevelQuantiles::kLevels);
            }
        }
        if (!(c.scaler.scale > 0.0F)) {
            r.fail(fmt::format("key 'cities[{}].scale' must be positive", i));
        }
        out.push_back(std::move(c));
    }
    if (datatype != nullptr) {
        *datatype = top.text("datatype");
    }
    return out;
}

std::vector<CityScaler> read_scalers(const std::filesystem::path& path, std::string* datatype) {
    return scalers_from_json(
        core::read_text_file(path, "cannot read the scalers file",
                             "Pass a run folder written by zoomdiff_train (it holds scalers.json)"),
        path.string(), datatype);
}

}  // namespace zoomdiff::data
