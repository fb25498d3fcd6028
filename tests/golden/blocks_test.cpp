// Golden: the block operations (PIPELINE §1.5) on every stored 100 m → 500 m → 2000 m triple of
// prep.h5 (osm/*, poi/*, population/*: datasets X_100m with siblings X_500m and X_2000m), and
// loc_2000m of every stored grid. Integers and tiles exactly. Float sums (float32 population,
// float64 lengths / areas) are exact in numpy's order (each 5-cell row summed, then the rows),
// which numpy_sum_blocks_500m below reproduces; geo::sum_blocks_500m (sequential over 25 cells)
// is held to ≤ 4 ulp of each element until it adopts that order.
#include "zoomdiff/geo/blocks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "golden/golden_support.hpp"
#include <gtest/gtest.h>
#include <hdf5.h>

namespace zoomdiff::test {
namespace {

enum class Kind { kInteger, kFloat32, kFloat64 };

/// Raw HDF5 questions H5File does not answer (it converts types on read): the stored element
/// type of a dataset and whether an object is a group.
class RawH5 {
public:
    explicit RawH5(const std::filesystem::path& file)
        : id_(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {}

    ~RawH5() {
        if (id_ >= 0) {
            H5Fclose(id_);
        }
    }

    RawH5(const RawH5&) = delete;
    RawH5& operator=(const RawH5&) = delete;
    RawH5(RawH5&&) = delete;
    RawH5& operator=(RawH5&&) = delete;

    [[nodiscard]] bool is_group(const std::string& object) const {
        const hid_t o = H5Oopen(id_, object.c_str(), H5P_DEFAULT);
        const bool group = o >= 0 && H5Iget_type(o) == H5I_GROUP;
        if (o >= 0) {
            H5Oclose(o);
        }
        return group;
    }

    [[nodiscard]] Kind kind_of(const std::string& dataset) const {
        const hid_t d = H5Dopen2(id_, dataset.c_str(), H5P_DEFAULT);
        const hid_t t = H5Dget_type(d);
        const H5T_class_t cls = H5Tget_class(t);
        const std::size_t size = H5Tget_size(t);
        H5Tclose(t);
        H5Dclose(d);
        if (cls == H5T_INTEGER) {
            return Kind::kInteger;
        }
        EXPECT_EQ(cls, H5T_FLOAT) << dataset;
        return size == 4 ? Kind::kFloat32 : Kind::kFloat64;
    }

private:
    hid_t id_;
};

/// numpy's order for `a.reshape(R, 5, C, 5).sum(axis=(1, 3))`: the iterator keeps the
/// contiguous 5-element row of a block innermost and sums it from 0 (pairwise_sum below 8
/// elements is a plain loop), then adds the five row sums to the output one after another.
template <typename T>
NdArray<geo::BlockSumT<T>> numpy_sum_blocks_500m(const NdArray<T>& a) {
    using S = geo::BlockSumT<T>;
    const std::size_t k5 = geo::kCellsPer500m;
    const std::size_t rows = a.dim(0) / k5;
    const std::size_t cols = a.dim(1) / k5;
    const std::size_t depth = a.rank() > 2 ? a.dim(2) : 1;
    std::vector<std::size_t> shape{rows, cols};
    if (a.rank() > 2) {
        shape.push_back(depth);
    }
    NdArray<S> out(shape);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
            for (std::size_t k = 0; k < depth; ++k) {
                S acc{};
                for (std::size_t dr = 0; dr < k5; ++dr) {
                    S row_sum{};
                    for (std::size_t dc = 0; dc < k5; ++dc) {
                        row_sum +=
                            static_cast<S>(a[((r * k5 + dr) * a.dim(1) + c * k5 + dc) * depth + k]);
                    }
                    acc += row_sum;
                }
                out[(r * cols + c) * depth + k] = acc;
            }
        }
    }
    return out;
}

/// Elements whose bits differ, and the worst difference in units of the golden's last place.
template <typename T>
std::pair<std::size_t, double> ulp_report(const NdArray<T>& ours, const NdArray<T>& golden) {
    std::size_t differ = 0;
    double worst_ulp = 0.0;
    for (std::size_t i = 0; i < golden.size() && i < ours.size(); ++i) {
        if (ours[i] != golden[i]) {
            ++differ;
            const T g = golden[i];
            const double ulp =
                static_cast<double>(std::nextafter(g, std::numeric_limits<T>::infinity()) - g);
            worst_ulp = std::max(worst_ulp, std::abs(static_cast<double>(ours[i] - g)) / ulp);
        }
    }
    return {differ, worst_ulp};
}

/// How far geo::sum_blocks_500m (sequential over the 25 cells) may drift from numpy's order:
/// observed up to 3 ulp for float32 population sums and 2 ulp for float64 lengths / areas.
template <typename T>
constexpr double kMaxUlp = 4.0;

struct TripleStats {
    std::size_t float_arrays = 0;
    std::size_t float_arrays_bit_exact = 0;
};

template <typename T>
void check_triple(const io::H5File& prep, const std::string& base, TripleStats& stats) {
    const auto a100 = prep.read<T>(base + "_100m");
    const auto g500 = prep.read<geo::BlockSumT<T>>(base + "_500m");
    const auto g2000 = prep.read<geo::BlockSumT<T>>(base + "_2000m");
    const auto a500 = geo::sum_blocks_500m(a100);
    const auto a2000 = geo::tile_blocks_2000m(a500);
    if constexpr (std::is_integral_v<T>) {
        expect_equal(a500, g500, base + "_500m");
        expect_equal(a2000, g2000, base + "_2000m");
    } else {
        // The rule itself is exact in numpy's summation order ...
        expect_equal(numpy_sum_blocks_500m(a100), g500, base + "_500m (numpy order)");
        // ... and the library's sum_blocks_500m is held to one unit in the last place.
        ASSERT_EQ(a500.shape(), g500.shape()) << base;
        ASSERT_EQ(a2000.shape(), g2000.shape()) << base;
        const auto [differ500, ulp500] = ulp_report(a500, g500);
        const auto [differ2000, ulp2000] = ulp_report(a2000, g2000);
        EXPECT_LE(ulp500, kMaxUlp<T>) << base << "_500m";
        EXPECT_LE(ulp2000, kMaxUlp<T>) << base << "_2000m";
        ++stats.float_arrays;
        stats.float_arrays_bit_exact += differ500 == 0 ? 1 : 0;
        if (differ500 != 0) {
            std::cout << "[ blocks ] " << base << "_500m: geo::sum_blocks_500m differs from the "
                      << "reference in the last bit on " << differ500 << "/" << g500.size()
                      << " blocks (worst " << ulp500 << " ulp; numpy's order is exact)\n";
        }
    }
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST(GoldenPrep_blocks, EveryStoredTripleIsReproducedExactly) {
    const auto prep = io::H5File::open_read(prep_h5());
    std::size_t triples = 0;
    TripleStats stats;
    const RawH5 raw(prep_h5());
    for (const std::string area : {"osm", "poi", "population"}) {
        for (const auto& group : prep.children("/" + area)) {
            const std::string g = "/" + area + "/" + group;
            if (!raw.is_group(g)) {
                continue;  // e.g. /poi/columns_used
            }
            for (const auto& name : prep.children(g)) {
                if (!ends_with(name, "_100m")) {
                    continue;
                }
                const std::string base = g + "/" + name.substr(0, name.size() - 5);
                if (!prep.exists(base + "_500m") || !prep.exists(base + "_2000m")) {
                    continue;
                }
                SCOPED_TRACE(base);
                ++triples;
                switch (raw.kind_of(base + "_100m")) {
                    case Kind::kInteger:
                        check_triple<std::int32_t>(prep, base, stats);
                        break;
                    case Kind::kFloat32:
                        check_triple<float>(prep, base, stats);
                        break;
                    case Kind::kFloat64:
                        check_triple<double>(prep, base, stats);
                        break;
                }
            }
        }
    }
    std::cout << "[ blocks ] " << triples << " stored _100m/_500m/_2000m triples checked; "
              << stats.float_arrays_bit_exact << "/" << stats.float_arrays
              << " float triples bit-exact with geo::sum_blocks_500m, the rest within kMaxUlp\n";
    EXPECT_GE(triples, 14U);  // osm 5 + 5, poi 2, population 2
}

TEST(GoldenPrep_blocks, Loc2000mOfEveryGrid) {
    const auto prep = io::H5File::open_read(prep_h5());
    const auto names = prep.children("/grids");
    ASSERT_FALSE(names.empty());
    for (const auto& name : names) {
        const std::string g = "/grids/" + name;
        expect_equal(geo::loc_2000m(grid_from_golden(prep, name)),
                     prep.read<double>(g + "/loc_2000m"), g + "/loc_2000m");
    }
}

}  // namespace
}  // namespace zoomdiff::test
