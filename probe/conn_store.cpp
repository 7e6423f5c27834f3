#include "probe/conn_store.h"

#include <algorithm>

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
  // The buffer is bounded by its count of connections: a batch must not hold room for more
  // than it carries (at 20 closes a second a poll brings one, and a vector reserved for 256 would
  // make 65536 buffered connections 2.6 GiB).
  if (closed.capacity() > closed.size() + closed.size() / 8) closed.shrink_to_fit();
  closed_count_ += closed.size();
  const std::uint64_t first = next_seq_;
  next_seq_ += closed.size();
  const std::size_t bytes = closed.capacity() * sizeof(Connection);
  closed_bytes_ += bytes;
  closed_.push_back(
      {first, 0, std::make_shared<const std::vector<Connection>>(std::move(closed)), bytes});
  if (closed_count_ > max_closed_) {
    const std::size_t excess = closed_count_ - max_closed_;
    stats_.closed_buffer_evicted += excess;
    drop_front(excess);
  }
}

void ConnStore::drop_front(std::size_t n) {
  while (n > 0 && !closed_.empty()) {
    Batch& f = closed_.front();
    const std::size_t d = std::min(n, f.size() - f.begin);
    if (d == f.size() - f.begin) {
      pop_front_batch();
    } else {
      f.begin += d;
      closed_count_ -= d;
    }
    n -= d;
  }
}

void ConnStore::pop_front_batch() {
  const Batch& f = closed_.front();
  closed_count_ -= f.size() - f.begin;
  closed_bytes_ -= f.bytes;
  closed_.pop_front();  // a reply being sent may still hold its connections
}

void ConnStore::expire_clients(Clock::time_point now) {
  std::erase_if(clients_, [&](const auto& kv) { return now - kv.second.last_call > client_idle_; });
}

Taken ConnStore::take_shared(const std::string& client_id, std::vector<Connection> open_now,
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

  Taken t;
  t.open = std::move(open_now);
  // The closed connections this client has not seen.
  for (const Batch& b : closed_) {
    if (b.last_seq() <= cl.last_seq) continue;
    const std::size_t seen =
        cl.last_seq >= b.first_seq ? static_cast<std::size_t>(cl.last_seq - b.first_seq + 1) : 0;
    t.closed.push_back({b.conns, std::max(b.begin, seen), b.size()});
  }
  if (!closed_.empty()) cl.last_seq = std::max(cl.last_seq, closed_.back().last_seq());

  // One pass over the closed ones: what this client was given of those it saw open (their
  // entries are still there, below), and their ids, so that a connection closed since the
  // snapshot is given once, as closed (a sorted vector: 1 MiB at 65536, a hash set took 3).
  std::vector<ConnId> closed_ids;
  if (!t.open.empty()) closed_ids.reserve(t.size() - t.open.size());
  for (const auto& s : t.closed)
    for (std::size_t i = s.from; i < s.to; ++i) {
      const ConnId& id = (*s.conns)[i].id;
      if (auto l = cl.last.find(id); l != cl.last.end()) t.given.emplace(id, l->second.counters);
      if (!t.open.empty()) closed_ids.push_back(id);
    }
  if (!closed_ids.empty()) {
    std::sort(closed_ids.begin(), closed_ids.end());
    std::erase_if(t.open, [&](const Connection& c) {
      return std::binary_search(closed_ids.begin(), closed_ids.end(), c.id);
    });
  }
  // Only connections still open are remembered: the map never outgrows the open set.
  const std::uint64_t call = ++cl.calls;
  for (Connection& c : t.open) {
    auto [l, fresh] = cl.last.try_emplace(c.id);
    const Counters total = c.counters;
    if (!fresh) c.counters = total.minus(l->second.counters);
    l->second = {total, call};
  }
  std::erase_if(cl.last, [call](const auto& kv) { return kv.second.call != call; });

  // Closed connections every client has read are let go, so memory returns to its baseline.
  std::uint64_t min_seen = cl.last_seq;
  for (const auto& [id, other] : clients_) min_seen = std::min(min_seen, other.last_seq);
  // (A client's last_seq is always the end of a batch, so whole batches go.)
  while (!closed_.empty() && closed_.front().last_seq() <= min_seen) pop_front_batch();
  if (closed_.empty()) closed_.shrink_to_fit();
  return t;
}

std::vector<Connection> ConnStore::take(const std::string& client_id,
                                        std::vector<Connection> open_now, Clock::time_point now) {
  const Taken t = take_shared(client_id, std::move(open_now), now);
  std::vector<Connection> out;
  out.reserve(t.size());
  t.visit(0, t.size(), [&out](const Connection& c, const Counters& counters) {
    out.push_back(c);
    out.back().counters = counters;
  });
  return out;
}

std::size_t Taken::size() const {
  std::size_t n = open.size();
  for (const auto& s : closed) n += s.to - s.from;
  return n;
}

StoreStats ConnStore::stats() const {
  std::lock_guard lock(mu_);
  StoreStats s = stats_;
  s.clients = clients_.size();
  s.closed_buffered = closed_count_;
  s.closed_buffer_bytes = closed_bytes_;
  return s;
}

}  // namespace cnm::probe
