#pragma once

#include <cstddef>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

namespace zoomdiff {

/// A dense row-major n-dimensional array: the exchange type between the geo/osm/poi areas and
/// the HDF5 writers. Grid arrays follow DESIGN §3: [row][col][...] with rows from the south.
template <typename T>
class NdArray {
public:
    NdArray() = default;

    explicit NdArray(std::vector<std::size_t> shape, T fill = T{})
        : shape_(std::move(shape)), data_(element_count(shape_), fill) {}

    NdArray(std::vector<std::size_t> shape, std::vector<T> data)
        : shape_(std::move(shape)), data_(std::move(data)) {
        if (data_.size() != element_count(shape_)) {
            throw std::invalid_argument("NdArray: data size does not match the shape");
        }
    }

    [[nodiscard]] const std::vector<std::size_t>& shape() const noexcept { return shape_; }

    [[nodiscard]] std::size_t dim(std::size_t axis) const { return shape_.at(axis); }

    [[nodiscard]] std::size_t rank() const noexcept { return shape_.size(); }

    [[nodiscard]] std::size_t size() const noexcept { return data_.size(); }

    [[nodiscard]] T* data() noexcept { return data_.data(); }

    [[nodiscard]] const T* data() const noexcept { return data_.data(); }

    [[nodiscard]] std::vector<T>& values() noexcept { return data_; }

    [[nodiscard]] const std::vector<T>& values() const noexcept { return data_; }

    T& operator[](std::size_t flat) { return data_[flat]; }

    const T& operator[](std::size_t flat) const { return data_[flat]; }

    /// Element of a 2-D array.
    T& at(std::size_t row, std::size_t col) { return data_[row * shape_[1] + col]; }

    const T& at(std::size_t row, std::size_t col) const { return data_[row * shape_[1] + col]; }

    /// Element of a 3-D array.
    T& at(std::size_t row, std::size_t col, std::size_t k) {
        return data_[(row * shape_[1] + col) * shape_[2] + k];
    }

    const T& at(std::size_t row, std::size_t col, std::size_t k) const {
        return data_[(row * shape_[1] + col) * shape_[2] + k];
    }

    static std::size_t element_count(const std::vector<std::size_t>& shape) {
        return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
    }

private:
    std::vector<std::size_t> shape_;
    std::vector<T> data_;
};

}  // namespace zoomdiff
