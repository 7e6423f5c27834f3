#include "tests/probe/net_env.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

void must(const std::string& cmd) {
  const auto r = sh(cmd);
  if (r.exit_code != 0) throw std::runtime_error(cmd + ": " + r.err);
}

[[noreturn]] void sys_fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

sockaddr_storage make_addr(int family, const std::string& addr, std::uint16_t port,
                           socklen_t& len) {
  sockaddr_storage ss{};
  if (family == 6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    ::inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr);
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    ::inet_pton(AF_INET, addr.c_str(), &a->sin_addr);
    len = sizeof(sockaddr_in);
  }
  return ss;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

std::string local_addr(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  else
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  return buf;
}

int make_socket(int family) {
  const int fd = ::socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) sys_fail("socket");
  return fd;
}

}  // namespace

sockaddr_in ipv4(const std::string& addr, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, addr.c_str(), &a.sin_addr);
  return a;
}

std::uint16_t local_port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

int loopback_listener(std::uint16_t& port) {
  const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto a = ipv4("127.0.0.1", 0);
  if (l < 0 || ::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 128) != 0)
    return -1;
  port = local_port_of(l);
  return l;
}

std::string self_comm() {
  auto c = read_file("/proc/self/comm");
  while (!c.empty() && c.back() == '\n') c.pop_back();
  return c;
}

void write_n(int fd, std::uint64_t n) {
  static const std::string chunk(65536, 'x');
  while (n > 0) {
    const ssize_t w = ::write(fd, chunk.data(), std::min<std::uint64_t>(n, chunk.size()));
    if (w < 0) {
      if (errno == EINTR) continue;
      sys_fail("write");
    }
    n -= static_cast<std::uint64_t>(w);
  }
}

void read_n(int fd, std::uint64_t n) {
  char buf[65536];
  while (n > 0) {
    const ssize_t r = ::read(fd, buf, std::min<std::uint64_t>(n, sizeof buf));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) sys_fail("read (short transfer)");
    n -= static_cast<std::uint64_t>(r);
  }
}

std::uint32_t netns_inode(const std::string& name) {
  struct stat st {};
  const std::string path = name.empty() ? "/proc/self/ns/net" : "/var/run/netns/" + name;
  if (::stat(path.c_str(), &st) != 0) sys_fail("stat " + path);
  return static_cast<std::uint32_t>(st.st_ino);
}

void in_netns(const std::string& ns, const std::function<void()>& f) {
  std::exception_ptr error;
  std::thread t([&] {
    try {
      if (!ns.empty()) {
        const int fd = ::open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) sys_fail("open netns " + ns);
        if (::setns(fd, CLONE_NEWNET) != 0) sys_fail("setns " + ns);
        ::close(fd);
      }
      f();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
}

void drop_incoming_syns(const std::string& ns, const std::string& table) {
  const auto r = sh("ip netns exec " + ns + " nft -f - <<'EOF'\ntable inet " + table +
                    " {\n chain in {\n  type filter hook input priority 0;\n  tcp flags syn drop\n "
                    "}\n}\nEOF");
  if (r.exit_code != 0) throw std::runtime_error("nft in " + ns + ": " + r.err);
}

std::size_t raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) sys_fail("getrlimit");
  rl.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) sys_fail("setrlimit");
  return rl.rlim_cur;
}

NetnsPair::NetnsPair(const std::string& prefix) {
  const auto pid = std::to_string(::getpid());
  a = prefix + "-" + pid + "-a";
  b = prefix + "-" + pid + "-b";
  veth_a = "cnma" + pid;
  veth_b = "cnmb" + pid;
  const auto net = "10.231." + std::to_string(::getpid() % 250);
  addr_a = net + ".1";
  addr_b = net + ".2";
  sh("ip netns del " + a + " 2>/dev/null; ip netns del " + b + " 2>/dev/null");
  must("ip netns add " + a);
  must("ip netns add " + b);
  must("ip link add " + veth_a + " netns " + a + " type veth peer name " + veth_b + " netns " + b);
  must("ip -n " + a + " addr add " + addr_a + "/24 dev " + veth_a);
  must("ip -n " + b + " addr add " + addr_b + "/24 dev " + veth_b);
  for (const auto& [ns, dev] : {std::pair{a, veth_a}, std::pair{b, veth_b}}) {
    must("ip -n " + ns + " link set " + dev + " up");
    must("ip -n " + ns + " link set lo up");
  }
  inode_a = netns_inode(a);
  inode_b = netns_inode(b);
}

NetnsPair::~NetnsPair() { sh("ip netns del " + a + "; ip netns del " + b); }

Netns::Netns(const std::string& prefix) {
  name = prefix + "-" + std::to_string(::getpid());
  sh("ip netns del " + name + " 2>/dev/null");
  must("ip netns add " + name);
  must("ip -n " + name + " link set lo up");
  inode = netns_inode(name);
}

Netns::~Netns() { sh("ip netns del " + name); }

std::vector<Exchange> run_exchanges(const ExchangeSpec& spec) {
  // The listener is made inside the server's namespace, the clients inside theirs; a
  // socket keeps the namespace it was created in, whichever thread uses it later.
  int listener = -1;
  std::uint16_t port = 0;
  in_netns(spec.server_ns, [&] {
    listener = make_socket(spec.family);
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = 0;
    auto ss = make_addr(spec.family, spec.server_addr, 0, len);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&ss), len) != 0)
      sys_fail("bind " + spec.server_addr);
    if (::listen(listener, 4096) != 0) sys_fail("listen");
    port = local_port(listener);
  });

  std::vector<Exchange> out(static_cast<std::size_t>(spec.count));
  std::exception_ptr server_error;
  std::thread server([&] {
    try {
      for (int i = 0; i < spec.count; ++i) {
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) sys_fail("accept");
        auto& x = out[static_cast<std::size_t>(i)];
        read_n(fd, x.c2s = spec.c2s ? spec.c2s(i) : 0);
        write_n(fd, x.s2c = spec.s2c ? spec.s2c(i) : 0);
        if (spec.keep_open) {
          x.server_fd = fd;
        } else {
          // Wait for the client's close so each side's counters are final, then close.
          char c;
          while (::read(fd, &c, 1) > 0) {
          }
          ::close(fd);
        }
      }
    } catch (...) {
      server_error = std::current_exception();
    }
  });

  std::exception_ptr client_error;
  in_netns(spec.client_ns, [&] {
    try {
      for (int i = 0; i < spec.count; ++i) {
        const int fd = make_socket(spec.family);
        socklen_t len = 0;
        auto ss = make_addr(spec.family, spec.server_addr, port, len);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) sys_fail("connect");
        auto& x = out[static_cast<std::size_t>(i)];
        x.family = spec.family;
        x.server_addr = spec.server_addr;
        x.server_port = port;
        x.client_addr = local_addr(fd);
        x.client_port = local_port(fd);
        const std::uint64_t c2s = spec.c2s ? spec.c2s(i) : 0;
        const std::uint64_t s2c = spec.s2c ? spec.s2c(i) : 0;
        write_n(fd, c2s);
        read_n(fd, s2c);
        if (spec.keep_open) {
          x.client_fd = fd;
        } else {
          if (spec.abort_close) {
            const linger lg{1, 0};
            ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
          }
          ::close(fd);
        }
      }
    } catch (...) {
      client_error = std::current_exception();
      ::shutdown(listener, SHUT_RDWR);  // unblock the server's accept
    }
  });
  server.join();
  ::close(listener);
  if (client_error) std::rethrow_exception(client_error);
  if (server_error) std::rethrow_exception(server_error);
  return out;
}

void close_all(std::vector<Exchange>& xs) {
  for (auto& x : xs) {
    if (x.client_fd >= 0) ::close(x.client_fd);
    if (x.server_fd >= 0) ::close(x.server_fd);
    x.client_fd = x.server_fd = -1;
  }
}

tcp_info get_tcp_info(int fd) {
  tcp_info ti{};
  socklen_t len = sizeof ti;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) sys_fail("getsockopt TCP_INFO");
  return ti;
}

long tcp_ext_counter(const std::string& name) {
  // Two lines per group: "TcpExt: Name1 Name2 ..." then "TcpExt: value1 value2 ...".
  std::ifstream in("/proc/net/netstat");
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    if (!names.starts_with("TcpExt:")) continue;
    std::istringstream n(names), v(values);
    std::string key, value;
    while (n >> key && v >> value)
      if (key == name) return std::stol(value);
  }
  return -1;
}

}  // namespace cnm::test
