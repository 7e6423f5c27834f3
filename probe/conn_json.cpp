#include "probe/conn_json.h"

#include "probe/ip_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace cnm::probe {
namespace {

// Appends `key` (the text before a value: `,"name":`) and s as a JSON string. Plain printable
// ASCII (addresses, names, container ids: nearly every value) is copied as it is; anything else
// goes through nlohmann's serializer, which escapes it and replaces invalid UTF-8 (a comm may
// hold any bytes).
void put_string(std::string& out, std::string_view key, std::string_view s) {
  out.append(key);
  const bool plain = std::all_of(s.begin(), s.end(), [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return u >= 0x20 && u < 0x7f && ch != '"' && ch != '\\';
  });
  if (!plain) {
    out += nlohmann::json(std::string(s))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out += '"';
  out.append(s);
  out += '"';
}

template <class Integer>
void put_number(std::string& out, std::string_view key, Integer v) {
  out.append(key);
  const fmt::format_int text(v);
  out.append(text.data(), text.size());
}

// One connection, written straight into the reply: a JSON tree per connection (a map of 21
// keys) made the reply cost ~10 µs of CPU per connection, most of the daemon's work at 10k
// connections/s once a client reads them.
void put_connection(std::string& out, const Connection& c, const Counters& counters) {
  put_string(out, R"({"type":)", protocol_name(c.type));
  put_number(out, R"(,"family":)", unsigned{c.family});
  put_string(out, R"(,"laddr":)", ip_text(c.laddr.data(), c.family));
  put_number(out, R"(,"lport":)", c.lport);
  put_string(out, R"(,"raddr":)", ip_text(c.raddr.data(), c.family));
  put_number(out, R"(,"rport":)", c.rport);
  put_string(out, R"(,"direction":)", direction_name(c.direction));
  put_number(out, R"(,"pid":)", c.pid);
  put_string(out, R"(,"comm":)", c.comm.view());
  put_number(out, R"(,"netns":)", c.netns);
  put_string(out, R"(,"container_id":)", c.container_id ? *c.container_id : std::string_view());
  put_number(out, R"(,"bytes_sent":)", counters.bytes_sent);
  put_number(out, R"(,"bytes_received":)", counters.bytes_received);
  put_number(out, R"(,"packets_sent":)", counters.packets_sent);
  put_number(out, R"(,"packets_received":)", counters.packets_received);
  put_number(out, R"(,"retransmits":)", counters.retransmits);
  put_number(out, R"(,"rtt_us":)", c.rtt_us);
  put_number(out, R"(,"rttvar_us":)", c.rttvar_us);
  put_number(out, R"(,"tcp_failures":{"reset":)", c.tcp_failures.reset);
  put_number(out, R"(,"refused":)", c.tcp_failures.refused);
  put_number(out, R"(,"timeout":)", c.tcp_failures.timeout);
  out.append(c.closed ? R"(},"closed":true)" : R"(},"closed":false)");
  put_number(out, R"(,"duration_ms":)", c.duration_ms);
  out += '}';
}

}  // namespace

ConnectionsReply::ConnectionsReply(Taken conns, StatMap stats)
    : conns_(std::move(conns)), stats_(std::move(stats)) {}

bool ConnectionsReply::next(std::string& out) {
  if (done_) return false;
  if (!started_) {
    out += R"({"connections":[)";
    started_ = true;
  }
  const std::size_t visited =
      conns_.visit(next_, kPerPiece, [&](const Connection& c, const Counters& counters) {
        if (next_++) out += ',';
        put_connection(out, c, counters);
      });
  if (visited < kPerPiece) {  // none left
    out += R"(],"stats":)";
    out += nlohmann::json(stats_).dump();
    out += '}';
    done_ = true;
    conns_ = {};  // its memory goes now, not when the server lets the reply go
  }
  return true;
}

std::string connections_reply_text(std::vector<Connection> conns, const StatMap& stats) {
  std::string out;
  out.reserve(conns.size() * 420 + 1024);
  Taken t;
  t.open = std::move(conns);
  ConnectionsReply reply(std::move(t), stats);
  while (reply.next(out)) {
  }
  return out;
}

}  // namespace cnm::probe
