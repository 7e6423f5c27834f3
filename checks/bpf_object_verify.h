// Loads a BPF object file into the kernel without attaching anything, and tells for each
// program whether the verifier accepts it. This turns "will the probe load here?" into a fact
// before rollout. Loading needs the live kernel and bpf() privileges.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cnm {

struct ProgramVerdict {
  std::string object;   // file name
  std::string program;  // program (function) name
  std::string section;  // e.g. "tracepoint/sock/inet_sock_set_state"
  bool loaded = false;
  std::string error;  // errno text and the verifier's last log line when refused
};

// Loads all programs at once (one BTF relocation pass); only when that fails, loads each
// program alone to say which ones the verifier refuses.
std::vector<ProgramVerdict> verify_bpf_object(const std::filesystem::path& object);

}  // namespace cnm
