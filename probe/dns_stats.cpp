#include "probe/dns_stats.h"

#include <arpa/nameser.h>

#include <algorithm>

namespace cnm::probe {

DnsStats::DnsStats(std::size_t max_keys, std::size_t max_pending, std::uint64_t timeout_ns)
    : max_keys_(std::max<std::size_t>(max_keys, 1)),
      max_pending_(std::max<std::size_t>(max_pending, 1)),
      timeout_ns_(timeout_ns) {}

DnsCounters* DnsStats::existing_counters(const DnsKey& k) {
  const auto it = table_.find(k);
  if (it == table_.end()) return nullptr;
  recent_.splice(recent_.begin(), recent_, it->second);
  return &it->second->second;
}

DnsCounters& DnsStats::counters(const DnsKey& k) {
  if (DnsCounters* c = existing_counters(k)) return *c;
  if (table_.size() >= max_keys_) {
    table_.erase(recent_.back().first);
    recent_.pop_back();
    ++stats_.keys_evicted;
  }
  recent_.emplace_front(k, DnsCounters{});
  table_.emplace(k, recent_.begin());
  return recent_.front().second;
}

void DnsStats::on_packet(const DnsPacket& p, bool to_dns_port, std::uint64_t now_ns) {
  std::lock_guard lock(mu_);
  ++stats_.packets;
  if (!p.response && to_dns_port) {
    Flow f{p.src, p.dst, p.sport, p.dport, p.id};
    if (pending_.count(f)) return;  // seen already (a second interface, a retry)
    DnsKey k{p.dst, p.dport, p.qname, p.qtype};
    if (pending_.size() >= max_pending_) {
      ++stats_.pending_dropped;
      return;
    }
    ++counters(k).queries;
    pending_.emplace(f, Waiting{now_ns, std::move(k)});
    return;
  }
  if (!p.response) return;  // a query from a DNS port: not one we follow
  auto it = pending_.find(Flow{p.dst, p.src, p.dport, p.sport, p.id});
  // The question must be the one asked: an answer for another name is not this query's.
  if (it == pending_.end() || it->second.key.domain != p.qname || it->second.key.qtype != p.qtype) {
    ++stats_.responses_unmatched;
    return;
  }
  if (DnsCounters* c = existing_counters(it->second.key)) {
    switch (p.rcode) {
      case ns_r_noerror:
        ++c->noerror;
        break;
      case ns_r_nxdomain:
        ++c->nxdomain;
        break;
      case ns_r_servfail:
        ++c->servfail;
        break;
      default:
        ++c->other_rcode;
    }
    const std::uint64_t us = now_ns > it->second.sent_ns ? (now_ns - it->second.sent_ns) / 1000 : 0;
    ++c->latency_count;
    c->latency_sum_us += us;
    c->latency_max_us = std::max(c->latency_max_us, us);
  }
  pending_.erase(it);
}

void DnsStats::on_unparsable() {
  std::lock_guard lock(mu_);
  ++stats_.unparsable;
}

void DnsStats::on_socket_drops(std::uint64_t n) {
  std::lock_guard lock(mu_);
  stats_.socket_dropped += n;
}

void DnsStats::expire(std::uint64_t now_ns) {
  std::lock_guard lock(mu_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now_ns - it->second.sent_ns < timeout_ns_ || now_ns < it->second.sent_ns) {
      ++it;
      continue;
    }
    if (DnsCounters* c = existing_counters(it->second.key)) ++c->timeouts;
    it = pending_.erase(it);
  }
}

std::vector<std::pair<DnsKey, DnsCounters>> DnsStats::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<DnsKey, DnsCounters>> out;  // by key (the map's order), not by recency
  out.reserve(table_.size());
  for (const auto& [key, entry] : table_) out.push_back(*entry);
  return out;
}

DnsTableStats DnsStats::stats() const {
  std::lock_guard lock(mu_);
  DnsTableStats s = stats_;
  s.pending = pending_.size();
  s.keys = table_.size();
  return s;
}

}  // namespace cnm::probe
