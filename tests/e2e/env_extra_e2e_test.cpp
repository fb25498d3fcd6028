// End-to-end: the env_extra executable run as a user runs it, on data/sample and on bad input.
#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "support/support.hpp"
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "zoomdiff/io/h5_file.hpp"

namespace zoomdiff::test {
namespace {

namespace fs = std::filesystem;

std::string sample_args(const fs::path& out) {
    const fs::path s = source_dir() / "data/sample";
    return "--cityname Nanchang --province Jiangxi --shp_path '" +
           (s / "boundary/nanchang_sample.shp").string() + "' --pop_path '" +
           (s / "population.tif").string() + "' --osm_dir '" + (s / "OSM_Jiangxi").string() +
           "' --poi_dir '" + (s / "POI_Nanchang").string() + "' --out '" + out.string() + "'";
}

std::string bytes_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t line_count(const std::string& s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(EnvExtraE2E, SampleCityRunsCleanAndReproducibly) {
    TempDir tmp;
    const fs::path out = tmp.path() / "cond" / "Nanchang_cond.h5";
    const ToolRun r = run_tool(ZOOMDIFF_ENV_EXTRA_EXE, sample_args(out) + " -q", tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    // -q: only warnings; the sample's four empty OSM layers warn, nothing is an error.
    EXPECT_EQ(r.stderr_text.find("error"), std::string::npos) << r.stderr_text;
    ASSERT_TRUE(fs::exists(out));
    const auto f = io::H5File::open_read(out);
    for (const char* key :
         {"/pop_2000m", "/building_2000m", "/roadlen_2000m", "/water_area_2000m", "/poi_2000m",
          "/loc_2000m", "/100m/population", "/500m/poi_count", "/2000m/natural_count"}) {
        EXPECT_TRUE(f.exists(key)) << key;
    }
    EXPECT_EQ(f.shape("/poi_2000m"), (std::vector<std::size_t>{2, 4, 4, 4, 21}));
    EXPECT_NE(f.attr_string("/", "command_line").find("--cityname Nanchang"), std::string::npos);
    // The resolved configuration (defaults filled in, absolute paths) travels with the output.
    const std::string config = f.attr_string("/", "resolved_config");
    EXPECT_NE(config.find("\"province\":\"Jiangxi\""), std::string::npos) << config;
    EXPECT_NE(config.find("\"boundary_field\":\"地名\""), std::string::npos) << config;
    // Nothing but the output is left in its folder (no temporary files).
    EXPECT_EQ(std::distance(fs::directory_iterator(out.parent_path()), fs::directory_iterator()),
              1);

    const fs::path again = tmp.path() / "cond" / "again.h5";
    // More threads than cores are capped at the cores, with a warning, not obeyed.
    const std::string args2 = sample_args(again) + " -q --threads 100000";
    const ToolRun capped = run_tool(ZOOMDIFF_ENV_EXTRA_EXE, args2, tmp.path());
    ASSERT_EQ(capped.exit_code, 0) << capped.stderr_text;
    EXPECT_NE(capped.stderr_text.find("--threads 100000 is more than this machine's"),
              std::string::npos)
        << capped.stderr_text;
    // Same inputs: the same arrays (the command-line attribute differs by the --out path).
    const auto g = io::H5File::open_read(again);
    for (const char* key : {"/pop_2000m", "/roadlen_2000m", "/100m/natural_count"}) {
        EXPECT_EQ(f.read<double>(key).values(), g.read<double>(key).values()) << key;
    }
}

TEST(EnvExtraE2E, HelpWorks) {
    TempDir tmp;
    const ToolRun r = run_tool(ZOOMDIFF_ENV_EXTRA_EXE, "--help", tmp.path());
    EXPECT_EQ(r.exit_code, 0);
}

TEST(EnvExtraE2E, BadFlagIsUsageError) {
    TempDir tmp;
    const ToolRun r = run_tool(ZOOMDIFF_ENV_EXTRA_EXE, "--no_such_flag 1", tmp.path());
    EXPECT_EQ(r.exit_code, 2);
}

TEST(EnvExtraE2E, EachBadInputIsOneLineExitTwoAndNoOutput) {
    TempDir tmp;
    const fs::path out = tmp.path() / "out" / "Nanchang_cond.h5";
    const fs::path s = source_dir() / "data/sample";

    struct Case {
        std::string name;
        std::string args;
        std::string must_mention;
    };

    fs::create_directories(tmp.path() / "empty_osm");
    fs::create_directories(tmp.path() / "empty_poi");
    std::ofstream(tmp.path() / "nan.asc") << "ncols 2\nnrows 2\nxllcorner 115.7\nyllcorner "
                                             "28.6\ncellsize 0.5\nNODATA_value -1\n-1 -1\n-1 -1\n";
    const std::vector<Case> cases{
        {"missing raster", sample_args(out) + " --pop_path /nonexistent/pop.tif",
         "/nonexistent/pop.tif"},
        {"missing boundary", sample_args(out) + " --shp_path /nonexistent/b.shp",
         "/nonexistent/b.shp"},
        {"unknown city", sample_args(out) + " --cityname Atlantis", "Atlantis"},
        {"empty OSM folder",
         sample_args(out) + " --osm_dir '" + (tmp.path() / "empty_osm").string() + "'",
         "empty_osm"},
        {"empty POI folder",
         sample_args(out) + " --poi_dir '" + (tmp.path() / "empty_poi").string() + "'",
         "empty_poi"},
        {"raster without CRS",
         sample_args(out) + " --pop_path '" + (tmp.path() / "nan.asc").string() + "'", "nan.asc"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const ToolRun r = run_tool(ZOOMDIFF_ENV_EXTRA_EXE, c.args + " -q", tmp.path());
        EXPECT_EQ(r.exit_code, 2) << r.stderr_text;
        // Warnings may precede it; the error itself is the one last line, naming the subject.
        ASSERT_FALSE(r.stderr_text.empty());
        const std::string last =
            r.stderr_text.substr(r.stderr_text.rfind('\n', r.stderr_text.size() - 2) + 1);
        EXPECT_EQ(last.rfind("env_extra: ", 0), 0U) << r.stderr_text;
        EXPECT_NE(last.find(c.must_mention), std::string::npos) << r.stderr_text;
        EXPECT_EQ(line_count(last), 1U);
        EXPECT_FALSE(fs::exists(out));
    }
}

}  // namespace
}  // namespace zoomdiff::test
