// The one place that knows where things live on a host. Every part asks the Layout for a
// path; nothing else hard-codes /etc/datadog-agent and friends. Defaults follow the Datadog
// Agent's layout (the seed document); an operator overrides any field with a YAML layout file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace cnm {

struct Layout {
  // All absolute paths below are interpreted relative to root ("/" on a real host).
  std::filesystem::path root = "/";

  std::string config_dir = "/etc/datadog-agent";
  std::string config_file = "/etc/datadog-agent/system-probe.yaml";
  std::string config_example = "/etc/datadog-agent/system-probe.yaml.example";
  std::string auth_token_file = "/etc/datadog-agent/auth_token";
  std::string probe_binary = "/opt/datadog-agent/embedded/bin/system-probe";
  std::string bpf_object_dir = "/opt/datadog-agent/embedded/share/system-probe/ebpf";
  std::string run_dir = "/opt/datadog-agent/run";
  std::string probe_socket = "/opt/datadog-agent/run/sysprobe.sock";
  std::string agent_version_manifest = "/opt/datadog-agent/version-manifest.json";
  std::string systemd_unit_dir = "/etc/systemd/system";
  std::string sysv_init_dir = "/etc/init.d";
  std::string state_dir = "/var/lib/cnmkit";  // installer journal and backups
  // Regenerable data (FHS /var/cache: deleting it loses nothing): the preflight's memory of the
  // kernel's answers and the verifier's verdicts (checks/kernel_memory.h).
  std::string cache_dir = "/var/cache/cnmkit";
  std::string user = "dd-agent";
  std::string group = "dd-agent";
  std::string probe_service = "datadog-agent-sysprobe";
  std::string agent_service = "datadog-agent";
  std::string selinux_module = "system_probe_policy";
  std::string selinux_type = "system_probe_t";

  // Maps an absolute host path to where it is under root. "/etc/x" with root "/tmp/r" gives
  // "/tmp/r/etc/x". Relative inputs are taken as relative to root too.
  std::filesystem::path at(std::string_view host_path) const;

  bool is_live() const { return root.empty() || root == "/"; }
};

// The defaults, with root set.
Layout default_layout(const std::filesystem::path& root = "/");

// The largest layout file read (it holds a few paths).
inline constexpr std::size_t kMaxLayoutFileBytes = 64 * 1024;

// Defaults overridden by the keys of a YAML mapping file (same names as the fields above).
// Throws std::runtime_error with line and column on malformed input or unknown keys, and
// when the file is not a regular file or is larger than kMaxLayoutFileBytes.
Layout load_layout(const std::filesystem::path& yaml_file, const std::filesystem::path& root);

}  // namespace cnm
