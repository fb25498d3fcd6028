#include "zoomdiff/io/data_root.hpp"

namespace zoomdiff::io {

namespace fs = std::filesystem;

DataRoot DataRoot::holding(const fs::path& city_file) {
    return DataRoot(city_file.parent_path().parent_path().parent_path());
}

fs::path DataRoot::city_dir(const std::string& city) const {
    return root_ / city;
}

fs::path DataRoot::data_file(const std::string& city, const std::string& datatype) const {
    return city_dir(city) / "data" / (city + "_" + datatype + "_data.h5");
}

fs::path DataRoot::cond_file(const std::string& city) const {
    return city_dir(city) / "cond" / (city + "_cond.h5");
}

fs::path DataRoot::raw_data_file(const std::string& city, const std::string& datatype) const {
    return city_dir(city) / "raw_data_for_train" / (city + "_" + datatype + ".npz");
}

fs::path DataRoot::osm_dir(const std::string& city, const std::string& province) const {
    return city_dir(city) / "geographic_data" / ("OSM_" + province);
}

fs::path DataRoot::poi_dir(const std::string& city) const {
    return city_dir(city) / "geographic_data" / ("POI_" + city);
}

fs::path cond_file_beside(const fs::path& data_file) {
    const fs::path city_dir = data_file.parent_path().parent_path();
    return DataRoot(city_dir.parent_path()).cond_file(city_dir.filename().string());
}

}  // namespace zoomdiff::io
