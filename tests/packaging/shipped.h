// What the packaging tests look at: the binaries that ship (their build-tree copies, with
// symbols), the packages, and facts read from ELF headers.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cnm::test {

struct ShippedBinary {
  std::string name;             // "cnmctl"
  std::filesystem::path built;  // build tree, unstripped
  std::string package_path;     // where the packages install it ("usr/bin/cnmctl")
};
const std::vector<ShippedBinary>& shipped_binaries();

struct ElfFacts {
  bool is_elf = false;
  bool has_interpreter = false;     // PT_INTERP: needs a dynamic loader
  std::vector<std::string> needed;  // DT_NEEDED shared libraries
  bool has_symbol_table = false;    // .symtab: not stripped
};
// Reads the ELF headers of an x86-64/aarch64 (64-bit) file; is_elf false for anything else.
ElfFacts elf_facts(const std::filesystem::path& file);

// `dpkg-deb -x` of the package into dir.
void extract_deb(const std::filesystem::path& deb, const std::filesystem::path& dir);

}  // namespace cnm::test
