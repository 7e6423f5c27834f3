#include "selinux/policy_module.h"

#include <sepol/debug.h>
#include <sepol/module.h>
#include <sepol/policydb.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>
#include <sstream>
#include <vector>

#include "common/file_read.h"
#include "selinux/tool_runner.h"

namespace cnm::selinux {

extern const unsigned char kPackagedModule[];
extern const std::size_t kPackagedModuleSize;

namespace {

// A policy source or compiled package: a few hundred KiB at most.
constexpr std::size_t kMaxPolicyFileBytes = 16u << 20;

// The one bounded reader (common/file_read.h): `--policy` given a FIFO or a device is an error
// naming it, not a hang.
std::string read_whole(const std::filesystem::path& p) {
  try {
    return *read_whole_file(p, kMaxPolicyFileBytes, "policy file");
  } catch (const FileReadError& e) {
    throw PolicyError(e.what());
  }
}

// Removes a temporary folder and what is in it when the compile is over, whatever happened.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/cnmkit-policy-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary folder");
    path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

// libsepol prints to stderr by default; keep its messages for our error instead.
void sepol_message(void* arg, sepol_handle_t* h, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sepol_message(void* arg, sepol_handle_t*, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  static_cast<std::string*>(arg)->append(buf).append("; ");
}

// The `module NAME VERSION;` statement, so a wrong name is a clear error before compiling.
std::pair<std::string, std::string> module_statement(const std::string& te,
                                                     const std::filesystem::path& file) {
  static const std::regex re(R"(^\s*module\s+([A-Za-z0-9_.-]+)\s+([0-9][0-9.]*)\s*;)");
  std::istringstream in(te);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, re)) return {m[1], m[2]};
  }
  throw PolicyError(file.string() +
                    ": no 'module NAME VERSION;' statement (a policy module starts with one)");
}

}  // namespace

PolicyModule read_module_package(std::string_view pp, std::string source) {
  std::string messages;
  std::unique_ptr<sepol_handle_t, decltype(&sepol_handle_destroy)> h(sepol_handle_create(),
                                                                     sepol_handle_destroy);
  sepol_policy_file_t* pf = nullptr;
  if (!h || sepol_policy_file_create(&pf) != 0) throw std::runtime_error("libsepol: out of memory");
  std::unique_ptr<sepol_policy_file_t, decltype(&sepol_policy_file_free)> pf_owner(
      pf, sepol_policy_file_free);
  sepol_msg_set_callback(h.get(), sepol_message, &messages);
  sepol_policy_file_set_handle(pf, h.get());
  std::string data(pp);  // libsepol wants a mutable buffer
  sepol_policy_file_set_mem(pf, data.data(), data.size());
  int type = 0;
  char* name = nullptr;
  char* version = nullptr;
  if (sepol_module_package_info(pf, &type, &name, &version) != 0)
    throw PolicyError(source + ": not a valid policy module package (" + messages + ")");
  PolicyModule m;
  m.name = name ? name : "";
  m.version = version ? version : "";
  std::free(name);
  std::free(version);
  if (type != SEPOL_POLICY_MOD)
    throw PolicyError(source + ": a base policy, not a loadable module");
  m.pp = std::move(data);
  m.source = std::move(source);
  return m;
}

PolicyModule packaged_module() {
  return read_module_package(
      std::string_view(reinterpret_cast<const char*>(kPackagedModule), kPackagedModuleSize),
      "packaged");
}

PolicyModule compile_policy(const std::filesystem::path& te_file,
                            const std::string& expected_name) {
  const std::string te = read_whole(te_file);
  const auto [name, version] = module_statement(te, te_file);
  if (name != expected_name)
    throw PolicyError(te_file.string() + " declares module '" + name + "', but cnmkit manages '" +
                      expected_name + "' (rename the module, or set selinux_module in --layout)");
  ScratchDir dir;
  // checkmodule wants the output named after the module.
  const auto mod = dir.path / (name + ".mod");
  const auto pp = dir.path / (name + ".pp");
  const auto c =
      run_tool({"checkmodule", "-M", "-m", "-o", mod.string(), te_file.string()}, "checkpolicy");
  if (c.exit_code != 0)
    throw PolicyError(te_file.string() + " does not compile (checkmodule):\n" + c.output);
  spdlog::debug("checkmodule {}: {}", te_file.string(), c.output);
  const auto p =
      run_tool({"semodule_package", "-o", pp.string(), "-m", mod.string()}, "semodule-utils");
  if (p.exit_code != 0)
    throw PolicyError(te_file.string() + ": semodule_package failed:\n" + p.output);
  auto m = read_module_package(read_whole(pp), te_file.string());
  if (m.version != version)
    throw PolicyError(te_file.string() + ": compiled version " + m.version +
                      " differs from the module statement's " + version);
  return m;
}

}  // namespace cnm::selinux
