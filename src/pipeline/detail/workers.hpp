#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

#include "zoomdiff/core/progress.hpp"

namespace zoomdiff::pipeline::detail {

/// Runs fn(0) … fn(workers − 1) concurrently: fn(0) on the calling thread (the only one that may
/// touch a core::Progress, which is not thread-safe), the others on std::threads. Joins all of
/// them, then rethrows the exception of the lowest-numbered worker that threw, if any.
inline void run_workers(int workers, const std::function<void(int)>& fn) {
    const auto n = static_cast<std::size_t>(workers < 1 ? 1 : workers);
    std::vector<std::exception_ptr> errors(n);
    std::vector<std::thread> threads;
    threads.reserve(n - 1);
    for (std::size_t w = 1; w < n; ++w) {
        threads.emplace_back([&fn, &errors, w] {
            try {
                fn(static_cast<int>(w));
            } catch (...) {
                errors[w] = std::current_exception();
            }
        });
    }
    try {
        fn(0);
    } catch (...) {
        errors[0] = std::current_exception();
    }
    for (std::thread& t : threads) {
        t.join();
    }
    for (const std::exception_ptr& e : errors) {
        if (e) {
            std::rethrow_exception(e);
        }
    }
}

/// Half-open range [begin, end) of worker `w` when `n` items are split evenly over `workers`.
struct Range {
    std::size_t begin = 0;
    std::size_t end = 0;
};

inline Range even_split(std::size_t n, int workers, int w) {
    const auto k = static_cast<std::size_t>(workers);
    const auto i = static_cast<std::size_t>(w);
    return {n * i / k, n * (i + 1) / k};
}

/// Counts items finished by any worker; worker 0 forwards the count to the Progress.
class ProgressRelay {
public:
    explicit ProgressRelay(core::Progress& progress) : progress_(progress) {}

    /// Any worker: `n` more items are done.
    void add(std::uint64_t n) noexcept { done_.fetch_add(n, std::memory_order_relaxed); }

    /// Worker 0 (or the caller after joining): report what was finished since the last call.
    void flush() {
        const std::uint64_t now = done_.load(std::memory_order_relaxed);
        if (now > reported_) {
            progress_.advance(now - reported_);
            reported_ = now;
        }
    }

private:
    core::Progress& progress_;
    std::atomic<std::uint64_t> done_{0};
    std::uint64_t reported_ = 0;
};

}  // namespace zoomdiff::pipeline::detail
