// How the installer scales: an install of N files, and `config enable` on a
// system-probe.yaml of N keys, each at two sizes. A linear step costs 4x at 4x the size, a
// quadratic one 16x; the printed ratios (the larger size over the smaller, and each over its
// baseline in the same run) say which. Baselines: writing the same N files with atomic_write
// and nothing else (what any installer pays), and yaml-cpp loading the same text.
#include <benchmark/benchmark.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "common/atomic_file.h"
#include "installer/apply.h"
#include "installer/install_plan.h"
#include "installer/yaml_edit.h"

namespace {

using namespace cnm;

// N small BPF objects (obj-K.bpf.o). A release holds only the probe's few objects
// (installer/release_contents.h), so these are not read from an archive: the install plans
// them beside a real release's files, and what grows with N is measured: the plan, the writes
// and their records.
std::map<std::string, std::string> many_files(int n) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < n; ++i)
    files["obj-" + std::to_string(i) + ".bpf.o"] = std::string(512, char('a' + i % 26));
  return files;
}

std::filesystem::path fresh_root() {
  char tmpl[] = "/tmp/cnmkit-bench-XXXXXX";
  const std::filesystem::path root = ::mkdtemp(tmpl);
  std::filesystem::create_directories(root / "etc");
  FILE* f = std::fopen((root / "etc/group").c_str(), "w");
  std::fprintf(f, "dd-agent:x:%u:\n", static_cast<unsigned>(::getgid()));
  std::fclose(f);
  return root;
}

void BM_ManyFiles_Baseline(benchmark::State& state) {
  const auto files = many_files(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    const auto root = fresh_root();
    std::filesystem::create_directories(root / "ebpf");
    state.ResumeTiming();
    for (const auto& [name, content] : files) atomic_write(root / "ebpf" / name, content, 0644);
    state.PauseTiming();
    std::filesystem::remove_all(root);
    state.ResumeTiming();
  }
}

void BM_ManyFiles_Install(benchmark::State& state) {
  const auto files = many_files(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    const auto root = fresh_root();
    const auto layout = default_layout(root, ProbeMode::Standalone);
    state.ResumeTiming();
    InstallRequest req;
    req.release = Release{{{"bin/cnm-probe", "probe"}}};
    req.config.owner = FileOwner{::getuid(), ::getgid()};
    req.manager = ServiceManager::None;
    auto plan = plan_install(layout, std::move(req), run_command);
    for (const auto& [name, content] : files) {
      auto f = current_file(layout, layout.bpf_object_dir + "/" + name);
      f.after = content;
      f.mode = 0644;
      f.reason = "from the release";
      plan.files.push_back(std::move(f));
    }
    const auto r = apply_plan(
        layout, plan, run_command, [] { return std::string(); }, [](int) {});
    if (!r.changed) state.SkipWithError(("install failed: " + r.error).c_str());
    state.PauseTiming();
    std::filesystem::remove_all(root);
    state.ResumeTiming();
  }
}

std::string yaml_of(int keys) {
  std::string y = "# many keys\nnetwork_config:\n  enabled: false\n";
  for (int i = 0; i < keys; ++i)
    y += "key_" + std::to_string(i) + ": value " + std::to_string(i) + "\n";
  return y;
}

void BM_YamlKeys_Baseline(benchmark::State& state) {
  const auto text = yaml_of(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(YAML::Load(text));
}

void BM_YamlKeys_ConfigEnable(benchmark::State& state) {
  const auto text = yaml_of(static_cast<int>(state.range(0)));
  for (auto _ : state)
    benchmark::DoNotOptimize(yaml_set(text, {"network_config", "enabled"}, "true"));
}

BENCHMARK(BM_ManyFiles_Baseline)->Arg(1000)->Arg(4000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ManyFiles_Install)->Arg(1000)->Arg(4000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_YamlKeys_Baseline)->Arg(5000)->Arg(20000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_YamlKeys_ConfigEnable)->Arg(5000)->Arg(20000)->Unit(benchmark::kMillisecond);

// Prints the usual table, then for each benchmark: its time at the larger size over the smaller
// (4 = linear, 16 = quadratic), and over its baseline at the same size.
class ScaleReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) times_[r.benchmark_name()] = r.GetAdjustedRealTime();
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-28s %12s %14s %14s\n", "benchmark", "large/small", "small/base", "large/base");
    const auto row = [&](const char* name, const char* base, const char* small, const char* large) {
      const auto t = [&](const std::string& b, const char* arg) {
        const auto it = times_.find(b + "/" + arg);
        return it == times_.end() ? 0.0 : it->second;
      };
      std::printf("%-28s %12.2f %14.2f %14.2f\n", name, t(name, large) / t(name, small),
                  t(name, small) / t(base, small), t(name, large) / t(base, large));
    };
    row("BM_ManyFiles_Install", "BM_ManyFiles_Baseline", "1000", "4000");
    row("BM_YamlKeys_ConfigEnable", "BM_YamlKeys_Baseline", "5000", "20000");
  }

 private:
  std::map<std::string, double> times_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ScaleReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
}
