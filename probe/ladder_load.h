// Opens the BPF object of an attempt (ladder_choice.h) and prepares it to load exactly that
// attempt's programs: the others do not load, its maps are sized, its settings are set. The
// daemon loads and attaches what this prepares; the preflight loads it without attaching, to
// hear the verifier. One preparation for both, so the preflight verifies what the daemon loads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "probe/core_btf.h"
#include "probe/ladder_choice.h"

struct bpf_object;
struct bpf_program;
struct bpf_map;

namespace cnm::probe {

struct LoadSettings {
  std::uint32_t max_tracked = 65536;          // open connections, slots and map together
  std::uint32_t slots = 0;                    // slot array entries of a kSlots build (power of two)
  std::uint32_t closed_ring_bytes = 1 << 22;  // ring buffer size (power of two)
  bool disable_ipv6 = false;
  std::string btf_path;  // BTF file for CO-RE relocations; "" for the kernel's own
  // With the kernel's own BTF: relocate against the part of it the object's relocations can see
  // (core_btf.h), the same result faster. false: the whole of it (tests compare the two).
  bool kernel_btf_subset = true;
  // Read the objects from this folder (`cnmctl preflight --bpf-objects DIR`), not the embedded.
  std::optional<std::filesystem::path> object_dir;
};

// Sizes for a verifier dry run: the smallest maps that verify the same instructions.
LoadSettings verification_settings(const std::string& btf_path,
                                   const std::optional<std::filesystem::path>& object_dir);

class PreparedObject {
 public:
  // Throws std::runtime_error naming the object and the step that failed. `only`: load just
  // these of the attempt's programs (the preflight's partial loads), set up as for all of them.
  PreparedObject(const Attempt& a, const LoadSettings& s,
                 const std::vector<const Program*>* only = nullptr);
  ~PreparedObject();
  PreparedObject(const PreparedObject&) = delete;
  PreparedObject& operator=(const PreparedObject&) = delete;

  // Loads it (bpf_object__load) and writes the settings that live in maps (the legacy object
  // has no global data). 0 or a negative errno.
  int load();

  bpf_object* object() const { return obj_; }
  bpf_program* program(const Program& p) const;  // nullptr when the object lacks it
  bpf_map* map(const char* name) const;          // nullptr when the object lacks it

 private:
  std::optional<CoreBtf> core_btf_;  // open until the object is closed (libbpf reads it at load)
  bpf_object* obj_ = nullptr;
  bool disable_ipv6_ = false;
};

// The verifier's answer for one program of an attempt.
struct ProgramVerdict {
  std::string object;   // file name
  std::string program;  // program (function) name
  bool loaded = false;
  std::string error;  // errno text and the verifier's reason when refused
};

// Loads the attempt's programs without attaching anything; only when that fails, each program
// alone, to say which the verifier refuses and why. Needs bpf() privileges. The programs that
// need the kernel's BTF to load (tp_btf, iterators) and the others (raw tracepoints, kprobes)
// load as two copies of the object, in two threads: the verifier judges each program on its
// own, so the verdicts are those of one load, sooner on two cores.
std::vector<ProgramVerdict> verify_attempt(const Attempt& a, const LoadSettings& s);

// Every program of a BPF object file, loaded without attaching (a file that is not one of the
// ladder's objects, e.g. the DNS socket filter): the same report.
std::vector<ProgramVerdict> verify_object_file(const std::string& name,
                                               std::span<const std::byte> bytes);

// The last line of a verifier log that says why (before its statistics).
std::string verifier_reason(const char* log);

}  // namespace cnm::probe
