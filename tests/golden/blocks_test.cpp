// Golden: the block operations (PIPELINE §1.5) on every stored 100 m → 500 m → 2000 m triple of
// prep.h5 (osm/*, poi/*, population/*: datasets X_100m with siblings X_500m and X_2000m), and
// loc_2000m of every stored grid. Everything exactly, float sums included (float32 population,
// float64 lengths / areas): geo::sum_blocks_500m adds in numpy's order.
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

template <typename T>
void check_triple(const io::H5File& prep, const std::string& base) {
    const auto a100 = prep.read<T>(base + "_100m");
    const auto a500 = geo::sum_blocks_500m(a100);
    expect_equal(a500, prep.read<geo::BlockSumT<T>>(base + "_500m"), base + "_500m");
    expect_equal(geo::tile_blocks_2000m(a500), prep.read<geo::BlockSumT<T>>(base + "_2000m"),
                 base + "_2000m");
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST(GoldenPrep_blocks, EveryStoredTripleIsReproducedExactly) {
    const auto prep = io::H5File::open_read(prep_h5());
    std::size_t triples = 0;
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
                        check_triple<std::int32_t>(prep, base);
                        break;
                    case Kind::kFloat32:
                        check_triple<float>(prep, base);
                        break;
                    case Kind::kFloat64:
                        check_triple<double>(prep, base);
                        break;
                }
            }
        }
    }
    std::cout << "[ blocks ] " << triples << " stored _100m/_500m/_2000m triples checked\n";
    EXPECT_GT(triples, 0U);
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
