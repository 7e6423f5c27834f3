// bounded_utf8 (common/printable.h): what a report carries from host files, valid UTF-8 and no
// longer than its bound, cut at a character boundary with an ellipsis.
#include "common/printable.h"

#include <gtest/gtest.h>

namespace cnm {
namespace {

const std::string kEllipsis = "\xe2\x80\xa6";

TEST(BoundedUtf8, ShortTextIsKeptAndInvalidBytesReplaced) {
  EXPECT_EQ(bounded_utf8("Ubuntu 20.04", 256), "Ubuntu 20.04");
  EXPECT_EQ(bounded_utf8("", 0), "");
  EXPECT_EQ(bounded_utf8("a\xff"
                         "b",
                         256),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(bounded_utf8("\xc3\xa9", 2), "\xc3\xa9");  // exactly at the bound
}

TEST(BoundedUtf8, LongTextIsCutAtACharacterWithAnEllipsis) {
  const std::string cut = bounded_utf8(std::string(5000, 'x'), 128);
  EXPECT_EQ(cut, std::string(125, 'x') + kEllipsis);
  // A two-byte character is never split: 'é' x 100 in 11 bytes is four of them and "…".
  std::string e;
  for (int i = 0; i < 100; ++i) e += "\xc3\xa9";
  EXPECT_EQ(bounded_utf8(e, 11), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" + kEllipsis);
  // Replacements count at their replaced size: 0xff x 10 in 12 bytes is three U+FFFD and "…".
  EXPECT_EQ(bounded_utf8(std::string(10, '\xff'), 12),
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" + kEllipsis);
  for (std::size_t max = 0; max < 20; ++max) EXPECT_LE(bounded_utf8(e, max).size(), max) << max;
}

}  // namespace
}  // namespace cnm
