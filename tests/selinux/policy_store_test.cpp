// install / remove / status against the real Debian policy store (selinux-policy-default),
// copied under a temporary root so the host's store is never touched. The results are read
// back with the real tools: semodule -l lists the store, sesearch reads the policy the commit
// built, and the store's file_contexts.local holds the fcontext rules.
// Needs root (the store and security.selinux attributes); fails, never skips, without it.
#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/selinux/te_file.h"
#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

const std::string kModule = "system_probe_policy";
const std::string kBinary = "/opt/datadog-agent/embedded/bin/system-probe";

// A host with the real policy store and a probe binary, under a temporary root.
class SelinuxPolicyStore : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "this test needs root: it writes a policy store and "
                                  "security.selinux attributes";
    ASSERT_TRUE(std::filesystem::exists("/var/lib/selinux/default/active"))
        << "no Debian policy store: run scripts/setup-deps.sh (selinux-policy-default)";
    std::filesystem::create_directories(root / "etc");
    std::filesystem::create_directories(root / "var/lib");
    const auto cp = sh("cp -a /etc/selinux " + (root / "etc").string() +
                       " && cp -a /var/lib/selinux " + (root / "var/lib").string());
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
    write_file(root / kBinary.substr(1), "#!/bin/sh\n");
    std::filesystem::create_directories(root / "opt/datadog-agent/run");
  }

  // The preflight's security.selinux finding on this root, judging the Agent's system-probe.
  // `as_user`: run as nobody (setpriv), to whom the store (0700, root's) is unreadable.
  nlohmann::json selinux_finding(bool as_user = false) {
    std::vector<std::string> argv;
    if (as_user) argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    const std::vector<std::string> preflight = {
        cnmctl(), "preflight",  "--json", "--probe",
        "agent",  "--no-cache", "--root", root.path().string()};
    argv.insert(argv.end(), preflight.begin(), preflight.end());
    const auto r = run(argv);
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err;
    const auto answer = json_of(r);
    for (const auto& c : answer["checks"])
      if (c["id"] == "security.selinux") return c;
    ADD_FAILURE() << "no security.selinux in " << r.out;
    return {};
  }

  RunResult cnmctl_selinux(std::vector<std::string> args) {
    std::vector<std::string> argv = {cnmctl(), "selinux"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--root");
    argv.push_back(root.path().string());
    return run(argv);
  }

  nlohmann::json json_of(const RunResult& r) {
    try {
      return nlohmann::json::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << r.out << "\nstderr: " << r.err;
      return {};
    }
  }

  std::vector<std::string> store_modules() {
    const auto r = run({"semodule", "-p", root.path().string(), "-l"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> names;
    std::istringstream in(r.out);
    for (std::string n; in >> n;) names.push_back(n);
    return names;
  }
  bool store_lists_module() {
    const auto m = store_modules();
    return std::find(m.begin(), m.end(), kModule) != m.end();
  }

  // Every rule the policy built in the temporary root has about our types, as sesearch
  // prints them ("allow S T:C { p q };").
  std::string policy() { return (root / "etc/selinux/default/policy/policy.33").string(); }
  std::string policy_rules() {
    const std::string policy = this->policy();
    std::string out;
    for (const char* flag : {"-s", "-t"})
      for (const char* type : {"system_probe_t", "system_probe_run_t"}) {
        const auto r = run({"sesearch", "-A", "-T", flag, type, policy});
        out += r.out;
      }
    return out;
  }

  // The store's file_contexts.local and the copy the commit installs next to the policy: both
  // must say the same.
  std::string fcontexts_local() {
    const auto store = read_file(root / "var/lib/selinux/default/active/file_contexts.local");
    const auto installed =
        read_file(root / "etc/selinux/default/contexts/files/file_contexts.local");
    EXPECT_EQ(store, installed);
    return store;
  }
  std::string label(const std::string& host_path) {
    char buf[256] = {};
    const auto p = (root / host_path.substr(1)).string();
    const ssize_t n = ::getxattr(p.c_str(), "security.selinux", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf) : "";
  }

  // The whole store and policy folder, file by file, to prove a step changed nothing.
  std::map<std::string, std::string> snapshot() {
    std::map<std::string, std::string> files;
    for (const char* dir : {"etc/selinux", "var/lib/selinux"})
      for (const auto& e : std::filesystem::recursive_directory_iterator(root / dir))
        if (e.is_regular_file()) files[e.path().string()] = read_file(e.path());
    return files;
  }

  // The store (active/, lock files) next to the policy, as rpm-ostree and RHEL 7 keep it.
  void move_store_to_etc() {
    const auto mv = sh("cp -a " + (root / "var/lib/selinux/default").string() + "/. " +
                       (root / "etc/selinux/default").string() + "/ && rm -rf " +
                       (root / "var/lib/selinux").string());
    ASSERT_EQ(mv.exit_code, 0) << mv.err;
  }

  TempDir root;
};

// Each allow rule of the .te must be in the built policy with all its permissions.
void expect_rules_in_policy(const TeFile& te, const std::string& rules) {
  ASSERT_GT(te.allows.size(), 20u);
  for (const auto& a : te.allows) {
    const std::regex re("allow " + a.source + " " + a.target + ":" + a.cls +
                        R"( (\{([^}]*)\}|(\S+));)");
    bool found = false;
    for (std::sregex_iterator it(rules.begin(), rules.end(), re), end; it != end && !found; ++it) {
      std::istringstream perms((*it)[2].matched ? (*it)[2].str() : (*it)[3].str());
      std::set<std::string> have;
      for (std::string p; perms >> p;) have.insert(p);
      found = std::includes(have.begin(), have.end(), a.perms.begin(), a.perms.end());
    }
    EXPECT_TRUE(found) << "line " << a.line << ": allow " << a.source << " " << a.target << ":"
                       << a.cls << " is not in the built policy";
  }
}

TEST_F(SelinuxPolicyStore, InstallIsIdempotentUpgradesAndRemoveUndoesIt) {
  const auto te = read_te(packaged_te_path());
  ASSERT_FALSE(store_lists_module());

  // 1. install: module in the store, rules in the policy, fcontext rules, binary relabelled.
  auto r = cnmctl_selinux({"install", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = json_of(r);
  EXPECT_EQ(j["changed"], true);
  EXPECT_EQ(j["committed"], true);
  EXPECT_EQ(j["version"], te.version);
  // No SELinux in this root's kernel (no sys/fs/selinux): installed for the next boot.
  EXPECT_NE(j["notes"].dump().find("takes effect at the next boot"), std::string::npos) << j;
  EXPECT_TRUE(store_lists_module());
  const auto rules = policy_rules();
  expect_rules_in_policy(te, rules);
  EXPECT_NE(rules.find("type_transition init_t system_probe_t:process system_probe_t"),
            std::string::npos);
  EXPECT_NE(fcontexts_local().find("/opt/datadog-agent/embedded/bin/system-probe -- "
                                   "system_u:object_r:system_probe_t:s0"),
            std::string::npos)
      << fcontexts_local();
  EXPECT_NE(fcontexts_local().find("/opt/datadog-agent/run(/.*)?"), std::string::npos);
  EXPECT_EQ(label(kBinary), "system_u:object_r:system_probe_t:s0");
  EXPECT_EQ(label("/opt/datadog-agent/run"), "system_u:object_r:system_probe_run_t:s0");
  r = cnmctl_selinux({"status", "--json"});
  j = json_of(r);
  EXPECT_EQ(j["module_installed"], true);
  EXPECT_EQ(j["module_version"], te.version);
  EXPECT_EQ(j["binary_labeled"], true);

  // 2. install again: nothing committed, not one byte of the store changed, and it says so.
  const auto before = snapshot();
  r = cnmctl_selinux({"install"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nothing changed"), std::string::npos) << r.out;
  EXPECT_TRUE(snapshot() == before) << "a second install changed the store";

  // 3. an operator's modified policy (new version, one more rule) replaces ours.
  const std::string extra = "allow system_probe_t self:capability2 syslog;";
  std::string text = te.text;
  text.replace(text.find("module " + kModule + " " + te.version + ";"),
               ("module " + kModule + " " + te.version + ";").size(),
               "module " + kModule + " 99.0.0;");
  text.replace(text.find("class capability2 { bpf perfmon };"),
               std::string("class capability2 { bpf perfmon };").size(),
               "class capability2 { bpf perfmon syslog };");
  text += extra + "\n";
  write_file(root / "modified.te", text);
  r = cnmctl_selinux({"install", "--json", "--policy", (root / "modified.te").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  j = json_of(r);
  EXPECT_EQ(j["committed"], true);
  EXPECT_EQ(j["version"], "99.0.0");
  EXPECT_NE(run({"sesearch", "-A", "-s", "system_probe_t", "-c", "capability2", policy()})
                .out.find("syslog"),
            std::string::npos)
      << "the modified rule is not in the built policy";
  EXPECT_EQ(json_of(cnmctl_selinux({"status", "--json"}))["module_version"], "99.0.0");

  // 4. remove: module, types and fcontext rules gone; the binary back to the distro's label.
  r = cnmctl_selinux({"remove", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(json_of(r)["committed"], true);
  EXPECT_FALSE(store_lists_module());
  for (const char* type : {"system_probe_t", "system_probe_run_t"})
    EXPECT_NE(run({"seinfo", "-t", type, policy()}).out.find("Types: 0"), std::string::npos)
        << type << " is still in the built policy";
  EXPECT_EQ(fcontexts_local().find("system_probe"), std::string::npos) << fcontexts_local();
  EXPECT_FALSE(label(kBinary).empty());
  EXPECT_EQ(label(kBinary).find("system_probe_t"), std::string::npos) << label(kBinary);
  j = json_of(cnmctl_selinux({"status", "--json"}));
  EXPECT_EQ(j["module_installed"], false);
  EXPECT_EQ(j["binary_labeled"], false);

  // 5. remove again: nothing to do.
  const auto after_remove = snapshot();
  r = cnmctl_selinux({"remove", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_of(r)["changed"], false);
  EXPECT_TRUE(snapshot() == after_remove);
}

// The Datadog installer moves a package's Agent into its own folder (and removes the package):
// the agent layout's defaults follow it, and a removal made then still takes away the rules the
// install made for the package's paths, and with them the module (a rule naming its type would
// keep the commit from going through).
TEST_F(SelinuxPolicyStore, ARemovalAfterTheAgentMovedTakesTheOldRulesToo) {
  auto r = cnmctl_selinux({"install", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_NE(fcontexts_local().find("/opt/datadog-agent/embedded/bin/system-probe"),
            std::string::npos);
  write_file(root / "opt/datadog-packages/datadog-agent/stable/version-manifest.json",
             R"({"build_version":"7.60.0"})");
  r = cnmctl_selinux({"remove", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(json_of(r)["committed"], true);
  EXPECT_FALSE(store_lists_module());
  EXPECT_EQ(fcontexts_local().find("system_probe"), std::string::npos) << fcontexts_local();
}

// The Datadog installer points its `stable` link at the version folder with an absolute path.
// Under --root that link leads out of the root on the host, where restorecon resolves paths:
// the binary is labelled at the path the link leads to inside the root, which the rule's
// pattern ([^/]+ for the version folder) matches.
TEST_F(SelinuxPolicyStore, AnInstallerAgentBehindAnAbsoluteLinkIsLabelled) {
  std::filesystem::remove_all(root / "opt/datadog-agent");
  const std::string version_dir = "/opt/datadog-packages/datadog-agent/7.60.0-1";
  write_file(root / (version_dir.substr(1) + "/embedded/bin/system-probe"), "#!/bin/sh\n");
  write_file(root / (version_dir.substr(1) + "/version-manifest.json"),
             R"({"build_version":"7.60.0"})");
  std::filesystem::create_directories(root / (version_dir.substr(1) + "/run"));
  std::filesystem::create_directory_symlink(version_dir,
                                            root / "opt/datadog-packages/datadog-agent/stable");
  const auto r = cnmctl_selinux({"install", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(json_of(r)["committed"], true);
  EXPECT_NE(fcontexts_local().find("/opt/datadog-packages/datadog-agent/[^/]+/embedded/bin/"
                                   "system-probe"),
            std::string::npos)
      << fcontexts_local();
  EXPECT_EQ(label(version_dir + "/embedded/bin/system-probe"),
            "system_u:object_r:system_probe_t:s0");
  EXPECT_EQ(json_of(cnmctl_selinux({"status", "--json"}))["binary_labeled"], true);
}

TEST_F(SelinuxPolicyStore, BrokenPolicyIsAClearErrorAndTheStoreIsUnchanged) {
  const auto te = read_te(packaged_te_path());
  const int bad_line = te.allows.back().line;
  std::istringstream in(te.text);
  std::string line, text;
  for (int n = 1; std::getline(in, line); ++n)
    text += (n == bad_line ? "allow system_probe_t self:bpf { map_create\n" : line + "\n");
  write_file(root / "broken.te", text);
  const auto before = snapshot();
  const auto r = cnmctl_selinux({"install", "--policy", (root / "broken.te").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not compile"), std::string::npos) << r.err;
  // checkmodule reports the line after the unterminated rule, where it finds out.
  EXPECT_TRUE(r.err.find("line " + std::to_string(bad_line)) != std::string::npos ||
              r.err.find("line " + std::to_string(bad_line + 1)) != std::string::npos)
      << r.err;
  EXPECT_TRUE(snapshot() == before);
  EXPECT_FALSE(store_lists_module());
}

TEST_F(SelinuxPolicyStore, DryRunSaysWhatWouldChangeAndChangesNothing) {
  const auto before = snapshot();
  const auto r = cnmctl_selinux({"install", "--dry-run", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = json_of(r);
  EXPECT_EQ(j["changed"], true);
  EXPECT_EQ(j["committed"], false);
  EXPECT_NE(j["steps"].dump().find("install module " + kModule), std::string::npos) << j;
  EXPECT_TRUE(snapshot() == before);
  EXPECT_EQ(label(kBinary), "");
}

TEST_F(SelinuxPolicyStore, WithoutPrivilegesIsAClearErrorAndTheStoreIsUnchanged) {
  // Let an unprivileged user reach the root (mkdtemp made it 0700); the store itself stays
  // as the package made it (0700, root's).
  std::filesystem::permissions(
      root.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                       std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                       std::filesystem::perms::others_exec);
  const auto before = snapshot();
  for (const char* action : {"install", "remove"}) {
    const auto r = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", cnmctl(),
                        "selinux", action, "--root", root.path().string()});
    EXPECT_EQ(r.exit_code, 1) << action << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("no permission"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("run as root"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(snapshot() == before);
  // status still works, and tells "not readable" from "absent".
  const auto r = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", cnmctl(),
                      "selinux", "status", "--json", "--root", root.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = json_of(r);
  EXPECT_EQ(j["store_present"], true);
  EXPECT_EQ(j["store_readable"], false);
  // The preflight says it cannot tell, and how to find out: for a kernel without SELinux
  // configured to enable it at the next boot, and for one enforcing now.
  write_file(root / "etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=default\n");
  const auto configured = snapshot();
  for (const bool enforcing_now : {false, true}) {
    if (enforcing_now) write_file(root / "sys/fs/selinux/enforce", "1");
    const auto c = selinux_finding(true);
    EXPECT_EQ(c["status"], "warn") << c;
    EXPECT_NE(c["message"].get<std::string>().find(
                  "cannot be read by this user: whether " + kModule + " is " +
                  (enforcing_now ? "loaded" : "installed") + " is unknown"),
              std::string::npos)
        << c;
    EXPECT_EQ(c["remedy"], "run the preflight as root") << c;
  }
  EXPECT_TRUE(snapshot() == configured);
}

// A kernel without SELinux configured to enable it at the next boot (as after `SELINUX=
// enforcing` on a host booted with it off): the preflight follows the real store, asks for the
// module before the install and passes after it (the binary labelled); a binary without its
// label asks for the relabel at boot.
TEST_F(SelinuxPolicyStore, PreflightForTheNextBootFollowsTheStore) {
  write_file(root / "etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=default\n");
  const std::string next_boot =
      "SELinux is off in the running kernel but /etc/selinux/config sets 'enforcing' for a boot "
      "with SELinux on";
  auto c = selinux_finding();
  EXPECT_EQ(c["status"], "warn") << c;
  EXPECT_EQ(c["message"], next_boot + " and the " + kModule +
                              " module is not installed: the probe's bpf() calls will be denied "
                              "after that boot")
      << c;
  EXPECT_EQ(c["remedy"], "cnmctl selinux install  (installs " + kModule + " for that boot)");

  ASSERT_EQ(cnmctl_selinux({"install"}).exit_code, 0);
  c = selinux_finding();
  EXPECT_EQ(c["status"], "pass") << c;
  EXPECT_EQ(c["message"], next_boot + "; " + kModule + " is installed and " + kBinary +
                              " labelled system_probe_t")
      << c;

  ASSERT_EQ(::removexattr((root / kBinary.substr(1)).c_str(), "security.selinux"), 0);
  c = selinux_finding();
  EXPECT_EQ(c["status"], "warn") << c;
  EXPECT_NE(c["message"].get<std::string>().find(kBinary + " carries no SELinux label"),
            std::string::npos)
      << c;
  EXPECT_EQ(c["remedy"], "cnmctl selinux install  (labels it, with SELinux off too)") << c;
  // As it says: the install labels the binary again, and the check passes.
  ASSERT_EQ(cnmctl_selinux({"install"}).exit_code, 0);
  EXPECT_EQ(label(kBinary), "system_u:object_r:system_probe_t:s0");
  EXPECT_EQ(selinux_finding()["status"], "pass");
  // Before the probe's binary is there, nothing is missing yet: installing it labels it.
  std::filesystem::remove(root / kBinary.substr(1));
  c = selinux_finding();
  EXPECT_EQ(c["status"], "pass") << c;
  EXPECT_NE(c["message"].get<std::string>().find(kBinary + " is not there yet"), std::string::npos)
      << c;
}

// A store moved by semanage.conf (store-root=/etc/selinux: Fedora CoreOS, RHCOS): install
// commits to that store, the real semodule finds the module there, status and remove follow,
// and nothing appears in the default /var/lib/selinux.
TEST_F(SelinuxPolicyStore, StoreRootFromSemanageConfIsTheStoreChanged) {
  move_store_to_etc();
  const auto conf = root / "etc/selinux/semanage.conf";
  write_file(conf, read_file(conf) + "\nstore-root=/etc/selinux\n");
  ASSERT_TRUE(std::filesystem::is_directory(root / "etc/selinux/default/active/modules"));

  auto r = cnmctl_selinux({"status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json_of(r);
  EXPECT_EQ(j["store_path"], "/etc/selinux/default");
  EXPECT_EQ(j["store_present"], true);
  EXPECT_EQ(j["module_installed"], false);

  r = cnmctl_selinux({"install", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(json_of(r)["committed"], true);
  EXPECT_TRUE(store_lists_module());  // semodule -p ROOT reads ROOT's semanage.conf itself
  EXPECT_TRUE(std::filesystem::exists(root / "etc/selinux/default/active/modules/400" / kModule /
                                      "cnmkit-version"));
  EXPECT_FALSE(std::filesystem::exists(root / "var/lib/selinux"));
  j = json_of(cnmctl_selinux({"status", "--json"}));
  EXPECT_EQ(j["module_installed"], true);
  EXPECT_EQ(j["binary_labeled"], true);

  r = cnmctl_selinux({"remove", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(store_lists_module());
  EXPECT_FALSE(std::filesystem::exists(root / "var/lib/selinux"));
}

// A commit runs the helper programs semanage.conf names as host programs: from a copied store
// (--root) only those that cannot be turned against the host. A [verify kernel] block naming
// /usr/bin/touch ran it on the host before; now the install is refused and the store unchanged.
// A root as Fedora writes it ([sefcontext_compile] with -r $@; [setfiles], turned off) installs.
TEST_F(SelinuxPolicyStore, ARootsHelperProgramsRunOnlyWhereHarmless) {
  const auto conf = root / "etc/selinux/semanage.conf";
  const std::string original = read_file(conf);
  TempDir outside;
  const auto marker = outside / "ran";
  write_file(conf, original + "\n[verify kernel]\npath = /usr/bin/touch\nargs = " +
                       marker.string() + "\n[end]\n");
  auto r = cnmctl_selinux({"install", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("[verify kernel] block would run"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_FALSE(store_lists_module());

  write_file(conf, original + "\n[setfiles]\npath = /usr/bin/touch\nargs = " + marker.string() +
                       "\n[end]\n[sefcontext_compile]\npath = /usr/sbin/sefcontext_compile\n"
                       "args = -r $@\n[end]\n");
  r = cnmctl_selinux({"install", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(store_lists_module());
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the root's setfiles ran on the host";
}

// RHEL/CentOS 7: the store in /etc/selinux/TYPE/active with no store-root in semanage.conf.
// Our libsemanage's own default would look in /var/lib/selinux: the store root we hand it is
// what makes it commit where status looks.
TEST_F(SelinuxPolicyStore, Rhel7LayoutIsTheStoreChanged) {
  move_store_to_etc();
  const auto r = cnmctl_selinux({"install", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(json_of(r)["committed"], true);
  EXPECT_TRUE(
      std::filesystem::exists(root / "etc/selinux/default/active/modules/400" / kModule / "cil"));
  EXPECT_FALSE(std::filesystem::exists(root / "var/lib/selinux"));
  const auto j = json_of(cnmctl_selinux({"status", "--json"}));
  EXPECT_EQ(j["store_path"], "/etc/selinux/default");
  EXPECT_EQ(j["module_installed"], true);
}

// --root is a jail for the policy store too: libsemanage resolves its paths on the host, so a
// store (or a folder of its configuration) that is a link out of the root is refused before
// anything opens it, and the store the link points at is left as it was.
TEST_F(SelinuxPolicyStore, StoreLinkedOutOfTheRootIsRefusedAndLeftAlone) {
  TempDir outside;
  const auto store = outside / "selinux";
  ASSERT_EQ(sh("mv " + (root / "var/lib/selinux").string() + " " + store.string()).exit_code, 0);
  std::filesystem::create_directory_symlink(store, root / "var/lib/selinux");
  const auto before = sh("cd " + store.string() + " && find . -type f | sort | xargs sha256sum");
  auto r = cnmctl_selinux({"install"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("leads out of --root"), std::string::npos) << r.err;
  EXPECT_EQ(sh("cd " + store.string() + " && find . -type f | sort | xargs sha256sum").out,
            before.out);

  // The same for a folder deep in the configuration (a relative link climbing out).
  std::filesystem::remove(root / "var/lib/selinux");
  ASSERT_EQ(sh("mv " + store.string() + " " + (root / "var/lib/selinux").string()).exit_code, 0);
  const auto contexts = root / "etc/selinux/default/contexts";
  ASSERT_EQ(sh("mv " + contexts.string() + " " + (outside / "contexts").string()).exit_code, 0);
  std::string up;
  for (auto p = contexts.parent_path(); p != p.root_path(); p = p.parent_path()) up += "../";
  std::filesystem::create_directory_symlink(up + (outside / "contexts").relative_path().string(),
                                            contexts);
  r = cnmctl_selinux({"install"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("etc/selinux/default/contexts leads out of --root"), std::string::npos)
      << r.err;
  EXPECT_FALSE(store_lists_module());
}

}  // namespace
}  // namespace cnm::test
