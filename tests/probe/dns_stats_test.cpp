// DnsStats: queries matched to their answers (latency, rcode), duplicates, unmatched answers,
// timeouts, and both bounds.
#include "probe/dns_stats.h"

#include <arpa/nameser.h>
#include <gtest/gtest.h>

namespace cnm::probe {
namespace {

constexpr std::uint64_t kMs = 1000000;

DnsPacket query(const std::string& name, std::uint16_t id, std::uint16_t cport = 40000) {
  DnsPacket p;
  p.src = "10.0.0.7";
  p.dst = "10.0.0.53";
  p.sport = cport;
  p.dport = 53;
  p.id = id;
  p.qname = name;
  p.qtype = ns_t_a;
  return p;
}

DnsPacket answer(const DnsPacket& q, int rcode) {
  DnsPacket p = q;
  std::swap(p.src, p.dst);
  std::swap(p.sport, p.dport);
  p.response = true;
  p.rcode = rcode;
  return p;
}

DnsCounters only(const DnsStats& s) {
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.size(), 1u);
  return snap.empty() ? DnsCounters{} : snap[0].second;
}

TEST(DnsStats, AnswersAreMatchedTimedAndCountedByRcode) {
  DnsStats s(10, 10, 1000 * kMs);
  const auto q1 = query("a.example", 1), q2 = query("a.example", 2), q3 = query("a.example", 3);
  s.on_packet(q1, true, 100 * kMs);
  s.on_packet(q2, true, 100 * kMs);
  s.on_packet(q3, true, 100 * kMs);
  s.on_packet(answer(q1, ns_r_noerror), false, 103 * kMs);
  s.on_packet(answer(q2, ns_r_nxdomain), false, 110 * kMs);
  s.on_packet(answer(q3, ns_r_servfail), false, 101 * kMs);
  const auto c = only(s);
  EXPECT_EQ(c.queries, 3u);
  EXPECT_EQ(c.noerror, 1u);
  EXPECT_EQ(c.nxdomain, 1u);
  EXPECT_EQ(c.servfail, 1u);
  EXPECT_EQ(c.latency_count, 3u);
  EXPECT_EQ(c.latency_sum_us, 14000u);
  EXPECT_EQ(c.latency_max_us, 10000u);
  EXPECT_EQ(s.snapshot()[0].first.server, "10.0.0.53");
  EXPECT_EQ(s.stats().pending, 0u);
}

TEST(DnsStats, ADuplicateQueryCountsOnceFromItsFirstSight) {
  DnsStats s(10, 10, 1000 * kMs);
  const auto q = query("a.example", 5);
  s.on_packet(q, true, 100 * kMs);
  s.on_packet(q, true, 104 * kMs);
  s.on_packet(answer(q, ns_r_noerror), false, 106 * kMs);
  const auto c = only(s);
  EXPECT_EQ(c.queries, 1u);
  EXPECT_EQ(c.latency_sum_us, 6000u);
}

TEST(DnsStats, AnswersWithoutTheirQueryAreCountedApart) {
  DnsStats s(10, 10, 1000 * kMs);
  const auto q = query("a.example", 5);
  s.on_packet(answer(q, ns_r_noerror), false, 100 * kMs);  // never asked
  s.on_packet(q, true, 100 * kMs);
  auto other_name = answer(q, ns_r_noerror);
  other_name.qname = "b.example";  // same id and ports, another question: not this answer
  s.on_packet(other_name, false, 101 * kMs);
  s.on_packet(answer(q, ns_r_noerror), false, 102 * kMs);
  s.on_packet(answer(q, ns_r_noerror), false, 103 * kMs);  // a second copy
  EXPECT_EQ(s.stats().responses_unmatched, 3u);
  EXPECT_EQ(only(s).noerror, 1u);
}

TEST(DnsStats, UnansweredQueriesBecomeTimeoutsAfterTheTimeout) {
  DnsStats s(10, 10, 500 * kMs);
  s.on_packet(query("slow.example", 1), true, 100 * kMs);
  s.expire(599 * kMs);
  EXPECT_EQ(only(s).timeouts, 0u);
  s.expire(600 * kMs);
  EXPECT_EQ(only(s).timeouts, 1u);
  EXPECT_EQ(s.stats().pending, 0u);
  // Its late answer is no longer matched.
  s.on_packet(answer(query("slow.example", 1), ns_r_noerror), false, 700 * kMs);
  EXPECT_EQ(only(s).noerror, 0u);
  EXPECT_EQ(s.stats().responses_unmatched, 1u);
}

TEST(DnsStats, AFullCounterTableLetsItsLeastRecentlyUpdatedKeyGo) {
  DnsStats s(2, 10, 1000 * kMs);
  const auto a = query("a.example", 1), b = query("b.example", 2);
  s.on_packet(a, true, 0);
  s.on_packet(b, true, 0);
  s.on_packet(answer(a, ns_r_noerror), false, 5 * kMs);  // a is now the more recent
  s.on_packet(query("c.example", 3), true, 6 * kMs);     // takes b's place
  const auto snap = s.snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].first.domain, "a.example");  // by key, whatever the recency
  EXPECT_EQ(snap[1].first.domain, "c.example");
  EXPECT_EQ(snap[0].second.queries, 1u);  // a kept its counters
  EXPECT_EQ(snap[0].second.noerror, 1u);
  EXPECT_EQ(snap[1].second.queries, 1u);
  EXPECT_EQ(s.stats().keys, 2u);
  EXPECT_EQ(s.stats().keys_evicted, 1u);
}

TEST(DnsStats, ABurstOfNewNamesCannotShutOutLaterOnes) {
  DnsStats s(100, 100000, 1000 * kMs);
  for (std::uint16_t i = 0; i < 5000; ++i)
    s.on_packet(query("r" + std::to_string(i) + ".example", i), true, 0);
  const auto later = query("later.example", 60000);
  s.on_packet(later, true, kMs);
  s.on_packet(answer(later, ns_r_nxdomain), false, 3 * kMs);
  bool found = false;
  for (const auto& [k, c] : s.snapshot())
    if (k.domain == "later.example") {
      found = true;
      EXPECT_EQ(c.queries, 1u);
      EXPECT_EQ(c.nxdomain, 1u);
      EXPECT_EQ(c.latency_max_us, 2000u);
    }
  EXPECT_TRUE(found);
  EXPECT_EQ(s.stats().keys, 100u);
  EXPECT_EQ(s.stats().keys_evicted, 5001u - 100u);
  // The burst's queries time out: keys already let go stay gone, later.example stays.
  s.on_packet(query("later.example", 60001), true, 2 * kMs);
  s.expire(1500 * kMs);
  EXPECT_EQ(s.stats().pending, 0u);
  EXPECT_EQ(s.stats().keys_evicted, 5001u - 100u);
  std::uint64_t timeouts = 0;
  found = false;
  for (const auto& [k, c] : s.snapshot()) {
    timeouts += c.timeouts;
    if (k.domain == "later.example") {
      found = true;
      EXPECT_EQ(c.queries, 2u);
      EXPECT_EQ(c.timeouts, 1u);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(timeouts, 99u + 1u);  // the 99 burst keys still kept, and later.example's second
}

TEST(DnsStats, QueriesFindingThePendingTableFullAreNotFollowedAndCounted) {
  DnsStats s(10, 3, 1000 * kMs);
  for (std::uint16_t id = 1; id <= 4; ++id) s.on_packet(query("a.example", id), true, 0);
  EXPECT_EQ(s.stats().pending, 3u);
  EXPECT_EQ(s.stats().pending_dropped, 1u);
  EXPECT_EQ(only(s).queries, 3u);  // the fourth was not followed, so not counted either
}

}  // namespace
}  // namespace cnm::probe
