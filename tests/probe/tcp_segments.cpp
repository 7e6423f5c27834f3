#include "tests/probe/tcp_segments.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace cnm::test {

TcpSegments get_tcp_segments(int fd) {
  struct tcp_info ti {};
  socklen_t len = sizeof ti;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
    throw std::runtime_error(std::string("getsockopt TCP_INFO: ") + std::strerror(errno));
  return {ti.tcpi_segs_out, ti.tcpi_segs_in};
}

}  // namespace cnm::test
