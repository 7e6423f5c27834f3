// Real network set-ups for the probe tests: a pair of network namespaces joined by a veth
// pair (made with iproute2, removed on destruction), and TCP exchanges with known byte counts
// whose sockets are created inside a chosen namespace (setns on a worker thread).
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cnm::test {

// Namespaces "<prefix>-<pid>-a" (10.231.N.1) and "-b" (10.231.N.2), veth "cnma<pid>"/"cnmb<pid>".
class NetnsPair {
 public:
  explicit NetnsPair(const std::string& prefix);
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;
  std::string a, b;            // namespace names
  std::string addr_a, addr_b;  // IPv4 addresses
  std::string veth_a, veth_b;  // interface names
  std::uint32_t inode_a = 0, inode_b = 0;
};

// A single namespace with loopback up (own port space, own TIME_WAIT table).
class Netns {
 public:
  explicit Netns(const std::string& prefix);
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  std::string name;
  std::uint32_t inode = 0;
};

// Inode of a named namespace ("" = the test process's own).
std::uint32_t netns_inode(const std::string& name);

// Runs f on a fresh thread that has joined namespace `ns` ("" = stay) and waits for it.
void in_netns(const std::string& ns, const std::function<void()>& f);

// Makes namespace `ns` drop every incoming SYN (an nftables table named `table`), so a connect
// to it times out; throws if nft fails.
void drop_incoming_syns(const std::string& ns, const std::string& table);

// Raises this process's soft limit on open files to the hard one; returns the new limit.
std::size_t raise_fd_limit();

struct Exchange {
  int family = 4;
  std::string client_addr, server_addr;
  std::uint16_t client_port = 0, server_port = 0;
  std::uint64_t c2s = 0, s2c = 0;      // bytes the client wrote / the server wrote
  int client_fd = -1, server_fd = -1;  // kept open when asked
};

struct ExchangeSpec {
  std::string client_ns, server_ns;  // "" = the test's own
  int family = 4;
  std::string server_addr;  // listen and connect address
  int count = 0;
  std::function<std::uint64_t(int)> c2s, s2c;  // bytes for connection i
  bool keep_open = false;                      // otherwise the client closes, then the server
  bool abort_close = false;  // close the client with SO_LINGER 0 (RST, no TIME_WAIT)
};

// Connects `count` times in sequence; for each: the client writes c2s(i) bytes, the server reads
// exactly that, writes s2c(i), the client reads exactly that. Throws on any short transfer.
std::vector<Exchange> run_exchanges(const ExchangeSpec& spec);

// IPv4 socket address; the local port of a socket (0 once a failed connect released it).
sockaddr_in ipv4(const std::string& addr, std::uint16_t port);
std::uint16_t local_port_of(int fd);
// A TCP listener on 127.0.0.1 with a free port (backlog 128); -1 on failure.
int loopback_listener(std::uint16_t& port);
// The test process's own name (/proc/self/comm), as the probe reports it.
std::string self_comm();

// Writes / reads exactly n bytes (throws on a short transfer).
void write_n(int fd, std::uint64_t n);
void read_n(int fd, std::uint64_t n);

// Closes the kept-open sockets.
void close_all(std::vector<Exchange>& xs);

// tcp_info of a socket (the kernel's own counters).
tcp_info get_tcp_info(int fd);

// One TcpExt counter of this network namespace (/proc/net/netstat), e.g. TCPTimeWaitOverflow;
// -1 when the kernel has no such counter.
long tcp_ext_counter(const std::string& name);

}  // namespace cnm::test
