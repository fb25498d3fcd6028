#include "zoomdiff/io/run_manifest.hpp"

#include <system_error>

#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/text_file.hpp"

namespace zoomdiff::io {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::optional<std::vector<std::int64_t>> tile_ids(const json& city, const char* split) {
    const auto ids = city.find("split_tile_ids");
    if (ids == city.end() || !ids->is_object() || !ids->contains(split))
        return std::nullopt;
    return (*ids)[split].get<std::vector<std::int64_t>>();
}

std::string string_or_empty(const json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

fs::path RunManifest::path_in(const fs::path& run_dir) {
    return run_dir / kFileName;
}

RunManifest RunManifest::read(const fs::path& run_dir, const std::string& fix) {
    const fs::path path = path_in(run_dir);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        throw Error(path.string(), "not found", fix);
    const std::string text = core::read_text_file(path, "cannot read the run manifest", fix);
    try {
        return RunManifest(json::parse(text));
    } catch (const json::exception& e) {
        throw Error(path.string(), std::string("is not valid JSON (") + e.what() + ")", fix);
    }
}

void RunManifest::write(const fs::path& run_dir) const {
    core::write_text_file(path_in(run_dir), doc_.dump(2) + "\n");
}

std::vector<RunManifestCity> RunManifest::cities(const std::string& source,
                                                 const std::string& fix) const {
    std::vector<RunManifestCity> out;
    const auto list = doc_.find("cities");
    if (list == doc_.end() || !list->is_array())
        return out;
    for (const auto& c : *list) {
        if (!c.is_object() || !c.contains("data_file") || !c["data_file"].is_string())
            throw Error(source, "a city entry has no 'data_file'", fix);
        RunManifestCity city;
        city.token = string_or_empty(c, "token");
        city.city = string_or_empty(c, "city");
        city.data_file = c["data_file"].get<std::string>();
        city.cond_file = string_or_empty(c, "cond_file");
        city.data_sha256 = string_or_empty(c, "data_sha256");
        city.cond_sha256 = string_or_empty(c, "cond_sha256");
        city.train_tile_ids = tile_ids(c, "train");
        city.valid_tile_ids = tile_ids(c, "valid");
        out.push_back(std::move(city));
    }
    return out;
}

}  // namespace zoomdiff::io
