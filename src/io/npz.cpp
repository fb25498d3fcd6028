#include "zoomdiff/io/npz.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>

#include <zip.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::io {
namespace {

namespace fs = std::filesystem;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy reader and writer copy little-endian bytes as they are");

constexpr std::string_view kNpyMagic{"\x93NUMPY", 6};
constexpr std::string_view kNpySuffix{".npy"};
// numpy pads each header so the data start on a 64-byte boundary (numpy.lib.format.ARRAY_ALIGN).
constexpr std::size_t kNpyAlign = 64;

std::string describe_keys(const std::vector<std::string>& keys) {
    if (keys.empty()) {
        return "none";
    }
    std::string out;
    for (const auto& key : keys) {
        out += out.empty() ? "" : ", ";
        out += "'" + key + "'";
    }
    return out;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
    // Python's repr of a tuple: (), (3,), (3, 168).
    std::string out = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        out += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
    }
    if (shape.size() == 1) {
        out += ",";
    }
    return out + ")";
}

std::string zip_error_text(int code) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return text;
}

/// Deleter of an archive opened for reading or abandoned while writing: nothing is written.
struct ZipDiscard {
    void operator()(zip_t* archive) const noexcept { zip_discard(archive); }
};

using ZipPtr = std::unique_ptr<zip_t, ZipDiscard>;

/// One supported element type.
struct Dtype {
    char kind = 'f';  // 'f' float, 'i' signed, 'u' unsigned, 'b' bool, 'U' UTF-32 string
    std::size_t item_bytes = 8;
};

/// The parsed header of one member plus where its data start.
struct NpyHeader {
    NpyInfo info;
    Dtype dtype;
    std::size_t data_offset = 0;  // bytes from the member's start
};

/// Throws the one error type for a problem with one member.
[[noreturn]] void member_error(const fs::path& file, const std::string& key,
                               const std::string& problem, const std::string& fix) {
    throw Error(file.string(), "member '" + key + "': " + problem, fix);
}

[[noreturn]] void corrupt(const fs::path& file, const std::string& key, const std::string& what) {
    member_error(file, key, "not a valid .npy array (" + what + ")",
                 "Re-create the file with numpy.savez or numpy.savez_compressed");
}

Dtype parse_dtype(const fs::path& file, const std::string& key, const std::string& text) {
    const std::string fix =
        "Convert the array first, e.g. np.savez(path, " + key + "=arr.astype('<f8'))";
    if (text.size() < 3) {
        member_error(file, key, "unsupported dtype '" + text + "'", fix);
    }
    const char order = text[0];
    const char kind = text[1];
    if (kind == 'U') {
        // numpy's unicode strings: n UTF-32 code units per element, NUL-padded.
        const std::string count_text = text.substr(2);
        const bool digits = !count_text.empty() && count_text.size() <= 9 &&
                            std::all_of(count_text.begin(), count_text.end(),
                                        [](char c) { return c >= '0' && c <= '9'; });
        if (order == '>') {
            member_error(
                file, key, "big-endian dtype '" + text + "' is not supported",
                "Convert it to little-endian first, e.g. arr.astype('<" + text.substr(1) + "')");
        }
        if (!digits || (order != '<' && order != '|' && order != '=')) {
            member_error(file, key, "unsupported dtype '" + text + "'",
                         "Save the strings as a fixed-width unicode array, e.g. arr.astype(str)");
        }
        return {'U', 4 * std::stoul(count_text)};
    }
    const std::string size_text = text.substr(2);
    const bool size_ok =
        size_text == "1" || size_text == "2" || size_text == "4" || size_text == "8";
    const std::size_t item_bytes = size_ok ? std::stoul(size_text) : 0;
    if (order == '>' && item_bytes > 1) {
        member_error(
            file, key, "big-endian dtype '" + text + "' is not supported",
            "Convert it to little-endian first, e.g. arr.astype('<" + text.substr(1) + "')");
    }
    const bool order_ok = order == '<' || order == '|' || order == '=' || order == '>';
    const bool kind_ok = (kind == 'f' && (item_bytes == 4 || item_bytes == 8)) ||
                         ((kind == 'i' || kind == 'u') && item_bytes > 0) ||
                         (kind == 'b' && item_bytes == 1);
    if (!order_ok || !kind_ok) {
        member_error(file, key,
                     "unsupported dtype '" + text +
                         "' (supported: little-endian f4 f8 i1 i2 i4 i8 u1 u2 u4 u8, |b1 and <Un)",
                     fix);
    }
    return {kind, item_bytes};
}

/// A recursive-descent reader of the Python dict literal in a .npy header, e.g.
/// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 168), }
class HeaderParser {
public:
    HeaderParser(const fs::path& file, const std::string& key, std::string_view text)
        : file_(file), key_(key), text_(text) {}

    NpyInfo parse() {
        NpyInfo info;
        bool have_descr = false;
        bool have_order = false;
        bool have_shape = false;
        expect('{');
        while (!peek_is('}')) {
            const std::string name = parse_string();
            expect(':');
            if (name == "descr") {
                if (peek_is('[')) {
                    member_error(file_, key_, "structured dtypes are not supported",
                                 "Save each field as its own plain numeric array");
                }
                info.dtype = parse_string();
                have_descr = true;
            } else if (name == "fortran_order") {
                info.fortran_order = parse_bool();
                have_order = true;
            } else if (name == "shape") {
                info.shape = parse_shape();
                have_shape = true;
            } else {
                corrupt(file_, key_, "unexpected header key '" + name + "'");
            }
            if (!peek_is('}')) {
                expect(',');
            }
        }
        expect('}');
        if (!have_descr || !have_order || !have_shape) {
            corrupt(file_, key_, "header lacks 'descr', 'fortran_order' or 'shape'");
        }
        return info;
    }

private:
    void skip_space() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) {
            ++pos_;
        }
    }

    bool peek_is(char c) {
        skip_space();
        return pos_ < text_.size() && text_[pos_] == c;
    }

    void expect(char c) {
        if (!peek_is(c)) {
            corrupt(file_, key_,
                    std::string("header: expected '") + c + "' at offset " + std::to_string(pos_));
        }
        ++pos_;
    }

    std::string parse_string() {
        skip_space();
        if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
            corrupt(file_, key_, "header: expected a string at offset " + std::to_string(pos_));
        }
        const char quote = text_[pos_++];
        const std::size_t end = text_.find(quote, pos_);
        if (end == std::string_view::npos) {
            corrupt(file_, key_, "header: unterminated string");
        }
        std::string value(text_.substr(pos_, end - pos_));
        pos_ = end + 1;
        return value;
    }

    bool parse_bool() {
        skip_space();
        for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
            const std::string_view w{word};
            if (text_.substr(pos_, w.size()) == w) {
                pos_ += w.size();
                return value;
            }
        }
        corrupt(file_, key_, "header: 'fortran_order' is neither True nor False");
    }

    std::vector<std::size_t> parse_shape() {
        std::vector<std::size_t> shape;
        expect('(');
        while (!peek_is(')')) {
            std::size_t value = 0;
            bool any_digit = false;
            while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
                const auto digit = static_cast<std::size_t>(text_[pos_] - '0');
                if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
                    corrupt(file_, key_, "header: dimension too large");
                }
                value = value * 10 + digit;
                any_digit = true;
                ++pos_;
            }
            if (!any_digit) {
                corrupt(file_, key_, "header: bad 'shape'");
            }
            if (pos_ < text_.size() && text_[pos_] == 'L') {  // Python 2 long literal
                ++pos_;
            }
            shape.push_back(value);
            if (!peek_is(')')) {
                expect(',');
            }
        }
        expect(')');
        return shape;
    }

    const fs::path& file_;
    const std::string& key_;
    std::string_view text_;
    std::size_t pos_ = 0;
};

/// Header-length field size and total header size, from the fixed prefix (magic, version).
/// Returns {length-field bytes}.
std::size_t length_field_bytes(const fs::path& file, const std::string& key,
                               std::string_view prefix) {
    if (prefix.size() < 8 || prefix.substr(0, kNpyMagic.size()) != kNpyMagic) {
        corrupt(file, key, "no \\x93NUMPY magic");
    }
    const auto major = static_cast<unsigned char>(prefix[6]);
    if (major == 1) {
        return 2;
    }
    if (major == 2 || major == 3) {
        return 4;
    }
    member_error(file, key, ".npy format version " + std::to_string(major) + " is not supported",
                 "Save it with numpy's default format (1.0)");
}

std::size_t read_le(std::string_view bytes) {
    std::size_t value = 0;
    for (std::size_t i = bytes.size(); i-- > 0;) {
        value = (value << 8) | static_cast<unsigned char>(bytes[i]);
    }
    return value;
}

/// Parses a complete header held at the start of `bytes`.
NpyHeader parse_header(const fs::path& file, const std::string& key, std::string_view bytes) {
    const std::size_t field = length_field_bytes(file, key, bytes);
    if (bytes.size() < 8 + field) {
        corrupt(file, key, "truncated header");
    }
    const std::size_t header_bytes = read_le(bytes.substr(8, field));
    const std::size_t data_offset = 8 + field + header_bytes;
    if (bytes.size() < data_offset) {
        corrupt(file, key, "truncated header");
    }
    NpyHeader header;
    header.info = HeaderParser(file, key, bytes.substr(8 + field, header_bytes)).parse();
    header.dtype = parse_dtype(file, key, header.info.dtype);
    header.data_offset = data_offset;
    return header;
}

/// One member opened for reading; closes it on destruction.
class MemberFile {
public:
    MemberFile(zip_t* archive, zip_uint64_t index, const fs::path& file, const std::string& key)
        : file_(file), key_(key), handle_(zip_fopen_index(archive, index, 0)) {
        if (handle_ == nullptr) {
            corrupt(file_, key_,
                    std::string("cannot open the zip member: ") + zip_strerror(archive));
        }
    }

    ~MemberFile() { zip_fclose(handle_); }

    MemberFile(const MemberFile&) = delete;
    MemberFile& operator=(const MemberFile&) = delete;
    MemberFile(MemberFile&&) = delete;
    MemberFile& operator=(MemberFile&&) = delete;

    /// Reads up to `bytes` bytes (fewer only at the end of the member).
    std::size_t read(char* out, std::size_t bytes) {
        std::size_t done = 0;
        while (done < bytes) {
            const zip_int64_t got = zip_fread(handle_, out + done, bytes - done);
            if (got < 0) {
                // libzip reports CRC mismatches and inflate errors here.
                corrupt(file_, key_, std::string("zip read failed: ") + zip_file_strerror(handle_));
            }
            if (got == 0) {
                break;
            }
            done += static_cast<std::size_t>(got);
        }
        return done;
    }

private:
    const fs::path& file_;
    const std::string& key_;
    zip_file_t* handle_;
};

template <typename Src>
Src load(const char* bytes) {
    Src value;
    std::memcpy(&value, bytes, sizeof(Src));
    return value;
}

/// Maps storage order to C order: out[c_index] = in[storage_index].
template <typename T>
std::vector<T> fortran_to_c(const std::vector<T>& stored, const std::vector<std::size_t>& shape) {
    const std::size_t rank = shape.size();
    std::vector<T> out(stored.size());
    if (rank < 2 || stored.empty()) {
        return stored;
    }
    std::vector<std::size_t> f_stride(rank, 1);  // column-major strides
    for (std::size_t axis = 1; axis < rank; ++axis) {
        f_stride[axis] = f_stride[axis - 1] * shape[axis - 1];
    }
    std::vector<std::size_t> index(rank, 0);
    std::size_t src = 0;
    for (std::size_t flat = 0; flat < out.size(); ++flat) {
        out[flat] = stored[src];
        // Advance the C-order multi-index (last axis fastest) and keep `src` in step.
        for (std::size_t axis = rank; axis-- > 0;) {
            ++index[axis];
            src += f_stride[axis];
            if (index[axis] < shape[axis]) {
                break;
            }
            src -= index[axis] * f_stride[axis];
            index[axis] = 0;
        }
    }
    return out;
}

template <typename Out, typename Convert>
std::vector<Out> convert_all(const NpyHeader& header, const char* data, Convert convert) {
    const std::size_t count = header.info.element_count();
    std::vector<Out> out(count);
    const std::size_t step = header.dtype.item_bytes;
    for (std::size_t i = 0; i < count; ++i) {
        out[i] = convert(data + i * step);
    }
    return out;
}

bool exact_in_double(std::int64_t v) {
    const auto d = static_cast<double>(v);
    // 2^63 itself is not an int64, so the cast back would be undefined.
    return d < 9223372036854775808.0 && static_cast<std::int64_t>(d) == v;
}

bool exact_in_double(std::uint64_t v) {
    const auto d = static_cast<double>(v);
    return d < 18446744073709551616.0 && static_cast<std::uint64_t>(d) == v;
}

time_t zip_epoch_local() {
    // 1980-01-01 00:00 in local time: libzip stores mtime as a local DOS date, and this value
    // maps to the same DOS date in every time zone, like the members numpy writes.
    std::tm tm{};
    tm.tm_year = 80;
    tm.tm_mon = 0;
    tm.tm_mday = 1;
    tm.tm_isdst = -1;
    return std::mktime(&tm);
}

/// Serializes one array as a format 1.0 .npy member, byte for byte what np.save writes.
std::vector<char> npy_bytes(const std::string& dtype, const std::vector<std::size_t>& shape,
                            const void* data, std::size_t data_bytes) {
    std::string dict =
        "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
    std::size_t field = 2;
    char major = 1;
    if (dict.size() + 1 + kNpyAlign > 65535) {  // format 1.0 has a 16-bit header length
        field = 4;
        major = 2;
    }
    const std::size_t unpadded = kNpyMagic.size() + 2 + field + dict.size() + 1;
    // Like numpy's _wrap_header: 1..64 spaces, so the header always ends in padding.
    const std::size_t padding = kNpyAlign - unpadded % kNpyAlign;
    dict.append(padding, ' ');
    dict += '\n';
    std::vector<char> out;
    out.reserve(kNpyMagic.size() + 2 + field + dict.size() + data_bytes);
    out.insert(out.end(), kNpyMagic.begin(), kNpyMagic.end());
    out.push_back(major);
    out.push_back(0);
    for (std::size_t i = 0; i < field; ++i) {
        out.push_back(static_cast<char>((dict.size() >> (8 * i)) & 0xFFU));
    }
    out.insert(out.end(), dict.begin(), dict.end());
    const auto* bytes = static_cast<const char*>(data);
    out.insert(out.end(), bytes, bytes + data_bytes);
    return out;
}

}  // namespace

// ---- NpyInfo ---------------------------------------------------------------------------------

std::size_t NpyInfo::element_count() const noexcept {
    return NdArray<int>::element_count(shape);
}

bool NpyInfo::is_integer() const noexcept {
    return dtype.size() >= 2 && (dtype[1] == 'i' || dtype[1] == 'u');
}

bool NpyInfo::is_bool() const noexcept {
    return dtype.size() >= 2 && dtype[1] == 'b';
}

bool NpyInfo::is_floating() const noexcept {
    return dtype.size() >= 2 && dtype[1] == 'f';
}

bool NpyInfo::is_string() const noexcept {
    return dtype.size() >= 2 && dtype[1] == 'U';
}

// ---- NpzReader -------------------------------------------------------------------------------

struct NpzReader::Impl {
    fs::path path;
    ZipPtr archive;
    std::vector<std::string> keys;
    std::vector<zip_uint64_t> indices;  // zip entry index of keys[i]

    zip_uint64_t index_of(const std::string& key) const {
        const auto it = std::find(keys.begin(), keys.end(), key);
        if (it == keys.end()) {
            throw Error(path.string(),
                        "no array '" + key + "' (keys found: " + describe_keys(keys) + ")",
                        "Pass a file that holds '" + key + "'");
        }
        return indices[static_cast<std::size_t>(it - keys.begin())];
    }

    /// Reads a whole member and parses its header; checks the data size and the CRC.
    std::pair<NpyHeader, std::vector<char>> read_member(const std::string& key) const {
        const zip_uint64_t index = index_of(key);
        zip_stat_t stat;
        zip_stat_init(&stat);
        if (zip_stat_index(archive.get(), index, 0, &stat) != 0 ||
            (stat.valid & ZIP_STAT_SIZE) == 0) {
            corrupt(path, key,
                    std::string("cannot stat the zip member: ") + zip_strerror(archive.get()));
        }
        std::vector<char> bytes(static_cast<std::size_t>(stat.size));
        MemberFile member(archive.get(), index, path, key);
        if (member.read(bytes.data(), bytes.size()) != bytes.size()) {
            corrupt(path, key, "member shorter than its zip entry says");
        }
        char extra = 0;
        if (member.read(&extra, 1) != 0) {  // also makes libzip verify the CRC
            corrupt(path, key, "member longer than its zip entry says");
        }
        NpyHeader header = parse_header(path, key, {bytes.data(), bytes.size()});
        const std::size_t expected =
            header.data_offset + header.info.element_count() * header.dtype.item_bytes;
        if (bytes.size() != expected) {
            corrupt(path, key,
                    "shape " + shape_text(header.info.shape) + " of " + header.info.dtype +
                        " needs " + std::to_string(expected) + " bytes, the member has " +
                        std::to_string(bytes.size()));
        }
        return {std::move(header), std::move(bytes)};
    }
};

NpzReader::NpzReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NpzReader::~NpzReader() = default;
NpzReader::NpzReader(NpzReader&&) noexcept = default;
NpzReader& NpzReader::operator=(NpzReader&&) noexcept = default;

NpzReader NpzReader::open(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        throw Error(path.string(), "no such file", "Check the path");
    }
    if (fs::file_size(path, ec) == 0) {
        // libzip would read an empty file as an empty archive.
        throw Error(path.string(), "empty file, not a numpy .npz (zip) archive",
                    "Pass a file written by numpy.savez or numpy.savez_compressed");
    }
    int code = 0;
    ZipPtr archive(zip_open(path.c_str(), ZIP_RDONLY, &code));
    if (!archive) {
        if (code == ZIP_ER_NOZIP || code == ZIP_ER_INCONS) {
            throw Error(path.string(),
                        "not a numpy .npz (zip) archive (" + zip_error_text(code) + ")",
                        "Pass a file written by numpy.savez or numpy.savez_compressed");
        }
        throw Error(path.string(), "cannot open: " + zip_error_text(code),
                    "Check that the file is readable");
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    const zip_int64_t entries = zip_get_num_entries(archive.get(), 0);
    for (zip_int64_t i = 0; i < entries; ++i) {
        const auto index = static_cast<zip_uint64_t>(i);
        const char* raw = zip_get_name(archive.get(), index, 0);
        if (raw == nullptr) {
            continue;
        }
        std::string name = raw;
        if (name.empty() || name.back() == '/') {
            continue;  // a folder entry
        }
        // np.load strips ".npy" from member names to make keys.
        if (name.size() > kNpySuffix.size() &&
            name.compare(name.size() - kNpySuffix.size(), kNpySuffix.size(), kNpySuffix) == 0) {
            name.resize(name.size() - kNpySuffix.size());
        }
        impl->keys.push_back(std::move(name));
        impl->indices.push_back(index);
    }
    impl->archive = std::move(archive);
    return NpzReader(std::move(impl));
}

const fs::path& NpzReader::path() const noexcept {
    return impl_->path;
}

std::vector<std::string> NpzReader::keys() const {
    return impl_->keys;
}

bool NpzReader::contains(const std::string& key) const noexcept {
    return std::find(impl_->keys.begin(), impl_->keys.end(), key) != impl_->keys.end();
}

NpyInfo NpzReader::info(const std::string& key) const {
    // Read only the prefix and the header, not the data.
    MemberFile member(impl_->archive.get(), impl_->index_of(key), impl_->path, key);
    std::string bytes(12, '\0');
    bytes.resize(member.read(bytes.data(), bytes.size()));
    const std::size_t field = length_field_bytes(impl_->path, key, bytes);
    if (bytes.size() < 8 + field) {
        corrupt(impl_->path, key, "truncated header");
    }
    const std::size_t total = 8 + field + read_le(std::string_view(bytes).substr(8, field));
    const std::size_t have = bytes.size();
    bytes.resize(std::max(total, have));
    if (total > have) {
        bytes.resize(have + member.read(bytes.data() + have, total - have));
    }
    return parse_header(impl_->path, key, bytes).info;
}

bool NpzReader::is_integer(const std::string& key) const {
    return info(key).is_integer();
}

NdArray<double> NpzReader::read_double(const std::string& key) const {
    const auto [header, bytes] = impl_->read_member(key);
    const char* data = bytes.data() + header.data_offset;
    const auto& path = impl_->path;
    if (header.dtype.kind == 'U') {
        member_error(path, key, "dtype " + header.info.dtype + " holds strings, not numbers",
                     "Read it with read_strings");
    }
    std::vector<double> values;
    const auto too_big = [&](auto v) {
        member_error(path, key,
                     "integer " + std::to_string(v) + " cannot be held exactly by a double",
                     "Read it as int64 or store smaller values");
    };
    switch (header.dtype.kind) {
        case 'f':
            if (header.dtype.item_bytes == 8) {
                values = convert_all<double>(header, data, load<double>);
            } else {
                values =
                    convert_all<double>(header, data, [](const char* p) { return load<float>(p); });
            }
            break;
        case 'b':
            values = convert_all<double>(header, data,
                                         [](const char* p) { return *p != 0 ? 1.0 : 0.0; });
            break;
        case 'i':
            values = convert_all<double>(header, data, [&](const char* p) -> double {
                switch (header.dtype.item_bytes) {
                    case 1:
                        return load<std::int8_t>(p);
                    case 2:
                        return load<std::int16_t>(p);
                    case 4:
                        return load<std::int32_t>(p);
                    default: {
                        const auto v = load<std::int64_t>(p);
                        if (!exact_in_double(v)) {
                            too_big(v);
                        }
                        return static_cast<double>(v);
                    }
                }
            });
            break;
        default:  // 'u'
            values = convert_all<double>(header, data, [&](const char* p) -> double {
                switch (header.dtype.item_bytes) {
                    case 1:
                        return load<std::uint8_t>(p);
                    case 2:
                        return load<std::uint16_t>(p);
                    case 4:
                        return load<std::uint32_t>(p);
                    default: {
                        const auto v = load<std::uint64_t>(p);
                        if (!exact_in_double(v)) {
                            too_big(v);
                        }
                        return static_cast<double>(v);
                    }
                }
            });
            break;
    }
    if (header.info.fortran_order) {
        values = fortran_to_c(values, header.info.shape);
    }
    return {header.info.shape, std::move(values)};
}

NdArray<std::int64_t> NpzReader::read_int64(const std::string& key) const {
    const auto [header, bytes] = impl_->read_member(key);
    const char* data = bytes.data() + header.data_offset;
    const auto& path = impl_->path;
    if (header.dtype.kind == 'f' || header.dtype.kind == 'U') {
        member_error(
            path, key, "dtype " + header.info.dtype + " is not an integer type",
            header.dtype.kind == 'U' ? "Read it with read_strings" : "Read it with read_double");
    }
    const bool is_signed = header.dtype.kind == 'i';
    std::vector<std::int64_t> values =
        convert_all<std::int64_t>(header, data, [&](const char* p) -> std::int64_t {
            switch (header.dtype.item_bytes) {
                case 1:
                    return is_signed ? load<std::int8_t>(p) : load<std::uint8_t>(p);
                case 2:
                    return is_signed ? load<std::int16_t>(p) : load<std::uint16_t>(p);
                case 4:
                    return is_signed ? std::int64_t{load<std::int32_t>(p)}
                                     : std::int64_t{load<std::uint32_t>(p)};
                default:
                    if (is_signed) {
                        return load<std::int64_t>(p);
                    }
                    const auto v = load<std::uint64_t>(p);
                    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                        member_error(path, key,
                                     "uint64 value " + std::to_string(v) + " exceeds int64",
                                     "Store smaller values");
                    }
                    return static_cast<std::int64_t>(v);
            }
        });
    if (header.info.fortran_order) {
        values = fortran_to_c(values, header.info.shape);
    }
    return {header.info.shape, std::move(values)};
}

NdArray<std::string> NpzReader::read_strings(const std::string& key) const {
    const auto [header, bytes] = impl_->read_member(key);
    const auto& path = impl_->path;
    if (header.dtype.kind != 'U') {
        member_error(path, key, "dtype " + header.info.dtype + " is not a unicode string type",
                     "Read it with read_double or read_int64");
    }
    const std::size_t units = header.dtype.item_bytes / 4;
    const char* data = bytes.data() + header.data_offset;
    std::vector<std::string> values(header.info.element_count());
    for (std::size_t i = 0; i < values.size(); ++i) {
        std::string& out = values[i];
        for (std::size_t u = 0; u < units; ++u) {
            const auto cp = load<std::uint32_t>(data + (i * units + u) * 4);
            if (cp == 0) {
                break;  // numpy strips trailing NULs (a string cannot hold an inner one)
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                corrupt(path, key,
                        "element " + std::to_string(i) + " holds " + std::to_string(cp) +
                            ", not a Unicode code point");
            }
            if (cp < 0x80) {
                out += static_cast<char>(cp);
            } else if (cp < 0x800) {
                out += static_cast<char>(0xC0 | (cp >> 6));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out += static_cast<char>(0xE0 | (cp >> 12));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
                out += static_cast<char>(0xF0 | (cp >> 18));
                out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
                out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (cp & 0x3F));
            }
        }
    }
    if (header.info.fortran_order) {
        values = fortran_to_c(values, header.info.shape);
    }
    return {header.info.shape, std::move(values)};
}

// ---- NpzWriter -------------------------------------------------------------------------------

struct NpzWriter::Impl {
    fs::path path;
    NpzCompression compression = NpzCompression::kStored;
    ZipPtr archive;
    // libzip reads the member buffers only in zip_close, so they must live until then.
    std::vector<std::unique_ptr<std::vector<char>>> buffers;
    std::vector<std::string> keys;
    bool closed = false;
};

NpzWriter::NpzWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NpzWriter::~NpzWriter() = default;  // an unclosed archive is discarded by ZipDiscard
NpzWriter::NpzWriter(NpzWriter&&) noexcept = default;
NpzWriter& NpzWriter::operator=(NpzWriter&&) noexcept = default;

NpzWriter NpzWriter::create(const fs::path& path, NpzCompression compression) {
    const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
        throw Error(path.string(), "folder " + folder.string() + " does not exist",
                    "Create the output folder first");
    }
    int code = 0;
    ZipPtr archive(zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code));
    if (!archive) {
        throw Error(path.string(), "cannot create: " + zip_error_text(code),
                    "Check that the folder is writable");
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->compression = compression;
    impl->archive = std::move(archive);
    return NpzWriter(std::move(impl));
}

void NpzWriter::add_member(const std::string& key, const std::string& dtype,
                           const std::vector<std::size_t>& shape, const void* data,
                           std::size_t bytes) {
    Impl& self = *impl_;
    if (self.closed) {
        throw Error(self.path.string(), "write after close", "", ExitCode::kInternal);
    }
    if (key.empty() || std::find(self.keys.begin(), self.keys.end(), key) != self.keys.end()) {
        throw Error(self.path.string(), "array key '" + key + "' is empty or already written",
                    "Give each array its own non-empty key", ExitCode::kInternal);
    }
    auto buffer = std::make_unique<std::vector<char>>(npy_bytes(dtype, shape, data, bytes));
    zip_t* archive = self.archive.get();
    zip_source_t* source = zip_source_buffer(archive, buffer->data(), buffer->size(), 0);
    if (source == nullptr) {
        throw Error(self.path.string(), std::string("libzip: ") + zip_strerror(archive), "",
                    ExitCode::kInternal);
    }
    const std::string name = key + std::string(kNpySuffix);
    const zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
        zip_source_free(source);  // not taken over by the archive on failure
        throw Error(self.path.string(), std::string("libzip: ") + zip_strerror(archive), "",
                    ExitCode::kInternal);
    }
    const auto entry = static_cast<zip_uint64_t>(index);
    const zip_int32_t method =
        self.compression == NpzCompression::kDeflated ? ZIP_CM_DEFLATE : ZIP_CM_STORE;
    if (zip_set_file_compression(archive, entry, method, 0) != 0 ||
        zip_file_set_mtime(archive, entry, zip_epoch_local(), 0) != 0) {
        throw Error(self.path.string(), std::string("libzip: ") + zip_strerror(archive), "",
                    ExitCode::kInternal);
    }
    self.buffers.push_back(std::move(buffer));
    self.keys.push_back(key);
}

void NpzWriter::write(const std::string& key, const NdArray<double>& array) {
    add_member(key, "<f8", array.shape(), array.data(), array.size() * sizeof(double));
}

void NpzWriter::write(const std::string& key, const NdArray<float>& array) {
    add_member(key, "<f4", array.shape(), array.data(), array.size() * sizeof(float));
}

void NpzWriter::write(const std::string& key, const NdArray<std::int64_t>& array) {
    add_member(key, "<i8", array.shape(), array.data(), array.size() * sizeof(std::int64_t));
}

void NpzWriter::write(const std::string& key, const NdArray<std::int32_t>& array) {
    add_member(key, "<i4", array.shape(), array.data(), array.size() * sizeof(std::int32_t));
}

void NpzWriter::write_strings(const std::string& key, const NdArray<std::string>& array) {
    std::vector<std::vector<std::uint32_t>> decoded;
    decoded.reserve(array.size());
    std::size_t width = 1;  // numpy gives an array of empty strings dtype <U1
    for (std::size_t i = 0; i < array.size(); ++i) {
        const std::string& text = array.data()[i];
        std::vector<std::uint32_t> cps;
        for (std::size_t p = 0; p < text.size();) {
            const auto b0 = static_cast<unsigned char>(text[p]);
            const std::size_t len = b0 < 0x80           ? 1
                                    : (b0 >> 5) == 0x6  ? 2
                                    : (b0 >> 4) == 0xE  ? 3
                                    : (b0 >> 3) == 0x1E ? 4
                                                        : 0;
            if (len == 0 || p + len > text.size()) {
                throw Error(
                    impl_->path.string(),
                    "array key '" + key + "': element " + std::to_string(i) + " is not valid UTF-8",
                    "Pass UTF-8 text", ExitCode::kInternal);
            }
            std::uint32_t cp = len == 1 ? b0 : (b0 & (0x7FU >> len));
            for (std::size_t k = 1; k < len; ++k) {
                cp = (cp << 6) | (static_cast<unsigned char>(text[p + k]) & 0x3FU);
            }
            if (cp == 0) {
                throw Error(impl_->path.string(),
                            "array key '" + key + "': element " + std::to_string(i) +
                                " holds a NUL character, which numpy strings cannot keep",
                            "Remove it", ExitCode::kInternal);
            }
            cps.push_back(cp);
            p += len;
        }
        width = std::max(width, cps.size());
        decoded.push_back(std::move(cps));
    }
    std::vector<std::uint32_t> units(array.size() * width, 0);
    for (std::size_t i = 0; i < decoded.size(); ++i) {
        std::copy(decoded[i].begin(), decoded[i].end(),
                  units.begin() + static_cast<std::ptrdiff_t>(i * width));
    }
    add_member(key, "<U" + std::to_string(width), array.shape(), units.data(),
               units.size() * sizeof(std::uint32_t));
}

void NpzWriter::close() {
    Impl& self = *impl_;
    if (self.closed) {
        throw Error(self.path.string(), "closed twice", "", ExitCode::kInternal);
    }
    self.closed = true;
    if (self.keys.empty()) {
        // libzip removes an archive without entries instead of writing it; np.savez() with no
        // arrays writes the 22-byte end-of-central-directory record alone.
        self.archive.reset();
        const char empty_zip[22] = {'P', 'K', 5, 6};
        std::ofstream out(self.path, std::ios::binary | std::ios::trunc);
        out.write(empty_zip, sizeof(empty_zip));
        out.close();
        if (!out) {
            throw Error(self.path.string(), "cannot write", "Check the disk and permissions",
                        ExitCode::kInternal);
        }
        return;
    }
    if (zip_close(self.archive.get()) != 0) {
        const std::string reason = zip_strerror(self.archive.get());
        self.archive.reset();  // discard: nothing is left at path
        throw Error(self.path.string(), "writing failed: " + reason,
                    "Check free disk space and permissions", ExitCode::kInternal);
    }
    (void)self.archive.release();  // zip_close freed it
    self.buffers.clear();
}

}  // namespace zoomdiff::io
