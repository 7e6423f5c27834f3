// One connection as the API reports it. Independent of the BPF struct so the second part
// (UDP, TCP failure causes, the no-eBPF fallback) fills the same record from other sources.
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace cnm::probe {

enum class Direction : std::uint8_t { kLocal, kOutgoing, kIncoming };
const char* direction_name(Direction d);
enum class Protocol : std::uint8_t { kTcp, kUdp };
const char* protocol_name(Protocol p);  // "tcp", "udp"

// An address in network order: the first 4 bytes for family 4, all 16 for family 6. Kept as
// bytes (text only when a reply is written): the daemon holds up to two buffers of 65536
// connections, and most closed ones on a busy host are evicted before any client reads them.
using IpBytes = std::array<std::uint8_t, 16>;

// Counters that clients receive as deltas since their previous call.
struct Counters {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t retransmits = 0;
  Counters minus(const Counters& earlier) const;  // saturating at 0 per field
  Counters max(const Counters& other) const;      // the larger of each field
};

struct TcpFailures {
  std::uint32_t reset = 0, refused = 0, timeout = 0;
};

// A process name as the kernel keeps it (TASK_COMM_LEN: up to 16 bytes, no NUL inside), inline:
// half a std::string's size and no allocation.
class Comm {
 public:
  Comm() = default;
  // Implicit: a comm is a short string (longer ones are cut at 16 bytes).
  Comm(std::string_view s) { assign(s); }
  Comm(const std::string& s) { assign(s); }
  Comm(const char* s) { assign(s); }
  void assign(std::string_view s) {
    std::memset(b_, 0, sizeof b_);
    std::memcpy(b_, s.data(), std::min(s.size(), sizeof b_));
  }
  std::string_view view() const { return {b_, ::strnlen(b_, sizeof b_)}; }

 private:
  char b_[16] = {};
};

// Identity: the kernel socket address plus when it was first seen (addresses are reused).
struct ConnId {
  std::uint64_t sk = 0;
  std::uint64_t start_ns = 0;
  friend auto operator<=>(const ConnId&, const ConnId&) = default;
};

// Fields ordered so that only 4 bytes are padding: the daemon holds up to 65536 of these in its
// closed buffer and as many in a reply's open connections (168 bytes each).
struct Connection {
  ConnId id;
  Protocol type = Protocol::kTcp;
  std::uint8_t family = 4;
  Direction direction = Direction::kLocal;
  bool closed = false;
  std::uint16_t lport = 0, rport = 0;
  IpBytes laddr{}, raddr{};
  std::uint32_t pid = 0;
  std::uint32_t netns = 0;
  Comm comm;
  // Shared by every connection of the same container (null: none), so a host full of containers
  // does not allocate a 64-character string per connection.
  std::shared_ptr<const std::string> container_id;
  Counters counters;
  std::uint32_t rtt_us = 0, rttvar_us = 0;
  TcpFailures tcp_failures;
  std::uint64_t duration_ms = 0;
};

}  // namespace cnm::probe

template <>
struct std::hash<cnm::probe::ConnId> {
  std::size_t operator()(const cnm::probe::ConnId& id) const noexcept {
    return std::hash<std::uint64_t>{}(id.sk * 0x9e3779b97f4a7c15ULL ^ id.start_ns);
  }
};
