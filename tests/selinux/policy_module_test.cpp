// The policy module as cnmctl carries it, and compiling an operator's modified .te: no store,
// no privileges (checkmodule and semodule_package run as any user).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sstream>

#include "selinux/policy_module.h"
#include "selinux/tool_runner.h"
#include "tests/selinux/te_file.h"
#include "tests/support/test_support.h"

namespace cnm::selinux {
namespace {

using test::TempDir;

std::string replace_first(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(SelinuxPolicyModule, PackagedModuleIsTheSourceCompiled) {
  const auto te = test::read_te(test::packaged_te_path());
  ASSERT_FALSE(te.module.empty()) << "no module statement in the .te";
  const auto m = packaged_module();
  EXPECT_EQ(m.name, te.module);
  EXPECT_EQ(m.version, te.version);
  EXPECT_GT(m.pp.size(), 1000u);
  // The .te grants what an eBPF probe needs; the store test checks they reach the policy.
  bool bpf = false;
  for (const auto& a : te.allows)
    if (a.cls == "bpf" && a.perms.count("prog_load") && a.perms.count("map_create")) bpf = true;
  EXPECT_TRUE(bpf) << "no bpf { prog_load map_create } rule in the .te";
}

TEST(SelinuxPolicyModule, CompilesAModifiedPolicyAtRunTime) {
  TempDir dir;
  const auto te = test::read_te(test::packaged_te_path());
  const auto path = dir / "system_probe_policy.te";
  test::write_file(path, replace_first(te.text, "module " + te.module + " " + te.version + ";",
                                       "module " + te.module + " 9.8.7;"));
  const auto m = compile_policy(path, te.module);
  EXPECT_EQ(m.name, te.module);
  EXPECT_EQ(m.version, "9.8.7");
  EXPECT_NE(m.pp, packaged_module().pp);
  EXPECT_EQ(m.source, path.string());
}

TEST(SelinuxPolicyModule, SyntaxErrorNamesTheLine) {
  TempDir dir;
  const auto te = test::read_te(test::packaged_te_path());
  ASSERT_GT(te.allows.size(), 3u);
  const int bad_line = te.allows[3].line;
  // Break the fourth allow rule: "allow" -> "allo".
  std::istringstream in(te.text);
  std::string line, text;
  for (int n = 1; std::getline(in, line); ++n)
    text += (n == bad_line ? replace_first(line, "allow", "allo") : line) + "\n";
  const auto path = dir / "broken.te";
  test::write_file(path, text);
  try {
    compile_policy(path, te.module);
    FAIL() << "a policy with a syntax error compiled";
  } catch (const PolicyError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("broken.te"), std::string::npos) << msg;
    EXPECT_NE(msg.find("line " + std::to_string(bad_line)), std::string::npos) << msg;
    EXPECT_NE(msg.find("syntax error"), std::string::npos) << msg;
  }
}

TEST(SelinuxPolicyModule, RefusesAnotherModuleName) {
  TempDir dir;
  const auto te = test::read_te(test::packaged_te_path());
  const auto path = dir / "other.te";
  test::write_file(path, replace_first(te.text, "module " + te.module, "module other_policy"));
  try {
    compile_policy(path, te.module);
    FAIL() << "a module with another name was accepted";
  } catch (const PolicyError& e) {
    EXPECT_NE(std::string(e.what()).find("'other_policy'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(te.module), std::string::npos) << e.what();
  }
}

TEST(SelinuxPolicyModule, RefusesAFileWithoutModuleStatement) {
  TempDir dir;
  const auto path = dir / "empty.te";
  test::write_file(path, "# nothing here\ntype x_t;\n");
  EXPECT_THROW(compile_policy(path, "system_probe_policy"), PolicyError);
}

// --policy through the one bounded reader: a FIFO is an error naming it, at once.
TEST(SelinuxPolicyModule, PolicyGivenAFifoIsRefusedNotWaitedOn) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "policy.te").c_str(), 0600), 0);
  try {
    compile_policy(dir / "policy.te", "system_probe_policy");
    FAIL() << "accepted";
  } catch (const PolicyError& e) {
    EXPECT_NE(std::string(e.what()).find("is a FIFO"), std::string::npos) << e.what();
  }
}

TEST(SelinuxPolicyModule, RejectsBytesThatAreNotAPackage) {
  EXPECT_THROW(read_module_package("this is not a policy package", "test"), PolicyError);
  EXPECT_THROW(read_module_package("", "test"), PolicyError);
}

TEST(SelinuxToolRunner, MissingToolNamesItsPackage) {
  try {
    run_tool({"cnmkit-no-such-tool-xyz"}, "some-package");
    FAIL() << "a missing tool ran";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("install the Debian package some-package"),
              std::string::npos)
        << e.what();
  }
}

TEST(SelinuxToolRunner, CapturesOutputAndExitCode) {
  const auto r = run_tool({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, "dash");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.output.find("out"), std::string::npos);
  EXPECT_NE(r.output.find("err"), std::string::npos);
}

}  // namespace
}  // namespace cnm::selinux
