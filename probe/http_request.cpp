#include "probe/http_request.h"

#include <strings.h>

#include <climits>

#include "probe/auth_token.h"

namespace cnm::probe {
namespace {

RequestReader& self(http_parser* p) { return *static_cast<RequestReader*>(p->data); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

RequestReader::RequestReader(std::string token, RequestLimits limits)
    : token_(std::move(token)), limits_(limits) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  settings_.on_message_begin = &RequestReader::on_message_begin;
  settings_.on_url = &RequestReader::on_url;
  settings_.on_header_field = &RequestReader::on_header_field;
  settings_.on_header_value = &RequestReader::on_header_value;
  settings_.on_headers_complete = &RequestReader::on_headers_complete;
  settings_.on_body = &RequestReader::on_body;
  settings_.on_message_complete = &RequestReader::on_message_complete;
}

int RequestReader::refuse(int status, std::string why) {
  state_ = State::Refused;
  status_ = status;
  why_ = std::move(why);
  return 1;  // stops the parser
}

void RequestReader::refuse_oversized() {
  // Still in the request line: the target is what is too long.
  if (headers_ == 0 && field_.empty())
    refuse(414, "request target longer than " + std::to_string(limits_.max_head_bytes) + " bytes");
  else
    refuse(431, "request head larger than " + std::to_string(limits_.max_head_bytes) + " bytes");
}

std::size_t RequestReader::feed(std::string_view data) {
  if (state_ != State::NeedMore || data.empty()) return 0;
  // Before the head is complete, never give the parser more than what the head may still
  // take: the byte limit holds whatever arrives.
  std::size_t give = data.size();
  if (!headers_done_) {
    const std::size_t room = limits_.max_head_bytes - head_bytes_;
    if (room == 0) {
      refuse_oversized();
      return 0;
    }
    give = std::min(give, room);
  }
  const std::size_t n = http_parser_execute(&parser_, &settings_, data.data(), give);
  if (!headers_done_) head_bytes_ += n;
  if (state_ != State::NeedMore) return n;
  if (parser_.upgrade) {
    refuse(400, "protocol upgrades are not served");
    return n;
  }
  const auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err != HPE_OK && err != HPE_PAUSED) {
    refuse(400, std::string("malformed request: ") + http_errno_description(err));
    return n;
  }
  if (!headers_done_ && head_bytes_ >= limits_.max_head_bytes) refuse_oversized();
  return n;
}

void RequestReader::next() {
  request_ = Request{};
  url_.clear();
  field_.clear();
  value_.clear();
  in_value_ = false;
  authorized_ = false;
  headers_done_ = false;
  started_ = false;
  head_bytes_ = 0;
  headers_ = 0;
  state_ = State::NeedMore;
  http_parser_pause(&parser_, 0);
}

int RequestReader::on_message_begin(http_parser* p) {
  self(p).started_ = true;
  return 0;
}

int RequestReader::on_url(http_parser* p, const char* at, std::size_t n) {
  self(p).url_.append(at, n);  // bounded by the head limit
  return 0;
}

int RequestReader::end_header() {
  in_value_ = false;
  if (++headers_ > limits_.max_headers)
    return refuse(431, "more than " + std::to_string(limits_.max_headers) + " headers");
  if (field_.size() == 13 && ::strncasecmp(field_.c_str(), "authorization", 13) == 0) {
    // Checked now, before any further header is read.
    if (authorized_ || !bearer_matches(value_, token_)) return refuse(401, "");
    authorized_ = ever_authorized_ = true;
  }
  field_.clear();
  value_.clear();
  return 0;
}

int RequestReader::on_header_field(http_parser* p, const char* at, std::size_t n) {
  auto& r = self(p);
  if (r.in_value_ && r.end_header() != 0) return 1;
  r.field_.append(at, n);
  return 0;
}

int RequestReader::on_header_value(http_parser* p, const char* at, std::size_t n) {
  auto& r = self(p);
  r.in_value_ = true;
  r.value_.append(at, n);
  return 0;
}

int RequestReader::on_headers_complete(http_parser* p) {
  // Here 1 and 2 mean "no body" to http-parser; any other non-zero value stops it.
  constexpr int kStop = -1;
  auto& r = self(p);
  const auto refuse = [&](int status, std::string why) {
    r.refuse(status, std::move(why));
    return kStop;
  };
  if (r.in_value_ && r.end_header() != 0) return kStop;
  r.headers_done_ = true;
  if (!r.authorized_) return refuse(401, "");
  if (p->http_major != 1) return refuse(400, "only HTTP/1.0 and HTTP/1.1 are served");
  if ((p->flags & F_CHUNKED) || (p->content_length != 0 && p->content_length != ULLONG_MAX))
    return refuse(413, "no route takes a request body");
  if (p->method != HTTP_GET && p->method != HTTP_HEAD)
    return refuse(405, "only GET and HEAD are served");
  http_parser_url u{};
  http_parser_url_init(&u);
  if (http_parser_parse_url(r.url_.data(), r.url_.size(), 0, &u) != 0 ||
      !(u.field_set & (1 << UF_PATH)))
    return refuse(400, "malformed request target");
  r.request_.path = r.url_.substr(u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
  if (u.field_set & (1 << UF_QUERY))
    r.request_.query = r.url_.substr(u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
  r.request_.head = p->method == HTTP_HEAD;
  r.request_.keep_alive = http_should_keep_alive(p) != 0;
  return 0;
}

int RequestReader::on_body(http_parser* p, const char*, std::size_t) {
  return self(p).refuse(413, "no route takes a request body");
}

int RequestReader::on_message_complete(http_parser* p) {
  auto& r = self(p);
  if (r.state_ != State::NeedMore) return 1;
  r.state_ = State::Ready;
  http_parser_pause(p, 1);  // one request at a time: a pipelined one waits for next()
  return 0;
}

std::string query_param(std::string_view query, std::string_view name) {
  std::size_t b = 0;
  while (b <= query.size()) {
    auto e = query.find('&', b);
    if (e == std::string_view::npos) e = query.size();
    const auto pair = query.substr(b, e - b);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string out;
      const auto v = pair.substr(eq + 1);
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '+') {
          out += ' ';
        } else if (v[i] == '%') {
          if (i + 2 >= v.size()) return {};
          const int hi = hex_digit(v[i + 1]), lo = hex_digit(v[i + 2]);
          if (hi < 0 || lo < 0) return {};
          out += static_cast<char>(hi * 16 + lo);
          i += 2;
        } else {
          out += v[i];
        }
      }
      return out;
    }
    b = e + 1;
  }
  return {};
}

}  // namespace cnm::probe
