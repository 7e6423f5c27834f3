// libFuzzer target for the kernel BTF subset (probe/core_btf.h, btf_subset): raw BTF bytes, as
// /sys/kernel/btf/vmlinux gives them, cut for the CO-RE roots of the tracer this build embeds
// (what the daemon asks for). Seeds: the minimized BTF files the build makes (probe/btf/*.btf,
// which hold those roots' candidates). Each input must end in a subset or a refusal with its
// reason, without a crash; a subset must be a fixed point (cut again for the same roots, it
// comes back byte for byte: every type in it is a candidate or reached from one) and, when
// libbpf reads the input, libbpf must read the subset too (libbpf is who opens it).
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "probe/core_btf.h"
#include "probe/embedded_files.h"

namespace {

const std::set<cnm::probe::CoreRoot>& tracer_roots() {
  static const auto roots = [] {
    const auto object = cnm::probe::embedded_object("tcp_tracer.bpf.o");
    if (!object) std::abort();
    const auto r = cnm::probe::core_roots(*object);
    if (!r || r->empty()) std::abort();
    return *r;
  }();
  return roots;
}

bool libbpf_reads(std::string_view blob) {
  btf* b = btf__new(blob.data(), static_cast<__u32>(blob.size()));
  if (!b) return false;
  btf__free(b);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  libbpf_set_print(nullptr);  // libbpf's complaints about broken inputs are expected
  (void)tracer_roots();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string why;
  const auto subset = cnm::probe::btf_subset(in, tracer_roots(), &why);
  if (!subset) {
    if (why.empty()) std::abort();
    return 0;
  }
  if (cnm::probe::btf_subset(*subset, tracer_roots()) != subset) std::abort();
  if (libbpf_reads(in) && !libbpf_reads(*subset)) std::abort();
  return 0;
}
