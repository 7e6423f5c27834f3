// DNS monitoring's bookkeeping: queries waiting for their response, and counters per
// (server, domain, query type): queries, responses by rcode, timeouts, latency. Fed with the
// packets the DNS monitor sees, queried by the API. Both tables are bounded: a query that finds
// the pending table full is not followed, a new key in a full counter table takes the place of
// the least recently updated one; both are counted. Pure logic: unit-tested under ASan.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "probe/dns_packet.h"

namespace cnm::probe {

struct DnsKey {
  std::string server;  // address as text
  std::uint16_t server_port = 0;
  std::string domain;
  std::uint16_t qtype = 0;
  auto tie() const { return std::tie(server, server_port, domain, qtype); }
  bool operator<(const DnsKey& o) const { return tie() < o.tie(); }
};

struct DnsCounters {
  std::uint64_t queries = 0;
  std::uint64_t noerror = 0, nxdomain = 0, servfail = 0, other_rcode = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t latency_count = 0, latency_sum_us = 0, latency_max_us = 0;
};

struct DnsTableStats {
  std::uint64_t packets = 0;              // DNS messages seen (both directions)
  std::uint64_t unparsable = 0;           // datagrams on a DNS port that are no DNS message
  std::uint64_t responses_unmatched = 0;  // a response with no query waiting for it
  std::uint64_t pending_dropped = 0;      // queries not followed: the pending table was full
  std::uint64_t keys_evicted = 0;    // least recently updated keys let go for new ones (table full)
  std::uint64_t socket_dropped = 0;  // datagrams the kernel dropped: the socket's buffer was full
  std::uint64_t pending = 0;         // queries waiting now
  std::uint64_t keys = 0;            // entries in the counter table now
};

class DnsStats {
 public:
  DnsStats(std::size_t max_keys, std::size_t max_pending, std::uint64_t timeout_ns);

  // A DNS message seen at time now_ns (any clock, the same for every call). A query is one
  // whose destination port is a DNS port (the filter passed only those and their answers).
  // The same query seen again while it waits (on a second interface, a retry reusing its id)
  // counts once, timed from the first.
  void on_packet(const DnsPacket& p, bool to_dns_port, std::uint64_t now_ns);
  void on_unparsable();
  // Datagrams the kernel dropped before the monitor read them (PACKET_STATISTICS).
  void on_socket_drops(std::uint64_t n);
  // Queries older than the timeout become timeouts.
  void expire(std::uint64_t now_ns);

  std::vector<std::pair<DnsKey, DnsCounters>> snapshot() const;
  DnsTableStats stats() const;

 private:
  struct Flow {  // one query in flight
    std::string client, server;
    std::uint16_t client_port, server_port, id;
    auto tie() const { return std::tie(client, server, client_port, server_port, id); }
    bool operator<(const Flow& o) const { return tie() < o.tie(); }
  };
  struct Waiting {
    std::uint64_t sent_ns;
    DnsKey key;
  };
  // The key's counters, made most recent; a new key when the table is full takes the place of
  // the least recently updated one (counted), so the table follows what is asked now and a
  // burst of random names cannot shut later ones out.
  DnsCounters& counters(const DnsKey& k);
  // The key's counters when it is still in the table (made most recent), else null: an answer
  // or a timeout of a key let go is not brought back (it would push out a current key, and a
  // burst's timeouts would flush the table a timeout after the burst).
  DnsCounters* existing_counters(const DnsKey& k);

  const std::size_t max_keys_, max_pending_;
  const std::uint64_t timeout_ns_;
  mutable std::mutex mu_;
  std::map<Flow, Waiting> pending_;
  using Entry = std::pair<DnsKey, DnsCounters>;
  std::list<Entry> recent_;  // most recently updated first
  std::map<DnsKey, std::list<Entry>::iterator> table_;
  DnsTableStats stats_;
};

}  // namespace cnm::probe
