#include "zoomdiff/poi/poi_counts.hpp"

#include <fstream>
#include <string>

#include "support/support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::poi {
namespace {

namespace fs = std::filesystem;

// A 2-row × 3-col grid with degree edges lon 0..3, lat 10..12 (metre edges only give the size).
geo::CityGrid small_grid() {
    geo::CityGrid grid;
    grid.x_edges_m = {0, 100, 200, 300};
    grid.y_edges_m = {0, 100, 200};
    grid.lon_edges_deg = {0.0, 1.0, 2.0, 3.0};
    grid.lat_edges_deg = {10.0, 11.0, 12.0};
    return grid;
}

constexpr const char* kChineseHeader = "id,cityname,行业大类,wgs84_经度,wgs84_纬度\n";

class PoiCountsTest : public ::testing::Test {
protected:
    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_.path() / name, std::ios::binary) << text;
    }

    PoiCounts count(const std::string& city_filter = "南昌市") {
        core::NullProgress progress;
        return count_pois(dir_.path(), small_grid(), schema_, city_filter, progress);
    }

    // Error text of count(), or "" if it did not throw.
    std::string error_of(const std::string& city_filter = "南昌市") {
        try {
            count(city_filter);
        } catch (const Error& e) {
            EXPECT_EQ(e.exit_code(), ExitCode::kInput);
            return e.what();
        }
        ADD_FAILURE() << "expected zoomdiff::Error";
        return {};
    }

    test::TempDir dir_;
    PoiSchema schema_ = builtin_poi_schema();
};

constexpr std::size_t kCatering = 20;
constexpr std::size_t kScenic = 19;

TEST_F(PoiCountsTest, ChineseColumnsWithBomQuotesAndCrlf) {
    write("Nanchang_CateringServices.csv",
          "\xEF\xBB\xBFid,name,cityname,行业大类,location,wgs84_经度,wgs84_纬度\r\n"
          "1,\"a, \"\"b\"\"\",南昌市,餐饮服务,\"0.5,10.5\",0.5,10.5\r\n"
          "2,\"two\r\nlines\",南昌市,餐饮服务,\"x\",2.5,11.5\r\n");
    const PoiCounts counts = count();
    EXPECT_EQ(counts.rows_read, 2U);
    EXPECT_EQ(counts.rows_counted, 2U);
    ASSERT_EQ(counts.counts.shape(), (std::vector<std::size_t>{2, 3, 21}));
    EXPECT_EQ(counts.counts.at(0, 0, kCatering), 1);
    EXPECT_EQ(counts.counts.at(1, 2, kCatering), 1);
    EXPECT_EQ(counts.files_used, (std::vector<std::string>{"Nanchang_CateringServices.csv"}));
}

TEST_F(PoiCountsTest, EnglishVariantHeaders) {
    write("a.csv",
          "cityname,bigType,lon_wgs84,lat_wgs84,wgs84_经度\n"
          "Milan,CateringServices,1.5,10.5,99\n"
          "Milan,Scenic spots,0.5,11.5,99\n");
    const PoiCounts counts = count("Milan");
    EXPECT_EQ(counts.rows_counted, 2U);
    EXPECT_EQ(counts.counts.at(0, 1, kCatering), 1);
    EXPECT_EQ(counts.counts.at(1, 0, kScenic), 1);
}

TEST_F(PoiCountsTest, LastEdgeGoesToTheLastCellAndOutsideIsDropped) {
    write("a.csv", std::string(kChineseHeader) +
                       "1,南昌市,餐饮服务,3.0,12.0\n"      // exactly on both last edges
                       "2,南昌市,餐饮服务,0.0,10.0\n"      // exactly on both first edges
                       "3,南昌市,餐饮服务,1.0,11.0\n"      // on inner edges: the upper cell
                       "4,南昌市,餐饮服务,3.0000001,11\n"  // east of the grid
                       "5,南昌市,餐饮服务,1.5,9.9999\n"    // south of the grid
                       "6,南昌市,餐饮服务,-0.1,10.5\n");   // west of the grid
    const PoiCounts counts = count();
    EXPECT_EQ(counts.rows_kept, 6U);
    EXPECT_EQ(counts.rows_counted, 3U);
    EXPECT_EQ(counts.counts.at(1, 2, kCatering), 1);
    EXPECT_EQ(counts.counts.at(0, 0, kCatering), 1);
    EXPECT_EQ(counts.counts.at(1, 1, kCatering), 1);
}

TEST_F(PoiCountsTest, CityFilterIsExactAndCategoriesCountBeforeIt) {
    write("a.csv", std::string(kChineseHeader) +
                       "1,南昌市,餐饮服务,0.5,10.5\n"
                       "2,南昌,餐饮服务,0.5,10.5\n"
                       "3,九江市,风景名胜,0.5,10.5\n"
                       "4,,餐饮服务,0.5,10.5\n");
    const PoiCounts counts = count();
    EXPECT_EQ(counts.rows_read, 4U);
    EXPECT_EQ(counts.rows_counted, 1U);
    EXPECT_EQ(counts.counts.at(0, 0, kCatering), 1);
    EXPECT_EQ(counts.counts.at(0, 0, kScenic), 0);
    // 风景名胜 had a row in the files (before the city filter); the others did not.
    EXPECT_TRUE(counts.category_present[kScenic]);
    EXPECT_TRUE(counts.category_present[kCatering]);
    EXPECT_FALSE(counts.category_present[0]);

    const PoiCounts all = count("");
    EXPECT_EQ(all.rows_counted, 4U);
    EXPECT_EQ(all.counts.at(0, 0, kScenic), 1);
}

TEST_F(PoiCountsTest, MissingValuesDropTheRow) {
    write("a.csv", std::string(kChineseHeader) +
                       "1,南昌市,餐饮服务,,10.5\n"
                       "2,南昌市,餐饮服务,0.5,NA\n"
                       "3,南昌市,NULL,0.5,10.5\n"
                       "4,南昌市,餐饮服务,nan,10.5\n"
                       "5,南昌市,餐饮服务\n"                // short row: the rest is missing
                       "6,南昌市,餐饮服务, 0.5 ,+10.5\n");  // spaces and '+' parse as float()
    const PoiCounts counts = count();
    EXPECT_EQ(counts.rows_read, 6U);
    EXPECT_EQ(counts.rows_kept, 1U);
    EXPECT_EQ(counts.counts.at(0, 0, kCatering), 1);
}

TEST_F(PoiCountsTest, ExcludedCategoriesAreSkippedWithoutShiftingIndices) {
    write("a.csv", std::string(kChineseHeader) +
                       "1,南昌市,事件活动,0.5,10.5\n"
                       "2,南昌市,交通设施服务,0.5,10.5\n");
    const PoiCounts counts = count();
    EXPECT_EQ(counts.rows_excluded, 1U);
    EXPECT_EQ(counts.rows_counted, 1U);
    EXPECT_EQ(counts.counts.at(0, 0, 0), 1);  // 交通设施服务 stays index 0
    EXPECT_EQ(counts.counts.shape().back(), 21U);
}

TEST_F(PoiCountsTest, UnknownCategoryIsAnErrorNamingFileValueAndFix) {
    write("Milan_Food.csv", std::string(kChineseHeader) +
                                "1,南昌市,餐饮服务,0.5,10.5\n"
                                "2,南昌市,美食,0.5,10.5\n");
    const std::string what = error_of();
    EXPECT_NE(what.find("Milan_Food.csv"), std::string::npos) << what;
    EXPECT_NE(what.find("'美食'"), std::string::npos) << what;
    EXPECT_NE(what.find("line 3"), std::string::npos) << what;
    EXPECT_NE(what.find("schema file"), std::string::npos) << what;
}

TEST_F(PoiCountsTest, FileLackingAColumnIsAnErrorListingItsColumns) {
    write("a.csv", std::string(kChineseHeader) + "1,南昌市,餐饮服务,0.5,10.5\n");
    write("b.csv", "id,cityname,wgs84_经度,wgs84_纬度\n1,南昌市,0.5,10.5\n");
    const std::string what = error_of();
    EXPECT_NE(what.find("b.csv"), std::string::npos) << what;
    EXPECT_NE(what.find("lacks the column(s) 行业大类"), std::string::npos) << what;
    EXPECT_NE(what.find("id, cityname, wgs84_经度, wgs84_纬度"), std::string::npos) << what;
}

TEST_F(PoiCountsTest, HeadersInNeitherVariantAreAnError) {
    write("a.csv", "name,lon,lat\nx,0.5,10.5\n");
    const std::string what = error_of();
    EXPECT_NE(what.find(dir_.path().string()), std::string::npos) << what;
    EXPECT_NE(what.find("name, lon, lat"), std::string::npos) << what;
}

TEST_F(PoiCountsTest, UnparsableCoordinateIsAnErrorNamingFileAndLine) {
    write("a.csv", std::string(kChineseHeader) +
                       "1,九江市,餐饮服务,bad,10.5\n"  // filtered out by city: not parsed
                       "2,南昌市,餐饮服务,0.5,10.5\n"
                       "3,南昌市,餐饮服务,0.5x,10.5\n");
    const std::string what = error_of();
    EXPECT_NE(what.find("a.csv"), std::string::npos) << what;
    EXPECT_NE(what.find("line 4"), std::string::npos) << what;
    EXPECT_NE(what.find("0.5x"), std::string::npos) << what;
}

TEST_F(PoiCountsTest, RowWithTooManyFieldsIsAnError) {
    write("a.csv", std::string(kChineseHeader) + "1,南昌市,餐饮服务,0.5,10.5,extra\n");
    EXPECT_NE(error_of().find("line 2 has 6 fields"), std::string::npos);
}

TEST_F(PoiCountsTest, FolderWithoutCsvOrMissingFolderIsAnError) {
    write("notes.txt", "not a table\n");
    EXPECT_NE(error_of().find("no .csv files found"), std::string::npos);
    core::NullProgress progress;
    EXPECT_THROW(count_pois(dir_.path() / "nope", small_grid(), schema_, "", progress), Error);
}

TEST_F(PoiCountsTest, AbsentCategoriesGiveZeroChannels) {
    write("a.csv", std::string(kChineseHeader) + "1,南昌市,餐饮服务,0.5,10.5\n");
    const PoiCounts counts = count();
    std::int64_t others = 0;
    for (std::size_t i = 0; i < counts.counts.size(); ++i) {
        others += (i % 21 == kCatering) ? 0 : counts.counts[i];
    }
    EXPECT_EQ(others, 0);
    EXPECT_EQ(std::count(counts.category_present.begin(), counts.category_present.end(), true), 1);
}

}  // namespace
}  // namespace zoomdiff::poi
