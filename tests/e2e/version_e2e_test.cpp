// End-to-end: --version on every tool names the tool, zoomdiff's version and commit and the
// libraries it runs with; the torch tools add LibTorch and the CPU capability its kernels use.
#include <string>
#include <utility>
#include <vector>

#include "support/support.hpp"
#include <gtest/gtest.h>

namespace zoomdiff::test {
namespace {

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

/// (tool name, executable, links LibTorch)
std::vector<std::pair<std::string, std::pair<std::string, bool>>> tools() {
    std::vector<std::pair<std::string, std::pair<std::string, bool>>> out;
    out.push_back({"grid_meta", {ZOOMDIFF_GRID_META_EXE, false}});
    out.push_back({"env_extra", {ZOOMDIFF_ENV_EXTRA_EXE, false}});
#ifdef ZOOMDIFF_ZOOMDIFF_EVAL_EXE
    out.push_back({"zoomdiff_eval", {ZOOMDIFF_ZOOMDIFF_EVAL_EXE, false}});
#endif
#ifdef ZOOMDIFF_UOMO_IMPORT_EXE
    out.push_back({"uomo_import", {ZOOMDIFF_UOMO_IMPORT_EXE, false}});
#endif
#ifdef ZOOMDIFF_ZOOMDIFF_TRAIN_EXE
    out.push_back({"zoomdiff_train", {ZOOMDIFF_ZOOMDIFF_TRAIN_EXE, true}});
#endif
#ifdef ZOOMDIFF_ZOOMDIFF_INFER_EXE
    out.push_back({"zoomdiff_infer", {ZOOMDIFF_ZOOMDIFF_INFER_EXE, true}});
#endif
    return out;
}

TEST(VersionE2E, EveryToolNamesItsVersionCommitAndLibraries) {
    TempDir tmp;
    for (const auto& [name, tool] : tools()) {
        const auto& [exe, torch] = tool;
        const ToolRun r = run_tool(exe, "--version", tmp.path());
        ASSERT_EQ(r.exit_code, 0) << name << ": " << r.stderr_text;
        const std::string& v = r.stdout_text;
        EXPECT_TRUE(has(v, name + " " ZOOMDIFF_VERSION " (commit ")) << v;
        for (const char* library : {"GDAL ", "PROJ ", "HDF5 "})
            EXPECT_TRUE(has(v, library)) << name << ": " << v;
        EXPECT_EQ(has(v, "LibTorch "), torch) << name << ": " << v;
        EXPECT_EQ(has(v, "CPU capability "), torch) << name << ": " << v;
    }
}

#ifdef ZOOMDIFF_ZOOMDIFF_INFER_EXE
TEST(VersionE2E, TheCpuCapabilityIsTheOneInUse) {
    // ATEN_CPU_CAPABILITY=default makes LibTorch dispatch to its plain kernels (ATen calls them
    // "NO AVX"): the report follows the capability in use, not the CPU's.
    TempDir tmp;
    const ToolRun r = run_tool("ATEN_CPU_CAPABILITY=default " ZOOMDIFF_ZOOMDIFF_INFER_EXE,
                               "--version", tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_TRUE(has(r.stdout_text, "CPU capability NO AVX")) << r.stdout_text;
}

TEST(VersionE2E, TorchToolsWaitPassivelyUnlessTheEnvironmentChose) {
    // libgomp reads its wait policy when it loads: the tool re-executes itself with
    // OMP_WAIT_POLICY=PASSIVE (bench/omp_wait_bench.sh) unless the user set one.
    TempDir tmp;
    const ToolRun chosen_by_tool =
        run_tool("env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT " ZOOMDIFF_ZOOMDIFF_INFER_EXE,
                 "--version", tmp.path());
    ASSERT_EQ(chosen_by_tool.exit_code, 0) << chosen_by_tool.stderr_text;
    EXPECT_TRUE(has(chosen_by_tool.stdout_text, "OpenMP wait policy: PASSIVE (zoomdiff's default"))
        << chosen_by_tool.stdout_text;
    const ToolRun chosen_by_user =
        run_tool("OMP_WAIT_POLICY=ACTIVE " ZOOMDIFF_ZOOMDIFF_INFER_EXE, "--version", tmp.path());
    ASSERT_EQ(chosen_by_user.exit_code, 0) << chosen_by_user.stderr_text;
    EXPECT_TRUE(has(chosen_by_user.stdout_text, "OpenMP wait policy: ACTIVE\n"))
        << chosen_by_user.stdout_text;
}
#endif

}  // namespace
}  // namespace zoomdiff::test
