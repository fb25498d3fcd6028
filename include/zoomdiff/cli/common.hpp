#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>

#include "zoomdiff/core/progress.hpp"
#include "zoomdiff/geo/population.hpp"

namespace zoomdiff::cli {

/// Flags every tool shares.
struct CommonOptions {
    int threads = 0;         ///< worker threads; 0 = all cores
    std::uint64_t seed = 0;  ///< seed of every random draw (DESIGN §4)
    std::string log_level = "info";
    bool quiet = false;  ///< -q: warnings and errors only
    int verbose = 0;     ///< -v debug, -vv trace
    core::ProgressMode progress = core::ProgressMode::kAuto;
    bool developer_debug = false;  ///< let exceptions escape (debugger, core dump)
    std::string command_line;      ///< filled by run_tool, recorded in outputs
    /// Lines --version adds after the core libraries' (the torch tools: model::runtime_versions).
    std::function<std::string()> more_versions;
};

/// What --version prints: the tool, zoomdiff's version and commit, the GDAL, HDF5, spdlog and fmt
/// it runs with, then `more` (may be empty).
[[nodiscard]] std::string version_text(const std::string& tool, const std::string& more);

/// Add --threads, --seed, --log-level, -q, -v, --progress, --version and the hidden
/// --developer_debug.
void add_common_flags(CLI::App& app, CommonOptions& options);

/// `--pop_rule reference|area_weighted` (env_extra and grid_meta share it).
void add_pop_rule_flag(CLI::App& app, geo::PopulationRule& rule);

/// A flag's check that its value is a whole number 0 .. 2^64 - 1 written in digits (CLI11 alone
/// turns "-1" and larger numbers into 2^64 - 1): --seed, uomo_import's --holdout_seed.
[[nodiscard]] CLI::Validator uint64_validator();

/// A transform for a flag whose values are a closed set of an enum (`values`, each named by
/// `name`): the flag's text becomes the enum, anything else fails with "must be one of a, b, c,
/// not 'x'". Use ->transform(one_of(...))->default_str(name(default)).
template <typename Enum, std::size_t N>
[[nodiscard]] CLI::Validator one_of(const Enum (&values)[N], const char* (*name)(Enum)) {
    std::vector<Enum> all(values, values + N);
    std::string list;
    for (const Enum value : all)
        list += (list.empty() ? "" : ", ") + std::string(name(value));
    return CLI::Validator(
        [all, name, list](std::string& text) -> std::string {
            for (const Enum value : all) {
                if (text == name(value)) {
                    text = std::to_string(static_cast<std::underlying_type_t<Enum>>(value));
                    return {};
                }
            }
            return "must be one of " + list + ", not '" + text + "'";
        },
        "", "one_of");
}

/// Number of threads to use: options.threads, or all cores when 0.
[[nodiscard]] int resolved_threads(const CommonOptions& options);

/// The only try of a tool (STYLE §2.5): parse, configure logging, run `body`, map errors to exit
/// codes. Returns the process exit code: 0 ok (also --help), 2 bad input or usage, 1 internal.
int run_tool(CLI::App& app, CommonOptions& options, int argc, const char* const* argv,
             const std::function<void()>& body);

/// Join argv into one shell-quoted line.
[[nodiscard]] std::string join_command_line(int argc, const char* const* argv);

}  // namespace zoomdiff::cli
