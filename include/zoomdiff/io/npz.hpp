#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"

namespace zoomdiff::io {

/// What the header of one `.npy` member says (numpy format 1.0, 2.0 and 3.0).
struct NpyInfo {
    std::string dtype;  ///< numpy's dtype string as stored: "<f8", "<i8", "|u1", "|b1", …
    std::vector<std::size_t> shape;  ///< the array's shape, C order ({} for a 0-d scalar)
    bool fortran_order = false;      ///< stored column-major; the read_* functions return C order

    /// Number of elements (1 for a 0-d scalar).
    [[nodiscard]] std::size_t element_count() const noexcept;
    /// Signed or unsigned integer dtype (i1 i2 i4 i8 u1 u2 u4 u8); bool is not an integer here.
    [[nodiscard]] bool is_integer() const noexcept;
    /// Boolean dtype (`|b1`).
    [[nodiscard]] bool is_bool() const noexcept;
    /// Floating-point dtype (f4 f8).
    [[nodiscard]] bool is_floating() const noexcept;
    /// Unicode string dtype (`<Un`: n UTF-32 code units per element).
    [[nodiscard]] bool is_string() const noexcept;
};

/// Reader of a numpy `.npz` archive: a zip of `<key>.npy` members, stored or deflated (what
/// `np.savez` and `np.savez_compressed` write). Members are read on demand, one at a time.
///
/// Supported dtypes: little-endian `f4 f8 i1 i2 i4 i8 u1 u2 u4 u8`, `|b1` and unicode strings
/// `<Un` (read_strings). Big-endian data, other dtypes (complex, float16, byte strings `S`,
/// objects, structured) throw zoomdiff::Error.
/// A member stored with `fortran_order: True` is transposed: every read_* returns C
/// (row-major) order with the shape from the header.
///
/// Every failure throws zoomdiff::Error (exit code 2) naming the file and, where it applies, the
/// key: not a zip archive, member missing (the message lists the keys found), corrupt or
/// truncated member, unsupported dtype. Not thread-safe: use one reader per thread.
class NpzReader {
public:
    /// Opens `path` and lists its members. Throws if the file is missing or not a zip archive.
    [[nodiscard]] static NpzReader open(const std::filesystem::path& path);

    ~NpzReader();
    NpzReader(NpzReader&&) noexcept;
    NpzReader& operator=(NpzReader&&) noexcept;
    NpzReader(const NpzReader&) = delete;
    NpzReader& operator=(const NpzReader&) = delete;

    /// The archive's path.
    [[nodiscard]] const std::filesystem::path& path() const noexcept;

    /// Keys in archive order, as `np.load(path).files` gives them: member names with a trailing
    /// ".npy" removed.
    [[nodiscard]] std::vector<std::string> keys() const;

    /// Whether the archive has a member for `key`.
    [[nodiscard]] bool contains(const std::string& key) const noexcept;

    /// Header of `key` (reads only the member's first bytes). Throws on a missing key or a bad
    /// header.
    [[nodiscard]] NpyInfo info(const std::string& key) const;

    /// Whether `key` holds a signed or unsigned integer dtype.
    [[nodiscard]] bool is_integer(const std::string& key) const;

    /// The values of `key` as doubles, C order. Integers are converted exactly; an integer that
    /// no double can hold (|v| > 2^53 and not representable) throws rather than round
    /// (use read_int64). bool gives 0 / 1. NaN values stay NaN.
    [[nodiscard]] NdArray<double> read_double(const std::string& key) const;

    /// The values of an integer or bool member as int64, C order. Throws for a floating dtype and
    /// for a u8 value above INT64_MAX.
    [[nodiscard]] NdArray<std::int64_t> read_int64(const std::string& key) const;

    /// The values of a unicode member (`<Un`, what numpy stores for `np.array(["train", ...])`)
    /// as UTF-8 strings, C order, trailing NULs stripped as numpy does. Throws for any other
    /// dtype, and for a code unit that is not a Unicode scalar value.
    [[nodiscard]] NdArray<std::string> read_strings(const std::string& key) const;

private:
    struct Impl;
    explicit NpzReader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Whether NpzWriter stores members as they are (like `np.savez`) or deflates them (like
/// `np.savez_compressed`).
enum class NpzCompression { kStored, kDeflated };

/// Writer of a numpy `.npz` archive that `np.load` reads: one `.npy` (format 1.0, C order,
/// little-endian) member per key.
///
/// Nothing appears at `path` until close() succeeds (libzip writes a temporary file beside it
/// and renames it on close). Destroying an unclosed writer, e.g. while an exception unwinds,
/// discards everything and leaves `path` as it was. Callers that publish outputs still write to
/// `core::AtomicOutput::temp_path()` and commit afterwards (STYLE §2.12).
///
/// The writer keeps the serialized members in memory until close(). Members get a fixed
/// modification time (1980-01-01 00:00 local, the zip epoch and what numpy writes), so the
/// same arrays give the same bytes.
class NpzWriter {
public:
    /// Starts a new archive at `path` (replaced on close() if it exists). Throws if the folder
    /// cannot be written.
    [[nodiscard]] static NpzWriter create(const std::filesystem::path& path,
                                          NpzCompression compression = NpzCompression::kStored);

    ~NpzWriter();
    NpzWriter(NpzWriter&&) noexcept;
    NpzWriter& operator=(NpzWriter&&) noexcept;
    NpzWriter(const NpzWriter&) = delete;
    NpzWriter& operator=(const NpzWriter&) = delete;

    /// Adds member `<key>.npy` with dtype `<f8`. Throws on an empty or duplicate key.
    void write(const std::string& key, const NdArray<double>& array);
    /// Adds member `<key>.npy` with dtype `<f4`.
    void write(const std::string& key, const NdArray<float>& array);
    /// Adds member `<key>.npy` with dtype `<i8`.
    void write(const std::string& key, const NdArray<std::int64_t>& array);
    /// Adds member `<key>.npy` with dtype `<i4`.
    void write(const std::string& key, const NdArray<std::int32_t>& array);
    /// Adds member `<key>.npy` with dtype `<Un`, n = the longest element in code points (at
    /// least 1), as numpy stores `np.array(list_of_str)`. The strings are UTF-8; invalid UTF-8
    /// or a NUL character throws.
    void write_strings(const std::string& key, const NdArray<std::string>& array);

    /// Writes the archive and closes it; throws zoomdiff::Error (exit code 1) if writing fails,
    /// for this is where write errors show up (STYLE P4). Call exactly once.
    void close();

private:
    struct Impl;
    explicit NpzWriter(std::unique_ptr<Impl> impl);
    void add_member(const std::string& key, const std::string& dtype,
                    const std::vector<std::size_t>& shape, const void* data, std::size_t bytes);
    std::unique_ptr<Impl> impl_;
};

}  // namespace zoomdiff::io
