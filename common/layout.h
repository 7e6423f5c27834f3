// The one place that knows where things live on a host. Every part asks the Layout for a
// path; nothing else hard-codes /etc/datadog-agent and friends. There are two sets of
// defaults, one per way the probe runs (ProbeMode):
//   agent       beside a Datadog Agent: the Agent's own system-probe, configured in the Agent's
//               files (the seed document's layout); cnmkit writes only system-probe.yaml there
//   standalone  cnmkit's own cnm-probe under cnmkit's own names (/etc/cnmkit, /opt/cnmkit,
//               cnm-probe.service, /run/cnm-probe), so it never collides with an Agent
//               installed later
// An operator overrides any field with a YAML layout file (load_layout).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace cnm {

enum class ProbeMode { Agent, Standalone };

// "agent" and "cnmkit" (the names --probe takes and reports give).
const char* to_string(ProbeMode m);
// Throws std::invalid_argument for anything but "agent" or "cnmkit".
ProbeMode parse_probe_mode(std::string_view s);

// The field values below are the agent mode's; standalone_defaults() in layout.cpp has the
// others.
struct Layout {
  // All absolute paths below are interpreted relative to root ("/" on a real host).
  std::filesystem::path root = "/";
  ProbeMode mode = ProbeMode::Agent;

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

// Where the Datadog Agent's package puts it (the agent layout's paths start here), and where the
// Datadog installer does (remote updates, Fleet Automation: no deb or rpm, the active package
// folder /opt/datadog-packages/datadog-agent/<version> linked as "stable";
// pkg/fleet/installer, whose units run stable/embedded/bin/system-probe). A deb or rpm Agent
// links the installer's folder to its own: only a host without kPackageAgentDir runs the
// installer's.
inline constexpr const char* kPackageAgentDir = "/opt/datadog-agent";
inline constexpr const char* kInstallerAgentDir = "/opt/datadog-packages/datadog-agent/stable";

// The same layout with its paths under one Agent folder (kPackageAgentDir, kInstallerAgentDir)
// moved under the other: what an Agent moved from its package to the installer (which removes
// the package) or back would be found at, for cleaning up after either.
Layout with_other_agent_dir(Layout l);

// The defaults of a mode, with root set. Beside an Agent the Datadog installer put in place (its
// version-manifest.json under kInstallerAgentDir, not under kPackageAgentDir), the agent
// layout's kPackageAgentDir paths are under kInstallerAgentDir: its binary, eBPF objects, run
// folder and socket (the Agent derives its install path, so run/sysprobe.sock, from its own
// executable's folder; pkg/util/defaultpaths).
Layout default_layout(const std::filesystem::path& root = "/", ProbeMode mode = ProbeMode::Agent);

// The largest layout file read (it holds a few paths).
inline constexpr std::size_t kMaxLayoutFileBytes = 64 * 1024;

// A mode's defaults overridden by a YAML mapping file: its top-level keys (the field names
// above) apply to both modes, the keys under `agent:` or `cnmkit:` to that mode only (they win).
// state_dir is the same for both modes (one record of what cnmkit did on the host), so it may
// be set at the top level only. Throws std::runtime_error with line and column on malformed
// input or unknown keys, and when the file is not a regular file or is larger than
// kMaxLayoutFileBytes.
Layout load_layout(const std::filesystem::path& yaml_file, const std::filesystem::path& root,
                   ProbeMode mode = ProbeMode::Agent);

// load_layout's reading of YAML text already in memory; `what` names it in messages ("layout
// file F", "the layout recorded in F").
Layout parse_layout(std::string_view text, const std::string& what,
                    const std::filesystem::path& root, ProbeMode mode);

// The fields of `layout` that differ from its mode's defaults, as a layout file ("{}" when
// none) that load_layout reads back into the same layout for that mode: state_dir at the top
// level (shared by the modes), the others in the mode's section, so the file says nothing of
// the other mode's paths.
std::string layout_overrides_yaml(const Layout& layout);

// Whether two layouts give every field (path, user, service name) the same value; root and
// mode aside.
bool same_fields(const Layout& a, const Layout& b);

// Where a standalone install keeps the layout it was made with (layout_overrides_yaml), beside
// the config: the probe's unit and init script start it with `--layout` on this file, so the
// daemon serves the socket, reads the token and finds the BTF where cnmctl put them. Named so
// that it is never an operator's own layout file (often layout.yaml in the same folder).
std::string probe_layout_file(const Layout& layout);

}  // namespace cnm
