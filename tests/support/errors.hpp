#pragma once
// Error helpers of the tests: the message of the zoomdiff::Error a call throws.

#include <string>

#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::test {

/// Runs `body`, expects a zoomdiff::Error with the input exit code, and returns its message.
template <typename Body>
std::string error_of(Body body) {
    try {
        body();
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::kInput) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no zoomdiff::Error thrown";
    return {};
}

/// Success when `message` contains `part`; the failure shows both.
inline ::testing::AssertionResult mentions(const std::string& message, const std::string& part) {
    if (message.find(part) != std::string::npos) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "'" << message << "' does not mention '" << part << "'";
}

}  // namespace zoomdiff::test
