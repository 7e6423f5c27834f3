// What cnmkit changed on a host, kept under the layout's state_dir so any later run can finish
// or undo it:
//   state.json   every file cnmkit wrote (with whether it existed before, its old mode and
//                owner, and the sha256 of what cnmkit last wrote there) and every folder it
//                created. An entry is saved BEFORE the change it describes, and never
//                replaced, so the backup is always the pre-cnmkit file.
//   backup/...   the original content of each file cnmkit replaced (mirrors host paths).
//   journal.json present while a run is in progress; a run that finds it resumes (the plan is
//                recomputed from the host, so re-applying converges) and says so.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/layout.h"

namespace cnm {

struct FileRecord {
  std::string path;  // host path
  bool existed = false;
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  // sha256 of the content cnmkit last wrote (recorded just before the write). nullopt in a
  // state.json from before hashes were recorded: what cnmkit wrote is then unknown.
  std::optional<std::string> sha256;
  // An operator's edit was found in the file when cnmkit next edited it in place (the config):
  // the content is no longer all cnmkit's, even when it matches sha256.
  bool carries_edit = false;
};

// Creates a folder (if missing) with mode 0755 whatever the umask.
void make_dir_0755(const std::filesystem::path& p);

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

// How long a run waits for the lock: $CNMKIT_LOCK_TIMEOUT seconds, default 120.
std::chrono::milliseconds lock_wait_from_env();

class InstallState {
 public:
  explicit InstallState(const Layout& layout);

  bool installed() const { return !files_.empty() || !dirs_.empty(); }
  bool journal_present() const;
  const std::vector<FileRecord>& files() const { return files_; }
  const std::vector<std::string>& dirs() const { return dirs_; }
  const FileRecord* find(const std::string& host_path) const;

  // Creates state_dir (recording the folders it had to make) and writes the journal.
  void begin(const std::string& what);
  void end();  // removes the journal

  // Before cnmkit first writes host_path: back up the original (if any) and record it, with
  // the sha256 of what it is about to write. Returns false when already recorded (an earlier
  // run or an interrupted one did it).
  bool record_file(const std::string& host_path, const std::string& sha256);
  // Before cnmkit rewrites a recorded file: what it is about to write (or, in a rollback, the
  // values the record had before the run).
  void set_written(const std::string& host_path, std::optional<std::string> sha256,
                   bool carries_edit);
  // Before cnmkit creates a folder (and its missing parents): record them. Returns the
  // folders to create, outermost first.
  std::vector<std::string> record_missing_dirs(const std::string& host_dir);
  // Records the folders of state_dir's path that a run made (before it held the lock), first
  // in the list, outermost first, whichever run made which: racing runs leave the same record.
  void record_state_dirs(const std::vector<std::string>& made);
  // Drops records added after `files`/`dirs` entries (rollback of a failed run).
  void truncate(std::size_t files, std::size_t dirs);

  std::filesystem::path backup_path(const std::string& host_path) const;
  // Removes state_dir and the folders recorded for it (after an uninstall).
  void remove_all();

 private:
  void save() const;
  Layout layout_;
  std::vector<FileRecord> files_;
  std::vector<std::string> dirs_;
};

}  // namespace cnm
