// The preflight's memory of this kernel: the answers to the ladder's questions that only another
// kernel build changes (program, map and helper probes, tracepoints, kernel symbols, BPF
// compare-and-swap) and the verifier's verdicts on the probe's programs, so that a rerun on the
// same host loads nothing into the kernel. One JSON file, <cache_dir>/preflight-kernel.json
// (layout's cache_dir, /var/cache/cnmkit: regenerable data, FHS), replaced atomically. It holds
// one kernel: the key is the kernel build (its GNU build id from /sys/kernel/notes, else
// /proc/version with the boot id), the lockdown mode (it removes helpers) and cnmctl's version;
// verdicts are also keyed by the objects' SHA-256 and the BTF they were relocated with.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/host_fs.h"
#include "probe/kernel_answers.h"
#include "probe/ladder_load.h"

namespace cnm {

// "build-id:HEX" or "version:SHA-OF-/proc/version,boot:ID", then ",lockdown:MODE,cnmctl:V".
std::string kernel_identity(const HostFs& fs);

// The GNU build id in an ELF notes blob (/sys/kernel/notes), hex; "" when absent or malformed.
std::string gnu_build_id(std::string_view notes);

class KernelMemory {
 public:
  // Reads the file when it is about this kernel; a missing, unreadable, malformed or other
  // kernel's file starts empty (and is replaced on save).
  // read_only (`cnmctl preflight --no-cache`): the file is read but never written, nor its
  // folder created, so a run in a configuration tool's check mode changes nothing.
  KernelMemory(std::filesystem::path file, std::string identity, bool read_only = false);

  // Longest file read; a larger one is ignored (a real one is a few dozen KiB).
  static constexpr std::size_t kMaxMemoryBytes = 8u << 20;

  std::optional<probe::Answer> answer(const std::string& need_key) const;
  void remember(const std::string& need_key, probe::Answer a);
  std::optional<std::vector<probe::ProgramVerdict>> verdicts(const std::string& key) const;
  void remember(const std::string& key, const std::vector<probe::ProgramVerdict>& v);
  bool recalled() const { return recalled_; }  // something was answered from memory

  // Writes the file if anything new was learnt. Best effort: false (logged at debug) when it
  // cannot (a run without root cannot write /var/cache).
  bool save() const;

  // Answers worth keeping: those fixed by the kernel build. Mounts (tracefs kprobe_events) and
  // files (BTF) are looked at every time: they change without a new kernel, and cost nothing.
  static bool keeps(const probe::Need& n);

 private:
  std::filesystem::path file_;
  std::string identity_;
  std::map<std::string, probe::Answer> answers_;
  std::map<std::string, std::vector<probe::ProgramVerdict>> verdicts_;
  bool changed_ = false;
  bool read_only_ = false;
  mutable bool recalled_ = false;
};

}  // namespace cnm
