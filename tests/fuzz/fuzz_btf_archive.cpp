// libFuzzer target for a BTF archive (probe/btf_archive.h) as the installer checks it and the
// daemon and the preflight look in it. Each input is accepted or refused with
// std::runtime_error, never a crash; within small limits (16 MiB unpacked), so a bomb costs the
// fuzzer no more. Whatever the whole check accepts, the lookup finds, for every release it
// lists, with no problem: the two readers agree.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "probe/btf_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cnm::probe;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  BtfArchiveLimits limits;
  limits.max_unpacked_bytes = 16u << 20;
  limits.max_member_bytes = 4u << 20;
  limits.max_entries = 1000;
  std::vector<std::string> releases;
  try {
    releases = check_btf_archive(bytes, "fuzz", limits).releases;
  } catch (const std::runtime_error&) {
  }
  for (const auto& r : releases.empty() ? std::vector<std::string>{"5.4.0-1-amd64"} : releases) {
    const auto found = btf_from_archive(bytes, r, "fuzz", limits);
    if (!releases.empty() && (!found.btf || !found.problem.empty())) __builtin_trap();
    if (found.unpacked_bytes > limits.max_unpacked_bytes + (4u << 20)) __builtin_trap();
  }
  return 0;
}
