// What every check needs to know about the host, gathered once per preflight: the kernel
// release, the distribution, the architecture, the agent version, whether this is a container.
// Overrides from the command line win over what the host says.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checks/distro.h"
#include "checks/kernel_config.h"
#include "checks/kernel_release.h"
#include "checks/libc_detect.h"
#include "common/agent.h"
#include "common/agent_env.h"
#include "common/host_fs.h"
#include "common/layout.h"
#include "common/version.h"

namespace cnm {

struct PreflightOptions {
  Layout layout;  // layout.root is the host root (--root); layout.mode the probe judged
  // Why layout.mode is the probe judged (ModeChoice::why, as `cnmctl install` chooses it), and
  // the options given that do not apply to that probe and were left out, as the install leaves
  // them out (decided where the probe is chosen: checks/preflight_cli.cpp).
  std::string probe_why;
  std::vector<std::string> probe_notes;
  std::optional<std::string> kernel_release;
  std::optional<std::string> cilium_version;
  std::optional<std::string> agent_version;
  std::optional<std::filesystem::path> bpf_object_dir;  // probe objects to verify
  // A BTF archive (probe/btf_archive.h) to judge with instead of the BTF folder's: the one
  // `cnmctl install --btf-archive` is about to put in place. A file of this machine (as the
  // install reads it), even under --root; set for cnm-probe only (layout.mode standalone).
  std::optional<std::filesystem::path> btf_archive;
  bool no_cache = false;  // --no-cache: read <cache_dir>/preflight-kernel.json, never write it
};

struct ContainerFacts {
  bool in_container = false;
  std::string runtime;                // "docker", "kubernetes", "podman", "lxc", ...
  std::vector<std::string> evidence;  // what made us say so (or what we discounted)
};

struct HostFacts {
  HostFs fs;
  Layout layout;
  PreflightOptions options;

  std::string kernel_release;  // raw text, "" when unknown
  std::string kernel_source;   // "--kernel-release", "uname", "proc/sys/kernel/osrelease"
  std::optional<KernelRelease> kernel;
  std::string kernel_error;  // why kernel is empty
  // Under --root: the kernel's build configuration (kernel_config.h), read once for the checks
  // that consult it (ebpf.syscall, the architecture of a bare tree).
  std::optional<KernelConfig> kernel_config;

  Distro distro;
  SupportVerdict support;
  std::string arch;
  std::optional<LibcInfo> libc;  // the host's C library, from its files

  std::optional<Version> agent_version;
  std::string agent_version_source;
  std::string agent_version_error;  // an unreadable version given or found
  // Beside the Agent: what its system-probe reads its settings from (common/agent_env.h), read
  // once for the checks that ask it (agent.environment, agent.excluded_kernel).
  AgentSources agent_sources;

  ContainerFacts container;

  // The probe's ladder on this host, worked out when a check first asks (ladder_facts.h).
  mutable std::shared_ptr<const struct LadderFacts> ladder;

  // A RHEL 7 kernel (3.10.0-*.el7, or a 3.10 one on CentOS/RHEL 7): eBPF only as Red Hat
  // backported it, whichever distribution boots it (Oracle Linux 7's Red Hat compatible kernel,
  // Scientific Linux 7, CloudLinux 7 run the same build).
  bool rhel7_kernel() const;
};

HostFacts gather_facts(const PreflightOptions& options);

// Detection helpers, exposed for tests.
ContainerFacts detect_container(const HostFs& fs);

}  // namespace cnm
