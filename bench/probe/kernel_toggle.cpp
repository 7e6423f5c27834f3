// The probe's kernel side under load, measured with less noise than starting and stopping the
// daemon between windows. It loads the daemon's own state program of a rung of its ladder (the
// objects the daemon carries, prepared as the daemon prepares them: probe/ladder_load.h, sized
// at the default max_tracked_connections), then alternates phases with that program attached
// and detached while one continuous load (the caller's
// wrk) runs, and counts the connections the host accepted in each phase (TCP PassiveOpens in
// /proc/net/snmp: one per request with one connection per request). Each pair of phases, in
// alternating order, gives one ratio, on / off. The daemon's own CPU is measured apart
// (bench_probe.sh section 2); this is what the programs cost the connections themselves.
// Usage: kernel_toggle PHASE_MS PAIRS [RUNG] (root; RUNG: tp_btf, the default, or another rung's
// name). One line per pair, then the geometric mean of the ratios with a 95% interval (normal on
// the logs).
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

#include "probe/kernel_answers.h"
#include "probe/ladder_load.h"
#include "probe/tracer.h"

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
void drop_sample(void*, int, void*, __u32) {}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s PHASE_MS PAIRS [RUNG]\n", argv[0]);
    return 2;
  }
  const double phase_s = std::atof(argv[1]) / 1000.0;
  const int pairs = std::atoi(argv[2]);
  using namespace cnm::probe;
  const Rung* rung = find_rung(argc == 4 ? argv[3] : "tp_btf");
  if (!rung) {
    std::fprintf(stderr, "no rung %s (%s)\n", argv[3], rung_names().c_str());
    return 2;
  }
  // Only the state program, its build with slots where the rung has one, as the daemon loads it
  // by default here (the retransmit one never runs without loss); sized as the daemon sizes it.
  constexpr std::uint32_t kTracked = 65536;
  Attempt attempt{rung, rung->slots ? Build::kSlots : Build::kNoSlots, {&rung->hooks[0]}};
  LoadSettings settings;
  settings.max_tracked = kTracked;
  settings.slots = rung->slots ? connection_slots(kTracked) : 0;
  PreparedObject obj(attempt, settings);
  if (obj.load() != 0) {
    std::fprintf(stderr, "cannot load %s\n", attempt.describe().c_str());
    return 1;
  }
  bpf_program* only = obj.program(*program_for(rung->hooks[0], attempt.build));
  const std::string target(rung->hooks[0].target);
  LiveKernel kernel;
  auto attach = [&]() -> bpf_link* {
    switch (rung->hooks[0].attach) {
      case Attach::kTracepointBtf:
        return bpf_program__attach_trace(only);
      case Attach::kRawTracepoint:
        return bpf_program__attach_raw_tracepoint(only,
                                                  target.substr(target.find('/') + 1).c_str());
      case Attach::kKprobe:
        return bpf_program__attach_kprobe(only, false, kernel.kernel_function(target).c_str());
      default:
        return nullptr;
    }
  };
  const int closed_fd = bpf_map__fd(obj.map("closed"));
  ring_buffer* rb = nullptr;
  perf_buffer* pb = nullptr;
  if (rung->channel == Channel::kRingBuffer)
    rb = ring_buffer__new(closed_fd, drop_record, nullptr, nullptr);
  else
    pb = perf_buffer__new(closed_fd, 64, drop_sample, nullptr, nullptr, nullptr);
  if (!rb && !pb) return 1;
  auto drain = [&] { rb ? ring_buffer__consume(rb) : perf_buffer__consume(pb); };
  std::vector<double> logs;
  for (int i = 0; i < pairs; ++i) {
    double rate[2] = {0, 0};  // [off, on]
    for (int k = 0; k < 2; ++k) {
      const bool on = (k == 0) == (i % 2 == 1);  // odd pairs start attached
      bpf_link* link = on ? attach() : nullptr;
      if (on && !link) {
        std::fprintf(stderr, "cannot attach\n");
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the (de)attach
      const long p0 = passive_opens();
      const double t0 = seconds_now(), end = t0 + phase_s;
      while (seconds_now() < end) {  // drain as the daemon does, every 50 ms
        drain();
        std::this_thread::sleep_for(
            std::chrono::duration<double>(std::min(0.05, end - seconds_now())));
      }
      const long p1 = passive_opens();
      rate[on ? 1 : 0] = static_cast<double>(p1 - p0) / (seconds_now() - t0);
      if (link) bpf_link__destroy(link);
      drain();
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
  perf_buffer__free(pb);
  return 0;
}
