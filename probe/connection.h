// One connection as the API reports it. Independent of the BPF struct so the second part
// (UDP, TCP failure causes, the no-eBPF fallback) fills the same record from other sources.
#pragma once

#include <array>
#include <cstdint>
#include <string>

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
};

struct TcpFailures {
  std::uint64_t reset = 0, refused = 0, timeout = 0;
};

// Identity: the kernel socket address plus when it was first seen (addresses are reused).
struct ConnId {
  std::uint64_t sk = 0;
  std::uint64_t start_ns = 0;
  friend bool operator==(const ConnId&, const ConnId&) = default;
};

struct Connection {
  ConnId id;
  Protocol type = Protocol::kTcp;
  std::uint8_t family = 4;
  IpBytes laddr{}, raddr{};
  std::uint16_t lport = 0, rport = 0;
  Direction direction = Direction::kLocal;
  std::uint32_t pid = 0;
  std::string comm;
  std::uint32_t netns = 0;
  std::string container_id;
  Counters counters;
  std::uint32_t rtt_us = 0, rttvar_us = 0;
  TcpFailures tcp_failures;
  bool closed = false;
  std::uint64_t duration_ms = 0;
};

}  // namespace cnm::probe

template <>
struct std::hash<cnm::probe::ConnId> {
  std::size_t operator()(const cnm::probe::ConnId& id) const noexcept {
    return std::hash<std::uint64_t>{}(id.sk * 0x9e3779b97f4a7c15ULL ^ id.start_ns);
  }
};
