// Why the kernel ended a TCP connection, from the socket's error at close (sk_err), the way
// the kernel sets it: tcp_reset() gives ECONNREFUSED to a connecting socket and ECONNRESET (or
// EPIPE after the peer's FIN) later; tcp_write_err() gives ETIMEDOUT when retransmissions or
// connect retries run out. A socket closed by its own process has none. Other errors (an ICMP
// unreachable, which the kernel reports as EHOSTUNREACH or ENETUNREACH) fit none of the three
// causes of the schema and are not counted.
#pragma once

#include <cerrno>

#include "probe/connection.h"

namespace cnm::probe {

inline TcpFailures tcp_failures_from_errno(unsigned sk_err) {
  TcpFailures f;
  switch (sk_err) {
    case ECONNREFUSED:
      f.refused = 1;
      break;
    case ECONNRESET:
    case EPIPE:
      f.reset = 1;
      break;
    case ETIMEDOUT:
      f.timeout = 1;
      break;
    default:
      break;
  }
  return f;
}

}  // namespace cnm::probe
