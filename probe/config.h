// The daemon's settings, read from system-probe.yaml (see probe/README.md for every key).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/layout.h"
#include "probe/conn_store.h"  // kDefaultMaxClients, kMaxClientsLimit
#include "probe/dns_source.h"

namespace cnm::probe {

struct ProbeConfig {
  bool network_enabled = true;
  std::string socket_path;      // defaults to the layout's probe_socket
  std::string auth_token_path;  // defaults to the layout's auth_token_file
  std::uint32_t max_tracked_connections = 65536;
  std::uint32_t max_closed_connections_buffered = 65536;
  // client_ids whose last counters are kept (ConnStore): past it a new one is refused (503)
  // until a known one has been idle for kClientIdle.
  std::uint32_t max_clients = kDefaultMaxClients;
  bool disable_ipv6 = false;
  // Attach sock_send_length/sock_recv_length (Linux 6.4+): bytes counted per call and an
  // accepted socket's pid known from its first I/O, at a cost on every send and receive.
  bool per_call_hooks = false;
  // The rung of the ladder (probe/ladder.h) to run: "auto" (the best this kernel takes), or a
  // rung's name forced (tests, operators; the daemon stops where the kernel refuses it).
  std::string hook_set = "auto";
  // BTF file for CO-RE relocations, preferred to the kernel's own (system_probe_config.btf_path,
  // as the Datadog Agent names it); "" looks the BTF up (probe/btf_source.h).
  std::string btf_path;
  // DNS monitoring (opt-in): the datagrams of these UDP ports (dns_source below); a query
  // unanswered after dns_timeout_ms is a timeout; max_dns_stats bounds the (server, domain,
  // type) table, and as many queries may wait for their answer at once.
  bool dns_monitoring = false;
  // Where DNS monitoring reads datagrams (probe/dns_source.h): auto (the cgroup programs,
  // else the packet socket, saying why), or a source forced (tests, the benchmark, operators;
  // the daemon stops where a forced one cannot run). Checked once, here, by its type.
  DnsSource dns_source = DnsSource::kAuto;
  // 1 to CNM_DNS_MAX_PORTS (the BPF objects' array), checked once, here: DnsMonitor takes them
  // as they are.
  std::vector<std::uint16_t> dns_ports = {53};
  std::uint32_t dns_timeout_ms = 5000;
  std::uint32_t max_dns_stats = 10000;
  std::vector<std::string> warnings;  // unknown keys, with line:column
};

// Parses YAML text. Throws std::runtime_error "NAME:LINE:COL: what" on malformed input or a
// value of the wrong type; unknown keys only add warnings.
ProbeConfig parse_config(const std::string& yaml_text, const std::string& name,
                         const Layout& layout);

// The largest config file read (the Agent's own example is ~60 KiB).
inline constexpr std::size_t kMaxConfigBytes = 1u << 20;

// Reads the file; a missing file gives the defaults (with a warning), like the Agent. Throws
// when it is not a regular file, unreadable or larger than kMaxConfigBytes.
ProbeConfig load_config(const std::filesystem::path& file, const Layout& layout);

}  // namespace cnm::probe
