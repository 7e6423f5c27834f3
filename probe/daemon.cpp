#include "probe/daemon.h"

#include <fmt/ranges.h>
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <thread>

#include "probe/auth_token.h"
#include "probe/cgroup_paths.h"
#include "probe/config.h"
#include "probe/conn_json.h"
#include "probe/conn_store.h"
#include "probe/dns_json.h"
#include "probe/dns_monitor.h"
#include "probe/http_server.h"
#include "probe/metrics.h"
#include "probe/sd_notify.h"
#include "probe/tracer.h"

namespace cnm::probe {
namespace {

// Gives freed heap back to the kernel after a reply, at most once a second: RSS returns to its
// baseline instead of staying at its peak. A reply inside that second leaves the trim pending;
// the poller's loop (every 50 ms) does it once the second has passed, so a burst of calls that
// then stops is trimmed too.
class FreeMemoryReleaser {
 public:
  void after_reply() {
    pending_ = true;
    maybe_release();
  }
  void maybe_release() {
    if (!pending_.load()) return;
    const auto now =
        std::chrono::steady_clock::now().time_since_epoch() / std::chrono::milliseconds(1);
    auto prev = last_.load();
    if (now - prev < 1000 || !last_.compare_exchange_strong(prev, now)) return;
    pending_ = false;
    ::malloc_trim(0);
  }

 private:
  std::atomic<bool> pending_{false};
  std::atomic<std::int64_t> last_{0};
};

// All state the routes read; one per daemon run.
struct Service {
  ProbeConfig config;
  ConnStore store;
  std::unique_ptr<Tracer> tracer;
  std::unique_ptr<DnsStats> dns;
  std::unique_ptr<DnsMonitor> dns_monitor;  // declared after dns: stops before it goes
  std::atomic<std::uint64_t> requests{0};
  FreeMemoryReleaser releaser;

  explicit Service(ProbeConfig c)
      : config(std::move(c)), store(config.max_closed_connections_buffered, config.max_clients) {}

  StatMap stats() {
    StatMap s;
    if (tracer) {
      s = tracer->stats();
    } else {
      s["programs_attached"] = 0;
    }
    const auto st = store.stats();
    s["closed_received"] = st.closed_received;
    s["closed_buffer_evicted"] = st.closed_buffer_evicted;
    s["closed_buffered"] = st.closed_buffered;
    s["closed_buffer_bytes_current"] = st.closed_buffer_bytes;
    s["closed_buffer_max"] = config.max_closed_connections_buffered;
    s["clients_evicted"] = st.clients_evicted;
    s["clients_refused"] = st.clients_refused;
    s["clients"] = st.clients;
    s["clients_max"] = config.max_clients;
    s["client_state_bytes_current"] = st.client_state_bytes;
    s["api_requests"] = requests.load();
    if (dns) s.merge(dns_stat_map(dns->stats()));  // the table's counters, not the table
    const auto mi = ::mallinfo2();
    s["heap_in_use_bytes_current"] = mi.uordblks;
    s["heap_free_bytes_current"] = mi.fordblks;
    return s;
  }

  HttpReply health() {
    ++requests;
    const std::size_t attached = tracer ? tracer->hooks().size() : 0;
    nlohmann::json body = {{"status", attached > 0 ? "ok" : "not_attached"},
                           {"version", CNM_VERSION},
                           {"programs_attached", attached},
                           {"hooks", tracer ? tracer->hooks() : std::vector<std::string>{}}};
    return {attached > 0 ? 200 : 503, body.dump()};
  }

  HttpReply connections(const std::string& client_id) {
    ++requests;
    // A client refused costs no read of the kernel's maps.
    if (auto no = refusal(client_id)) return std::move(*no);
    std::vector<Connection> open;
    if (tracer) {
      // Open ones first: reading them may find closes the state program missed, whose records
      // the poll then takes in. A connection in both is given once, as closed (ConnStore).
      open = tracer->open_connections();
      tracer->poll_closed(0);  // closes that happened before this call are reported now
    }
    auto taken = store.take_shared(client_id, std::move(open));
    if (!taken) return too_many_clients();  // others came in since admits()
    // Freed heap is given back once the reply is gone: sent whole, or cut short by a client
    // that went away (the server then drops it without asking for the last piece).
    std::shared_ptr<ConnectionsReply> reply(new ConnectionsReply(std::move(*taken), stats()),
                                            [this](ConnectionsReply* done) {
                                              delete done;
                                              releaser.after_reply();
                                            });
    HttpReply r;
    r.stream = [reply](std::string& piece) { return reply->next(piece); };
    return r;
  }

  // What a call of client_id's connections gets instead of them, or nullopt when it is served:
  // for the GET and for its HEAD (the API's `refuses` route).
  std::optional<HttpReply> refusal(const std::string& client_id) {
    if (store.admits(client_id)) return std::nullopt;
    return too_many_clients();
  }

  // 503, not an eviction: every known client called within the idle period.
  HttpReply too_many_clients() {
    releaser.after_reply();
    const nlohmann::json body = {
        {"error", "too many clients: " + std::to_string(config.max_clients) +
                      " client_ids called within the last " +
                      std::to_string(std::chrono::seconds(kClientIdle).count()) +
                      " s; reuse a client_id, wait for an idle one to expire, or raise "
                      "network_config.max_clients"},
        {"max_clients", config.max_clients},
        {"client_idle_seconds", std::chrono::seconds(kClientIdle).count()}};
    return {503, body.dump()};
  }

  HttpReply dns_stats() {
    ++requests;
    auto body = dns_reply_json(dns.get()).dump();
    releaser.after_reply();
    return {200, std::move(body)};
  }

  HttpReply debug_stats() {
    ++requests;
    nlohmann::json body = stats();
    body["hooks"] = tracer ? tracer->hooks() : std::vector<std::string>{};
    body["rung"] = tracer ? tracer->rung() : nlohmann::json(nullptr);
    // DNS monitoring's source, as the rung is the TCP side's (null when DNS monitoring is off).
    body["dns_source"] = nullptr;
    if (dns_monitor)
      body["dns_source"] = {{"name", dns_source_name(dns_monitor->source())},
                            {"cgroup", dns_monitor->cgroup()},
                            {"why_not_cgroup_skb", dns_monitor->why_not_cgroup()}};
    body["config"] = {{"max_tracked_connections", config.max_tracked_connections},
                      {"max_closed_connections_buffered", config.max_closed_connections_buffered},
                      {"max_clients", config.max_clients},
                      {"disable_ipv6", config.disable_ipv6},
                      {"per_call_hooks", config.per_call_hooks},
                      {"hook_set", config.hook_set},
                      {"dns_monitoring", config.dns_monitoring},
                      {"dns_source", dns_source_name(config.dns_source)},
                      {"btf_path", config.btf_path},
                      {"network_enabled", config.network_enabled}};
    return {200, body.dump()};
  }

  HttpReply metrics() {
    ++requests;
    return {200, prometheus_text(stats()), "text/plain; version=0.0.4"};
  }
};

}  // namespace

int run_daemon(const DaemonOptions& o) {
  // The API's worker threads would each get a malloc arena that keeps its peak; two arenas
  // bound the daemon's memory (requests are short, contention is low).
  ::mallopt(M_ARENA_MAX, 2);
  // Fixed thresholds (setting them turns off glibc's dynamic ones, which grow to 32 MiB after
  // the first large reply): large buffers are mmapped and unmapped when freed, and free heap
  // above 1 MiB goes back to the kernel.
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
  std::optional<ProbeConfig> config;
  try {
    config = load_config(o.config_file, o.layout);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }
  for (const auto& w : config->warnings) spdlog::warn("{}", w);

  // Signals are taken synchronously by the main thread; every other thread blocks them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::string token;
  try {
    token = load_or_create_token(config->auth_token_path);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }

  Service svc(*config);
  if (config->network_enabled) {
    // Read from the mount table once, for both users: the tracer (container ids of processes
    // gone) and DNS monitoring (where its cgroup programs attach, or why they cannot).
    Cgroup2Mount cgroup2;
    cgroup2.dir = CgroupPaths::find_cgroup2_mount(&cgroup2.why_none);
    try {
      svc.tracer = std::make_unique<Tracer>(
          TracerOptions{config->max_tracked_connections, config->max_closed_connections_buffered,
                        config->disable_ipv6, config->per_call_hooks, config->hook_set,
                        config->btf_path, o.layout.at(o.layout.bpf_object_dir) / "btf",
                        cgroup2.dir},
          [&svc](std::vector<Connection>&& closed) { svc.store.add_closed(std::move(closed)); });
    } catch (const std::exception& e) {
      spdlog::error("cannot start the TCP tracer: {}", e.what());
      return 1;
    }
    if (config->dns_monitoring) {
      try {
        svc.dns = std::make_unique<DnsStats>(config->max_dns_stats, config->max_dns_stats,
                                             std::uint64_t{config->dns_timeout_ms} * 1000000);
        svc.dns_monitor =
            std::make_unique<DnsMonitor>(config->dns_ports, *svc.dns, config->dns_source, cgroup2);
        spdlog::info("DNS monitoring on UDP port(s) {}", fmt::join(config->dns_ports, ", "));
      } catch (const std::exception& e) {
        spdlog::error("cannot start DNS monitoring: {}", e.what());
        return 1;
      }
    }
  } else {
    spdlog::warn("network_config.enabled is false: no BPF program is loaded");
    if (config->dns_monitoring)
      spdlog::warn("network_config.dns_monitoring is ignored: network_config.enabled is false");
  }

  std::atomic<bool> stopping{false};
  std::thread poller([&] {
    while (!stopping.load()) {
      if (svc.tracer)
        svc.tracer->poll_closed(50);
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      svc.releaser.maybe_release();
    }
  });

  int rc = 0;
  try {
    ApiServer api(
        config->socket_path, token, o.layout.group,
        {[&] { return svc.health(); }, [&](const std::string& id) { return svc.connections(id); },
         [&] { return svc.debug_stats(); }, [&] { return svc.metrics(); },
         [&] { return svc.dns_stats(); }, [&](const std::string& id) { return svc.refusal(id); }});
    notify_service_manager("READY=1\nSTATUS=serving");
    spdlog::info("cnm-probe ready");
    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("signal {}: stopping", sig);
    notify_service_manager("STOPPING=1");
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    rc = 1;
  }
  stopping = true;
  poller.join();
  svc.tracer.reset();  // detaches every program and link
  spdlog::info("BPF programs detached");
  return rc;
}

}  // namespace cnm::probe
