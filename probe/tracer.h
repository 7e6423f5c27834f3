// Kernel glue for TCP: walks the ladder (probe/ladder.h) from the best rung this kernel can run,
// loads and attaches the first attempt that the kernel takes, and reads open connections (slots
// and map), closed ones (ring buffer or perf buffer) and the kernel-side counters. Destroying it
// detaches everything.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <bpf/libbpf.h>
#include <nlohmann/json.hpp>

#include "probe/cgroup_paths.h"
#include "probe/conn_json.h"
#include "probe/connection.h"
#include "probe/ladder_choice.h"

namespace cnm::probe {

struct TracerOptions {
  std::uint32_t max_tracked_connections = 65536;
  std::uint32_t max_closed_connections_buffered = 65536;
  bool disable_ipv6 = false;
  bool per_call_hooks = false;    // see ProbeConfig::per_call_hooks
  std::string hook_set = "auto";  // see ProbeConfig::hook_set
  std::string btf_path;           // see ProbeConfig::btf_path
  std::filesystem::path btf_dir;  // operators' BTF files (<bpf_object_dir>/btf)
  // The cgroup v2 hierarchy's root (Cgroup2Mount::dir, found once by the daemon), for the
  // container ids of processes gone; empty: none (those get no container id).
  std::filesystem::path cgroup2_mount;
};

// Open connections kept in the kernel side's slot array, of max_tracked (the rest go to its
// hash map): a power of two, at most an eighth of max_tracked and kMaxConnectionSlots; 0 below
// 128 (too few to matter).
inline constexpr std::uint32_t kMaxConnectionSlots = 8192;
std::uint32_t connection_slots(std::uint32_t max_tracked);

class PreparedObject;
class LiveKernel;

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

  // "tp_btf/NAME", "raw_tp/NAME" or "kprobe/FUNCTION" for each attached program.
  const std::vector<std::string>& hooks() const { return hooks_; }

  // The rung running and how: {"name", "slots", "closed_channel", "btf", "hooks_lost", ...}.
  const nlohmann::json& rung() const { return rung_; }

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
  // Prepares, loads and attaches one attempt of the ladder; throws (everything of it released)
  // when the kernel refuses any of its required programs.
  void load(const Attempt& a, const TracerOptions& o, const std::string& btf_path);
  void attach_hooks(const Attempt& a);
  void open_closed_channel(const Attempt& a, std::uint32_t ring_bytes);
  // Runs the snapshot iterator once: connections open before the start enter the map.
  void run_snapshot(bpf_program* prog);
  std::unique_ptr<PreparedObject> obj_;
  std::vector<bpf_link*> links_;
  ring_buffer* rb_ = nullptr;
  perf_buffer* pb_ = nullptr;
  ClosedSink on_closed_;
  std::mutex rb_mu_;
  std::vector<std::string> hooks_;
  nlohmann::json rung_;
  std::unique_ptr<LiveKernel> kernel_;
  int conns_fd_ = -1, slots_fd_ = -1, counters_fd_ = -1, refresh_fd_ = -1;
  std::uint32_t max_tracked_ = 0;
  std::uint32_t slots_ = 0;  // of max_tracked_, in the slot array (the rest in the map)
  std::vector<Connection> closed_batch_;  // filled by on_closed_record, under rb_mu_
  std::uint64_t batch_now_ns_ = 0;        // when the batch being filled was started
  void on_closed_record(const void* data, std::size_t size);
  static int on_ringbuf(void* ctx, void* data, std::size_t size);
  static bpf_perf_event_ret on_perf_event(void* ctx, int cpu, perf_event_header* event);
  void hand_over_closed();  // closed_batch_ to the sink, under rb_mu_
  // Runs refresh_open over the whole map, a chunk at a time (when the rung has it).
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
  mutable CgroupPaths cgroups_;  // on TracerOptions::cgroup2_mount
};

}  // namespace cnm::probe
