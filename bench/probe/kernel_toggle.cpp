// The probe's kernel side under load, measured with less noise than starting and stopping the
// daemon between windows. It loads the daemon's own tcp_tracer object, sized as the daemon sizes
// it at the default max_tracked_connections, then alternates phases with the tp_btf
// inet_sock_set_state program attached and detached while one continuous load (the caller's
// wrk) runs, and counts the connections the host accepted in each phase (TCP PassiveOpens in
// /proc/net/snmp: one per request with one connection per request). Each pair of phases, in
// alternating order, gives one ratio, on / off. The daemon's own CPU is measured apart
// (bench_probe.sh section 2); this is what the programs cost the connections themselves.
// Usage: kernel_toggle PHASE_MS PAIRS (root). One line per pair, then the geometric mean of the
// ratios with a 95% interval (normal on the logs).
#include <bpf/libbpf.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "probe/tracer.h"
#include "tcp_tracer.skel.h"

namespace {

// Tcp: PassiveOpens, the sixth value of the second "Tcp:" line (the first names the fields).
long passive_opens() {
  std::ifstream in("/proc/net/snmp");
  std::string line, names;
  while (std::getline(in, line)) {
    if (line.rfind("Tcp:", 0) != 0) continue;
    if (names.empty()) {
      names = line;
      continue;
    }
    std::istringstream n(names), v(line);
    std::string name, value;
    while (n >> name && v >> value)
      if (name == "PassiveOpens") return std::stol(value);
  }
  return -1;
}

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int drop_record(void*, void*, std::size_t) { return 0; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PHASE_MS PAIRS\n", argv[0]);
    return 2;
  }
  const double phase_s = std::atof(argv[1]) / 1000.0;
  const int pairs = std::atoi(argv[2]);
  tcp_tracer* skel = tcp_tracer__open();
  if (!skel) return 1;
  // Only the state program, its build with slots, as the daemon loads it by default here (the
  // retransmit one never runs without loss); slots and map sized as the daemon sizes them.
  bpf_program* only = skel->progs.set_state_btf_slots;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, prog == only);
  constexpr std::uint32_t kTracked = 65536;
  const std::uint32_t slots = cnm::probe::connection_slots(kTracked);
  skel->rodata->slot_bits = static_cast<__u32>(__builtin_ctz(slots));
  bpf_map__set_max_entries(skel->maps.slots, slots);
  bpf_map__set_max_entries(skel->maps.conns, kTracked - slots);
  bpf_map__set_max_entries(skel->maps.closed, 1U << 22);
  if (tcp_tracer__load(skel) != 0) {
    std::fprintf(stderr, "cannot load tcp_tracer\n");
    return 1;
  }
  ring_buffer* rb = ring_buffer__new(bpf_map__fd(skel->maps.closed), drop_record, nullptr, nullptr);
  if (!rb) return 1;
  std::vector<double> logs;
  for (int i = 0; i < pairs; ++i) {
    double rate[2] = {0, 0};  // [off, on]
    for (int k = 0; k < 2; ++k) {
      const bool on = (k == 0) == (i % 2 == 1);  // odd pairs start attached
      bpf_link* link = on ? bpf_program__attach(only) : nullptr;
      if (on && !link) {
        std::fprintf(stderr, "cannot attach\n");
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the (de)attach
      const long p0 = passive_opens();
      const double t0 = seconds_now(), end = t0 + phase_s;
      while (seconds_now() < end) {  // drain as the daemon does, every 50 ms
        ring_buffer__consume(rb);
        std::this_thread::sleep_for(
            std::chrono::duration<double>(std::min(0.05, end - seconds_now())));
      }
      const long p1 = passive_opens();
      rate[on ? 1 : 0] = static_cast<double>(p1 - p0) / (seconds_now() - t0);
      if (link) bpf_link__destroy(link);
      ring_buffer__consume(rb);
    }
    if (rate[0] <= 0 || rate[1] <= 0) {
      std::fprintf(stderr, "no connections accepted in a phase: is the load running?\n");
      return 1;
    }
    logs.push_back(std::log(rate[1] / rate[0]));
    std::printf("pair %d accepted/s off %.0f on %.0f ratio %.4f\n", i + 1, rate[0], rate[1],
                rate[1] / rate[0]);
  }
  double mean = 0, var = 0;
  for (double l : logs) mean += l;
  mean /= static_cast<double>(logs.size());
  for (double l : logs) var += (l - mean) * (l - mean);
  const double se =
      std::sqrt(var / static_cast<double>(logs.size() - 1) / static_cast<double>(logs.size()));
  std::printf("kernel side, attached / detached: %.4f [%.4f, %.4f], %zu pairs of %.0f ms\n",
              std::exp(mean), std::exp(mean - 1.96 * se), std::exp(mean + 1.96 * se), logs.size(),
              phase_s * 1000);
  ring_buffer__free(rb);
  tcp_tracer__destroy(skel);
  return 0;
}
