#pragma once

#include <filesystem>
#include <string>

namespace zoomdiff::core {

/// SHA-256 of a file's bytes as 64 lowercase hex digits (run manifests record their inputs).
/// Throws zoomdiff::Error naming the file when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

/// SHA-256 of a string, hex (tests, and manifests of in-memory configs).
std::string sha256_text(const std::string& text);

}  // namespace zoomdiff::core
