// The ladder's rungs on this kernel, for real: the kprobe rung runs where the kernel has kprobes
// and, where it has none, the daemon says so and stops; without the kernel's BTF (hidden from the
// daemon in a mount namespace of its own) the daemon relocates with a BTF file, the one it
// carries for this kernel or one the config names, and takes the best rung that needs no kernel
// BTF. Exact numbers on each rung are the ground-truth tests' (probe_modes()).
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "probe/btf_archive.h"
#include "tests/probe/probe_daemon.h"
#include "tests/support/tar_writer.h"

namespace cnm::test {
namespace {

std::string release() {
  utsname u{};
  ::uname(&u);
  return u.release;
}

TEST(ProbeRungs, KprobeRungRunsOrSaysWhyNot) {
  if (kernel_has_kprobes()) {
    ProbeDaemon d("network_config:\n  hook_set: kprobe\n");
    const auto s = d.get_json("/debug/stats");
    EXPECT_EQ(s["rung"]["name"], "kprobe") << s.dump();
    EXPECT_EQ(s["hooks"][0], "kprobe/tcp_set_state") << s.dump();
    EXPECT_FALSE(s["rung"]["kprobes_through"].get<std::string>().empty());
    return;
  }
  // This machine's kernel has no CONFIG_KPROBES: forcing the rung must stop the daemon with why.
  TempDir dir;
  write_file(dir / "c.yaml",
             "auth_token_file_path: " + (dir / "tok").string() +
                 "\nsystem_probe_config:\n  sysprobe_socket: " + (dir / "s.sock").string() +
                 "\nnetwork_config:\n  hook_set: kprobe\n");
  const auto r = run({cnm_probe_path(), "--config", (dir / "c.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("kprobe needs kprobes (kprobe PMU or tracefs kprobe_events)"),
            std::string::npos)
      << r.err;
}

TEST(ProbeRungs, WithoutKernelBtfTheFileItCarriesForThisKernelIsUsed) {
  ProbeDaemon d("", "", {}, /*hide_kernel_btf=*/true);
  const auto s = d.get_json("/debug/stats");
  // tp_btf and the TCP iterator need the kernel's own BTF; raw_tp relocates with the file.
  EXPECT_EQ(s["rung"]["name"], "raw_tp") << s.dump();
  EXPECT_EQ(s["rung"]["btf"], "the embedded file for " + release()) << s.dump();
  EXPECT_NE(s["rung"]["hooks_lost"].dump().find("snapshot"), std::string::npos) << s.dump();
  EXPECT_NE(d.log().find("rung tp_btf cannot run here: it needs the kernel's BTF"),
            std::string::npos)
      << d.log();
}

TEST(ProbeRungs, AConfiguredBtfFileIsUsedFirst) {
  const auto file = std::string(CNM_BINARY_DIR) + "/probe/btf/" + release() + ".btf";
  ASSERT_TRUE(std::filesystem::exists(file)) << "the build made no BTF file for this kernel";
  // Indented: it continues the system_probe_config section the test config ends with.
  ProbeDaemon d("  btf_path: " + file + "\n", "", {}, true);
  const auto s = d.get_json("/debug/stats");
  EXPECT_EQ(s["rung"]["name"], "raw_tp") << s.dump();
  EXPECT_EQ(s["rung"]["btf"], "file " + file + " (system_probe_config.btf_path)");
  EXPECT_EQ(s["config"]["btf_path"], file);
}

// A fleet's BTF archive in the layout's BTF folder (probe/btf_archive.h), at a BTFHub-like depth,
// each file packed on its own as probe/btf/make_btf_archive.sh packs it: the daemon takes this
// kernel's file from it before the one it carries, and the preflight, judging the same archive
// named by --btf-archive, names the same file and rung.
TEST(ProbeRungs, WithoutKernelBtfTheBtfArchiveIsUsedBeforeTheCarriedFile) {
  const auto file = std::string(CNM_BINARY_DIR) + "/probe/btf/" + release() + ".btf";
  ASSERT_TRUE(std::filesystem::exists(file)) << "the build made no BTF file for this kernel";
  TempDir objects;
  std::filesystem::create_directories(objects / "btf");
  const auto archive = objects / "btf" / std::string(probe::kBtfArchiveName);
  const std::string packed = xz_stream(read_file(file));
  write_tar(archive,
            {{"debian/12/x86_64/0.0.0-other.btf.xz", packed},
             {"debian/12/x86_64/" + release() + ".btf.xz", packed}},
            archive_write_add_filter_none);
  ProbeDaemon d("", "bpf_object_dir: " + objects.path().string() + "\n", {}, true);
  const auto s = d.get_json("/debug/stats");
  EXPECT_EQ(s["rung"]["name"], "raw_tp") << s.dump();
  const std::string from_archive = "the file for " + release() + " in " + archive.string();
  EXPECT_EQ(s["rung"]["btf"], from_archive) << s.dump();

  TempDir cache;
  write_file(cache / "layout.yaml", "cache_dir: " + (cache / "c").string() + "\n");
  auto argv = without_kernel_btf();
  for (const auto& a : {cnmctl(), std::string("--layout"), (cache / "layout.yaml").string(),
                        std::string("preflight"), std::string("--json"),
                        std::string("--btf-archive"), archive.string()})
    argv.push_back(a);
  const auto r = run(argv);
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  const auto p = nlohmann::json::parse(r.out);
  EXPECT_EQ(p["features"]["probe_rung"], "raw_tp") << p["features"].dump();
  bool said = false;
  for (const auto& c : p["checks"])
    if (c["id"] == "ebpf.btf")
      said = c["message"].get<std::string>().find(from_archive) != std::string::npos;
  EXPECT_TRUE(said) << p["checks"].dump();
}

// The preflight names the rung the daemon then takes, on this kernel as it is and with its BTF
// hidden (both in the same kind of mount namespace), and in the VMs of tests/vm (a lifecycle
// test: the VM matrix runs ProbeLifecycle on every kernel).
nlohmann::json preflight(bool hide_kernel_btf) {
  TempDir cache;
  write_file(cache / "layout.yaml", "cache_dir: " + (cache / "c").string() + "\n");
  std::vector<std::string> argv;
  if (hide_kernel_btf) argv = without_kernel_btf();
  for (const auto& a : {cnmctl(), std::string("--layout"), (cache / "layout.yaml").string(),
                        std::string("preflight"), std::string("--json")})
    argv.push_back(a);
  const auto r = run(argv);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  return nlohmann::json::parse(r.out);
}

TEST(ProbeLifecycle, ThePreflightNamesTheRungTheDaemonTakes) {
  for (const bool hidden : {false, true}) {
    SCOPED_TRACE(hidden ? "kernel BTF hidden" : "kernel BTF there");
    const auto p = preflight(hidden);
    ProbeDaemon d("", "", {}, hidden);
    const auto s = d.get_json("/debug/stats");
    ASSERT_TRUE(p["features"]["probe_rung"].is_string()) << p["features"].dump();
    EXPECT_EQ(p["features"]["probe_rung"], s["rung"]["name"]) << s["rung"].dump();
    // And what it gives, as the daemon runs it.
    const std::string attempt = s["rung"]["attempt"];
    EXPECT_EQ(p["features"]["open_connections_at_start"],
              attempt.find("snapshot") != std::string::npos);
    EXPECT_EQ(p["features"]["live_open_connection_counters"],
              attempt.find("refresh") != std::string::npos);
    for (const auto& c : p["checks"]) {
      if (c["id"] != "ebpf.rung") continue;
      EXPECT_NE(c["message"].get<std::string>().find(attempt), std::string::npos) << c.dump();
    }
  }
}

}  // namespace
}  // namespace cnm::test
