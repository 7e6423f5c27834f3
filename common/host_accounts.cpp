#include "common/host_accounts.h"

#include <grp.h>
#include <pwd.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include "common/file_read.h"
#include "common/root_dir.h"

namespace cnm {
namespace {

std::optional<unsigned long> numeric(const std::string& s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9)
    return std::nullopt;
  return std::stoul(s);
}

// Large directory-synced files fit; anything bigger is refused, not read.
constexpr std::size_t kMaxAccountFileBytes = 16u << 20;

// The host's account file, read bounded inside the root (a FIFO or a link to /dev/zero is an
// error, not a hang), then parsed by glibc's fgetpwent/fgetgrent from memory.
template <typename Entry, typename Id>
std::optional<Id> find_entry(const Layout& layout, const char* file, const std::string& name,
                             Entry* (*next)(FILE*), char* Entry::*name_of, Id Entry::*id_of) {
  const RootDir root(layout.root);
  auto r = read_file(root, file, ReadLimits{kMaxAccountFileBytes, OverLimit::Refuse, true});
  if (r.status == ReadStatus::Absent) return std::nullopt;
  if (!r.ok())
    throw std::runtime_error(root.display(file).string() + " " + r.why(kMaxAccountFileBytes));
  if (r.text.empty()) return std::nullopt;
  std::unique_ptr<FILE, int (*)(FILE*)> f(::fmemopen(r.text.data(), r.text.size(), "r"),
                                          &std::fclose);
  if (!f) return std::nullopt;
  while (const Entry* e = next(f.get()))
    if (name == e->*name_of) return e->*id_of;
  return std::nullopt;
}

}  // namespace

std::optional<uid_t> find_user(const Layout& layout, const std::string& name) {
  return find_entry<passwd, uid_t>(layout, "/etc/passwd", name, &::fgetpwent, &passwd::pw_name,
                                   &passwd::pw_uid);
}

std::optional<gid_t> find_group(const Layout& layout, const std::string& name) {
  return find_entry<group, gid_t>(layout, "/etc/group", name, &::fgetgrent, &group::gr_name,
                                  &group::gr_gid);
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
                                RootDir(layout.root).display("/etc/passwd").string());
  if (auto n = numeric(grp))
    o.gid = static_cast<gid_t>(*n);
  else if (auto g = find_group(layout, grp))
    o.gid = *g;
  else
    throw std::invalid_argument("--owner: no group '" + grp + "' in " +
                                RootDir(layout.root).display("/etc/group").string());
  return o;
}

FileOwner config_owner(const Layout& layout) {
  const auto g = find_group(layout, layout.group);
  if (!g)
    throw std::runtime_error("group '" + layout.group + "' does not exist in " +
                             RootDir(layout.root).display("/etc/group").string() +
                             ": install the Datadog Agent first (it creates the group) or pass "
                             "--owner USER:GROUP; nothing was written");
  return FileOwner{0, *g};
}

}  // namespace cnm
