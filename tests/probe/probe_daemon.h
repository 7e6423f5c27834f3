// Runs the real cnm-probe binary for a test: its own config, token and socket in a temp
// folder; waits until /health answers 200; SIGTERM on destruction. Requests go over the unix
// socket with cpp-httplib, as the agent's would.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tests/probe/net_env.h"
#include "tests/support/test_support.h"

namespace cnm::test {

struct HttpResult {
  int status = -1;  // -1: no answer
  std::string body;
  std::string error;  // why there was no answer (cpp-httplib's error: "Connection", "Read"...)
};

// The daemon's ways of observing TCP; every test of exact numbers runs under each: the rungs of
// its ladder (probe/ladder.h) that this kernel can run, each forced by network_config.hook_set,
// the best one without the kernel's BTF (a BTF file instead), and the opt-in per-call hooks.
struct ProbeMode {
  std::string name;
  std::string yaml;  // appended to the daemon's config
  bool per_call;
  bool snapshot;  // finds connections open before the start (the iterator needs kernel BTF)
  bool hide_kernel_btf = false;
};
// The modes this kernel runs: the kprobe rung only where it has kprobes (on a kernel without,
// ProbeRungs.KprobeRungRunsOrSaysWhyNot checks that the daemon says so and stops).
std::vector<ProbeMode> probe_modes();
bool kernel_has_kprobes();
// The argv prefix that runs a command (exec, same process) in a mount namespace of its own
// where /sys/kernel/btf is an empty tmpfs: a kernel without BTF, as the loader sees it.
std::vector<std::string> without_kernel_btf();
// The same with every cgroup2 mount taken away (unmounted in a mount namespace of its own): a
// host without cgroup v2, as the daemon sees it.
std::vector<std::string> without_cgroup2();

class ProbeDaemon {
 public:
  // extra_yaml is appended to the generated config (keys under network_config: etc.).
  // layout_yaml, when given, is written to a file and passed with --layout.
  // hide_kernel_btf: the daemon runs in a mount namespace of its own where /sys/kernel/btf is an
  // empty tmpfs, as on a kernel built without BTF (it then needs a BTF file: probe/btf_source.h).
  // argv_prefix, when given (and hide_kernel_btf is not), runs the daemon through that command
  // (e.g. without_cgroup2()).
  explicit ProbeDaemon(const std::string& extra_yaml = "", const std::string& layout_yaml = "",
                       const std::vector<std::string>& extra_env = {}, bool hide_kernel_btf = false,
                       const std::vector<std::string>& argv_prefix = {});
  // In one of the modes, with more config after the mode's.
  explicit ProbeDaemon(const ProbeMode& m, const std::string& more_yaml = "")
      : ProbeDaemon(m.yaml + more_yaml, "", {}, m.hide_kernel_btf) {}
  ~ProbeDaemon();
  ProbeDaemon(const ProbeDaemon&) = delete;
  ProbeDaemon& operator=(const ProbeDaemon&) = delete;

  HttpResult get(const std::string& path) const { return get_with(path, "Bearer " + token_); }
  HttpResult get_with(const std::string& path, const std::string& authorization) const;
  nlohmann::json get_json(const std::string& path) const;

  // SIGTERM and wait; returns the exit code (-1 when killed by a signal).
  int stop();
  pid_t pid() const { return pid_; }
  long rss_kib() const;  // VmRSS of the daemon
  std::string log() const { return read_file(dir_ / "probe.log"); }
  const std::string& socket_path() const { return socket_; }
  const std::string& token() const { return token_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::string socket_, token_;
  pid_t pid_ = -1;
};

inline std::string probe_mode_name(const ProbeMode& m) { return m.name; }
inline void PrintTo(const ProbeMode& m, std::ostream* os) { *os << m.name; }  // in test names

// Calls /network_tracer/connections?client_id=CLIENT repeatedly, appending every connection
// returned, until done(all so far) or the timeout; returns what was gathered.
nlohmann::json gather_connections(const ProbeDaemon& d, const std::string& client,
                                  const std::function<bool(const nlohmann::json&)>& done,
                                  int timeout_s = 20);

// What a client makes of the replies, per connection (laddr, lport, raddr, rport): counters
// summed over its records (open connections come as deltas since the client's last call, so a
// connection first seen open and then closed comes twice), other fields from the newest one.
using ConnKey = std::tuple<std::string, int, std::string, int>;
std::map<ConnKey, nlohmann::json> totals_by_tuple(const nlohmann::json& records);

// Both sockets of every exchange, by client port, once each is reported closed (totals).
struct ClosedEnds {
  std::map<std::uint16_t, nlohmann::json> client, server;
};
ClosedEnds gather_closed_ends(const ProbeDaemon& d, const std::string& client,
                              const std::vector<Exchange>& xs);
// The same for connections from 127.0.0.1:<each client port> to 127.0.0.1:server_port.
ClosedEnds gather_loopback_closed_ends(const ProbeDaemon& d, const std::string& client,
                                       std::uint16_t server_port,
                                       const std::vector<std::uint16_t>& client_ports);

// Closed records of the sockets with these local ports talking to raddr:rport (the probe sees
// the whole host, so the whole tuple is matched), by local port, once all of them came. seen, when
// given, receives every record of raddr:rport gathered on the way (for a failure's message).
std::map<int, nlohmann::json> closed_by_lport(const ProbeDaemon& d, const std::string& client,
                                              const std::set<int>& lports, const std::string& raddr,
                                              int rport, nlohmann::json* seen = nullptr);

// Validates a JSON document against a schema in probe/ (the connections reply's by default) with
// python3-jsonschema; returns the validator's message, empty when valid.
std::string schema_errors(const nlohmann::json& doc,
                          const std::string& schema = "connections.schema.json");

// The built cnm-probe binary.
std::string cnm_probe_path();

}  // namespace cnm::test
