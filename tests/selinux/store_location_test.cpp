// Where the policy store is (selinux/store_location.h): semanage.conf's store-root as
// libsemanage's scanner reads it, the RHEL/CentOS 7 layout, and hostile files under --root.
// Status, the preflight's security.selinux check and `cnmctl selinux install` must all find
// the store there. No privileges needed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "common/layout.h"
#include "selinux/module_install.h"
#include "selinux/status.h"
#include "selinux/store_location.h"
#include "tests/support/test_support.h"

namespace cnm::selinux {
namespace {

using test::TempDir;

const std::string kModule = "system_probe_policy";

std::optional<std::string> store_root(std::string_view semanage_conf) {
  return parse_semanage_conf(semanage_conf).store_root;
}

TEST(SelinuxStoreRoot, ParsesLikeLibsemanage) {
  EXPECT_EQ(store_root(""), std::nullopt);
  EXPECT_EQ(store_root("module-store = direct\nexpand-check=0\n"), std::nullopt);
  EXPECT_EQ(store_root("module-store = direct\nstore-root=/etc/selinux\n"), "/etc/selinux");
  EXPECT_EQ(store_root("  store-root \t=\t /etc/selinux  \r\n"), "/etc/selinux");
  EXPECT_EQ(store_root("# store-root = /commented\n   # store-root=/x\n"), std::nullopt);
  // The last assignment wins (conf-parse.y frees the previous value).
  EXPECT_EQ(store_root("store-root=/a\nstore-root = /b\n"), "/b");
  // Blocks hold path/args for helper programs; whatever is in them is not a store root.
  EXPECT_EQ(store_root("[verify kernel]\npath = /usr/bin/true\nstore-root = /in/block\n"
                       "args = $@\n[end]\n"),
            std::nullopt);
  EXPECT_EQ(store_root("[setfiles]\npath = /sbin/setfiles\nargs = -q -c $@ $<\n[end]\n"
                       "store-root=/after/block\n[load_policy]\npath=/x\n[end]\n"),
            "/after/block");
  // After '=' the scanner takes the whole line: '#' is part of the value there.
  EXPECT_EQ(store_root("store-root = /etc/selinux # moved\n"), "/etc/selinux # moved");
  EXPECT_EQ(store_root("store-root = \" /quoted dir\"\n"), " /quoted dir");
  EXPECT_EQ(store_root("store-root =\n"), "");
  EXPECT_EQ(store_root("store-root = \"\"\n"), "");
  EXPECT_EQ(store_root("store-rootx = /other/key\n"), std::nullopt);
}

// /etc/selinux/config as libselinux reads it at boot (selinux_config.c), with the hand edits seen
// on real hosts: blanks after '=' (`sed 's/=/= /'`, which libselinux 3.4 began to accept after
// it broke rpm), a line appended with `echo >>`, capitals.
TEST(SelinuxConfigFile, ReadsAsLibselinuxDoesAtBoot) {
  auto mode = [](std::string_view t) { return parse_selinux_config(t).mode; };
  auto type = [](std::string_view t) { return parse_selinux_config(t).policy_type; };
  EXPECT_EQ(mode("SELINUX=enforcing\nSELINUXTYPE=targeted\n"), "enforcing");
  EXPECT_EQ(mode("SELINUX= enforcing\n"), "enforcing");
  EXPECT_EQ(mode("SELINUX=\tPermissive\r\n"), "permissive");
  EXPECT_EQ(mode("SELINUX=Enforcing\n"), "enforcing");
  EXPECT_EQ(mode("SELINUX=DISABLED # for now\n"), "disabled");
  // The first line naming a mode decides; one naming none is passed over.
  EXPECT_EQ(mode("SELINUX=enforcing\nSELINUXTYPE=targeted\nSELINUX=disabled\n"), "enforcing");
  EXPECT_EQ(mode("SELINUX=enforce\nSELINUX=permissive\n"), "permissive");
  // Only in column 0, in capitals; comments and other keys are not it.
  EXPECT_EQ(mode(" SELINUX=enforcing\n"), "");
  EXPECT_EQ(mode("selinux=enforcing\n"), "");
  EXPECT_EQ(mode("# SELINUX=enforcing\nSELINUXTYPE=enforcing\n"), "");
  EXPECT_EQ(mode("SELINUX=\"enforcing\"\n"), "");  // no shell quoting at boot
  EXPECT_EQ(mode(""), "");

  EXPECT_EQ(type("SELINUXTYPE=targeted\n"), "targeted");
  EXPECT_EQ(type("SELINUXTYPE= targeted\n"), "targeted");
  EXPECT_EQ(type("  selinuxtype=mls \t\r\n"), "mls");
  EXPECT_EQ(type("SELINUXTYPE=default\nSELINUXTYPE=mls\n"), "mls");  // the last one
  EXPECT_EQ(type("# SELINUXTYPE=mls\nSELINUXTYPE=targeted\n"), "targeted");
  EXPECT_EQ(type("SELINUXTYPE=\"targeted\"\n"), "\"targeted\"");  // kept, as libselinux keeps it
  EXPECT_EQ(type(std::string_view("SELINUXTYPE=mls\0x\n", 18)), "mls");  // a C string
  EXPECT_EQ(type("SELINUX=enforcing\n"), "targeted");                    // libselinux's default
}

TEST(SelinuxStoreRoot, NormalizesToAHostPath) {
  EXPECT_EQ(normalize_store_root("/etc/selinux"), "/etc/selinux");
  EXPECT_EQ(normalize_store_root("/etc/selinux/"), "/etc/selinux");
  EXPECT_EQ(normalize_store_root("etc/selinux"), "/etc/selinux");  // relative: from "/"
  EXPECT_EQ(normalize_store_root("/../../tmp/x"), "/tmp/x");       // never above the root
  EXPECT_EQ(normalize_store_root("a/../../../b//./c"), "/b/c");
  EXPECT_EQ(normalize_store_root("/"), "/");
}

// A fake host under a temporary root: config, semanage.conf, and a module folder in a store.
struct FakeHost {
  TempDir root;
  Layout layout = default_layout(root.path());

  explicit FakeHost(const std::string& type = "targeted") {
    test::write_file(root / "etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=" + type + "\n");
    test::write_file(root / "sys/fs/selinux/enforce", "1");
  }
  void semanage_conf(const std::string& text) {
    test::write_file(root / "etc/selinux/semanage.conf", text);
  }
  // What libsemanage leaves for a module at priority 400, plus install's version marker.
  void module_in(const std::string& store) {
    test::write_file(root / (store.substr(1) + "/active/modules/100/base/cil"), "x");
    test::write_file(layout.at(version_marker(store, kModule)), "0.1.0\n");
  }
  StoreLocation location() const { return store_location(HostFs(root.path())); }
};

// A policy type written with a blank after '=' is the same store: the module found there.
TEST(SelinuxStoreLocation, PolicyTypeAfterABlankIsTheSameStore) {
  FakeHost h;
  test::write_file(h.root / "etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE= targeted\n");
  h.module_in("/var/lib/selinux/targeted");
  EXPECT_EQ(h.location().path, "/var/lib/selinux/targeted");
  EXPECT_TRUE(read_status(h.layout).module_installed);
}

TEST(SelinuxStoreLocation, DefaultIsVarLibSelinux) {
  FakeHost h;
  const auto loc = h.location();
  EXPECT_EQ(loc.policy_type, "targeted");
  EXPECT_EQ(loc.store_root, "/var/lib/selinux");
  EXPECT_EQ(loc.path, "/var/lib/selinux/targeted");
  EXPECT_EQ(loc.origin, "default");
  EXPECT_EQ(loc.problem, "");
  h.semanage_conf("module-store = direct\nexpand-check=0\n");  // Debian's: no store-root
  EXPECT_EQ(h.location().path, "/var/lib/selinux/targeted");
  h.module_in("/var/lib/selinux/targeted");
  const auto s = read_status(h.layout);
  EXPECT_TRUE(s.store_present);
  EXPECT_TRUE(s.module_installed);
  EXPECT_EQ(s.store.path, "/var/lib/selinux/targeted");
}

// Fedora CoreOS / RHCOS (rpm-ostree appends store-root=/etc/selinux): the module is in
// /etc/selinux/targeted/active, and status must say so.
TEST(SelinuxStoreLocation, StoreRootInSemanageConfIsWhereTheModuleIs) {
  FakeHost h;
  h.semanage_conf("module-store = direct\nstore-root=/etc/selinux\n");
  h.module_in("/etc/selinux/targeted");
  EXPECT_EQ(h.location().path, "/etc/selinux/targeted");
  const auto s = read_status(h.layout);
  EXPECT_EQ(s.store.path, "/etc/selinux/targeted");
  EXPECT_TRUE(s.store_present);
  EXPECT_TRUE(s.module_installed);
  EXPECT_EQ(s.module_version, "0.1.0");
  // A relative store-root is taken from "/": the same store.
  h.semanage_conf("store-root = etc/selinux/\n");
  EXPECT_EQ(h.location().path, "/etc/selinux/targeted");
  EXPECT_TRUE(read_status(h.layout).module_installed);
  // Anywhere else the conf says: that is where we look, and nowhere else.
  h.semanage_conf("[verify kernel]\npath = /bin/true\n[end]\nstore-root = /usr/lib/selinux\n");
  EXPECT_EQ(h.location().path, "/usr/lib/selinux/targeted");
  EXPECT_FALSE(read_status(h.layout).module_installed);
}

// RHEL/CentOS 7: the store is in /etc/selinux/TYPE/active although semanage.conf names no
// store-root; the default store root has none.
TEST(SelinuxStoreLocation, Rhel7LayoutWithoutStoreRoot) {
  FakeHost h;
  h.semanage_conf("module-store = direct\n");
  h.module_in("/etc/selinux/targeted");
  const auto loc = h.location();
  EXPECT_EQ(loc.path, "/etc/selinux/targeted");
  EXPECT_NE(loc.origin.find("RHEL/CentOS 7"), std::string::npos) << loc.origin;
  EXPECT_TRUE(read_status(h.layout).module_installed);
  // A store in the default place wins over a leftover in /etc (a RHEL 7 -> 8 upgrade).
  test::write_file(h.root / "var/lib/selinux/targeted/active/modules/100/base/cil", "x");
  EXPECT_EQ(h.location().path, "/var/lib/selinux/targeted");
  // So does a store-root the conf names.
  h.semanage_conf("store-root=/var/lib/selinux\n");
  EXPECT_EQ(h.location().origin.find("RHEL"), std::string::npos);
}

TEST(SelinuxStoreLocation, HostileSemanageConfNeitherBlocksNorEscapes) {
  FakeHost h;
  const auto conf = h.root / "etc/selinux/semanage.conf";
  // A FIFO: reported at once, never opened for a blocking read.
  ASSERT_EQ(::mkfifo(conf.c_str(), 0600), 0);
  auto loc = h.location();  // a hang is ctest's timeout
  EXPECT_NE(loc.problem.find("FIFO"), std::string::npos) << loc.problem;
  EXPECT_EQ(loc.store_root, "/var/lib/selinux");
  EXPECT_NE(read_status(h.layout).store.problem.find("FIFO"), std::string::npos);
  std::filesystem::remove(conf);

  // A link to /dev/zero is resolved inside the root, where there is no /dev/zero.
  std::filesystem::create_symlink("/dev/zero", conf);
  loc = h.location();
  EXPECT_EQ(loc.problem, "");
  EXPECT_EQ(loc.store_root, "/var/lib/selinux");
  // So is a relative link climbing to the host's /dev/zero: ".." stops at the root.
  std::filesystem::remove(conf);
  std::string up;
  for (auto p = conf.parent_path(); p != p.root_path(); p = p.parent_path()) up += "../";
  std::filesystem::create_symlink(up + "dev/zero", conf);
  loc = h.location();
  EXPECT_EQ(loc.problem, "");
  EXPECT_EQ(loc.store_root, "/var/lib/selinux");
  std::filesystem::remove(conf);

  // A link to a file outside the root that names another store root: not read.
  TempDir outside;
  test::write_file(outside / "semanage.conf", "store-root=/outside\n");
  std::filesystem::create_symlink(outside / "semanage.conf", conf);
  EXPECT_EQ(h.location().store_root, "/var/lib/selinux");
  std::filesystem::remove(conf);

  // Too large to be a configuration: refused, not truncated into a different meaning.
  h.semanage_conf(std::string(kSemanageConfMaxBytes, '#') + "\nstore-root=/etc/selinux\n");
  loc = h.location();
  EXPECT_NE(loc.problem.find("larger than"), std::string::npos) << loc.problem;
  EXPECT_EQ(loc.store_root, "/var/lib/selinux");

  // A store-root that climbs: clamped at the root.
  h.semanage_conf("store-root = /../../../etc/selinux\n");
  EXPECT_EQ(h.location().path, "/etc/selinux/targeted");
  h.semanage_conf("store-root =\n");
  EXPECT_NE(h.location().problem.find("no value"), std::string::npos);
}

TEST(SelinuxStoreLocation, PolicyTypeMustBeAName) {
  FakeHost h("../../../tmp");
  const auto loc = h.location();
  EXPECT_EQ(loc.path, "");
  EXPECT_NE(loc.problem.find("not a policy name"), std::string::npos) << loc.problem;
  EXPECT_FALSE(read_status(h.layout).store_present);
}

// The reviewer's repro: a CentOS 7-like root, enforcing, store-root=/etc/selinux, our module
// in etc/selinux/targeted/active/modules/400. Status, preflight and install agree.
TEST(SelinuxStoreLocation, CliStatusPreflightAndInstallUseTheSameStore) {
  FakeHost h;
  h.semanage_conf("module-store = direct\nstore-root=/etc/selinux\n");
  h.module_in("/etc/selinux/targeted");
  // Enough of CentOS 7 for the preflight to run its checks.
  test::write_file(h.root / "etc/os-release",
                   "NAME=\"CentOS Linux\"\nID=\"centos\"\nVERSION_ID=\"7\"\n");
  test::write_file(h.root / "etc/centos-release", "CentOS Linux release 7.9.2009 (Core)\n");
  test::write_file(h.root / "proc/sys/kernel/osrelease", "3.10.0-1160.el7.x86_64\n");
  const std::string root = h.root.path().string();

  auto r = test::run({test::cnmctl(), "selinux", "status", "--root", root, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("store_present"), true);
  EXPECT_EQ(j.at("module_installed"), true);
  EXPECT_EQ(j.at("module_version"), "0.1.0");
  EXPECT_EQ(j.at("store_path"), "/etc/selinux/targeted");

  r = test::run({test::cnmctl(), "preflight", "--root", root, "--json"});
  bool seen = false;
  const auto report = nlohmann::json::parse(r.out);
  for (const auto& c : report.at("checks"))
    if (c.at("id") == "security.selinux") {
      seen = true;
      EXPECT_EQ(c.at("status"), "pass") << c.dump();
      EXPECT_NE(c.at("message").get<std::string>().find("is loaded (version 0.1.0)"),
                std::string::npos)
          << c.dump();
    }
  EXPECT_TRUE(seen) << r.out;

  // install looks in the same store, not in /var/lib/selinux: its dry run opens it and would
  // add the module and our fcontext rules (this fake store holds no module libsemanage reads).
  r = test::run({test::cnmctl(), "selinux", "install", "--root", root, "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("would change the policy store"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("var/lib/selinux"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("no SELinux policy store"), std::string::npos) << r.err;
}

// install refuses a semanage.conf it cannot use, at once: libsemanage would block on a FIFO.
TEST(SelinuxStoreLocation, InstallRefusesAFifoSemanageConf) {
  FakeHost h;
  h.module_in("/var/lib/selinux/targeted");
  ASSERT_EQ(::mkfifo((h.root / "etc/selinux/semanage.conf").c_str(), 0600), 0);
  const auto r = test::run({"timeout", "30", test::cnmctl(), "selinux", "install", "--root",
                            h.root.path().string(), "--dry-run"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("semanage.conf is a FIFO"), std::string::npos) << r.err;
}

// The helper programs a semanage.conf names, and which a copied store (--root) takes: a commit
// runs them as host programs with the root's arguments.
TEST(SelinuxProgramBlocks, ParsedInOrderWithPathAndArgs) {
  const auto conf = parse_semanage_conf(
      "store-root=/x\n[load_policy]\npath = /usr/sbin/load_policy\n[end]\n"
      "# [verify kernel]\n[sefcontext_compile]\n  path=/usr/sbin/sefcontext_compile \n"
      "args = -r $@\n[end]\n[verify module]\npath = /usr/bin/touch\nargs = /etc/x\n[end]\n");
  EXPECT_EQ(conf.store_root, "/x");  // the same pass reads both
  const auto& b = conf.programs;
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].name, "load_policy");
  EXPECT_EQ(b[0].path, "/usr/sbin/load_policy");
  EXPECT_EQ(b[1].name, "sefcontext_compile");
  EXPECT_EQ(b[1].path, "/usr/sbin/sefcontext_compile");
  EXPECT_EQ(b[1].args, "-r $@");
  EXPECT_EQ(b[2].name, "verify module");
  EXPECT_EQ(b[2].args, "/etc/x");
}

TEST(SelinuxProgramBlocks, ARootKeepsOnlyWhatCannotTurnAgainstTheHost) {
  EXPECT_EQ(root_program_problem({}), "");
  // Turned off under --root (no reload, no context check), whatever they say.
  EXPECT_EQ(root_program_problem({{"load_policy", "/tmp/x", "y"}, {"setfiles", "/tmp/x", "y"}}),
            "");
  // As Fedora and RHEL write it.
  EXPECT_EQ(root_program_problem({{"sefcontext_compile", "/usr/sbin/sefcontext_compile", "-r $@"}}),
            "");
  EXPECT_EQ(root_program_problem({{"sefcontext_compile", "/sbin/sefcontext_compile", "$@"}}), "");
  // Another program, other arguments (sefcontext_compile -o writes where it is told), a verify.
  EXPECT_NE(root_program_problem({{"sefcontext_compile", "/bin/sh", "-c $@"}}), "");
  EXPECT_NE(
      root_program_problem({{"sefcontext_compile", "/usr/sbin/sefcontext_compile", "-o /etc/x"}}),
      "");
  EXPECT_NE(
      root_program_problem({{"verify kernel", "/usr/bin/true", "$@"}}).find("[verify kernel]"),
      std::string::npos);
}

// install under --root refuses a semanage.conf whose blocks would run a host program of the
// root's choosing, before libsemanage is asked anything.
TEST(SelinuxStoreLocation, InstallUnderRootRefusesARootsVerifyProgram) {
  FakeHost h;
  h.module_in("/var/lib/selinux/targeted");
  const auto marker = h.root / "ran";
  h.semanage_conf("module-store = direct\n[verify kernel]\npath = /usr/bin/touch\nargs = " +
                  marker.string() + "\n[end]\n");
  const auto r = test::run(
      {"timeout", "30", test::cnmctl(), "selinux", "install", "--root", h.root.path().string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("[verify kernel] block would run `/usr/bin/touch"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(marker));
}

// A host without SELinux (no /etc/selinux/config: most of a Debian or Ubuntu fleet) holds no
// module of ours: remove has nothing to do and says so, exit 0, as a fleet's uninstall runs it
// everywhere; install still refuses, naming what is missing.
TEST(SelinuxStoreLocation, RemoveOnAHostWithoutSelinuxIsNothingToDo) {
  TempDir root;
  for (const bool dry : {true, false}) {
    std::vector<std::string> argv{test::cnmctl(), "selinux", "remove",
                                  "--json",       "--root",  root.path().string()};
    if (dry) argv.push_back("--dry-run");
    const auto r = test::run(argv);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_FALSE(j["changed"].get<bool>());
    EXPECT_NE(j.dump().find("no SELinux configuration"), std::string::npos) << j.dump();
  }
  EXPECT_TRUE(std::filesystem::is_empty(root.path()));  // nothing written
  const auto install =
      test::run({test::cnmctl(), "selinux", "install", "--root", root.path().string()});
  EXPECT_EQ(install.exit_code, 1);
  EXPECT_NE(install.err.find("no SELinux configuration"), std::string::npos) << install.err;
}

}  // namespace
}  // namespace cnm::selinux
