// Whole-process time of `cnmctl preflight --json` against `bpftool feature probe kernel -j`
// on this host, interleaved run by run so both see the same machine state. Prints medians,
// the ratio, and how many findings each answers with. Target (issue 2): preflight < 50 ms and
// >= 10x faster than bpftool.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace {

double run_ms(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    std::fprintf(stderr, "cannot run %s\n", args[0]);
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
  const std::vector<std::string> preflight = {cnmctl, "preflight", "--json"};
  const std::vector<std::string> bpftool = {"bpftool", "feature", "probe", "kernel", "-j"};
  run_ms(preflight);  // warm the page cache for both binaries
  run_ms(bpftool);
  const std::vector<std::string> floor = {cnmctl, "--version"};
  std::vector<double> a, b, f;
  for (int i = 0; i < runs; ++i) {
    a.push_back(run_ms(preflight));
    b.push_back(run_ms(bpftool));
    f.push_back(run_ms(floor));
  }
  const double ma = median(a), mb = median(b);
  std::printf("runs: %d each, interleaved\n", runs);
  std::printf("cnmctl preflight --json          median %8.2f ms  (min %.2f, max %.2f)\n", ma,
              *std::min_element(a.begin(), a.end()), *std::max_element(a.begin(), a.end()));
  std::printf("bpftool feature probe kernel -j  median %8.2f ms  (min %.2f, max %.2f)\n", mb,
              *std::min_element(b.begin(), b.end()), *std::max_element(b.begin(), b.end()));
  std::printf("cnmctl --version (process floor)  median %8.2f ms\n", median(f));
  std::printf("ratio bpftool/preflight: %.1fx faster (target >= 10x); preflight under 50 ms: %s\n",
              mb / ma, ma < 50 ? "yes" : "NO");
  std::printf("answers: preflight %d checks with verdicts and remedies; bpftool %d feature flags\n",
              count_lines(cnmctl + " preflight --json", "\"status\""),
              count_lines("bpftool feature probe kernel -j | tr ',' '\\n'", "have_"));
  return 0;
}
