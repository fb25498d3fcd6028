#include "zoomdiff/data/training_set.hpp"

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/data/split.hpp"

namespace zoomdiff::data {
namespace {

/// splitmix64's output function: a bijective mix of 64 bits.
std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
}

/// xoshiro256** seeded through splitmix64 (Blackman & Vigna): our batch-order generator, so the
/// same seed gives the same batches with every standard library.
class BatchRng {
public:
    /// A stream keyed by several words (seed, stream tag, epoch, city, ...).
    explicit BatchRng(std::initializer_list<std::uint64_t> key) {
        std::uint64_t x = 0x6A09E667F3BCC909ULL;
        for (const std::uint64_t word : key) {
            x = mix64(x ^ word) + 0x9E3779B97F4A7C15ULL;
        }
        for (auto& s : state_) {
            x += 0x9E3779B97F4A7C15ULL;
            s = mix64(x);
        }
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5U, 7) * 9U;
        const std::uint64_t t = state_[1] << 17U;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /// Uniform in [0, bound), bound > 0: reject the low 2^64 mod bound values, then reduce.
    std::uint64_t below(std::uint64_t bound) {
        const std::uint64_t threshold = (0 - bound) % bound;
        while (true) {
            const std::uint64_t r = next();
            if (r >= threshold) {
                return r % bound;
            }
        }
    }

    /// Fisher–Yates from the end.
    template <typename T>
    void shuffle(std::vector<T>& v) {
        for (std::size_t i = v.size(); i-- > 1;) {
            const auto j = static_cast<std::size_t>(below(i + 1));
            std::swap(v[i], v[j]);
        }
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) {
        return (x << static_cast<unsigned>(k)) | (x >> static_cast<unsigned>(64 - k));
    }

    std::uint64_t state_[4] = {};
};

// Stream tags, so the per-city and the batch-order streams never coincide.
constexpr std::uint64_t kCityStream = 0x43495459;   // "CITY"
constexpr std::uint64_t kOrderStream = 0x4F524452;  // "ORDR"

void append_batches(std::vector<BatchRef>& out, std::int32_t city,
                    const std::vector<std::int64_t>& ids, std::size_t batch_size, bool drop_last) {
    for (std::size_t start = 0; start < ids.size(); start += batch_size) {
        const std::size_t end = std::min(ids.size(), start + batch_size);
        if (drop_last && end - start < batch_size) {
            break;
        }
        BatchRef batch;
        batch.city = city;
        batch.positions.assign(ids.begin() + static_cast<std::ptrdiff_t>(start),
                               ids.begin() + static_cast<std::ptrdiff_t>(end));
        out.push_back(std::move(batch));
    }
}

}  // namespace

const char* to_string(Task task) {
    switch (task) {
        case Task::kFull:
            return "full";
        case Task::kZeroShot:
            return "zero_shot";
        case Task::kFewShot:
            return "few_shot";
    }
    return "full";
}

Task parse_task(const std::string& text) {
    // The reference's task_state spellings ("train", "zero-shot", "few-shot") are accepted too.
    if (text == "full" || text == "train") {
        return Task::kFull;
    }
    if (text == "zero_shot" || text == "zero-shot") {
        return Task::kZeroShot;
    }
    if (text == "few_shot" || text == "few-shot") {
        return Task::kFewShot;
    }
    throw Error("--task", fmt::format("unknown task '{}'", text),
                "Use full, zero_shot or few_shot");
}

const char* to_string(SplitSource source) {
    return source == SplitSource::kFile ? "file:/split_2000m" : "seeded_80_20";
}

const char* to_string(BatchOrder order) {
    return order == BatchOrder::kReference ? "reference" : "reshuffle";
}

BatchOrder parse_batch_order(const std::string& text, const std::string& source) {
    if (text == "reference") {
        return BatchOrder::kReference;
    }
    if (text == "reshuffle") {
        return BatchOrder::kReshuffle;
    }
    throw Error(
        source, fmt::format("unknown train.batch_order '{}'", text),
        "Use 'reshuffle' (a new order every epoch) or 'reference' (one order replayed, as the "
        "reference)");
}

std::vector<CityTrainingData> prepare_training_data(const std::vector<CitySource>& sources,
                                                    const TileOptions& options, Task task) {
    std::vector<CityTrainingData> out;
    out.reserve(sources.size());
    for (const auto& source : sources) {
        CityTrainingData d;
        d.tiles = load_city_tiles(source, options);
        auto& series = d.tiles.series;
        // REFCOMPAT: fitted on every tile of the city, validation tiles included (D-12).
        d.scaler.scaler = MinMaxScaler::fit(series.data(), series.size());
        d.scaler.scaler.transform(series.data(), series.size());
        d.scaler.city = d.tiles.city;
        d.scaler.token = d.tiles.token;
        d.scaler.clip_bound = d.tiles.clip_second;
        d.scaler.tiles = d.tiles.tiles;
        d.scaler.data_mean = d.tiles.template_stats.data_mean;
        d.scaler.data_max = d.tiles.template_stats.data_max;
        d.scaler.pop_mean = d.tiles.template_stats.pop_mean;
        d.scaler.cell_levels = d.tiles.template_stats.cell_levels;

        if (!d.tiles.split_label.empty()) {
            // The file's own split (uomo_import: the upstream train / val / test patches).
            d.split = SplitSource::kFile;
            for (std::int64_t p = 0; p < d.tiles.tiles; ++p) {
                const std::int8_t label = d.tiles.split_label[static_cast<std::size_t>(p)];
                if (label == kSplitTrain) {
                    d.train.push_back(p);
                } else if (label == kSplitValid) {
                    d.valid.push_back(p);
                } else {
                    ++d.test_tiles;
                }
            }
        } else {
            Split split = split_by_test_fraction(d.tiles.tiles, kTestFraction, kSplitSeed);
            d.train = std::move(split.train);
            d.valid = std::move(split.test);
        }
        if (task == Task::kFewShot) {
            // The reference draws positions 0 .. n_train-1 and uses them as tile ids (D-25);
            // we map the drawn positions through the train list, so they stay train tiles.
            const Split draw = split_by_train_fraction(static_cast<std::int64_t>(d.train.size()),
                                                       kFewShotFraction, kSplitSeed);
            std::vector<std::int64_t> subset;
            subset.reserve(draw.train.size());
            for (const std::int64_t p : draw.train) {
                subset.push_back(d.train[static_cast<std::size_t>(p)]);
            }
            d.train = std::move(subset);
        }
        if (d.train.empty() && task != Task::kZeroShot) {
            throw Error(source.data_file.string(),
                        fmt::format("{} has {} usable tiles: too few for a {} training split",
                                    d.tiles.city, d.tiles.tiles, to_string(task)),
                        d.split == SplitSource::kFile
                            ? "The file's /split_2000m labels no usable tile 0 (train)"
                        : task == Task::kFewShot
                            ? "Few-shot needs at least 13 usable tiles per city"
                            : "Training needs at least 2 usable tiles per city");
        }
        spdlog::info(
            "{}: {} train and {} validation tiles ({}{}); scaler min {} max {}", d.tiles.city,
            d.train.size(), d.valid.size(),
            d.split == SplitSource::kFile ? "labels of /split_2000m" : "seeded 80/20 split",
            d.test_tiles > 0 ? fmt::format(", {} test tiles left out", d.test_tiles)
                             : std::string(),
            d.scaler.scaler.data_min, d.scaler.scaler.data_max);
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<BatchRef> epoch_batches(const std::vector<std::vector<std::int64_t>>& ids_per_city,
                                    std::int64_t batch_size, bool drop_last, bool shuffle,
                                    BatchOrder order, std::uint64_t seed, std::int64_t epoch) {
    if (batch_size <= 0) {
        throw std::invalid_argument("epoch_batches: batch_size must be positive");
    }
    const auto size = static_cast<std::size_t>(batch_size);
    const auto epoch_word = static_cast<std::uint64_t>(epoch);
    std::vector<BatchRef> batches;
    for (std::size_t c = 0; c < ids_per_city.size(); ++c) {
        std::vector<std::int64_t> ids = ids_per_city[c];
        if (shuffle) {
            if (order == BatchOrder::kReference) {
                // REFCOMPAT: one shuffle per city, drawn once and replayed every epoch (D-13).
                BatchRng(std::initializer_list<std::uint64_t>{seed, kCityStream, c}).shuffle(ids);
            } else {
                BatchRng(std::initializer_list<std::uint64_t>{seed, kCityStream, epoch_word, c})
                    .shuffle(ids);
            }
        }
        append_batches(batches, static_cast<std::int32_t>(c), ids, size, drop_last);
    }
    if (shuffle && order == BatchOrder::kReshuffle) {
        BatchRng(std::initializer_list<std::uint64_t>{seed, kOrderStream, epoch_word})
            .shuffle(batches);
    }
    return batches;
}

}  // namespace zoomdiff::data
