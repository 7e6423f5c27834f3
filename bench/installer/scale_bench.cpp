// How the installer scales: an install from an archive of N files, and `config enable` on a
// system-probe.yaml of N keys, each at two sizes. A linear step costs 4x at 4x the size, a
// quadratic one 16x; the printed ratios (the larger size over the smaller, and each over its
// baseline in the same run) say which. Baselines: writing the same N files with atomic_write
// and nothing else (what any installer pays), and yaml-cpp loading the same text.
#include <archive.h>
#include <archive_entry.h>
#include <benchmark/benchmark.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "common/atomic_file.h"
#include "installer/apply.h"
#include "installer/install_plan.h"
#include "installer/sha256.h"
#include "installer/yaml_edit.h"

namespace {

using namespace cnm;

// A release archive with N small BPF objects besides the manifest (ebpf/obj-K.bpf.o).
std::filesystem::path many_file_archive(int n) {
  const auto path =
      std::filesystem::temp_directory_path() /
      ("cnmkit-bench-" + std::to_string(n) + "-" + std::to_string(::getpid()) + ".tar.gz");
  std::map<std::string, std::string> files;
  for (int i = 0; i < n; ++i)
    files["ebpf/obj-" + std::to_string(i) + ".bpf.o"] = std::string(512, char('a' + i % 26));
  std::string manifest;
  for (const auto& [name, content] : files) manifest += sha256_hex(content) + "  " + name + "\n";
  files[kManifestName] = manifest;
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  archive_write_open_filename(a, path.c_str());
  for (const auto& [name, content] : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_write_header(a, e);
    archive_write_data(a, content.data(), content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return path;
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
  const auto archive = many_file_archive(static_cast<int>(state.range(0)));
  const auto release = read_release(archive, std::nullopt);
  for (auto _ : state) {
    state.PauseTiming();
    const auto root = fresh_root();
    std::filesystem::create_directories(root / "ebpf");
    state.ResumeTiming();
    for (const auto& [name, content] : release.files) atomic_write(root / name, content, 0644);
    state.PauseTiming();
    std::filesystem::remove_all(root);
    state.ResumeTiming();
  }
  std::filesystem::remove(archive);
}

void BM_ManyFiles_Install(benchmark::State& state) {
  const auto archive = many_file_archive(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    const auto root = fresh_root();
    const auto layout = default_layout(root);
    state.ResumeTiming();
    InstallRequest req;
    req.release = read_release(archive, std::nullopt);
    req.config.owner = FileOwner{::getuid(), ::getgid()};
    req.manager = ServiceManager::None;
    const auto plan = plan_install(layout, req, run_command);
    const auto r = apply_plan(
        layout, plan, run_command, [] { return std::string(); }, [](int) {});
    if (!r.changed) state.SkipWithError(("install failed: " + r.error).c_str());
    state.PauseTiming();
    std::filesystem::remove_all(root);
    state.ResumeTiming();
  }
  std::filesystem::remove(archive);
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
