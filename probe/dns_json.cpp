#include "probe/dns_json.h"

namespace cnm::probe {

StatMap dns_stat_map(const DnsTableStats& s) {
  return {{"dns_packets", s.packets},
          {"dns_unparsable", s.unparsable},
          {"dns_responses_unmatched", s.responses_unmatched},
          {"dns_pending_dropped", s.pending_dropped},
          {"dns_stats_evicted", s.keys_evicted},
          {"dns_socket_dropped", s.socket_dropped},
          {"dns_pending_current", s.pending},
          {"dns_stats_current", s.keys}};
}

nlohmann::json dns_reply_json(const DnsStats* stats) {
  nlohmann::json out = {{"enabled", stats != nullptr}, {"dns", nlohmann::json::array()}};
  if (!stats) return out;
  for (const auto& [k, c] : stats->snapshot()) {
    out["dns"].push_back(
        {{"server", k.server},
         {"server_port", k.server_port},
         {"domain", k.domain},
         {"query_type", dns_type_name(k.qtype)},
         {"queries", c.queries},
         {"responses",
          {{"noerror", c.noerror},
           {"nxdomain", c.nxdomain},
           {"servfail", c.servfail},
           {"other", c.other_rcode}}},
         {"timeouts", c.timeouts},
         {"latency_us",
          {{"count", c.latency_count}, {"sum", c.latency_sum_us}, {"max", c.latency_max_us}}}});
  }
  out["stats"] = dns_stat_map(stats->stats());
  return out;
}

}  // namespace cnm::probe
