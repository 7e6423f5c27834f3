// The part of the kernel's BTF that an object's CO-RE relocations can see, for libbpf to relocate
// against (btf_custom_path) instead of the whole of it. libbpf 1.1 looks for the candidates of
// each relocated type by scanning every kernel type (125k on 6.18: ~0.8 ms a type, ~9 ms an
// object); it finds the same candidates, in the same order, among the types kept here, and from
// them follows only references, all kept too: the relocated instructions are the same
// (tests/probe/core_btf_test.cpp loads both and compares the kernel's program tags).
//
// Kept: every kernel type whose essential name (before "___") is that of a relocated local type,
// in kernel order, and every type they reach. Not used (the whole BTF is, as before) when the
// result could differ: a relocation asks for a kernel type id (ids change here), or a relocated
// type has no candidate in vmlinux (libbpf would then search the module BTFs; the subset hides
// them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "probe/bytes_path.h"

namespace cnm::probe {

// A type a CO-RE relocation starts from: its essential name and its BTF kind (BTF_KIND_ENUM for
// both enum kinds, as libbpf matches them).
struct CoreRoot {
  std::string name;
  int kind = 0;
  auto operator<=>(const CoreRoot&) const = default;
};

// The types a BPF object's CO-RE relocations start from (its .BTF.ext); empty when it has
// none; nullopt (and why) when the subset cannot stand in for the whole BTF for this object,
// or the object cannot be read.
std::optional<std::set<CoreRoot>> core_roots(std::span<const std::byte> elf,
                                             std::string* why = nullptr);

// A raw BTF blob (the format of /sys/kernel/btf/vmlinux) holding the candidates of `roots` in
// `kernel_btf` (libbpf's: same essential name, compatible kind) and all they reach, renumbered
// in kernel order. nullopt (and why) when kernel_btf is malformed or holds no candidate for a
// root.
std::optional<std::string> btf_subset(std::string_view kernel_btf, const std::set<CoreRoot>& roots,
                                      std::string* why = nullptr);

// The subset of the running kernel's BTF for an object, where libbpf opens it by path
// (bytes_path.h: a memory file, or a temp file without memfd_create or /proc).
class CoreBtf {
 public:
  // nullopt (reason at debug level) when the whole kernel BTF must be used.
  static std::optional<CoreBtf> for_object(std::span<const std::byte> elf,
                                           const char* kernel_btf = "/sys/kernel/btf/vmlinux");

  const std::string& path() const { return held_.path(); }

 private:
  explicit CoreBtf(BytesPath held) : held_(std::move(held)) {}
  BytesPath held_;
};

}  // namespace cnm::probe
