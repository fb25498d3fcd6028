#include "zoomdiff/io/uomo.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/ndarray.hpp"
#include "zoomdiff/io/npz.hpp"

namespace zoomdiff::io {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kSide = kUomoPatchSide;
constexpr const char* kFix = "Pass a uomo_<city>_series.npz as described in SOURCE.md";

std::string shape_text(const std::vector<std::size_t>& shape) {
    return fmt::format("({})", fmt::join(shape, ", "));
}

void require_key(const NpzReader& npz, const std::string& key) {
    if (!npz.contains(key)) {
        std::string keys;
        for (const auto& k : npz.keys())
            keys += (keys.empty() ? "" : ", ") + k;
        throw Error(npz.path().string(), fmt::format("no array '{}' (keys found: {})", key, keys),
                    kFix);
    }
}

/// The scalar steps_per_day: whole minutes per step and whole steps per hour.
int read_steps_per_day(const NpzReader& npz) {
    const auto& path = npz.path();
    const auto spd = npz.read_int64("steps_per_day");
    if (spd.size() != 1) {
        throw Error(
            path.string(),
            fmt::format("steps_per_day has shape {}, expected a scalar", shape_text(spd.shape())),
            kFix);
    }
    const std::int64_t steps_per_day = spd.data()[0];
    if (steps_per_day < 24 || steps_per_day > 1440 || 1440 % steps_per_day != 0 ||
        steps_per_day % 24 != 0) {
        throw Error(
            path.string(),
            fmt::format(
                "steps_per_day = {} does not divide a day into whole minutes and each hour into "
                "whole steps (24, 48, 96, ... and a divisor of 1440)",
                steps_per_day),
            "Resample the series to whole steps per hour first");
    }
    return static_cast<int>(steps_per_day);
}

/// poi: integer counts of shape (patches, categories, 4, 4).
NdArray<std::int64_t> read_poi(const NpzReader& npz, std::size_t patches) {
    const auto& path = npz.path();
    if (!npz.info("poi").is_integer()) {
        throw Error(path.string(),
                    fmt::format("poi has dtype {}, expected integer counts", npz.info("poi").dtype),
                    kFix);
    }
    auto poi = npz.read_int64("poi");
    const auto& pshape = poi.shape();
    if (pshape.size() != 4 || pshape[0] != patches || pshape[1] == 0 || pshape[2] != kSide ||
        pshape[3] != kSide) {
        throw Error(path.string(),
                    fmt::format("poi has shape {}, expected ({}, categories, 4, 4)",
                                shape_text(pshape), patches),
                    kFix);
    }
    return poi;
}

/// split: one known upstream split name per patch.
std::vector<std::string> read_split(const NpzReader& npz, std::size_t patches) {
    const auto& path = npz.path();
    if (!npz.info("split").is_string()) {
        throw Error(path.string(),
                    fmt::format("split has dtype {}, expected strings", npz.info("split").dtype),
                    kFix);
    }
    const auto split = npz.read_strings("split");
    if (split.shape() != std::vector<std::size_t>{patches}) {
        throw Error(
            path.string(),
            fmt::format("split has shape {}, expected ({},)", shape_text(split.shape()), patches),
            kFix);
    }
    for (std::size_t p = 0; p < patches; ++p) {
        if (std::find(uomo_split_names().begin(), uomo_split_names().end(), split.values()[p]) ==
            uomo_split_names().end()) {
            throw Error(
                path.string(),
                fmt::format("split of patch {} is '{}'; the known splits are train, val, test", p,
                            split.values()[p]),
                kFix);
        }
    }
    return split.values();
}

/// issue 19: traffic and user counts are finite and >= 0 (a negative one made negative maps);
/// the first offending cell is named as (patch, step, row, column). POI counts are >= 0.
void check_counts(const UomoSource& s, const fs::path& path) {
    for (const auto* array : {&s.traffic, &s.users}) {
        const auto& v = array->values();
        const auto bad =
            std::find_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x) || x < 0.0; });
        if (bad != v.end()) {
            const auto k = static_cast<std::size_t>(bad - v.begin());
            const auto& dims = array->shape();
            const std::size_t cell = kSide * kSide;
            throw Error(
                path.string(),
                fmt::format("{} holds {} at patch {}, step {}, row {}, column {} (counts "
                            "are finite and not negative)",
                            array == &s.traffic ? "traffic" : "users", *bad, k / (dims[1] * cell),
                            k / cell % dims[1], k % cell / kSide, k % kSide),
                kFix);
        }
    }
    const auto& poi = s.poi.values();
    if (std::any_of(poi.begin(), poi.end(), [](std::int64_t v) { return v < 0; })) {
        throw Error(path.string(), "poi holds a negative count", kFix);
    }
}

}  // namespace

const std::vector<std::string>& uomo_split_names() {
    static const std::vector<std::string> names{"train", "val", "test"};
    return names;
}

UomoSource read_uomo_source(const fs::path& path) {
    const NpzReader npz = NpzReader::open(path);
    for (const char* key : {"traffic", "users", "poi", "split", "steps_per_day"})
        require_key(npz, key);
    UomoSource s;
    s.traffic = npz.read_double("traffic");
    s.users = npz.read_double("users");
    s.steps_per_day = read_steps_per_day(npz);
    const auto& shape = s.traffic.shape();
    if (shape.size() != 4 || shape[2] != kSide || shape[3] != kSide || shape[0] == 0) {
        throw Error(
            path.string(),
            fmt::format("traffic has shape {}, expected (patches, steps, 4, 4)", shape_text(shape)),
            kFix);
    }
    if (s.users.shape() != shape) {
        throw Error(path.string(),
                    fmt::format("users has shape {}, traffic {}: they must match",
                                shape_text(s.users.shape()), shape_text(shape)),
                    kFix);
    }
    s.poi = read_poi(npz, shape[0]);
    s.split = read_split(npz, shape[0]);
    check_counts(s, path);
    return s;
}

}  // namespace zoomdiff::io
