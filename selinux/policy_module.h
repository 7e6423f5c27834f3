// A compiled policy module package (.pp): the packaged one (system_probe_policy.te, compiled at
// build time and embedded in cnmctl) or an operator's modified .te compiled at run time.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cnm::selinux {

struct PolicyModule {
  std::string name;     // from the module statement, e.g. "system_probe_policy"
  std::string version;  // e.g. "1.0.0"
  std::string pp;       // the .pp bytes, as semanage_module_install takes them
  std::string source;   // "packaged" or the .te path
};

// A policy that does not compile, or is not the module we manage. The message says why (with
// the line checkmodule reports); nothing was touched.
struct PolicyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The module compiled from selinux/system_probe_policy.te when cnmctl was built.
PolicyModule packaged_module();

// Compiles a .te with checkmodule -M -m and semodule_package in a temporary folder. Throws
// PolicyError when it does not compile or declares another module than expected_name, and
// std::runtime_error when the tools are missing.
PolicyModule compile_policy(const std::filesystem::path& te_file, const std::string& expected_name);

// Name and version recorded in a .pp, read with libsepol. Throws PolicyError on a bad package.
PolicyModule read_module_package(std::string_view pp, std::string source);

}  // namespace cnm::selinux
