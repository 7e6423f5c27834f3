#include "probe/ladder_load.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "probe/embedded_files.h"

extern "C" {
#include "probe/bpf/tcp_tracer.h"
}

namespace cnm::probe {
namespace {

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

// The object's name for libbpf (its internal maps are named after it: "tcp_trac.rodata").
std::string stem(std::string_view file) { return std::string(file.substr(0, file.find('.'))); }

// The object's bytes: embedded, or read from --bpf-objects DIR into `owned`.
std::span<const std::byte> object_bytes(std::string_view file, const LoadSettings& s,
                                        std::string& owned) {
  if (s.object_dir) {
    const auto path = *s.object_dir / file;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in) throw std::runtime_error("cannot read " + path.string());
    owned = ss.str();
    return std::as_bytes(std::span(owned.data(), owned.size()));
  }
  if (const auto bytes = embedded_object(file)) return *bytes;
  throw std::runtime_error(std::string(file) + " is not embedded in this binary");
}

bpf_object* open_object(std::string_view file, const LoadSettings& s,
                        std::optional<CoreBtf>& core_btf) {
  std::string owned;
  const auto bytes = object_bytes(file, s, owned);
  bpf_object_open_opts opts{};
  opts.sz = sizeof opts;
  const std::string name = stem(file);
  opts.object_name = name.c_str();
  if (!s.btf_path.empty()) {
    opts.btf_custom_path = s.btf_path.c_str();
  } else if (s.kernel_btf_subset) {
    // The kernel's own BTF: what CO-RE can see of it (core_btf.h), the same relocations faster.
    core_btf = CoreBtf::for_object(bytes);
    if (core_btf) opts.btf_custom_path = core_btf->path().c_str();
  }
  bpf_object* obj = bpf_object__open_mem(bytes.data(), bytes.size(), &opts);
  if (const long err = libbpf_get_error(obj))
    throw std::runtime_error("cannot open " + std::string(file) + ": " +
                             errno_text(static_cast<int>(err)));
  return obj;
}

// Writes a read-only global of the object (its .rodata) before load, found by name in the
// object's BTF. False when the object has no such variable.
bool set_global(bpf_object* obj, const char* var, const void* value, std::size_t size) {
  const btf* b = bpf_object__btf(obj);
  bpf_map* rodata = nullptr;
  bpf_map* m = nullptr;
  bpf_object__for_each_map(m, obj) {
    const std::string_view n = bpf_map__name(m);
    if (n.size() > 7 && n.ends_with(".rodata")) rodata = m;
  }
  if (!b || !rodata) return false;
  const int sec = btf__find_by_name_kind(b, ".rodata", BTF_KIND_DATASEC);
  if (sec <= 0) return false;
  const btf_type* t = btf__type_by_id(b, static_cast<__u32>(sec));
  const btf_var_secinfo* v = btf_var_secinfos(t);
  for (unsigned i = 0; i < btf_vlen(t); ++i, ++v) {
    const btf_type* vt = btf__type_by_id(b, v->type);
    if (std::strcmp(btf__name_by_offset(b, vt->name_off), var) != 0) continue;
    std::size_t len = 0;
    const auto* now = static_cast<const char*>(bpf_map__initial_value(rodata, &len));
    if (!now || v->size != size || v->offset + size > len) return false;
    std::string data(now, len);
    std::memcpy(data.data() + v->offset, value, size);
    return bpf_map__set_initial_value(rodata, data.data(), len) == 0;
  }
  return false;
}

template <typename T>
void set_global_or_throw(bpf_object* obj, const char* var, T value) {
  if (!set_global(obj, var, &value, sizeof value))
    throw std::runtime_error(std::string("the BPF object has no setting ") + var);
}

}  // namespace

LoadSettings verification_settings(const std::string& btf_path,
                                   const std::optional<std::filesystem::path>& object_dir) {
  LoadSettings s;
  s.max_tracked = 32;  // the smallest sizes the daemon would use: same instructions, no memory
  s.slots = 16;
  s.closed_ring_bytes = 4096;
  s.btf_path = btf_path;
  s.object_dir = object_dir;
  return s;
}

PreparedObject::PreparedObject(const Attempt& a, const LoadSettings& s,
                               const std::vector<const Program*>* only)
    : obj_(open_object(a.rung->object, s, core_btf_)), disable_ipv6_(s.disable_ipv6) {
  try {
    const auto wanted = only ? *only : a.programs();
    for (const Program* p : wanted)
      if (!program(*p))
        throw std::runtime_error(std::string(a.rung->object) + " has no program " +
                                 std::string(p->name));
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, obj_) {
      const std::string_view name = bpf_program__name(prog);
      const bool load = std::any_of(wanted.begin(), wanted.end(),
                                    [&](const Program* p) { return p->name == name; });
      bpf_program__set_autoload(prog, load);
    }
    const bool slots = a.build == Build::kSlots;
    const std::uint32_t slot_count = slots ? s.slots : 0;
    // Slots and map hold max_tracked_connections together (an array needs one entry).
    if (bpf_map* m = map("slots"); m && bpf_map__set_max_entries(m, slot_count ? slot_count : 1))
      throw std::runtime_error("cannot size the connection slots");
    if (bpf_map* m = map("conns"); m && bpf_map__set_max_entries(m, s.max_tracked - slot_count))
      throw std::runtime_error("cannot size the connection map");
    if (bpf_map* m = map("closed"); m && bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF &&
                                    bpf_map__set_max_entries(m, s.closed_ring_bytes))
      throw std::runtime_error("cannot size the ring buffer");
    if (a.rung->channel == Channel::kRingBuffer) {  // the object with global settings
      set_global_or_throw<bool>(obj_, "disable_ipv6", s.disable_ipv6);
      set_global_or_throw<bool>(obj_, "app_bytes_hooks", a.has(Role::kSendBytes));
      set_global_or_throw<__u32>(obj_, "slot_bits",
                                 slot_count ? static_cast<__u32>(__builtin_ctz(slot_count)) : 0);
    }
  } catch (...) {
    bpf_object__close(obj_);
    throw;
  }
}

PreparedObject::~PreparedObject() { bpf_object__close(obj_); }

bpf_program* PreparedObject::program(const Program& p) const {
  return bpf_object__find_program_by_name(obj_, std::string(p.name).c_str());
}

bpf_map* PreparedObject::map(const char* name) const {
  return bpf_object__find_map_by_name(obj_, name);
}

int PreparedObject::load() {
  if (const int err = bpf_object__load(obj_)) return err;
  if (bpf_map* m = map("settings")) {
    const __u32 zero = 0;
    const cnm_settings settings{disable_ipv6_ ? 1U : 0U};
    if (bpf_map_update_elem(bpf_map__fd(m), &zero, &settings, BPF_ANY) != 0) return -errno;
  }
  return 0;
}

std::string verifier_reason(const char* log) {
  std::string_view s(log);
  while (!s.empty()) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
    const auto nl = s.rfind('\n');
    const auto line = nl == std::string_view::npos ? s : s.substr(nl + 1);
    if (!line.empty() && !line.starts_with("processed ") &&
        !line.starts_with("verification time") && !line.starts_with("stack depth") &&
        !line.starts_with("-- END PROG LOAD LOG"))
      return std::string(line);
    s = nl == std::string_view::npos ? std::string_view() : s.substr(0, nl);
  }
  return {};
}

namespace {

// Loads the given programs of a prepared object alone, each in a fresh copy, with its log.
template <typename Prepare>
ProgramVerdict load_alone(const std::string& object, const std::string& program,
                          Prepare&& prepare) {
  ProgramVerdict v{object, program, false, {}};
  static thread_local char log[16384];
  log[0] = '\0';
  try {
    auto [owner, obj, prog] = prepare();
    if (!prog) {
      v.error = "no such program";
      return v;
    }
    bpf_program__set_log_buf(prog, log, sizeof log);
    const int err = owner ? owner->load() : bpf_object__load(obj);
    v.loaded = err == 0;
    if (!v.loaded) {
      v.error = errno_text(err);
      spdlog::debug("verifier log for {}:{}:\n{}", object, program, log);
      if (const auto why = verifier_reason(log); !why.empty()) v.error += ": " + why;
    }
  } catch (const std::exception& e) {
    v.error = e.what();
  }
  return v;
}

}  // namespace

namespace {

// libbpf reads and parses the whole kernel BTF to load these (their attach targets are kernel
// BTF ids: bpf_object__load_vmlinux_btf, prog_needs_vmlinux_btf), the others not.
bool needs_kernel_btf(bpf_prog_type t) {
  return t == BPF_PROG_TYPE_TRACING || t == BPF_PROG_TYPE_LSM || t == BPF_PROG_TYPE_EXT ||
         t == BPF_PROG_TYPE_STRUCT_OPS;
}

// Loads some of the attempt's programs (as the attempt sets them up); 0 or a negative errno.
int load_part(const Attempt& a, const LoadSettings& s, const std::vector<const Program*>& part) {
  PreparedObject o(a, s, &part);
  return o.load();
}

}  // namespace

std::vector<ProgramVerdict> verify_attempt(const Attempt& a, const LoadSettings& s) {
  std::vector<ProgramVerdict> out;
  const std::string object(a.rung->object);
  const auto programs = a.programs();
  try {
    // The relocation BTF, worked out once for both parts (as PreparedObject would for each).
    LoadSettings shared = s;
    std::optional<CoreBtf> core_btf;
    if (s.btf_path.empty() && s.kernel_btf_subset) {
      std::string owned;
      core_btf = CoreBtf::for_object(object_bytes(object, s, owned));
      if (core_btf) shared.btf_path = core_btf->path();
    }
    std::vector<const Program*> with_btf, without;
    for (const Program* p : programs) (needs_kernel_btf(p->type) ? with_btf : without).push_back(p);
    int err = 0;
    if (with_btf.empty() || without.empty()) {
      err = load_part(a, shared, programs);
    } else {
      // The part without the kernel BTF is the smaller: in a thread, beside the other.
      int other_err = 0;
      std::exception_ptr other_failed;
      std::thread other([&] {
        try {
          other_err = load_part(a, shared, without);
        } catch (...) {
          other_failed = std::current_exception();
        }
      });
      try {
        err = load_part(a, shared, with_btf);
      } catch (...) {
        other.join();
        throw;
      }
      other.join();
      if (other_failed) std::rethrow_exception(other_failed);
      if (err == 0) err = other_err;
    }
    if (err == 0) {
      for (const Program* p : programs) out.push_back({object, std::string(p->name), true, {}});
      return out;
    }
  } catch (const std::exception& e) {
    out.push_back({object, "", false, e.what()});
    return out;
  }
  // Which ones: each program alone, with the verifier's log.
  for (const Program* p : programs) {
    const std::vector<const Program*> one{p};
    std::unique_ptr<PreparedObject> keep;
    out.push_back(load_alone(object, std::string(p->name), [&] {
      keep = std::make_unique<PreparedObject>(a, s, &one);
      return std::tuple{keep.get(), keep->object(), keep->program(*p)};
    }));
  }
  return out;
}

std::vector<ProgramVerdict> verify_object_file(const std::string& name,
                                               std::span<const std::byte> bytes) {
  std::vector<ProgramVerdict> out;
  struct Closer {
    void operator()(bpf_object* o) const { bpf_object__close(o); }
  };
  using ObjectPtr = std::unique_ptr<bpf_object, Closer>;
  auto open = [&]() -> ObjectPtr {
    bpf_object_open_opts opts{};
    opts.sz = sizeof opts;
    const std::string obj_name = stem(name);
    opts.object_name = obj_name.c_str();
    bpf_object* o = bpf_object__open_mem(bytes.data(), bytes.size(), &opts);
    if (libbpf_get_error(o)) return nullptr;
    return ObjectPtr(o);
  };
  auto all = open();
  if (!all) return {{name, "", false, "cannot open the object"}};
  std::vector<std::string> names;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, all.get()) names.emplace_back(bpf_program__name(prog));
  if (bpf_object__load(all.get()) == 0) {
    for (const auto& n : names) out.push_back({name, n, true, {}});
    return out;
  }
  all.reset();
  for (const auto& n : names) {
    ObjectPtr keep;
    out.push_back(load_alone(name, n, [&] {
      keep = open();
      bpf_program* mine = nullptr;
      if (keep) {
        bpf_program* p = nullptr;
        bpf_object__for_each_program(p, keep.get()) {
          const bool is = n == bpf_program__name(p);
          bpf_program__set_autoload(p, is);
          if (is) mine = p;
        }
      }
      return std::tuple{static_cast<PreparedObject*>(nullptr), keep.get(), mine};
    }));
  }
  return out;
}

}  // namespace cnm::probe
