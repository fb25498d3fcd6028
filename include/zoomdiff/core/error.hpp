#pragma once

#include <stdexcept>
#include <string>

namespace zoomdiff {

/// Process exit codes shared by every tool (DESIGN §3).
enum class ExitCode : int { kOk = 0, kInternal = 1, kInput = 2 };

/// The one user-facing error: what() = "<subject>: <problem>. <fix>".
/// `subject` is the file or flag at fault; `fix` tells the user what to do.
class Error : public std::runtime_error {
public:
    Error(std::string subject, std::string problem, std::string fix,
          ExitCode code = ExitCode::kInput);

    [[nodiscard]] ExitCode exit_code() const noexcept { return code_; }

    [[nodiscard]] const std::string& subject() const noexcept { return subject_; }

private:
    std::string subject_;
    ExitCode code_;
};

}  // namespace zoomdiff
