#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace zoomdiff::core {

/// Progress of one long loop. Library code calls start/advance/finish; the tool picks the sink
/// (STYLE P8, §2.11). Not thread-safe: report from the thread that owns the loop.
class Progress {
public:
    virtual ~Progress() = default;

    /// Begin a stage of `total` items counted in `unit` ("cells", "features"); total 0 = unknown.
    virtual void start(const std::string& stage, std::uint64_t total, const std::string& unit) = 0;
    virtual void advance(std::uint64_t n = 1) = 0;
    virtual void finish() = 0;
};

/// A sink that shows nothing (tests, `--progress never`).
class NullProgress final : public Progress {
public:
    void start(const std::string& /*stage*/, std::uint64_t /*total*/,
               const std::string& /*unit*/) override {}

    void advance(std::uint64_t /*n*/) override {}

    void finish() override {}
};

/// How progress is shown on stderr (osmium-tool's display_progress_type).
enum class ProgressMode { kAuto, kAlways, kNever };

/// A stderr sink: a redrawn bar with rate and ETA on a terminal, else one line every
/// `line_interval_s` seconds (batch jobs, CI logs). kAuto picks by isatty(stderr).
class StderrProgress final : public Progress {
public:
    explicit StderrProgress(ProgressMode mode, double line_interval_s = 10.0);
    ~StderrProgress() override;

    StderrProgress(const StderrProgress&) = delete;
    StderrProgress& operator=(const StderrProgress&) = delete;
    StderrProgress(StderrProgress&&) = delete;
    StderrProgress& operator=(StderrProgress&&) = delete;

    void start(const std::string& stage, std::uint64_t total, const std::string& unit) override;
    void advance(std::uint64_t n = 1) override;
    void finish() override;

private:
    using Clock = std::chrono::steady_clock;
    void draw(bool final_line);

    bool enabled_;
    bool tty_;
    double line_interval_s_;
    std::string stage_;
    std::string unit_;
    std::uint64_t total_ = 0;
    std::uint64_t done_ = 0;
    bool active_ = false;
    Clock::time_point started_{};
    Clock::time_point last_draw_{};
    int last_percent_ = -1;
};

/// "1h02m", "3m05s", "12s" for a duration in seconds.
std::string format_duration(double seconds);

/// Build the sink a tool uses from `--progress auto|always|never`.
std::unique_ptr<Progress> make_progress(ProgressMode mode);

}  // namespace zoomdiff::core
