#pragma once
// The city layout under a data root, the one definition of where a city's files live
// (PIPELINE §4.1, the reference's ZoomDiff/datasets/cities/):
//   <root>/<City>/data/<City>_<datatype>_data.h5        grid_meta's output, training targets
//   <root>/<City>/cond/<City>_cond.h5                   env_extra's output, conditions
//   <root>/<City>/raw_data_for_train/<City>_<datatype>.npz   the raw station series
//   <root>/<City>/geographic_data/OSM_<Province>, POI_<City>   env_extra's inputs
// <City> is the English city name (geo::resolve_city_names); this class takes it as given.

#include <filesystem>
#include <string>

namespace zoomdiff::io {

class DataRoot {
public:
    explicit DataRoot(std::filesystem::path root) : root_(std::move(root)) {}

    /// The root of the layout a city file sits in: <root> for <root>/<City>/data/<file> or
    /// <root>/<City>/cond/<file>.
    [[nodiscard]] static DataRoot holding(const std::filesystem::path& city_file);

    [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

    [[nodiscard]] std::filesystem::path city_dir(const std::string& city) const;
    [[nodiscard]] std::filesystem::path data_file(const std::string& city,
                                                  const std::string& datatype) const;
    [[nodiscard]] std::filesystem::path cond_file(const std::string& city) const;
    [[nodiscard]] std::filesystem::path raw_data_file(const std::string& city,
                                                      const std::string& datatype) const;
    [[nodiscard]] std::filesystem::path osm_dir(const std::string& city,
                                                const std::string& province) const;
    [[nodiscard]] std::filesystem::path poi_dir(const std::string& city) const;

private:
    std::filesystem::path root_;
};

/// The condition file of the city a data file belongs to: <root>/<City>/cond/<City>_cond.h5 for
/// <root>/<City>/data/<anything>.
[[nodiscard]] std::filesystem::path cond_file_beside(const std::filesystem::path& data_file);

}  // namespace zoomdiff::io
