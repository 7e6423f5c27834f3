#include "installer/health.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/host_fs.h"
#include "installer/file_action.h"

namespace cnm {

namespace {

// One GET on the probe's socket; `token` sent as a bearer token when there is one.
Health get(const Layout& layout, const std::string& target,
           const std::optional<std::string>& token) {
  Health h;
  const RootDir root(layout.root);
  // connect() resolves the socket's path on the host: it must name the socket the root has
  // there (resolved inside it), or the token would go to whatever a link points at.
  struct stat in_root {
  }, on_host{};
  if (!root.stat(layout.probe_socket, in_root) ||
      ::stat(layout.at(layout.probe_socket).c_str(), &on_host) != 0 ||
      in_root.st_ino != on_host.st_ino || in_root.st_dev != on_host.st_dev) {
    h.body =
        "no probe socket at " + root.display(layout.probe_socket).string() + " inside the root";
    return h;
  }
  httplib::Client cli(layout.at(layout.probe_socket).string());
  cli.set_address_family(AF_UNIX);
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(5, 0);
  httplib::Headers headers;
  if (token) headers.emplace("Authorization", "Bearer " + std::string(trim(*token)));
  const auto res = cli.Get(target, headers);
  if (!res) {
    h.body = "no answer on " + layout.at(layout.probe_socket).string() + ": " +
             httplib::to_string(res.error());
    return h;
  }
  h.http_status = res->status;
  h.body = res->body.substr(0, 4096);
  return h;
}

std::optional<std::string> read_token(const Layout& layout, std::string& why) {
  try {
    return read_whole(RootDir(layout.root), layout.auth_token_file);
  } catch (const std::exception& e) {
    why = e.what();
    return std::nullopt;
  }
}

}  // namespace

const char* health_path(ProbeMode mode) {
  return mode == ProbeMode::Agent ? "/debug/stats" : "/health";
}

Health probe_health(const Layout& layout) {
  std::string why;
  const auto token = read_token(layout, why);
  if (layout.mode == ProbeMode::Agent) {
    Health h = get(layout, health_path(layout.mode), token);
    h.ok = h.http_status == 200;
    return h;
  }
  if (!token) {
    Health h;
    h.body = why.empty() ? "no auth token at " +
                               RootDir(layout.root).display(layout.auth_token_file).string()
                         : why;
    return h;
  }
  Health h = get(layout, health_path(layout.mode), token);
  const auto j = nlohmann::json::parse(h.body, nullptr, false);
  h.ok = h.http_status == 200 && j.is_object() && j.value("status", "") == "ok";
  return h;
}

Health wait_for_health(const Layout& layout, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    auto h = probe_health(layout);
    if (h.ok || std::chrono::steady_clock::now() >= deadline) return h;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace cnm
