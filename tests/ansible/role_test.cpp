// The Ansible role, run for real: ansible-playbook (Debian's ansible-core) against localhost with
// connection local, the role driving the built cnmctl on a scratch host tree (cnmkit_root), so
// nothing outside the test's folder changes. Results come from the json stdout callback:
// changed per task, the handler's run, the module's diff, the recap.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "tests/ansible/play_report.h"
#include "tests/installer/tree_snapshot.h"
#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

constexpr const char* kInstallTask = "Install or update the probe with cnmctl";
constexpr const char* kRemoveTask = "Uninstall the probe with cnmctl";
constexpr const char* kHandler = "Verify the cnmkit install";

// The role's run on localhost.
struct RolePlay : PlayResult {
  // Per task name (role prefix dropped), that task's result for localhost; handlers included.
  std::map<std::string, nlohmann::json> tasks() const {
    std::map<std::string, nlohmann::json> out;
    each_result([&](std::size_t, const std::string& name, const std::string& host,
                    const nlohmann::json& r) {
      if (host == "localhost") out[name] = r;
    });
    return out;
  }
  int changed() const { return stat("localhost", "changed"); }
  int failures() const { return stat("localhost", "failures"); }
};

class AnsibleRole : public ::testing::Test {
 protected:
  void SetUp() override {
    // A host tree with the accounts cnmctl resolves (root, and the agent's group dd-agent).
    write_file(root() / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    write_file(root() / "etc/group", "root:x:0:\ndd-agent:x:998:\n");
    write_file(dir_ / "play.yml",
               "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
               "  roles:\n    - role: cnmkit\n");
    vars_ = {{"cnmkit_cnmctl", cnmctl()},
             {"cnmkit_root", root().string()},
             {"cnmkit_archive", CNM_RELEASE_ARCHIVE},
             {"cnmkit_service_manager", "none"},
             {"cnmkit_owner", "root:dd-agent"},
             // cnmctl is the build tree's: no package on this machine (tests/ansible/fleet_test
             // installs the real packages on real userlands).
             {"cnmkit_package", false}};
  }

  std::filesystem::path root() const { return dir_ / "root"; }
  std::filesystem::path config() const { return root() / "etc/cnmkit/system-probe.yaml"; }

  RolePlay play(const std::vector<std::string>& flags = {},
                const nlohmann::json& extra = nlohmann::json::object(),
                const std::string& playbook = "play.yml") {
    nlohmann::json vars = vars_;
    if (extra.is_object()) vars.update(extra);
    write_file(dir_ / "vars.json", vars.dump());
    std::vector<std::string> args = {"-i", "localhost,", playbook, "-e", "@vars.json"};
    args.insert(args.end(), flags.begin(), flags.end());
    return RolePlay{run_playbook(
        playbook_command(dir_.path(), dir_.path(), {"ANSIBLE_LOCALHOST_WARNING=0"}, args))};
  }

  // The scratch host tree (Ansible's temp folder is beside it, not in it).
  Tree host_tree() const { return snapshot(root()); }

  TempDir dir_;
  nlohmann::json vars_;
};

TEST_F(AnsibleRole, InstallsThenASecondRunChangesNothingAndRunsNoHandler) {
  const auto first = play();
  ASSERT_EQ(first.exit_code, 0) << first.doc.dump(1).substr(0, 4000) << first.err;
  auto t1 = first.tasks();
  EXPECT_TRUE(t1.at(kInstallTask)["changed"].get<bool>()) << t1.at(kInstallTask).dump();
  ASSERT_TRUE(t1.contains(kHandler)) << "the handler did not run after a change";
  EXPECT_FALSE(t1.at(kHandler).value("failed", false)) << t1.at(kHandler).dump();
  EXPECT_FALSE(t1.at(kHandler).value("skipped", false)) << t1.at(kHandler).dump();
  EXPECT_NE(read_file(config()).find("\n  enabled: true\n"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(config().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_gid, 998u) << "group dd-agent of the host tree";
  EXPECT_TRUE(std::filesystem::exists(root() / "opt/cnmkit/bin/cnm-probe"));

  const auto before = host_tree();
  const auto second = play();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.changed(), 0) << second.doc["stats"].dump();
  auto t2 = second.tasks();
  EXPECT_FALSE(t2.at(kInstallTask)["changed"].get<bool>());
  EXPECT_FALSE(t2.contains(kHandler)) << "handler ran without a change";
  const auto after = host_tree();
  EXPECT_EQ(tree_diff(before, after), "");
  for (const auto& [p, n] : before) EXPECT_EQ(after.at(p).mtime_ns, n.mtime_ns) << p;
}

// The handler re-reads the host after the play's tasks: a later task that deletes a file cnmkit
// installed makes the run fail at its end, with cnmctl status's report in the output.
TEST_F(AnsibleRole, HandlerFailsWhenALaterTaskBrokeTheInstall) {
  write_file(dir_ / "break.yml",
             "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
             "  roles:\n    - role: cnmkit\n"
             "  tasks:\n    - name: Someone else's task removes the probe binary\n"
             "      ansible.builtin.file:\n"
             "        path: \"{{ cnmkit_root }}/opt/cnmkit/bin/cnm-probe\"\n"
             "        state: absent\n");
  const auto r = play({}, nlohmann::json::object(), "break.yml");
  EXPECT_NE(r.exit_code, 0);
  const auto t = r.tasks();
  ASSERT_TRUE(t.contains(kHandler)) << r.doc.dump().substr(0, 3000);
  EXPECT_TRUE(t.at(kHandler).value("failed", false)) << t.at(kHandler).dump();
  EXPECT_NE(t.at(kHandler)["stdout"].get<std::string>().find("\"present\": false"),
            std::string::npos);
}

// A new release copied from the controller under the same name: check mode cannot dry-run the
// archive it has not copied, and must not judge by the old one still on the host.
TEST_F(AnsibleRole, CheckModeSeesANewReleaseArchiveUnderTheSameName) {
  const auto src = dir_ / "files/cnmkit-release.tar.gz";
  std::filesystem::create_directories(src.parent_path());
  std::filesystem::copy_file(CNM_RELEASE_ARCHIVE, src);
  const nlohmann::json copy = {{"cnmkit_archive", ""},
                               {"cnmkit_archive_src", src.string()},
                               {"cnmkit_cache_dir", (dir_ / "cache").string()}};
  ASSERT_EQ(play({}, copy).exit_code, 0);
  EXPECT_EQ(play({"--check"}, copy).changed(), 0) << "same release: nothing to do";
  // Same content recompressed: other bytes, so another archive as far as the host can tell.
  ASSERT_EQ(
      sh("zcat " + std::string(CNM_RELEASE_ARCHIVE) + " | gzip -1 > " + src.string()).exit_code, 0);
  const auto check = play({"--check"}, copy);
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_TRUE(check.tasks().at(kInstallTask)["changed"].get<bool>())
      << check.tasks().at(kInstallTask).dump();
}

// A fleet's BTF archive from the controller (cnmkit_btf_archive_src): copied to the cache
// folder before the preflight, which judges with it (and with the role's probe choice), then
// installed beside cnm-probe's objects; a rerun changes nothing, and check mode sees a new one
// it has not copied.
TEST_F(AnsibleRole, TheBtfArchiveIsCopiedJudgedWithAndInstalledOnce) {
  const auto src = dir_ / "files/fleet-btf.tar.xz";
  std::filesystem::create_directories(src.parent_path());
  const auto btf_dir = std::string(CNM_BINARY_DIR) + "/probe/btf";
  ASSERT_EQ(sh("tar -C " + btf_dir + " -cJf " + src.string() + " .").exit_code, 0);
  const nlohmann::json vars = {{"cnmkit_btf_archive_src", src.string()},
                               {"cnmkit_cache_dir", (dir_ / "cache").string()}};
  const auto first = play({}, vars);
  ASSERT_EQ(first.exit_code, 0) << first.doc.dump(1).substr(0, 4000) << first.err;
  const auto installed = root() / "opt/cnmkit/ebpf/btf/minimized-btfs.tar";
  EXPECT_EQ(read_file(installed), read_file(src));
  EXPECT_EQ(read_file(dir_ / "cache/fleet-btf.tar.xz"), read_file(src));
  const std::string cmd = first.tasks().at(kPreflightTask)["cmd"].dump();
  EXPECT_NE(cmd.find("\"--btf-archive\",\"" + (dir_ / "cache/fleet-btf.tar.xz").string()),
            std::string::npos)
      << cmd;
  EXPECT_NE(cmd.find("\"--probe\",\"auto\""), std::string::npos) << cmd;

  const auto again = play({}, vars);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.changed(), 0) << again.doc["stats"].dump();

  // Another archive under the same name: check mode copies nothing and says the install would
  // change.
  ASSERT_EQ(sh("tar -C " + btf_dir + " -cJf " + src.string() + " $(ls " + btf_dir + " | head -1)")
                .exit_code,
            0);
  const auto before = host_tree();
  const auto check = play({"--check"}, vars);
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_TRUE(check.tasks().at(kInstallTask)["changed"].get<bool>())
      << check.tasks().at(kInstallTask).dump();
  EXPECT_EQ(tree_diff(before, host_tree()), "");
  EXPECT_NE(read_file(installed), read_file(src));
}

TEST_F(AnsibleRole, CheckModeChangesNothingAndTellsWhetherARunWould) {
  const auto before = host_tree();
  const auto check = play({"--check"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_TRUE(check.tasks().at(kInstallTask)["changed"].get<bool>());
  EXPECT_EQ(tree_diff(before, host_tree()), "");
  ASSERT_EQ(play().exit_code, 0);
  const auto again = play({"--check"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.changed(), 0) << again.doc["stats"].dump();
}

// Diff mode shows the in-place edit of the operator's file: only `enabled` changes, their
// comments and other keys stay (in the diff's context and in the file afterwards).
TEST_F(AnsibleRole, DiffModeShowsTheConfigEditAndTheRunKeepsTheOperatorsComments) {
  const std::string mine =
      "# owned by the network team, ticket NET-1234\n"
      "network_config:\n"
      "  enabled: false  # turned on by cnmkit\n"
      "  max_tracked_connections: 20000\n"
      "custom_key: keep-me\n";
  write_file(config(), mine);
  ::chmod(config().c_str(), 0640);
  const auto check = play({"--check", "--diff"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  const auto r = check.tasks().at(kInstallTask);
  ASSERT_TRUE(r.contains("diff") && !r["diff"].is_null()) << r.dump();
  const std::string diff = r["diff"].dump();
  EXPECT_NE(diff.find("-  enabled: false  # turned on by cnmkit"), std::string::npos) << diff;
  EXPECT_NE(diff.find("+  enabled: true  # turned on by cnmkit"), std::string::npos) << diff;
  EXPECT_NE(diff.find("binary file"), std::string::npos) << "the probe binary is listed " << diff;
  EXPECT_EQ(read_file(config()), mine) << "check mode wrote the file";

  // The real run shows the same diff, from cnmctl's own report (no dry run first).
  const auto real = play({"--diff"});
  ASSERT_EQ(real.exit_code, 0) << real.err;
  const auto rr = real.tasks().at(kInstallTask);
  ASSERT_TRUE(rr.contains("diff") && !rr["diff"].is_null()) << rr.dump();
  EXPECT_NE(rr["diff"].dump().find("+  enabled: true  # turned on by cnmkit"), std::string::npos)
      << rr.dump();
  std::string expected = mine;
  expected.replace(expected.find("enabled: false"), 14, "enabled: true");
  EXPECT_EQ(read_file(config()), expected);
}

TEST_F(AnsibleRole, SettingsBecomeYamlValuesInTheConfig) {
  const auto r = play({}, {{"cnmkit_settings",
                            {{"system_probe_config.max_tracked_connections", 100000},
                             {"system_probe_config.disable_ipv6", true},
                             {"system_probe_config.log_level", "off"}}}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto text = read_file(config());
  EXPECT_NE(text.find("max_tracked_connections: 100000"), std::string::npos) << text;
  EXPECT_NE(text.find("disable_ipv6: true"), std::string::npos) << text;
  // A string stays text for the Agent's YAML 1.1 reader, which takes a plain off for false.
  EXPECT_NE(text.find("log_level: \"off\""), std::string::npos) << text;
  EXPECT_EQ(text.find("True"), std::string::npos) << "Python's spelling leaked: " << text;
}

// The preflight judges a CentOS 7.5 host tree (kernel 3.10 without the 7.6 backports): the host
// is left out before the install, with the failing check and its fix, and stays untouched; the
// play goes on (other hosts would be rolled out). cnmkit_unsupported=fail fails the host instead.
TEST_F(AnsibleRole, UnsupportedHostIsLeftOutWithTheFixAndInstallsNothing) {
  const auto before = host_tree();
  const nlohmann::json centos = {
      {"cnmkit_preflight_root", (source_dir() / "tests/checks/hosts/centos-7.5").string()}};
  const auto r = play({}, centos);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.failures(), 0);
  const auto t = r.tasks();
  const std::string msg = t.at("Say why, with each failing check and its fix")["msg"];
  EXPECT_NE(msg.find("unsupported"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[fail] kernel.version"), std::string::npos) << msg;
  EXPECT_NE(msg.find("FIX:"), std::string::npos) << msg;
  EXPECT_FALSE(t.contains(kInstallTask));
  EXPECT_EQ(tree_diff(before, host_tree()), "");

  nlohmann::json fail = centos;
  fail["cnmkit_unsupported"] = "fail";
  const auto f = play({}, fail);
  EXPECT_NE(f.exit_code, 0);
  EXPECT_EQ(f.failures(), 1);
  EXPECT_FALSE(f.tasks().contains(kInstallTask));
  EXPECT_EQ(tree_diff(before, host_tree()), "");
}

TEST_F(AnsibleRole, MalformedConfigFailsWithCnmctlsPositionAndLosesNothing) {
  const std::string broken = "network_config:\n  enabled: [true\n";
  write_file(config(), broken);
  const auto before = host_tree();
  const auto r = play();
  EXPECT_NE(r.exit_code, 0);
  const auto res = r.tasks().at(kInstallTask);
  EXPECT_TRUE(res.value("failed", false)) << res.dump();
  const std::string msg = res["msg"];
  EXPECT_NE(msg.find("system-probe.yaml:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed YAML"), std::string::npos) << msg;
  EXPECT_EQ(read_file(config()), broken);
  EXPECT_EQ(tree_diff(before, host_tree()), "");
}

TEST_F(AnsibleRole, AbsentRestoresTheHostAndIsIdempotentAndCheckable) {
  const auto pristine = host_tree();
  const auto present = play();
  ASSERT_EQ(present.exit_code, 0) << present.err;
  const auto t = present.tasks();
  ASSERT_TRUE(t.contains(kPreflightTask)) << "a present-state play runs the preflight";
  EXPECT_FALSE(t.at(kPreflightTask).value("skipped", false)) << t.at(kPreflightTask).dump();
  const auto installed = host_tree();
  const auto check = play({"--check"}, {{"cnmkit_state", "absent"}});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_TRUE(check.tasks().at(kRemoveTask)["changed"].get<bool>());
  EXPECT_EQ(tree_diff(installed, host_tree()), "") << "check mode removed something";

  const auto gone = play({}, {{"cnmkit_state", "absent"}});
  ASSERT_EQ(gone.exit_code, 0) << gone.err;
  EXPECT_TRUE(gone.tasks().at(kRemoveTask)["changed"].get<bool>());
  EXPECT_FALSE(gone.tasks().contains(kPreflightTask)) << "no preflight before a removal";
  // Back to the tree before the install, except cnmkit's own state folder.
  EXPECT_EQ(tree_diff(pristine, snapshot(root(), "var/lib/cnmkit")), "");
  const auto again = play({}, {{"cnmkit_state", "absent"}});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.changed(), 0) << again.doc["stats"].dump();
}

// Where SELinux is configured, the role installs cnmkit's module through cnmctl selinux install:
// check and diff mode list its steps and change nothing, a real run commits, a rerun does not.
// The host tree holds a copy of this machine's policy store (selinux-policy-default).
TEST_F(AnsibleRole, SelinuxModuleInCheckDiffAndRealRuns) {
  const auto cp =
      sh("mkdir -p " + (root() / "var/lib").string() + " && cp -a /etc/selinux " +
         (root() / "etc").string() + " && cp -a /var/lib/selinux " + (root() / "var/lib").string());
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  write_file(root() / "etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=default\n");
  const char* task = "Install cnmkit's SELinux module and label the probe";
  const auto store = [this] { return snapshot(root() / "var/lib/selinux"); };
  const auto before = store();
  const auto check = play({"--check", "--diff"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  const auto r = check.tasks().at(task);
  EXPECT_TRUE(r["changed"].get<bool>()) << r.dump();
  EXPECT_NE(r["diff"].dump().find("system_probe_policy"), std::string::npos) << r.dump();
  EXPECT_EQ(tree_diff(before, store()), "") << "check mode touched the policy store";

  const auto real = play();
  ASSERT_EQ(real.exit_code, 0) << real.err;
  EXPECT_TRUE(real.tasks().at(task)["changed"].get<bool>());
  EXPECT_NE(tree_diff(before, store()), "") << "the module went in";
  const auto again = play();
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_FALSE(again.tasks().at(task)["changed"].get<bool>());
  EXPECT_EQ(again.changed(), 0) << again.doc["stats"].dump();
}

TEST(AnsibleLint, TheRolePassesTheProductionProfile) {
  const TempDir home;  // ansible-lint's cache, removed afterwards
  const auto r =
      sh("cd " + (source_dir() / "ansible").string() + " && HOME=" + home.path().string() +
         " ansible-lint --offline --nocolor roles/cnmkit playbooks 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Passed with production profile"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace cnm::test
