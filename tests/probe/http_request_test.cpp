// The API's request reader on its own: bounded work before authentication, the token checked
// as its header ends, pipelining one request at a time, HEAD, query strings.
#include "probe/http_request.h"

#include <gtest/gtest.h>

namespace cnm::probe {
namespace {

const std::string kToken = "t0ken";

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken + "\r\n" +
         extra + "\r\n";
}

TEST(RequestReader, ReadsARequestAndStopsBeforeThePipelinedOne) {
  RequestReader r(kToken, {});
  const std::string two = get("/health") + get("/network_tracer/connections?client_id=a%20b");
  const auto used = r.feed(two);
  ASSERT_EQ(r.state(), RequestReader::State::Ready);
  EXPECT_EQ(used, get("/health").size());
  EXPECT_EQ(r.request().path, "/health");
  EXPECT_TRUE(r.request().keep_alive);
  r.next();
  EXPECT_EQ(r.feed(std::string_view(two).substr(used)), two.size() - used);
  ASSERT_EQ(r.state(), RequestReader::State::Ready);
  EXPECT_EQ(query_param(r.request().query, "client_id"), "a b");
}

TEST(RequestReader, AWrongTokenStopsTheReadAtItsHeader) {
  RequestReader r(kToken, {});
  const std::string head = "GET / HTTP/1.1\r\nAuthorization: Bearer nope\r\n";
  const std::string rest(100000, 'x');
  const auto used = r.feed(head + "X-After: " + rest);
  EXPECT_EQ(r.state(), RequestReader::State::Refused);
  EXPECT_EQ(r.status(), 401);
  EXPECT_LT(used, head.size() + 16);  // nothing of the next header's value was read
}

TEST(RequestReader, HeaderCountAndBytesAreBoundedBeforeTheToken) {
  RequestReader many(kToken, {8192, 32});
  std::string h = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 40; ++i) h += "X" + std::to_string(i) + ": v\r\n";
  many.feed(h);
  EXPECT_EQ(many.state(), RequestReader::State::Refused);
  EXPECT_EQ(many.status(), 431);

  RequestReader big(kToken, {8192, 32});
  const std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(1 << 20, 'a');
  const auto used = big.feed(huge);
  EXPECT_EQ(big.status(), 431);
  EXPECT_LE(used, 8192u);

  RequestReader uri(kToken, {8192, 32});
  uri.feed("GET /" + std::string(10000, 'q'));
  EXPECT_EQ(uri.status(), 414);
}

TEST(RequestReader, NoTokenMethodsBodiesAndVersionsAreRefused) {
  const auto status = [](const std::string& bytes) {
    RequestReader r(kToken, {});
    r.feed(bytes);
    return r.state() == RequestReader::State::Refused ? r.status() : 0;
  };
  EXPECT_EQ(status("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"), 401);
  EXPECT_EQ(status("POST /health HTTP/1.1\r\nAuthorization: Bearer t0ken\r\n\r\n"), 405);
  EXPECT_EQ(
      status("GET /health HTTP/1.1\r\nAuthorization: Bearer t0ken\r\nContent-Length: 3\r\n\r\nabc"),
      413);
  EXPECT_EQ(status("GET /health HTTP/2.0\r\nAuthorization: Bearer t0ken\r\n\r\n"), 400);
  EXPECT_EQ(status("GARBAGE\r\n\r\n"), 400);
  // Two Authorization headers: the second is not a second chance.
  EXPECT_EQ(
      status("GET / HTTP/1.1\r\nAuthorization: Bearer t0ken\r\nAuthorization: Bearer x\r\n\r\n"),
      401);
}

TEST(RequestReader, HeadAndConnectionCloseAreSeen) {
  RequestReader r(kToken, {});
  r.feed("HEAD /metrics HTTP/1.1\r\nAuthorization: Bearer t0ken\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(r.state(), RequestReader::State::Ready);
  EXPECT_TRUE(r.request().head);
  EXPECT_FALSE(r.request().keep_alive);
}

TEST(RequestReader, BytesArrivingOneByOneGiveTheSameRequest) {
  RequestReader r(kToken, {});
  const auto req = get("/debug/stats");
  for (const char c : req) {
    ASSERT_EQ(r.state(), RequestReader::State::NeedMore);
    EXPECT_EQ(r.feed(std::string_view(&c, 1)), 1u);
  }
  ASSERT_EQ(r.state(), RequestReader::State::Ready);
  EXPECT_EQ(r.request().path, "/debug/stats");
}

TEST(QueryParam, DecodesAndRefusesMalformedEscapes) {
  EXPECT_EQ(query_param("a=1&client_id=x%2Fy+z", "client_id"), "x/y z");
  EXPECT_EQ(query_param("client_id=%zz", "client_id"), "");
  EXPECT_EQ(query_param("client_id=%4", "client_id"), "");
  EXPECT_EQ(query_param("other=1", "client_id"), "");
}

}  // namespace
}  // namespace cnm::probe
