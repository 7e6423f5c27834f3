// The segment counters of tcp_info that glibc's struct predates (tcpi_segs_out, tcpi_segs_in).
// Apart from net_env.h: <linux/tcp.h>, which has them, and glibc's <netinet/tcp.h> cannot be
// included in one file.
#pragma once

#include <cstdint>

namespace cnm::test {

struct TcpSegments {
  std::uint32_t out = 0, in = 0;
};
TcpSegments get_tcp_segments(int fd);

}  // namespace cnm::test
