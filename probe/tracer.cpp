#include "probe/tracer.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
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

#include "probe/btf_source.h"
#include "probe/container_id.h"
#include "probe/kernel_answers.h"
#include "probe/ladder_load.h"
#include "probe/perf_reader.h"
#include "probe/tcp_failure.h"

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

// Per-CPU perf buffers (rungs without a ring buffer) hold about what the ring buffer would
// between them, each at least 64 KiB (~350 closed connections between two drains).
std::size_t perf_pages_per_cpu(std::uint32_t ring_bytes) {
  const int ncpu = libbpf_num_possible_cpus();
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t want =
      std::max<std::size_t>(ring_bytes / static_cast<std::size_t>(std::max(ncpu, 1)), 64 * 1024);
  std::size_t pages = 1;
  while (pages * page < want) pages <<= 1;
  return pages;
}

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

}  // namespace

std::uint32_t connection_slots(std::uint32_t max_tracked) {
  std::uint32_t slots = 0;
  for (std::uint32_t n = 16; n <= max_tracked / 8 && n <= kMaxConnectionSlots; n <<= 1) slots = n;
  return slots;
}

Tracer::Tracer(const TracerOptions& o, ClosedSink on_closed)
    : on_closed_(std::move(on_closed)),
      max_tracked_(o.max_tracked_connections),
      cgroups_(o.cgroup2_mount) {
  closed_batch_.reserve(kClosedBatchMax);
  const BtfSource btf = BtfSource::find(o.btf_path, o.btf_dir, kernel_release());
  spdlog::info("BTF for CO-RE: {}", btf.description());
  kernel_ = std::make_unique<LiveKernel>(btf.kind() != BtfSource::Kind::kKernel &&
                                         btf.kind() != BtfSource::Kind::kNone);
  ChoiceOptions co{o.hook_set, o.per_call_hooks, connection_slots(max_tracked_) != 0};
  Choice choice = choose(*kernel_, co);
  for (const auto& r : choice.rungs)
    if (r.asked && !r.possible())
      spdlog::info("rung {} cannot run here: it needs {}", r.rung->name, needs_text(r.missing));
  if (o.per_call_hooks && !choice.attempts.empty() &&
      !choice.attempts.front().has(Role::kSendBytes))
    spdlog::warn(
        "per_call_hooks: this kernel has no sock_send_length/sock_recv_length tracepoints "
        "(Linux 6.4+); bytes come from tcp_sock counters");
  // Best first; each refusal is logged with what the next attempt costs. The rungs after the
  // first the kernel allows are asked about only if all of its attempts fail.
  std::vector<Attempt> attempts = choice.attempts;
  const Attempt* chosen = nullptr;
  std::string last_error;
  for (std::size_t i = 0; !chosen; ++i) {
    if (i == attempts.size()) {
      if (co.all_rungs) break;
      co.all_rungs = true;
      choice = choose(*kernel_, co);
      for (const auto& more : choice.attempts)
        if (std::none_of(attempts.begin(), attempts.end(),
                         [&](const Attempt& t) { return t.rung == more.rung; }))
          attempts.push_back(more);
      if (i == attempts.size()) break;
      if (i > 0)
        spdlog::warn("every attempt of rung {} refused; trying {}, which costs {}",
                     attempts[i - 1].rung->name, attempts[i].describe(), attempts[i].rung->cost);
    }
    const Attempt& a = attempts[i];
    try {
      load(a, o, btf.libbpf_path());
      chosen = &a;
    } catch (const std::exception& e) {
      last_error = a.describe() + ": " + e.what();
      if (i + 1 == attempts.size()) {
        spdlog::warn("{} refused ({})", a.describe(), e.what());
        continue;
      }
      const Attempt& next = attempts[i + 1];
      if (next.rung != a.rung)
        spdlog::warn("{} refused ({}); trying {}, which costs {}", a.describe(), e.what(),
                     next.describe(), next.rung->cost);
      else
        spdlog::warn("{} refused ({}); trying {}", a.describe(), e.what(), next.describe());
    }
  }
  if (!chosen) {
    if (!last_error.empty())
      throw std::runtime_error("every rung refused; the last: " + last_error);
    throw std::runtime_error(why_no_rung(
        choice, btf.kind() == BtfSource::Kind::kNone ? btf.description() : std::string()));
  }
  nlohmann::json lost = nlohmann::json::array();
  std::map<Role, std::string_view> jobs;
  for (const auto& r : ladder())
    for (const auto& h : r.hooks)
      if (!h.required && !h.opt_in) jobs.emplace(h.role, h.loses);
  for (const auto& [role, loses] : jobs)
    if (!chosen->has(role))
      lost.push_back(std::string(role_name(role)) + ": " + std::string(loses));
  rung_ = {{"name", chosen->rung->name},
           {"attempt", chosen->describe()},
           {"connection_slots", slots_},
           {"closed_channel",
            chosen->rung->channel == Channel::kRingBuffer ? "ring_buffer" : "perf_buffer"},
           {"btf", btf.description()},
           {"hooks", hooks_},
           {"hooks_lost", lost}};
  if (chosen->rung->name == "kprobe") rung_["kprobes_through"] = kprobe_mechanism();
  spdlog::info("rung chosen: {}: {}; costs {}", chosen->describe(), chosen->rung->summary,
               chosen->rung->cost);
  for (const auto& l : lost) spdlog::warn("without {}", l.get<std::string>());
  for (const auto& hook : hooks_) spdlog::info("hook chosen: {}", hook);
  if (!chosen->has(Role::kSendBytes))
    spdlog::info("bytes from tcp_sock counters (nothing runs per send or receive)");
  if (chosen->rung->slots && slots_ == 0 && connection_slots(max_tracked_) != 0)
    spdlog::info(
        "no connection slots here (BPF compare-and-swap, Linux 5.12+): open connections all go to "
        "the map");
}

void Tracer::load(const Attempt& a, const TracerOptions& o, const std::string& btf_path) {
  LoadSettings s;
  s.max_tracked = o.max_tracked_connections;
  s.slots = a.build == Build::kSlots ? connection_slots(o.max_tracked_connections) : 0;
  s.closed_ring_bytes = ringbuf_bytes(o.max_closed_connections_buffered);
  s.disable_ipv6 = o.disable_ipv6;
  s.btf_path = btf_path;
  auto obj = std::make_unique<PreparedObject>(a, s);
  if (const int err = obj->load())
    throw std::runtime_error("cannot load BPF programs: " + errno_text(err));
  obj_ = std::move(obj);
  slots_ = s.slots;
  try {
    attach_hooks(a);
    open_closed_channel(a, s.closed_ring_bytes);
  } catch (...) {
    for (bpf_link* l : links_) bpf_link__destroy(l);
    links_.clear();
    hooks_.clear();
    obj_.reset();
    throw;
  }
  auto fd_of = [&](const char* name) {
    bpf_map* m = obj_->map(name);
    return m ? bpf_map__fd(m) : -1;
  };
  conns_fd_ = fd_of("conns");
  slots_fd_ = slots_ ? fd_of("slots") : -1;
  counters_fd_ = fd_of("counters");
  for (const Hook* h : a.hooks)
    if (h->role == Role::kRefresh)
      refresh_fd_ = bpf_program__fd(obj_->program(*program_for(*h, a.build)));
  // After the hooks are attached: a connection opened from now on is theirs, one already
  // open is the iterator's (whichever inserts first wins, the other finds the entry).
  for (const Hook* h : a.hooks)
    if (h->role == Role::kSnapshot) run_snapshot(obj_->program(*program_for(*h, a.build)));
}

void Tracer::attach_hooks(const Attempt& a) {
  for (const Hook* h : a.hooks) {
    bpf_program* prog = obj_->program(*program_for(*h, a.build));
    bpf_link* link = nullptr;
    std::string target(h->target);
    const std::string event = target.substr(target.find('/') + 1);  // tracepoint name
    switch (h->attach) {
      case Attach::kTracepointBtf:
        link = bpf_program__attach_trace(prog);
        target = "tp_btf/" + event;
        break;
      case Attach::kRawTracepoint:
        link = bpf_program__attach_raw_tracepoint(prog, event.c_str());
        target = "raw_tp/" + event;
        break;
      case Attach::kKprobe: {
        // The kprobe PMU where the kernel has it, else tracefs kprobe_events (libbpf decides).
        const std::string fn = kernel_->kernel_function(h->target);
        if (fn.empty()) {
          errno = ENOENT;
          break;
        }
        link = bpf_program__attach_kprobe(prog, false, fn.c_str());
        target = "kprobe/" + fn;
        break;
      }
      case Attach::kIterator:
      case Attach::kTestRun:
        continue;  // run, not attached
    }
    if (!link) {
      const int err = errno;
      if (h->required) throw std::runtime_error("cannot attach " + target + ": " + errno_text(err));
      spdlog::warn("cannot attach {} ({}): without {}", target, errno_text(err), h->loses);
      continue;
    }
    links_.push_back(link);
    hooks_.push_back(target);
  }
}

void Tracer::open_closed_channel(const Attempt& a, std::uint32_t ring_bytes) {
  const int fd = bpf_map__fd(obj_->map("closed"));
  if (a.rung->channel == Channel::kRingBuffer) {
    rb_ = ring_buffer__new(fd, &Tracer::on_ringbuf, this, nullptr);
    if (!rb_)
      throw std::runtime_error("cannot open the closed-connection ring buffer: " +
                               errno_text(errno));
    return;
  }
  pb_ = open_perf_buffer_woken_half_full(fd, perf_pages_per_cpu(ring_bytes), &Tracer::on_perf_event,
                                         this);
  if (!pb_)
    throw std::runtime_error("cannot open the closed-connection perf buffers: " +
                             errno_text(errno));
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

void Tracer::run_snapshot(bpf_program* prog) {
  bpf_link* link = bpf_program__attach_iter(prog, nullptr);
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

Tracer::~Tracer() {
  ring_buffer__free(rb_);
  perf_buffer__free(pb_);
  for (bpf_link* l : links_) bpf_link__destroy(l);  // detaches every hook
  obj_.reset();                                     // unloads every program
}

void Tracer::on_closed_record(const void* data, std::size_t size) {
  if (size < sizeof(cnm_conn)) return;
  cnm_conn k;
  std::memcpy(&k, data, sizeof k);
  // Closed: its duration ends at end_ns.
  Connection& c = closed_batch_.emplace_back(to_connection(k, k.end_ns));
  c.container_id = container_id(k.pid, k.cgroup_id, batch_now_ns_);
  if (closed_batch_.size() == kClosedBatchMax) hand_over_closed();
}

int Tracer::on_ringbuf(void* ctx, void* data, std::size_t size) {
  static_cast<Tracer*>(ctx)->on_closed_record(data, size);
  return 0;
}

bpf_perf_event_ret Tracer::on_perf_event(void* ctx, int, perf_event_header* event) {
  // A sample is the header, a u32 size and the record (PERF_SAMPLE_RAW). A record the buffer had
  // no room for never got there: the program counted it (closed_ringbuf_full), as with the ring
  // buffer, so the kernel's PERF_RECORD_LOST for it is not counted twice.
  if (event->type == PERF_RECORD_SAMPLE && event->size >= sizeof(*event) + sizeof(__u32)) {
    const auto* raw = reinterpret_cast<const char*>(event) + sizeof(*event);
    __u32 size = 0;
    std::memcpy(&size, raw, sizeof size);
    if (sizeof(*event) + sizeof size + size <= event->size)
      static_cast<Tracer*>(ctx)->on_closed_record(raw + sizeof size, size);
  }
  return LIBBPF_PERF_EVENT_CONT;
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
  const int n = rb_ ? ring_buffer__consume(rb_) : perf_buffer__consume(pb_);
  if (n < 0 && n != -EINTR) spdlog::warn("closed connections: {}", std::strerror(-n));
  if (!closed_batch_.empty()) hand_over_closed();
}

void Tracer::refresh_open() const {
  if (refresh_fd_ < 0) return;
  // A chunk bounds how long one run walks the map with preemption off (~1 ms here).
  constexpr __u64 kChunk = 2048;
  const int fd = refresh_fd_;
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
  // start_ns 0 (the kernel side writes start_ns last and clears it first). An entry whose close
  // refresh_open recovered stays, dead, with start_ns 0, in a slot or in the map.
  auto add_live = [&](const cnm_conn& k) {
    if (k.sk != 0 && k.start_ns != 0) add(k);
  };
  if (slots_ != 0) read_batches<__u32>(slots_fd_, "the connection slots", add_live);
  read_batches<__u64>(conns_fd_, "the connection map", add_live);
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
  for (std::uint32_t kind = 0; kind < CNM_RUN_KINDS; ++kind) {
    const std::uint32_t key = which + CNM_CNT_MAX * kind;  // the kernel side's layout
    if (bpf_map_lookup_elem(counters_fd_, &key, per_cpu.data()) == 0)
      for (auto v : per_cpu) total += v;
  }
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
  s["conn_map_closes_recovered"] = counter(CNM_CNT_CLOSE_RECOVERED);
  s["conn_map_entries_current"] = map_entries();
  s["conn_map_max"] = max_tracked_;
  s["conn_map_slots"] = slots_;
  s["programs_attached"] = hooks_.size();
  // Runs the kernel skipped: a program is not re-entered on the same CPU (a softirq state change
  // landing while the program runs in process context), so that event is lost; the kernel
  // counts it per program (Linux 5.12+; 0 before).
  // Runs made: counted by the kernel only while kernel.bpf_stats_enabled is 1 (Linux 5.1+).
  std::uint64_t skipped = 0, runs = 0;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, obj_->object()) {
    const int pfd = bpf_program__fd(prog);
    if (pfd < 0) continue;
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(pfd, &info, &len) != 0) continue;
    skipped += info.recursion_misses;
    runs += info.run_cnt;
  }
  s["hook_runs_skipped"] = skipped;
  s["hook_runs"] = runs;
  return s;
}

}  // namespace cnm::probe
