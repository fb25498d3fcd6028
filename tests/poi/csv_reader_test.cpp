#include "poi/detail/csv_reader.hpp"

#include <fstream>
#include <string>
#include <vector>

#include "support/support.hpp"
#include <gtest/gtest.h>

#include "zoomdiff/core/error.hpp"

namespace zoomdiff::poi::detail {
namespace {

std::vector<std::vector<std::string>> read_all(const std::string& text) {
    CsvReader reader(text, "test.csv");
    std::vector<std::vector<std::string>> records;
    std::vector<std::string_view> fields;
    while (reader.next(fields)) {
        records.emplace_back(fields.begin(), fields.end());
    }
    return records;
}

using Records = std::vector<std::vector<std::string>>;

TEST(CsvReaderTest, PlainFieldsAndLineEnds) {
    EXPECT_EQ(read_all("a,b,c\n1,2,3\n"), (Records{{"a", "b", "c"}, {"1", "2", "3"}}));
    EXPECT_EQ(read_all("a,b\r\n1,2\r\n"), (Records{{"a", "b"}, {"1", "2"}}));
    EXPECT_EQ(read_all("a,b\r1,2"), (Records{{"a", "b"}, {"1", "2"}}));
    // No final line end; empty fields anywhere, including a trailing one.
    EXPECT_EQ(read_all("a,,c\n,2,"), (Records{{"a", "", "c"}, {"", "2", ""}}));
}

TEST(CsvReaderTest, QuotedFieldsHoldCommasLineBreaksAndDoubledQuotes) {
    const std::string text =
        "id,location,name\r\n"
        "1,\"115.9,28.6\",\"say \"\"hi\"\"\"\r\n"
        "2,\"two\r\nlines\",x\r\n";
    EXPECT_EQ(read_all(text), (Records{{"id", "location", "name"},
                                       {"1", "115.9,28.6", "say \"hi\""},
                                       {"2", "two\r\nlines", "x"}}));
}

TEST(CsvReaderTest, QuoteRulesOfPandas) {
    // A quote inside an unquoted field is literal; text after a closing quote is appended.
    EXPECT_EQ(read_all("a\"b,\"c\"d\n"), (Records{{"a\"b", "cd"}}));
    // An empty quoted field, and a quoted field at the end of the text.
    EXPECT_EQ(read_all("\"\",\"z\""), (Records{{"", "z"}}));
}

TEST(CsvReaderTest, BomIsStrippedAndBlankLinesSkipped) {
    EXPECT_EQ(read_all("\xEF\xBB\xBFid,v\n\n1,2\r\n\r\n\n3,4\n\n"),
              (Records{{"id", "v"}, {"1", "2"}, {"3", "4"}}));
}

TEST(CsvReaderTest, RecordLineCountsPhysicalLines) {
    CsvReader reader("h\n\"a\nb\"\n\nc\n", "test.csv");
    std::vector<std::string_view> fields;
    ASSERT_TRUE(reader.next(fields));
    EXPECT_EQ(reader.record_line(), 1U);
    ASSERT_TRUE(reader.next(fields));
    EXPECT_EQ(reader.record_line(), 2U);
    ASSERT_TRUE(reader.next(fields));
    EXPECT_EQ(reader.record_line(), 5U);
    EXPECT_EQ(fields.at(0), "c");
    EXPECT_FALSE(reader.next(fields));
}

TEST(CsvReaderTest, UnterminatedQuoteIsAnErrorNamingTheFile) {
    CsvReader reader("a,b\n1,\"open\n", "poi/x.csv");
    std::vector<std::string_view> fields;
    ASSERT_TRUE(reader.next(fields));
    try {
        reader.next(fields);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("poi/x.csv"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    }
}

TEST(CsvReaderTest, HeaderOnlyReadsTheFirstRecord) {
    test::TempDir dir;
    const auto path = dir.path() / "h.csv";
    std::ofstream(path, std::ios::binary) << "\xEF\xBB\xBF\r\n\"multi\r\nline\",b\r\n1,2\r\n";
    EXPECT_EQ(CsvReader::read_header(path), (std::vector<std::string>{"multi\r\nline", "b"}));
    auto whole = CsvReader::from_file(path);
    std::vector<std::string_view> fields;
    ASSERT_TRUE(whole.next(fields));
    ASSERT_TRUE(whole.next(fields));
    EXPECT_EQ(whole.record_line(), 4U);
    EXPECT_EQ(fields, (std::vector<std::string_view>{"1", "2"}));
    EXPECT_THROW(CsvReader::read_header(dir.path() / "missing.csv"), Error);
}

}  // namespace
}  // namespace zoomdiff::poi::detail
