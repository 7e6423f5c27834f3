#include "probe/dns_monitor.h"

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/perf_event.h>
#include <net/ethernet.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "dns_filter.skel.h"
#include "dns_tap.skel.h"
#include "probe/bpf/dns_filter.h"
#include "probe/bpf/dns_tap.h"
#include "probe/perf_reader.h"

namespace cnm::probe {
namespace {

std::uint64_t to_ns(const timespec& t) {
  return static_cast<std::uint64_t>(t.tv_sec) * 1000000000ULL +
         static_cast<std::uint64_t>(t.tv_nsec);
}

std::uint64_t clock_ns(clockid_t clock) {
  timespec t{};
  ::clock_gettime(clock, &t);
  return to_ns(t);
}

std::runtime_error sys_error(const std::string& what, int err = errno) {
  return std::runtime_error(what + ": " + std::strerror(err));
}

// Each CPU's perf buffer: 8 MiB between all possible CPUs (the packet socket's buffer), a power
// of two of pages, from 64 KiB to 1 MiB (a record of a small query is ~90 bytes: 1 MiB holds a
// burst of ~12000 on one CPU, about what the socket's 8 MiB of skbs holds).
std::size_t perf_pages_per_cpu() {
  const long page = ::sysconf(_SC_PAGESIZE);
  const int cpus = std::max(1, libbpf_num_possible_cpus());
  const std::size_t per_cpu =
      std::clamp<std::size_t>((8u << 20) / static_cast<std::size_t>(cpus), 64u << 10, 1u << 20);
  std::size_t pages = 1;
  while (pages * 2 * static_cast<std::size_t>(page) <= per_cpu) pages *= 2;
  return pages;
}

// The ports into an object's dns_ports (probe/bpf/dns_match.h), 0 after the last. The config
// parser is the one check of network_config.dns_ports (1 to CNM_DNS_MAX_PORTS, with the file's
// line for the user); this copy is bounded by the array itself, not by that check, so no vector
// can overflow the object's rodata (ports past the array would just not be matched).
template <std::size_t N>
void set_ports(__u16 (&dst)[N], const std::vector<std::uint16_t>& ports) {
  static_assert(N == CNM_DNS_MAX_PORTS, "the objects' dns_ports, of CNM_DNS_MAX_PORTS");
  for (std::size_t i = 0; i < N; ++i) dst[i] = i < ports.size() ? ports[i] : 0;
}

}  // namespace

DnsMonitor::DnsMonitor(std::vector<std::uint16_t> ports, DnsStats& stats, DnsSource source,
                       const Cgroup2Mount& cgroup2)
    : ports_(std::move(ports)), stats_(stats), source_(set_up(source, cgroup2)) {
  thread_ = std::thread([this] { source_ == DnsSource::kCgroupSkb ? run_tap() : run_socket(); });
}

DnsSource DnsMonitor::set_up(DnsSource wanted, const Cgroup2Mount& cgroup2) {
  // 1. The cgroup programs, unless the packet socket is forced.
  if (wanted == DnsSource::kPacketSocket) {
    why_not_cgroup_ = "network_config.dns_source is " + std::string(dns_source_name(wanted));
  } else if (tap_opened(wanted, cgroup2)) {
    spdlog::info("DNS monitoring through cgroup programs on {} (source {})", cgroup_,
                 dns_source_name(DnsSource::kCgroupSkb));
    return DnsSource::kCgroupSkb;
  }
  // 2. The packet socket: forced, or auto's fallback.
  try {
    open_socket();
  } catch (...) {
    release();
    throw;
  }
  spdlog::info("DNS monitoring through a packet socket (source {})",
               dns_source_name(DnsSource::kPacketSocket));
  return DnsSource::kPacketSocket;
}

bool DnsMonitor::tap_opened(DnsSource wanted, const Cgroup2Mount& cgroup2) {
  try {
    open_tap(cgroup2);
    return true;
  } catch (const std::exception& e) {
    release();
    if (wanted == DnsSource::kCgroupSkb)
      throw std::runtime_error("dns_source " + std::string(dns_source_name(wanted)) + ": " +
                               e.what());
    why_not_cgroup_ = e.what();
    spdlog::warn(
        "DNS monitoring: no cgroup programs ({}); falling back to a packet socket, which costs a "
        "clone of every packet the host transmits",
        why_not_cgroup_);
    return false;
  }
}

DnsMonitor::~DnsMonitor() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  release();
}

void DnsMonitor::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  dns_filter__destroy(filter_);  // null-safe
  filter_ = nullptr;
  // The links first: no program writes to a buffer being freed.
  bpf_link__destroy(egress_);  // null-safe
  bpf_link__destroy(ingress_);
  egress_ = ingress_ = nullptr;
  perf_buffer__free(pb_);  // null-safe
  pb_ = nullptr;
  dns_tap__destroy(tap_);
  tap_ = nullptr;
}

void DnsMonitor::open_tap(const Cgroup2Mount& cgroup2) {
  // The root of the hierarchy, so the programs run for every cgroup's sockets (a program
  // attached with a link is never overridden below: links attach with BPF_F_ALLOW_MULTI).
  const auto& root = cgroup2.dir;
  if (root.empty()) throw std::runtime_error(cgroup2.why_none);
  tap_ = dns_tap__open();
  if (!tap_) throw sys_error("cannot open the dns_tap BPF object");
  set_ports(tap_->rodata->dns_ports, ports_);
  if (int err = dns_tap__load(tap_))
    throw sys_error("cannot load the dns_tap cgroup programs", -err);
  // The buffers before the programs, so the first datagram has a reader.
  pb_ = open_perf_buffer_woken_half_full(bpf_map__fd(tap_->maps.dns_events), perf_pages_per_cpu(),
                                         &DnsMonitor::on_tap_event, this);
  if (!pb_) throw sys_error("cannot open the DNS perf buffers");
  const int cg = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) throw sys_error("cannot open the cgroup2 root " + root.string());
  // bpf_link only (BPF_LINK_CREATE, Linux 5.7; libbpf 1.1 does not fall back to
  // BPF_PROG_ATTACH for a cgroup): a link goes with the daemon's file descriptors, a program
  // attached the legacy way would stay on the cgroup after a crash.
  egress_ = bpf_program__attach_cgroup(tap_->progs.dns_tap_egress, cg);
  int err = static_cast<int>(-libbpf_get_error(egress_));
  if (err == 0) {
    ingress_ = bpf_program__attach_cgroup(tap_->progs.dns_tap_ingress, cg);
    err = static_cast<int>(-libbpf_get_error(ingress_));
    if (err != 0) ingress_ = nullptr;
  } else {
    egress_ = nullptr;
  }
  ::close(cg);  // a link holds the cgroup
  if (err != 0)
    throw sys_error("cannot attach the dns_tap programs to " + root.string() +
                        " with a bpf_link (cgroup links: Linux 5.7)",
                    err);
  cgroup_ = root.string();
}

void DnsMonitor::open_socket() {
  filter_ = dns_filter__open();
  if (!filter_) throw sys_error("cannot open the dns_filter BPF object");
  set_ports(filter_->rodata->dns_ports, ports_);
  if (int err = dns_filter__load(filter_))
    throw std::runtime_error("cannot load the dns_filter socket filter: " +
                             std::string(std::strerror(-err)));
  // Protocol 0 receives nothing until bind: the filter is in place before the first packet.
  fd_ = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw sys_error("cannot open a packet socket for DNS monitoring");
  const int prog = bpf_program__fd(filter_->progs.dns_filter);
  const int one = 1;
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  // A large buffer rides out a burst while the thread is busy (the kernel doubles the value);
  // SO_RCVBUFFORCE passes net.core.rmem_max with CAP_NET_ADMIN, SO_RCVBUF is capped by it.
  // Whatever still overflows is counted (PACKET_STATISTICS), not lost silently.
  const int rcvbuf = 4 << 20;
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (::setsockopt(fd_, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof prog) != 0 ||
      ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0 ||
      ::bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
    throw sys_error("cannot set up the DNS packet socket");
}

void DnsMonitor::take(const std::uint8_t* data, std::size_t len, std::uint64_t ts_ns) {
  const auto p = parse_dns_datagram(data, len);
  if (!p) {
    stats_.on_unparsable();
    return;
  }
  const bool to_dns_port = std::find(ports_.begin(), ports_.end(), p->dport) != ports_.end();
  stats_.on_packet(*p, to_dns_port, ts_ns);
}

bpf_perf_event_ret DnsMonitor::on_tap_event(void* ctx, int /*cpu*/, perf_event_header* event) {
  // A sample is the header, a u32 size and the record (PERF_SAMPLE_RAW): a cnm_dns_tap_meta and
  // the datagram, padded to 8 bytes. A record the buffer had no room for never got there: the
  // program counted it (lost), so the kernel's PERF_RECORD_LOST for it is not counted twice.
  if (event->type != PERF_RECORD_SAMPLE || event->size < sizeof(*event) + sizeof(__u32))
    return LIBBPF_PERF_EVENT_CONT;
  const auto* raw = reinterpret_cast<const std::uint8_t*>(event) + sizeof(*event);
  __u32 size = 0;
  std::memcpy(&size, raw, sizeof size);
  cnm_dns_tap_meta meta{};
  if (sizeof(*event) + sizeof size + size > event->size || size < sizeof meta)
    return LIBBPF_PERF_EVENT_CONT;
  raw += sizeof size;
  std::memcpy(&meta, raw, sizeof meta);
  // The datagram is meta.len long, or cut shorter (CNM_DNS_TAP_MAX_BYTES); the rest is padding.
  const std::size_t n = std::min<std::size_t>(size - sizeof meta, meta.len);
  static_cast<DnsMonitor*>(ctx)->order_.add(meta.ts_ns, raw + sizeof meta, n);
  return LIBBPF_PERF_EVENT_CONT;
}

void DnsMonitor::run_tap() {
  while (!stop_.load()) {
    // Waits up to 100 ms (or until a CPU's buffer is half full), reading what is ready.
    int n = perf_buffer__poll(pb_, 100);
    // Then every CPU's buffer, after noting the time: what is stamped before it is complete
    // and goes to the table in time order (dns_order.h); the rest waits for the next round.
    const std::uint64_t cutoff = clock_ns(CLOCK_MONOTONIC);
    if (n >= 0 || n == -EINTR) n = perf_buffer__consume(pb_);
    if (n < 0 && n != -EINTR) {
      spdlog::error("DNS monitoring stops: reading the perf buffers: {}", std::strerror(-n));
      return;
    }
    for (const auto& s : order_.take_before(cutoff)) take(s.bytes.data(), s.bytes.size(), s.ts_ns);
    // The records the buffers refused, counted by the programs (never reset: take the change).
    const std::uint64_t lost = __atomic_load_n(&tap_->bss->lost, __ATOMIC_RELAXED);
    if (lost != lost_read_) stats_.on_socket_drops(lost - lost_read_);
    lost_read_ = lost;
    stats_.expire(cutoff);
  }
}

void DnsMonitor::run_socket() {
  std::uint8_t buf[65536];
  char control[CMSG_SPACE(sizeof(timespec))];
  while (!stop_.load()) {
    pollfd pfd{fd_, POLLIN, 0};
    const int n = ::poll(&pfd, 1, 200);
    if (n < 0 && errno != EINTR) {
      spdlog::error("DNS monitoring stops: poll: {}", std::strerror(errno));
      return;
    }
    // The kernel stamps packets with CLOCK_REALTIME; the tables run on CLOCK_MONOTONIC, so a
    // step of the wall clock neither expires every query at once nor skews a latency: each
    // stamp is moved to the monotonic clock by the two clocks' distance, read once a round.
    const std::uint64_t real_minus_mono = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
    // At most 1024 datagrams per round, so expiry and the stop flag are seen under any load.
    for (int budget = 1024; budget > 0; --budget) {
      sockaddr_ll from{};
      iovec iov{buf, sizeof buf};
      msghdr m{};
      m.msg_name = &from;
      m.msg_namelen = sizeof from;
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      m.msg_control = control;
      m.msg_controllen = sizeof control;
      const ssize_t len = ::recvmsg(fd_, &m, MSG_DONTWAIT);
      if (len < 0) break;  // EAGAIN: drained
      std::uint64_t ts = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
          timespec t{};
          std::memcpy(&t, CMSG_DATA(c), sizeof t);
          ts = to_ns(t);
        }
      // Modular arithmetic: right even on a host whose wall clock is behind its uptime. Never
      // later than now (a stamp from before a backward step would wait in the future).
      const std::uint64_t mono_now = clock_ns(CLOCK_MONOTONIC);
      ts = ts != 0 ? std::min(ts - real_minus_mono, mono_now) : mono_now;
      take(buf, static_cast<std::size_t>(len), ts);
    }
    // Reading the kernel's counters resets them: each read is what was dropped since the last.
    tpacket_stats ps{};
    socklen_t ps_len = sizeof ps;
    if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &ps, &ps_len) == 0 && ps.tp_drops > 0)
      stats_.on_socket_drops(ps.tp_drops);
    stats_.expire(clock_ns(CLOCK_MONOTONIC));
  }
}

}  // namespace cnm::probe
