#include "probe/dns_monitor.h"

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <linux/if_packet.h>
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
#include "probe/bpf/dns_filter.h"

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

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

DnsMonitor::DnsMonitor(std::vector<std::uint16_t> ports, DnsStats& stats)
    : ports_(std::move(ports)), stats_(stats) {
  if (ports_.empty() || ports_.size() > CNM_DNS_MAX_PORTS)
    throw std::runtime_error("dns_ports: 1 to " + std::to_string(CNM_DNS_MAX_PORTS) + " ports");
  try {
    open_socket();
  } catch (...) {
    release();
    throw;
  }
  thread_ = std::thread([this] { run(); });
}

DnsMonitor::~DnsMonitor() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  release();
}

void DnsMonitor::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  dns_filter__destroy(skel_);  // null-safe
  skel_ = nullptr;
}

void DnsMonitor::open_socket() {
  skel_ = dns_filter__open();
  if (!skel_) throw sys_error("cannot open the dns_filter BPF object");
  for (std::size_t i = 0; i < CNM_DNS_MAX_PORTS; ++i)
    skel_->rodata->dns_ports[i] = i < ports_.size() ? ports_[i] : 0;
  if (int err = dns_filter__load(skel_))
    throw std::runtime_error("cannot load the dns_filter socket filter: " +
                             std::string(std::strerror(-err)));
  // Protocol 0 receives nothing until bind: the filter is in place before the first packet.
  fd_ = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw sys_error("cannot open a packet socket for DNS monitoring");
  const int prog = bpf_program__fd(skel_->progs.dns_filter);
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

void DnsMonitor::run() {
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
      const auto p = parse_dns_datagram(buf, static_cast<std::size_t>(len));
      if (!p) {
        stats_.on_unparsable();
        continue;
      }
      const bool to_dns_port = std::find(ports_.begin(), ports_.end(), p->dport) != ports_.end();
      stats_.on_packet(*p, to_dns_port, ts);
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
