#include "probe/tracer.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "probe/container_id.h"
#include "probe/tcp_failure.h"
#include "tcp_tracer.skel.h"

extern "C" {
#include "probe/bpf/tcp_tracer.h"
}

namespace cnm::probe {
namespace {

bool is_v4_mapped(const __u8* a) {
  static constexpr __u8 kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, kPrefix, sizeof kPrefix) == 0;
}

std::uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

static_assert(sizeof(cnm_conn::saddr) == sizeof(IpBytes) &&
              sizeof(cnm_conn::daddr) == sizeof(IpBytes));

Connection to_connection(const cnm_conn& k, std::uint64_t now_ns) {
  Connection c;
  c.id = {k.sk, k.start_ns};
  c.family = k.family;
  std::memcpy(c.laddr.data(), k.saddr, c.laddr.size());
  std::memcpy(c.raddr.data(), k.daddr, c.raddr.size());
  // A dual-stack socket talking IPv4 (::ffff:a.b.c.d at both ends) is an IPv4 connection.
  if (k.family == 6 && is_v4_mapped(k.saddr) && is_v4_mapped(k.daddr)) {
    c.family = 4;
    c.laddr = {};
    c.raddr = {};
    std::memcpy(c.laddr.data(), k.saddr + 12, 4);
    std::memcpy(c.raddr.data(), k.daddr + 12, 4);
  }
  c.lport = k.sport;
  c.rport = k.dport;
  c.direction = k.direction == CNM_DIR_OUTGOING   ? Direction::kOutgoing
                : k.direction == CNM_DIR_INCOMING ? Direction::kIncoming
                                                  : Direction::kLocal;
  c.pid = k.pid;
  c.comm.assign({k.comm, strnlen(k.comm, sizeof k.comm)});
  c.netns = k.netns;
  c.counters = {k.bytes_sent, k.bytes_received, k.packets_sent, k.packets_received, k.retransmits};
  c.rtt_us = k.rtt_us;
  c.rttvar_us = k.rttvar_us;
  c.closed = k.closed != 0;
  if (c.closed) c.tcp_failures = tcp_failures_from_errno(k.sk_err);
  const std::uint64_t end = k.closed ? k.end_ns : now_ns;
  c.duration_ms = end > k.start_ns ? (end - k.start_ns) / 1000000ULL : 0;
  return c;
}

// Raw tracepoints need no tracefs and no kprobes; a kernel has one when its BTF has the
// tracepoint's btf_trace_NAME typedef.
bool has_raw_tracepoint(const btf* vmlinux, const char* name) {
  const std::string t = std::string("btf_trace_") + name;
  return vmlinux && btf__find_by_name_kind(vmlinux, t.c_str(), BTF_KIND_TYPEDEF) > 0;
}

// Closed connections go to the store in vectors of at most this many (~42 KiB): below the
// daemon's mmap threshold (128 KiB), so each comes from the heap and reuses freed memory; a
// whole poll's vector (a few hundred KiB at 10k connections/s) was mapped and unmapped each
// time, and its page faults cost more than the connections it carried.
constexpr std::size_t kClosedBatchMax = 256;
static_assert(kClosedBatchMax * sizeof(Connection) < 128 * 1024, "see daemon.cpp's mallopt");

std::uint32_t ringbuf_bytes(std::uint32_t closed_entries) {
  // The daemon drains the ring continuously into its own buffer, so the ring only absorbs
  // bursts: up to 16384 closes between two polls.
  const std::uint64_t want =
      static_cast<std::uint64_t>(std::min<std::uint32_t>(closed_entries, 16384)) *
      (sizeof(cnm_conn) + 8);
  std::uint32_t size = 4096;
  while (size < want) size <<= 1;
  return size;
}

// Whether the kernel's verifier takes BPF compare-and-swap (Linux 5.12+), which taking a slot
// needs: a six-instruction socket filter that uses it, loaded and closed.
bool kernel_has_bpf_cmpxchg() {
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},          // r0 = 0
      {BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 0},          // *(u64 *)(r10 - 8) = 0
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1},          // r1 = 1
      {BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_10, BPF_REG_1, -8,  // r0 = cmpxchg(r10 - 8,
       BPF_CMPXCHG},                                              //   r0, r1)
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},          // r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  const int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, nullptr, "GPL", insns,
                               sizeof insns / sizeof insns[0], nullptr);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

}  // namespace

std::uint32_t connection_slots(std::uint32_t max_tracked) {
  std::uint32_t slots = 0;
  for (std::uint32_t n = 16; n <= max_tracked / 8 && n <= kMaxConnectionSlots; n <<= 1) slots = n;
  return slots;
}

Tracer::Tracer(const TracerOptions& o, ClosedSink on_closed)
    : on_closed_(std::move(on_closed)), max_tracked_(o.max_tracked_connections) {
  closed_batch_.reserve(kClosedBatchMax);
  btf* vmlinux = btf__load_vmlinux_btf();
  if (libbpf_get_error(vmlinux)) vmlinux = nullptr;
  HookSet h;
  h.state = has_raw_tracepoint(vmlinux, "inet_sock_set_state");
  h.send = has_raw_tracepoint(vmlinux, "sock_send_length");
  h.recv = has_raw_tracepoint(vmlinux, "sock_recv_length");
  h.retrans = has_raw_tracepoint(vmlinux, "tcp_retransmit_skb");
  btf__free(vmlinux);
  if (!h.state)
    throw std::runtime_error(
        "this kernel has no inet_sock_set_state raw tracepoint (needs BTF and Linux >= 4.16)");
  h.per_call = o.per_call_hooks && h.send && h.recv;
  if (o.per_call_hooks && !h.per_call)
    spdlog::warn(
        "per_call_hooks: this kernel has no sock_send_length/sock_recv_length tracepoints "
        "(Linux 6.4+); bytes come from tcp_sock counters");
  // refresh_open needs bpf_for_each_map_elem (Linux 5.13+). Without it, open connections keep
  // the counters of their last I/O hook call (per-call hooks) or of nothing until they close.
  can_refresh_ = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_for_each_map_elem,
                                         nullptr) == 1;
  if (!can_refresh_)
    spdlog::warn(
        "this kernel has no bpf_for_each_map_elem (Linux 5.13+): open connections are reported "
        "with the counters they had when first seen, exact ones once they close");

  // The BTF-typed tracepoint reads the socket with plain loads (a connection costs about half
  // of what it does with probe reads); where the kernel refuses it (before 5.9, or without BTF
  // for the tracepoint), the raw one does the same job.
  // Best first: tp_btf with the snapshot iterator, tp_btf alone (a kernel may take one and not
  // the other), then raw_tp; state_hook narrows the list.
  // Each with connection slots first (where the kernel has BPF compare-and-swap), then
  // without: the map alone.
  struct Attempt {
    bool btf, snapshot;
    std::uint32_t slots;
    std::string name() const {
      return std::string(btf ? (snapshot ? "tp_btf with iter/tcp" : "tp_btf") : "raw_tp") +
             (slots ? " with connection slots" : "");
    }
  };
  std::vector<Attempt> attempts;
  const std::uint32_t slots = kernel_has_bpf_cmpxchg() ? connection_slots(max_tracked_) : 0;
  if (slots == 0 && max_tracked_ / 8 >= 16)
    spdlog::info("no BPF compare-and-swap (Linux 5.12+): open connections all go to the map");
  auto add = [&](bool btf, bool snap) {
    if (slots != 0) attempts.push_back({btf, snap, slots});
    attempts.push_back({btf, snap, 0});
  };
  if (o.state_hook != "raw_tp") {
    add(true, true);
    add(true, false);
  }
  if (o.state_hook != "tp_btf") add(false, false);
  bool btf_state = false, snapshot = false;
  for (std::size_t i = 0;; ++i) {
    try {
      load(o, h, attempts[i].btf, attempts[i].snapshot, attempts[i].slots);
      btf_state = attempts[i].btf;
      snapshot = attempts[i].snapshot;
      break;
    } catch (const std::exception& e) {
      if (i + 1 == attempts.size()) throw;
      spdlog::warn("{} refused ({}); trying {}", attempts[i].name(), e.what(),
                   attempts[i + 1].name());
    }
  }
  if (!snapshot)
    spdlog::warn(
        "no TCP socket iterator (it needs what tp_btf needs, Linux 5.9+): connections open "
        "before the start are not reported");

  hooks_.push_back(btf_state ? "tp_btf/inet_sock_set_state" : "raw_tp/inet_sock_set_state");
  if (h.per_call) {
    hooks_.push_back("raw_tp/sock_send_length");
    hooks_.push_back("raw_tp/sock_recv_length");
  } else {
    spdlog::info("bytes from tcp_sock counters (nothing runs per send or receive)");
  }
  if (h.retrans) hooks_.push_back("raw_tp/tcp_retransmit_skb");
  for (const auto& hook : hooks_) spdlog::info("hook chosen: {}", hook);
  // After the tracepoints are attached: a connection opened from now on is theirs, one already
  // open is the iterator's (whichever inserts first wins, the other finds the entry).
  if (snapshot) run_snapshot();

  rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.closed), &Tracer::on_ringbuf, this, nullptr);
  if (!rb_) {
    const int err = errno;
    tcp_tracer__destroy(skel_);
    skel_ = nullptr;
    throw std::runtime_error(std::string("cannot open the closed-connection ring buffer: ") +
                             std::strerror(err));
  }
}

namespace {

// One run of the iterator in the calling thread's network namespace (the kernel walks the
// sockets of the netns that creates the iterator fd). False when it could not run.
bool iterate_here(int link_fd) {
  const int fd = bpf_iter_create(link_fd);
  if (fd < 0) return false;
  char buf[512];
  ssize_t r;
  while ((r = ::read(fd, buf, sizeof buf)) > 0) {  // the program writes nothing: reading drives it
  }
  ::close(fd);
  return r == 0;
}

// Every network namespace some process is in (containers have their own), and those only
// pinned by a file (`ip netns add` ones in /run/netns), by inode, with a path to open.
std::map<ino_t, std::string> network_namespaces() {
  std::map<ino_t, std::string> out;
  auto add = [&](const std::filesystem::path& ns) {
    struct stat st {};
    if (::stat(ns.c_str(), &st) == 0) out.emplace(st.st_ino, ns.string());
  };
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = e.path().filename().string();
    if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0])))
      add(e.path() / "ns/net");
  }
  for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec)) add(e.path());
  return out;
}

}  // namespace

void Tracer::run_snapshot() {
  bpf_link* link = bpf_program__attach_iter(
      slots_ != 0 ? skel_->progs.snapshot_slots : skel_->progs.snapshot, nullptr);
  if (!link) {
    spdlog::warn("cannot start the TCP socket iterator: {}", std::strerror(errno));
    return;
  }
  const int link_fd = bpf_link__fd(link);
  // Each namespace from a thread that joins it (setns changes only that thread), so the
  // daemon's own threads stay in theirs.
  int done = 0, failed = 0;
  std::thread walker([&] {  // one thread moves from namespace to namespace, then ends
    for (const auto& [ino, path] : network_namespaces()) {
      const int ns = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      const bool ok = ns >= 0 && ::setns(ns, CLONE_NEWNET) == 0 && iterate_here(link_fd);
      if (ns >= 0) ::close(ns);
      ok ? ++done : ++failed;  // a process gone meanwhile counts as not walked
    }
  });
  walker.join();
  bpf_link__destroy(link);
  spdlog::info("connections open at start: {} network namespace(s) walked, {} not", done, failed);
}

void Tracer::load(const TracerOptions& o, const HookSet& h, bool btf_state, bool snapshot,
                  std::uint32_t slot_count) {
  slots_ = slot_count;
  skel_ = tcp_tracer__open();
  if (!skel_)
    throw std::runtime_error(std::string("cannot open BPF skeleton: ") + std::strerror(errno));
  auto fail = [this](const std::string& what, int err) {
    tcp_tracer__destroy(skel_);
    skel_ = nullptr;
    throw std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err));
  };
  skel_->rodata->disable_ipv6 = o.disable_ipv6;
  skel_->rodata->app_bytes_hooks = h.per_call;
  // One build of the programs that take and free slots (see tcp_tracer.bpf.c): with or without.
  const bool slots = slots_ != 0;
  bpf_program__set_autoload(skel_->progs.set_state_btf, btf_state && !slots);
  bpf_program__set_autoload(skel_->progs.set_state_btf_slots, btf_state && slots);
  bpf_program__set_autoload(skel_->progs.inet_sock_set_state, !btf_state && !slots);
  bpf_program__set_autoload(skel_->progs.inet_sock_set_state_slots, !btf_state && slots);
  bpf_program__set_autoload(skel_->progs.snapshot, snapshot && !slots);
  bpf_program__set_autoload(skel_->progs.snapshot_slots, snapshot && slots);
  bpf_program__set_autoattach(skel_->progs.snapshot, false);  // run once, by run_snapshot()
  bpf_program__set_autoattach(skel_->progs.snapshot_slots, false);
  bpf_program__set_autoload(skel_->progs.sock_send_length, h.per_call);
  bpf_program__set_autoload(skel_->progs.sock_recv_length, h.per_call);
  bpf_program__set_autoload(skel_->progs.refresh_open, can_refresh_);
  bpf_program__set_autoattach(skel_->progs.refresh_open, false);  // run on demand, never attached
  bpf_program__set_autoload(skel_->progs.tcp_retransmit_skb, h.retrans);
  // Slots and map hold max_tracked_connections together (an array needs one entry).
  skel_->rodata->slot_bits = static_cast<__u32>(slots_ ? __builtin_ctz(slots_) : 0);
  if (int err = bpf_map__set_max_entries(skel_->maps.slots, slots_ ? slots_ : 1))
    fail("cannot size the connection slots", err);
  if (int err = bpf_map__set_max_entries(skel_->maps.conns, o.max_tracked_connections - slots_))
    fail("cannot size the connection map", err);
  if (int err = bpf_map__set_max_entries(skel_->maps.closed,
                                         ringbuf_bytes(o.max_closed_connections_buffered)))
    fail("cannot size the ring buffer", err);
  if (int err = tcp_tracer__load(skel_)) fail("cannot load BPF programs", err);
  if (int err = tcp_tracer__attach(skel_)) fail("cannot attach BPF programs", err);
}

Tracer::~Tracer() {
  ring_buffer__free(rb_);
  tcp_tracer__destroy(skel_);  // detaches every link and unloads every program
}

int Tracer::on_ringbuf(void* ctx, void* data, std::size_t size) {
  auto* self = static_cast<Tracer*>(ctx);
  if (size < sizeof(cnm_conn)) return 0;
  cnm_conn k;
  std::memcpy(&k, data, sizeof k);
  // Closed: its duration ends at end_ns.
  Connection& c = self->closed_batch_.emplace_back(to_connection(k, k.end_ns));
  c.container_id = self->container_id(k.pid, k.cgroup_id, self->batch_now_ns_);
  if (self->closed_batch_.size() == kClosedBatchMax) self->hand_over_closed();
  return 0;
}

void Tracer::hand_over_closed() {
  on_closed_(std::move(closed_batch_));  // the store trims a vector that has room to spare
  closed_batch_ = {};                    // a moved-from vector is valid but unspecified
  closed_batch_.reserve(kClosedBatchMax);
}

std::shared_ptr<const std::string> Tracer::container_id(std::uint32_t pid, std::uint64_t cgroup_id,
                                                        std::uint64_t now) const {
  // One string per container, shared by its connections; none (null) outside containers.
  auto shared = [](std::string id) {
    return id.empty() ? nullptr : std::make_shared<const std::string>(std::move(id));
  };
  std::lock_guard lock(cid_mu_);
  // now may be a little older than the cache (read by the caller before this lock): compare,
  // do not subtract.
  if (now > cid_cache_born_ns_ + 10'000'000'000ULL || cid_cache_.size() > 8192 ||
      cgid_cache_.size() > 8192) {
    cid_cache_.clear();
    cgid_cache_.clear();
    cid_cache_born_ns_ = now;
  }
  if (pid != 0) {
    if (auto it = cid_cache_.find(pid); it != cid_cache_.end()) return it->second;
    // /proc names every hierarchy (a cgroup v1 host puts container ids only there).
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    if (in) {
      std::ostringstream ss;
      ss << in.rdbuf();
      return cid_cache_[pid] = shared(container_id_from_cgroup(ss.str()));
    }
  }
  // The process is gone (or unknown): the cgroup v2 it ran in, recorded by the kernel side.
  if (auto it = cgid_cache_.find(cgroup_id); it != cgid_cache_.end()) return it->second;
  if (const auto path = cgroups_.path_of(cgroup_id))
    return cgid_cache_[cgroup_id] = shared(container_id_from_cgroup(*path));
  return nullptr;
}

void Tracer::poll_closed(int timeout_ms) {
  // The kernel side writes without wakeups (a wakeup per closed connection costs more than
  // the record), so wait the whole period, then drain in one batch. API handlers drain too;
  // libbpf's consumer is not meant for two threads at once, hence the lock.
  if (timeout_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
  std::lock_guard lock(rb_mu_);
  batch_now_ns_ = monotonic_ns();
  const int n = ring_buffer__consume(rb_);
  if (n < 0 && n != -EINTR) spdlog::warn("ring buffer: {}", std::strerror(-n));
  if (!closed_batch_.empty()) hand_over_closed();
}

void Tracer::refresh_open() const {
  if (!can_refresh_) return;
  // A chunk bounds how long one run walks the map with preemption off (~1 ms here).
  constexpr __u64 kChunk = 2048;
  const int fd = bpf_program__fd(skel_->progs.refresh_open);
  for (__u64 skip = 0;; skip += kChunk) {
    __u64 args[2] = {skip, kChunk};
    bpf_test_run_opts opts{};  // LIBBPF_OPTS is a C macro (statement expression)
    opts.sz = sizeof opts;
    opts.ctx_in = args;
    opts.ctx_size_in = sizeof args;
    if (const int err = bpf_prog_test_run_opts(fd, &opts); err != 0) {
      spdlog::warn("refreshing open connections: {}", std::strerror(errno));
      return;
    }
    if (opts.retval < kChunk) return;
  }
}

std::vector<Connection> Tracer::open_connections() const {
  refresh_open();
  std::vector<Connection> out;
  // Sized from the counters with a little room for connections opened meanwhile: at 65536
  // entries a vector left to double would hold up to twice the ~11 MB it needs for a moment.
  const std::size_t entries = map_entries();
  out.reserve(std::min<std::size_t>(entries + entries / 16 + 16, max_tracked_));
  const std::uint64_t now = monotonic_ns();
  auto add = [&](const cnm_conn& k) {
    out.push_back(to_connection(k, now));
    out.back().container_id = container_id(k.pid, k.cgroup_id, now);
  };
  // The slots change while they are read: a free one has sk 0, one being filled or freed has
  // start_ns 0 (the kernel side writes start_ns last and clears it first).
  if (slots_ != 0)
    read_batches<__u32>(bpf_map__fd(skel_->maps.slots), "the connection slots",
                        [&](const cnm_conn& k) {
                          if (k.sk != 0 && k.start_ns != 0) add(k);
                        });
  read_batches<__u64>(bpf_map__fd(skel_->maps.conns), "the connection map", add);
  return out;
}

template <typename Key, typename F>
void Tracer::read_batches(int fd, const char* what, F&& each) {
  // Batched reads: a few syscalls for the whole map rather than two per entry.
  constexpr std::uint32_t kChunk = 1024;
  std::vector<Key> keys(kChunk);
  std::vector<cnm_conn> vals(kChunk);
  Key in_batch = 0, out_batch = 0;
  bool first = true;
  bpf_map_batch_opts opts{};  // LIBBPF_OPTS is a C macro (statement expression)
  opts.sz = sizeof opts;
  for (;;) {
    std::uint32_t count = kChunk;
    const int err = bpf_map_lookup_batch(fd, first ? nullptr : &in_batch, &out_batch, keys.data(),
                                         vals.data(), &count, &opts);
    const int e = errno;
    for (std::uint32_t i = 0; i < count; ++i) each(vals[i]);
    if (err != 0) {
      if (e != ENOENT) spdlog::warn("reading {}: {}", what, std::strerror(e));
      break;
    }
    in_batch = out_batch;
    first = false;
  }
}

std::uint64_t Tracer::map_entries() const {
  // Every entry put in the map is counted opened and leaves it only when counted closed, so
  // the entries are the difference: no map walk (each connections reply has stats, and a full
  // map holds 65536 entries).
  const std::uint64_t opened = counter(CNM_CNT_OPENED), closed = counter(CNM_CNT_CLOSED);
  return opened > closed ? opened - closed : 0;
}

std::uint64_t Tracer::counter(std::uint32_t which) const {
  const int ncpu = libbpf_num_possible_cpus();
  std::vector<__u64> per_cpu(static_cast<std::size_t>(ncpu > 0 ? ncpu : 1));
  std::uint64_t total = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.counters), &which, per_cpu.data()) == 0)
    for (auto v : per_cpu) total += v;
  return total;
}

StatMap Tracer::stats() const {
  StatMap s;
  s["conn_map_full"] = counter(CNM_CNT_CONN_MAP_FULL);
  s["closed_ringbuf_full"] = counter(CNM_CNT_RINGBUF_FULL);
  s["tcp_opened"] = counter(CNM_CNT_OPENED);
  s["tcp_closed"] = counter(CNM_CNT_CLOSED);
  s["tcp_open_at_start"] = counter(CNM_CNT_SNAPSHOT);
  s["conn_map_stale_replaced"] = counter(CNM_CNT_STALE_REPLACED);
  s["conn_map_entries_current"] = map_entries();
  s["conn_map_max"] = max_tracked_;
  s["conn_map_slots"] = slots_;
  s["programs_attached"] = hooks_.size();
  // Runs the kernel skipped: a program is not re-entered on the same CPU (a softirq state change
  // landing while the program runs in process context), so that event is lost; the kernel
  // counts it per program (Linux 5.12+; 0 before).
  std::uint64_t skipped = 0;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel_->obj) {
    const int pfd = bpf_program__fd(prog);
    if (pfd < 0) continue;
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(pfd, &info, &len) == 0) skipped += info.recursion_misses;
  }
  s["hook_runs_skipped"] = skipped;
  return s;
}

}  // namespace cnm::probe
