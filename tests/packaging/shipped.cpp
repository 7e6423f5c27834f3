#include "tests/packaging/shipped.h"

#include <elf.h>

#include <cstring>
#include <stdexcept>

#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

template <typename T>
bool read_at(const std::string& bytes, std::size_t off, T& out) {
  if (off > bytes.size() || bytes.size() - off < sizeof(T)) return false;
  std::memcpy(&out, bytes.data() + off, sizeof(T));
  return true;
}

void read_dynamic(const std::string& bytes, const Elf64_Phdr& dyn, const Elf64_Shdr* dynstr,
                  ElfFacts& f) {
  for (std::size_t off = dyn.p_offset; off + sizeof(Elf64_Dyn) <= dyn.p_offset + dyn.p_filesz;
       off += sizeof(Elf64_Dyn)) {
    Elf64_Dyn d{};
    if (!read_at(bytes, off, d) || d.d_tag == DT_NULL) break;
    if (d.d_tag != DT_NEEDED) continue;
    const std::size_t name = dynstr ? dynstr->sh_offset + d.d_un.d_val : bytes.size();
    f.needed.push_back(name < bytes.size() ? std::string(bytes.c_str() + name) : "?");
  }
}

}  // namespace

const std::vector<ShippedBinary>& shipped_binaries() {
  static const std::vector<ShippedBinary> list = {
      {"cnmctl", CNMCTL_PATH, "usr/bin/cnmctl"},
      {"cnmctl-installer", CNMCTL_INSTALLER_PATH, "usr/libexec/cnmkit/cnmctl-installer"},
      {"cnmctl-selinux", CNMCTL_SELINUX_PATH, "usr/libexec/cnmkit/cnmctl-selinux"},
      {"cnm-probe", CNM_PROBE_PATH, "usr/lib/cnmkit/bin/system-probe"},
  };
  return list;
}

ElfFacts elf_facts(const std::filesystem::path& file) {
  ElfFacts f;
  const std::string bytes = read_file(file);
  Elf64_Ehdr eh{};
  if (!read_at(bytes, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64)
    return f;
  f.is_elf = true;
  std::vector<Elf64_Shdr> sections(eh.e_shnum);
  for (std::size_t i = 0; i < sections.size(); ++i)
    read_at(bytes, eh.e_shoff + i * eh.e_shentsize, sections[i]);
  const Elf64_Shdr* dynstr = nullptr;
  for (const auto& s : sections) {
    if (s.sh_type == SHT_SYMTAB) f.has_symbol_table = true;
    if (s.sh_type == SHT_DYNSYM && s.sh_link < sections.size()) dynstr = &sections[s.sh_link];
  }
  for (std::size_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    if (!read_at(bytes, eh.e_phoff + i * eh.e_phentsize, ph)) continue;
    if (ph.p_type == PT_INTERP) f.has_interpreter = true;
    if (ph.p_type == PT_DYNAMIC) read_dynamic(bytes, ph, dynstr, f);
  }
  return f;
}

void extract_deb(const std::filesystem::path& deb, const std::filesystem::path& dir) {
  const auto r = run({"dpkg-deb", "-x", deb.string(), dir.string()});
  if (r.exit_code != 0) throw std::runtime_error("dpkg-deb -x: " + r.err);
}

}  // namespace cnm::test
