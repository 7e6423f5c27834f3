// Applies a Plan with the install state (backups, records, journal), and undoes installs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/layout.h"
#include "installer/plan.h"

namespace cnm {

// Called after every step boundary with the number of steps done so far. Tests use it (through
// $CNMKIT_KILL_AFTER_STEP) to kill the process at each boundary and check the next run converges.
using StepHook = std::function<void(int)>;

struct ApplyResult {
  bool changed = false;
  bool resumed = false;  // a journal from an interrupted run was found
  bool rolled_back = false;
  std::string error;  // why the run failed (then rolled back), with any rollback errors
  std::vector<std::string> rollback_errors;  // rollback steps that failed (the rest still ran)
};

// Runs a service command; returns its exit code. Injected so plans stay testable.
using CommandRunner = std::function<int(const std::vector<std::string>&, std::string* output)>;

// The runner that spawns real processes (posix_spawnp, output captured).
int run_command(const std::vector<std::string>& argv, std::string* output);

// Health check after services started; returns an empty string when healthy, else why not.
using HealthCheck = std::function<std::string()>;

ApplyResult apply_plan(const Layout& layout, const Plan& plan, const CommandRunner& run,
                       const HealthCheck& health, const StepHook& hook);

struct SavedFile {
  std::string path, saved_as;  // host paths
};
struct KeptFile {
  std::string path, kept_as, folder;  // host paths: the file, its original's copy, the folder gone
};
struct UninstallResult {
  bool changed = false;
  std::vector<std::string> restored, removed;
  std::vector<SavedFile> saved;  // edited after cnmkit wrote them: kept before restore/remove
  std::vector<KeptFile> kept;    // not restored: their folder is gone
};
// Restores every backed-up file, removes every file and folder cnmkit created, then its state.
// A file whose content is not what cnmkit last wrote (an operator edited it after install) is
// first copied to <path>.cnmkit-save (or .cnmkit-save.N when that name holds something else),
// same mode and owner, so no edit is lost. A file whose folder the operator removed since (the
// Agent purged) is not restored, which would make that folder again: its original is kept in
// the state folder's kept/ (.N when that name holds something else), which stays.
UninstallResult uninstall(const Layout& layout, const StepHook& hook);

// The hook honouring $CNMKIT_KILL_AFTER_STEP=N (SIGKILL after step N); a no-op when unset.
StepHook kill_hook_from_env();

}  // namespace cnm
