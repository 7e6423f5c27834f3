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

const char* protocol_name(Protocol p) { return p == Protocol::kUdp ? "udp" : "tcp"; }

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
  if (closed.empty()) return;
  std::lock_guard lock(mu_);
  stats_.closed_received += closed.size();
  if (closed.size() > max_closed_) {  // keep the newest: the batch is in closing order
    const std::size_t excess = closed.size() - max_closed_;
    closed.erase(closed.begin(), closed.begin() + static_cast<std::ptrdiff_t>(excess));
    next_seq_ += excess;
    stats_.closed_buffer_evicted += excess;
  }
  closed_count_ += closed.size();
  const std::uint64_t first = next_seq_;
  next_seq_ += closed.size();
  closed_.push_back({first, 0, std::move(closed)});
  if (closed_count_ > max_closed_) {
    const std::size_t excess = closed_count_ - max_closed_;
    stats_.closed_buffer_evicted += excess;
    drop_front(excess);
  }
}

void ConnStore::drop_front(std::size_t n) {
  while (n > 0 && !closed_.empty()) {
    Batch& f = closed_.front();
    const std::size_t d = std::min(n, f.conns.size() - f.begin);
    f.begin += d;
    closed_count_ -= d;
    n -= d;
    if (f.begin == f.conns.size()) closed_.pop_front();
  }
}

void ConnStore::expire_clients(Clock::time_point now) {
  std::erase_if(clients_, [&](const auto& kv) { return now - kv.second.last_call > client_idle_; });
}

std::vector<Connection> ConnStore::take(const std::string& client_id,
                                        std::vector<Connection> open_now, Clock::time_point now) {
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

  // The closed connections this client has not seen.
  std::vector<const Connection*> closed_new;
  for (const Batch& b : closed_) {
    if (b.last_seq() <= cl.last_seq) continue;
    for (std::size_t i = b.begin; i < b.conns.size(); ++i)
      if (b.first_seq + i > cl.last_seq) closed_new.push_back(&b.conns[i]);
  }
  if (!closed_.empty()) cl.last_seq = std::max(cl.last_seq, closed_.back().last_seq());

  // The reply is built in open_now itself (at 65536 open connections a second vector is ~19 MB
  // more for the call): a connection closed since the snapshot is given once, as closed.
  if (!closed_new.empty() && !open_now.empty()) {
    std::unordered_set<ConnId> closed_ids;
    for (const Connection* c : closed_new) closed_ids.insert(c->id);
    std::erase_if(open_now, [&](const Connection& c) { return closed_ids.contains(c.id); });
  }
  // Only connections still open are remembered: the map never outgrows the open set.
  const std::uint64_t call = ++cl.calls;
  for (Connection& c : open_now) {
    auto [l, fresh] = cl.last.try_emplace(c.id);
    const Counters total = c.counters;
    if (!fresh) c.counters = total.minus(l->second.counters);
    l->second = {total, call};
  }
  // A closed connection is not in open_now (above), so its entry still holds what this client
  // was given of it while it was open.
  open_now.reserve(open_now.size() + closed_new.size());
  for (const Connection* c : closed_new) {
    Connection& d = open_now.emplace_back(*c);
    if (auto l = cl.last.find(c->id); l != cl.last.end())
      d.counters = c->counters.minus(l->second.counters);
  }
  std::erase_if(cl.last, [call](const auto& kv) { return kv.second.call != call; });

  // Closed connections every client has read are let go, so memory returns to its baseline.
  std::uint64_t min_seen = cl.last_seq;
  for (const auto& [id, other] : clients_) min_seen = std::min(min_seen, other.last_seq);
  std::size_t read_by_all = 0;
  for (const Batch& b : closed_) {
    if (b.first_seq + b.begin > min_seen) break;
    read_by_all += std::min<std::uint64_t>(b.last_seq(), min_seen) - (b.first_seq + b.begin) + 1;
  }
  drop_front(read_by_all);
  if (closed_.empty()) closed_.shrink_to_fit();
  return open_now;
}

StoreStats ConnStore::stats() const {
  std::lock_guard lock(mu_);
  StoreStats s = stats_;
  s.clients = clients_.size();
  s.closed_buffered = closed_count_;
  return s;
}

}  // namespace cnm::probe
