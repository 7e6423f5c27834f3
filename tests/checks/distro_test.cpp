#include "checks/distro.h"

#include <gtest/gtest.h>

namespace cnm {
namespace {

Distro D(const char* id, const char* version) {
  Distro d;
  d.id = id;
  d.version_id = version;
  return d;
}

TEST(DistroSupport, AppliesTheSeedTableAtItsEdges) {
  struct Case {
    const char* id;
    const char* version;
    Support expected;
  } cases[] = {
      {"ubuntu", "16.04", Support::Supported},
      {"ubuntu", "15.10", Support::BelowMinimum},
      {"debian", "9", Support::Supported},
      {"debian", "8", Support::BelowMinimum},
      {"debian", "", Support::Rolling},
      {"debian", "-1", Support::VersionUnknown},  // there but not a version: not rolling
      {"debian", "x", Support::VersionUnknown},
      {"fedora", "26", Support::Supported},
      {"fedora", "25", Support::BelowMinimum},
      {"sles", "15.5", Support::Supported},
      {"sles", "12.5", Support::BelowMinimum},
      {"sles_sap", "15.4", Support::Supported},  // SLES for SAP Applications
      {"sles_sap", "12.5", Support::BelowMinimum},
      {"opensuse-leap", "15.0", Support::Supported},
      {"opensuse", "42.3", Support::BelowMinimum},
      {"opensuse-tumbleweed", "20240101", Support::Rolling},
      {"amzn", "2", Support::Supported},
      {"amzn", "2.0", Support::Supported},  // Amazon Linux 2 release candidate (2017)
      {"amzn", "2.1", Support::Unlisted},
      {"amzn", "2016.03", Support::Supported},
      {"amzn", "2016.02", Support::BelowMinimum},
      {"amzn", "2023", Support::Unlisted},
      {"centos", "7.6.1810", Support::Supported},
      {"centos", "7.5.1804", Support::BelowMinimum},
      {"centos", "7", Support::VersionUnknown},
      {"rhel", "7.6", Support::Supported},
      {"rhel", "9.2", Support::Supported},
      {"rhel", "6.10", Support::BelowMinimum},
      {"rocky", "9.2", Support::Supported},  // a rebuild of RHEL: judged as RHEL
      {"almalinux", "7.5", Support::BelowMinimum},
      {"ol", "7.9", Support::Supported},
      {"ubuntu", "", Support::VersionUnknown},
      {"", "", Support::Unknown},
  };
  for (const auto& c : cases)
    EXPECT_EQ(evaluate_distro(D(c.id, c.version)).support, c.expected) << c.id << " " << c.version;
}

TEST(DistroSupport, FlagsRhel7ForBackportAndDns) {
  EXPECT_TRUE(evaluate_distro(D("centos", "7.9.2009")).rhel7);
  EXPECT_TRUE(evaluate_distro(D("rhel", "7")).rhel7);
  EXPECT_FALSE(evaluate_distro(D("rhel", "8.6")).rhel7);
  EXPECT_FALSE(evaluate_distro(D("fedora", "7")).rhel7);
}

}  // namespace
}  // namespace cnm
