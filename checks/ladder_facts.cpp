#include "checks/ladder_facts.h"

#include <linux/capability.h>
#include <nettle/sha2.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <span>
#include <utility>

#include "checks/bpf_probe.h"
#include "checks/huge_heap.h"
#include "checks/kernel_memory.h"
#include "checks/tracepoints.h"
#include "common/file_read.h"
#include "probe/btf_source.h"
#include "probe/embedded_files.h"

namespace cnm {
namespace {

using probe::Answer;
using probe::Need;
using probe::NeedKind;

Answer yes_no(bool b) { return b ? Answer::kYes : Answer::kNo; }

// The kernel's answers as the preflight gets them: what files say through the host's files (so
// --root works), what needs bpf() from the memory of this kernel or, failing that, the kernel.
class PreflightKernel : public probe::KernelAnswers {
 public:
  // kernel_btf: the kernel's own BTF file is there; btf_found: any BTF is (probe/btf_source.h).
  PreflightKernel(const HostFs& fs, bool kernel_btf, bool btf_found, KernelMemory* memory)
      : fs_(fs),
        tracepoints_(fs),
        kernel_btf_(kernel_btf),
        btf_found_(btf_found),
        memory_(memory) {}

  Answer answer(const Need& n) override {
    const std::string key = probe::need_key(n);
    if (auto it = asked.find(key); it != asked.end()) return it->second;
    return asked[key] = ask(n, key);
  }

  std::string kernel_function(std::string_view alternatives) override {
    return live_ ? live_->kernel_function(alternatives) : "";
  }

  void go_live() { live_ = std::make_unique<probe::LiveKernel>(btf_found_); }
  std::map<std::string, Answer> asked;

 private:
  Answer ask(const Need& n, const std::string& key) {
    switch (n.kind) {
      case NeedKind::kTracepoint: {
        const auto slash = n.name.find('/');
        const auto has = tracepoints_.has(n.name.substr(0, slash), n.name.substr(slash + 1));
        return has ? yes_no(*has) : Answer::kUnknown;
      }
      case NeedKind::kKprobes:
        if (!fs_.describes("/sys/bus") && !fs_.describes("/sys/kernel")) return Answer::kUnknown;
        return yes_no(fs_.exists("/sys/bus/event_source/devices/kprobe/type") ||
                      fs_.exists("/sys/kernel/tracing/kprobe_events") ||
                      fs_.exists("/sys/kernel/debug/tracing/kprobe_events"));
      case NeedKind::kKernelBtf:
        if (!fs_.describes("/sys/kernel")) return Answer::kUnknown;
        return yes_no(kernel_btf_);
      case NeedKind::kCoreBtf:
        return yes_no(btf_found_);
      default:
        break;
    }
    if (!live_) return Answer::kUnknown;
    if (memory_ && KernelMemory::keeps(n))
      if (const auto a = memory_->answer(key)) return *a;
    const Answer a = live_->answer(n);
    if (memory_ && KernelMemory::keeps(n)) memory_->remember(key, a);
    return a;
  }

  const HostFs& fs_;
  TracepointIndex tracepoints_;
  bool kernel_btf_;
  bool btf_found_;
  KernelMemory* memory_;
  std::unique_ptr<probe::LiveKernel> live_;
};

std::string sha256_hex(std::string_view bytes) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, bytes.size(), reinterpret_cast<const std::uint8_t*>(bytes.data()));
  std::uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof digest, digest);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const auto b : digest) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// An object of --bpf-objects DIR, read with the bounded, non-blocking reader (a FIFO there
// must not hang the preflight); nullopt when it is not a readable regular file.
constexpr std::size_t kMaxObjectBytes = 64u << 20;
std::optional<std::string> read_object(const std::filesystem::path& dir, std::string_view file) {
  FileRead r = read_file(dir / file, ReadLimits{kMaxObjectBytes, OverLimit::Refuse, true});
  if (!r.ok()) return std::nullopt;
  return std::move(r.text);
}

// An object as the preflight uses it: its identity for the memory and, outside the ladder, its
// bytes to verify. From --bpf-objects DIR the file is read once for both; embedded ones were
// hashed when embedded.
struct ObjectFile {
  std::string file;
  bool from_dir = false;
  std::optional<std::string> read;  // from DIR; nullopt when not a readable regular file there
  std::string hash;
};

ObjectFile load_object(const std::optional<std::filesystem::path>& dir, std::string_view file) {
  ObjectFile o{std::string(file), dir.has_value(), std::nullopt, ""};
  if (!dir) {
    o.hash = probe::embedded_object_sha256(file);
    return o;
  }
  o.read = read_object(*dir, file);
  o.hash = o.read ? sha256_hex(*o.read) : "absent";
  return o;
}

// What the verdicts were relocated with, for the memory's key. A file the operator can replace
// (configured, in the BTF folder, in its archive) keeps its description across an update, so its
// bytes' SHA-256 is added; the kernel's own is covered by the kernel's identity and the
// embedded files by cnmctl's version (kernel_memory.h).
std::string btf_identity(const probe::BtfSource& btf) {
  using Kind = probe::BtfSource::Kind;
  const auto k = btf.kind();
  if (k != Kind::kConfigured && k != Kind::kFolder && k != Kind::kArchive) return btf.description();
  const FileRead r =
      read_file(btf.libbpf_path(), ReadLimits{kMaxObjectBytes, OverLimit::Refuse, true});
  return btf.description() + " sha256:" + (r.ok() ? sha256_hex(r.text) : "unreadable");
}

// The verifier's word on an object outside the ladder, from DIR or the embedded copy.
std::vector<probe::ProgramVerdict> verify_object(const ObjectFile& o) {
  std::optional<std::span<const std::byte>> bytes;
  if (!o.from_dir)
    bytes = probe::embedded_object(o.file);
  else if (o.read)
    bytes = std::as_bytes(std::span(o.read->data(), o.read->size()));
  return bytes ? probe::verify_object_file(o.file, *bytes)
               : std::vector<probe::ProgramVerdict>{{o.file, "", false, "not found"}};
}

bool privileged() { return has_capability(CAP_SYS_ADMIN) || has_capability(CAP_BPF); }

LadderFacts work_out(const HostFacts& f) {
  LadderFacts lf;
  const auto& o = f.options;
  lf.objects = o.bpf_object_dir ? o.bpf_object_dir->string() : "embedded in cnmctl";
  // A path inside the host's root: under --root the root's own folder (--bpf-objects names a
  // folder on this machine, for the live dry run only), looked up through the root's jail.
  const std::filesystem::path btf_dir =
      o.bpf_object_dir && f.fs.is_live() ? *o.bpf_object_dir / "btf"
                                         : std::filesystem::path(f.layout.bpf_object_dir) / "btf";
  // The kernel's release names its BTF file (on the live host --kernel-release can only be the
  // running kernel's: checks/preflight_cli.cpp). Nothing configured: the kernel's own file is
  // looked at first, so kKernel says whether it is there.
  // --btf-archive is set for cnm-probe only (checks/preflight_cli.cpp).
  const auto btf = probe::BtfSource::find("", btf_dir, f.kernel_release, &f.fs.dir(),
                                          probe::BtfSource::kSysfsBtf,
                                          o.btf_archive ? o.btf_archive->string() : std::string());
  lf.btf = btf.description();
  lf.no_btf = btf.kind() == probe::BtfSource::Kind::kNone;
  lf.agents_own_btf = lf.no_btf && f.layout.mode == ProbeMode::Agent;

  std::unique_ptr<KernelMemory> memory;
  if (!f.fs.is_live())
    lf.not_live = "checked on the live host only (not under --root)";
  else if (!bpf_access().usable)
    lf.not_live = "bpf() is not usable here, see ebpf.syscall";
  else if (!privileged())
    lf.not_live = "this preflight runs without CAP_BPF/CAP_SYS_ADMIN: run it as root";
  else
    lf.live = true;
  if (lf.live)
    memory =
        std::make_unique<KernelMemory>(f.layout.at(f.layout.cache_dir) / "preflight-kernel.json",
                                       kernel_identity(f.fs), o.no_cache);
  PreflightKernel kernel(f.fs, btf.kind() == probe::BtfSource::Kind::kKernel,
                         !lf.no_btf || lf.agents_own_btf, memory.get());
  if (lf.live) kernel.go_live();
  lf.choice = probe::choose(kernel, {});
  // What files tell is cheap: asked for every rung, opt-in jobs too, for the checks to report.
  for (const auto& r : probe::ladder())
    for (const auto& n : probe::rung_needs(r, probe::Build::kNoSlots))
      if (n.need.kind == NeedKind::kTracepoint || n.need.kind == NeedKind::kKprobes ||
          n.need.kind == NeedKind::kKernelBtf || n.need.kind == NeedKind::kCoreBtf)
        kernel.answer(n.need);
  lf.answers = kernel.asked;
  // The Agent's probe on a kernel without BTF loads its own objects: cnmkit's CO-RE objects
  // cannot be relocated here, so there is no dry run to make (the kernel's answers stand).
  if (!lf.live || lf.agents_own_btf) return lf;

  // Objects outside the ladder: DNS monitoring's (network_config.dns_monitoring), its cgroup
  // programs and the packet socket's filter, verified in a thread of their own beside the
  // ladder's dry run (separate objects: nothing shared).
  struct Other {
    ObjectFile object;
    std::string key;
    std::optional<std::vector<probe::ProgramVerdict>> verdicts;  // remembered, or verified
    bool verified = false;
  };
  std::vector<Other> others;
  for (const char* file : {"dns_tap.bpf.o", "dns_filter.bpf.o"}) {
    ObjectFile object = load_object(o.bpf_object_dir, file);
    const std::string key = object.hash + "|" + file;
    others.push_back({std::move(object), key, memory->verdicts(key), false});
  }
  auto other_verdicts = std::async(std::launch::async, [&others] {
    for (auto& x : others)
      if (!x.verdicts) {
        x.verdicts = verify_object(x.object);
        x.verified = true;
      }
  });
  // The dry run, in the daemon's order, until the verifier takes one. What the memory lacks is
  // loaded, with libbpf's copies of the kernel BTF on huge pages.
  bool heap_ready = false;
  const auto settings = probe::verification_settings(btf.libbpf_path(), o.bpf_object_dir);
  std::map<std::string_view, std::string> hashes;  // by object: attempts share rungs' objects
  const std::string btf_used = btf_identity(btf);
  for (const auto& a : lf.choice.attempts) {
    auto [hash, fresh] = hashes.try_emplace(a.rung->object);
    if (fresh) hash->second = load_object(o.bpf_object_dir, a.rung->object).hash;
    const std::string key = hash->second + "|" + btf_used + "|" + a.describe();
    AttemptRun run{a, {}, false};
    if (auto v = memory->verdicts(key)) {
      run.verdicts = *v;
    } else {
      if (!std::exchange(heap_ready, true)) use_huge_pages_for_big_allocations();
      run.verdicts = probe::verify_attempt(a, settings);
      memory->remember(key, run.verdicts);
    }
    run.passed = !run.verdicts.empty();
    for (const auto& v : run.verdicts) run.passed = run.passed && v.loaded;
    lf.tried.push_back(std::move(run));
    if (lf.tried.back().passed) break;
  }
  other_verdicts.get();
  for (const auto& x : others) {
    if (x.verified) memory->remember(x.key, *x.verdicts);
    lf.other.insert(lf.other.end(), x.verdicts->begin(), x.verdicts->end());
  }
  lf.remembered = memory->recalled();
  memory->save();
  return lf;
}

}  // namespace

const AttemptRun* LadderFacts::taken() const {
  for (const auto& r : tried)
    if (r.passed) return &r;
  return nullptr;
}

const probe::RungAssessment* LadderFacts::assessment(const probe::Rung& r) const {
  for (const auto& a : choice.rungs)
    if (a.rung == &r) return &a;
  return nullptr;
}

const LadderFacts& ladder_facts(const HostFacts& f) {
  if (!f.ladder) {
    const auto start = std::chrono::steady_clock::now();
    f.ladder = std::make_shared<const LadderFacts>(work_out(f));
    spdlog::debug("the probe's ladder worked out in {} us ({})",
                  std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count(),
                  f.ladder->remembered ? "remembered" : "asked the kernel");
  }
  return *f.ladder;
}

}  // namespace cnm

namespace cnm {

std::vector<NeedRow> need_rows(const LadderFacts& lf, probe::NeedKind kind) {
  std::vector<NeedRow> rows;
  for (const auto& r : probe::ladder()) {
    for (const auto& n : probe::rung_needs(r, probe::Build::kNoSlots)) {
      if (n.need.kind != kind) continue;
      const std::string key = probe::need_key(n.need);
      auto it = std::find_if(rows.begin(), rows.end(),
                             [&](const NeedRow& row) { return probe::need_key(row.need) == key; });
      if (it == rows.end()) {
        NeedRow row{n.need, {}, probe::Answer::kUnknown, false};
        if (auto a = lf.answers.find(key); a != lf.answers.end()) {
          row.answer = a->second;
          row.asked = true;
        }
        rows.push_back(row);
        it = rows.end() - 1;
      }
      std::string user(r.name);
      if (n.optional && n.hook) user += ": " + std::string(probe::role_name(n.hook->role));
      if (std::find(it->users.begin(), it->users.end(), user) == it->users.end())
        it->users.push_back(user);
    }
  }
  return rows;
}

bool kind_costs(const LadderFacts& lf, probe::NeedKind kind) {
  for (const auto& a : lf.choice.rungs) {
    if (!a.asked) break;
    for (const auto& m : a.missing)
      if (m.need.kind == kind) return true;  // a rung before the one run (or none runs)
    if (a.possible()) {
      for (const auto* h : a.lost)
        for (const auto& n : probe::rung_needs(*a.rung, probe::Build::kNoSlots))
          if (n.hook == h && n.need.kind == kind && lf.answers.count(probe::need_key(n.need)) &&
              lf.answers.at(probe::need_key(n.need)) == probe::Answer::kNo)
            return true;
      return false;
    }
  }
  return false;
}

std::string users_text(const NeedRow& row) {
  std::string users;
  for (const auto& u : row.users) users += (users.empty() ? "" : ", ") + u;
  return users;
}

std::string rows_text(const std::vector<NeedRow>& rows) {
  std::string s;
  for (const auto& row : rows)
    s += (s.empty() ? "" : ", ") + std::string(row.need.name) + " (" + users_text(row) + ")";
  return s;
}

}  // namespace cnm
