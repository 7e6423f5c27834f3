// cnmctl preflight as a process: the interface scripts and the Ansible role depend on (flags,
// exit codes, JSON on stdout validated against the published schema, logs on stderr).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace cnm {
namespace {

using test::run;

std::string host(const std::string& name) {
  return (test::source_dir() / "tests/checks/hosts" / name).string();
}

// Validates with python3-jsonschema (Debian package): the schema is the published contract.
void expect_valid(const std::string& json_text) {
  test::TempDir d;
  test::write_file(d / "out.json", json_text);
  const auto r = run({"/usr/bin/python3", "-c",
                      "import json,sys,jsonschema\n"
                      "schema=json.load(open(sys.argv[1]))\n"
                      "jsonschema.validators.validator_for(schema).check_schema(schema)\n"
                      "jsonschema.validate(json.load(open(sys.argv[2])), schema)\n",
                      (test::source_dir() / "checks/preflight.schema.json").string(),
                      (d / "out.json").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(PreflightCli, ExitCodesFollowTheVerdict) {
  EXPECT_EQ(run({test::cnmctl(), "preflight", "--root", host("debian-9")}).exit_code, 0);
  EXPECT_EQ(run({test::cnmctl(), "preflight", "--root", host("debian-8")}).exit_code, 1);
  // --strict: any warning fails (Amazon Linux 2023 is not on the seed's list).
  EXPECT_EQ(run({test::cnmctl(), "preflight", "--root", host("amzn-2023")}).exit_code, 0);
  EXPECT_EQ(run({test::cnmctl(), "preflight", "--strict", "--root", host("amzn-2023")}).exit_code,
            1);
  // Usage errors: 2.
  EXPECT_EQ(run({test::cnmctl(), "preflight", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(run({test::cnmctl(), "preflight", "--root", "/no/such/dir"}).exit_code, 2);
  EXPECT_EQ(run({test::cnmctl()}).exit_code, 2);
  EXPECT_EQ(run({test::cnmctl(), "--layout", "/no/such/layout.yaml", "preflight"}).exit_code, 2);
}

// An unknown word where the subcommand goes is named (CLI11 alone would only say that a
// subcommand is required).
TEST(PreflightCli, UnknownSubcommandIsNamed) {
  auto r = run({test::cnmctl(), "bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown subcommand 'bogus'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("preflight"), std::string::npos) << r.err;
  r = run({test::cnmctl(), "-v", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option '--bogus'"), std::string::npos) << r.err;
  r = run({test::cnmctl()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("A subcommand is required"), std::string::npos) << r.err;
}

TEST(PreflightCli, HelpAndVersion) {
  auto r = run({test::cnmctl(), "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("cnmctl "), std::string::npos);
  r = run({test::cnmctl(), "preflight", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag :
       {"--json", "--root", "--kernel-release", "--cilium-version", "--agent-version", "--strict"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

TEST(PreflightCli, JsonMatchesTheSchemaForEveryFixture) {
  for (const auto& e :
       std::filesystem::directory_iterator(test::source_dir() / "tests/checks/hosts")) {
    const auto r = run({test::cnmctl(), "preflight", "--json", "--root", e.path().string()});
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << e.path() << r.err;
    const auto j = nlohmann::json::parse(r.out);  // throws (fails) on invalid JSON
    EXPECT_EQ(j["verdict"], r.exit_code == 0 ? "supported" : "unsupported") << e.path();
    expect_valid(r.out);
  }
}

TEST(PreflightCli, OverridesWinAndJsonCarriesThem) {
  const auto r =
      run({test::cnmctl(), "preflight", "--json", "--root", host("debian-9"), "--kernel-release",
           "3.16.0-4-amd64", "--cilium-version", "1.14.0", "--agent-version", "7.58.0"});
  EXPECT_EQ(r.exit_code, 1);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["host"]["kernel_release"], "3.16.0-4-amd64");
  EXPECT_EQ(j["features"]["cilium_compatible"], false);
  EXPECT_EQ(j["features"]["tcp_failed_connections"], false);
  EXPECT_EQ(j["features"]["network_monitoring"], false);
}

// On the live host the eBPF checks ask the running kernel: another --kernel-release would mix
// two kernels in one answer, so it is refused (exit 2) before anything is asked; --root judges
// another kernel from files.
TEST(PreflightCli, AnotherKernelReleaseOnTheLiveHostIsRefused) {
  const auto r = run(
      {test::cnmctl(), "preflight", "--json", "--kernel-release", "4.14.336-257.562.amzn2.x86_64"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("not the running kernel"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--root"), std::string::npos) << r.err;
}

TEST(PreflightCli, HumanOutputPutsFailuresFirstWithTheirFixAndNoColourOffATty) {
  const auto r = run({test::cnmctl(), "preflight", "--root", host("centos-7.5")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.find("\033["), std::string::npos);  // stdout is a pipe here
  const auto first_fail = r.out.find("FAIL  ");
  const auto first_pass = r.out.find("PASS  ");
  ASSERT_NE(first_fail, std::string::npos);
  EXPECT_TRUE(first_pass == std::string::npos || first_fail < first_pass);
  EXPECT_NE(r.out.find("fix: "), std::string::npos);
  EXPECT_NE(r.out.find("verdict: UNSUPPORTED"), std::string::npos);
}

TEST(PreflightCli, LogsGoToStderrAndNeverIntoTheJson) {
  const auto r = run({test::cnmctl(), "-vv", "preflight", "--json", "--root", host("debian-9")});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(nlohmann::json::accept(r.out)) << r.out;
  EXPECT_NE(r.err.find("debug: kernel.version"), std::string::npos) << r.err;
}

TEST(PreflightCli, BinaryJunkStillPrintsValidUtf8Json) {
  const auto r =
      run({test::cnmctl(), "preflight", "--json", "--root", host("hostile-binary-junk")});
  EXPECT_EQ(r.exit_code, 0);
  expect_valid(r.out);
}

TEST(PreflightCli, LayoutFileRedirectsPaths) {
  test::TempDir d;
  test::write_file(d / "etc/os-release", "ID=debian\nVERSION_ID=12\n");
  test::write_file(d / "proc/sys/kernel/osrelease", "6.1.0-13-amd64\n");
  test::write_file(d / "srv/agent/manifest.json", R"({"build_version":"7.10.0"})");
  test::write_file(d / "layout.yaml", "agent_version_manifest: /srv/agent/manifest.json\n");
  const auto r = run({test::cnmctl(), "--layout", (d / "layout.yaml").string(), "preflight",
                      "--json", "--root", d.path().string()});
  const auto j = nlohmann::json::parse(r.out);
  bool seen = false;
  for (const auto& c : j["checks"])
    if (c["id"] == "agent.version")
      seen = c["message"].get<std::string>().find("7.10.0") != std::string::npos;
  EXPECT_TRUE(seen) << r.out;
}

// The probe judged is the one `cnmctl install` would run (--probe auto): on a host without the
// Agent, cnm-probe's BTF folder (/opt/cnmkit/ebpf/btf); with the Agent, its system-probe's;
// --probe picks one. The answer names it and why.
TEST(PreflightCli, TheProbeJudgedIsTheOneTheInstallWouldRun) {
  test::TempDir d;
  const std::string release = "4.14.355-275.582.amzn2.x86_64";
  test::write_file(d / "etc/os-release", "ID=amzn\nVERSION_ID=\"2\"\n");
  test::write_file(d / "proc/sys/kernel/osrelease", release + "\n");
  test::write_file(d / "sys/kernel/notes", "");
  test::write_file(d / "opt/cnmkit/ebpf/btf" / (release + ".btf"), "x");
  const auto answer = [&](std::vector<std::string> more) {
    std::vector<std::string> argv{test::cnmctl(), "preflight", "--json", "--root",
                                  d.path().string()};
    argv.insert(argv.end(), more.begin(), more.end());
    const auto r = run(argv);
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
    expect_valid(r.out);
    return nlohmann::json::parse(r.out);
  };
  const auto btf_message = [](const nlohmann::json& j) {
    for (const auto& c : j["checks"])
      if (c["id"] == "ebpf.btf") return c["message"].get<std::string>();
    return std::string("no ebpf.btf");
  };
  const std::string cnm_file = (d / "opt/cnmkit/ebpf/btf" / (release + ".btf")).string();
  const auto alone = answer({});
  EXPECT_NE(btf_message(alone).find("relocates with file " + cnm_file), std::string::npos);
  EXPECT_EQ(alone["probe"]["name"], "cnmkit");
  EXPECT_EQ(alone["probe"]["why"], "no Datadog Agent installed");
  const auto asked_agent = answer({"--probe", "agent"});
  // The Agent's system-probe brings its own way to run without BTF (checks/ladder_facts.h).
  EXPECT_NE(btf_message(asked_agent).find("Agent's system-probe brings its own"),
            std::string::npos);
  EXPECT_EQ(asked_agent["probe"]["name"], "agent");
  EXPECT_EQ(asked_agent["probe"]["why"], "--probe agent");

  test::write_file(d / "opt/datadog-agent/version-manifest.json", R"({"build_version":"7.50.0"})");
  const auto beside = answer({});
  EXPECT_NE(btf_message(beside).find("Agent's system-probe brings its own"), std::string::npos);
  EXPECT_EQ(beside["probe"]["name"], "agent");
  EXPECT_NE(beside["probe"]["why"].get<std::string>().find("Datadog Agent 7.50.0"),
            std::string::npos)
      << beside["probe"];
  EXPECT_EQ(beside["probe"]["notes"], nlohmann::json::array());
  const auto asked_cnmkit = answer({"--probe", "cnmkit"});
  EXPECT_NE(btf_message(asked_cnmkit).find("relocates with file " + cnm_file), std::string::npos);
  EXPECT_EQ(asked_cnmkit["probe"]["name"], "cnmkit");
  EXPECT_EQ(run({test::cnmctl(), "preflight", "--probe", "other"}).exit_code, 2);

  // A BTF archive is cnm-probe's: beside an Agent found by --probe auto it is left out, as
  // install leaves it out, and the answer says so (the text names the probe too)...
  const auto left_out = answer({"--btf-archive", "/dev/null"});
  ASSERT_EQ(left_out["probe"]["notes"].size(), 1u) << left_out["probe"];
  EXPECT_NE(
      left_out["probe"]["notes"][0].get<std::string>().find("--btf-archive /dev/null left out"),
      std::string::npos)
      << left_out["probe"];
  EXPECT_EQ(btf_message(left_out), btf_message(beside));
  const auto text =
      run({test::cnmctl(), "preflight", "--root", d.path().string(), "--btf-archive", "/dev/null"});
  EXPECT_NE(text.out.find("\nprobe: the Datadog Agent's system-probe (Datadog Agent 7.50.0"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("\nnote: --btf-archive /dev/null left out"), std::string::npos)
      << text.out;
  // ... and asked for with --probe agent, refused as install refuses it.
  const auto r = run({test::cnmctl(), "preflight", "--root", d.path().string(), "--probe", "agent",
                      "--btf-archive", "/dev/null"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--btf-archive is for cnmkit's own probe"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cnm
