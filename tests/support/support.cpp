#include "support/support.hpp"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <system_error>

#include <sys/wait.h>
#include <unistd.h>

namespace zoomdiff::test {

namespace fs = std::filesystem;

fs::path source_dir() {
    return fs::path(ZOOMDIFF_SOURCE_DIR);
}

fs::path golden_dir() {
    if (const char* env = std::getenv("ZOOMDIFF_GOLDEN_DIR"); env != nullptr && *env != '\0') {
        return fs::path(env);
    }
    return test_data_dir() / "golden";
}

fs::path test_data_dir() {
    return source_dir() / "tests" / "data";
}

std::string missing_data(const fs::path& path) {
    return path.string() + " is missing: it ships in tests/data (tests/data/README.md)";
}

ToolRun run_tool(const std::string& exe, const std::string& args, const fs::path& scratch) {
    const fs::path err = scratch / "stderr.txt";
    const fs::path out = scratch / "stdout.txt";
    const std::string cmd =
        exe + " " + args + " --progress never 2> '" + err.string() + "' > '" + out.string() + "'";
    const int status = std::system(cmd.c_str());
    const auto text_of = [](const fs::path& p) {
        std::ifstream in(p);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    ToolRun run{WIFEXITED(status) ? WEXITSTATUS(status) : -1, text_of(err), text_of(out)};
    fs::remove(out);
    return run;
}

ToolRun check_cf(const std::string& kind, const fs::path& file, const fs::path& scratch) {
    const fs::path script = source_dir() / "tests" / "python" / "check_cf.py";
    const fs::path log = scratch / "check_cf.txt";
    const std::string cmd = "/usr/bin/python3 '" + script.string() + "' " + kind + " '" +
                            file.string() + "' > '" + log.string() + "' 2>&1";
    const int status = std::system(cmd.c_str());
    std::ifstream in(log);
    ToolRun run{WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()),
                {}};
    return run;
}

std::size_t line_count(const fs::path& path) {
    std::ifstream in(path);
    std::size_t n = 0;
    std::string line;
    while (std::getline(in, line))
        ++n;
    return n;
}

TempDir::TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("zoomdiff-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
             std::to_string(rd() % 100000));
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

}  // namespace zoomdiff::test
