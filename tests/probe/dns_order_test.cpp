// DnsOrder: the cgroup source's per-CPU records back in the kernel's time order, and nothing
// released that a later read could still put before it.
#include "probe/dns_order.h"

#include <gtest/gtest.h>

#include <string>

namespace cnm::probe {
namespace {

void add(DnsOrder& o, std::uint64_t ts, const std::string& what) {
  o.add(ts, reinterpret_cast<const std::uint8_t*>(what.data()), what.size());
}

std::string text(const DnsSample& s) { return std::string(s.bytes.begin(), s.bytes.end()); }

TEST(DnsOrder, RecordsReadCpuByCpuComeOutInTimeOrder) {
  DnsOrder o;
  // CPU 1's buffer read first: the answer (stamped 30) before its query (stamped 10, CPU 0).
  add(o, 30, "answer");
  add(o, 35, "answer2");
  add(o, 10, "query");
  add(o, 20, "query2");
  const auto out = o.take_before(100);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(text(out[0]), "query");
  EXPECT_EQ(out[0].ts_ns, 10u);
  EXPECT_EQ(text(out[1]), "query2");
  EXPECT_EQ(text(out[2]), "answer");
  EXPECT_EQ(text(out[3]), "answer2");
  EXPECT_EQ(o.held(), 0u);
}

TEST(DnsOrder, RecordsStampedAtOrAfterTheCutoffWaitForTheNextRound) {
  DnsOrder o;
  add(o, 50, "answer");  // stamped after the round began: its query may not be read yet
  add(o, 40, "before");
  add(o, 49, "at-edge");
  auto out = o.take_before(49);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(text(out[0]), "before");
  EXPECT_EQ(o.held(), 2u);
  // Next round: the query, stamped before the answer, is read now; both come out in order.
  add(o, 45, "query");
  out = o.take_before(60);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(text(out[0]), "query");
  EXPECT_EQ(text(out[1]), "at-edge");
  EXPECT_EQ(text(out[2]), "answer");
  EXPECT_EQ(o.held(), 0u);
  EXPECT_TRUE(o.take_before(1000).empty());
}

TEST(DnsOrder, EqualStampsKeepTheOrderTheyWereRead) {
  DnsOrder o;
  for (int i = 0; i < 50; ++i) add(o, 7, std::to_string(i));
  const auto out = o.take_before(8);
  ASSERT_EQ(out.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(text(out[static_cast<std::size_t>(i)]), std::to_string(i));
}

TEST(DnsOrder, EmptyRecordsAreKeptAsEmpty) {
  DnsOrder o;
  o.add(1, nullptr, 0);
  const auto out = o.take_before(2);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].bytes.empty());
}

}  // namespace
}  // namespace cnm::probe
