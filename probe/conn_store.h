// What the daemon remembers between client calls: a bounded buffer of closed connections and,
// per client, the counters it was last given (so each call returns deltas and each closed
// connection once). Pure logic, no kernel: unit-tested under ASan.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "probe/connection.h"

namespace cnm::probe {

struct StoreStats {
  std::uint64_t closed_received = 0;
  std::uint64_t closed_buffer_evicted = 0;  // dropped before every client read them
  std::uint64_t clients_evicted = 0;
  std::uint64_t clients = 0;
  std::uint64_t closed_buffered = 0;
};

class ConnStore {
 public:
  using Clock = std::chrono::steady_clock;
  ConnStore(std::size_t max_closed, std::size_t max_clients = 128,
            Clock::duration client_idle = std::chrono::minutes(10));

  // Connections closed (a batch from the kernel's ring buffer), in the order they closed. The
  // oldest are evicted when full.
  void add_closed(std::vector<Connection>&& closed);

  // Everything client `client_id` has not seen: the open connections given (deltas since its
  // last call), then the closed ones buffered since its last call (reported once). The reply is
  // open_now itself, changed in place (give it room for the closed ones: stats().closed_buffered).
  std::vector<Connection> take(const std::string& client_id, std::vector<Connection> open_now,
                               Clock::time_point now = Clock::now());

  StoreStats stats() const;

 private:
  struct Client {
    std::uint64_t last_seq = 0;  // highest closed sequence number given
    Clock::time_point last_call;
    // Counters last given, per open connection, and the call that last saw it open (entries
    // are updated in place and the ones of connections gone are erased: no second map of
    // every open connection per call).
    struct Last {
      Counters counters;
      std::uint64_t call = 0;
    };
    std::unordered_map<ConnId, Last> last;
    std::uint64_t calls = 0;
  };
  // One ring-buffer poll's connections, kept as the vector they came in: one allocation per
  // batch instead of a deque node per connection (a Connection is too large for libstdc++'s
  // deque to hold more than one per node). conns[i] has sequence number first_seq + i; those
  // before `begin` were evicted or read by every client.
  struct Batch {
    std::uint64_t first_seq = 0;
    std::size_t begin = 0;
    std::vector<Connection> conns;
    std::uint64_t last_seq() const { return first_seq + conns.size() - 1; }
  };
  void expire_clients(Clock::time_point now);
  void drop_front(std::size_t n);  // the n oldest buffered connections

  const std::size_t max_closed_, max_clients_;
  const Clock::duration client_idle_;
  mutable std::mutex mu_;
  std::deque<Batch> closed_;      // oldest first; no batch is empty past its begin
  std::size_t closed_count_ = 0;  // connections buffered: past each batch's begin
  std::uint64_t next_seq_ = 1;
  std::unordered_map<std::string, Client> clients_;
  StoreStats stats_;
};

}  // namespace cnm::probe
