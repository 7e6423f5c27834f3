#include "common/host_accounts.h"

#include <grp.h>
#include <pwd.h>

#include <cstdio>
#include <stdexcept>

namespace cnm {
namespace {

std::optional<unsigned long> numeric(const std::string& s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9)
    return std::nullopt;
  return std::stoul(s);
}

}  // namespace

std::optional<uid_t> find_user(const Layout& layout, const std::string& name) {
  FILE* f = std::fopen(layout.at("/etc/passwd").c_str(), "re");
  if (!f) return std::nullopt;
  std::optional<uid_t> out;
  while (const passwd* p = ::fgetpwent(f))
    if (name == p->pw_name) {
      out = p->pw_uid;
      break;
    }
  std::fclose(f);
  return out;
}

std::optional<gid_t> find_group(const Layout& layout, const std::string& name) {
  FILE* f = std::fopen(layout.at("/etc/group").c_str(), "re");
  if (!f) return std::nullopt;
  std::optional<gid_t> out;
  while (const group* g = ::fgetgrent(f))
    if (name == g->gr_name) {
      out = g->gr_gid;
      break;
    }
  std::fclose(f);
  return out;
}

FileOwner parse_owner(const Layout& layout, const std::string& spec) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("--owner wants USER:GROUP, got '" + spec + "'");
  const auto user = spec.substr(0, colon), grp = spec.substr(colon + 1);
  FileOwner o{};
  if (auto n = numeric(user))
    o.uid = static_cast<uid_t>(*n);
  else if (auto u = find_user(layout, user))
    o.uid = *u;
  else
    throw std::invalid_argument("--owner: no user '" + user + "' in " +
                                layout.at("/etc/passwd").string());
  if (auto n = numeric(grp))
    o.gid = static_cast<gid_t>(*n);
  else if (auto g = find_group(layout, grp))
    o.gid = *g;
  else
    throw std::invalid_argument("--owner: no group '" + grp + "' in " +
                                layout.at("/etc/group").string());
  return o;
}

FileOwner config_owner(const Layout& layout) {
  const auto g = find_group(layout, layout.group);
  if (!g)
    throw std::runtime_error("group '" + layout.group + "' does not exist in " +
                             layout.at("/etc/group").string() +
                             ": install the Datadog Agent first (it creates the group) or pass "
                             "--owner USER:GROUP; nothing was written");
  return FileOwner{0, *g};
}

}  // namespace cnm
