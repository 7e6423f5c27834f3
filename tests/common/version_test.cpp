#include "common/version.h"

#include <gtest/gtest.h>

namespace cnm {
namespace {

TEST(Version, ParsesAgentCiliumAndDebianForms) {
  EXPECT_EQ(Version::parse("7.24.1")->str(), "7.24.1");
  EXPECT_EQ(Version::parse("v1.14.2")->str(), "1.14.2");
  EXPECT_EQ(Version::parse("1:7.50.3-1")->str(), "7.50.3");
  EXPECT_EQ(Version::parse("1:7.50.3-1")->suffix, "-1");
  EXPECT_EQ(Version::parse("1.6.0-rc3")->str(), "1.6.0");
  EXPECT_EQ(Version::parse(" 6.14 \n")->str(), "6.14");
}

TEST(Version, RejectsWhatIsNotAVersion) {
  for (const char* bad : {"", "v", "latest", ".1", "abc1.2", "99999999999.1", "1:"})
    EXPECT_FALSE(Version::parse(bad).has_value()) << bad;
}

TEST(Version, ComparesNumericallyWithMissingPartsAsZero) {
  EXPECT_EQ(V("1.6"), V("1.6.0"));
  EXPECT_LT(V("7.9.0"), V("7.24.1"));
  EXPECT_LT(V("7.24.0"), V("7.24.1"));
  EXPECT_GT(V("7.100"), V("7.59"));
  EXPECT_LT(V("6.18"), V("7.0"));
}

}  // namespace
}  // namespace cnm
