#pragma once

// Runs one piece of work in a forked child and returns what it computed plus the child's own
// peak RSS, so each measured stage reports its memory alone (shared by the bench programs).

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace zoomdiff::bench {

template <typename Result>
struct ChildRun {
    Result result{};
    long peak_rss_kb = 0;  ///< ru_maxrss of the child (includes what it inherited from the parent)
};

/// `work` runs in a child process; its Result (trivially copyable) comes back through a pipe.
/// Exits the program with a message when the child fails. Do not use after starting threads
/// that the work needs (a fork copies only the calling thread).
template <typename Result>
ChildRun<Result> run_in_child(const std::function<Result()>& work) {
    static_assert(std::is_trivially_copyable_v<Result>, "the result crosses a pipe");
    int fds[2];
    if (pipe(fds) != 0) {
        std::perror("pipe");
        std::exit(1);
    }
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        const Result r = work();
        _exit(write(fds[1], &r, sizeof r) == sizeof r ? 0 : 3);
    }
    close(fds[1]);
    ChildRun<Result> run;
    const bool got = read(fds[0], &run.result, sizeof run.result) == sizeof run.result;
    close(fds[0]);
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bench: the measured stage failed in its child process\n");
        std::exit(1);
    }
    run.peak_rss_kb = usage.ru_maxrss;
    return run;
}

// ---- a variant that survives its child ---------------------------------------------------------

/// What try_run_in_child saw: the result when the child finished, else why it did not.
template <typename Result>
struct ChildOutcome {
    bool ok = false;
    Result result{};
    long peak_rss_kb = 0;    ///< ru_maxrss of the child, also when it failed
    double cpu_seconds = 0;  ///< user + system time of the child
    std::string failure;     ///< empty when ok: "killed by signal 9", "RSS above 20000 MiB", ...
};

/// Resident set size of a live process in KiB (0 when it cannot be read).
inline long process_rss_kb(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return 0;
}

/// Like run_in_child, but a failing child (an exception, a signal, the kernel's OOM killer) is
/// reported instead of ending the program. With `rss_limit_kb` > 0 the parent polls the child's
/// RSS every 10 ms and kills it once it is above the limit, so a measurement that would exhaust
/// the machine ends as "RSS above ..." and leaves the rest of the machine alone. The child also
/// volunteers as the OOM killer's first choice.
template <typename Result>
ChildOutcome<Result> try_run_in_child(const std::function<Result()>& work, long rss_limit_kb = 0) {
    static_assert(std::is_trivially_copyable_v<Result>, "the result crosses a pipe");
    ChildOutcome<Result> outcome;
    int fds[2];
    if (pipe(fds) != 0) {
        outcome.failure = std::string("pipe: ") + std::strerror(errno);
        return outcome;
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        outcome.failure = std::string("fork: ") + std::strerror(errno);
        close(fds[0]);
        close(fds[1]);
        return outcome;
    }
    if (pid == 0) {
        close(fds[0]);
        if (std::FILE* adj = std::fopen("/proc/self/oom_score_adj", "w")) {
            std::fputs("1000", adj);
            std::fclose(adj);
        }
        try {
            const Result r = work();
            _exit(write(fds[1], &r, sizeof r) == sizeof r ? 0 : 3);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench child: %s\n", e.what());
            _exit(4);
        }
    }
    close(fds[1]);
    int status = 0;
    rusage usage{};
    bool over_limit = false;
    for (;;) {
        const pid_t done = wait4(pid, &status, WNOHANG, &usage);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR) {
            outcome.failure = std::string("wait4: ") + std::strerror(errno);
            close(fds[0]);
            return outcome;
        }
        if (!over_limit && rss_limit_kb > 0 && process_rss_kb(pid) > rss_limit_kb) {
            over_limit = true;
            kill(pid, SIGKILL);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    outcome.peak_rss_kb = usage.ru_maxrss;
    outcome.cpu_seconds =
        static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
        1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
    Result received{};
    const bool got =
        read(fds[0], &received, sizeof received) == static_cast<ssize_t>(sizeof received);
    close(fds[0]);
    if (got)
        outcome.result = received;
    if (over_limit) {
        outcome.failure =
            "RSS above the limit of " + std::to_string(rss_limit_kb / 1024) + " MiB, killed";
    } else if (WIFSIGNALED(status)) {
        outcome.failure = "killed by signal " + std::to_string(WTERMSIG(status)) +
                          (WTERMSIG(status) == SIGKILL ? " (out of memory?)" : "");
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !got) {
        outcome.failure =
            "failed, exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    } else {
        outcome.ok = true;
    }
    return outcome;
}

}  // namespace zoomdiff::bench
