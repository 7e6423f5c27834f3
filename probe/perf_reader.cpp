#include "probe/perf_reader.h"

#include <linux/perf_event.h>
#include <unistd.h>

#include <cerrno>

namespace cnm::probe {

perf_buffer* open_perf_buffer_woken_half_full(int map_fd, std::size_t pages_per_cpu,
                                              perf_buffer_event_fn on_event, void* ctx) {
  perf_event_attr attr{};
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_BPF_OUTPUT;
  attr.sample_type = PERF_SAMPLE_RAW;
  attr.sample_period = 1;
  attr.watermark = 1;  // wake by bytes (wakeup_watermark), not per event
  attr.wakeup_watermark =
      static_cast<__u32>(pages_per_cpu * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) / 2);
  perf_buffer* pb = perf_buffer__new_raw(map_fd, pages_per_cpu, &attr, on_event, ctx, nullptr);
  if (const long err = libbpf_get_error(pb)) {
    errno = static_cast<int>(err < 0 ? -err : err);
    return nullptr;
  }
  return pb;
}

}  // namespace cnm::probe
