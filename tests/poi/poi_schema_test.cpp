#include "zoomdiff/poi/poi_schema.hpp"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "support/support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::poi {
namespace {

TEST(PoiSchemaTest, BuiltinOrderIsTheReferenceOrder) {
    // PIPELINE §5.1: the index order of the released models.
    const std::vector<std::string> expected{"交通设施服务", "住宿服务",           "体育休闲服务",
                                            "公共设施",     "公司企业",           "医疗保健服务",
                                            "商务住宅",     "地名地址信息",       "室内设施",
                                            "摩托车服务",   "政府机构及社会团体", "汽车服务",
                                            "汽车维修",     "汽车销售",           "生活服务",
                                            "科教文化服务", "购物服务",           "道路附属设施",
                                            "金融保险服务", "风景名胜",           "餐饮服务"};
    const PoiSchema schema = builtin_poi_schema();
    ASSERT_EQ(schema.size(), 21U);
    std::vector<std::string> names;
    for (const auto& c : schema.categories()) {
        names.push_back(c.name_cn);
    }
    EXPECT_EQ(names, expected);
    // That order is the code-point sort of the Chinese names (what the reference computes).
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
    EXPECT_EQ(schema.at(0).tag_en, "TransportationFacilities");
    EXPECT_EQ(schema.at(20).tag_en, "CateringServices");
    EXPECT_EQ(schema.at(8).amap_prefix, "97");
}

TEST(PoiSchemaTest, IndexOfAcceptsEveryNameVariant) {
    const PoiSchema schema = builtin_poi_schema();
    EXPECT_EQ(schema.index_of("交通设施服务"), 0U);
    EXPECT_EQ(schema.index_of("餐饮服务"), 20U);
    EXPECT_EQ(schema.index_of("CateringServices"), 20U);
    EXPECT_EQ(schema.index_of("Catering services"), 20U);
    EXPECT_EQ(schema.index_of("catering_services"), 20U);
    EXPECT_EQ(schema.index_of("SCENIC SPOTS"), 19U);
    EXPECT_EQ(schema.index_of("GovernmentAndOrganizations"), 10U);
    EXPECT_EQ(schema.index_of("Science, education and culture services"), 15U);
    EXPECT_FALSE(schema.index_of("餐饮").has_value());
    EXPECT_FALSE(schema.index_of("").has_value());
    EXPECT_FALSE(schema.index_of("Restaurants").has_value());
}

TEST(PoiSchemaTest, ExcludedCategoriesAreKnownButHaveNoChannel) {
    const PoiSchema schema = builtin_poi_schema();
    ASSERT_EQ(schema.excluded().size(), 3U);
    for (const char* name :
         {"事件活动", "通行设施", "虚拟数据", "EventsActivities", "virtual data"}) {
        EXPECT_FALSE(schema.index_of(name).has_value()) << name;
        EXPECT_TRUE(schema.is_excluded(name)) << name;
    }
    EXPECT_FALSE(schema.is_excluded("餐饮服务"));
    EXPECT_FALSE(schema.is_excluded("unknown"));
}

TEST(PoiSchemaTest, UserSchemaFile) {
    test::TempDir dir;
    const auto path = dir.path() / "schema.yaml";
    std::ofstream(path) << "categories:\n"
                           "  - {name_cn: 餐厅, tag_en: Food, name_en: Food and drink}\n"
                           "  - {index: 1, tag_en: Shops}\n"
                           "excluded:\n"
                           "  - {tag_en: Ignored}\n";
    const PoiSchema schema = load_poi_schema(path);
    EXPECT_EQ(schema.size(), 2U);
    EXPECT_EQ(schema.index_of("餐厅"), 0U);
    EXPECT_EQ(schema.index_of("food and drink"), 0U);
    EXPECT_EQ(schema.index_of("shops"), 1U);
    EXPECT_TRUE(schema.is_excluded("Ignored"));
    EXPECT_EQ(schema.source(), path.string());
}

TEST(PoiSchemaTest, BadSchemaFilesAreErrorsNamingTheFile) {
    test::TempDir dir;
    const auto write = [&](const std::string& text) {
        const auto path = dir.path() / "bad.yaml";
        std::ofstream(path) << text;
        return path;
    };
    const auto expect_error = [](const std::filesystem::path& path, const std::string& part) {
        try {
            load_poi_schema(path);
            FAIL() << "expected an error for " << part;
        } catch (const Error& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find(path.string()), std::string::npos) << what;
            EXPECT_NE(what.find(part), std::string::npos) << what;
            EXPECT_EQ(e.exit_code(), ExitCode::kInput);
        }
    };
    expect_error(dir.path() / "missing.yaml", "cannot open");
    expect_error(write("categories: [\n"), "not valid YAML");
    expect_error(write("other: 1\n"), "no 'categories'");
    expect_error(write("categories:\n  - {index: 1, tag_en: A}\n"), "position 0");
    expect_error(write("categories:\n  - {tag_en: A}\n  - {name_en: a}\n"), "already used");
    expect_error(write("categories:\n  - {amap_prefix: '05'}\n"), "none of name_cn");
}

}  // namespace
}  // namespace zoomdiff::poi
