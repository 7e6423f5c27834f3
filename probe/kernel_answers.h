// Answers to the ladder's questions (ladder.h, Need) about the running kernel. LiveKernel asks
// the kernel itself, by loading minimal programs and maps (libbpf's probes, as bpftool does) and
// by reading sysfs, tracefs and /proc/kallsyms; the preflight puts its memory of earlier answers
// in front of it (checks/kernel_memory.h). Never judged by version numbers: distributions
// backport features, and configs turn them off.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "probe/ladder.h"

struct btf;

namespace cnm::probe {

enum class Answer { kNo, kYes, kUnknown };

class KernelAnswers {
 public:
  virtual ~KernelAnswers() = default;
  virtual Answer answer(const Need& n) = 0;
  // The symbol to attach a kprobe to for a kernel-function target ("a|b": the first the
  // kernel's symbols hold, or its compiler's clone "a.isra.0"); "" when it holds none.
  virtual std::string kernel_function(std::string_view alternatives) = 0;
};

class LiveKernel : public KernelAnswers {
 public:
  // btf_file: a BTF file for this kernel was found (kCoreBtf holds then without the kernel's).
  explicit LiveKernel(bool btf_file = false);
  ~LiveKernel() override;
  LiveKernel(const LiveKernel&) = delete;
  LiveKernel& operator=(const LiveKernel&) = delete;

  Answer answer(const Need& n) override;
  std::string kernel_function(std::string_view alternatives) override;

 protected:
  // tracefs events/CATEGORY/NAME when tracefs is mounted, else the kernel BTF's
  // btf_trace_NAME; unknown without either.
  virtual Answer tracepoint(std::string_view category_name);

 private:
  Answer ask(const Need& n);
  bool btf_file_;
  std::map<std::string, Answer> memo_;
  std::optional<std::set<std::string>> symbols_;  // kprobe targets found in /proc/kallsyms
  btf* vmlinux_ = nullptr;
  bool vmlinux_tried_ = false;
};

// Whether the kernel's verifier takes BPF compare-and-swap (Linux 5.12): a six-instruction
// socket filter using it, loaded and closed.
bool kernel_has_bpf_cmpxchg();

// Whether kprobes can be attached, and how: the kprobe PMU, or tracefs kprobe_events (libbpf's
// legacy path, for kernels before 4.17); "" when neither.
std::string kprobe_mechanism();

// The symbols of /proc/kallsyms's text among `wanted` (names; a clone "name.isra.0" counts for
// "name" and is returned as found).
std::set<std::string> kernel_text_symbols(const std::set<std::string>& wanted);

}  // namespace cnm::probe
