// The /network_tracer/dns reply: cumulative counters per (server, domain, query type) since
// the daemon started, and the DNS table's own counters.
#pragma once

#include <nlohmann/json.hpp>

#include "probe/dns_stats.h"

namespace cnm::probe {

nlohmann::json dns_reply_json(bool enabled, const DnsStats* stats);

}  // namespace cnm::probe
