#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include "zoomdiff/core/ndarray.hpp"

namespace zoomdiff::io {

/// Element types the HDF5 layer stores; HDF5 converts between them on read.
enum class ElementType { kFloat32, kFloat64, kInt32, kInt64, kUInt8 };

template <typename T>
constexpr ElementType element_type_of() {
    if constexpr (std::is_same_v<T, float>) {
        return ElementType::kFloat32;
    } else if constexpr (std::is_same_v<T, double>) {
        return ElementType::kFloat64;
    } else if constexpr (std::is_same_v<T, std::int32_t>) {
        return ElementType::kInt32;
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
        return ElementType::kInt64;
    } else {
        static_assert(std::is_same_v<T, std::uint8_t>, "unsupported HDF5 element type");
        return ElementType::kUInt8;
    }
}

/// An HDF5 file, owned (closed and checked by close() or, silently, by the destructor).
/// Paths inside the file are "/group/dataset"; missing groups are created on write. Every error
/// throws zoomdiff::Error naming the file and the path inside it (STYLE §2.7).
class H5File {
public:
    /// Open an existing file read-only.
    static H5File open_read(const std::filesystem::path& path);
    /// Create (truncate) a file for writing.
    static H5File create(const std::filesystem::path& path);

    ~H5File();
    H5File(H5File&& other) noexcept;
    H5File& operator=(H5File&& other) noexcept;
    H5File(const H5File&) = delete;
    H5File& operator=(const H5File&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    /// Close and check; throws if HDF5 reports a failure (that is where write errors show).
    void close();

    [[nodiscard]] bool exists(const std::string& object) const;
    [[nodiscard]] std::vector<std::string> children(const std::string& group) const;
    [[nodiscard]] std::vector<std::size_t> shape(const std::string& dataset) const;

    template <typename T>
    [[nodiscard]] NdArray<T> read(const std::string& dataset) const {
        NdArray<T> out(shape(dataset));
        read_raw(dataset, element_type_of<T>(), out.data());
        return out;
    }

    /// Write a dataset; arrays of at least `kCompressMin` elements are deflated with shuffle.
    template <typename T>
    void write(const std::string& dataset, const NdArray<T>& array) {
        write_raw(dataset, element_type_of<T>(), array.shape(), array.data());
    }

    /// Strings of a 1-D string dataset (fixed-length NUL-padded or variable length).
    [[nodiscard]] std::vector<std::string> read_strings(const std::string& dataset) const;
    void write_strings(const std::string& dataset, const std::vector<std::string>& values);

    // Attributes on a group or dataset ("/" = the root).
    void set_attr(const std::string& object, const std::string& name, const std::string& value);

    void set_attr(const std::string& object, const std::string& name, const char* value) {
        set_attr(object, name, std::string(value));
    }

    void set_attr(const std::string& object, const std::string& name, double value);
    /// A float32 attribute (CF's `_FillValue` of a float32 variable must have its type).
    void set_attr(const std::string& object, const std::string& name, float value);
    void set_attr(const std::string& object, const std::string& name, std::int64_t value);
    void set_attr(const std::string& object, const std::string& name,
                  const std::vector<double>& values);

    // netCDF-4 (DESIGN §7): HDF5 dimension scales are what netCDF clients read as dimensions.
    /// Make the 1-D `dataset` the dimension scale of a dimension named after its last path
    /// component: netCDF clients see it as that dimension's coordinate variable.
    void make_dimension(const std::string& dataset);
    /// Attach one dimension scale per axis of `dataset` (`dims`, paths of make_dimension's
    /// datasets, in axis order).
    void attach_dimensions(const std::string& dataset, const std::vector<std::string>& dims);

    [[nodiscard]] bool has_attr(const std::string& object, const std::string& name) const;
    [[nodiscard]] std::string attr_string(const std::string& object, const std::string& name) const;
    [[nodiscard]] double attr_double(const std::string& object, const std::string& name) const;
    [[nodiscard]] std::int64_t attr_int(const std::string& object, const std::string& name) const;
    [[nodiscard]] std::vector<double> attr_doubles(const std::string& object,
                                                   const std::string& name) const;

    static constexpr std::size_t kCompressMin = 4096;

private:
    H5File(std::filesystem::path path, std::int64_t id);
    void read_raw(const std::string& dataset, ElementType type, void* buffer) const;
    void write_raw(const std::string& dataset, ElementType type,
                   const std::vector<std::size_t>& shape, const void* buffer);

    std::filesystem::path path_;
    std::int64_t id_ = -1;
};

}  // namespace zoomdiff::io
