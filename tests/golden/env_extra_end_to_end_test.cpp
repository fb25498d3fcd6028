// Golden: prep.h5:/env_extra_end_to_end — the reference's condition script run unmodified on the
// small box. We run the env_extra executable on the same inputs (golden/inputs: the box boundary,
// pop_small.tif, the natural / natural_a / pois layers of OSM_Jiangxi plus the empty stand-ins,
// the 15 POI tables) and compare the reference keys of our file exactly.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "golden/golden_support.hpp"
#include <gtest/gtest.h>

namespace zoomdiff::test {
namespace {

namespace fs = std::filesystem;

/// Our 21 fixed POI channels reduced to those the reference had (its K = categories present).
NdArray<std::int64_t> present_channels(const NdArray<std::int64_t>& poi,
                                       const NdArray<std::uint8_t>& present) {
    std::size_t k_out = 0;
    for (std::size_t k = 0; k < present.size(); ++k) {
        k_out += present[k] != 0 ? 1 : 0;
    }
    const std::size_t k_in = poi.shape().back();
    std::vector<std::size_t> shape = poi.shape();
    shape.back() = k_out;
    NdArray<std::int64_t> out(shape);
    std::size_t o = 0;
    for (std::size_t i = 0; i < poi.size(); i += k_in) {
        for (std::size_t k = 0; k < k_in; ++k) {
            if (present[k] != 0) {
                out[o++] = poi[i + k];
            }
        }
    }
    return out;
}

TEST(GoldenPrep_env_extra_end_to_end, ExecutableReproducesTheReferenceRun) {
    const fs::path golden = golden_dir();
    const fs::path inputs = golden / "inputs";
    const fs::path synthetic = inputs / "synthetic_for_env_extra_run";
    TempDir tmp;
    // The reference's OSM folder of that run: three real layers plus four empty stand-ins.
    const fs::path osm = tmp.path() / "OSM_Jiangxi";
    fs::create_directories(osm);
    for (const fs::path& dir : {inputs / "OSM_Jiangxi", synthetic}) {
        for (const auto& entry : fs::directory_iterator(dir)) {
            const std::string name = entry.path().filename().string();
            if (name.rfind("gis_osm_", 0) == 0 && name.find("railways") == std::string::npos &&
                name.find("pofw") == std::string::npos &&
                name.find("traffic") == std::string::npos) {
                fs::create_symlink(entry.path(), osm / name);
            }
        }
    }
    const fs::path out = tmp.path() / "Nanchang_cond.h5";
    const std::string cmd =
        std::string(ZOOMDIFF_ENV_EXTRA_EXE) + " --cityname Nanchang --province Jiangxi" +
        " --shp_path '" + (synthetic / "small_bbox_boundary.shp").string() + "'" + " --pop_path '" +
        (golden / "pop_small.tif").string() + "'" + " --osm_dir '" + osm.string() + "'" +
        " --poi_dir '" + (inputs / "POI_Nanchang").string() + "'" + " --out '" + out.string() +
        "' -q --progress never";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

    const auto ours = io::H5File::open_read(out);
    const auto prep = io::H5File::open_read(prep_h5());
    const std::string g = "/env_extra_end_to_end/";
    for (const auto& key : prep.children("/env_extra_end_to_end")) {
        SCOPED_TRACE(key);
        if (key == "poi_2000m") {
            const auto present = ours.read<std::uint8_t>("/poi_category_present");
            expect_equal(present_channels(ours.read<std::int64_t>("/poi_2000m"), present),
                         prep.read<std::int64_t>(g + key), g + key);
        } else if (key == "pop_2000m") {
            expect_equal(ours.read<float>("/" + key), prep.read<float>(g + key), g + key);
        } else {
            expect_equal(ours.read<double>("/" + key), prep.read<double>(g + key), g + key);
        }
    }
}

}  // namespace
}  // namespace zoomdiff::test
