#pragma once

// Everything the training loop needs from the data, torch-free: every city's tiles (scaled),
// scaler, train / validation ids, and the batches of each epoch (MODEL.md §4.3–4.6, §4.10).

#include <cstdint>
#include <string>
#include <vector>

#include "zoomdiff/data/city_tiles.hpp"
#include "zoomdiff/data/scaler.hpp"

namespace zoomdiff::data {

enum class Task {
    kFull,      ///< the reference's "train": 80 / 20 split, all parameters
    kZeroShot,  ///< no training: the base model's validation loss on the 20 % split
    kFewShot,   ///< a 10 % draw of the train tiles, frozen model but for the few-shot set
};

[[nodiscard]] const char* to_string(Task task);
Task parse_task(
    const std::string& text);  ///< full | zero_shot | few_shot (also zero-shot, few-shot)

inline constexpr double kTestFraction = 0.2;
inline constexpr std::uint32_t kSplitSeed = 24;
inline constexpr double kFewShotFraction = 0.1;

/// Where a city's train / validation tiles came from.
enum class SplitSource {
    kSeeded,  ///< the reference's seeded 80 / 20 split (kTestFraction, kSplitSeed)
    kFile,    ///< the data file's /split_2000m labels
};

[[nodiscard]] const char* to_string(SplitSource source);

struct CityTrainingData {
    CityTiles tiles;  ///< series already MinMax-scaled in place
    CityScaler scaler;
    std::vector<std::int64_t> train;  ///< tile positions (0 .. N-1), permutation order
    std::vector<std::int64_t> valid;  ///< the 20 % split (or the file's label-1 tiles)
    SplitSource split = SplitSource::kSeeded;
    std::int64_t test_tiles = 0;  ///< kept tiles labelled test (file split): used by neither
};

/// Load every city, fit its scaler on all its tiles (D-12, as the reference), scale the series,
/// split (§4.4; few-shot: split_by_train_fraction over the train positions, mapped to tile
/// positions, fixing D-25). Errors name the file.
///
/// Split labels: a city whose data file holds /split_2000m ((R, C) integers, 0 train, 1
/// validation, 2 test; uomo_import writes it) is split exactly by them instead of the seeded
/// 80 / 20 draw: train = its kept label-0 tiles, valid = its kept label-1 tiles (both in tile
/// order), label-2 tiles are left out of training and validation alike (the scaler still sees
/// them, as it sees every tile, D-12). Few-shot draws its 10 % from those train tiles.
std::vector<CityTrainingData> prepare_training_data(const std::vector<CitySource>& sources,
                                                    const TileOptions& options, Task task);

/// How batches are drawn each epoch.
enum class BatchOrder {
    kReference,  ///< one shuffle per city, drawn once and replayed every epoch, cities in blocks
                 ///< (D-13)
    kReshuffle,  ///< a new shuffle every epoch, batches of all cities interleaved (a batch stays
                 ///< one city)
};

[[nodiscard]] const char* to_string(BatchOrder order);
BatchOrder parse_batch_order(const std::string& text, const std::string& source);

struct BatchRef {
    std::int32_t city = 0;                ///< index into the cities
    std::vector<std::int64_t> positions;  ///< tile positions in that city
};

/// The batches of one epoch. Deterministic in (seed, epoch) with a generator of ours (the same
/// bits on every platform), so resuming needs no loader state. drop_last drops each city's
/// partial batch, as the reference's loaders do.
std::vector<BatchRef> epoch_batches(const std::vector<std::vector<std::int64_t>>& ids_per_city,
                                    std::int64_t batch_size, bool drop_last, bool shuffle,
                                    BatchOrder order, std::uint64_t seed, std::int64_t epoch);

}  // namespace zoomdiff::data
