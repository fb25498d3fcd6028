#include "zoomdiff/io/data_root.hpp"

#include <gtest/gtest.h>

namespace zoomdiff::io {
namespace {

namespace fs = std::filesystem;

TEST(DataRoot, NamesEveryFileOfTheCityLayout) {
    const DataRoot root(fs::path("/r"));
    EXPECT_EQ(root.city_dir("Nanchang"), fs::path("/r/Nanchang"));
    EXPECT_EQ(root.data_file("Nanchang", "traffic"),
              fs::path("/r/Nanchang/data/Nanchang_traffic_data.h5"));
    EXPECT_EQ(root.cond_file("Nanchang"), fs::path("/r/Nanchang/cond/Nanchang_cond.h5"));
    EXPECT_EQ(root.raw_data_file("Nanchang", "user"),
              fs::path("/r/Nanchang/raw_data_for_train/Nanchang_user.npz"));
    EXPECT_EQ(root.osm_dir("Nanchang", "Jiangxi"),
              fs::path("/r/Nanchang/geographic_data/OSM_Jiangxi"));
    EXPECT_EQ(root.poi_dir("Nanchang"), fs::path("/r/Nanchang/geographic_data/POI_Nanchang"));
}

TEST(DataRoot, FindsTheRootAndTheCondFileOfACityFile) {
    const fs::path data("/r/Nanchang/data/Nanchang_traffic_data.h5");
    EXPECT_EQ(DataRoot::holding(data).root(), fs::path("/r"));
    EXPECT_EQ(cond_file_beside(data), fs::path("/r/Nanchang/cond/Nanchang_cond.h5"));
    // Relative paths keep the layout relative.
    EXPECT_EQ(cond_file_beside("Wuhan/data/Wuhan_user_data.h5"),
              fs::path("Wuhan/cond/Wuhan_cond.h5"));
    const DataRoot root = DataRoot::holding(DataRoot(fs::path("out/x")).cond_file("Xian"));
    EXPECT_EQ(root.root(), fs::path("out/x"));
}

}  // namespace
}  // namespace zoomdiff::io
