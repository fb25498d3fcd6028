#include "zoomdiff/core/error.hpp"

#include <utility>

namespace zoomdiff {
namespace {

std::string compose(const std::string& subject, const std::string& problem,
                    const std::string& fix) {
    std::string text = subject.empty() ? problem : subject + ": " + problem;
    if (!text.empty() && text.back() != '.') {
        text += '.';
    }
    if (!fix.empty()) {
        text += ' ';
        text += fix;
    }
    return text;
}

}  // namespace

Error::Error(std::string subject, std::string problem, std::string fix, ExitCode code)
    : std::runtime_error(compose(subject, problem, fix)),
      subject_(std::move(subject)),
      code_(code) {}

}  // namespace zoomdiff
