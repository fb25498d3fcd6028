#pragma once
// The '*'-separated lists of the command line (`--dataset Chengdu*Wuhan*Xian`, `--train
// a.h5*b.h5`): the reference's separator, split in one place.

#include <string>
#include <vector>

namespace zoomdiff::core {

/// The entries of `text` split at each '*', in order. Throws zoomdiff::Error naming `flag` when an
/// entry is empty ("a**b", "*a", "a*", ""), with `item` ("city name", "data file") in the problem
/// and `example` ("Nanchang*Nanjing") in the fix.
std::vector<std::string> split_star_list(const std::string& text, const std::string& flag,
                                         const std::string& item, const std::string& example);

}  // namespace zoomdiff::core
