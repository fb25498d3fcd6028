#include "poi/detail/csv_reader.hpp"

#include <cstring>
#include <fstream>
#include <utility>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::poi::detail {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

void strip_bom(std::string& text) {
    if (text.compare(0, kUtf8Bom.size(), kUtf8Bom) == 0) {
        text.erase(0, kUtf8Bom.size());
    }
}

}  // namespace

CsvReader::CsvReader(std::string text, std::string name)
    : text_(std::move(text)), name_(std::move(name)) {
    strip_bom(text_);
}

CsvReader CsvReader::from_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
        throw Error(path.string(), "cannot open the file", "Check that it exists and is readable.");
    }
    const std::streamoff size = in.tellg();
    if (size < 0) {
        throw Error(path.string(), "cannot read the file", "Check that it is a readable file.");
    }
    std::string text(static_cast<std::size_t>(size), '\0');
    in.seekg(0);
    if (!in.read(text.data(), size)) {
        throw Error(path.string(), "cannot read the file", "Check that it is readable.");
    }
    return CsvReader(std::move(text), path.string());
}

std::vector<std::string> CsvReader::read_header(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(path.string(), "cannot open the file", "Check that it exists and is readable.");
    }
    // Gather lines until the text holds a complete first record: an even number of quotes
    // (doubled quotes count two) and at least one non-empty line.
    std::string text;
    std::string line;
    std::size_t quotes = 0;
    bool have_content = false;
    while (std::getline(in, line)) {
        text += line;
        text += '\n';
        for (const char ch : line) {
            quotes += ch == '"' ? 1 : 0;
        }
        const bool blank = line.empty() || line == "\r" || line == kUtf8Bom ||
                           line == std::string(kUtf8Bom) + "\r";
        have_content = have_content || !blank;
        if (have_content && quotes % 2 == 0) {
            break;
        }
    }
    CsvReader reader(std::move(text), path.string());
    std::vector<std::string_view> fields;
    if (!reader.next(fields)) {
        return {};
    }
    return {fields.begin(), fields.end()};
}

bool CsvReader::next(std::vector<std::string_view>& fields) {
    fields.clear();
    const std::size_t end = text_.size();
    char* const buf = text_.data();
    // Skip empty lines.
    while (pos_ < end && (buf[pos_] == '\n' || buf[pos_] == '\r')) {
        if (buf[pos_] == '\r' && pos_ + 1 < end && buf[pos_ + 1] == '\n') {
            ++pos_;
        }
        ++pos_;
        ++line_;
    }
    if (pos_ >= end) {
        return false;
    }
    record_line_ = line_;
    while (true) {
        const std::size_t start = pos_;
        std::size_t out = start;  // write position; quoted fields shrink in place
        if (buf[pos_] == '"') {
            ++pos_;
            while (true) {
                const void* hit = std::memchr(buf + pos_, '"', end - pos_);
                if (hit == nullptr) {
                    throw Error(name_,
                                "a quoted field opened on line " + std::to_string(line_) +
                                    " is never closed",
                                "Close the quote or double it (\"\") inside the field.");
                }
                const std::size_t quote =
                    static_cast<std::size_t>(static_cast<const char*>(hit) - buf);
                for (std::size_t i = pos_; i < quote; ++i) {
                    line_ += buf[i] == '\n' ? 1 : 0;
                }
                if (out != pos_) {
                    std::memmove(buf + out, buf + pos_, quote - pos_);
                }
                out += quote - pos_;
                pos_ = quote + 1;
                if (pos_ < end && buf[pos_] == '"') {
                    buf[out++] = '"';
                    ++pos_;
                    continue;
                }
                break;
            }
        }
        // Unquoted text (a whole field, or what follows a closing quote) up to ',' or the end.
        std::size_t i = pos_;
        while (i < end && buf[i] != ',' && buf[i] != '\n' && buf[i] != '\r') {
            ++i;
        }
        if (out != pos_) {
            std::memmove(buf + out, buf + pos_, i - pos_);
        }
        out += i - pos_;
        fields.emplace_back(buf + start, out - start);
        pos_ = i;
        if (pos_ < end && buf[pos_] == ',') {
            ++pos_;
            if (pos_ >= end) {
                fields.emplace_back();  // "a,b," at the very end: a last empty field
                return true;
            }
            continue;
        }
        // End of record.
        if (pos_ < end) {
            if (buf[pos_] == '\r' && pos_ + 1 < end && buf[pos_ + 1] == '\n') {
                ++pos_;
            }
            ++pos_;
            ++line_;
        }
        return true;
    }
}

}  // namespace zoomdiff::poi::detail
