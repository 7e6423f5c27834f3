// Kernel glue for TCP: probes which tracepoints this kernel has, loads and attaches the
// tcp_tracer BPF skeleton sized from the config, and reads open connections (map), closed
// ones (ring buffer) and the kernel-side counters. Destroying it detaches everything.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "probe/cgroup_paths.h"
#include "probe/conn_json.h"
#include "probe/connection.h"

struct tcp_tracer;
struct ring_buffer;

namespace cnm::probe {

struct TracerOptions {
  std::uint32_t max_tracked_connections = 65536;
  std::uint32_t max_closed_connections_buffered = 65536;
  bool disable_ipv6 = false;
  bool per_call_hooks = false;      // see ProbeConfig::per_call_hooks
  std::string state_hook = "auto";  // see ProbeConfig::state_hook
};

// Open connections kept in the kernel side's slot array, of max_tracked (the rest go to its
// hash map): a power of two, at most an eighth of max_tracked and kMaxConnectionSlots; 0 below
// 128 (too few to matter).
inline constexpr std::uint32_t kMaxConnectionSlots = 8192;
std::uint32_t connection_slots(std::uint32_t max_tracked);

class Tracer {
 public:
  // Receives the connections closed since the last poll, in one batch per poll (one lock of the
  // store and one clock read per batch, not per connection: closes come by the ten thousand a
  // second on a busy host).
  using ClosedSink = std::function<void(std::vector<Connection>&&)>;
  // Throws std::runtime_error naming the hook or step that failed.
  Tracer(const TracerOptions& o, ClosedSink on_closed);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // "tp_btf/NAME" or "raw_tp/NAME" for each attached program.
  const std::vector<std::string>& hooks() const { return hooks_; }

  // Waits timeout_ms, then hands every closed connection buffered in the kernel to the sink. Safe
  // to call from several threads (the ring buffer is consumed by one at a time).
  void poll_closed(int timeout_ms);

  // A snapshot of the open-connection map, every entry's kernel counters read first
  // (refresh_open), so they are those of this moment.
  std::vector<Connection> open_connections() const;

  // Kernel-side counters (drops, opened/closed totals) and map occupancy.
  StatMap stats() const;

 private:
  std::uint64_t counter(std::uint32_t which) const;  // a kernel-side counter, summed over the CPUs
  std::uint64_t map_entries() const;                 // open connections tracked (slots + map)
  // Calls each(entry) for every entry of a BPF array or hash map, read in batches.
  template <typename Key, typename F>
  static void read_batches(int fd, const char* what, F&& each);
  struct HookSet {  // what this kernel offers, and what the config asks for
    bool state = false, send = false, recv = false, retrans = false, per_call = false;
  };
  // Opens, sizes, loads and attaches the skeleton with inet_sock_set_state as tp_btf or as
  // raw_tp, with or without the snapshot iterator, with slot_count connection slots (0: the
  // build without slots); throws (skeleton freed) on any failure.
  void load(const TracerOptions& o, const HookSet& h, bool btf_state, bool snapshot,
            std::uint32_t slot_count);
  // Runs the snapshot iterator once: connections open before the start enter the map.
  void run_snapshot();
  tcp_tracer* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  ClosedSink on_closed_;
  std::mutex rb_mu_;
  std::vector<std::string> hooks_;
  std::uint32_t max_tracked_ = 0;
  std::uint32_t slots_ = 0;   // of max_tracked_, in the slot array (the rest in the map)
  bool can_refresh_ = false;  // the kernel runs refresh_open (bpf_for_each_map_elem)
  std::vector<Connection> closed_batch_;  // filled by on_ringbuf, under rb_mu_
  std::uint64_t batch_now_ns_ = 0;        // when the batch being filled was started
  static int on_ringbuf(void* ctx, void* data, std::size_t size);
  void hand_over_closed();  // closed_batch_ to the sink, under rb_mu_
  // Runs refresh_open over the whole map, a chunk at a time.
  void refresh_open() const;
  // pid -> container id: read from /proc once per pid, forgotten every 10 s (pids are reused);
  // for a process already gone, from the path of the cgroup v2 the kernel side recorded. now_ns:
  // the caller's monotonic clock reading, taken once for a whole batch.
  std::shared_ptr<const std::string> container_id(std::uint32_t pid, std::uint64_t cgroup_id,
                                                  std::uint64_t now_ns) const;
  mutable std::mutex cid_mu_;
  mutable std::unordered_map<std::uint32_t, std::shared_ptr<const std::string>> cid_cache_;
  // For processes gone: by the cgroup v2 id the kernel side recorded (same lifetime).
  mutable std::unordered_map<std::uint64_t, std::shared_ptr<const std::string>> cgid_cache_;
  mutable std::uint64_t cid_cache_born_ns_ = 0;
  mutable CgroupPaths cgroups_{CgroupPaths::find_cgroup2_mount()};
};

}  // namespace cnm::probe
