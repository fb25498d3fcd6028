#include "zoomdiff/core/star_list.hpp"

#include <cstddef>

#include <fmt/format.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::core {

std::vector<std::string> split_star_list(const std::string& text, const std::string& flag,
                                         const std::string& item, const std::string& example) {
    std::vector<std::string> entries;
    std::size_t start = 0;
    for (;;) {
        const std::size_t star = text.find('*', start);
        std::string entry =
            text.substr(start, star == std::string::npos ? std::string::npos : star - start);
        if (entry.empty()) {
            throw Error(flag, fmt::format("'{}' has an empty {}", text, item),
                        fmt::format("Separate them with a single '*', e.g. {}", example));
        }
        entries.push_back(std::move(entry));
        if (star == std::string::npos)
            return entries;
        start = star + 1;
    }
}

}  // namespace zoomdiff::core
