#pragma once

// Runs one piece of work in a forked child and returns what it computed plus the child's own
// peak RSS, so each measured stage reports its memory alone (shared by the bench programs).

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <type_traits>

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

}  // namespace zoomdiff::bench
