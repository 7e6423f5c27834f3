#include "probe/conn_json.h"

namespace cnm::probe {

nlohmann::json connection_to_json(const Connection& c) {
  return {
      {"type", c.type},
      {"family", c.family},
      {"laddr", c.laddr},
      {"lport", c.lport},
      {"raddr", c.raddr},
      {"rport", c.rport},
      {"direction", direction_name(c.direction)},
      {"pid", c.pid},
      {"comm", c.comm},
      {"netns", c.netns},
      {"container_id", c.container_id},
      {"bytes_sent", c.counters.bytes_sent},
      {"bytes_received", c.counters.bytes_received},
      {"packets_sent", c.counters.packets_sent},
      {"packets_received", c.counters.packets_received},
      {"retransmits", c.counters.retransmits},
      {"rtt_us", c.rtt_us},
      {"rttvar_us", c.rttvar_us},
      {"tcp_failures",
       {{"reset", c.tcp_failures.reset},
        {"refused", c.tcp_failures.refused},
        {"timeout", c.tcp_failures.timeout}}},
      {"closed", c.closed},
      {"duration_ms", c.duration_ms},
  };
}

nlohmann::json connections_reply(const std::vector<Connection>& conns, const StatMap& stats) {
  auto arr = nlohmann::json::array();
  for (const auto& c : conns) arr.push_back(connection_to_json(c));
  return {{"connections", std::move(arr)}, {"stats", stats}};
}

std::string connections_reply_text(const std::vector<Connection>& conns, const StatMap& stats) {
  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;  // comm may hold any bytes
  std::string out = R"({"connections":[)";
  out.reserve(conns.size() * 420 + 1024);
  for (std::size_t i = 0; i < conns.size(); ++i) {
    if (i) out += ',';
    out += connection_to_json(conns[i]).dump(-1, ' ', false, kReplace);
  }
  out += R"(],"stats":)";
  out += nlohmann::json(stats).dump();
  out += '}';
  return out;
}

}  // namespace cnm::probe
