#include "probe/conn_store.h"

#include <algorithm>
#include <unordered_set>

namespace cnm::probe {

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::kOutgoing:
      return "outgoing";
    case Direction::kIncoming:
      return "incoming";
    case Direction::kLocal:
      break;
  }
  return "local";
}

Counters Counters::minus(const Counters& e) const {
  auto sub = [](std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; };
  return {sub(bytes_sent, e.bytes_sent), sub(bytes_received, e.bytes_received),
          sub(packets_sent, e.packets_sent), sub(packets_received, e.packets_received),
          sub(retransmits, e.retransmits)};
}

ConnStore::ConnStore(std::size_t max_closed, std::size_t max_clients, Clock::duration client_idle)
    : max_closed_(std::max<std::size_t>(max_closed, 1)),
      max_clients_(std::max<std::size_t>(max_clients, 1)),
      client_idle_(client_idle) {}

void ConnStore::add_closed(std::vector<Connection>&& closed) {
  std::lock_guard lock(mu_);
  for (Connection& c : closed) {
    ++stats_.closed_received;
    if (closed_.size() >= max_closed_) {
      closed_.pop_front();
      ++stats_.closed_buffer_evicted;
    }
    closed_.emplace_back(next_seq_++, std::move(c));
  }
}

void ConnStore::expire_clients(Clock::time_point now) {
  std::erase_if(clients_, [&](const auto& kv) { return now - kv.second.last_call > client_idle_; });
}

std::vector<Connection> ConnStore::take(const std::string& client_id,
                                        const std::vector<Connection>& open_now,
                                        Clock::time_point now) {
  std::lock_guard lock(mu_);
  expire_clients(now);
  auto it = clients_.find(client_id);
  if (it == clients_.end()) {
    if (clients_.size() >= max_clients_) {
      auto oldest = std::min_element(
          clients_.begin(), clients_.end(),
          [](const auto& a, const auto& b) { return a.second.last_call < b.second.last_call; });
      clients_.erase(oldest);
      ++stats_.clients_evicted;
    }
    it = clients_.emplace(client_id, Client{}).first;
  }
  Client& cl = it->second;
  cl.last_call = now;

  std::vector<Connection> out;
  std::unordered_set<ConnId> closed_ids;
  for (const auto& [seq, c] : closed_) {
    if (seq <= cl.last_seq) continue;
    Connection d = c;
    if (auto l = cl.last.find(c.id); l != cl.last.end()) d.counters = c.counters.minus(l->second);
    closed_ids.insert(c.id);
    out.push_back(std::move(d));
  }
  if (!closed_.empty()) cl.last_seq = std::max(cl.last_seq, closed_.back().first);

  // Only connections still open are remembered: the map never outgrows the open set.
  std::unordered_map<ConnId, Counters> last;
  last.reserve(open_now.size());
  for (const auto& c : open_now) {
    if (closed_ids.contains(c.id)) continue;
    Connection d = c;
    if (auto l = cl.last.find(c.id); l != cl.last.end()) d.counters = c.counters.minus(l->second);
    last.emplace(c.id, c.counters);
    out.push_back(std::move(d));
  }
  cl.last = std::move(last);

  // Closed connections every client has read are let go, so memory returns to its baseline.
  std::uint64_t min_seen = cl.last_seq;
  for (const auto& [id, other] : clients_) min_seen = std::min(min_seen, other.last_seq);
  while (!closed_.empty() && closed_.front().first <= min_seen) closed_.pop_front();
  if (closed_.empty()) closed_.shrink_to_fit();
  return out;
}

StoreStats ConnStore::stats() const {
  std::lock_guard lock(mu_);
  StoreStats s = stats_;
  s.clients = clients_.size();
  s.closed_buffered = closed_.size();
  return s;
}

}  // namespace cnm::probe
