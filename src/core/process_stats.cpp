#include "zoomdiff/core/process_stats.hpp"

#include <fstream>
#include <string>

namespace zoomdiff::core {

long peak_rss_kb() {
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "VmHWM:") {
            long kb = 0;
            status >> kb;
            return kb;
        }
        status.ignore(4096, '\n');
    }
    return 0;
}

}  // namespace zoomdiff::core
