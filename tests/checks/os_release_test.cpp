#include "checks/os_release.h"

#include <gtest/gtest.h>

namespace cnm {
namespace {

TEST(OsRelease, FollowsTheSpecQuotingAndEscapes) {
  const auto kv = parse_os_release(
      "# comment\n"
      "NAME=\"Ubuntu\"\n"
      "ID=ubuntu\n"
      "ID_LIKE='debian'\n"
      "PRETTY_NAME=\"Quote \\\" dollar \\$ backslash \\\\ tick \\` other \\n\"\n"
      "VERSION_ID=\"22.04\"\n"
      "EMPTY=\n");
  EXPECT_EQ(kv.get("NAME"), "Ubuntu");
  EXPECT_EQ(kv.get("ID"), "ubuntu");
  EXPECT_EQ(kv.get("ID_LIKE"), "debian");
  EXPECT_EQ(kv.get("PRETTY_NAME"), "Quote \" dollar $ backslash \\ tick ` other \\n");
  EXPECT_EQ(kv.get("VERSION_ID"), "22.04");
  EXPECT_TRUE(kv.has("EMPTY"));
  EXPECT_EQ(kv.malformed_lines, 0);
}

TEST(OsRelease, SkipsWhatIsNotAnAssignmentAndKeepsTheRest) {
  const auto kv = parse_os_release(
      "ID=fedora\r\n"
      "this is not an assignment\n"
      "=value\n"
      "1KEY=x\n"
      "UNTERMINATED=\"open\n"
      "VERSION_ID=26 # trailing comment\n"
      "export VARIANT=server\n"
      "  INDENTED=yes  \n"
      "ID=fedora-last-wins\n");
  EXPECT_EQ(kv.get("ID"), "fedora-last-wins");
  EXPECT_EQ(kv.get("VERSION_ID"), "26");
  EXPECT_EQ(kv.get("VARIANT"), "server");
  EXPECT_EQ(kv.get("INDENTED"), "yes");
  EXPECT_EQ(kv.malformed_lines, 4);
}

TEST(OsRelease, SurvivesBinaryAndEmptyInput) {
  EXPECT_TRUE(parse_os_release("").values.empty());
  const std::string junk("\0\xff\xfe=\n\0ID=x\n", 11);
  const auto kv = parse_os_release(junk);
  EXPECT_FALSE(kv.has("ID"));  // a line with a NUL is not trusted
  EXPECT_GE(kv.malformed_lines, 1);
  EXPECT_EQ(parse_os_release("NO_NEWLINE=1").get("NO_NEWLINE"), "1");
}

TEST(OsRelease, AByteOrderMarkIsNotPartOfTheFirstKey) {
  const auto kv = parse_os_release("\xef\xbb\xbfID=ubuntu\nVERSION_ID=\"18.04\"\n");
  EXPECT_EQ(kv.get("ID"), "ubuntu");
  EXPECT_EQ(kv.get("VERSION_ID"), "18.04");
  EXPECT_EQ(kv.malformed_lines, 0);
  // Only at the start: elsewhere it is a malformed line as before.
  EXPECT_EQ(parse_os_release("ID=a\n\xef\xbb\xbfX=1\n").malformed_lines, 1);
}

TEST(ReleaseLine, ReadsLegacyReleaseFiles) {
  auto r = parse_release_line("CentOS Linux release 7.6.1810 (Core) \n");
  EXPECT_EQ(r.name, "CentOS Linux");
  EXPECT_EQ(r.version, "7.6.1810");
  r = parse_release_line("Red Hat Enterprise Linux Server release 7.9 (Maipo)");
  EXPECT_EQ(r.version, "7.9");
  r = parse_release_line("Amazon Linux AMI release 2016.03");
  EXPECT_EQ(r.name, "Amazon Linux AMI");
  EXPECT_EQ(r.version, "2016.03");
  r = parse_release_line("Something without a version");
  EXPECT_EQ(r.version, "");
}

}  // namespace
}  // namespace cnm
