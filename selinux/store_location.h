// Where a host keeps its SELinux policy store: STORE_ROOT/POLICY_TYPE, with POLICY_TYPE from
// /etc/selinux/config (SELINUXTYPE=) and STORE_ROOT from /etc/selinux/semanage.conf
// (`store-root =`, libsemanage's default /var/lib/selinux). Hosts that move it:
// rpm-ostree images (Fedora CoreOS, RHCOS) append `store-root=/etc/selinux`, and RHEL/CentOS 7
// (libsemanage 2.5 as Red Hat ships it) keeps the store in /etc/selinux/TYPE/active.
//
// The one answer for the status, the preflight's security.selinux check, install and remove:
// SemanageStore hands this store root and type to libsemanage itself
// (semanage_set_store_root, semanage_select_store), so the store it opens is the one the
// checks read. Both files are read inside the root (common/root_dir.h), bounded and never
// blocking: a FIFO, a device or a link out of --root is a problem reported, not a hang.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/host_fs.h"

namespace cnm::selinux {

inline constexpr std::string_view kDefaultStoreRoot = "/var/lib/selinux";
inline constexpr std::string_view kSemanageConf = "/etc/selinux/semanage.conf";
// semanage.conf is a few KiB on every distribution; more is not a configuration file.
inline constexpr std::size_t kSemanageConfMaxBytes = 64 * 1024;

// A `[name] path = ... args = ... [end]` block of semanage.conf: a program libsemanage runs, as
// a host program, with those arguments ($@ the file it works on).
struct ProgramBlock {
  std::string name;  // "sefcontext_compile", "verify kernel", ...
  std::string path;
  std::string args;
};

struct StoreLocation {
  // From /etc/selinux/config (parse_selinux_config); both "" when the file is absent.
  std::string config_mode;  // SELINUX=: enforcing, permissive, disabled, or ""
  std::string policy_type;  // SELINUXTYPE= ("" without the file: then there is no store path)
  // Host path, absolute and normalized ("/var/lib/selinux", "/etc/selinux").
  std::string store_root = std::string(kDefaultStoreRoot);
  std::string path;    // store_root + "/" + policy_type; "" without a policy type
  std::string origin;  // why store_root: "default", "/etc/selinux/semanage.conf", ...
  // semanage.conf exists but cannot be used (not a regular file, too large, unreadable, an
  // empty store-root): libsemanage would block on it or refuse it. Install and remove refuse
  // such a host; status reports it. store_root is then the default.
  std::string problem;
  // The helper programs semanage.conf names ([sefcontext_compile], [verify kernel], ...).
  std::vector<ProgramBlock> programs;
};

// What cnmkit reads from a semanage.conf, in one pass over its lines.
struct SemanageConf {
  // The value of the last `store-root` assignment outside [section] ... [end] blocks, as
  // libsemanage's scanner reads it (conf-scan.l): '#' starts a comment only where a key may
  // start (after '=' it is part of the value), the value is the rest of the line with
  // surrounding blanks trimmed, or the text between double quotes. nullopt when there is
  // none; "" for an assignment without a value (libsemanage refuses the file).
  std::optional<std::string> store_root;
  std::vector<ProgramBlock> programs;  // the program blocks, in order
};

SemanageConf parse_semanage_conf(std::string_view semanage_conf);

// What cnmkit reads from /etc/selinux/config, read as libselinux reads it at boot
// (selinux_config.c), not as a shell would: the host loads its policy that way.
struct SelinuxConfig {
  // selinux_getenforcemode: the first line that starts with `SELINUX=` (in column 0, that case)
  // whose value, blanks after '=' skipped, begins with enforcing, permissive or disabled in any
  // case; lines with another value are passed over. Lowercase; "" when no line says one.
  std::string mode;
  // init_selinux_config: the last line that starts, after blanks, with `SELINUXTYPE=` in any
  // case; its value is the rest of the line, blanks after '=' and trailing blanks and control
  // characters dropped, quotes kept (libselinux keeps them: the folder then does not exist).
  // libselinux's default, "targeted", when no line names one.
  std::string policy_type;
};

SelinuxConfig parse_selinux_config(std::string_view text);

// A store-root value as a host path: relative values are taken from "/" (libsemanage would
// take them from its working folder), "." and ".." resolved lexically and clamped at "/"
// (under --root they never leave it), no trailing slash.
std::string normalize_store_root(std::string_view value);

StoreLocation store_location(const HostFs& fs);

// A folder of a policy store: there, absent (or not a folder), or there but closed to this
// user (the store is root's, 0700), links followed inside the root.
enum class StoreDir { kAbsent, kPresent, kClosed };
StoreDir store_dir(const HostFs& fs, const std::string& host_path);

// Why a copied store (--root) may not be committed with these blocks, "" when it may. A commit
// runs them as host programs with the root's arguments, so under --root only what cannot be
// turned against the host goes: [load_policy] and [setfiles] (cnmkit turns both off there:
// no reload, no context check), and [sefcontext_compile] as distributions write it
// (/usr/sbin/sefcontext_compile or /sbin/sefcontext_compile, arguments among `-r` and `$@`).
// Any other block ([verify kernel], [verify module], ...) is refused.
std::string root_program_problem(const std::vector<ProgramBlock>& blocks);

}  // namespace cnm::selinux
