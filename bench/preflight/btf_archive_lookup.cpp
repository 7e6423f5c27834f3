// What a BTF archive (probe/btf_archive.h) costs the preflight on a host without kernel BTF:
// whole-process time of `cnmctl preflight --root R --probe cnmkit --json` for a CentOS 7 host
// description whose BTF comes from, interleaved run by run:
//   file          <bpf_object_dir>/btf/<release>.btf (the baseline: one small file read)
//   first         the BTF archive, this kernel's file its first member
//   last          the BTF archive, this kernel's file its last member (all of it unpacked)
//   last, random  the same, the other members random bytes (incompressible)
//   packed        members packed one by one (<release>.btf.xz) in a plain tar, as
//                 probe/btf/make_btf_archive.sh writes it; this kernel's last, the others copies
//                 (each packs as a real minimized file does: the archive has a real one's size)
//   packed, random the same, the others random bytes (packed, larger than they were)
// and `cnmctl --version` (the process floor). The archive holds KERNELS members of one real
// minimized BTF file's size, xz-compressed. The lookup pays for unpacking: copies of one file
// (first, last) are xz's best case, random members its worst; an archive of distinct real files
// lies between; packed one by one, only this kernel's member is unpacked, whatever the others
// hold. Prints medians (min-max) and the ratios to the baseline.
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

enum class Others { kCopies, kRandom };
enum class Packing { kWholeXz, kEachMember };

// KERNELS members of btf's size, the release's own (btf) at `position` (0 first, kernels - 1
// last); the others copies of btf, or random bytes. kWholeXz: raw <release>.btf files in a
// tar.xz; kEachMember: each file packed by the real xz as probe/btf/make_btf_archive.sh packs it
// (<release>.btf.xz) in a plain tar.
void write_archive(const fs::path& out, const std::string& btf, int kernels, int position,
                   const std::string& release, Others others, Packing packing) {
  std::mt19937 gen(42);
  std::string other = btf;
  std::vector<std::pair<std::string, std::string>> members;  // name, data
  for (int i = 0; i < kernels; ++i) {
    if (others == Others::kRandom && i != position)
      for (auto& c : other) c = static_cast<char>(gen());
    members.emplace_back("centos/7/x86_64/" +
                             (i == position ? release : "3.10.0-" + std::to_string(i) + ".el7") +
                             ".btf",
                         i == position ? btf : other);
  }
  if (packing == Packing::kEachMember) {
    const fs::path stage = out.parent_path() / "stage";
    std::vector<std::string> xz = {"xz", "-T1", "--lzma2=preset=9e,dict=1MiB"};
    for (std::size_t i = 0; i < members.size(); ++i) {
      write_file(stage / (std::to_string(i) + ".btf"), members[i].second);
      xz.push_back((stage / (std::to_string(i) + ".btf")).string());
    }
    if (cnm::bench::run_timed(xz).exit_code != 0) {
      std::fprintf(stderr, "xz failed\n");
      std::exit(2);
    }
    for (std::size_t i = 0; i < members.size(); ++i) {
      members[i].first += ".xz";
      members[i].second = read_file(stage / (std::to_string(i) + ".btf.xz"));
    }
    fs::remove_all(stage);
  }
  archive* a = archive_write_new();
  if (packing == Packing::kWholeXz) archive_write_add_filter_xz(a);
  archive_write_set_format_gnutar(a);
  if (archive_write_open_filename(a, out.c_str()) != ARCHIVE_OK) {
    std::fprintf(stderr, "cannot write %s\n", out.c_str());
    std::exit(2);
  }
  for (const auto& [name, data] : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_write_header(a, e);
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
  // An archive of this layout in a host description of its own.
  const auto with_archive = [&](const char* name, int position, Others others, Packing packing) {
    const auto root = host(dir / name, release);
    fs::create_directories(root / btf_dir);
    write_archive(root / btf_dir / "minimized-btfs.tar", btf, kernels, position, release, others,
                  packing);
    return root;
  };
  const auto first = with_archive("first", 0, Others::kCopies, Packing::kWholeXz);
  const auto last = with_archive("last", kernels - 1, Others::kCopies, Packing::kWholeXz);
  const auto random = with_archive("random", kernels - 1, Others::kRandom, Packing::kWholeXz);
  const auto packed = with_archive("packed", kernels - 1, Others::kCopies, Packing::kEachMember);
  const auto packed_random =
      with_archive("packed-random", kernels - 1, Others::kRandom, Packing::kEachMember);
  const auto size_of = [&](const fs::path& root) {
    return fs::file_size(root / btf_dir / "minimized-btfs.tar") / 1024.0;
  };

  const auto preflight = [&](const fs::path& root) {
    return std::vector<std::string>{cnmctl,    "preflight", "--root", root.string(),
                                    "--probe", "cnmkit",    "--json"};
  };
  std::vector<double> t_file, t_first, t_last, t_random, t_packed, t_packed_random, t_floor;
  for (int i = 0; i < rounds; ++i) {
    t_file.push_back(run_ms(preflight(file)));
    t_first.push_back(run_ms(preflight(first)));
    t_last.push_back(run_ms(preflight(last)));
    t_random.push_back(run_ms(preflight(random)));
    t_packed.push_back(run_ms(preflight(packed)));
    t_packed_random.push_back(run_ms(preflight(packed_random)));
    t_floor.push_back(run_ms({cnmctl, "--version"}));
  }
  const double last_kib = size_of(last), random_kib = size_of(random), packed_kib = size_of(packed),
               packed_random_kib = size_of(packed_random);
  fs::remove_all(dir);

  const auto show = [](const char* what, const cnm::bench::Spread& s) {
    std::printf("%-52s %8.2f ms (%.2f-%.2f)\n", what, s.median, s.min, s.max);
  };
  using cnm::bench::spread;
  const auto f = spread(t_file), a = spread(t_first), z = spread(t_last), r = spread(t_random),
             p = spread(t_packed), pr = spread(t_packed_random), floor = spread(t_floor);
  std::printf(
      "%d rounds; archive: %d kernels of %zu bytes each, %.1f MiB unpacked; tar.xz %.1f KiB "
      "(copies), %.1f KiB (random others); tar of members packed one by one %.1f KiB (copies), "
      "%.1f KiB (random others)\n",
      rounds, kernels, btf.size(), kernels * btf.size() / 1048576.0, last_kib, random_kib,
      packed_kib, packed_random_kib);
  show("preflight, BTF from <release>.btf (baseline)", f);
  show("preflight, tar.xz, kernel first", a);
  show("preflight, tar.xz, kernel last", z);
  show("preflight, tar.xz, kernel last, random", r);
  show("preflight, packed one by one, kernel last", p);
  show("preflight, packed one by one, kernel last, random", pr);
  show("cnmctl --version (process floor)", floor);
  std::printf(
      "ratios to the baseline: first %.2fx, last %.2fx, last with random others %.2fx, packed one "
      "by one %.2fx, with random others %.2fx\n",
      a.median / f.median, z.median / f.median, r.median / f.median, p.median / f.median,
      pr.median / f.median);
  return 0;
}
