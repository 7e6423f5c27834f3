// The HTTP API on a unix socket: one event loop reads every connection's request head with
// bounded work before authentication (probe/http_request.h), a few workers answer authorized
// requests without ever waiting on a client (a reply its client is slow to read is parked with
// the loop, at most ApiLimits::reply_buffer of it buffered, and resumed as the client reads).
// Routing and auth live here; what the routes return is the daemon's job.
//
// Why not cpp-httplib's server (0.11, Debian's compiled library): it parses every header of a
// request (no count limit; a line's limit is checked only after the whole line is in memory)
// before a pre-routing handler can look at the token; its read timeout restarts with every
// byte (no deadline per request); each connection holds one pool thread for its whole life, so
// slow clients starve the others; a request pipelined behind another is lost with the stream
// object read ahead into; and its CPPHTTPLIB_* limits are compiled into the library, not ours
// to set. The client side (the installer's health check, tests) stays cpp-httplib.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "probe/http_request.h"

namespace cnm::probe {

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  // When set, the body is sent chunked instead: each call appends the next piece to its
  // argument, until one returns false (so a large reply is never held whole).
  std::function<bool(std::string&)> stream = nullptr;
};

struct ApiRoutes {
  std::function<HttpReply()> health;
  std::function<HttpReply(const std::string& client_id)> connections;
  std::function<HttpReply()> debug_stats;
  std::function<HttpReply()> metrics;
  std::function<HttpReply()> dns;
  // The reply a GET of client_id's connections would get instead of them (too many clients),
  // or nullopt: a HEAD answers with its head and takes nothing. Unset: every client admitted.
  std::function<std::optional<HttpReply>(const std::string& client_id)> refuses;
};

// What one connection may cost. A connection holds at most one request head's bytes and one
// parser (no thread) while it has not been answered, and at most reply_buffer bytes of reply
// (plus one streamed piece) waiting for the client to read them.
struct ApiLimits {
  std::size_t max_connections = 1024;  // in all; a new one past it evicts a connection that
                                       // never authenticated (silent ones, oldest first), or
                                       // is refused
  std::size_t max_per_peer = 128;      // per connecting process (SO_PEERCRED pid)
  std::size_t max_unauthenticated_per_uid = 256;  // per local user (SO_PEERCRED uid); past
                                                  // it, one of the user's own is evicted
  // A new connection's time to send its first byte: a silent one younger than this is evicted
  // only after those that sent part of a head (a client descheduled between its connect and
  // its write on a busy host is not taken for an idle one).
  std::chrono::milliseconds silent_grace{1000};
  std::chrono::milliseconds head_deadline{2000};    // first byte of a request to its whole head
  std::chrono::milliseconds idle_timeout{5000};     // keep-alive without a request
  std::chrono::milliseconds write_deadline{30000};  // a whole reply, streamed ones included
  std::size_t workers = 4;                          // threads answering authorized requests
  std::size_t max_queued = 256;           // authorized requests waiting for a worker; past it, 503
  std::size_t max_streams = 4;            // streamed replies in progress at once; past it, 503
  std::size_t reply_buffer = 256 * 1024;  // reply bytes kept per connection for a slow reader
  RequestLimits request;
};

class ApiServer {
 public:
  // Binds the socket (mode 0660, group `group` when it exists) or throws std::runtime_error.
  // A stale socket file is replaced; a live one (another daemon answers) is an error.
  ApiServer(const std::string& socket_path, std::string token, const std::string& group,
            ApiRoutes routes, ApiLimits limits = {});
  ~ApiServer();  // stops serving and removes the socket file
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  struct Impl;

 private:
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cnm::probe
