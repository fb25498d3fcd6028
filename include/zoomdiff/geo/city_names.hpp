#pragma once

#include <string>

namespace zoomdiff::geo {

/// A city's Chinese and English names as the reference resolves them (PIPELINE §1.1).
struct CityNames {
    std::string cn;  ///< e.g. 南昌; the input itself when it is in neither table column
    std::string en;  ///< e.g. Nanchang; used for folder and file names
};

/// Resolve `--cityname` (Chinese or English, configs/cities.yaml): 南昌 and Nanchang both give
/// (南昌, Nanchang); an unknown name is returned unchanged for both.
CityNames resolve_city_names(const std::string& cityname);

/// English folder name of `--province` (full Chinese name with suffix, e.g. 江西省), else the
/// input.
std::string resolve_province_en(const std::string& province);

}  // namespace zoomdiff::geo
