// Reads one HTTP/1.1 request head at a time from a connection's bytes, with bounded work
// before authentication: the request line and headers together at most max_head_bytes, at
// most max_headers headers, and the bearer token checked the moment its header ends (a wrong
// token stops the read there, before any further header). Parsing is http-parser's (Debian
// libhttp-parser); only what the API needs is kept (method, path, query, keep-alive).
// No sockets here: the server feeds bytes as they arrive, and the fuzzer feeds anything.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace cnm::probe {

struct RequestLimits {
  std::size_t max_head_bytes = 8192;  // request line and headers
  std::size_t max_headers = 32;
};

struct Request {
  bool head = false;  // HEAD (else GET)
  std::string path;
  std::string query;  // raw, without '?'
  bool keep_alive = true;
};

class RequestReader {
 public:
  enum class State { NeedMore, Ready, Refused };

  RequestReader(std::string token, RequestLimits limits);
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Parses what it can; returns the bytes consumed. Stops after a complete request head (the
  // rest, a pipelined request, is for after next()) or at a refusal.
  std::size_t feed(std::string_view data);
  State state() const { return state_; }
  // Ready: the request (authorized).
  const Request& request() const { return request_; }
  // Refused: the status to answer (400 malformed, 401 token, 405 method, 413 a body,
  // 414 target too long, 431 head too large) and why, for the reply body.
  int status() const { return status_; }
  const std::string& why() const { return why_; }
  // Whether any byte of the current request has arrived (an idle connection has none).
  bool started() const { return started_; }
  // Whether this connection has ever presented the right token.
  bool ever_authorized() const { return ever_authorized_; }
  // After Ready: ready for the connection's next request.
  void next();

 private:
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, std::size_t n);
  static int on_header_field(http_parser* p, const char* at, std::size_t n);
  static int on_header_value(http_parser* p, const char* at, std::size_t n);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, std::size_t n);
  static int on_message_complete(http_parser* p);

  int refuse(int status, std::string why);
  void refuse_oversized();
  int end_header();  // a header's field and value are complete

  std::string token_;
  RequestLimits limits_;
  http_parser parser_{};
  http_parser_settings settings_{};
  State state_ = State::NeedMore;
  Request request_;
  int status_ = 0;
  std::string why_;
  std::string url_, field_, value_;
  bool in_value_ = false;
  bool authorized_ = false;
  bool ever_authorized_ = false;
  bool headers_done_ = false;
  bool started_ = false;
  std::size_t head_bytes_ = 0;
  std::size_t headers_ = 0;
};

// Percent-decodes the value of `name` in a query string ("a=1&client_id=x%20y"); empty when
// absent or malformed.
std::string query_param(std::string_view query, std::string_view name);

}  // namespace cnm::probe
