// What ansible-playbook reported through its ansible.posix.json callback, as the tests read it:
// one runner and one reader for the role, playbook and fleet tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace cnm::test {

// The role's preflight task (ansible/roles/cnmkit/tasks/preflight.yml), its name as the json
// callback reports it: the tests that say it ran or did not run use this one copy, and each also
// asserts it ran in a present-state play, so a rename fails them instead of passing silently.
constexpr const char* kPreflightTask = "Run cnmctl preflight (also in check mode)";

struct PlayResult {
  int exit_code = -1;
  nlohmann::json doc;   // the json callback's report (null when stdout was not JSON)
  std::string raw_out;  // stdout as printed, JSON or not
  std::string err;

  // A host's count in the play recap (ok, changed, failures, ...), -1 when it has none.
  int stat(const std::string& host, const char* what) const {
    return doc["stats"].contains(host) ? doc["stats"][host][what].get<int>() : -1;
  }
  // Calls f(play index, task name with the role prefix dropped, host, result) for every task
  // result, in play order; handlers included.
  void each_result(const std::function<void(std::size_t, const std::string&, const std::string&,
                                            const nlohmann::json&)>& f) const {
    for (std::size_t p = 0; p < doc["plays"].size(); ++p)
      for (const auto& t : doc["plays"][p]["tasks"]) {
        std::string name = t["task"]["name"];
        if (auto at = name.find(" : "); at != std::string::npos) name = name.substr(at + 3);
        for (const auto& [host, r] : t["hosts"].items()) f(p, name, host, r);
      }
  }
};

// The ansible-playbook command line (shell) the tests run: in `cwd`, with the repository's roles,
// the json stdout callback, no colour, and Ansible's local temp folder and HOME in `scratch`.
// `env` holds each test's own settings (NAME=value), `args` what follows ansible-playbook; both
// are joined with spaces as shell words.
inline std::string playbook_command(const std::filesystem::path& cwd,
                                    const std::filesystem::path& scratch,
                                    const std::vector<std::string>& env,
                                    const std::vector<std::string>& args) {
  std::string cmd = "cd " + cwd.string() +
                    " && ANSIBLE_ROLES_PATH=" + (source_dir() / "ansible/roles").string() +
                    " ANSIBLE_STDOUT_CALLBACK=ansible.posix.json ANSIBLE_NOCOLOR=1"
                    " ANSIBLE_LOCAL_TEMP=" +
                    (scratch / "ansible-tmp").string() + " HOME=" + scratch.string();
  for (const auto& e : env) cmd += " " + e;
  cmd += " ansible-playbook";
  for (const auto& a : args) cmd += " " + a;
  return cmd;
}

// Runs an ansible-playbook command line (shell) whose stdout is the json callback's report; a
// report that is not JSON is a test failure showing what came instead.
inline PlayResult run_playbook(const std::string& command) {
  const auto r = sh(command);
  PlayResult p;
  p.exit_code = r.exit_code;
  p.raw_out = r.out;
  p.err = r.err;
  try {
    p.doc = nlohmann::json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "ansible-playbook did not print JSON: " << e.what() << "\n"
                  << r.out.substr(0, 3000) << "\n"
                  << r.err;
  }
  return p;
}

}  // namespace cnm::test
