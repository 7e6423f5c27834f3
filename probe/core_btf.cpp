#include "probe/core_btf.h"

#include <fcntl.h>
#include <gelf.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/file_read.h"
#include "common/mapped_file.h"
#include "common/unique_fd.h"
#include "probe/btf_header.h"

namespace cnm::probe {
namespace {

// The kernel's BTF is ~5 MB on 6.18; a larger one is not cut (libbpf reads all of it itself).
constexpr std::size_t kMaxKernelBtf = 256u << 20;

std::uint32_t u32_at(std::string_view s, std::size_t off) {
  std::uint32_t v = 0;
  std::memcpy(&v, s.data() + off, sizeof v);
  return v;
}

// A raw BTF blob, indexed: where each type's record starts and how long it is.
class RawBtf {
 public:
  bool parse(std::string_view blob, std::string* why) {
    const auto sections = btf_sections(blob);
    if (!sections.problem.empty()) return fail(why, sections.problem);
    // What walking the records needs beyond the header: names that end, whole records.
    if (sections.strings.back() != '\0' || sections.types.size() % 4)
      return fail(why, "malformed BTF header");
    types_ = sections.types;
    strings_ = sections.strings;
    offs_.assign(1, 0);  // id 0 is void
    offs_.reserve(types_.size() / 16);
    for (std::size_t off = 0; off < types_.size();) {
      if (types_.size() - off < sizeof(btf_type)) return fail(why, "truncated type");
      const std::size_t len = record_len(off);
      if (len == 0 || types_.size() - off < len) return fail(why, "truncated or unknown type");
      offs_.push_back(static_cast<std::uint32_t>(off));
      off += len;
    }
    offs_.push_back(static_cast<std::uint32_t>(types_.size()));  // where the last one ends
    return true;
  }

  std::uint32_t count() const { return static_cast<std::uint32_t>(offs_.size() - 1); }
  std::string_view record(std::uint32_t id) const {
    return types_.substr(offs_[id], offs_[id + 1] - offs_[id]);
  }
  std::uint32_t info(std::uint32_t id) const { return u32_at(types_, offs_[id] + 4); }
  // "" for an anonymous type or an offset outside the string section.
  const char* name(std::uint32_t name_off) const {
    return name_off < strings_.size() ? strings_.data() + name_off : "";
  }
  const char* type_name(std::uint32_t id) const { return name(u32_at(types_, offs_[id])); }

  static int kind_of(std::uint32_t info) { return static_cast<int>((info >> 24) & 0x1f); }
  static std::uint32_t vlen_of(std::uint32_t info) { return info & 0xffff; }

 private:
  static bool fail(std::string* why, std::string_view what) {
    if (why) *why = what;
    return false;
  }
  // The record's length with what follows the common part; 0 for a kind this does not know.
  std::size_t record_len(std::size_t off) const {
    const std::uint32_t info = u32_at(types_, off + 4);
    const std::size_t vlen = vlen_of(info);
    std::size_t extra = 0;
    switch (kind_of(info)) {
      case BTF_KIND_INT:
      case BTF_KIND_VAR:
      case BTF_KIND_DECL_TAG:
        extra = 4;
        break;
      case BTF_KIND_PTR:
      case BTF_KIND_FWD:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_FUNC:
      case BTF_KIND_FLOAT:
      case BTF_KIND_TYPE_TAG:
        break;
      case BTF_KIND_ARRAY:
        extra = sizeof(btf_array);
        break;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
        extra = vlen * sizeof(btf_member);
        break;
      case BTF_KIND_ENUM:
        extra = vlen * sizeof(btf_enum);
        break;
      case BTF_KIND_ENUM64:
        extra = vlen * sizeof(btf_enum64);
        break;
      case BTF_KIND_FUNC_PROTO:
        extra = vlen * sizeof(btf_param);
        break;
      case BTF_KIND_DATASEC:
        extra = vlen * sizeof(btf_var_secinfo);
        break;
      default:
        return 0;
    }
    return sizeof(btf_type) + extra;
  }

  std::string_view types_, strings_;
  std::vector<std::uint32_t> offs_;  // by type id, then the end of the last
};

// Calls on_type(at) for each type id and on_name(at) for each string offset in a type's record
// (`at`: the byte offset in the record).
template <typename OnType, typename OnName>
void for_each_field(std::uint32_t info, OnType&& on_type, OnName&& on_name) {
  on_name(0);
  const std::size_t vlen = RawBtf::vlen_of(info);
  constexpr std::size_t base = sizeof(btf_type);
  switch (RawBtf::kind_of(info)) {
    case BTF_KIND_PTR:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
    case BTF_KIND_TYPE_TAG:
      on_type(offsetof(btf_type, type));
      break;
    case BTF_KIND_ARRAY:
      on_type(base + offsetof(btf_array, type));
      on_type(base + offsetof(btf_array, index_type));
      break;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      for (std::size_t i = 0; i < vlen; ++i) {
        on_name(base + i * sizeof(btf_member) + offsetof(btf_member, name_off));
        on_type(base + i * sizeof(btf_member) + offsetof(btf_member, type));
      }
      break;
    case BTF_KIND_ENUM:
      for (std::size_t i = 0; i < vlen; ++i) on_name(base + i * sizeof(btf_enum));
      break;
    case BTF_KIND_ENUM64:
      for (std::size_t i = 0; i < vlen; ++i) on_name(base + i * sizeof(btf_enum64));
      break;
    case BTF_KIND_FUNC_PROTO:
      on_type(offsetof(btf_type, type));  // the return type
      for (std::size_t i = 0; i < vlen; ++i) {
        on_name(base + i * sizeof(btf_param) + offsetof(btf_param, name_off));
        on_type(base + i * sizeof(btf_param) + offsetof(btf_param, type));
      }
      break;
    case BTF_KIND_DATASEC:
      for (std::size_t i = 0; i < vlen; ++i)
        on_type(base + i * sizeof(btf_var_secinfo) + offsetof(btf_var_secinfo, type));
      break;
    default:
      break;
  }
}

// The kind as libbpf's btf_kind_core_compat (btf.h) compares them: both enum kinds are one.
int kind_class(std::uint32_t info) {
  const int kind = RawBtf::kind_of(info);
  return kind == BTF_KIND_ENUM64 ? BTF_KIND_ENUM : kind;
}

// libbpf's bpf_core_essential_name_len (relo_core.c): the name before its last "X___Y" flavor
// separator, so that the candidates found here are exactly libbpf's.
std::size_t essential_len(const char* name) {
  const std::size_t n = std::strlen(name);
  for (std::ptrdiff_t i = static_cast<std::ptrdiff_t>(n) - 5; i >= 0; --i) {
    const char* s = name + i;
    if (s[0] != '_' && s[1] == '_' && s[2] == '_' && s[3] == '_' && s[4] != '_')
      return static_cast<std::size_t>(i) + 1;
  }
  return n;
}

std::nullopt_t none(std::string* why, std::string what) {
  if (why) *why = std::move(what);
  return std::nullopt;
}

// An ELF section's bytes, copied (BTF records are read as 4-byte words).
std::optional<std::string> section(Elf* elf, const char* wanted) {
  std::size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return std::nullopt;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) return std::nullopt;
    const char* name = elf_strptr(elf, shstrndx, sh.sh_name);
    if (!name || std::strcmp(name, wanted) != 0) continue;
    Elf_Data* d = elf_getdata(scn, nullptr);
    if (!d || !d->d_buf) return std::string();
    return std::string(static_cast<const char*>(d->d_buf), d->d_size);
  }
  return std::nullopt;
}

// The subset of a BTF file: mapped where its file system maps it (sysfs maps the kernel's since
// Linux 6.16), else read.
std::optional<std::string> subset_of_file(const char* path, const std::set<CoreRoot>& roots,
                                          std::string* why) {
  const UniqueFd fd(::open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) return none(why, std::string(path) + " cannot be opened: " + std::strerror(errno));
  if (const MappedFile mapped(fd.get(), kMaxKernelBtf); !mapped.bytes().empty())
    return btf_subset(mapped.bytes(), roots, why);
  const FileRead read = read_fd(fd.get(), ReadLimits{kMaxKernelBtf, OverLimit::Refuse});
  if (!read.ok()) return none(why, std::string(path) + " " + read.why(kMaxKernelBtf));
  return btf_subset(read.text, roots, why);
}

}  // namespace

std::optional<std::set<CoreRoot>> core_roots(std::span<const std::byte> bytes, std::string* why) {
  elf_version(EV_CURRENT);
  // elf_memory takes a mutable pointer; ELF_C_READ does not write through it.
  Elf* elf =
      elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), bytes.size());
  if (!elf || elf_kind(elf) != ELF_K_ELF) {
    if (elf) elf_end(elf);
    return none(why, "not an ELF object");
  }
  const auto btf = section(elf, ".BTF");
  const auto ext = section(elf, ".BTF.ext");
  elf_end(elf);
  std::set<CoreRoot> names;
  if (!ext) return names;  // no relocations at all
  if (!btf) return none(why, "CO-RE relocations without .BTF");
  RawBtf local;
  if (!local.parse(*btf, why)) return std::nullopt;
  // struct btf_ext_header (libbpf_internal.h): magic, version, flags, hdr_len, then the
  // offset/length pairs of func_info, line_info and (when hdr_len covers it) core_relo, from the
  // end of the header.
  if (ext->size() < 8 || (u32_at(*ext, 0) & 0xffff) != BTF_MAGIC)
    return none(why, "malformed .BTF.ext");
  const std::uint32_t hdr_len = u32_at(*ext, 4);
  if (hdr_len < 32 || ext->size() < hdr_len) return names;  // no core_relo part
  const std::uint64_t start = std::uint64_t{hdr_len} + u32_at(*ext, 24);
  const std::uint64_t len = u32_at(*ext, 28);
  if (len == 0) return names;
  if (len < 4 || start + len > ext->size()) return none(why, "malformed .BTF.ext");
  const std::string_view relos = std::string_view(*ext).substr(start, len);
  const std::uint32_t rec_size = u32_at(relos, 0);
  if (rec_size < sizeof(bpf_core_relo) || rec_size % 4)
    return none(why, "malformed CO-RE relocation records");
  for (std::size_t off = 4; off < relos.size();) {
    if (relos.size() - off < 8) return none(why, "truncated CO-RE relocations");
    const std::uint64_t n = u32_at(relos, off + 4);
    off += 8;
    if ((relos.size() - off) / rec_size < n) return none(why, "truncated CO-RE relocations");
    for (std::uint64_t i = 0; i < n; ++i, off += rec_size) {
      const auto type_id = u32_at(relos, off + offsetof(bpf_core_relo, type_id));
      const auto kind = u32_at(relos, off + offsetof(bpf_core_relo, kind));
      if (kind == BPF_CORE_TYPE_ID_LOCAL) continue;  // answered from the object's own BTF
      if (kind == BPF_CORE_TYPE_ID_TARGET)
        return none(why, "a relocation asks for a kernel type id");
      if (type_id == 0 || type_id >= local.count()) return none(why, "a relocation names no type");
      const char* name = local.type_name(type_id);
      if (!*name) return none(why, "a relocation starts from an anonymous type");
      names.insert({std::string(name, essential_len(name)), kind_class(local.info(type_id))});
    }
  }
  return names;
}

std::optional<std::string> btf_subset(std::string_view kernel_btf, const std::set<CoreRoot>& roots,
                                      std::string* why) {
  RawBtf k;
  if (!k.parse(kernel_btf, why)) return std::nullopt;
  const std::uint32_t n = k.count();
  std::vector<std::uint8_t> keep(n, 0);
  std::vector<std::uint32_t> todo;
  // Candidates: one pass; a type's name is looked at only when a root has its kind, and
  // compared only with the roots of its first two characters.
  std::uint32_t kinds = 0;
  std::unordered_map<std::uint16_t, std::vector<const CoreRoot*>> by_prefix;
  for (const auto& r : roots) {
    kinds |= 1U << r.kind;
    const std::uint16_t prefix =
        static_cast<std::uint16_t>(static_cast<unsigned char>(r.name[0]) << 8 |
                                   (r.name.size() > 1 ? static_cast<unsigned char>(r.name[1]) : 0));
    by_prefix[prefix].push_back(&r);
    if (r.name.size() == 1)  // "x" also matches its flavors "x___y"
      by_prefix[static_cast<std::uint16_t>(prefix | '_')].push_back(&r);
  }
  std::set<const CoreRoot*> found;
  for (std::uint32_t id = 1; id < n; ++id) {
    const int kind = kind_class(k.info(id));
    if (!(kinds >> kind & 1)) continue;
    const char* name = k.type_name(id);
    if (!*name) continue;
    const std::uint16_t prefix = static_cast<std::uint16_t>(
        static_cast<unsigned char>(name[0]) << 8 | static_cast<unsigned char>(name[1]));
    const auto it = by_prefix.find(prefix);
    if (it == by_prefix.end()) continue;
    for (const CoreRoot* r : it->second) {
      if (r->kind != kind || std::strncmp(name, r->name.c_str(), r->name.size()) != 0 ||
          essential_len(name) != r->name.size())
        continue;
      found.insert(r);
      if (!keep[id]) {
        keep[id] = 1;
        todo.push_back(id);
      }
    }
  }
  for (const auto& r : roots)
    if (!found.count(&r)) return none(why, "no kernel type named " + r.name);
  // Everything they reach.
  while (!todo.empty()) {
    const std::uint32_t id = todo.back();
    todo.pop_back();
    const auto rec = k.record(id);
    bool past_end = false;
    for_each_field(
        k.info(id),
        [&](std::size_t at) {
          const std::uint32_t ref = u32_at(rec, at);
          if (ref >= n) {
            past_end = true;
          } else if (ref != 0 && !keep[ref]) {
            keep[ref] = 1;
            todo.push_back(ref);
          }
        },
        [](std::size_t) {});
    if (past_end) return none(why, "a type refers past the last type");
  }
  // Renumbered in kernel order, their strings in a table of their own.
  std::vector<std::uint32_t> new_id(n, 0);
  std::uint32_t next = 1;
  for (std::uint32_t id = 1; id < n; ++id)
    if (keep[id]) new_id[id] = next++;
  std::string types, strings(1, '\0');
  // Keyed by the kernel's offset (its table holds each string once: pahole dedups them).
  std::unordered_map<std::uint32_t, std::uint32_t> string_off;
  string_off.reserve(4 * (next - 1));
  auto intern = [&](std::uint32_t off) -> std::uint32_t {
    const std::string_view s = k.name(off);
    if (s.empty()) return 0;
    auto [it, added] = string_off.try_emplace(off, static_cast<std::uint32_t>(strings.size()));
    if (added) strings.append(s).push_back('\0');
    return it->second;
  };
  for (std::uint32_t id = 1; id < n; ++id) {
    if (!keep[id]) continue;
    const auto rec = k.record(id);
    const std::size_t start = types.size();
    types.append(rec);
    char* out = types.data() + start;
    auto put = [&](std::size_t at, std::uint32_t v) { std::memcpy(out + at, &v, sizeof v); };
    for_each_field(
        k.info(id), [&](std::size_t at) { put(at, new_id[u32_at(rec, at)]); },
        [&](std::size_t at) { put(at, intern(u32_at(rec, at))); });
  }
  btf_header h{};
  h.magic = BTF_MAGIC;
  h.version = BTF_VERSION;
  h.hdr_len = sizeof h;
  h.type_off = 0;
  h.type_len = static_cast<std::uint32_t>(types.size());
  h.str_off = h.type_len;
  h.str_len = static_cast<std::uint32_t>(strings.size());
  std::string out(reinterpret_cast<const char*>(&h), sizeof h);
  return out + types + strings;
}

std::optional<CoreBtf> CoreBtf::for_object(std::span<const std::byte> elf, const char* kernel_btf) {
  std::string why;
  const auto names = core_roots(elf, &why);
  if (!names || names->empty()) {
    spdlog::debug("CO-RE relocates against the whole kernel BTF: {}",
                  names ? "the object has no CO-RE relocations" : why);
    return std::nullopt;
  }
  auto subset = subset_of_file(kernel_btf, *names, &why);
  if (!subset) {
    spdlog::debug("CO-RE relocates against the whole kernel BTF: {}", why);
    return std::nullopt;
  }
  auto held =
      BytesPath::hold(std::as_bytes(std::span(subset->data(), subset->size())), "cnm-core-btf");
  if (!held) {
    spdlog::debug("CO-RE relocates against the whole kernel BTF: no file to hand its subset over");
    return std::nullopt;
  }
  return CoreBtf(std::move(*held));
}

}  // namespace cnm::probe
