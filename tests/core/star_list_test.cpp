#include "zoomdiff/core/star_list.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::core {
namespace {

std::string error_of(const std::string& text) {
    try {
        (void)split_star_list(text, "--dataset", "city name", "Nanchang*Nanjing");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(StarList, SplitsInOrderAndRefusesEveryEmptyEntry) {
    EXPECT_EQ(split_star_list("a*b*c", "--x", "item", "a*b"),
              (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(split_star_list("only", "--x", "item", "a*b"), (std::vector<std::string>{"only"}));
    for (const std::string bad : {"", "*a", "a*", "a**b"}) {
        const std::string what = error_of(bad);
        EXPECT_NE(what.find("--dataset: '" + bad + "' has an empty city name"), std::string::npos)
            << what;
        EXPECT_NE(what.find("e.g. Nanchang*Nanjing"), std::string::npos) << what;
    }
}

}  // namespace
}  // namespace zoomdiff::core
