// Where the probe finds BTF for its CO-RE reads (probe/btf_source.h), in order: the configured
// file, the kernel's own, a file in the BTF folder, the embedded file for the release, or none
// with a reason. The kernel's own is given as a path here (a folder of this test's) so every case
// runs on this machine; the embedded files are the binary's own.
#include "probe/btf_source.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "probe/embedded_files.h"
#include "tests/support/test_support.h"

namespace cnm::probe {
namespace {

TEST(BtfSource, ConfiguredThenKernelThenFolderThenEmbeddedThenNone) {
  test::TempDir dir;
  const auto sysfs = dir / "vmlinux";
  test::write_file(sysfs, "BTF");
  std::filesystem::create_directories(dir / "btf");
  test::write_file(dir / "btf/5.4.0-test.btf", "BTF");

  auto s = BtfSource::find("/etc/x.btf", dir / "btf", "5.4.0-test", sysfs);
  EXPECT_EQ(s.kind(), BtfSource::Kind::kConfigured);
  EXPECT_EQ(s.libbpf_path(), "/etc/x.btf");

  s = BtfSource::find("", dir / "btf", "5.4.0-test", sysfs);
  EXPECT_EQ(s.kind(), BtfSource::Kind::kKernel);
  EXPECT_EQ(s.libbpf_path(), "");  // libbpf's own lookup

  s = BtfSource::find("", dir / "btf", "5.4.0-test", dir / "absent");
  EXPECT_EQ(s.kind(), BtfSource::Kind::kFolder);
  EXPECT_EQ(s.libbpf_path(), (dir / "btf/5.4.0-test.btf").string());

  const auto releases = embedded_btf_releases();
  ASSERT_FALSE(releases.empty()) << "the build embedded no BTF file (probe/btf/make_btfs.sh)";
  const std::string release(releases.front());
  s = BtfSource::find("", dir / "btf", release, dir / "absent");
  ASSERT_EQ(s.kind(), BtfSource::Kind::kEmbedded);
  EXPECT_EQ(s.description(), "the embedded file for " + release);
  // libbpf opens it by path: the path holds the embedded bytes.
  std::ifstream in(s.libbpf_path(), std::ios::binary);
  const std::string got((std::istreambuf_iterator<char>(in)), {});
  const auto want = *embedded_btf(release);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size()), 0);

  s = BtfSource::find("", dir / "btf", "9.9.9-nowhere", dir / "absent");
  EXPECT_EQ(s.kind(), BtfSource::Kind::kNone);
  EXPECT_EQ(s.libbpf_path(), "");
  EXPECT_NE(s.description().find("9.9.9-nowhere.btf"), std::string::npos) << s.description();
  EXPECT_NE(s.description().find("none embedded for 9.9.9-nowhere"), std::string::npos);
}

TEST(BtfSource, TheBuildHostsKernelAndEveryEmbeddedFileIsARealBtf) {
  for (const auto r : embedded_btf_releases()) {
    const auto b = *embedded_btf(r);
    ASSERT_GE(b.size(), 4u) << r;
    // struct btf_header starts with the magic 0xeB9F (little-endian on x86).
    EXPECT_EQ(static_cast<unsigned char>(b[0]), 0x9fu) << r;
    EXPECT_EQ(static_cast<unsigned char>(b[1]), 0xebu) << r;
  }
}

}  // namespace
}  // namespace cnm::probe
