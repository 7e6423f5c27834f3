// Time of a full install into a temp root and of an idempotent re-run, from the built release
// archive, with --service-manager none. Printed as ratios against a baseline measured in the
// same invocation: writing the same files with atomic_write and nothing else (the floor any
// installer pays), so numbers compare across machines.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "common/atomic_file.h"
#include "installer/apply.h"
#include "installer/install_plan.h"

namespace {

using namespace cnm;

std::filesystem::path fresh_root() {
  char tmpl[] = "/tmp/cnmkit-bench-XXXXXX";
  const std::filesystem::path root = ::mkdtemp(tmpl);
  std::filesystem::create_directories(root / "etc");
  FILE* f = std::fopen((root / "etc/group").c_str(), "w");
  std::fprintf(f, "dd-agent:x:%u:\n", static_cast<unsigned>(::getgid()));
  std::fclose(f);
  return root;
}

InstallRequest request(const Layout& layout) {
  InstallRequest req;
  req.release = read_release(CNM_RELEASE_ARCHIVE, std::nullopt);
  req.config.owner = FileOwner{::getuid(), ::getgid()};
  req.manager = ServiceManager::None;
  (void)layout;
  return req;
}

bool install_once(const Layout& layout) {
  const auto plan = plan_install(layout, request(layout), run_command);
  return apply_plan(
             layout, plan, run_command, [] { return std::string(); }, [](int) {})
      .changed;
}

void BM_Baseline_WriteSameFiles(benchmark::State& state) {
  const auto release = read_release(CNM_RELEASE_ARCHIVE, std::nullopt);
  for (auto _ : state) {
    state.PauseTiming();
    const auto root = fresh_root();
    state.ResumeTiming();
    for (const auto& [name, content] : release.files) {
      const auto p = root / name;
      std::filesystem::create_directories(p.parent_path());
      atomic_write(p, content, 0644);
    }
    state.PauseTiming();
    std::filesystem::remove_all(root);
    state.ResumeTiming();
  }
}

void BM_FullInstall(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    const auto root = fresh_root();
    const auto layout = default_layout(root);
    state.ResumeTiming();
    if (!install_once(layout)) state.SkipWithError("first install changed nothing");
    state.PauseTiming();
    std::filesystem::remove_all(root);
    state.ResumeTiming();
  }
}

void BM_IdempotentRerun(benchmark::State& state) {
  const auto root = fresh_root();
  const auto layout = default_layout(root);
  install_once(layout);
  for (auto _ : state)
    if (install_once(layout)) state.SkipWithError("re-run changed something");
  std::filesystem::remove_all(root);
}

BENCHMARK(BM_Baseline_WriteSameFiles)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FullInstall)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IdempotentRerun)->Unit(benchmark::kMillisecond);

// Prints the usual table, then each benchmark's real time as a ratio of the baseline's.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) times_[r.benchmark_name()] = r.GetAdjustedRealTime();
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const auto base = times_.find("BM_Baseline_WriteSameFiles");
    if (base == times_.end() || base->second <= 0) return;
    std::printf("\nratio to baseline (writing the same files, same run):\n");
    for (const auto& [name, t] : times_)
      std::printf("  %-28s %6.2fx\n", name.c_str(), t / base->second);
  }

 private:
  std::map<std::string, double> times_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
}
