#include "support/ranks.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace zoomdiff::test {

namespace fs = std::filesystem;

int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        throw std::runtime_error("free_port: no socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        close(fd);
        throw std::runtime_error("free_port: bind failed");
    }
    close(fd);
    return ntohs(address.sin_port);
}

std::vector<RankProcess> start_ranks(const std::string& exe, const std::string& args,
                                     int world_size, int port, const fs::path& scratch,
                                     std::vector<int> ranks) {
    if (ranks.empty()) {
        for (int r = 0; r < world_size; ++r)
            ranks.push_back(r);
    }
    fs::create_directories(scratch);
    std::vector<RankProcess> started;
    for (const int r : ranks) {
        RankProcess p;
        p.rank = r;
        p.log = scratch / ("rank" + std::to_string(r) + ".log");
        const std::string cmd = "exec " + exe + " " + args + " --progress never 2> '" +
                                p.log.string() + "' > /dev/null";
        p.pid = fork();
        if (p.pid < 0)
            throw std::runtime_error("start_ranks: fork failed");
        if (p.pid == 0) {
            setenv("RANK", std::to_string(r).c_str(), 1);
            setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
            setenv("WORLD_SIZE", std::to_string(world_size).c_str(), 1);
            setenv("MASTER_ADDR", "127.0.0.1", 1);
            setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
            execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        started.push_back(p);
    }
    return started;
}

RankEnd wait_rank(const RankProcess& process, std::chrono::milliseconds timeout) {
    const auto started = std::chrono::steady_clock::now();
    RankEnd end;
    int status = 0;
    while (waitpid(process.pid, &status, WNOHANG) != process.pid) {
        if (std::chrono::steady_clock::now() - started > timeout) {
            kill(process.pid, SIGKILL);
            waitpid(process.pid, &status, 0);
            end.stderr_text = rank_log(process);
            return end;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    end.finished = true;
    end.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (WIFEXITED(status))
        end.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        end.signal = WTERMSIG(status);
    end.stderr_text = rank_log(process);
    return end;
}

std::string rank_log(const RankProcess& process) {
    std::ifstream in(process.log);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace zoomdiff::test
