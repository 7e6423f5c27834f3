// What tools read from the role and its modules, checked with the tools themselves: ansible-doc
// renders both modules (their common options from the role's doc fragment) and both entry points
// of the role, ansible-test's validate-modules passes on both modules, and every copy of an option
// (role, modules, READMEs, Chef) matches its one source, ansible/options.yml.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

std::string ansible_dir() { return (source_dir() / "ansible").string(); }

TEST(AnsibleDoc, RendersBothModules) {
  for (const char* module : {"cnmkit_probe", "cnmkit_selinux"}) {
    const TempDir home;
    // ansible/ansible.cfg names the modules' folder and their shared doc fragment's.
    const auto r = sh("cd " + ansible_dir() + " && HOME=" + home.path().string() +
                      " ansible-doc --json " + module);
    ASSERT_EQ(r.exit_code, 0) << module << ": " << r.err;
    EXPECT_EQ(r.err.find("could not parse"), std::string::npos) << r.err;
    const auto doc = nlohmann::json::parse(r.out)[module];
    EXPECT_TRUE(doc["doc"]["options"].contains("cnmctl")) << module;  // from the fragment
    EXPECT_FALSE(doc["examples"].get<std::string>().empty()) << module;
    EXPECT_FALSE(doc["return"].empty()) << module;
  }
}

TEST(AnsibleDoc, RendersBothEntryPointsOfTheRole) {
  const TempDir home;
  const auto r = sh("cd " + ansible_dir() + " && HOME=" + home.path().string() +
                    " ANSIBLE_ROLES_PATH=roles ansible-doc -t role --json cnmkit");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto points = nlohmann::json::parse(r.out)["cnmkit"]["entry_points"];
  ASSERT_TRUE(points.contains("main") && points.contains("fleet_preflight")) << points.dump();
  for (const auto& [name, point] : points.items())
    for (const auto& [option, spec] : point["options"].items())
      EXPECT_FALSE(spec.value("description", nlohmann::json()).empty()) << name << " " << option;
  EXPECT_TRUE(points["fleet_preflight"]["options"].contains("cnmkit_report_dir"));
}

// validate-modules as ansible-test runs it (its validate.py on a collection holding the
// modules). ansible-test itself would first pip-install its requirements into a venv, which
// needs the network; voluptuous comes from Debian instead (scripts/packages/ansible.txt).
// validate-modules imports each module to read its argument spec, and a collection's modules
// import their module_utils from the collection: the role's module_utils file goes to the
// collection's plugins/module_utils and that one import line is pointed there.
TEST(ValidateModules, BothModulesPass) {
  const TempDir dir;
  const auto collection = dir / "ansible_collections/cnmkit/fleet";
  const auto role = source_dir() / "ansible/roles/cnmkit";
  std::filesystem::create_directories(collection / "plugins/modules");
  std::filesystem::create_directories(collection / "plugins/module_utils");
  std::filesystem::copy_file(role / "module_utils/cnmkit_cnmctl.py",
                             collection / "plugins/module_utils/cnmkit_cnmctl.py");
  const std::string role_import = "from ansible.module_utils.cnmkit_cnmctl import";
  for (const char* m : {"cnmkit_probe.py", "cnmkit_selinux.py"}) {
    auto text = read_file(role / "library" / m);
    const auto at = text.find(role_import);
    ASSERT_NE(at, std::string::npos) << m;
    text.replace(at, role_import.size(),
                 "from ansible_collections.cnmkit.fleet.plugins.module_utils.cnmkit_cnmctl import");
    write_file(collection / "plugins/modules" / m, text);
  }
  const std::string tool =
      "/usr/lib/python3/dist-packages/ansible_test/_util/controller/sanity/validate-modules";
  const auto r = sh("cd " + collection.string() + " && ANSIBLE_DOC_FRAGMENT_PLUGINS=" +
                    (role / "doc_fragments").string() + " PYTHONPATH=" + tool + ":" +
                    dir.path().string() + " /usr/bin/python3 " + tool +
                    "/validate.py --format json --arg-spec --collection "
                    "ansible_collections/cnmkit/fleet --collection-version 0.1.0 "
                    "plugins/modules/cnmkit_probe.py plugins/modules/cnmkit_selinux.py");
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 3) << r.out << r.err;  // 3: findings
  const auto found = nlohmann::json::parse(r.out);
  ASSERT_EQ(found.size(), 2u) << r.out;
  for (const auto& [file, result] : found.items()) {
    for (const auto& e : result["errors"]) {
      // cnmkit is Apache-2.0: the GPLv3 header check is for Ansible's own modules (collections
      // list it in tests/sanity/ignore-*.txt, which this direct run does not read).
      if (e["code"] == "missing-gplv3-license") continue;
      ADD_FAILURE() << file << ": " << e.dump();
    }
    EXPECT_TRUE(result["warnings"].empty()) << file << ": " << result["warnings"].dump();
    EXPECT_TRUE(result["traces"].empty()) << file << ": " << result["traces"].dump();
  }
}

TEST(Options, EveryCopyMatchesTheSource) {
  const auto r =
      run({"/usr/bin/python3", (source_dir() / "ansible/sync_options.py").string(), "--check"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// The check fails on drift: a copy of the tree where the role's default for health_timeout was
// written as a float (as it once was in one of nine copies) is reported with its file.
TEST(Options, ADriftedCopyIsReportedWithItsFile) {
  const TempDir tree;
  for (const char* rel : {"CMakeLists.txt", "ansible", "chef"})
    std::filesystem::copy(source_dir() / rel, tree / rel, std::filesystem::copy_options::recursive);
  const auto defaults = tree / "ansible/roles/cnmkit/defaults/main.yml";
  auto text = read_file(defaults);
  const auto at = text.find("cnmkit_health_timeout: 30\n");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 25, "cnmkit_health_timeout: 30.0\n");
  write_file(defaults, text);
  const auto r = run({"/usr/bin/python3", (source_dir() / "ansible/sync_options.py").string(),
                      "--check", "--root", tree.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ansible/roles/cnmkit/defaults/main.yml"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("-cnmkit_health_timeout: 30.0"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace cnm::test
