#include "zoomdiff/core/text_file.hpp"

#include <fstream>
#include <sstream>

#include "zoomdiff/core/atomic_output.hpp"
#include "zoomdiff/core/error.hpp"

namespace zoomdiff::core {

std::string read_text_file(const std::filesystem::path& path, const std::string& problem,
                           const std::string& fix) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(path.string(), problem, fix);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
    AtomicOutput output(path);
    {
        std::ofstream out(output.temp_path(), std::ios::binary);
        out << text;
        if (!out.flush())
            throw Error(path.string(), "could not be written",
                        "Check free disk space and permissions");
    }
    output.commit();
}

}  // namespace zoomdiff::core
