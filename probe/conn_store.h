// What the daemon remembers between client calls: a bounded buffer of closed connections and,
// per client, the counters it was last given (so each call returns deltas and each closed
// connection once). Pure logic, no kernel: unit-tested under ASan.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "probe/connection.h"

namespace cnm::probe {

// How many client_ids the daemon keeps state for by default (network_config.max_clients), the
// most it may be set to, and how long a client is kept without a call. The Datadog Agent uses one
// (process-agent's) or two (its CLI's check); a client's state is up to 56 bytes per open
// connection, so 8 clients at 65536 open connections hold at most 28 MiB.
inline constexpr std::uint32_t kDefaultMaxClients = 8;
inline constexpr std::uint32_t kMaxClientsLimit = 1024;
inline constexpr std::chrono::minutes kClientIdle{10};

struct StoreStats {
  std::uint64_t closed_received = 0;
  std::uint64_t closed_buffer_evicted = 0;  // dropped before every client read them
  std::uint64_t clients_evicted = 0;        // forgotten after client_idle without a call
  std::uint64_t clients_refused = 0;        // new client_ids refused: the table was full
  std::uint64_t clients = 0;
  std::uint64_t client_state_bytes = 0;  // the clients' last counters (their vectors' capacity)
  std::uint64_t closed_buffered = 0;
  std::uint64_t closed_buffer_bytes = 0;  // what the buffered batches hold (their capacity)
};

// What a client was last given of one connection: the totals its next deltas start from.
struct LastGiven {
  ConnId id;
  Counters counters;
};

// One client's share of a call: the open connections, their counters already the deltas this
// client is due, and the closed connections it has not been given, as slices of the store's own
// batches: shared, not copied (at 65536 buffered connections a copy was ~14 MB more per call).
struct Taken {
  struct Slice {
    std::shared_ptr<const std::vector<Connection>> conns;
    std::size_t from = 0, to = 0;  // [from, to)
  };
  std::vector<Connection> open;
  std::vector<Slice> closed;
  // What this client was given of closed connections while it saw them open, sorted by id:
  // their closed record carries the rest (subtracted as it is visited).
  std::vector<LastGiven> given;

  std::size_t size() const;
  // Calls f(connection, its counters for this client) for up to `count` connections from
  // position `from` (open ones first, then the closed ones in closing order); how many it
  // visited.
  template <class F>
  std::size_t visit(std::size_t from, std::size_t count, F&& f) const {
    std::size_t done = 0;
    for (; from + done < open.size() && done < count; ++done)
      f(open[from + done], open[from + done].counters);
    std::size_t start = open.size();  // position of the slice's first connection
    for (const Slice& s : closed) {
      const std::size_t n = s.to - s.from;
      for (std::size_t at = from + done; done < count && at < start + n; at = from + done) {
        const Connection& c = (*s.conns)[s.from + (at - start)];
        const LastGiven* g = find_given(c.id);
        f(c, g ? c.counters.minus(g->counters) : c.counters);
        ++done;
      }
      if (done == count) break;
      start += n;
    }
    return done;
  }

 private:
  const LastGiven* find_given(const ConnId& id) const;
};

class ConnStore {
 public:
  using Clock = std::chrono::steady_clock;
  ConnStore(std::size_t max_closed, std::size_t max_clients = kDefaultMaxClients,
            Clock::duration client_idle = kClientIdle);

  // Connections closed (a batch from the kernel's ring buffer), in the order they closed. The
  // oldest are evicted when full.
  void add_closed(std::vector<Connection>&& closed);

  // Everything client `client_id` has not seen: the open connections given (deltas since its
  // last call, computed in open_now itself) and the closed ones buffered since its last call
  // (reported once; a connection in both is given once, as closed).
  // A client_id not known while max_clients others have called within client_idle is refused
  // (nullopt, counted in clients_refused): a client that polls is never forgotten because
  // others come and go (evicting it would give it totals again, counted twice downstream).
  std::optional<Taken> take_shared(const std::string& client_id, std::vector<Connection> open_now,
                                   Clock::time_point now = Clock::now());
  // Whether take_shared would serve client_id now (known, or room for it once idle clients
  // are forgotten; a refusal is counted as take_shared's): the daemon asks before it reads the
  // kernel's maps for a call.
  bool admits(const std::string& client_id, Clock::time_point now = Clock::now());
  // The same, copied into one vector in the same order (tests); throws std::runtime_error when
  // the client is refused.
  std::vector<Connection> take(const std::string& client_id, std::vector<Connection> open_now,
                               Clock::time_point now = Clock::now());

  StoreStats stats() const;

 private:
  struct Client {
    std::uint64_t last_seq = 0;  // highest closed sequence number given
    Clock::time_point last_call;
    // Counters last given, per connection open at the last call, sorted by id: 56 bytes each,
    // where a hash map's node and bucket took ~88. Rebuilt at every call at the size of the
    // open set, so the memory of connections gone is let go at the client's next call.
    std::vector<LastGiven> last;
  };
  // Up to 256 closed connections, kept as the vector they came in: one allocation per batch
  // instead of a deque node per connection (a Connection is too large for libstdc++'s deque to
  // hold more than one per node), never changed once here, so replies being sent share it.
  // (*conns)[i] has sequence number first_seq + i; those before `begin` were evicted or read by
  // every client.
  struct Batch {
    std::uint64_t first_seq = 0;
    std::size_t begin = 0;
    std::shared_ptr<const std::vector<Connection>> conns;
    std::size_t bytes = 0;  // conns' capacity
    std::size_t size() const { return conns->size(); }
    std::uint64_t last_seq() const { return first_seq + size() - 1; }
  };
  void expire_clients(Clock::time_point now);
  void drop_front(std::size_t n);  // the n oldest buffered connections
  void pop_front_batch();          // the oldest batch, whatever is left of it

  const std::size_t max_closed_, max_clients_;
  const Clock::duration client_idle_;
  mutable std::mutex mu_;
  std::deque<Batch> closed_;      // oldest first; no batch is empty past its begin
  std::size_t closed_count_ = 0;  // connections buffered: past each batch's begin
  std::size_t closed_bytes_ = 0;  // the batches' bytes
  std::uint64_t next_seq_ = 1;
  std::unordered_map<std::string, Client> clients_;
  StoreStats stats_;
};

}  // namespace cnm::probe
