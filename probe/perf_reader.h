// Per-CPU perf buffers (BPF_MAP_TYPE_PERF_EVENT_ARRAY) that the daemon drains on a timer, for
// closed connections on rungs without a ring buffer and for DNS datagrams from the cgroup
// programs.
#pragma once

#include <bpf/libbpf.h>

#include <cstddef>

namespace cnm::probe {

// The perf array map_fd's buffers, pages_per_cpu pages each (a power of two), read with
// on_event(ctx, ...). No wakeup per record: the kernel wakes the reader only when a CPU's
// buffer is half full, the timer drains the rest. nullptr and errno set when libbpf refuses.
perf_buffer* open_perf_buffer_woken_half_full(int map_fd, std::size_t pages_per_cpu,
                                              perf_buffer_event_fn on_event, void* ctx);

}  // namespace cnm::probe
