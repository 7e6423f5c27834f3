#include "checks/kernel_release.h"

#include <gtest/gtest.h>

namespace cnm {
namespace {

struct Case {
  const char* text;
  unsigned major, minor, patch;
  const char* extra;
};

TEST(KernelRelease, ParsesTheFormsDistributionsShip) {
  const Case cases[] = {
      {"4.4.0-210-generic", 4, 4, 0, "-210-generic"},
      {"3.10.0-957.el7.x86_64", 3, 10, 0, "-957.el7.x86_64"},
      {"5.15.107+", 5, 15, 107, "+"},
      {"4.19.57", 4, 19, 57, ""},
      {"6.1.0-rc7", 6, 1, 0, "-rc7"},
      {"4.4.0-ovh", 4, 4, 0, "-ovh"},
      {"5.4", 5, 4, 0, ""},
      {"6.18.44-fc-v782", 6, 18, 44, "-fc-v782"},
      {"4.9.337-1.amzn2.x86_64", 4, 9, 337, "-1.amzn2.x86_64"},
      {"5.10.0-26-amd64\n", 5, 10, 0, "-26-amd64"},
      {"2.6.32-754.el6.x86_64", 2, 6, 32, "-754.el6.x86_64"},
      {"5.4.0.rc1", 5, 4, 0, ".rc1"},
  };
  for (const auto& c : cases) {
    const auto k = KernelRelease::parse(c.text);
    ASSERT_TRUE(k) << c.text;
    EXPECT_EQ(k->major, c.major) << c.text;
    EXPECT_EQ(k->minor, c.minor) << c.text;
    EXPECT_EQ(k->patch, c.patch) << c.text;
    EXPECT_EQ(k->extra, c.extra) << c.text;
  }
}

TEST(KernelRelease, RejectsWithAReasonNeverCrashes) {
  for (const char* bad : {"", "   ", "garbage", "v5.4.0", "5", "5.", ".5.4", "5.x.1",
                          "99999999999.1.0", "5.4.0 extra words", "5.4\x01"}) {
    std::string why;
    EXPECT_FALSE(KernelRelease::parse(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  EXPECT_FALSE(KernelRelease::parse(std::string(300, '5')));
}

TEST(KernelRelease, ComparesAndFindsRhelBuilds) {
  const auto k = *KernelRelease::parse("3.10.0-957.27.2.el7.x86_64");
  EXPECT_EQ(k.build(), 957u);
  EXPECT_EQ(k.el_tag(), "el7");
  EXPECT_FALSE(k.at_least(4, 4, 0));
  EXPECT_EQ(KernelRelease::parse("4.18.0-372.el8_6.x86_64")->el_tag(), "el8");
  EXPECT_EQ(KernelRelease::parse("4.4.0-ovh")->build(), std::nullopt);
  EXPECT_EQ(KernelRelease::parse("5.15.107+")->el_tag(), "");
  // Sublevels above 255 (4.9.337) must not wrap as KERNEL_VERSION() would.
  EXPECT_TRUE(KernelRelease::parse("4.9.337")->at_least(4, 9, 256));
  EXPECT_FALSE(KernelRelease::parse("4.9.337")->at_least(4, 10, 0));
  EXPECT_TRUE(KernelRelease::parse("4.4.0")->at_least(4, 4, 0));
  EXPECT_FALSE(KernelRelease::parse("4.3.99")->at_least(4, 4, 0));
}

}  // namespace
}  // namespace cnm
