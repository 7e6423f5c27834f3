// The binaries that ship are static: no loader, no shared library, nothing of the build host's
// C library version (so they start on glibc 2.17). And the glibc functions that consult the
// name-service switch (NSS) at run time, which a static binary can only answer from files, are
// linked in only where third-party code needs them and cnmkit has pinned NSS to files
// (common/nss_files.h).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "tests/packaging/shipped.h"
#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

TEST(StaticBinaries, EveryShippedBinaryNeedsNoLoaderAndNoSharedLibrary) {
  for (const auto& b : shipped_binaries()) {
    const auto f = elf_facts(b.built);
    ASSERT_TRUE(f.is_elf) << b.built;
    EXPECT_FALSE(f.has_interpreter) << b.name << " has a PT_INTERP";
    EXPECT_TRUE(f.needed.empty()) << b.name << " needs " << f.needed.front();
    const auto file = run({"file", "-b", b.built.string()});
    EXPECT_NE(file.out.find("static"), std::string::npos) << b.name << ": " << file.out;
  }
}

// Functions that go through NSS (the users of nss/databases.def). dlopen itself is in every
// static glibc binary (glibc's NSS module loader and its iconv modules reference it): what
// matters is that nothing calls NSS with a source it would have to load.
const std::set<std::string>& nss_functions() {
  static const std::set<std::string> s = {
      "getpwnam",      "getpwnam_r",    "getpwuid",      "getpwuid_r",     "getpwent",
      "getpwent_r",    "getgrnam",      "getgrnam_r",    "getgrgid",       "getgrgid_r",
      "getgrent",      "getgrent_r",    "getgrouplist",  "initgroups",     "getspnam",
      "getaddrinfo",   "getnameinfo",   "gethostbyname", "gethostbyname2", "gethostbyaddr",
      "getservbyname", "getservbyport", "getprotobyname"};
  return s;
}

// What each binary may contain, and why.
const std::map<std::string, std::set<std::string>>& justified() {
  static const std::map<std::string, std::set<std::string>> m = {
      // The preflight: none at all.
      {"cnmctl", {}},
      // cpp-httplib's TCP client code (the health check connects to a unix socket only).
      {"cnmctl-installer", {"getaddrinfo", "getnameinfo"}},
      // libsemanage enumerates users for home-directory file contexts at every commit
      // (genhomedircon), libaudit resolves its host name, libcap-ng can set groups; NSS is
      // pinned to files first (SelinuxPolicyStore.* commit with nsswitch.conf naming systemd,
      // whose module crashed the static binary before the pin).
      {"cnmctl-selinux",
       {"getpwnam", "getpwnam_r", "getpwuid", "getpwuid_r", "getpwent", "getpwent_r", "getgrnam",
        "getgrnam_r", "getgrgid", "getgrgid_r", "getgrouplist", "initgroups", "getaddrinfo"}},
      // cpp-httplib's TCP listener code (the daemon listens on a unix socket only).
      {"cnm-probe", {"getaddrinfo", "getnameinfo"}},
  };
  return m;
}

TEST(StaticBinaries, NameServiceFunctionsOnlyWhereJustified) {
  for (const auto& b : shipped_binaries()) {
    const auto nm = run({"nm", "--defined-only", b.built.string()});
    ASSERT_EQ(nm.exit_code, 0) << nm.err;
    std::set<std::string> found;
    std::istringstream lines(nm.out);
    for (std::string addr, type, name; lines >> addr >> type >> name;)
      if ((type == "T" || type == "W" || type == "t" || type == "i") && nss_functions().count(name))
        found.insert(name);
    const auto& allowed = justified().at(b.name);
    for (const auto& f : found)
      EXPECT_TRUE(allowed.count(f)) << b.name << " links " << f << " (NSS at run time)";
  }
}

}  // namespace
}  // namespace cnm::test
