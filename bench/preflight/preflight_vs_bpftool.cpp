// Whole-process time of `cnmctl preflight --json` against `bpftool feature probe kernel -j`
// on this host, interleaved run by run so all see the same machine state. The preflight runs
// twice per round: remembered (its memory of this kernel, <cache_dir>/preflight-kernel.json,
// already written) and first time (the memory removed before the run, not timed), both with the
// verifier's dry run of the probe's objects (ebpf.probe_objects). Prints medians, the ratio, and
// how many findings each answers with. Targets (issue 17): remembered <= 10 ms and >= 10x faster
// than bpftool, first time <= 30 ms.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/support/process_timing.h"

namespace {

double run_ms(const std::vector<std::string>& argv) { return cnm::bench::run_timed(argv).ms; }

double median(const std::vector<double>& v) { return cnm::bench::spread(v).median; }

int count_lines(const std::string& cmd, const char* pattern) {
  const std::string full = cmd + " 2>/dev/null | grep -c '" + pattern + "'";
  FILE* p = popen(full.c_str(), "r");
  int n = 0;
  if (p && std::fscanf(p, "%d", &n) != 1) n = 0;
  if (p) pclose(p);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CNMCTL [RUNS]\n", argv[0]);
    return 2;
  }
  const std::string cnmctl = argv[1];
  const int runs = argc > 2 ? std::atoi(argv[2]) : 30;
  // Two memories of their own, so the machine's /var/cache/cnmkit is left alone.
  char tmpl[] = "/tmp/bench_preflight.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  auto layout = [&](const std::string& name) {
    const std::string file = dir + "/" + name + ".yaml";
    FILE* f = std::fopen(file.c_str(), "w");
    std::fprintf(f, "cache_dir: %s/%s\n", dir.c_str(), name.c_str());
    std::fclose(f);
    return file;
  };
  const std::string cold_memory = dir + "/cold/preflight-kernel.json";
  const std::vector<std::string> remembered = {cnmctl, "--layout", layout("warm"), "preflight",
                                               "--json"};
  const std::vector<std::string> first = {cnmctl, "--layout", layout("cold"), "preflight",
                                          "--json"};
  const std::vector<std::string> bpftool = {"bpftool", "feature", "probe", "kernel", "-j"};
  run_ms(remembered);  // warm the page cache for both binaries, and write the memory
  run_ms(bpftool);
  const std::vector<std::string> floor = {cnmctl, "--version"};
  std::vector<double> a, c, b, f;
  for (int i = 0; i < runs; ++i) {
    a.push_back(run_ms(remembered));
    std::remove(cold_memory.c_str());
    c.push_back(run_ms(first));
    b.push_back(run_ms(bpftool));
    f.push_back(run_ms(floor));
  }
  const int checks =
      count_lines(cnmctl + " --layout " + layout("warm") + " preflight --json", "\"status\"");
  std::filesystem::remove_all(dir);
  const double ma = median(a), mc = median(c), mb = median(b);
  auto line = [](const char* what, const std::vector<double>& v) {
    const auto s = cnm::bench::spread(v);
    std::printf("%-44s median %7.2f ms  (min %.2f, max %.2f)\n", what, s.median, s.min, s.max);
  };
  std::printf("runs: %d each, interleaved\n", runs);
  line("cnmctl preflight --json, remembered", a);
  line("cnmctl preflight --json, first time", c);
  line("bpftool feature probe kernel -j", b);
  line("cnmctl --version (process floor)", f);
  std::printf("ratio bpftool/preflight remembered: %.1fx faster (target >= 10x)\n", mb / ma);
  std::printf("remembered under 10 ms: %s; first time under 30 ms: %s\n", ma <= 10 ? "yes" : "NO",
              mc <= 30 ? "yes" : "NO");
  std::printf("answers: preflight %d checks with verdicts and remedies; bpftool %d feature flags\n",
              checks, count_lines("bpftool feature probe kernel -j | tr ',' '\\n'", "have_"));
  return 0;
}
