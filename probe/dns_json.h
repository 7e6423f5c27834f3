// The /network_tracer/dns reply: cumulative counters per (server, domain, query type) since
// the daemon started, and the DNS table's own counters (also in /debug/stats and /metrics).
#pragma once

#include <nlohmann/json.hpp>

#include "probe/conn_json.h"
#include "probe/dns_stats.h"

namespace cnm::probe {

// The table's own counters under their API names (dns_packets, ...).
StatMap dns_stat_map(const DnsTableStats& s);

// stats null: DNS monitoring is off ({"enabled": false, "dns": []}).
nlohmann::json dns_reply_json(const DnsStats* stats);

}  // namespace cnm::probe
