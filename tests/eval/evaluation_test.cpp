// The pieces of zoomdiff_eval around the metrics: the condition-file convention and the Markdown
// table.
#include "zoomdiff/eval/evaluation.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::eval {
namespace {

TEST(EvalMarkdown, BestValuePerRowInBold) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::string md = markdown_table(
        {"a", "b", "c"}, {{"err", true, {2.0, 1.0, nan}}, {"ssim", false, {0.5, 0.9, 0.9}}});
    EXPECT_NE(md.find("| metric | a | b | c |"), std::string::npos) << md;
    EXPECT_NE(md.find("| err | 2 | **1** | – |"), std::string::npos) << md;
    EXPECT_NE(md.find("| ssim | 0.5 | **0.9** | **0.9** |"), std::string::npos) << md;  // ties
}

}  // namespace
}  // namespace zoomdiff::eval
