// libFuzzer target for the probe API's request handling: request line, headers, the token
// check, pipelining and the query string. The input is split in two: a token, then the bytes
// a client sends, fed in pieces of varying size (as a socket delivers them). Each must end in
// a request, a refusal or a wait for more, within the head limits, without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "probe/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const std::string token(nl == std::string_view::npos ? "t0ken" : in.substr(0, nl));
  std::string_view bytes = nl == std::string_view::npos ? in : in.substr(nl + 1);
  cnm::probe::RequestLimits limits;
  limits.max_head_bytes = 1024;
  limits.max_headers = 8;
  cnm::probe::RequestReader reader(token, limits);
  std::size_t piece = 1;
  std::size_t head = 0;
  while (!bytes.empty()) {
    const auto chunk = bytes.substr(0, piece);
    const std::size_t used = reader.feed(chunk);
    if (used > chunk.size()) std::abort();
    head += used;
    bytes.remove_prefix(used);
    piece = piece % 7 + 1;
    switch (reader.state()) {
      case cnm::probe::RequestReader::State::Refused:
        if (reader.status() < 400 || reader.status() > 431) std::abort();
        return 0;
      case cnm::probe::RequestReader::State::Ready:
        if (!reader.ever_authorized()) std::abort();  // never a request without the token
        (void)cnm::probe::query_param(reader.request().query, "client_id");
        if (!reader.request().keep_alive) return 0;
        reader.next();
        head = 0;
        break;
      case cnm::probe::RequestReader::State::NeedMore:
        if (head > limits.max_head_bytes) std::abort();   // the head limit holds
        if (used == 0 && chunk.size() > 0) std::abort();  // waiting with input left
        break;
    }
  }
  return 0;
}
