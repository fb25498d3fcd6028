#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace zoomdiff::poi::detail {

/// An RFC 4180 reader over one CSV text held in memory, parsing in place (so one file costs one
/// buffer and no per-field allocation).
///
/// Rules, chosen to read what pandas' C parser reads: ',' separates fields; a field starting with
/// '"' is quoted and may hold ',', line breaks and doubled quotes ("" = "); characters after the
/// closing quote are appended literally; a '"' inside an unquoted field is literal; records end
/// at LF, CRLF or a lone CR; empty lines are skipped; a UTF-8 BOM at the start is dropped.
class CsvReader {
public:
    /// `name` is used in error messages (the file path).
    CsvReader(std::string text, std::string name);

    /// Read a whole file. Throws zoomdiff::Error naming the file if it cannot be read.
    static CsvReader from_file(const std::filesystem::path& path);

    /// Read only the first record of a file (the header): enough lines to close every quote.
    /// Throws zoomdiff::Error if the file cannot be read.
    static std::vector<std::string> read_header(const std::filesystem::path& path);

    /// Next record into `fields` (views into this reader's buffer, valid for its lifetime).
    /// Returns false at the end. Throws zoomdiff::Error for a quote left open at the end.
    bool next(std::vector<std::string_view>& fields);

    /// 1-based line of the file where the record last returned by next() starts.
    [[nodiscard]] std::size_t record_line() const noexcept { return record_line_; }

private:
    std::string text_;
    std::string name_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
    std::size_t record_line_ = 0;
};

}  // namespace zoomdiff::poi::detail
