#include "probe/ladder.h"

#include <algorithm>
#include <array>

namespace cnm::probe {
namespace {

// --- Helpers, by the programs that call them (tests/probe/ladder_test.cpp reads every helper
// call of every program in the objects and fails on one missing here).
constexpr bpf_func_id kStateBtfHelpers[] = {
    BPF_FUNC_map_lookup_elem, BPF_FUNC_map_update_elem, BPF_FUNC_map_delete_elem,
    BPF_FUNC_ktime_get_ns, BPF_FUNC_ringbuf_output, BPF_FUNC_skc_to_tcp_sock,
    // the task's pid, comm and cgroup where bpf_get_current_task_btf is missing (5.9, 5.10)
    BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_comm, BPF_FUNC_get_current_cgroup_id};
constexpr bpf_func_id kTaskBtf[] = {BPF_FUNC_get_current_task_btf};  // Linux 5.11
constexpr bpf_func_id kStateRawHelpers[] = {
    BPF_FUNC_map_lookup_elem,      BPF_FUNC_map_update_elem,  BPF_FUNC_map_delete_elem,
    BPF_FUNC_ktime_get_ns,         BPF_FUNC_ringbuf_output,   BPF_FUNC_probe_read_kernel,
    BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_comm, BPF_FUNC_get_current_cgroup_id};
constexpr bpf_func_id kSnapshotHelpers[] = {BPF_FUNC_map_lookup_elem, BPF_FUNC_map_update_elem,
                                            BPF_FUNC_ktime_get_ns, BPF_FUNC_skc_to_tcp_sock};
constexpr bpf_func_id kLookupOnly[] = {BPF_FUNC_map_lookup_elem};
// refresh_open and its callbacks (subprograms).
constexpr bpf_func_id kRefreshHelpers[] = {BPF_FUNC_for_each_map_elem, BPF_FUNC_map_lookup_elem,
                                           BPF_FUNC_probe_read_kernel, BPF_FUNC_ktime_get_ns,
                                           BPF_FUNC_ringbuf_output};
constexpr bpf_func_id kIoHelpers[] = {BPF_FUNC_map_lookup_elem, BPF_FUNC_get_current_pid_tgid,
                                      BPF_FUNC_get_current_comm, BPF_FUNC_get_current_cgroup_id};
constexpr bpf_func_id kLegacyStateHelpers[] = {
    BPF_FUNC_map_lookup_elem,      BPF_FUNC_map_update_elem,   BPF_FUNC_map_delete_elem,
    BPF_FUNC_ktime_get_ns,         BPF_FUNC_perf_event_output, BPF_FUNC_probe_read,
    BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_comm};
constexpr bpf_func_id kCgroupId[] = {BPF_FUNC_get_current_cgroup_id};  // Linux 4.18

// --- Programs, by job and build.
constexpr Program kStateBtf[] = {
    {"set_state_btf", BPF_PROG_TYPE_TRACING, "tp_btf/inet_sock_set_state", Build::kNoSlots,
     kStateBtfHelpers, kTaskBtf},
    {"set_state_btf_slots", BPF_PROG_TYPE_TRACING, "tp_btf/inet_sock_set_state", Build::kSlots,
     kStateBtfHelpers, kTaskBtf},
};
constexpr Program kStateRaw[] = {
    {"inet_sock_set_state", BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tp/inet_sock_set_state",
     Build::kNoSlots, kStateRawHelpers},
    {"inet_sock_set_state_slots", BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tp/inet_sock_set_state",
     Build::kSlots, kStateRawHelpers},
};
constexpr Program kSnapshot[] = {
    {"snapshot", BPF_PROG_TYPE_TRACING, "iter/tcp", Build::kNoSlots, kSnapshotHelpers},
    {"snapshot_slots", BPF_PROG_TYPE_TRACING, "iter/tcp", Build::kSlots, kSnapshotHelpers},
};
constexpr Program kRetransmit[] = {
    {"tcp_retransmit_skb", BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tp/tcp_retransmit_skb", Build::kAny,
     kLookupOnly},
};
constexpr Program kRefresh[] = {
    {"refresh_open", BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tp", Build::kAny, kRefreshHelpers},
};
constexpr Program kSend[] = {
    {"sock_send_length", BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tp/sock_send_length", Build::kAny,
     kIoHelpers},
};
constexpr Program kRecv[] = {
    {"sock_recv_length", BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tp/sock_recv_length", Build::kAny,
     kIoHelpers},
};
constexpr Program kPerfState[] = {
    {"perf_set_state", BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tp/inet_sock_set_state", Build::kAny,
     kLegacyStateHelpers, kCgroupId},
};
constexpr Program kPerfRetransmit[] = {
    {"perf_retransmit", BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tp/tcp_retransmit_skb", Build::kAny,
     kLookupOnly},
};
constexpr Program kKprobeState[] = {
    {"kprobe_set_state", BPF_PROG_TYPE_KPROBE, "kprobe/tcp_set_state", Build::kAny,
     kLegacyStateHelpers, kCgroupId},
};
constexpr Program kKprobeRetransmit[] = {
    {"kprobe_retransmit", BPF_PROG_TYPE_KPROBE, "kprobe/tcp_retransmit_skb", Build::kAny,
     kLookupOnly},
};

// --- Attach targets.
constexpr std::string_view kSetStateTp = "sock/inet_sock_set_state";
constexpr std::string_view kRetransmitTp = "tcp/tcp_retransmit_skb";
constexpr std::string_view kSendTp = "sock/sock_send_length";  // Linux 6.4
constexpr std::string_view kRecvTp = "sock/sock_recv_length";
// tcp_set_state() fires inet_sock_set_state (4.16+) and makes every state change before it;
// exported, so never inlined away. The retransmit tracepoint sits in __tcp_retransmit_skb since
// 4.15; tcp_retransmit_skb() wraps it (a kernel may have inlined one of them: the first found
// wins).
constexpr std::string_view kSetStateFn = "tcp_set_state";
constexpr std::string_view kRetransmitFn = "tcp_retransmit_skb|__tcp_retransmit_skb";

// --- Extra needs of some jobs.
constexpr Need kNeedsKernelBtf[] = {{NeedKind::kKernelBtf, 0, 0, "kernel BTF"}};
constexpr Need kRefreshNeeds[] = {
    // Linux 5.13 (commit 69c087ba6225, "bpf: Add bpf_for_each_map_elem() helper")
    {NeedKind::kHelper, BPF_FUNC_for_each_map_elem, BPF_PROG_TYPE_RAW_TRACEPOINT,
     "for_each_map_elem"},
};

constexpr std::string_view kLosesSnapshot = "connections open before the start";
constexpr std::string_view kLosesRetransmits =
    "retransmits of open connections as they happen (closed ones have the kernel's count)";
constexpr std::string_view kLosesRefresh =
    "live counters of open connections (they show the counters they had when first seen; "
    "exact ones once they close)";
constexpr std::string_view kLosesPerCall = "network_config.per_call_hooks (Linux 6.4+)";

constexpr Hook kTpBtfHooks[] = {
    {Role::kState, Attach::kTracepointBtf, kSetStateTp, true, {}, kStateBtf},
    {Role::kSnapshot, Attach::kIterator, {}, false, kLosesSnapshot, kSnapshot, kNeedsKernelBtf},
    {Role::kRetransmits, Attach::kRawTracepoint, kRetransmitTp, false, kLosesRetransmits,
     kRetransmit},
    {Role::kRefresh, Attach::kTestRun, {}, false, kLosesRefresh, kRefresh, kRefreshNeeds},
    {Role::kSendBytes, Attach::kRawTracepoint, kSendTp, false, kLosesPerCall, kSend, {}, true},
    {Role::kRecvBytes, Attach::kRawTracepoint, kRecvTp, false, kLosesPerCall, kRecv, {}, true},
};
constexpr Hook kRawTpHooks[] = {
    {Role::kState, Attach::kRawTracepoint, kSetStateTp, true, {}, kStateRaw},
    {Role::kSnapshot, Attach::kIterator, {}, false, kLosesSnapshot, kSnapshot, kNeedsKernelBtf},
    {Role::kRetransmits, Attach::kRawTracepoint, kRetransmitTp, false, kLosesRetransmits,
     kRetransmit},
    {Role::kRefresh, Attach::kTestRun, {}, false, kLosesRefresh, kRefresh, kRefreshNeeds},
    {Role::kSendBytes, Attach::kRawTracepoint, kSendTp, false, kLosesPerCall, kSend, {}, true},
    {Role::kRecvBytes, Attach::kRawTracepoint, kRecvTp, false, kLosesPerCall, kRecv, {}, true},
};
constexpr Hook kPerfHooks[] = {
    {Role::kState, Attach::kRawTracepoint, kSetStateTp, true, {}, kPerfState},
    {Role::kRetransmits, Attach::kRawTracepoint, kRetransmitTp, false, kLosesRetransmits,
     kPerfRetransmit},
};
constexpr Hook kKprobeHooks[] = {
    {Role::kState, Attach::kKprobe, kSetStateFn, true, {}, kKprobeState},
    {Role::kRetransmits, Attach::kKprobe, kRetransmitFn, false, kLosesRetransmits,
     kKprobeRetransmit},
};

// --- Rung-wide needs: the object's maps, and where its CO-RE reads get their BTF.
constexpr Need kModernNeeds[] = {
    {NeedKind::kCoreBtf, 0, 0, "BTF"},
    {NeedKind::kMapType, BPF_MAP_TYPE_HASH, 0, "hash"},
    {NeedKind::kMapType, BPF_MAP_TYPE_ARRAY, 0, "array"},
    {NeedKind::kMapType, BPF_MAP_TYPE_PERCPU_ARRAY, 0, "percpu_array"},
    // Linux 5.8 (commit 457f44363a88)
    {NeedKind::kMapType, BPF_MAP_TYPE_RINGBUF, 0, "ringbuf"},
};
constexpr Need kTpBtfNeeds[] = {
    {NeedKind::kKernelBtf, 0, 0, "kernel BTF"},
    {NeedKind::kMapType, BPF_MAP_TYPE_HASH, 0, "hash"},
    {NeedKind::kMapType, BPF_MAP_TYPE_ARRAY, 0, "array"},
    {NeedKind::kMapType, BPF_MAP_TYPE_PERCPU_ARRAY, 0, "percpu_array"},
    {NeedKind::kMapType, BPF_MAP_TYPE_RINGBUF, 0, "ringbuf"},
};
constexpr Need kPerfNeeds[] = {
    {NeedKind::kCoreBtf, 0, 0, "BTF"},
    {NeedKind::kMapType, BPF_MAP_TYPE_HASH, 0, "hash"},
    {NeedKind::kMapType, BPF_MAP_TYPE_ARRAY, 0, "array"},
    {NeedKind::kMapType, BPF_MAP_TYPE_PERCPU_ARRAY, 0, "percpu_array"},
    {NeedKind::kMapType, BPF_MAP_TYPE_PERF_EVENT_ARRAY, 0, "perf_event_array"},
};
constexpr Need kKprobeNeeds[] = {
    {NeedKind::kCoreBtf, 0, 0, "BTF"},
    {NeedKind::kKprobes, 0, 0, "kprobes"},
    {NeedKind::kMapType, BPF_MAP_TYPE_HASH, 0, "hash"},
    {NeedKind::kMapType, BPF_MAP_TYPE_ARRAY, 0, "array"},
    {NeedKind::kMapType, BPF_MAP_TYPE_PERCPU_ARRAY, 0, "percpu_array"},
    {NeedKind::kMapType, BPF_MAP_TYPE_PERF_EVENT_ARRAY, 0, "perf_event_array"},
};

constexpr Rung kLadder[] = {
    {"tp_btf", "tcp_tracer.bpf.o",
     "inet_sock_set_state as a BTF-typed tracepoint: the socket read with plain loads",
     "the baseline (Linux 5.8+ with kernel BTF)", Channel::kRingBuffer, true, kTpBtfHooks,
     kTpBtfNeeds},
    {"raw_tp", "tcp_tracer.bpf.o",
     "inet_sock_set_state as a raw tracepoint: every socket read a probe-read helper call",
     "a probe-read helper call for every socket read where tp_btf makes a plain load (its cost "
     "per connection: bench/probe/RESULTS.md)",
     Channel::kRingBuffer, true, kRawTpHooks, kModernNeeds},
    {"raw_tp_perf", "tcp_tracer_legacy.bpf.o",
     "inet_sock_set_state as a raw tracepoint, closed connections through per-CPU perf buffers",
     "raw_tp's reads, a per-CPU copy of each closed connection and a map lookup for its settings; "
     "no connection slots, no live counters of open connections, none from before the start",
     Channel::kPerfBuffer, false, kPerfHooks, kPerfNeeds},
    {"kprobe", "tcp_tracer_legacy.bpf.o",
     "a kprobe on tcp_set_state (kprobe PMU or tracefs kprobe_events), closed connections through "
     "per-CPU perf buffers",
     "raw_tp_perf's costs plus a kprobe's trap on every TCP state change", Channel::kPerfBuffer,
     false, kKprobeHooks, kKprobeNeeds},
};

// Program types libbpf can probe by loading a minimal program. Tracing programs (tp_btf, iter)
// need an attach target to load at all: loading them (ebpf.probe_objects) is the answer.
bool probeable(bpf_prog_type t) {
  return t == BPF_PROG_TYPE_KPROBE || t == BPF_PROG_TYPE_RAW_TRACEPOINT ||
         t == BPF_PROG_TYPE_TRACEPOINT || t == BPF_PROG_TYPE_SOCKET_FILTER;
}

std::string_view prog_type_name(int t) {
  switch (t) {
    case BPF_PROG_TYPE_KPROBE:
      return "kprobe";
    case BPF_PROG_TYPE_RAW_TRACEPOINT:
      return "raw_tracepoint";
    case BPF_PROG_TYPE_TRACEPOINT:
      return "tracepoint";
    case BPF_PROG_TYPE_TRACING:
      return "tracing";
    case BPF_PROG_TYPE_SOCKET_FILTER:
      return "socket_filter";
  }
  return "?";
}

std::string_view helper_name(int id) {
  switch (id) {
    case BPF_FUNC_map_lookup_elem:
      return "map_lookup_elem";
    case BPF_FUNC_map_update_elem:
      return "map_update_elem";
    case BPF_FUNC_map_delete_elem:
      return "map_delete_elem";
    case BPF_FUNC_probe_read:
      return "probe_read";
    case BPF_FUNC_ktime_get_ns:
      return "ktime_get_ns";
    case BPF_FUNC_get_current_pid_tgid:
      return "get_current_pid_tgid";
    case BPF_FUNC_get_current_comm:
      return "get_current_comm";
    case BPF_FUNC_perf_event_output:
      return "perf_event_output";
    case BPF_FUNC_get_current_cgroup_id:
      return "get_current_cgroup_id";
    case BPF_FUNC_probe_read_kernel:
      return "probe_read_kernel";
    case BPF_FUNC_ringbuf_output:
      return "ringbuf_output";
    case BPF_FUNC_skc_to_tcp_sock:
      return "skc_to_tcp_sock";
    case BPF_FUNC_get_current_task_btf:
      return "get_current_task_btf";
    case BPF_FUNC_for_each_map_elem:
      return "for_each_map_elem";
  }
  return "?";
}

void add_unique(std::vector<RungNeed>& out, const RungNeed& n) {
  const std::string key = need_key(n.need);
  for (auto& have : out) {
    if (need_key(have.need) != key) continue;
    have.optional = have.optional && n.optional;  // required anywhere: required
    if (!have.optional) have.hook = nullptr;
    return;
  }
  out.push_back(n);
}

}  // namespace

std::string need_key(const Need& n) {
  switch (n.kind) {
    case NeedKind::kProgramType:
      return "prog_type:" + std::to_string(n.id);
    case NeedKind::kMapType:
      return "map_type:" + std::to_string(n.id);
    case NeedKind::kHelper:
      return "helper:" + std::to_string(n.prog_type) + ":" + std::to_string(n.id);
    case NeedKind::kTracepoint:
      return "tracepoint:" + std::string(n.name);
    case NeedKind::kKernelFunction:
      return "kernel_function:" + std::string(n.name);
    case NeedKind::kKprobes:
      return "kprobes";
    case NeedKind::kKernelBtf:
      return "kernel_btf";
    case NeedKind::kCoreBtf:
      return "core_btf";
    case NeedKind::kCmpxchg:
      return "cmpxchg";
  }
  return "?";
}

std::string need_text(const Need& n) {
  switch (n.kind) {
    case NeedKind::kProgramType:
      return std::string(n.name) + " programs";
    case NeedKind::kMapType:
      return std::string(n.name) + " maps";
    case NeedKind::kHelper:
      return "helper " + std::string(n.name) + " (" + std::string(prog_type_name(n.prog_type)) +
             " programs)";
    case NeedKind::kTracepoint:
      return "tracepoint " + std::string(n.name);
    case NeedKind::kKernelFunction: {
      std::string s = "kernel function ";
      for (const auto alt : alternatives(n.name)) s += std::string(alt) + " or ";
      return s.substr(0, s.size() - 4);
    }
    case NeedKind::kKprobes:
      return "kprobes (kprobe PMU or tracefs kprobe_events)";
    case NeedKind::kKernelBtf:
      return "the kernel's BTF (/sys/kernel/btf/vmlinux)";
    case NeedKind::kCoreBtf:
      return "BTF for this kernel (its own, or a BTF file for it)";
    case NeedKind::kCmpxchg:
      return "BPF compare-and-swap (Linux 5.12)";
  }
  return "?";
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::kState:
      return "state";
    case Role::kSnapshot:
      return "snapshot";
    case Role::kRetransmits:
      return "retransmits";
    case Role::kRefresh:
      return "refresh";
    case Role::kSendBytes:
      return "send_bytes";
    case Role::kRecvBytes:
      return "recv_bytes";
  }
  return "?";
}

std::vector<std::string_view> alternatives(std::string_view target) {
  std::vector<std::string_view> out;
  while (!target.empty()) {
    const auto bar = target.find('|');
    out.push_back(target.substr(0, bar));
    if (bar == std::string_view::npos) break;
    target.remove_prefix(bar + 1);
  }
  return out;
}

std::span<const Rung> ladder() { return kLadder; }

const Rung* find_rung(std::string_view name) {
  for (const auto& r : kLadder)
    if (r.name == name) return &r;
  return nullptr;
}

std::string rung_names() {
  std::string s;
  for (const auto& r : kLadder) s += (s.empty() ? "" : ", ") + std::string(r.name);
  return s;
}

std::vector<RungNeed> rung_needs(const Rung& r, Build build) {
  std::vector<RungNeed> out;
  for (const auto& n : r.needs) add_unique(out, {n, nullptr, false});
  if (build == Build::kSlots)
    add_unique(out, {{NeedKind::kCmpxchg, 0, 0, "cmpxchg"}, nullptr, false});
  for (const auto& h : r.hooks) {
    const bool optional = !h.required;
    for (const auto& n : h.needs) add_unique(out, {n, &h, optional});
    if (h.attach == Attach::kTracepointBtf || h.attach == Attach::kRawTracepoint)
      add_unique(out, {{NeedKind::kTracepoint, 0, 0, h.target}, &h, optional});
    if (h.attach == Attach::kKprobe)  // one need: any alternative will do
      add_unique(out, {{NeedKind::kKernelFunction, 0, 0, h.target}, &h, optional});
    for (const auto& p : h.programs) {
      if (p.build != Build::kAny && p.build != build) continue;
      if (!probeable(p.type)) continue;
      add_unique(out, {{NeedKind::kProgramType, p.type, 0, prog_type_name(p.type)}, &h, optional});
      for (const auto id : p.helpers)
        add_unique(out, {{NeedKind::kHelper, id, p.type, helper_name(id)}, &h, optional});
    }
  }
  return out;
}

}  // namespace cnm::probe
