#include "probe/conn_store.h"

#include <algorithm>
#include <stdexcept>

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

Counters Counters::max(const Counters& o) const {
  return {std::max(bytes_sent, o.bytes_sent), std::max(bytes_received, o.bytes_received),
          std::max(packets_sent, o.packets_sent), std::max(packets_received, o.packets_received),
          std::max(retransmits, o.retransmits)};
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
  stats_.clients_evicted += std::erase_if(
      clients_, [&](const auto& kv) { return now - kv.second.last_call > client_idle_; });
}

bool ConnStore::admits(const std::string& client_id, Clock::time_point now) {
  std::lock_guard lock(mu_);
  expire_clients(now);
  if (clients_.contains(client_id) || clients_.size() < max_clients_) return true;
  ++stats_.clients_refused;
  return false;
}

namespace {

bool by_id(const LastGiven& a, const LastGiven& b) { return a.id < b.id; }

const LastGiven* find_last(const std::vector<LastGiven>& v, const ConnId& id) {
  const auto it = std::lower_bound(v.begin(), v.end(), id,
                                   [](const LastGiven& e, const ConnId& k) { return e.id < k; });
  return it != v.end() && it->id == id ? &*it : nullptr;
}

}  // namespace

const LastGiven* Taken::find_given(const ConnId& id) const { return find_last(given, id); }

std::optional<Taken> ConnStore::take_shared(const std::string& client_id,
                                            std::vector<Connection> open_now,
                                            Clock::time_point now) {
  std::lock_guard lock(mu_);
  expire_clients(now);
  auto it = clients_.find(client_id);
  if (it == clients_.end()) {
    // Every known client has called within client_idle: none is evicted for a newcomer.
    if (clients_.size() >= max_clients_) {
      ++stats_.clients_refused;
      return std::nullopt;
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

  // One pass over the closed ones: what this client was given of those it saw open, and their
  // ids, so that a connection closed since the snapshot is given once, as closed (a sorted
  // vector: 1 MiB at 65536, a hash set took 3).
  std::vector<ConnId> closed_ids;
  if (!t.open.empty()) closed_ids.reserve(t.size() - t.open.size());
  for (const auto& s : t.closed)
    for (std::size_t i = s.from; i < s.to; ++i) {
      const ConnId& id = (*s.conns)[i].id;
      if (const LastGiven* l = find_last(cl.last, id)) t.given.push_back(*l);
      if (!t.open.empty()) closed_ids.push_back(id);
    }
  std::sort(t.given.begin(), t.given.end(), by_id);
  if (!closed_ids.empty()) {
    std::sort(closed_ids.begin(), closed_ids.end());
    std::erase_if(t.open, [&](const Connection& c) {
      return std::binary_search(closed_ids.begin(), closed_ids.end(), c.id);
    });
  }
  // Only connections still open are remembered, in a vector of exactly their count: the state
  // never outgrows the open set, and shrinks with it.
  std::vector<LastGiven> next;
  next.reserve(t.open.size());
  for (Connection& c : t.open) {
    const Counters total = c.counters;
    if (const LastGiven* l = find_last(cl.last, c.id)) c.counters = total.minus(l->counters);
    next.push_back({c.id, total});
  }
  // A connection read twice in one snapshot (its slot and the map, while it moved between
  // them) is remembered once, with the larger of each counter (they only grow). In place: a
  // stable sort would take a buffer of the open set's size.
  std::sort(next.begin(), next.end(), by_id);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < next.size(); ++i) {
    if (kept > 0 && next[kept - 1].id == next[i].id)
      next[kept - 1].counters = next[kept - 1].counters.max(next[i].counters);
    else
      next[kept++] = next[i];
  }
  next.resize(kept);
  cl.last = std::move(next);

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
  const auto taken = take_shared(client_id, std::move(open_now), now);
  if (!taken) throw std::runtime_error("client " + client_id + " refused: too many clients");
  const Taken& t = *taken;
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
  for (const auto& [id, cl] : clients_)
    s.client_state_bytes += cl.last.capacity() * sizeof(LastGiven);
  s.closed_buffered = closed_count_;
  s.closed_buffer_bytes = closed_bytes_;
  return s;
}

}  // namespace cnm::probe
