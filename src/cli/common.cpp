#include "zoomdiff/cli/common.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>
#include <new>
#include <string>
#include <string_view>
#include <thread>

#include <cpl_conv.h>
#include <fmt/core.h>
#include <gdal.h>
#include <hdf5.h>
#include <ogr_srs_api.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "zoomdiff/core/allocator.hpp"
#include "zoomdiff/core/error.hpp"
#include "zoomdiff/core/world.hpp"

namespace zoomdiff::cli {
namespace {

/// Route GDAL/OGR messages through spdlog instead of GDAL's own stderr printer (STYLE §2.6).
/// Failures are not logged here: the code that called GDAL throws an Error with context.
void CPL_STDCALL gdal_to_spdlog(CPLErr level, CPLErrorNum /*code*/, const char* msg) {
    if (level == CE_Warning) {
        spdlog::warn("GDAL: {}", msg);
    } else if (level == CE_Debug) {
        spdlog::debug("GDAL: {}", msg);
    } else if (level == CE_Failure || level == CE_Fatal) {
        spdlog::debug("GDAL error: {}", msg);
    }
}

void configure_logging(const CommonOptions& options) {
    auto logger = std::make_shared<spdlog::logger>(
        "zoomdiff", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    // Ranks of a distributed run (torchrun's variables) label every line; a malformed variable
    // is reported by the tool that uses it, with its fix.
    std::string label;
    try {
        label = core::world_label(core::world_from_environment());
    } catch (const Error&) {
    }
    logger->set_pattern(label.empty() ? "[%H:%M:%S] %^%l%$ %v"
                                      : "[%H:%M:%S] [" + label + "] %^%l%$ %v");
    spdlog::level::level_enum level = spdlog::level::from_str(options.log_level);
    if (options.quiet) {
        level = spdlog::level::warn;
    } else if (options.verbose == 1) {
        level = spdlog::level::debug;
    } else if (options.verbose >= 2) {
        level = spdlog::level::trace;
    }
    logger->set_level(level);
    spdlog::set_default_logger(logger);
}

}  // namespace

std::string version_text(const std::string& tool, const std::string& more) {
    unsigned h5_major = 0;
    unsigned h5_minor = 0;
    unsigned h5_release = 0;
    H5get_libversion(&h5_major, &h5_minor, &h5_release);
    int proj_major = 0;
    int proj_minor = 0;
    int proj_patch = 0;
    OSRGetPROJVersion(&proj_major, &proj_minor, &proj_patch);
    std::string text =
        fmt::format("{} {} (commit {})\n", tool, ZOOMDIFF_VERSION, ZOOMDIFF_GIT_COMMIT);
    text += fmt::format("GDAL {}, PROJ {}.{}.{}, HDF5 {}.{}.{}, spdlog {}.{}.{}, fmt {}\n",
                        GDALVersionInfo("RELEASE_NAME"), proj_major, proj_minor, proj_patch,
                        h5_major, h5_minor, h5_release, SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR,
                        SPDLOG_VER_PATCH, FMT_VERSION);
    if (!more.empty())
        text += more + (more.back() == '\n' ? "" : "\n");
    return text;
}

CLI::Validator uint64_validator() {
    // CLI11 converts "-1" and out-of-range numbers to 2^64 - 1 (issue 19): only 0 .. 2^64 - 1, in
    // digits.
    return CLI::Validator(
        [](const std::string& text) -> std::string {
            constexpr std::string_view kMax = "18446744073709551615";
            const bool digits =
                !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
            const auto significant =
                digits ? text.substr(std::min(text.find_first_not_of('0'), text.size())) : "";
            if (!digits || significant.size() > kMax.size() ||
                (significant.size() == kMax.size() && significant > kMax)) {
                return "must be a whole number from 0 to 18446744073709551615, not '" + text + "'";
            }
            return {};
        },
        "UINT64");
}

void add_common_flags(CLI::App& app, CommonOptions& options) {
    // A flag given twice takes the last value, so scripts can override a default argument list.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.set_version_flag("--version", [&app, &options] {
        std::string text =
            version_text(app.get_name(), options.more_versions ? options.more_versions() : "");
        text.pop_back();  // CLI11 ends the line itself
        return text;
    });
    app.add_option("--threads", options.threads, "Worker threads (default: all cores)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--seed", options.seed, "Seed of every random draw")
        ->check(uint64_validator())
        ->capture_default_str();
    app.add_option("--log-level", options.log_level, "trace|debug|info|warn|error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->capture_default_str();
    app.add_flag("-q,--quiet", options.quiet, "Show warnings and errors only");
    app.add_flag("-v,--verbose", options.verbose, "More output (-v debug, -vv trace)");
    const std::map<std::string, core::ProgressMode> modes{{"auto", core::ProgressMode::kAuto},
                                                          {"always", core::ProgressMode::kAlways},
                                                          {"never", core::ProgressMode::kNever}};
    app.add_option("--progress", options.progress, "Progress display: auto|always|never")
        ->transform(CLI::CheckedTransformer(modes, CLI::ignore_case).description(""));
    app.add_flag("--developer_debug", options.developer_debug,
                 "Let exceptions escape (for a debugger)")
        ->group("");
}

void add_pop_rule_flag(CLI::App& app, geo::PopulationRule& rule) {
    const std::map<std::string, geo::PopulationRule> rules{
        {"reference", geo::PopulationRule::kReference},
        {"area_weighted", geo::PopulationRule::kAreaWeighted}};
    app.add_option("--pop_rule", rule,
                   "reference (the reference's per-cell pixel sampling; EPSG:4326, ~100 m pixels) "
                   "or area_weighted (pixel overlap fractions, any CRS, the total conserved)")
        ->transform(CLI::CheckedTransformer(rules, CLI::ignore_case).description(""));
}

int resolved_threads(const CommonOptions& options) {
    if (options.threads > 0) {
        return options.threads;
    }
    const unsigned int cores = std::thread::hardware_concurrency();
    return cores > 0 ? static_cast<int>(cores) : 1;
}

std::string join_command_line(int argc, const char* const* argv) {
    std::string line;
    for (int i = 0; i < argc; ++i) {
        std::string arg = argv[i];
        const bool plain =
            !arg.empty() && arg.find_first_of(" \t\n'\"\\$*?`;&|<>()") == std::string::npos;
        if (i > 0) {
            line += ' ';
        }
        if (plain) {
            line += arg;
        } else {
            line += '\'';
            for (const char c : arg) {
                if (c == '\'') {
                    line += "'\\''";
                } else {
                    line += c;
                }
            }
            line += '\'';
        }
    }
    return line;
}

int run_tool(CLI::App& app, CommonOptions& options, int argc, const char* const* argv,
             const std::function<void()>& body) {
    const std::string tool = app.get_name();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : static_cast<int>(ExitCode::kInput);
    }
    options.command_line = join_command_line(argc, argv);
    configure_logging(options);
    // Heap-only malloc by default (core/allocator.hpp: 1.7-2x faster model steps);
    // ZOOMDIFF_MALLOC=glibc keeps glibc's defaults.
    spdlog::debug("malloc: {}", core::to_string(core::set_malloc_mode(core::MallocMode::kHeap)));
    const unsigned int cores = std::thread::hardware_concurrency();
    if (cores > 0 && options.threads > static_cast<int>(cores)) {
        spdlog::warn(
            "--threads {} is more than this machine's {} cores: using {} (more threads only "
            "contend)",
            options.threads, cores, cores);
        options.threads = static_cast<int>(cores);
    }
    // issue 19: after a failed write (a full disk) HDF5's own exit handler flushed the file
    // again and crashed after the error line; our writers close every file themselves.
    H5dont_atexit();
    GDALAllRegister();
    CPLSetErrorHandler(gdal_to_spdlog);
    // GDAL's own worker pools follow --threads too.
    CPLSetConfigOption("GDAL_NUM_THREADS", std::to_string(resolved_threads(options)).c_str());
    spdlog::info("{} {} | {}", tool, ZOOMDIFF_VERSION, options.command_line);

    if (options.developer_debug) {
        body();
        return 0;
    }
    try {
        body();
        return 0;
    } catch (const Error& e) {
        std::fprintf(stderr, "%s: %s\n", tool.c_str(), e.what());
        return static_cast<int>(e.exit_code());
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr,
                     "%s: out of memory. Use a smaller area or fewer --threads, or a machine with "
                     "more memory.\n",
                     tool.c_str());
        return static_cast<int>(ExitCode::kInternal);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: internal error: %s\n", tool.c_str(), e.what());
        return static_cast<int>(ExitCode::kInternal);
    }
}

}  // namespace zoomdiff::cli
