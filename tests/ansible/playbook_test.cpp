// The fleet playbook (ansible/playbooks/cnmkit.yml) run for real by ansible-playbook over several
// hosts that are scratch host trees on this machine (connection local, package step off, the
// build tree's cnmctl): what one host's failure does to the others, and what a removal runs.
// tests/ansible/fleet_test.cpp runs the same playbook over real userlands with the packages.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "tests/ansible/play_report.h"
#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

using nlohmann::json;

constexpr const char* kInstallTask = "Install or update the probe with cnmctl";

// The fleet playbook's run over several hosts.
struct FleetPlay : PlayResult {
  // One play's task results for a host: task name (role prefix dropped) -> result.
  std::vector<std::pair<std::string, json>> results(std::size_t play,
                                                    const std::string& host) const {
    std::vector<std::pair<std::string, json>> out;
    each_result([&](std::size_t p, const std::string& name, const std::string& h, const json& r) {
      if (p == play && h == host) out.emplace_back(name, r);
    });
    return out;
  }
  bool ran(const std::string& host, const std::string& task) const {
    bool ran = false;
    each_result([&](std::size_t, const std::string& name, const std::string& h, const json& r) {
      ran = ran || (h == host && name == task && !r.value("skipped", false));
    });
    return ran;
  }
};

json row_of(const json& report, const std::string& host) {
  for (const auto& r : report["hosts"])
    if (r["host"] == host) return r;
  ADD_FAILURE() << "no row for " << host << " in " << report.dump();
  return json::object();
}

class AnsiblePlaybook : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto* h : {"good", "broken", "forged"}) {
      write_file(root(h) / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
      write_file(root(h) / "etc/group", "root:x:0:\ndd-agent:x:998:\n");
    }
    // A cnmctl whose preflight answers JSON the fleet report refuses (an edited or corrupted
    // answer): exit 0, so only the report can tell. Every other command is the real cnmctl's,
    // so a rollout that went on anyway would install and the test would see the config.
    write_file(dir_ / "forged-cnmctl", "#!/bin/sh\nreal=" + cnmctl() + "\n" + R"(case " $* " in
  *" preflight "*) echo '{"verdict": "supported"}' ;;
  *) exec "$real" "$@" ;;
esac
)");
    ::chmod((dir_ / "forged-cnmctl").c_str(), 0755);
    const auto debian9 = (source_dir() / "tests/checks/hosts/debian-9").string();
    const json inventory = {
        {"cnmkit",
         {{"vars",
           {{"ansible_connection", "local"},
            {"ansible_become", false},
            {"ansible_python_interpreter", "/usr/bin/python3"},
            {"cnmkit_package", false},
            {"cnmkit_cnmctl", cnmctl()},
            {"cnmkit_report_cnmctl", cnmctl()},
            {"cnmkit_archive", CNM_RELEASE_ARCHIVE},
            {"cnmkit_service_manager", "none"},
            {"cnmkit_owner", "root:dd-agent"},
            {"cnmkit_selinux", "never"},
            {"cnmkit_report_dir", report_dir().string()}}},
          {"hosts",
           {{"good", {{"cnmkit_root", root("good").string()}, {"cnmkit_preflight_root", debian9}}},
            // cnmctl preflight exits 2 (no answer, empty stdout).
            {"broken",
             {{"cnmkit_root", root("broken").string()},
              {"cnmkit_preflight_root", (dir_ / "no-such-host-tree").string()}}},
            {"forged",
             {{"cnmkit_root", root("forged").string()},
              {"cnmkit_preflight_root", debian9},
              {"cnmkit_cnmctl", (dir_ / "forged-cnmctl").string()}}}}}}}};
    write_file(dir_ / "inventory.yml", inventory.dump(2));  // YAML is a superset of JSON
  }

  FleetPlay play(const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = {"-i", (dir_ / "inventory.yml").string(),
                                     "playbooks/cnmkit.yml"};
    args.insert(args.end(), flags.begin(), flags.end());
    return FleetPlay{
        run_playbook(playbook_command(source_dir() / "ansible", dir_.path(),
                                      {"ANSIBLE_LOCALHOST_WARNING=0", "ANSIBLE_FORKS=5"}, args))};
  }

  std::filesystem::path root(const std::string& host) const { return dir_ / "roots" / host; }
  std::filesystem::path config(const std::string& host) const {
    return root(host) / "etc/cnmkit/system-probe.yaml";
  }
  std::filesystem::path report_dir() const { return dir_ / "report"; }

  TempDir dir_;
};

// A host whose preflight errors (exit 2, empty stdout) and a host whose answer the fleet report
// refuses are each listed as failed with why; the report is written and the others are rolled
// out. Neither leaves an answer file behind that the report would read.
TEST_F(AnsiblePlaybook, OneBadHostIsListedAsFailedAndTheOthersGoOn) {
  const auto r = play();
  ASSERT_FALSE(r.doc.is_null()) << r.err;
  EXPECT_NE(r.exit_code, 0) << "two hosts failed";
  EXPECT_EQ(r.stat("good", "failures"), 0) << r.doc["stats"].dump();
  EXPECT_EQ(r.stat("broken", "failures"), 1) << r.doc["stats"].dump();
  EXPECT_EQ(r.stat("forged", "failures"), 1) << r.doc["stats"].dump();
  EXPECT_TRUE(r.ran("good", kInstallTask));
  EXPECT_TRUE(std::filesystem::exists(config("good"))) << "the fit host was rolled out";
  EXPECT_FALSE(r.ran("broken", kInstallTask));
  EXPECT_FALSE(r.ran("forged", kInstallTask));
  EXPECT_FALSE(std::filesystem::exists(config("forged")));

  const auto report = json::parse(read_file(report_dir() / "fleet-report.json"));
  EXPECT_EQ(report["summary"]["hosts"], 3) << report.dump();
  const auto good = row_of(report, "good");
  EXPECT_EQ(good["state"], "supported") << good.dump();
  EXPECT_EQ(good["rollout"], true);
  const auto broken = row_of(report, "broken");
  EXPECT_EQ(broken["state"], "failed") << broken.dump();
  EXPECT_NE(broken.value("reason", "").find("Directory does not exist"), std::string::npos)
      << "cnmctl's own error, not only Ansible's \"non-zero return code\": " << broken.dump();
  const auto forged = row_of(report, "forged");
  EXPECT_EQ(forged["state"], "failed") << forged.dump();
  EXPECT_NE(forged.value("reason", "").find("not a preflight report"), std::string::npos)
      << forged.dump();
  EXPECT_FALSE(std::filesystem::exists(report_dir() / "hosts/broken.json"))
      << "an empty answer was saved";
}

// With the preflight's gate off (cnmkit_preflight: false) a host whose preflight errors is
// rolled out like the others; the report still lists it as failed, with cnmctl's error. A
// forged answer is still refused (the report cannot read it).
TEST_F(AnsiblePlaybook, WithoutThePreflightGateAHostWhosePreflightErrsIsRolledOut) {
  const auto r = play({"-e", "cnmkit_preflight=false"});
  ASSERT_FALSE(r.doc.is_null()) << r.err;
  EXPECT_EQ(r.stat("broken", "failures"), 0) << r.doc["stats"].dump();
  EXPECT_TRUE(r.ran("broken", kInstallTask));
  EXPECT_TRUE(std::filesystem::exists(config("broken")));
  EXPECT_EQ(r.stat("forged", "failures"), 1) << r.doc["stats"].dump();
  const auto report = json::parse(read_file(report_dir() / "fleet-report.json"));
  const auto broken = row_of(report, "broken");
  EXPECT_EQ(broken["state"], "failed") << broken.dump();
  const std::string reason = broken.value("reason", "");
  EXPECT_NE(reason.find("cnmctl preflight failed (exit 2): "), std::string::npos) << reason;
  EXPECT_NE(reason.find("Directory does not exist"), std::string::npos) << reason;
  EXPECT_NE(reason.find("rolled out anyway"), std::string::npos) << reason;
  // The report says who is rolled out: every host the rollout went on to, not only those its
  // preflight passed; the forged one failed before the rollout.
  EXPECT_EQ(broken["rollout"], true) << broken.dump();
  EXPECT_EQ(broken["ungated"], true) << broken.dump();
  EXPECT_EQ(row_of(report, "good")["ungated"], true);
  EXPECT_EQ(row_of(report, "forged")["rollout"], false);
  EXPECT_EQ(report["left_out"], json({"forged"})) << report.dump();
}

// The gate is each host's own: with it off for one host in the inventory, only that host is
// rolled out whatever its answer says and marked so; the others keep theirs (the report, run
// once on the controller, reads each host's own setting, not the first host's).
TEST_F(AnsiblePlaybook, TheGateIsEachHostsOwnInTheReport) {
  auto inventory = json::parse(read_file(dir_ / "inventory.yml"));
  inventory["cnmkit"]["hosts"]["broken"]["cnmkit_preflight"] = false;
  write_file(dir_ / "inventory.yml", inventory.dump(2));
  const auto r = play();
  ASSERT_FALSE(r.doc.is_null()) << r.err;
  EXPECT_EQ(r.stat("broken", "failures"), 0) << r.doc["stats"].dump();
  EXPECT_TRUE(std::filesystem::exists(config("broken")));
  const auto report = json::parse(read_file(report_dir() / "fleet-report.json"));
  EXPECT_EQ(row_of(report, "broken")["ungated"], true) << report.dump();
  EXPECT_EQ(row_of(report, "broken")["rollout"], true);
  EXPECT_EQ(row_of(report, "good")["ungated"], false);
  EXPECT_EQ(row_of(report, "forged")["ungated"], false);
  EXPECT_EQ(report["summary"]["ungated"], 1);
}

// A run limited to some hosts (--limit) still reports the whole group: the others with the
// answer a real run saved (marked earlier_run), or as failed without one (forged: its answer
// was refused, so none was kept); an earlier answer the report refuses is listed with why and
// dropped, and a controller whose cnmctl cannot run loses none. A check-mode run writes its
// report under check/, leaving the real one as it was. A host out of the group leaves it.
TEST_F(AnsiblePlaybook, ALimitedRunReportsTheRestOfTheGroupFromEarlierAnswers) {
  const std::time_t started = std::time(nullptr);
  const auto first = play();
  ASSERT_FALSE(first.doc.is_null()) << first.err;
  EXPECT_TRUE(std::filesystem::exists(report_dir() / "hosts/good.json"));
  EXPECT_FALSE(std::filesystem::exists(report_dir() / "hosts/forged.json"))
      << "the answer the report refused was kept";

  ASSERT_FALSE(play({"--limit", "broken"}).doc.is_null());
  auto report = json::parse(read_file(report_dir() / "fleet-report.json"));
  EXPECT_EQ(report["summary"]["hosts"], 3) << report.dump();
  EXPECT_EQ(report["summary"]["earlier_run"], 1) << report.dump();
  EXPECT_EQ(row_of(report, "good")["earlier_run"], true) << report.dump();
  EXPECT_EQ(row_of(report, "good")["state"], "supported") << report.dump();
  // Dated by the run that took it: the first play wrote the file the report read.
  const std::string at = row_of(report, "good").value("answered_at", "");
  std::tm tm{};
  ASSERT_NE(::strptime(at.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << report.dump();
  struct stat saved {};
  ASSERT_EQ(::stat((report_dir() / "hosts/good.json").c_str(), &saved), 0);
  EXPECT_EQ(::timegm(&tm), saved.st_mtime) << at;
  EXPECT_GE(saved.st_mtime, started) << "not written by the first play";
  EXPECT_EQ(row_of(report, "broken")["earlier_run"], false) << report.dump();
  EXPECT_NE(row_of(report, "forged").value("reason", "").find("no answer saved by an earlier"),
            std::string::npos)
      << report.dump();
  EXPECT_NE(read_file(report_dir() / "fleet-report.md").find("Answers kept from an earlier run"),
            std::string::npos);

  const auto real = read_file(report_dir() / "fleet-report.json");
  const auto check = play({"--limit", "broken", "--check"});
  ASSERT_FALSE(check.doc.is_null()) << check.err;
  EXPECT_EQ(read_file(report_dir() / "fleet-report.json"), real) << "check mode replaced it";
  const auto dry = json::parse(read_file(report_dir() / "check/fleet-report.json"));
  EXPECT_EQ(dry["summary"]["hosts"], 3) << dry.dump();
  EXPECT_EQ(row_of(dry, "good")["earlier_run"], true) << "a real run's answer: " << dry.dump();

  // A controller whose cnmctl cannot run: the run stops, and no saved answer is lost.
  const auto no_cnmctl =
      play({"--limit", "broken", "-e", "cnmkit_report_cnmctl=" + (dir_ / "none").string()});
  EXPECT_NE(no_cnmctl.exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(report_dir() / "hosts/good.json"));

  // An earlier answer the report refuses is listed with why, and dropped.
  write_file(report_dir() / "hosts/good.json", R"({"verdict": "supported"})");
  ASSERT_FALSE(play({"--limit", "broken"}).doc.is_null());
  report = json::parse(read_file(report_dir() / "fleet-report.json"));
  EXPECT_NE(row_of(report, "good").value("reason", "").find("earlier run saved was refused"),
            std::string::npos)
      << report.dump();
  EXPECT_FALSE(std::filesystem::exists(report_dir() / "hosts/good.json"));

  // The good host out of the group: it leaves the report.
  auto inventory = json::parse(read_file(dir_ / "inventory.yml"));
  inventory["others"]["hosts"]["good"] = inventory["cnmkit"]["hosts"]["good"];
  inventory["others"]["vars"] = inventory["cnmkit"]["vars"];
  inventory["cnmkit"]["hosts"].erase("good");
  write_file(dir_ / "inventory.yml", inventory.dump(2));
  ASSERT_FALSE(play({"--limit", "broken"}).doc.is_null());
  report = json::parse(read_file(report_dir() / "fleet-report.json"));
  EXPECT_EQ(report["summary"]["hosts"], 2) << report.dump();
}

// `-e cnmkit_state=absent` (the README's removal) installs and checks nothing first: every task
// of the fleet play is skipped (even with the package step on and no package to copy), no
// report is written; the rollout play removes the probe.
TEST_F(AnsiblePlaybook, RemovalInstallsNothingFirst) {
  const std::string good = "--limit good";
  const auto present = play({good});
  ASSERT_EQ(present.exit_code, 0) << present.err;
  ASSERT_TRUE(std::filesystem::exists(config("good")));
  EXPECT_TRUE(present.ran("good", kPreflightTask)) << "a present-state play runs the preflight";
  std::filesystem::remove_all(report_dir());

  const auto check = play({good, "--check", "-e cnmkit_state=absent", "-e cnmkit_package=true",
                           "-e cnmkit_package_dir=" + (dir_ / "no-packages").string(),
                           "-e cnmkit_cache_dir=" + (dir_ / "cache").string()});
  ASSERT_FALSE(check.doc.is_null()) << check.err;
  EXPECT_EQ(check.exit_code, 0) << check.doc["stats"].dump();
  const auto fleet_play = check.results(0, "good");
  EXPECT_FALSE(fleet_play.empty());
  for (const auto& [name, result] : fleet_play)
    if (name != "Fleet preflight" && name.rfind("Validating arguments", 0) != 0) {
      EXPECT_TRUE(result.value("skipped", false)) << name << " ran: " << result.dump();
    }
  EXPECT_FALSE(std::filesystem::exists(report_dir())) << "the fleet report was written";
  EXPECT_FALSE(std::filesystem::exists(dir_ / "cache")) << "the package step ran";
  EXPECT_TRUE(check.ran("good", "Uninstall the probe with cnmctl"));

  const auto gone = play({good, "-e cnmkit_state=absent"});
  EXPECT_EQ(gone.exit_code, 0) << gone.doc["stats"].dump();
  EXPECT_FALSE(gone.ran("good", kPreflightTask)) << "no preflight before a removal";
  EXPECT_FALSE(std::filesystem::exists(config("good")));
  EXPECT_FALSE(std::filesystem::exists(report_dir()));
}

// One run that removes some hosts and rolls out the others: the host being removed comes first
// in the play (the report's merge runs once, on the first host), yet the report is written for
// the others, without it; it is removed, the others are checked and rolled out.
TEST_F(AnsiblePlaybook, AHostBeingRemovedFirstInThePlayLeavesTheReportToTheOthers) {
  ASSERT_EQ(play({"--limit", "good,broken"}).exit_code, 2) << "broken has no preflight answer";
  auto inventory = json::parse(read_file(dir_ / "inventory.yml"));
  // "broken" sorts first: the play's first host.
  inventory["cnmkit"]["hosts"]["broken"]["cnmkit_state"] = "absent";
  write_file(dir_ / "inventory.yml", inventory.dump(2));
  std::filesystem::remove_all(report_dir());
  const auto r = play({"--limit", "good,broken"});
  ASSERT_FALSE(r.doc.is_null()) << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.doc["stats"].dump();
  EXPECT_FALSE(r.ran("broken", kPreflightTask));
  EXPECT_TRUE(r.ran("broken", "Uninstall the probe with cnmctl"));
  EXPECT_TRUE(r.ran("good", kInstallTask));
  ASSERT_TRUE(std::filesystem::exists(report_dir() / "fleet-report.json"))
      << "the first host's removal skipped the report";
  const auto report = json::parse(read_file(report_dir() / "fleet-report.json"));
  // good, and forged from outside the run (--limit) without an answer; broken is not reported.
  EXPECT_EQ(report["summary"]["hosts"], 2) << report.dump();
  EXPECT_EQ(row_of(report, "good")["rollout"], true) << report.dump();
  EXPECT_EQ(row_of(report, "forged")["state"], "failed") << report.dump();
}

}  // namespace
}  // namespace cnm::test
