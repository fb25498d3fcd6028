#include "zoomdiff/core/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <unistd.h>

namespace zoomdiff::core {

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) {
        return "?";
    }
    const auto total = static_cast<long long>(std::llround(seconds));
    const long long h = total / 3600;
    const long long m = (total % 3600) / 60;
    const long long s = total % 60;
    if (h > 0) {
        return fmt::format("{}h{:02}m", h, m);
    }
    if (m > 0) {
        return fmt::format("{}m{:02}s", m, s);
    }
    return fmt::format("{}s", s);
}

StderrProgress::StderrProgress(ProgressMode mode, double line_interval_s)
    : enabled_(mode != ProgressMode::kNever),
      tty_(::isatty(STDERR_FILENO) == 1),
      line_interval_s_(line_interval_s) {
    // kAuto and kAlways differ only off a terminal, where kAuto still prints a line every
    // line_interval_s (batch jobs want some sign of life) but never redraws a bar.
}

StderrProgress::~StderrProgress() {
    if (active_ && tty_ && enabled_) {
        std::fputs("\n", stderr);
    }
}

void StderrProgress::start(const std::string& stage, std::uint64_t total, const std::string& unit) {
    stage_ = stage;
    unit_ = unit;
    total_ = total;
    done_ = 0;
    active_ = true;
    last_percent_ = -1;
    started_ = Clock::now();
    last_draw_ = started_;
}

void StderrProgress::advance(std::uint64_t n) {
    done_ += n;
    if (!enabled_ || !active_) {
        return;
    }
    const auto now = Clock::now();
    if (tty_) {
        const int percent =
            total_ > 0
                ? static_cast<int>(100.0 * static_cast<double>(done_) / static_cast<double>(total_))
                : -1;
        const double since_s = std::chrono::duration<double>(now - last_draw_).count();
        if (percent != last_percent_ || since_s > 1.0) {
            last_percent_ = percent;
            last_draw_ = now;
            draw(false);
        }
    } else if (std::chrono::duration<double>(now - last_draw_).count() >= line_interval_s_) {
        last_draw_ = now;
        draw(false);
    }
}

void StderrProgress::finish() {
    if (!active_) {
        return;
    }
    const double elapsed_s = std::chrono::duration<double>(Clock::now() - started_).count();
    // Short stages stay silent on a log; a terminal always gets its bar closed.
    if (enabled_ && (tty_ || elapsed_s >= line_interval_s_)) {
        draw(true);
    }
    active_ = false;
}

void StderrProgress::draw(bool final_line) {
    const double elapsed_s = std::chrono::duration<double>(Clock::now() - started_).count();
    const double rate = elapsed_s > 0 ? static_cast<double>(done_) / elapsed_s : 0.0;
    std::string text;
    if (total_ > 0) {
        const double frac = static_cast<double>(done_) / static_cast<double>(total_);
        const double eta_s =
            rate > 0 ? static_cast<double>(total_ - std::min(done_, total_)) / rate : NAN;
        text = fmt::format("{}: {}/{} {} ({:.0f}%), {:.1f} {}/s, {} {}", stage_, done_, total_,
                           unit_, 100.0 * frac, rate, unit_, final_line ? "took" : "ETA",
                           format_duration(final_line ? elapsed_s : eta_s));
    } else {
        text = fmt::format("{}: {} {}, {:.1f} {}/s, {} elapsed", stage_, done_, unit_, rate, unit_,
                           format_duration(elapsed_s));
    }
    if (tty_) {
        std::fprintf(stderr, "\r\033[K%s%s", text.c_str(), final_line ? "\n" : "");
    } else {
        std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
}

std::unique_ptr<Progress> make_progress(ProgressMode mode) {
    if (mode == ProgressMode::kNever) {
        return std::make_unique<NullProgress>();
    }
    return std::make_unique<StderrProgress>(mode);
}

}  // namespace zoomdiff::core
