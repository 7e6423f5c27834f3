#include "checks/kernel_code.h"

#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <sys/auxv.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace cnm {
namespace {

// The version code of a release's numbers. KERNEL_VERSION(a, b, c) caps the sublevel at 255
// (commit 9b82f13e7ef3, "kbuild: clamp SUBLEVEL to 255", Linux 5.11, backported to the stable
// series that needed it), and two stable series clamp early, as the Agent's ParseReleaseString
// knows: 4.14 from .252 (commit e131e0e880f9) and 4.19 from .222 (commit a256aac5b700).
VersionCode from_release(const KernelRelease& k, std::string source) {
  std::uint32_t patch = std::min<std::uint32_t>(k.patch, 255);
  if (k.major == 4 && ((k.minor == 14 && patch >= 252) || (k.minor == 19 && patch >= 222)))
    patch = 255;
  return {k.major, k.minor, patch, std::move(source)};
}

// The extent of the vDSO mapping that starts at `base`, from /proc/self/maps ("[vdso]"): the
// image is read only within it, whatever its own headers say.
std::size_t vdso_mapping_size(unsigned long base) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (!line.ends_with("[vdso]")) continue;
    unsigned long start = 0, end = 0;
    char dash = 0;
    std::istringstream in(line);
    if (in >> std::hex >> start >> dash >> end && dash == '-' && start == base && end > start)
      return end - start;
  }
  return 0;
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
  const std::size_t size = base == 0 ? 0 : vdso_mapping_size(base);
  if (size < sizeof(ElfW(Ehdr))) return std::nullopt;
  const auto* header = reinterpret_cast<const ElfW(Ehdr)*>(base);
  if (std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 ||
      header->e_ident[EI_CLASS] != (sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32))
    return std::nullopt;
  // A copy: libelf reads an image in place and may write to it; the vDSO is read-only.
  std::vector<char> image(reinterpret_cast<const char*>(base),
                          reinterpret_cast<const char*>(base) + size);
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
  // The running kernel: the vDSO, where the Agent reads it (and, not finding it, refuses its
  // network tracer whatever its list says).
  if (f.fs.is_live() && f.kernel_source == "uname") {
    const auto code = vdso_version_code();
    if (!code) return std::nullopt;
    return VersionCode{*code >> 16, (*code >> 8) & 0xff, *code & 0xff,
                       "the vDSO's LINUX_VERSION_CODE"};
  }
  if (const auto up = ubuntu_upstream(f)) return from_release(*up, "/proc/version_signature");
  if (f.distro.id == "ubuntu") return std::nullopt;  // an x.y.0 ABI release says nothing more
  if (const auto up = debian_upstream(f, f.kernel->raw)) return from_release(*up, "/proc/version");
  return from_release(*f.kernel, "the release " + f.kernel->raw);
}

namespace {

// The length of the blank Go's fmt scanner skips at text[pos] (its isSpace table: ASCII
// \t-\r and space, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and
// U+3000, in UTF-8), or 0. A newline is no blank to Sscanf, nor a \r before one.
std::size_t go_blank_at(const std::string& text, std::size_t pos) {
  const auto byte = [&](std::size_t i) {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 0u;
  };
  const unsigned c = byte(pos);
  if (c == '\n' || (c == '\r' && byte(pos + 1) == '\n')) return 0;
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  if (c == 0xC2 && (byte(pos + 1) == 0x85 || byte(pos + 1) == 0xA0)) return 2;
  const unsigned b1 = byte(pos + 1), b2 = byte(pos + 2);
  if (c == 0xE1 && b1 == 0x9A && b2 == 0x80) return 3;  // U+1680
  if (c == 0xE2 && b1 == 0x80 &&
      ((b2 >= 0x80 && b2 <= 0x8A) || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF))
    return 3;                                           // U+2000-200A, U+2028/9, U+202F
  if (c == 0xE2 && b1 == 0x81 && b2 == 0x9F) return 3;  // U+205F
  if (c == 0xE3 && b1 == 0x80 && b2 == 0x80) return 3;  // U+3000
  return 0;
}

// Go's fmt scanner over an entry, as Sscanf(entry, "%d.%d.%d", &a, &b, &c) runs it into bytes.
class GoScan {
 public:
  explicit GoScan(const std::string& text) : text_(text) {}

  // A %d into a byte: blanks skipped (a newline is an error in Sscanf), then decimal digits
  // (no sign: the target is unsigned), up to 255; false at the first error, the byte untouched.
  bool number(std::uint32_t& out) {
    while (const std::size_t n = go_blank_at(text_, pos_)) pos_ += n;
    const auto start = pos_;
    std::uint64_t v = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      v = v * 10 + static_cast<std::uint64_t>(text_[pos_++] - '0');
      if (v > 255) return false;  // "unsigned integer overflow"
    }
    if (pos_ == start) return false;  // "expected integer"
    out = static_cast<std::uint32_t>(v);
    return true;
  }
  // A literal of the format: the next character, no blank skipped before it.
  bool literal(char c) { return pos_ < text_.size() && text_[pos_++] == c; }

 private:
  const std::string& text_;
  std::size_t pos_ = 0;
};

}  // namespace

VersionCode parse_version_entry(const std::string& entry) {
  VersionCode v;
  v.source = "the entry " + entry;
  GoScan scan(entry);
  // ParseVersion ignores Sscanf's error: what was read before it stays, the rest is 0.
  (void)(scan.number(v.major) && scan.literal('.') && scan.number(v.minor) && scan.literal('.') &&
         scan.number(v.patch));
  return v;
}

}  // namespace cnm
