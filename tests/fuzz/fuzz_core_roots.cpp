// libFuzzer target for the CO-RE roots of a BPF object (probe/core_btf.h, core_roots): ELF bytes
// through libelf, then the object's .BTF and its .BTF.ext relocation records. The seed is a
// small object compiled by the build (core_roots_seed.bpf.c). Each input must end in roots (each
// named, of a kind BTF has), none, or a refusal with its reason, the same with or without the
// reason asked for, and without a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "probe/core_btf.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  std::string why;
  const auto roots = cnm::probe::core_roots(bytes, &why);
  if (!roots && why.empty()) std::abort();
  if (roots)
    for (const auto& r : *roots)
      if (r.name.empty() || r.kind < 1 || r.kind > 31) std::abort();
  if (cnm::probe::core_roots(bytes) != roots) std::abort();
  return 0;
}
