#include "installer/apply.h"

#include "common/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include "common/atomic_file.h"
#include "common/root_dir.h"
#include "installer/install_state.h"
#include "installer/sha256.h"

extern char** environ;

namespace cnm {
namespace {

std::optional<FileOwner> owner_of(const RootDir& root, const std::string& host_path) {
  struct stat st {};
  if (!root.stat(host_path, st, false)) return std::nullopt;
  return FileOwner{st.st_uid, st.st_gid};
}

// Removes a folder cnmkit created, only if it is still an empty folder (never a link).
bool remove_empty_dir(const RootDir& root, const std::string& host_path) {
  const auto e = root.parent(host_path);
  return e.dir && ::unlinkat(e.dir.get(), e.name.c_str(), AT_REMOVEDIR) == 0;
}

// Removes a file inside the root; absent already counts as removed (false).
bool remove_file(const RootDir& root, const std::string& host_path) {
  const auto e = root.parent(host_path);
  if (!e.dir) return false;
  if (::unlinkat(e.dir.get(), e.name.c_str(), 0) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  throw std::system_error(errno, std::generic_category(),
                          "cannot remove " + root.display(host_path).string());
}

bool is_state_path(const Layout& l, const std::string& dir) {
  const auto s = std::filesystem::path(l.state_dir).lexically_normal();
  const auto d = std::filesystem::path(dir).lexically_normal();
  // dir is state_dir or one of its ancestors
  auto rel = s.lexically_relative(d);
  return !rel.empty() && rel.native().rfind("..", 0) != 0;
}

// A rerun keeps what earlier runs recorded: a service enabled and the module installed by the
// first run stay cnmkit's to undo, though this run found them in place. A run that records no
// mode (`cnmctl config`) keeps the install's mode and layout.
HostRecord merged_host(const HostRecord& had, const HostRecord& now) {
  HostRecord h = now;
  if (!now.mode) {
    h.mode = had.mode;
    h.layout = had.layout;
  }
  for (const auto& s : had.enabled_services)
    if (std::find(h.enabled_services.begin(), h.enabled_services.end(), s) ==
        h.enabled_services.end())
      h.enabled_services.push_back(s);
  h.selinux_module = had.selinux_module || now.selinux_module;
  return h;
}

bool is_daemon_reload(const ServiceStep& s) {
  return s.argv == std::vector<std::string>{"systemctl", "daemon-reload"};
}

// Whether the content cnmkit is about to write over `f.before` carries someone else's edit.
// Only an in-place edit (the config) carries anything: a whole new file keeps nothing of the
// old one. Content that is what cnmkit last wrote, or still the original, is no edit. A record
// without a hash (state from before hashes were recorded) cannot tell an edit from cnmkit's
// own change: it assumes an edit.
bool carries_edit(const InstallState& st, const FileRecord& rec, const FileAction& f) {
  if (!f.edits_in_place || !f.before) return false;
  if (rec.carries_edit) return true;
  if (rec.wrote(sha256_hex(*f.before))) return false;
  if (rec.existed) {
    const auto original = read_whole(st.root(), st.backup_path(rec.path));
    if (original && *original == *f.before) return false;
  }
  return true;
}

// Whether uninstall would lose `current` by restoring `original` (nullopt: removing the file).
bool holds_foreign_content(const FileRecord& rec, const std::string& current,
                           const std::optional<std::string>& original) {
  if (original && current == *original) return false;  // restoring changes nothing
  if (!rec.vouched()) return true;                     // unknown what cnmkit wrote: keep a copy
  return rec.carries_edit || !rec.wrote(sha256_hex(current));
}

// Writes `content` to `base`, or base.N when that name holds something else (what is there is
// never replaced); a name already holding exactly this content (an interrupted run's copy) is
// reused. Returns the name used.
std::string write_first_free(const RootDir& root, const std::string& base,
                             const std::string& content, mode_t mode,
                             std::optional<FileOwner> owner) {
  for (int i = 0;; ++i) {
    const std::string name = base + (i == 0 ? std::string() : "." + std::to_string(i));
    std::optional<std::string> there;
    try {
      there = read_whole(root, name);
    } catch (const std::exception&) {
      continue;  // not a regular file: try the next name
    }
    if (there && *there == content) return name;
    if (there) continue;
    atomic_write(root, name, content, mode, owner);
    return name;
  }
}

// Copies `content` to <host_path>.cnmkit-save (.N when taken; an earlier save is never
// replaced). Returns the host path used.
std::string save_copy(const Layout& layout, const std::string& host_path,
                      const std::string& content, mode_t mode, std::optional<FileOwner> owner) {
  return write_first_free(RootDir(layout.root), host_path + ".cnmkit-save", content, mode, owner);
}

// The folder that should hold host_path when it is gone (or no longer a folder); empty when it
// is there, or cannot be told (another error: restoring reports it).
std::string gone_folder(const RootDir& root, const std::string& host_path) {
  {
    const auto e = root.parent(host_path);
    if (e.dir || (errno != ENOENT && errno != ENOTDIR)) return {};
  }
  // The outermost missing one is what the operator removed.
  std::string gone = std::filesystem::path(host_path).parent_path().string();
  for (auto p = std::filesystem::path(gone).parent_path(); p.has_relative_path();
       p = p.parent_path()) {
    if (root.is_dir(p.string())) break;
    gone = p.string();
  }
  return gone;
}

// Copies the original of a file uninstall cannot restore to the state folder's kept/ (.N when
// that name holds something else; the same content, from an interrupted uninstall, is reused).
// Returns the host path used.
std::string keep_original(const InstallState& st, const std::string& host_path,
                          const std::string& content) {
  const RootDir& root = st.root();
  const std::string base = st.kept_path(host_path);
  std::vector<std::string> chain;
  for (auto p = std::filesystem::path(base).parent_path(); !root.is_dir(p.string());
       p = p.parent_path())
    chain.insert(chain.begin(), p.string());
  for (const auto& d : chain) make_dir_0755(root, d);
  return write_first_free(root, base, content, 0600, std::nullopt);
}

// Undoes a failed run: the service steps it started, newest first, while the files they use are
// still there (stop the probe before its binary goes); then the files and folders, newest
// first; then the records, exactly as they were before the run (a write that failed midway
// is not recorded either). Every step is tried on its own and the cleanup always finishes;
// the steps that failed are returned. A unit reload runs last, once the old unit is back.
std::vector<std::string> roll_back(const Plan& plan, std::size_t services_started,
                                   const std::vector<const FileAction*>& written,
                                   const std::vector<std::string>& made_dirs, InstallState& st,
                                   bool fresh, const InstallState::Snapshot& before,
                                   const CommandRunner& run) {
  const RootDir& root = st.root();
  std::vector<std::string> errors;
  const auto attempt = [&](const std::string& what, const std::function<void()>& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      errors.push_back(what + ": " + e.what());
    }
  };
  const auto undo_service = [&](const ServiceStep& s) {
    attempt("`" + command_line(s.argv) + "`", [&] {
      std::string out;
      const int rc = run(s.argv, &out);
      if (rc != 0) throw std::runtime_error("exit " + std::to_string(rc) + ": " + out);
    });
  };
  const std::size_t n = std::min(services_started, plan.rollback_services.size());
  bool reload = false;
  for (std::size_t i = n; i-- > 0;) {
    if (plan.rollback_services[i].argv.empty()) continue;  // a step with nothing to undo
    if (is_daemon_reload(plan.rollback_services[i]))
      reload = true;
    else
      undo_service(plan.rollback_services[i]);
  }
  for (auto it = written.rbegin(); it != written.rend(); ++it) {
    const FileAction& f = **it;
    attempt("restore " + f.host_path, [&] {
      if (f.before)
        atomic_write(root, f.host_path, *f.before, f.before_mode, owner_of(root, f.host_path));
      else
        remove_file(root, f.host_path);
    });
  }
  for (auto it = made_dirs.rbegin(); it != made_dirs.rend(); ++it) remove_empty_dir(root, *it);
  if (reload) undo_service(ServiceStep{{"systemctl", "daemon-reload"}, ""});
  attempt("state records", [&] {
    if (fresh) {
      const auto dirs = st.dirs();
      st.remove_all();
      for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) remove_empty_dir(root, *it);
    } else {
      st.restore(before);
      st.end();
    }
  });
  return errors;
}

}  // namespace

int run_command(const std::vector<std::string>& argv, std::string* output) {
  const auto r = run_process(argv, 64 * 1024);
  if (output) *output = r.spawn_error ? "cannot run " + argv[0] : r.output;
  return r.spawn_error ? 127 : r.exit_code;
}

StepHook kill_hook_from_env() {
  const char* v = std::getenv("CNMKIT_KILL_AFTER_STEP");
  if (!v || !*v) return [](int) {};
  const int n = std::atoi(v);
  return [n](int step) {
    if (step == n) ::raise(SIGKILL);
  };
}

ApplyResult apply_plan(const Layout& layout, const Plan& plan, const CommandRunner& run,
                       const HealthCheck& health, const StepHook& hook) {
  ApplyResult r;
  InstallState st(layout);
  r.resumed = st.journal_present();
  // What a killed run left: temp files of its writes, and records of writes it may not have
  // made (settled against the disk).
  st.remove_stale_temps();
  st.settle_pending();
  // A record from before hashes were recorded, of a file cnmkit replaces whole and that holds
  // exactly what this plan wants: that content is cnmkit's, record its hash.
  for (const auto& f : plan.files) {
    if (f.changes() || f.edits_in_place) continue;
    const FileRecord* rec = st.find(f.host_path);
    if (rec && !rec->sha256) st.set_written(f.host_path, sha256_hex(f.after), false);
  }
  if (!plan.changes()) {
    if (r.resumed) st.end();  // an interrupted run that had done everything but say so
    return r;
  }
  const RootDir& root = st.root();
  const bool fresh = st.files().empty();
  int step = 0;
  auto boundary = [&] { hook(++step); };

  st.begin("install");
  boundary();
  const auto before = st.snapshot();
  std::vector<const FileAction*> written;
  std::vector<std::string> made_dirs;
  std::size_t services_started = 0;
  try {
    // Every write is recorded (pending) before the first one, in one save: a run killed in
    // between leaves records the next run settles against the disk.
    std::vector<InstallState::PlannedWrite> writes;
    for (const auto& f : plan.files) {
      if (!f.changes()) continue;
      const FileRecord* rec = st.find(f.host_path);
      writes.push_back({f.host_path, sha256_hex(f.after), rec && carries_edit(st, *rec, f)});
    }
    // What the run does besides files, recorded with the writes (restored on rollback).
    st.set_host(merged_host(st.host(), plan.host));
    const auto dirs = st.prepare(writes);
    boundary();
    for (const auto& d : dirs) {
      make_dir_0755(root, d);
      made_dirs.push_back(d);
    }
    if (!dirs.empty()) boundary();
    for (const auto& f : plan.files) {
      if (!f.changes()) continue;
      // An existing file keeps its owner; a new one gets the planned owner.
      atomic_write(root, f.host_path, f.after, f.mode,
                   f.before ? owner_of(root, f.host_path) : f.owner);
      written.push_back(&f);
      boundary();
    }
    st.commit();  // only now do the records say these contents are on disk
    boundary();
    for (const auto& s : plan.services) {
      ++services_started;  // a failing step may have half-happened: it is undone too
      std::string out;
      const int rc = run(s.argv, &out);
      if (rc != 0)
        throw std::runtime_error("`" + command_line(s.argv) + "` failed (exit " +
                                 std::to_string(rc) + "): " + out);
      boundary();
    }
    if (plan.health_check) {
      const auto why = health();
      if (!why.empty()) throw std::runtime_error("the probe is not healthy: " + why);
    }
  } catch (const std::exception& e) {
    r.error = e.what();
    r.rollback_errors =
        roll_back(plan, services_started, written, made_dirs, st, fresh, before, run);
    for (const auto& err : r.rollback_errors) r.error += "; rollback: " + err;
    r.rolled_back = true;
    return r;
  }
  st.end();
  r.changed = true;
  return r;
}

UninstallResult uninstall(const Layout& layout, const StepHook& hook) {
  UninstallResult r;
  const RootDir root(layout.root);
  if (!root.exists(layout.state_dir)) return r;
  InstallState st(layout);
  // A state folder holding only kept/ (and the lock): nothing of cnmkit's to undo.
  const bool recorded = st.anything_recorded();
  st.remove_stale_temps();
  int step = 0;
  const auto& files = st.files();
  const bool as_root = ::geteuid() == 0;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    std::optional<std::string> original;
    if (it->existed) {
      original = read_whole(root, st.backup_path(it->path));
      if (!original)
        throw std::runtime_error("backup of " + it->path + " is missing under " +
                                 root.display(layout.state_dir).string() +
                                 "; nothing restored for it");
    }
    // An operator's edit since cnmkit wrote the file is copied aside before it goes.
    mode_t mode = 0;
    std::optional<std::string> current;
    try {
      current = read_whole(root, it->path, &mode);
    } catch (const std::exception&) {
      // not a regular file (or unreadable): nothing to copy; restored or removed as before
    }
    if (current && holds_foreign_content(*it, *current, original))
      r.saved.push_back(
          {it->path, save_copy(layout, it->path, *current, mode,
                               as_root ? owner_of(root, it->path) : std::optional<FileOwner>())});
    if (original) {
      if (const auto folder = gone_folder(root, it->path); !folder.empty()) {
        // The operator removed the folder (the Agent purged, say): making it again for this
        // one file would bring back what they took away. The original stays in kept/.
        r.kept.push_back({it->path, keep_original(st, it->path, *original), folder});
        hook(++step);
        continue;
      }
      atomic_write(root, it->path, *original, it->mode,
                   as_root ? std::optional<FileOwner>(FileOwner{it->uid, it->gid}) : std::nullopt);
      r.restored.push_back(it->path);
    } else if (remove_file(root, it->path)) {
      r.removed.push_back(it->path);
    }
    hook(++step);
  }
  const auto dirs = st.dirs();
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it)
    if (!is_state_path(layout, *it) && remove_empty_dir(root, *it)) r.removed.push_back(*it);
  st.remove_all();
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it)
    if (is_state_path(layout, *it)) remove_empty_dir(root, *it);
  r.changed = recorded;
  return r;
}

}  // namespace cnm
