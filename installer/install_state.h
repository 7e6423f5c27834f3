// What cnmkit changed on a host, kept under the layout's state_dir so any later run can finish
// or undo it:
//   state.json   every file cnmkit wrote (with whether it existed before, its old mode and
//                owner, and the sha256 of what cnmkit last wrote there) and every folder it
//                created. A run records all its writes in one save BEFORE making any of them
//                (new hashes as `pending`), and confirms them in one more save after the
//                last: two syncs of the state per run, not one per file (so a 4,000-file
//                install stays linear). Only a confirmed hash says what is on disk: a run that
//                fails and rolls back puts every record back as it was, and a run that was
//                killed leaves pending hashes that the next run settles against the disk.
//                A record is never replaced, so the backup is always the pre-cnmkit file.
//   backup/...   the original content of each file cnmkit replaced (mirrors host paths).
//   kept/...     originals an uninstall could not put back because the operator removed their
//                folder (mirrors host paths): left for the operator, never removed by cnmkit.
//   journal.json present while a run is in progress; a run that finds it resumes (the plan is
//                recomputed from the host, so re-applying converges) and says so.
// Every path is resolved inside --root (common/root_dir.h).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/layout.h"
#include "common/root_dir.h"
#include "common/host_record.h"

namespace cnm {

struct FileRecord {
  std::string path;  // host path
  bool existed = false;
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  // sha256 of the content cnmkit last wrote, confirmed after the write. nullopt in a
  // state.json from before hashes were recorded (what cnmkit wrote is then unknown), and in
  // a record whose first write is still pending.
  std::optional<std::string> sha256;
  // An operator's edit was found in the file when cnmkit next edited it in place (the config):
  // the content is no longer all cnmkit's, even when it matches sha256.
  bool carries_edit = false;
  // What a run is writing now (recorded before the write, confirmed after all of them). Left
  // only by a killed run: the file holds either this or what sha256 says.
  std::optional<std::string> pending_sha256;
  bool pending_carries_edit = false;

  // Whether cnmkit knows what it wrote here (a state from before hashes: it does not).
  bool vouched() const { return sha256 || pending_sha256; }
  // Whether `sha` is content cnmkit wrote (or was writing) here.
  bool wrote(const std::string& sha) const { return sha == sha256 || sha == pending_sha256; }
};

// Creates a folder inside the root (if missing) with mode 0755 whatever the umask.
void make_dir_0755(const RootDir& root, const std::string& host_path);

// True while a run is unfinished (its journal exists): services it planned may not have run.
bool journal_exists(const Layout& layout);

// An exclusive flock on <state_dir>/lock, held for a whole run (plan + apply, or uninstall) so
// two runs never interleave. Creates state_dir (recorded under the lock, so uninstall removes it).
// Waits up to `wait` for a run holding it, then throws std::runtime_error naming the lock.
class RunLock {
 public:
  RunLock(const Layout& layout, std::chrono::milliseconds wait);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  Layout layout_;
  bool created_ = false;  // this run made state_dir: drop it again if the run records nothing
  int fd_ = -1;
};

// The longest wait a run accepts (the lock, the probe's health): a week, far beyond any sensible
// wait and well inside a long's milliseconds.
inline constexpr long kMaxWaitSeconds = 7 * 24 * 3600;

// A wait given as text (the environment, the command line): seconds from 0 to kMaxWaitSeconds,
// or nullopt (not a number, negative, NaN, too long); the error text for such a value.
std::optional<double> wait_seconds(const std::string& text);
std::string wait_seconds_error(const std::string& text);

// How long a run waits for the lock: $CNMKIT_LOCK_TIMEOUT seconds, default 120. A value that is
// not a number of seconds from 0 to kMaxWaitSeconds throws std::invalid_argument (usage error).
std::chrono::milliseconds lock_wait_from_env();

class InstallState {
 public:
  explicit InstallState(const Layout& layout);

  bool installed() const { return !files_.empty() || !dirs_.empty(); }
  const HostRecord& host() const { return host_; }
  // Saved with the next prepare() (before the run's first change), put back by restore().
  void set_host(HostRecord h) { host_ = std::move(h); }
  bool journal_present() const;
  // Whether state_dir holds anything but kept/ and the lock: records, backups, a journal, or
  // what an uninstall killed while removing them left.
  bool anything_recorded() const;
  const std::vector<FileRecord>& files() const { return files_; }
  const std::vector<std::string>& dirs() const { return dirs_; }
  const FileRecord* find(const std::string& host_path) const;
  const RootDir& root() const { return root_; }

  // Creates state_dir (recording the folders it had to make) and writes the journal.
  void begin(const std::string& what);
  void end();  // removes the journal

  // One write a run is about to make: the file, the sha256 of its new content, and whether
  // that content carries an operator's edit.
  struct PlannedWrite {
    std::string host_path;
    std::string sha256;
    bool carries_edit = false;
  };
  // Before a run writes anything: backs up the originals of files not recorded yet, records
  // every write as pending and every folder the writes need, in one save. Returns the folders
  // to create, outermost first.
  std::vector<std::string> prepare(const std::vector<PlannedWrite>& writes);
  // After the last write: the pending hashes are what cnmkit wrote (one save).
  void commit();
  // The records as they are now, and putting them back (a rolled-back run: backups of
  // records added since go too).
  struct Snapshot {
    std::vector<FileRecord> files;
    std::vector<std::string> dirs;
    HostRecord host;
  };
  Snapshot snapshot() const { return {files_, dirs_, host_}; }
  void restore(const Snapshot& s);
  // Settles what a killed run left pending against the disk: a file holding its pending
  // content confirms it, any other drops it. Returns whether anything was pending.
  bool settle_pending();
  // Records the hash of what cnmkit wrote at host_path (a state from before hashes).
  void set_written(const std::string& host_path, std::optional<std::string> sha256,
                   bool carries_edit);
  // Records the folders of state_dir's path that a run made (before it held the lock), first
  // in the list, outermost first, whichever run made which: racing runs leave the same record.
  void record_state_dirs(const std::vector<std::string>& made);

  // Removes the temp files a killed run of cnmkit left next to the files it records
  // (".NAME.cnmkit-XXXXXX", and those of NAME.cnmkit-save copies) and anywhere in state_dir,
  // nothing else.
  // Returns the host paths removed.
  std::vector<std::string> remove_stale_temps() const;

  std::string backup_path(const std::string& host_path) const;  // a host path in state_dir
  std::string kept_path(const std::string& host_path) const;    // the same under kept/
  // The files in kept/ (host paths), sorted.
  std::vector<std::string> kept_files() const;
  // Removes state_dir (but for its kept/, which the operator takes away) and forgets every
  // record (after an uninstall).
  void remove_all();

 private:
  void save() const;
  void reindex();
  Layout layout_;
  RootDir root_;
  std::vector<FileRecord> files_;
  std::unordered_map<std::string, std::size_t> index_;  // path -> position in files_
  std::vector<std::string> dirs_;
  HostRecord host_;
};

}  // namespace cnm
