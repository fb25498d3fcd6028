#include "zoomdiff/cli/common.hpp"

#include <gtest/gtest.h>

#include "zoomdiff/cli/env_extra_flags.hpp"
#include "zoomdiff/core/error.hpp"

namespace zoomdiff::cli {
namespace {

int run(CLI::App& app, CommonOptions& common, std::vector<const char*> args,
        const std::function<void()>& body) {
    args.insert(args.begin(), "tool");
    return run_tool(app, common, static_cast<int>(args.size()), args.data(), body);
}

TEST(RunToolTest, MapsErrorsToExitCodes) {
    const auto code_of = [](const std::function<void()>& body) {
        CLI::App app{"", "tool"};
        CommonOptions common;
        add_common_flags(app, common);
        testing::internal::CaptureStderr();
        const int code = run(app, common, {"-q"}, body);
        testing::internal::GetCapturedStderr();
        return code;
    };
    EXPECT_EQ(code_of([] {}), 0);
    EXPECT_EQ(code_of([] { throw Error("f.tif", "bad", "fix"); }), 2);
    EXPECT_EQ(code_of([] { throw Error("f", "bug", "report", ExitCode::kInternal); }), 1);
    EXPECT_EQ(code_of([] { throw std::runtime_error("boom"); }), 1);
    EXPECT_EQ(code_of([] { throw std::bad_alloc(); }), 1);
}

TEST(RunToolTest, ErrorIsOneLineNamingTheTool) {
    CLI::App app{"", "env_extra"};
    CommonOptions common;
    add_common_flags(app, common);
    testing::internal::CaptureStderr();
    run(app, common, {"-q"},
        [] { throw Error("x.tif", "file not found", "Pass it with --pop_path."); });
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "env_extra: x.tif: file not found. Pass it with --pop_path.\n");
}

TEST(RunToolTest, BadFlagIsUsageErrorAndHelpIsSuccess) {
    {
        CLI::App app{"", "tool"};
        CommonOptions common;
        add_common_flags(app, common);
        testing::internal::CaptureStderr();
        EXPECT_EQ(run(app, common, {"--no_such_flag"}, [] { FAIL() << "body ran"; }), 2);
        testing::internal::GetCapturedStderr();
    }
    {
        CLI::App app{"", "tool"};
        CommonOptions common;
        add_common_flags(app, common);
        testing::internal::CaptureStdout();
        EXPECT_EQ(run(app, common, {"--help"}, [] { FAIL() << "body ran"; }), 0);
        testing::internal::GetCapturedStdout();
    }
}

TEST(CommonFlagsTest, ThreadsDefaultToAllCores) {
    CLI::App app{"", "tool"};
    CommonOptions common;
    add_common_flags(app, common);
    app.parse(std::vector<std::string>{"7", "--seed"});  // CLI11 takes argv reversed
    EXPECT_EQ(common.seed, 7U);
    EXPECT_GE(resolved_threads(common), 1);
    common.threads = 3;
    EXPECT_EQ(resolved_threads(common), 3);
}

TEST(CommonFlagsTest, SeedIsAWholeNumberThatFitsSixtyFourBits) {
    // CLI11 alone turns "-1" and 2^64 into 2^64 - 1 (issue 19): both are usage errors now.
    for (const std::string good : {"0", "18446744073709551615", "007"}) {
        CLI::App app{"", "tool"};
        CommonOptions common;
        add_common_flags(app, common);
        EXPECT_NO_THROW(app.parse(std::vector<std::string>{good, "--seed"})) << good;
    }
    {
        CLI::App app{"", "tool"};
        CommonOptions common;
        add_common_flags(app, common);
        app.parse(std::vector<std::string>{"18446744073709551615", "--seed"});
        EXPECT_EQ(common.seed, 18446744073709551615ULL);
    }
    for (const std::string bad :
         {"-1", "18446744073709551616", "99999999999999999999999", "1e3", "", "0x10"}) {
        CLI::App app{"", "tool"};
        CommonOptions common;
        add_common_flags(app, common);
        EXPECT_THROW(app.parse(std::vector<std::string>{bad, "--seed"}), CLI::ParseError) << bad;
    }
}

TEST(EnvExtraFlagsTest, ReferenceFlagNamesAndDefaults) {
    CLI::App app{"", "env_extra"};
    pipeline::EnvExtraOptions options;
    add_env_extra_flags(app, options);
    app.parse(std::vector<std::string>{"ENG_NAME", "--boundary_field", "/tmp/poi", "--poi_dir",
                                       "x.osm.pbf", "--osm_dir", "Wuhan", "--cityname"});
    EXPECT_EQ(options.cityname, "Wuhan");
    EXPECT_EQ(options.province, "Jiangxi");  // the reference's default
    EXPECT_EQ(options.osm_dir, "x.osm.pbf");
    EXPECT_EQ(options.poi_dir, "/tmp/poi");
    EXPECT_EQ(options.boundary_field, "ENG_NAME");
    const auto resolved = pipeline::default_env_extra_paths(options);
    EXPECT_EQ(resolved.out, "ZoomDiff/datasets/cities/Wuhan/cond/Wuhan_cond.h5");
    EXPECT_EQ(resolved.pop_path,
              "ZoomDiff/datasets/_shared_geographic_data/chn_ppp_2020_constrained.tif");
}

TEST(CommandLineTest, QuotesWhatTheShellWouldSplit) {
    const char* argv[] = {"env_extra", "--dataset", "A*B", "--x", "it's"};
    EXPECT_EQ(join_command_line(5, argv), "env_extra --dataset 'A*B' --x 'it'\\''s'");
}

}  // namespace
}  // namespace zoomdiff::cli
