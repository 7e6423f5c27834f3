#include "checks/kernel_code.h"

#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <sys/auxv.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <vector>

namespace cnm {
namespace {

// KERNEL_VERSION(a, b, c) caps the sublevel at 255 (Linux 4.9.256 and later stable releases
// overflowed it: commit 9b82f13e7ef3, "kbuild: clamp SUBLEVEL to 255").
VersionCode from_release(const KernelRelease& k, std::string source) {
  return {k.major, k.minor, std::min<std::uint32_t>(k.patch, 255), std::move(source)};
}

// The vDSO image's extent: its section headers come last (the kernel links it as one file).
std::size_t vdso_size(const ElfW(Ehdr) * h) {
  return static_cast<std::size_t>(h->e_shoff) +
         static_cast<std::size_t>(h->e_shnum) * h->e_shentsize;
}

// The "Linux" note of type 0 in a PT_NOTE segment: a 4-byte LINUX_VERSION_CODE
// (arch/x86/entry/vdso/vdso-note.S, include/linux/elfnote.h).
std::optional<std::uint32_t> version_note(Elf* e, const GElf_Phdr& ph) {
  Elf_Data* d = elf_getdata_rawchunk(e, static_cast<int64_t>(ph.p_offset), ph.p_filesz, ELF_T_NHDR);
  if (!d) return std::nullopt;
  GElf_Nhdr nh;
  std::size_t off = 0, name_off = 0, desc_off = 0;
  while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
    const auto* buf = static_cast<const char*>(d->d_buf);
    if (nh.n_type == 0 && nh.n_namesz == 6 && std::memcmp(buf + name_off, "Linux", 6) == 0 &&
        nh.n_descsz == 4) {
      std::uint32_t code = 0;
      std::memcpy(&code, buf + desc_off, 4);
      return code;
    }
  }
  return std::nullopt;
}

// "Linux version 6.1.0-13-amd64 (...) #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)":
// the upstream version Debian's package carries, where the file describes `release`.
std::optional<KernelRelease> debian_upstream(const HostFacts& f, const std::string& release) {
  const auto v = f.fs.read("/proc/version", 4096);
  if (!v || v->truncated) return std::nullopt;
  std::istringstream in(v->text);
  std::string linux_word, version_word, judged, word;
  in >> linux_word >> version_word >> judged;
  if (linux_word != "Linux" || version_word != "version" || judged != release) return std::nullopt;
  while (in >> word)
    if (word == "Debian" && in >> word) return KernelRelease::parse(word);
  return std::nullopt;
}

}  // namespace

std::string VersionCode::text() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::optional<std::uint32_t> vdso_version_code() {
  const auto base = getauxval(AT_SYSINFO_EHDR);
  if (base == 0) return std::nullopt;
  const auto* header = reinterpret_cast<const ElfW(Ehdr)*>(base);
  if (std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0) return std::nullopt;
  // A copy: libelf reads an image in place and may write to it; the vDSO is read-only.
  std::vector<char> image(reinterpret_cast<const char*>(base),
                          reinterpret_cast<const char*>(base) + vdso_size(header));
  elf_version(EV_CURRENT);
  Elf* e = elf_memory(image.data(), image.size());
  if (!e) return std::nullopt;
  std::optional<std::uint32_t> code;
  std::size_t n = 0;
  if (elf_getphdrnum(e, &n) == 0)
    for (std::size_t i = 0; i < n && !code; ++i) {
      GElf_Phdr ph;
      if (gelf_getphdr(e, static_cast<int>(i), &ph) && ph.p_type == PT_NOTE)
        code = version_note(e, ph);
    }
  elf_end(e);
  return code;
}

std::optional<KernelRelease> ubuntu_upstream(const HostFacts& f) {
  const auto& k = *f.kernel;
  if (const auto sig = f.fs.read("/proc/version_signature", 256); sig && !sig->truncated) {
    std::istringstream in(sig->text);
    std::string distro, abi, upstream;
    in >> distro >> abi >> upstream;
    // "4.4.0-119.143-generic" describes "4.4.0-119-generic": the upload number (.143) aside.
    const auto dot = abi.find('.', abi.find('-'));
    const auto flavour = abi.find('-', dot == std::string::npos ? abi.size() : dot);
    if (distro == "Ubuntu" && dot != std::string::npos && abi.find('-') != std::string::npos &&
        abi.substr(0, dot) + (flavour == std::string::npos ? "" : abi.substr(flavour)) == k.raw)
      return KernelRelease::parse(upstream);
  }
  if (f.distro.id == "ubuntu" && k.patch != 0) return k;
  return std::nullopt;
}

std::optional<VersionCode> linux_version_code(const HostFacts& f) {
  if (!f.kernel) return std::nullopt;
  if (f.fs.is_live() && f.kernel_source == "uname")
    if (const auto code = vdso_version_code())
      return VersionCode{*code >> 16, (*code >> 8) & 0xff, *code & 0xff,
                         "the vDSO's LINUX_VERSION_CODE"};
  if (const auto up = ubuntu_upstream(f)) return from_release(*up, "/proc/version_signature");
  if (f.distro.id == "ubuntu") return std::nullopt;  // an x.y.0 ABI release says nothing more
  if (const auto up = debian_upstream(f, f.kernel->raw)) return from_release(*up, "/proc/version");
  return from_release(*f.kernel, "the release " + f.kernel->raw);
}

std::optional<VersionCode> parse_version_entry(const std::string& entry) {
  std::istringstream in(entry);
  long n[3] = {0, 0, 0};
  char dot1 = 0, dot2 = 0;
  // Go's Sscanf("%d.%d.%d"), like >>, skips blanks before each number, and no other character.
  if (!(in >> n[0]) || !in.get(dot1) || dot1 != '.' || !(in >> n[1]) || !in.get(dot2) ||
      dot2 != '.' || !(in >> n[2]))
    return std::nullopt;
  for (const long x : n)
    if (x < 0 || x > 255) return std::nullopt;
  return VersionCode{static_cast<std::uint32_t>(n[0]), static_cast<std::uint32_t>(n[1]),
                     static_cast<std::uint32_t>(n[2]), "the entry " + entry};
}

}  // namespace cnm
