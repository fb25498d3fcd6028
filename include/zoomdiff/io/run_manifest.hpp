#pragma once
// manifest.json of a zoomdiff_train run folder: what the run trained on and how (command line,
// seed, task, cities with their files, hashes and split tile ids, status). zoomdiff_train writes
// it (and rewrites it when the run ends) and reads it back with --resume; zoomdiff_eval reads the
// training cities (--baselines) and their splits (--tiles valid|train). This is the one place that
// knows the file's name and reads its city entries.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace zoomdiff::io {

/// One training city of a run, as manifest.json lists it.
struct RunManifestCity {
    std::string token;  ///< as given in --dataset
    std::string city;   ///< English name: folder and file names
    std::filesystem::path data_file;
    std::filesystem::path cond_file;  ///< empty in manifests that predate the key
    std::string data_sha256;
    std::string cond_sha256;
    /// The tile ids of the run's train and valid splits; empty in manifests that predate them.
    std::optional<std::vector<std::int64_t>> train_tile_ids;
    std::optional<std::vector<std::int64_t>> valid_tile_ids;
};

class RunManifest {
public:
    static constexpr const char* kFileName = "manifest.json";

    RunManifest() = default;

    explicit RunManifest(nlohmann::json document) : doc_(std::move(document)) {}

    /// <run_dir>/manifest.json.
    [[nodiscard]] static std::filesystem::path path_in(const std::filesystem::path& run_dir);
    /// Reads <run_dir>/manifest.json. A missing, unreadable or invalid file throws zoomdiff::Error
    /// naming it, with `fix`.
    [[nodiscard]] static RunManifest read(const std::filesystem::path& run_dir,
                                          const std::string& fix);
    /// Writes <run_dir>/manifest.json (2-space JSON, keys sorted; temporary file and rename).
    void write(const std::filesystem::path& run_dir) const;

    /// The whole document, for the writer's fields.
    [[nodiscard]] nlohmann::json& document() noexcept { return doc_; }

    [[nodiscard]] const nlohmann::json& document() const noexcept { return doc_; }

    /// The training cities in run order; none when the manifest has no "cities" list. An entry
    /// without "data_file" throws zoomdiff::Error naming `source` (the file) with `fix`.
    [[nodiscard]] std::vector<RunManifestCity> cities(const std::string& source,
                                                      const std::string& fix) const;

private:
    nlohmann::json doc_;
};

}  // namespace zoomdiff::io
