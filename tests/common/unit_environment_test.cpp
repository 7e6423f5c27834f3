// An Environment= value read as systemd (233 and later) reads it: the cases of its
// extract_first_word, cunescape_one, specifier_printf and env_assignment_is_valid.
#include "common/unit_environment.h"

#include <gtest/gtest.h>

namespace cnm {
namespace {

using Assignments = std::vector<std::pair<std::string, std::string>>;

Assignments read(std::string_view value) {
  return environment_assignments(value, "datadog-agent-sysprobe.service");
}

TEST(UnitEnvironment, WordsAreSplitOnBlanksAndQuotesMayOpenAnywhere) {
  EXPECT_EQ(read("A=1 B=2\tC=3"), (Assignments{{"A", "1"}, {"B", "2"}, {"C", "3"}}));
  EXPECT_EQ(read("\"A=a b\" 'B=c d'"), (Assignments{{"A", "a b"}, {"B", "c d"}}));
  // A quote inside a word: quoted and unquoted parts join (systemd 233 and later).
  EXPECT_EQ(read("A=\"5.10.0 5.4.0\"x B=y'z w'"),
            (Assignments{{"A", "5.10.0 5.4.0x"}, {"B", "yz w"}}));
  EXPECT_EQ(read("A=\"\""), (Assignments{{"A", ""}}));
}

TEST(UnitEnvironment, CEscapesAreDecodedInsideQuotesAndOut) {
  EXPECT_EQ(read(R"(A=a\sb "B=\x41\t\"q\"" 'C=\u00e9\101')"), (Assignments{{"A", "a b"},
                                                                           {"B", "A\t\"q\""},
                                                                           {"C",
                                                                            "\xc3\xa9"
                                                                            "A"}}));
  EXPECT_EQ(read(R"(A=\U0001F600 B=\\)"), (Assignments{{"A", "\xf0\x9f\x98\x80"}, {"B", "\\"}}));
  EXPECT_EQ(read(R"(A=\x4A\x4b)"), (Assignments{{"A", "JK"}}));
}

// An unknown escape, a NUL, an unterminated quote or a trailing backslash ends the line: the
// words before it stay, it and the rest are ignored.
TEST(UnitEnvironment, ASyntaxErrorKeepsOnlyTheWordsBeforeIt) {
  EXPECT_EQ(read(R"(A=1 B=\q C=3)"), (Assignments{{"A", "1"}}));
  EXPECT_EQ(read(R"(A=1 B=\x00 C=3)"), (Assignments{{"A", "1"}}));
  EXPECT_EQ(read(R"(A=1 B=\000)"), (Assignments{{"A", "1"}}));
  EXPECT_EQ(read(R"(A=1 B=\400)"), (Assignments{{"A", "1"}}));  // past 255
  EXPECT_EQ(read(R"(A=1 B=\x4)"), (Assignments{{"A", "1"}}));
  EXPECT_EQ(read(R"(A=1 B=\UFFFFFFFF)"), (Assignments{{"A", "1"}}));
  EXPECT_EQ(read(R"(A=1 B=\u12 C=3)"), (Assignments{{"A", "1"}}));
  EXPECT_EQ(read(R"(A=1 B=\x4G C=3)"), (Assignments{{"A", "1"}}));
  EXPECT_EQ(read("A=1 \"B=2 C=3"), (Assignments{{"A", "1"}}));
  EXPECT_EQ(read("A=1 B=2\\"), (Assignments{{"A", "1"}}));
  // A backslash before a blank is no escape systemd knows either.
  EXPECT_EQ(read("A=1 B=a\\ b"), (Assignments{{"A", "1"}}));
}

TEST(UnitEnvironment, SpecifiersAreExpandedAfterUnescaping) {
  EXPECT_EQ(read("A=100%% B=%n C=%N D=%p E=[%i] F=%t/x"),
            (Assignments{{"A", "100%"},
                         {"B", "datadog-agent-sysprobe.service"},
                         {"C", "datadog-agent-sysprobe"},
                         {"D", "datadog-agent-sysprobe"},
                         {"E", "[]"},
                         {"F", "/run/x"}}));
  EXPECT_EQ(read(R"(A=\x25n)"), (Assignments{{"A", "datadog-agent-sysprobe.service"}}));
  EXPECT_EQ(environment_assignments("A=%p/%i/%j", "probe-x@eth0.service"),
            (Assignments{{"A", "probe-x/eth0/x"}}));
  // The unescaped name parts: '-' is '/', \xHH a byte; another escape fails the word.
  EXPECT_EQ(environment_assignments("A=%P B=%I C=%J D=%f", "a-b@c\\x2dd-e.service"),
            (Assignments{{"A", "a/b"}, {"B", "c-d/e"}, {"C", "b"}, {"D", "/c-d/e"}}));
  EXPECT_EQ(environment_assignments("A=%f B=%P", "x-y.service"),
            (Assignments{{"A", "/x/y"}, {"B", "x/y"}}));
  EXPECT_EQ(environment_assignments("A=%P B=%p", "a\\q.service"), (Assignments{{"B", "a\\q"}}));
  EXPECT_EQ(environment_assignments("A=%f B=1", "-a.service"), (Assignments{{"B", "1"}}));
  for (const char* unit : {"a--b.service", "a-.-b.service", "a-..-b.service"})
    EXPECT_EQ(environment_assignments("A=%f B=1", unit), (Assignments{{"B", "1"}})) << unit;
  EXPECT_EQ(environment_assignments("A=%P", "a\\x00b-c.service"), (Assignments{{"A", "a"}}));
  // A letter systemd does not know drops its word alone; the host's run-time values stay as
  // written; a '%' before anything else, or at the end, stays.
  EXPECT_EQ(read("A=%Z B=2"), (Assignments{{"B", "2"}}));
  EXPECT_EQ(read("A=%H B=50%- C=5% D=%c"),
            (Assignments{{"A", "%H"}, {"B", "50%-"}, {"C", "5%"}, {"D", "%c"}}));
}

TEST(UnitEnvironment, OnlyValidAssignmentsSetAVariable) {
  EXPECT_EQ(read("NOEQUALS =x 1A=2 A-B=3 _ok=4 A=5"), (Assignments{{"_ok", "4"}, {"A", "5"}}));
  // The value must be UTF-8 (a raw byte from \x or octal may break it); each word on its own.
  EXPECT_EQ(read(R"(A=\xff B=\uD800 C=\uFDD0 D=ok)"), (Assignments{{"D", "ok"}}));
  EXPECT_EQ(read(""), Assignments{});
  EXPECT_EQ(read(" \t "), Assignments{});
}

}  // namespace
}  // namespace cnm
