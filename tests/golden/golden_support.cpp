#include "golden/golden_support.hpp"

#include <cstdio>

namespace zoomdiff::test {

int& compared_arrays() {
    static int count = 0;
    return count;
}

namespace {

/// Prints the number of compared arrays once all tests ran (the issue asks for it).
class CountReporter : public ::testing::Environment {
public:
    void TearDown() override {
        std::printf("golden: compared %d arrays against %s\n", compared_arrays(),
                    prep_h5().string().c_str());
    }
};

const auto* const kReporter = ::testing::AddGlobalTestEnvironment(new CountReporter);

}  // namespace

geo::CityGrid grid_from_golden(const io::H5File& prep, const std::string& name) {
    const auto box = prep.attr_doubles("/grids/" + name, "bbox_lon_min_lat_min_lon_max_lat_max");
    geo::BBoxDeg bbox;
    bbox.lon_min_deg = box.at(0);
    bbox.lat_min_deg = box.at(1);
    bbox.lon_max_deg = box.at(2);
    bbox.lat_max_deg = box.at(3);
    return geo::CityGrid::from_bbox(bbox);
}

}  // namespace zoomdiff::test
