// The preflight: gather the host's facts once, run every check in the catalog, and derive the
// verdict and the features from the results. Any `fail` makes the host unsupported; the checks
// themselves decide what is fatal (kernel, distribution, and live findings that make the probe
// impossible), everything else is a warning with its remedy.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checks/check.h"

#include "checks/libc_detect.h"

namespace cnm {

inline constexpr int kPreflightSchemaVersion = 1;

// The longest strings an answer carries, in bytes of UTF-8 (common/printable.h bounded_utf8:
// invalid bytes replaced, longer text cut with an ellipsis), since they come from host files:
// host fields (kernel release, distribution id and version, libc source) and each check's
// message and remedy. checks/preflight.schema.json declares the same maxLength (tests check
// it), and both stay under what the fleet report accepts (schema_validator.h), so any answer
// the preflight gives is one the fleet report takes.
inline constexpr std::size_t kMaxHostFieldBytes = 256;
inline constexpr std::size_t kMaxMessageBytes = 1024;
// The longest distribution name and version a message repeats from os-release (cut the same
// way), so the verdict's words after them stay within kMaxMessageBytes.
inline constexpr std::size_t kMaxNameBytes = 128;

struct Features {
  bool network_monitoring = false;
  bool dns_resolution = false;
  bool tcp_failed_connections = false;
  std::optional<bool> cilium_compatible;  // nullopt when there is no Cilium
  // The rung of the probe's ladder this host gets (ebpf.rung) and what it gives; nullopt when
  // the preflight could not tell (under --root, without bpf() or root).
  std::optional<std::string> probe_rung;
  std::optional<bool> open_connections_at_start;      // the TCP iterator
  std::optional<bool> live_open_connection_counters;  // refresh_open
};

// The probe an answer judges, as `cnmctl install` would choose it (--probe): its binary's
// SELinux label, BTF folder and archive are what the checks looked at.
struct JudgedProbe {
  ProbeMode mode = ProbeMode::Standalone;
  std::string why;  // ModeChoice::why: "--probe cnmkit", "Datadog Agent 7.50.0 (...)"
  // Options given that do not apply to this probe and were left out of the answer, as the
  // install leaves them out (--btf-archive beside the Agent).
  std::vector<std::string> notes;
};

struct PreflightReport {
  std::string kernel_release;
  std::string distro_id;
  std::string distro_version;
  std::string arch;
  std::optional<LibcInfo> libc;
  bool in_container = false;
  JudgedProbe probe;
  bool supported = false;
  Features features;
  std::vector<CheckResult> checks;  // catalog order

  bool any(Status s) const;
};

PreflightReport run_preflight(const PreflightOptions& options);

nlohmann::json to_json(const PreflightReport& r);
// A short table, failures first, each warn/fail followed by its remedy.
std::string to_text(const PreflightReport& r, bool color);
// 0 supported (1 with strict when any warning), 1 unsupported.
int exit_code(const PreflightReport& r, bool strict);

}  // namespace cnm
