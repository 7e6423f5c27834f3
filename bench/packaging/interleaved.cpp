// bench_interleaved RUNS A B -- ARGS...: runs `A ARGS` and `B ARGS` alternately RUNS times each
// (the same machine state for both), output to /dev/null, and prints each one's median, min and
// max wall time and the ratio B/A (above 1: A is faster).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/support/process_timing.h"

namespace {

using cnm::bench::run_timed;
using cnm::bench::spread;

void report(const char* name, const std::vector<double>& v) {
  const auto s = spread(v);
  std::printf("  %-40s median %8.2f ms  (min %.2f, max %.2f)\n", name, s.median, s.min, s.max);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || std::strcmp(argv[4], "--") != 0) {
    std::fprintf(stderr, "usage: %s RUNS A B -- ARGS...\n", argv[0]);
    return 2;
  }
  const int runs = std::atoi(argv[1]);
  std::vector<std::string> a{argv[2]}, b{argv[3]};
  for (int i = 5; i < argc; ++i) {
    a.push_back(argv[i]);
    b.push_back(argv[i]);
  }
  run_timed(a);  // page cache warm for both
  run_timed(b);
  std::vector<double> ta, tb;
  for (int i = 0; i < runs; ++i) {
    ta.push_back(run_timed(a).ms);
    tb.push_back(run_timed(b).ms);
  }
  report(argv[2], ta);
  report(argv[3], tb);
  std::printf("  ratio B/A: %.2f (above 1: A is faster)\n", spread(tb).median / spread(ta).median);
  return 0;
}
