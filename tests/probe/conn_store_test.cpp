// Per-client deltas, closed connections reported once, bounded buffers and their counters.
#include "probe/conn_store.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace cnm::probe {
namespace {

Connection conn(std::uint64_t sk, std::uint64_t sent, std::uint64_t received, bool closed = false) {
  Connection c;
  c.id = {sk, 1000 + sk};
  c.counters.bytes_sent = sent;
  c.counters.bytes_received = received;
  c.counters.packets_sent = sent / 10;
  c.closed = closed;
  return c;
}

const Connection* find(const std::vector<Connection>& v, std::uint64_t sk) {
  for (const auto& c : v)
    if (c.id.sk == sk) return &c;
  return nullptr;
}

TEST(ConnStore, OpenConnectionsGiveDeltasPerClient) {
  ConnStore s(10);
  auto r = s.take("a", {conn(1, 100, 50)});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].counters.bytes_sent, 100u);
  r = s.take("a", {conn(1, 130, 50)});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].counters.bytes_sent, 30u);
  EXPECT_EQ(r[0].counters.bytes_received, 0u);
  EXPECT_EQ(r[0].counters.packets_sent, 3u);
  // Another client has its own view: totals on its first call.
  r = s.take("b", {conn(1, 130, 50)});
  EXPECT_EQ(r[0].counters.bytes_sent, 130u);
}

TEST(ConnStore, ClosedReportedOnceWithRemainingDelta) {
  ConnStore s(10);
  s.take("a", {conn(1, 100, 50)});
  s.add_closed({conn(1, 160, 70, true)});
  auto r = s.take("a", {});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].closed);
  EXPECT_EQ(r[0].counters.bytes_sent, 60u);
  EXPECT_EQ(r[0].counters.bytes_received, 20u);
  EXPECT_TRUE(s.take("a", {}).empty());
}

TEST(ConnStore, ClosedAndStillInSnapshotIsReportedOnlyAsClosed) {
  ConnStore s(10);
  s.add_closed({conn(7, 10, 10, true)});
  auto r = s.take("a", {conn(7, 10, 10), conn(8, 1, 1)});
  ASSERT_EQ(r.size(), 2u);
  ASSERT_NE(find(r, 7), nullptr);
  EXPECT_TRUE(find(r, 7)->closed);
}

TEST(ConnStore, EachClientGetsEachClosedOnceAndBufferEmptiesWhenAllRead) {
  ConnStore s(10);
  s.take("a", {});
  s.take("b", {});
  s.add_closed({conn(1, 1, 1, true)});
  EXPECT_EQ(s.take("a", {}).size(), 1u);
  EXPECT_EQ(s.stats().closed_buffered, 1u);  // b has not read it yet
  EXPECT_EQ(s.take("b", {}).size(), 1u);
  EXPECT_EQ(s.stats().closed_buffered, 0u);
  EXPECT_TRUE(s.take("a", {}).empty());
}

TEST(ConnStore, FullBufferEvictsOldestAndCounts) {
  ConnStore s(3);
  for (std::uint64_t i = 1; i <= 5; ++i) s.add_closed({conn(i, i, i, true)});
  const auto st = s.stats();
  EXPECT_EQ(st.closed_buffer_evicted, 2u);
  EXPECT_EQ(st.closed_received, 5u);
  const auto r = s.take("a", {});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(find(r, 1), nullptr);
  EXPECT_EQ(find(r, 2), nullptr);
  EXPECT_NE(find(r, 5), nullptr);
}

TEST(ConnStore, OneBatchLargerThanTheBufferKeepsItsNewestInOrder) {
  ConnStore s(3);
  s.add_closed({conn(1, 1, 1, true), conn(2, 2, 2, true), conn(3, 3, 3, true), conn(4, 4, 4, true),
                conn(5, 5, 5, true)});
  EXPECT_EQ(s.stats().closed_buffer_evicted, 2u);
  EXPECT_EQ(s.stats().closed_received, 5u);
  const auto r = s.take("a", {});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].id.sk, 3u);
  EXPECT_EQ(r[1].id.sk, 4u);
  EXPECT_EQ(r[2].id.sk, 5u);
}

// The store keeps each batch whole; eviction and reads by every client cut batches part way.
TEST(ConnStore, BatchesCutPartWayByEvictionAndByReadsKeepEachConnectionOnce) {
  auto batch = [](std::uint64_t from, std::uint64_t to) {
    std::vector<Connection> v;
    for (std::uint64_t i = from; i <= to; ++i) v.push_back(conn(i, i, i, true));
    return v;
  };
  auto sks = [](const std::vector<Connection>& v) {
    std::vector<std::uint64_t> out;
    for (const auto& c : v) out.push_back(c.id.sk);
    return out;
  };
  ConnStore s(5);
  s.take("a", {});
  s.take("b", {});
  s.add_closed(batch(1, 3));
  s.add_closed(batch(4, 6));  // 6 > 5: connection 1 evicted, the first batch cut after it
  EXPECT_EQ(s.stats().closed_buffer_evicted, 1u);
  EXPECT_EQ(s.stats().closed_buffered, 5u);
  EXPECT_EQ(sks(s.take("a", {})), (std::vector<std::uint64_t>{2, 3, 4, 5, 6}));
  s.add_closed(batch(7, 8));  // b has read nothing: 2 and 3 evicted
  EXPECT_EQ(s.stats().closed_buffer_evicted, 3u);
  EXPECT_EQ(sks(s.take("b", {})), (std::vector<std::uint64_t>{4, 5, 6, 7, 8}));
  // Both have read up to 6, b up to 8: 7 and 8 stay for a, cutting the last batch nowhere.
  EXPECT_EQ(s.stats().closed_buffered, 2u);
  s.add_closed(batch(9, 9));
  EXPECT_EQ(sks(s.take("a", {})), (std::vector<std::uint64_t>{7, 8, 9}));
  EXPECT_EQ(s.stats().closed_buffered, 1u);  // 9, for b
  EXPECT_EQ(sks(s.take("b", {})), (std::vector<std::uint64_t>{9}));
  EXPECT_EQ(s.stats().closed_buffered, 0u);
  EXPECT_EQ(s.stats().closed_received, 9u);
}

// The buffer is bounded by a count of connections, so a batch must hold no more room than it
// carries: at a few closes a second each poll brings one, in a vector the drain reserved for 256.
TEST(ConnStore, SmallBatchesHoldOnlyTheRoomTheyNeed) {
  ConnStore s(100000);
  for (std::uint64_t i = 1; i <= 1000; ++i) {
    std::vector<Connection> one;
    one.reserve(256);
    one.push_back(conn(i, i, i, true));
    s.add_closed(std::move(one));
  }
  EXPECT_EQ(s.stats().closed_buffered, 1000u);
  EXPECT_LE(s.stats().closed_buffer_bytes, 1000 * 2 * sizeof(Connection));
  EXPECT_GE(s.stats().closed_buffer_bytes, 1000 * sizeof(Connection));
  EXPECT_EQ(s.take("a", {}).size(), 1000u);
  EXPECT_EQ(s.stats().closed_buffer_bytes, 0u);  // read by every client: let go
}

// A full table refuses a new client_id instead of evicting one that calls: the one evicted
// would be given totals again on its next call, counted twice downstream.
TEST(ConnStore, AFullTableRefusesNewClientsAndIdleOnesExpire) {
  using namespace std::chrono_literals;
  ConnStore s(10, 2, 60s);
  const auto t0 = ConnStore::Clock::time_point{} + 1h;
  s.take("a", {conn(1, 5, 5)}, t0);
  s.take("b", {}, t0 + 1s);
  EXPECT_FALSE(s.take_shared("c", {conn(1, 5, 5)}, t0 + 2s).has_value());
  EXPECT_THROW(s.take("c", {}, t0 + 2s), std::runtime_error);
  EXPECT_EQ(s.stats().clients_refused, 2u);
  EXPECT_EQ(s.stats().clients_evicted, 0u);
  EXPECT_EQ(s.stats().clients, 2u);
  // What the daemon asks before it reads the kernel: the same answer, the refusal counted.
  EXPECT_TRUE(s.admits("a", t0 + 2s));
  EXPECT_FALSE(s.admits("c", t0 + 2s));
  EXPECT_EQ(s.stats().clients_refused, 3u);
  // a is still known: deltas, not totals.
  auto r = s.take("a", {conn(1, 8, 5)}, t0 + 3s);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].counters.bytes_sent, 3u);
  // b idle past 60 s: forgotten, and its place is free.
  r = s.take("c", {conn(1, 9, 9)}, t0 + 62s);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].counters.bytes_sent, 9u);  // new: totals
  EXPECT_EQ(s.stats().clients_evicted, 1u);
  EXPECT_EQ(s.stats().clients, 2u);
  s.take("x", {}, t0 + 10min);  // everyone else idle for more than 60 s
  EXPECT_EQ(s.stats().clients, 1u);
  EXPECT_EQ(s.stats().clients_evicted, 3u);
}

// The review's case: the Agent polls every 30 s while a token holder cycles client_ids. The
// Agent's deltas stay exact throughout (the old store evicted the least recently used client,
// the Agent, and gave it totals again).
TEST(ConnStore, AClientThatPollsSurvivesAFloodOfOtherClientIds) {
  using namespace std::chrono_literals;
  ConnStore s(1000);  // the defaults: kDefaultMaxClients, kClientIdle
  auto t = ConnStore::Clock::time_point{} + 1h;
  std::uint64_t sent = 100, flooders = 0, refused = 0;
  auto open = [&] { return std::vector<Connection>{conn(1, sent, 1), conn(2, 2 * sent, 2)}; };
  s.take("agent", open(), t);
  for (int poll = 0; poll < 40; ++poll) {  // 20 minutes: flooders expire and come back
    for (int i = 0; i < 300; ++i) {
      t += 100ms;
      if (s.take_shared("x" + std::to_string(flooders++), open(), t)) continue;
      ++refused;
    }
    sent += 10;
    const auto r = s.take("agent", open(), t);
    ASSERT_EQ(r.size(), 2u) << "poll " << poll;
    EXPECT_EQ(find(r, 1)->counters.bytes_sent, 10u) << "poll " << poll;
    EXPECT_EQ(find(r, 2)->counters.bytes_sent, 20u) << "poll " << poll;
  }
  const auto st = s.stats();
  EXPECT_EQ(st.clients_refused, refused);
  EXPECT_GT(refused, 11000u);  // 12000 tried, 7 admitted per 10 minutes
  EXPECT_LE(st.clients, kDefaultMaxClients);
  EXPECT_EQ(flooders - refused, st.clients_evicted + st.clients - 1);  // each admitted one expired
}

// What a client keeps is its last counters of the connections open at its last call, 56 bytes
// each (a hash map's node and bucket took ~88), and it shrinks with the open set at its next
// call, to nothing when the client expires.
TEST(ConnStore, ClientStateIsCompactAndShrinksWhenConnectionsClose) {
  using namespace std::chrono_literals;
  static_assert(sizeof(LastGiven) <= 56);
  ConnStore s(10, 4, 60s);
  const auto t0 = ConnStore::Clock::time_point{} + 1h;
  std::vector<Connection> many;
  for (std::uint64_t sk = 1; sk <= 10000; ++sk) many.push_back(conn(sk, sk, sk));
  s.take("a", many, t0);
  s.take("b", many, t0);
  EXPECT_GE(s.stats().client_state_bytes, 2 * 10000 * sizeof(LastGiven));
  EXPECT_LE(s.stats().client_state_bytes, 2 * 10000 * 56);
  // 9900 of them closed (evicted unread from this small buffer: only the open set matters).
  std::vector<Connection> few(many.end() - 100, many.end());
  s.take("a", few, t0 + 1s);
  s.take("b", few, t0 + 1s);
  EXPECT_LE(s.stats().client_state_bytes, 2 * 100 * 56);
  const auto r = s.take("a", {}, t0 + 2s);
  EXPECT_TRUE(r.empty());
  EXPECT_LE(s.stats().client_state_bytes, 100 * 56);  // b's
  s.take("c", {}, t0 + 5min);                         // a and b expire
  EXPECT_EQ(s.stats().client_state_bytes, 0u);
}

TEST(ConnStore, AConnectionListedTwiceIsRememberedOnce) {
  ConnStore s(10);
  s.take("a", {conn(1, 12, 12), conn(2, 1, 1), conn(1, 10, 10)});
  EXPECT_EQ(s.stats().client_state_bytes, 3 * sizeof(LastGiven));  // capacity: one call's open
  const auto r = s.take("a", {conn(1, 15, 15), conn(2, 1, 1)});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(find(r, 1)->counters.bytes_sent, 3u);  // since the larger listing
  EXPECT_EQ(s.stats().client_state_bytes, 2 * sizeof(LastGiven));
}

TEST(ConnStore, CountersNeverGoNegative) {
  Counters now{5, 5, 5, 5, 5}, before{9, 1, 9, 1, 9};
  const auto d = now.minus(before);
  EXPECT_EQ(d.bytes_sent, 0u);
  EXPECT_EQ(d.bytes_received, 4u);
}

}  // namespace
}  // namespace cnm::probe
