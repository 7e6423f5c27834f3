#include "tests/probe/probe_daemon.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace cnm::test {

std::string cnm_probe_path() { return CNM_PROBE_PATH; }

bool kernel_has_kprobes() {
  return std::filesystem::exists("/sys/bus/event_source/devices/kprobe/type") ||
         std::filesystem::exists("/sys/kernel/tracing/kprobe_events") ||
         std::filesystem::exists("/sys/kernel/debug/tracing/kprobe_events");
}

std::vector<ProbeMode> probe_modes() {
  std::vector<ProbeMode> m = {
      {"KernelCountersBtf", "", false, true},
      {"KernelCountersRawTp", "network_config:\n  hook_set: raw_tp\n", false, true},
      {"PerfBuffer", "network_config:\n  hook_set: raw_tp_perf\n", false, false},
      {"NoKernelBtf", "", false, false, true},
      {"PerCallHooks", "network_config:\n  per_call_hooks: true\n", true, true},
  };
  if (kernel_has_kprobes())
    m.push_back({"Kprobe", "network_config:\n  hook_set: kprobe\n", false, false});
  return m;
}

namespace {

// A prefix that runs the daemon in a mount namespace of its own, after setup (shell) there.
std::vector<std::string> in_own_mount_namespace(const std::string& setup) {
  return {"unshare", "--mount", "--propagation",           "private",
          "sh",      "-c",      setup + " && exec \"$@\"", "sh"};
}

}  // namespace

std::vector<std::string> without_kernel_btf() {
  return in_own_mount_namespace("mount -t tmpfs none /sys/kernel/btf");
}

std::vector<std::string> without_cgroup2() {
  return in_own_mount_namespace(
      "for m in $(findmnt -rn -t cgroup2 -o TARGET); do umount -l \"$m\" || exit 1; done");
}

ProbeDaemon::ProbeDaemon(const std::string& extra_yaml, const std::string& layout_yaml,
                         const std::vector<std::string>& extra_env, bool hide_kernel_btf,
                         const std::vector<std::string>& argv_prefix) {
  socket_ = (dir_ / "run/sysprobe.sock").string();
  write_file(dir_ / "system-probe.yaml",
             "auth_token_file_path: " + (dir_ / "auth_token").string() +
                 "\nsystem_probe_config:\n  sysprobe_socket: " + socket_ + "\n" + extra_yaml);
  std::vector<std::string> argv = hide_kernel_btf ? without_kernel_btf() : argv_prefix;
  for (const auto& a : {cnm_probe_path(), std::string("--config"),
                        (dir_ / "system-probe.yaml").string(), std::string("-v")})
    argv.push_back(a);
  if (!layout_yaml.empty()) {
    write_file(dir_ / "layout.yaml", layout_yaml);
    argv.push_back("--layout");
    argv.push_back((dir_ / "layout.yaml").string());
  }
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  for (const auto& e : extra_env) env.push_back(e);
  std::vector<char*> args, envp;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const auto log_path = (dir_ / "probe.log").string();
  posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  const int rc = ::posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + cnm_probe_path());

  // Ready when the token exists and /health answers 200 (the installer's contract).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("cnm-probe exited during start-up:\n" + log());
    }
    if (token_.empty() && std::filesystem::exists(dir_ / "auth_token")) {
      token_ = read_file(dir_ / "auth_token");
      while (!token_.empty() && (token_.back() == '\n' || token_.back() == ' ')) token_.pop_back();
    }
    if (!token_.empty() && get("/health").status == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  throw std::runtime_error("cnm-probe did not answer /health within 20 s:\n" + log());
}

ProbeDaemon::~ProbeDaemon() { stop(); }

int ProbeDaemon::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

HttpResult ProbeDaemon::get_with(const std::string& path, const std::string& authorization) const {
  httplib::Client cli(socket_);
  cli.set_address_family(AF_UNIX);
  cli.set_read_timeout(30, 0);
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  auto res = cli.Get(path.c_str(), headers);
  if (!res) return {-1, "", httplib::to_string(res.error())};
  return {res->status, res->body, ""};
}

nlohmann::json ProbeDaemon::get_json(const std::string& path) const {
  const auto r = get(path);
  if (r.status != 200)
    throw std::runtime_error("GET " + path + ": HTTP " + std::to_string(r.status));
  return nlohmann::json::parse(r.body);
}

nlohmann::json gather_connections(const ProbeDaemon& d, const std::string& client,
                                  const std::function<bool(const nlohmann::json&)>& done,
                                  int timeout_s) {
  auto all = nlohmann::json::array();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    const auto reply = d.get_json("/network_tracer/connections?client_id=" + client);
    for (const auto& c : reply["connections"]) all.push_back(c);
    if (done(all) || std::chrono::steady_clock::now() > deadline) return all;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::map<ConnKey, nlohmann::json> totals_by_tuple(const nlohmann::json& records) {
  static constexpr const char* kCounters[] = {"bytes_sent", "bytes_received", "packets_sent",
                                              "packets_received", "retransmits"};
  std::map<ConnKey, nlohmann::json> out;
  for (const auto& r : records) {
    ConnKey k{r["laddr"], r["lport"], r["raddr"], r["rport"]};
    auto [it, fresh] = out.try_emplace(k, r);
    if (fresh) continue;
    nlohmann::json merged = r;
    for (const char* c : kCounters)
      merged[c] = it->second[c].get<std::uint64_t>() + r[c].get<std::uint64_t>();
    it->second = std::move(merged);
  }
  return out;
}

ClosedEnds gather_closed_ends(const ProbeDaemon& d, const std::string& client,
                              const std::vector<Exchange>& xs) {
  ClosedEnds ends;
  gather_connections(d, client, [&](const nlohmann::json& all) {
    // Totals, and only once closed: a socket still closing is reported open first.
    const auto totals = totals_by_tuple(all);
    for (const auto& x : xs) {
      const auto c = totals.find({x.client_addr, x.client_port, x.server_addr, x.server_port});
      if (c != totals.end() && c->second["closed"] == true) ends.client[x.client_port] = c->second;
      const auto s = totals.find({x.server_addr, x.server_port, x.client_addr, x.client_port});
      if (s != totals.end() && s->second["closed"] == true) ends.server[x.client_port] = s->second;
    }
    return ends.client.size() == xs.size() && ends.server.size() == xs.size();
  });
  return ends;
}

ClosedEnds gather_loopback_closed_ends(const ProbeDaemon& d, const std::string& client,
                                       std::uint16_t server_port,
                                       const std::vector<std::uint16_t>& client_ports) {
  std::vector<Exchange> xs;
  for (auto port : client_ports) {
    Exchange x;
    x.client_addr = x.server_addr = "127.0.0.1";
    x.client_port = port;
    x.server_port = server_port;
    xs.push_back(x);
  }
  return gather_closed_ends(d, client, xs);
}

std::map<int, nlohmann::json> closed_by_lport(const ProbeDaemon& d, const std::string& client,
                                              const std::set<int>& lports, const std::string& raddr,
                                              int rport, nlohmann::json* seen) {
  std::map<int, nlohmann::json> out;
  const auto all = gather_connections(d, client, [&](const nlohmann::json& so_far) {
    for (const auto& c : so_far)
      if (c["closed"] == true && lports.contains(c["lport"].get<int>()) && c["raddr"] == raddr &&
          c["rport"] == rport)
        out[c["lport"]] = c;
    return out.size() == lports.size();
  });
  if (seen) {
    *seen = nlohmann::json::array();
    for (const auto& c : all)
      if (c["raddr"] == raddr && c["rport"] == rport) seen->push_back(c);
  }
  return out;
}

std::string schema_errors(const nlohmann::json& doc, const std::string& schema) {
  TempDir dir;
  write_file(dir / "doc.json", doc.dump());
  const auto r =
      sh("/usr/bin/python3 -c 'import json,sys,jsonschema; "
         "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' " +
         (source_dir() / "probe" / schema).string() + " " + (dir / "doc.json").string());
  return r.exit_code == 0 ? "" : r.err + r.out;
}

long ProbeDaemon::rss_kib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace cnm::test
