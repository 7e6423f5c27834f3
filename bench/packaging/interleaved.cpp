// bench_interleaved RUNS A B -- ARGS...: runs `A ARGS` and `B ARGS` alternately RUNS times each
// (the same machine state for both), output to /dev/null, and prints each one's median, min and
// max wall time and the ratio B/A (above 1: A is faster).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

double run_ms(std::vector<char*> argv) {
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) {
    std::fprintf(stderr, "cannot run %s\n", argv[0]);
    std::exit(2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  posix_spawn_file_actions_destroy(&fa);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void report(const char* name, const std::vector<double>& v) {
  std::printf("  %-40s median %8.2f ms  (min %.2f, max %.2f)\n", name, median(v),
              *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || std::strcmp(argv[4], "--") != 0) {
    std::fprintf(stderr, "usage: %s RUNS A B -- ARGS...\n", argv[0]);
    return 2;
  }
  const int runs = std::atoi(argv[1]);
  std::vector<char*> a{argv[2]}, b{argv[3]};
  for (int i = 5; i < argc; ++i) {
    a.push_back(argv[i]);
    b.push_back(argv[i]);
  }
  run_ms(a);  // page cache warm for both
  run_ms(b);
  std::vector<double> ta, tb;
  for (int i = 0; i < runs; ++i) {
    ta.push_back(run_ms(a));
    tb.push_back(run_ms(b));
  }
  report(argv[2], ta);
  report(argv[3], tb);
  std::printf("  ratio B/A: %.2f (above 1: A is faster)\n", median(tb) / median(ta));
  return 0;
}
