#pragma once
// How a path is recorded in the outputs (manifests, resolved configs, provenance): absolute and
// lexically normal, so a record read later does not depend on the working directory it was made in.

#include <filesystem>
#include <string>

namespace zoomdiff::core {

[[nodiscard]] inline std::string recorded_path(const std::filesystem::path& path) {
    return std::filesystem::absolute(path).lexically_normal().string();
}

}  // namespace zoomdiff::core
