// The fleet rollout as an operator runs it: the real ansible-playbook runs
// ansible/playbooks/cnmkit.yml against three hosts that are real, different userlands on this
// machine, reached through community.general.chroot (Debian's ansible package):
//   bookworm  the cached Debian 12 root (tests/installer/nspawn/make_root.sh) plus a layer with
//             python3 (make_python_layer.sh); installs cnmkit from an apt repository (a flat
//             file: repository, the host's only source); SELinux configured enforcing with a
//             copy of this machine's policy store (the kernel has no SELinux: the module goes
//             in for the next boot, as on a host about to reboot into enforcing)
//   bullseye  a Debian 11 root (glibc 2.31, tests/support/make_bullseye_root.sh); the package is
//             copied from the controller
//   centos75  the CentOS 7.5 fixture's identity files (tests/checks/hosts/centos-7.5, with a
//             template expression in PRETTY_NAME) over the Debian 12 userland: only Python and
//             the package tools are Debian's, so its package format is set to deb (no RPM
//             userland exists on this machine: the .rpm path of the role is not run here)
// The packages are the ones this build tree makes (packaging/). Each host runs in its own mount and
// PID namespaces (fleet_host.h), so the probe the role starts through SysV runs for real and
// dies with the test.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/ansible/fleet_host.h"
#include "tests/ansible/play_report.h"
#include "tests/installer/tree_snapshot.h"
#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

using nlohmann::json;

std::string trimmed(const std::string& s) {
  const auto e = s.find_last_not_of(" \n\r\t");
  return e == std::string::npos ? "" : s.substr(0, e + 1);
}

std::string cached_root(const std::vector<std::string>& argv) {
  const auto r = run(argv);
  EXPECT_EQ(r.exit_code, 0) << argv[1] << ": " << r.err;
  return trimmed(r.out);
}

// The fleet's run over the three userlands.
struct FleetRun : PlayResult {
  // Each failed or unreachable task result, for failure messages.
  std::string failed_tasks() const {
    std::string out;
    each_result([&](std::size_t, const std::string& name, const std::string& host, const json& r) {
      if (r.value("failed", false) || r.value("unreachable", false))
        out += host + ": " + name + ": " + r.dump().substr(0, 1500) + "\n";
    });
    return out;
  }
  // Every result of a task (role prefix dropped) for one host, in play order.
  std::vector<json> results(const std::string& host, const std::string& task) const {
    std::vector<json> out;
    each_result([&](std::size_t, const std::string& name, const std::string& h, const json& r) {
      if (name == task && h == host) out.push_back(r);
    });
    return out;
  }
};

const char* const kHosts[] = {"bookworm", "bullseye", "centos75"};

class Fleet : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto bookworm =
        cached_root({"bash", (source_dir() / "tests/installer/nspawn/make_root.sh").string()});
    const auto python = cached_root(
        {"bash", (source_dir() / "tests/ansible/make_python_layer.sh").string(), bookworm});
    const auto bullseye =
        cached_root({"bash", (source_dir() / "tests/support/make_bullseye_root.sh").string()});
    ASSERT_FALSE(HasFailure());
    build_packages();
    ASSERT_FALSE(HasFailure());

    const auto hosts = dir_ / "hosts";
    std::filesystem::create_directories(hosts);
    FleetHost::write_enter_script(hosts);
    // The CentOS 7.5 fixture's identity; a template expression in its name must reach the
    // report as text, never be evaluated by Ansible on the controller.
    const auto fixture = source_dir() / "tests/checks/hosts/centos-7.5/etc";
    const auto identity = dir_ / "centos-identity";
    std::string os_release = read_file(fixture / "os-release");
    os_release += "PRETTY_NAME=\"CentOS Linux 7 (Core) {{ 7 * 7 }}\"\n";
    write_file(identity / "etc/os-release", os_release);
    std::filesystem::copy_file(fixture / "centos-release", identity / "etc/centos-release");

    hosts_.push_back(std::make_unique<FleetHost>(
        hosts, "bookworm", std::vector<std::filesystem::path>{python, bookworm}));
    hosts_.push_back(std::make_unique<FleetHost>(hosts, "bullseye",
                                                 std::vector<std::filesystem::path>{bullseye}));
    hosts_.push_back(std::make_unique<FleetHost>(
        hosts, "centos75", std::vector<std::filesystem::path>{identity, python, bookworm}));
    for (const auto& h : hosts_) ASSERT_EQ(h->error(), "");

    prepare_repository(*hosts_[0]);
    prepare_selinux_store(*hosts_[0]);
    std::filesystem::remove(hosts_[2]->root() / "etc/debian_version");
    for (const auto& h : hosts_) ASSERT_TRUE(h->start()) << h->error();
    write_inventory();
  }

  // cnmkit's packages as the tree builds them (packaging/), in the folder the role copies from.
  void build_packages() {
    std::filesystem::create_directories(packages());
    for (const std::filesystem::path p : {CNM_DEB_PACKAGE, CNM_RPM_PACKAGE})
      std::filesystem::copy_file(p, packages() / p.filename());
    deb_ = packages() / std::filesystem::path(CNM_DEB_PACKAGE).filename();
  }

  // A flat apt repository in the host, its only source: the role's repository path, offline.
  void prepare_repository(const FleetHost& h) {
    const auto repo = h.root() / "srv/cnmkit-repo";
    std::filesystem::create_directories(repo);
    std::filesystem::copy_file(deb_, repo / deb_.filename());
    const auto scan =
        sh("cd " + repo.string() + " && dpkg-scanpackages --multiversion . > Packages");
    ASSERT_EQ(scan.exit_code, 0) << scan.err;
    write_file(h.root() / "etc/apt/sources.list", "");
  }

  // The repository's package again under another version (its control file's Version), and
  // the index made again: a release published after the host last read the index.
  void publish(const FleetHost& h, const std::string& version) {
    const auto repo = h.root() / "srv/cnmkit-repo";
    const auto unpacked = dir_ / ("deb-" + version);
    const auto built =
        sh("dpkg-deb -R " + deb_.string() + " " + unpacked.string() +
           " && sed -i 's/^Version: .*/Version: " + version + "/' " +
           (unpacked / "DEBIAN/control").string() + " && dpkg-deb -b " + unpacked.string() + " " +
           (repo / ("cnmkit_" + version + ".deb")).string() + " && cd " + repo.string() +
           " && dpkg-scanpackages --multiversion . > Packages");
    ASSERT_EQ(built.exit_code, 0) << built.err;
  }

  // This machine's SELinux policy store (selinux-policy-default), configured enforcing.
  void prepare_selinux_store(const FleetHost& h) {
    const auto cp = sh("cp -a /etc/selinux " + (h.root() / "etc").string() + " && mkdir -p " +
                       (h.root() / "var/lib").string() + " && cp -a /var/lib/selinux " +
                       (h.root() / "var/lib").string());
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
    write_file(h.root() / "etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=default\n");
  }

  void write_inventory() {
    const auto root_of = [this](int i) { return hosts_[i]->root().string(); };
    json inv = {
        {"cnmkit",
         {{"vars",
           {{"ansible_connection", "community.general.chroot"},
            {"ansible_chroot_exe", (dir_ / "hosts/enter-host").string()},
            {"ansible_python_interpreter", "/usr/bin/python3"},
            {"cnmkit_package_dir", packages().string()},
            {"cnmkit_report_dir", report_dir().string()},
            {"cnmkit_report_cnmctl", cnmctl()},
            {"cnmkit_owner", "root:root"}}},
          {"hosts",
           {{"bookworm",
             {{"ansible_host", root_of(0)},
              {"cnmkit_package_source", "repository"},
              {"cnmkit_apt_repository", "deb [trusted=yes] file:/srv/cnmkit-repo ./"}}},
            {"bullseye", {{"ansible_host", root_of(1)}}},
            {"centos75", {{"ansible_host", root_of(2)}, {"cnmkit_package_format", "deb"}}}}}}}};
    write_file(dir_ / "inventory.json", inv.dump(2));  // YAML is a superset of JSON
    std::filesystem::rename(dir_ / "inventory.json", dir_ / "inventory.yml");
  }

  FleetRun play(const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = {"-i", (dir_ / "inventory.yml").string(),
                                     "playbooks/cnmkit.yml"};
    args.insert(args.end(), flags.begin(), flags.end());
    FleetRun p{run_playbook(playbook_command(source_dir() / "ansible", dir_.path(),
                                             {"ANSIBLE_PIPELINING=1", "ANSIBLE_FORKS=5"}, args))};
    // CNM_FLEET_KEEP=DIR keeps each run's output there (for debugging a failure): stdout as
    // printed, so a run whose report is not JSON is kept too, then stderr.
    if (const char* keep = std::getenv("CNM_FLEET_KEEP"))
      write_file(std::filesystem::path(keep) / ("play-" + std::to_string(++plays_) + ".json"),
                 p.raw_out + p.err);
    return p;
  }

  std::filesystem::path packages() const { return dir_ / "packages"; }
  std::filesystem::path report_dir() const { return dir_ / "report"; }
  FleetHost& host(const std::string& name) {
    for (auto& h : hosts_)
      if (h->name() == name) return *h;
    throw std::out_of_range(name);
  }

  TempDir dir_;
  int plays_ = 0;
  std::filesystem::path deb_;
  std::vector<std::unique_ptr<FleetHost>> hosts_;
};

// Every host's changes (its overlay's upper folder), less what is not the role's: Ansible's own
// transport (its remote temp folder ~/.ansible, which copies /root up, files it puts in /tmp and
// removes) and apt's binary caches
// (python-apt rebuilds them when it opens a cache older than dpkg's database).
Tree changes_of(const FleetHost& h) {
  Tree t = snapshot(h.upper());
  std::erase_if(t, [](const auto& e) {
    const auto& p = e.first;
    return p == "tmp" || p == "root" || p.starts_with("root/.ansible") || p == "var/cache/apt" ||
           (p.starts_with("var/cache/apt/") && p.ends_with(".bin"));
  });
  return t;
}

// The cnmkit version dpkg has installed on a host.
std::string dpkg_version(const FleetHost& h) {
  return trimmed(h.exec({"dpkg-query", "-W", "-f=${Version}", "cnmkit"}).out);
}

json row_of(const json& report, const std::string& host) {
  for (const auto& r : report["hosts"])
    if (r["host"] == host) return r;
  ADD_FAILURE() << "no row for " << host << " in " << report.dump();
  return json::object();
}

TEST_F(Fleet, RollsOutToFitHostsLeavesOutTheUnfitOneAndReportsEveryHost) {
  // ---- Check mode on the fresh fleet: nothing changes; each host says cnmkit comes first.
  std::map<std::string, Tree> fresh;
  for (const auto* h : kHosts) fresh[h] = changes_of(host(h));
  const auto dry = play({"--check", "--diff"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err << dry.failed_tasks();
  for (const auto* h : kHosts) {
    EXPECT_EQ(tree_diff(fresh[h], changes_of(host(h))), "") << h << " changed in check mode";
    EXPECT_EQ(dry.results(h, "Say what a real run would do first").size(), 1u) << h;
  }
  // Check mode's report is its own (check/): the real one is the fleet as it is.
  EXPECT_FALSE(std::filesystem::exists(report_dir() / "fleet-report.json"));
  const auto dry_report = json::parse(read_file(report_dir() / "check/fleet-report.json"));
  for (const auto* h : kHosts)
    EXPECT_NE(row_of(dry_report, h).value("reason", "").find("check mode: cnmkit"),
              std::string::npos)
        << h;

  // ---- First run: package, preflight and report on all three; the rollout on the fit ones.
  const auto first = play();
  ASSERT_FALSE(first.doc.is_null()) << first.err;
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.stat("bookworm", "failures"), 0) << first.failed_tasks();
  EXPECT_EQ(first.stat("centos75", "failures"), 0) << "an unsupported host is not a failure";
  EXPECT_EQ(first.stat("bullseye", "failures"), 0) << "the static package starts on glibc 2.31";

  const auto report = json::parse(read_file(report_dir() / "fleet-report.json"));
  EXPECT_EQ(report["summary"]["hosts"], 3);
  auto bookworm = row_of(report, "bookworm");
  EXPECT_EQ(bookworm["state"], "supported") << bookworm.dump();
  EXPECT_EQ(bookworm["rollout"], true);
  EXPECT_EQ(bookworm["distro_id"], "debian");
  EXPECT_EQ(bookworm["distro_version"], "12");
  auto centos = row_of(report, "centos75");
  EXPECT_EQ(centos["state"], "unsupported") << centos.dump();
  EXPECT_EQ(centos["rollout"], false);
  EXPECT_EQ(centos["distro_id"], "centos");
  EXPECT_EQ(centos["distro_version"], "7.5.1804");
  EXPECT_EQ(centos["failing_checks"], json({"distro.supported"})) << centos.dump();
  ASSERT_EQ(centos["fixes"].size(), 1u);
  EXPECT_NE(centos["fixes"][0].get<std::string>().find("7.6"), std::string::npos);
  auto bullseye = row_of(report, "bullseye");
  EXPECT_EQ(bullseye["state"], "supported") << bullseye.dump();
  EXPECT_EQ(bullseye["distro_version"], "11");
  EXPECT_EQ(bullseye["rollout"], true);
  EXPECT_EQ(report["groups"][0]["distro_id"], "centos") << "the unsupported group comes first";
  // The host's text reached the report as text.
  const auto md = read_file(report_dir() / "fleet-report.md");
  EXPECT_NE(md.find("{{ 7 \\* 7 }}"), std::string::npos) << md;
  EXPECT_EQ(md.find("Core) 49"), std::string::npos);
  EXPECT_NE(md.find("| centos75 | unsupported |"), std::string::npos) << md;
  const auto csv = read_file(report_dir() / "fleet-report.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4) << csv;
  EXPECT_NE(csv.find("\nbookworm,supported,yes,debian,12,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\ncentos75,unsupported,no,centos,7.5.1804,"), std::string::npos) << csv;

  // bookworm: installed from the repository, probe running under SysV and healthy, SELinux
  // module in the store and the binary labelled.
  auto& bw = host("bookworm");
  EXPECT_TRUE(std::filesystem::exists(bw.root() / "etc/apt/sources.list.d/cnmkit.list"));
  const auto status =
      json::parse(bw.exec({"/usr/bin/cnmctl", "status", "--json"}).out, nullptr, false);
  EXPECT_EQ(status.value("installed", false), true) << status.dump();
  EXPECT_EQ(status["service"].value("active", false), true) << status.dump();
  EXPECT_EQ(status["health"].value("ok", false), true) << status.dump();
  const auto se =
      json::parse(bw.exec({"/usr/bin/cnmctl", "selinux", "status", "--json"}).out, nullptr, false);
  EXPECT_EQ(se.value("module_installed", false), true) << se.dump();
  EXPECT_EQ(se["binary_labeled"], true) << se.dump();
  // centos75: cnmkit's package (for the preflight), nothing of the probe.
  auto& c7 = host("centos75");
  EXPECT_TRUE(std::filesystem::exists(c7.root() / "usr/bin/cnmctl"));
  EXPECT_FALSE(std::filesystem::exists(c7.root() / "etc/cnmkit/system-probe.yaml"));
  EXPECT_TRUE(first.results("centos75", "Install or update the probe with cnmctl").empty());
  EXPECT_TRUE(std::filesystem::exists(host("bullseye").root() / "etc/cnmkit/system-probe.yaml"));

  // ---- Second run: nothing changes anywhere.
  std::map<std::string, Tree> before;
  for (const auto* h : kHosts) before[h] = changes_of(host(h));
  const auto second = play();
  EXPECT_EQ(second.exit_code, first.exit_code) << second.err;
  for (const auto* h : kHosts) EXPECT_EQ(second.stat(h, "changed"), 0) << h;
  for (const auto* h : kHosts) EXPECT_EQ(tree_diff(before[h], changes_of(host(h))), "") << h;
  // The rollout changed the hosts (bookworm's SELinux module is in now): the report says so.
  EXPECT_NE(read_file(report_dir() / "hosts/bookworm.json"), "");
  const auto real_report = [&] {  // the real run's report, check mode's own aside
    Tree t = snapshot(report_dir());
    std::erase_if(t, [](const auto& e) { return e.first.starts_with("check"); });
    return t;
  };
  const auto report_before = real_report();
  for (const auto* h : kHosts) before[h] = changes_of(host(h));

  // ---- Check and diff mode with a new setting: the diff shows it, nothing changes.
  const auto check =
      play({"--check", "--diff", "-e",
            "'{\"cnmkit_settings\": {\"system_probe_config.max_tracked_connections\": 4242}}'"});
  EXPECT_EQ(check.exit_code, first.exit_code) << check.err;
  const auto install = check.results("bookworm", "Install or update the probe with cnmctl");
  ASSERT_EQ(install.size(), 1u);
  EXPECT_TRUE(install[0]["changed"].get<bool>()) << install[0].dump();
  EXPECT_NE(install[0]["diff"].dump().find("max_tracked_connections: 4242"), std::string::npos)
      << install[0].dump();
  for (const auto* h : kHosts) {
    const auto now = changes_of(host(h));
    EXPECT_EQ(tree_diff(before[h], now), "") << h << " changed in check mode";
    for (const auto& [p, n] : before[h])
      if (now.count(p)) {
        EXPECT_EQ(now.at(p).mtime_ns, n.mtime_ns) << h << ": " << p;
      }
  }
  EXPECT_EQ(read_file(bw.root() / "etc/cnmkit/system-probe.yaml").find("4242"), std::string::npos);
  const auto report_after = real_report();
  EXPECT_EQ(tree_diff(report_before, report_after), "") << "same hosts, same report";
  for (const auto& [p, n] : report_before) {
    if (report_after.count(p)) {
      EXPECT_EQ(report_after.at(p).mtime_ns, n.mtime_ns) << "rewritten unchanged: " << p;
    }
  }

  // ---- A new pin published after bookworm read the repository's index: the role reads it
  // again and upgrades; the old pin again is a rollback, which apt refuses unless asked.
  const std::string installed = dpkg_version(bw);
  const std::string newer = installed + ".1";
  publish(bw, newer);
  const auto pin = [&](const std::string& v) {
    return play({"--limit", "bookworm", "-e", "cnmkit_version=" + v});
  };
  const auto up = pin(newer);
  EXPECT_EQ(up.stat("bookworm", "failures"), 0) << up.failed_tasks();
  EXPECT_EQ(dpkg_version(bw), newer);
  const auto back = pin(installed);
  EXPECT_EQ(back.stat("bookworm", "failures"), 0) << back.failed_tasks();
  EXPECT_EQ(dpkg_version(bw), installed);
  // A held package (apt-mark hold) stays as it is: the role fails the host, naming the hold,
  // and changes nothing; released, the pin is installed.
  ASSERT_EQ(bw.exec({"apt-mark", "hold", "cnmkit"}).exit_code, 0);
  const auto held = pin(newer);
  EXPECT_EQ(held.stat("bookworm", "failures"), 1) << held.raw_out;
  const auto why =
      held.results("bookworm", "Stop where apt holds another cnmkit version than the pin");
  ASSERT_EQ(why.size(), 1u) << held.failed_tasks();
  EXPECT_NE(why[0].value("msg", "").find("cnmkit " + installed + " is held"), std::string::npos)
      << why[0].dump();
  EXPECT_EQ(dpkg_version(bw), installed);
  EXPECT_EQ(pin(installed).stat("bookworm", "failures"), 0) << "the held version is the pin";
  ASSERT_EQ(bw.exec({"apt-mark", "unhold", "cnmkit"}).exit_code, 0);
  // Those runs were limited to bookworm: the report still holds the fleet, the other two with
  // the answers they gave before.
  const auto limited = json::parse(read_file(report_dir() / "fleet-report.json"));
  EXPECT_EQ(limited["summary"]["hosts"], 3) << limited.dump();
  EXPECT_EQ(limited["summary"]["earlier_run"], 2) << limited.dump();
  EXPECT_EQ(row_of(limited, "centos75")["state"], "unsupported") << limited.dump();
  EXPECT_EQ(row_of(limited, "bookworm")["earlier_run"], false) << limited.dump();
  // A pin the repository does not hold fails the host, naming the version installed.
  const auto missing = pin(installed + ".9");
  EXPECT_EQ(missing.stat("bookworm", "failures"), 1) << missing.raw_out;
  EXPECT_EQ(dpkg_version(bw), installed);
}

}  // namespace
}  // namespace cnm::test
