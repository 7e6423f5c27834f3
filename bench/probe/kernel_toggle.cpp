// The probe's kernel side under load, measured with less noise than starting and stopping the
// daemon between windows. It loads the daemon's own state program of a rung of its ladder (the
// objects the daemon carries, prepared as the daemon prepares them: probe/ladder_load.h, sized
// at the default max_tracked_connections), then alternates phases with that program attached
// and detached while one continuous load (the caller's
// wrk) runs, and counts the connections the host accepted in each phase (TCP PassiveOpens in
// /proc/net/snmp: one per request with one connection per request). Each pair of phases, in
// alternating order, gives one ratio, on / off. The daemon's own CPU is measured apart
// (bench_probe.sh section 2); this is what the programs cost the connections themselves.
// With --against DIR the other phase is not "detached" but the same rung's state program from
// the objects in DIR (another build, e.g. main's), so two versions of the kernel side are
// compared directly, a second apart, under the same load: the ratio is ours / theirs.
// Usage: kernel_toggle PHASE_MS PAIRS [RUNG] [--against DIR] (root; RUNG: tp_btf, the default,
// or another rung's name). One line per pair, then the geometric mean of the ratios with a 95%
// interval (normal on the logs), then, when kernel.bpf_stats_enabled is on, each side's time per
// run of its program.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
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

// One version of the kernel side: the rung's state program loaded, attached on demand, its
// closed connections drained (and dropped) as the daemon drains them.
class Side {
 public:
  Side(const cnm::probe::Rung* rung, std::optional<std::filesystem::path> objects) : rung_(rung) {
    using namespace cnm::probe;
    // Only the state program, its build with slots where the rung has one, as the daemon loads
    // it by default here (the retransmit one never runs without loss); sized as the daemon
    // sizes it.
    constexpr std::uint32_t kTracked = 65536;
    Attempt attempt{rung, rung->slots ? Build::kSlots : Build::kNoSlots, {&rung->hooks[0]}};
    LoadSettings settings;
    settings.max_tracked = kTracked;
    settings.slots = rung->slots ? connection_slots(kTracked) : 0;
    settings.object_dir = std::move(objects);
    obj_ = std::make_unique<PreparedObject>(attempt, settings);
    if (obj_->load() != 0) throw std::runtime_error("cannot load " + attempt.describe());
    prog_ = obj_->program(*program_for(rung->hooks[0], attempt.build));
    const int closed_fd = bpf_map__fd(obj_->map("closed"));
    if (rung->channel == Channel::kRingBuffer)
      rb_ = ring_buffer__new(closed_fd, drop_record, nullptr, nullptr);
    else
      pb_ = perf_buffer__new(closed_fd, 64, drop_sample, nullptr, nullptr, nullptr);
    if (!rb_ && !pb_) throw std::runtime_error("cannot read the closed connections");
  }
  ~Side() {
    detach();
    ring_buffer__free(rb_);
    perf_buffer__free(pb_);
  }
  Side(const Side&) = delete;
  Side& operator=(const Side&) = delete;

  bool attach() {
    using namespace cnm::probe;
    const std::string target(rung_->hooks[0].target);
    switch (rung_->hooks[0].attach) {
      case Attach::kTracepointBtf:
        link_ = bpf_program__attach_trace(prog_);
        break;
      case Attach::kRawTracepoint:
        link_ =
            bpf_program__attach_raw_tracepoint(prog_, target.substr(target.find('/') + 1).c_str());
        break;
      case Attach::kKprobe:
        link_ = bpf_program__attach_kprobe(prog_, false, kernel_.kernel_function(target).c_str());
        break;
      default:
        link_ = nullptr;
    }
    return link_ != nullptr;
  }
  void detach() {
    if (link_) bpf_link__destroy(link_);
    link_ = nullptr;
  }
  void drain() { rb_ ? ring_buffer__consume(rb_) : perf_buffer__consume(pb_); }
  // The program's runs and their time so far, as kernel.bpf_stats_enabled counts them (zero
  // while it is off): a side is attached only in its own phases, so these are its phases'.
  bpf_prog_info stats() const {
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(bpf_program__fd(prog_), &info, &len) != 0) info = {};
    return info;
  }

 private:
  const cnm::probe::Rung* rung_;
  cnm::probe::LiveKernel kernel_;
  std::unique_ptr<cnm::probe::PreparedObject> obj_;
  bpf_program* prog_ = nullptr;
  bpf_link* link_ = nullptr;
  ring_buffer* rb_ = nullptr;
  perf_buffer* pb_ = nullptr;
};

double ns_per_run(const bpf_prog_info& p) {
  return static_cast<double>(p.run_time_ns) / static_cast<double>(p.run_cnt);
}

// With kernel.bpf_stats_enabled on, each side's own time per run of its program: a finer
// measure than the request rate for telling two builds apart (the statistics add their own cost
// to every run, alike for both sides, so the quotient understates the difference a little).
void print_time_per_run(const Side& ours, const Side* theirs) {
  const bpf_prog_info o = ours.stats();
  if (o.run_cnt == 0) return;  // statistics off
  std::printf("time per run: ours %.1f ns (%llu runs)", ns_per_run(o),
              static_cast<unsigned long long>(o.run_cnt));
  const bpf_prog_info t = theirs ? theirs->stats() : bpf_prog_info{};
  if (t.run_cnt != 0)
    std::printf(", theirs %.1f ns (%llu runs), ours / theirs %.3f", ns_per_run(t),
                static_cast<unsigned long long>(t.run_cnt), ns_per_run(o) / ns_per_run(t));
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::optional<std::filesystem::path> against;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] != "--against") continue;
    against = args[i + 1];
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
               args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    break;
  }
  if (args.size() != 2 && args.size() != 3) {
    std::fprintf(stderr, "usage: %s PHASE_MS PAIRS [RUNG] [--against DIR]\n", argv[0]);
    return 2;
  }
  const double phase_s = std::atof(args[0].c_str()) / 1000.0;
  const int pairs = std::atoi(args[1].c_str());
  using namespace cnm::probe;
  const Rung* rung = find_rung(args.size() == 3 ? args[2] : "tp_btf");
  if (!rung) {
    std::fprintf(stderr, "no rung %s (%s)\n", args[2].c_str(), rung_names().c_str());
    return 2;
  }
  std::unique_ptr<Side> ours, theirs;
  try {
    ours = std::make_unique<Side>(rung, std::nullopt);
    if (against) theirs = std::make_unique<Side>(rung, against);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::vector<double> logs;
  for (int i = 0; i < pairs; ++i) {
    double rate[2] = {0, 0};  // [off or theirs, ours]
    for (int k = 0; k < 2; ++k) {
      const bool on = (k == 0) == (i % 2 == 1);  // odd pairs start with ours
      Side* side = on ? ours.get() : theirs.get();
      if (side && !side->attach()) {
        std::fprintf(stderr, "cannot attach\n");
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the (de)attach
      const long p0 = passive_opens();
      const double t0 = seconds_now(), end = t0 + phase_s;
      while (seconds_now() < end) {  // drain as the daemon does, every 50 ms
        if (side) side->drain();
        std::this_thread::sleep_for(
            std::chrono::duration<double>(std::min(0.05, end - seconds_now())));
      }
      const long p1 = passive_opens();
      rate[on ? 1 : 0] = static_cast<double>(p1 - p0) / (seconds_now() - t0);
      if (side) {
        side->detach();
        side->drain();
      }
    }
    if (rate[0] <= 0 || rate[1] <= 0) {
      std::fprintf(stderr, "no connections accepted in a phase: is the load running?\n");
      return 1;
    }
    logs.push_back(std::log(rate[1] / rate[0]));
    std::printf("pair %d accepted/s %s %.0f ours %.0f ratio %.4f\n", i + 1,
                against ? "theirs" : "off", rate[0], rate[1], rate[1] / rate[0]);
  }
  double mean = 0, var = 0;
  for (double l : logs) mean += l;
  mean /= static_cast<double>(logs.size());
  for (double l : logs) var += (l - mean) * (l - mean);
  const double se =
      std::sqrt(var / static_cast<double>(logs.size() - 1) / static_cast<double>(logs.size()));
  std::printf(
      "kernel side, %s: %.4f [%.4f, %.4f], %zu pairs of %.0f ms\n",
      against ? ("ours / theirs (" + against->string() + ")").c_str() : "attached / detached",
      std::exp(mean), std::exp(mean - 1.96 * se), std::exp(mean + 1.96 * se), logs.size(),
      phase_s * 1000);
  print_time_per_run(*ours, theirs.get());
  return 0;
}
