// Per-client deltas, closed connections reported once, bounded buffers and their counters.
#include "probe/conn_store.h"

#include <gtest/gtest.h>

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

TEST(ConnStore, ClientsAreBoundedAndExpire) {
  using namespace std::chrono_literals;
  ConnStore s(10, 2, 60s);
  const auto t0 = ConnStore::Clock::time_point{} + 1h;
  s.take("a", {}, t0);
  s.take("b", {}, t0 + 1s);
  s.take("c", {}, t0 + 2s);  // evicts a (least recently used)
  EXPECT_EQ(s.stats().clients_evicted, 1u);
  EXPECT_EQ(s.stats().clients, 2u);
  // a comes back as a new client: it sees open totals again.
  auto r = s.take("a", {conn(1, 5, 5)}, t0 + 3s);
  EXPECT_EQ(r[0].counters.bytes_sent, 5u);
  s.take("x", {}, t0 + 10min);  // everyone else idle for more than 60 s
  EXPECT_EQ(s.stats().clients, 1u);
}

TEST(ConnStore, CountersNeverGoNegative) {
  Counters now{5, 5, 5, 5, 5}, before{9, 1, 9, 1, 9};
  const auto d = now.minus(before);
  EXPECT_EQ(d.bytes_sent, 0u);
  EXPECT_EQ(d.bytes_received, 4u);
}

}  // namespace
}  // namespace cnm::probe
