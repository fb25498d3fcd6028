#pragma once

#include <filesystem>
#include <string>

namespace zoomdiff::core {

/// The whole file as bytes. A file that cannot be opened throws zoomdiff::Error naming it, with
/// `problem` ("cannot read the model config") and `fix`.
std::string read_text_file(const std::filesystem::path& path, const std::string& problem,
                           const std::string& fix);

/// Write `text` to `path` atomically (AtomicOutput): nothing appears unless every byte is written.
void write_text_file(const std::filesystem::path& path, const std::string& text);

}  // namespace zoomdiff::core
