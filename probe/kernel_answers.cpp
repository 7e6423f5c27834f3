#include "probe/kernel_answers.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

namespace cnm::probe {
namespace {

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

Answer yes_no(bool b) { return b ? Answer::kYes : Answer::kNo; }

// Every kernel-function target of the ladder, so one pass over /proc/kallsyms answers them all
// (the file is generated as it is read: ~0.1 s on a distribution kernel).
std::set<std::string> ladder_kernel_functions() {
  std::set<std::string> names;
  for (const auto& r : ladder())
    for (const auto& h : r.hooks)
      if (h.attach == Attach::kKprobe)
        for (const auto alt : alternatives(h.target)) names.emplace(alt);
  return names;
}

}  // namespace

bool kernel_has_bpf_cmpxchg() {
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},          // r0 = 0
      {BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 0},          // *(u64 *)(r10 - 8) = 0
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1},          // r1 = 1
      {BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_10, BPF_REG_1, -8,  // r0 = cmpxchg(r10 - 8,
       BPF_CMPXCHG},                                              //   r0, r1)
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},          // r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  const int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, nullptr, "GPL", insns,
                               sizeof insns / sizeof insns[0], nullptr);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

std::string kprobe_mechanism() {
  if (exists("/sys/bus/event_source/devices/kprobe/type")) return "kprobe PMU";
  for (const char* d : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"})
    if (exists(std::string(d) + "/kprobe_events"))
      return std::string("tracefs ") + d + "/kprobe_events";
  return "";
}

std::set<std::string> kernel_text_symbols(const std::set<std::string>& wanted) {
  std::set<std::string> found;
  FILE* f = std::fopen("/proc/kallsyms", "re");
  if (!f) return found;
  char line[512];
  while (std::fgets(line, sizeof line, f)) {
    // "ADDRESS TYPE NAME [MODULE]"
    char* type = std::strchr(line, ' ');
    if (!type || (type[1] != 'T' && type[1] != 't') || type[2] != ' ') continue;
    char* name = type + 3;
    name[std::strcspn(name, " \t\n")] = '\0';
    const char* dot = std::strchr(name, '.');
    const std::string base(name, dot ? static_cast<std::size_t>(dot - name) : std::strlen(name));
    if (!wanted.count(base)) continue;
    // An exact name wins over a compiler's clone of it.
    if (!dot || !found.count(base)) found.insert(name);
    if (!dot)
      for (auto it = found.begin(); it != found.end();)
        it = it->rfind(base + ".", 0) == 0 ? found.erase(it) : std::next(it);
  }
  std::fclose(f);
  return found;
}

LiveKernel::LiveKernel(bool btf_file) : btf_file_(btf_file) {}

LiveKernel::~LiveKernel() { btf__free(vmlinux_); }

Answer LiveKernel::answer(const Need& n) {
  const std::string key = need_key(n);
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  return memo_[key] = ask(n);
}

Answer LiveKernel::ask(const Need& n) {
  switch (n.kind) {
    case NeedKind::kProgramType:
      return yes_no(libbpf_probe_bpf_prog_type(static_cast<bpf_prog_type>(n.id), nullptr) == 1);
    case NeedKind::kMapType:
      return yes_no(libbpf_probe_bpf_map_type(static_cast<bpf_map_type>(n.id), nullptr) == 1);
    case NeedKind::kHelper:
      return yes_no(libbpf_probe_bpf_helper(static_cast<bpf_prog_type>(n.prog_type),
                                            static_cast<bpf_func_id>(n.id), nullptr) == 1);
    case NeedKind::kTracepoint:
      return tracepoint(n.name);
    case NeedKind::kKernelFunction:
      return yes_no(!kernel_function(n.name).empty());
    case NeedKind::kKprobes:
      return yes_no(!kprobe_mechanism().empty());
    case NeedKind::kKernelBtf:
      return yes_no(exists("/sys/kernel/btf/vmlinux"));
    case NeedKind::kCoreBtf:
      return yes_no(btf_file_ || exists("/sys/kernel/btf/vmlinux"));
    case NeedKind::kCmpxchg:
      return yes_no(kernel_has_bpf_cmpxchg());
  }
  return Answer::kUnknown;
}

Answer LiveKernel::tracepoint(std::string_view category_name) {
  const auto slash = category_name.find('/');
  const std::string category(category_name.substr(0, slash));
  const std::string name(category_name.substr(slash + 1));
  for (const char* d : {"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"})
    if (exists(d)) return yes_no(exists(std::string(d) + "/" + category + "/" + name));
  if (!vmlinux_tried_) {
    vmlinux_tried_ = true;
    if (exists("/sys/kernel/btf/vmlinux")) {
      vmlinux_ = btf__load_vmlinux_btf();
      if (libbpf_get_error(vmlinux_)) vmlinux_ = nullptr;
    }
  }
  if (!vmlinux_) return Answer::kUnknown;
  const std::string t = "btf_trace_" + name;
  return yes_no(btf__find_by_name_kind(vmlinux_, t.c_str(), BTF_KIND_TYPEDEF) > 0);
}

std::string LiveKernel::kernel_function(std::string_view alts) {
  if (!symbols_) symbols_ = kernel_text_symbols(ladder_kernel_functions());
  for (const auto alt : alternatives(alts)) {
    const std::string base(alt);
    for (const auto& s : *symbols_)
      if (s == base || s.rfind(base + ".", 0) == 0) return s;
  }
  return "";
}

}  // namespace cnm::probe
