// probe/btf/make_btf_archive.sh, run for real with bpftool on this kernel's full BTF laid out as
// BTFHub lays out its archive (<distro>/<version>/<arch>/<release>.btf.tar.xz) and as a raw
// file: the archive it makes passes the installer's check, holds each kernel's file xz-packed
// on its own in a plain tar (as GNU tar and xz read it), and the file it holds for this kernel
// is byte for byte the one the build minimized for it (probe/btf/make_btfs.sh).
#include <gtest/gtest.h>

#include <algorithm>

#include "common/uname.h"
#include "probe/btf_archive.h"
#include "tests/support/test_support.h"

namespace cnm::probe {
namespace {

test::RunResult make_archive(const std::filesystem::path& out,
                             const std::vector<std::string>& sources) {
  std::vector<std::string> argv{"env", "BPFTOOL=" CNM_BPFTOOL,
                                CNM_SOURCE_DIR "/probe/btf/make_btf_archive.sh", out.string(),
                                CNM_PROBE_BPF_DIR};
  argv.insert(argv.end(), sources.begin(), sources.end());
  return test::run(argv);
}

TEST(MakeBtfArchive, BtfhubLayoutAndRawFilesGiveTheBuildsMinimizedFiles) {
  const std::string release = running_uname().release;
  ASSERT_TRUE(std::filesystem::exists("/sys/kernel/btf/vmlinux"))
      << "this kernel has no BTF to make an archive from";
  const std::string full = test::read_file("/sys/kernel/btf/vmlinux");
  test::TempDir dir;
  const std::string el7 = "3.10.0-1160.cnmtest.el7.x86_64";
  test::write_file(dir / "stage" / (el7 + ".btf"), full);
  std::filesystem::create_directories(dir / "hub/centos/7/x86_64");
  ASSERT_EQ(
      test::run({"tar", "-C", (dir / "stage").string(), "-cJf",
                 (dir / "hub/centos/7/x86_64" / (el7 + ".btf.tar.xz")).string(), el7 + ".btf"})
          .exit_code,
      0);
  test::write_file(dir / "raw" / (release + ".btf"), full);
  // The same release twice: the first in path order is kept, with a warning (the second is no
  // BTF at all: minimizing it would fail the run).
  test::write_file(dir / "raw/again" / (release + ".btf"), "not BTF");

  const auto r = make_archive(dir / "fleet.tar", {(dir / "hub").string(), (dir / "raw").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 kernels"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("warning: " + release + " met again"), std::string::npos) << r.err;
  const std::string bytes = test::read_file(dir / "fleet.tar");
  auto releases = check_btf_archive(bytes, "fleet.tar").releases;
  std::sort(releases.begin(), releases.end());
  std::vector<std::string> want{el7, release};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(releases, want);
  // The real tools' view: a plain tar (tar -t would need -J for a tar.xz), each member a
  // <release>.btf.xz that xz unpacks.
  const auto listed = test::run({"tar", "-tf", (dir / "fleet.tar").string()});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out, "./\n./" + std::min(el7, release) + ".btf.xz\n./" + std::max(el7, release) +
                            ".btf.xz\n");
  const auto unpacked = test::run(
      {"sh", "-c", "tar -xOf \"$0\" ./\"$1\".btf.xz | xz -dc | cmp - \"$2\"",
       (dir / "fleet.tar").string(), release,
       (std::filesystem::path(CNM_BINARY_DIR) / "probe/btf" / (release + ".btf")).string()});
  EXPECT_EQ(unpacked.exit_code, 0) << unpacked.out << unpacked.err;

  const std::filesystem::path built =
      std::filesystem::path(CNM_BINARY_DIR) / "probe/btf" / (release + ".btf");
  ASSERT_TRUE(std::filesystem::exists(built));
  const auto found = btf_from_archive(bytes, release, "fleet.tar");
  ASSERT_TRUE(found.btf.has_value()) << found.problem;
  EXPECT_EQ(*found.btf, test::read_file(built));

  // Reproducible: the same sources give the same bytes, whatever the umask.
  const auto again =
      test::run({"sh", "-c", "umask 077 && exec \"$0\" \"$@\"", "env", "BPFTOOL=" CNM_BPFTOOL,
                 CNM_SOURCE_DIR "/probe/btf/make_btf_archive.sh", (dir / "again.tar").string(),
                 CNM_PROBE_BPF_DIR, (dir / "hub").string(), (dir / "raw").string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(test::read_file(dir / "again.tar"), bytes);
}

TEST(MakeBtfArchive, SourcesWithoutKernelBtfAreRefused) {
  test::TempDir dir;
  test::write_file(dir / "stage/README", "no BTF here\n");
  std::filesystem::create_directories(dir / "hub");
  ASSERT_EQ(test::run({"tar", "-C", (dir / "stage").string(), "-cJf",
                       (dir / "hub/5.4.0-1-amd64.btf.tar.xz").string(), "README"})
                .exit_code,
            0);
  auto r = make_archive(dir / "out.tar", {(dir / "hub").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("holds no .btf file"), std::string::npos) << r.err;
  std::filesystem::create_directories(dir / "empty");
  r = make_archive(dir / "out.tar", {(dir / "empty").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no kernel BTF found"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out.tar"));
}

}  // namespace
}  // namespace cnm::probe
