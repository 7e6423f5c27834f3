// What a BTF archive (probe/btf_archive.h) costs the preflight on a host without kernel BTF:
// whole-process time of `cnmctl preflight --root R --probe cnmkit --json` for a CentOS 7 host
// description whose BTF comes from, interleaved run by run:
//   file          <bpf_object_dir>/btf/<release>.btf (the baseline: one small file read)
//   first         the BTF archive, this kernel's file its first member
//   last          the BTF archive, this kernel's file its last member (all of it unpacked)
//   last, random  the same, the other members random bytes (incompressible)
// and `cnmctl --version` (the process floor). The archive holds KERNELS members of one real
// minimized BTF file's size, xz-compressed. The lookup pays for unpacking: copies of one file
// (first, last) are xz's best case, random members its worst; an archive of distinct real files
// lies between. Prints medians (min-max) and the ratios to the baseline.
//   bench_btf_archive CNMCTL BTF_FILE [ROUNDS] [KERNELS]
#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/support/process_timing.h"

namespace {

namespace fs = std::filesystem;

// 0 supported, 1 unsupported: both answer; anything else is not a measurement.
double run_ms(const std::vector<std::string>& argv) {
  const auto r = cnm::bench::run_timed(argv);
  if (r.exit_code < 0 || r.exit_code > 1) {
    std::fprintf(stderr, "%s exited %d\n", argv[0].c_str(), r.exit_code);
    std::exit(2);
  }
  return r.ms;
}

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A CentOS 7 host description without kernel BTF, judged for cnm-probe.
fs::path host(const fs::path& dir, const std::string& release) {
  write_file(dir / "etc/os-release", "ID=centos\nVERSION_ID=\"7\"\n");
  write_file(dir / "proc/sys/kernel/osrelease", release + "\n");
  write_file(dir / "sys/kernel/notes", "");
  return dir;
}

// KERNELS members of btf's size, the release's own (btf) at `position` (0 first, kernels - 1
// last); the others copies of btf, or random bytes.
void write_archive(const fs::path& out, const std::string& btf, int kernels, int position,
                   const std::string& release, bool random_others) {
  std::mt19937 gen(42);
  std::string other = btf;
  archive* a = archive_write_new();
  archive_write_add_filter_xz(a);
  archive_write_set_format_gnutar(a);
  if (archive_write_open_filename(a, out.c_str()) != ARCHIVE_OK) {
    std::fprintf(stderr, "cannot write %s\n", out.c_str());
    std::exit(2);
  }
  for (int i = 0; i < kernels; ++i) {
    const std::string name = "centos/7/x86_64/" +
                             (i == position ? release : "3.10.0-" + std::to_string(i) + ".el7") +
                             ".btf";
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(btf.size()));
    archive_write_header(a, e);
    if (random_others && i != position)
      for (auto& c : other) c = static_cast<char>(gen());
    const std::string& data = i == position ? btf : other;
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CNMCTL BTF_FILE [ROUNDS] [KERNELS]\n", argv[0]);
    return 2;
  }
  const std::string cnmctl = argv[1];
  const std::string btf = read_file(argv[2]);
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 30;
  const int kernels = argc > 4 ? std::atoi(argv[4]) : 3000;
  const std::string release = "3.10.0-1160.bench.el7.x86_64";
  char tmpl[] = "/tmp/bench-btf-archive-XXXXXX";
  const fs::path dir = ::mkdtemp(tmpl);
  const fs::path btf_dir = "opt/cnmkit/ebpf/btf";

  const auto file = host(dir / "file", release);
  write_file(file / btf_dir / (release + ".btf"), btf);
  const auto first = host(dir / "first", release);
  fs::create_directories(first / btf_dir);
  write_archive(first / btf_dir / "minimized-btfs.tar.xz", btf, kernels, 0, release, false);
  const auto last = host(dir / "last", release);
  fs::create_directories(last / btf_dir);
  write_archive(last / btf_dir / "minimized-btfs.tar.xz", btf, kernels, kernels - 1, release,
                false);
  const auto random = host(dir / "random", release);
  fs::create_directories(random / btf_dir);
  write_archive(random / btf_dir / "minimized-btfs.tar.xz", btf, kernels, kernels - 1, release,
                true);
  const auto archive_bytes = fs::file_size(last / btf_dir / "minimized-btfs.tar.xz");
  const auto random_bytes = fs::file_size(random / btf_dir / "minimized-btfs.tar.xz");

  const auto preflight = [&](const fs::path& root) {
    return std::vector<std::string>{cnmctl,    "preflight", "--root", root.string(),
                                    "--probe", "cnmkit",    "--json"};
  };
  std::vector<double> t_file, t_first, t_last, t_random, t_floor;
  for (int i = 0; i < rounds; ++i) {
    t_file.push_back(run_ms(preflight(file)));
    t_first.push_back(run_ms(preflight(first)));
    t_last.push_back(run_ms(preflight(last)));
    t_random.push_back(run_ms(preflight(random)));
    t_floor.push_back(run_ms({cnmctl, "--version"}));
  }
  fs::remove_all(dir);

  const auto show = [](const char* what, const cnm::bench::Spread& s) {
    std::printf("%-44s %8.2f ms (%.2f-%.2f)\n", what, s.median, s.min, s.max);
  };
  using cnm::bench::spread;
  const auto f = spread(t_file), a = spread(t_first), z = spread(t_last), r = spread(t_random),
             floor = spread(t_floor);
  std::printf(
      "%d rounds; archive: %d kernels of %zu bytes each, %.1f MiB unpacked; xz %.1f KiB (copies), "
      "%.1f KiB (random others)\n",
      rounds, kernels, btf.size(), kernels * btf.size() / 1048576.0, archive_bytes / 1024.0,
      random_bytes / 1024.0);
  show("preflight, BTF from <release>.btf (baseline)", f);
  show("preflight, BTF archive, kernel first", a);
  show("preflight, BTF archive, kernel last", z);
  show("preflight, BTF archive, kernel last, random", r);
  show("cnmctl --version (process floor)", floor);
  std::printf("ratios to the baseline: first %.2fx, last %.2fx, last with random others %.2fx\n",
              a.median / f.median, z.median / f.median, r.median / f.median);
  return 0;
}
