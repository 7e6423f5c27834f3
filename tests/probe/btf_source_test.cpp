// Where the probe finds BTF for its CO-RE reads (probe/btf_source.h), in order: the configured
// file, the kernel's own, a file in the BTF folder, the embedded file for the release, or none
// with a reason. The kernel's own is given as a path here (a folder of this test's) so every case
// runs on this machine; the embedded files are the binary's own.
#include "probe/btf_source.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstring>
#include <fstream>

#include "probe/btf_archive.h"
#include "probe/embedded_files.h"
#include "tests/support/tar_writer.h"
#include "tests/support/test_support.h"

namespace cnm::probe {
namespace {

TEST(BtfSource, ConfiguredThenKernelThenFolderThenEmbeddedThenNone) {
  test::TempDir dir;
  const auto sysfs = dir / "vmlinux";
  test::write_file(sysfs, "BTF");
  std::filesystem::create_directories(dir / "btf");
  test::write_file(dir / "btf/5.4.0-test.btf", "BTF");

  const std::string sysfs_path = sysfs.string();
  auto s = BtfSource::find("/etc/x.btf", dir / "btf", "5.4.0-test", nullptr, sysfs_path);
  EXPECT_EQ(s.kind(), BtfSource::Kind::kConfigured);
  EXPECT_EQ(s.libbpf_path(), "/etc/x.btf");

  s = BtfSource::find("", dir / "btf", "5.4.0-test", nullptr, sysfs_path);
  EXPECT_EQ(s.kind(), BtfSource::Kind::kKernel);
  EXPECT_EQ(s.libbpf_path(), "");  // libbpf's own lookup

  s = BtfSource::find("", dir / "btf", "5.4.0-test", nullptr, (dir / "absent").string());
  EXPECT_EQ(s.kind(), BtfSource::Kind::kFolder);
  EXPECT_EQ(s.libbpf_path(), (dir / "btf/5.4.0-test.btf").string());

  const auto releases = embedded_btf_releases();
  ASSERT_FALSE(releases.empty()) << "the build embedded no BTF file (probe/btf/make_btfs.sh)";
  const std::string release(releases.front());
  s = BtfSource::find("", dir / "btf", release, nullptr, (dir / "absent").string());
  ASSERT_EQ(s.kind(), BtfSource::Kind::kEmbedded);
  EXPECT_EQ(s.description(), "the embedded file for " + release);
  // libbpf opens it by path: the path holds the embedded bytes.
  std::ifstream in(s.libbpf_path(), std::ios::binary);
  const std::string got((std::istreambuf_iterator<char>(in)), {});
  const auto want = *embedded_btf(release);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size()), 0);

  s = BtfSource::find("", dir / "btf", "9.9.9-nowhere", nullptr, (dir / "absent").string());
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

// Under --root (the preflight) the lookup stays in the root: a link that loops or dangles once
// resolved there is no kernel BTF, a BTF folder linked out of the root is not read, and a kernel
// release (a host file's word) with ".." or '/' names no file.
TEST(BtfSource, UnderARootLinksResolveInsideItAndTheReleaseIsOnlyAName) {
  test::TempDir root, outside;
  const std::string release = "5.4.0-jailtest";
  ASSERT_FALSE(embedded_btf(release));
  test::write_file(outside / (release + ".btf"), "BTF");
  std::filesystem::create_directories(root / "sys/kernel/btf");
  std::filesystem::create_directories(root / "opt/x");
  const RootDir r(root.path());

  std::filesystem::create_symlink("/sys/kernel/btf/vmlinux", root / "sys/kernel/btf/vmlinux");
  auto s = BtfSource::find("", "/opt/x/btf", release, &r);
  EXPECT_EQ(s.kind(), BtfSource::Kind::kNone) << s.description();
  EXPECT_NE(s.description().find((root / "sys/kernel/btf/vmlinux").string()), std::string::npos)
      << s.description();
  std::filesystem::remove(root / "sys/kernel/btf/vmlinux");
  std::filesystem::create_symlink("/nowhere", root / "sys/kernel/btf/vmlinux");
  EXPECT_EQ(BtfSource::find("", "/opt/x/btf", release, &r).kind(), BtfSource::Kind::kNone);

  std::filesystem::create_symlink(outside.path(), root / "opt/x/btf");
  s = BtfSource::find("", "/opt/x/btf", release, &r);
  EXPECT_EQ(s.kind(), BtfSource::Kind::kNone) << s.description();
  // The same file inside the root counts, linked from the root's own folder as well.
  std::filesystem::remove(root / "opt/x/btf");
  test::write_file(root / "opt/x/real" / (release + ".btf"), "BTF");
  std::filesystem::create_symlink("/opt/x/real", root / "opt/x/btf");
  s = BtfSource::find("", "/opt/x/btf", release, &r);
  EXPECT_EQ(s.kind(), BtfSource::Kind::kFolder) << s.description();
  EXPECT_EQ(s.description(), "file " + (root / "opt/x/btf" / (release + ".btf")).string());

  // "../real/<release>" from /opt/x/btf is /opt/x/real/<release>.btf: there, but not a name.
  s = BtfSource::find("", "/opt/x/btf", "../real/" + release, &r);
  EXPECT_EQ(s.kind(), BtfSource::Kind::kNone) << s.description();
  EXPECT_NE(s.description().find("names no BTF file"), std::string::npos) << s.description();
  for (const char* bad : {"", "..", "a/b", "x..y"}) EXPECT_FALSE(release_is_file_name(bad)) << bad;
  EXPECT_TRUE(release_is_file_name("5.10.0-46-amd64"));
}

// The daemon's lookup (the live host's root): the kernel's file is a regular file; a folder is
// none, a link to a file is the file.
TEST(BtfSource, OnTheLiveHostOnlyARegularFileIsTheKernels) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "adir");
  test::write_file(dir / "file", "BTF");
  std::filesystem::create_symlink(dir / "file", dir / "link");
  EXPECT_EQ(BtfSource::find("", "", "9.9.9-nowhere", nullptr, (dir / "adir").string()).kind(),
            BtfSource::Kind::kNone);
  EXPECT_EQ(BtfSource::find("", "", "9.9.9-nowhere", nullptr, (dir / "link").string()).kind(),
            BtfSource::Kind::kKernel);
}

// The folder's BTF archive comes after the folder's own file and before the embedded one; one
// that cannot be read (damaged, a FIFO that would block a plain open) is passed over, and when
// nothing else has the file either, the description says why.
TEST(BtfSource, TheFoldersArchiveComesAfterItsFileAndBeforeTheEmbedded) {
  test::TempDir dir;
  const auto releases = embedded_btf_releases();
  ASSERT_FALSE(releases.empty());
  const std::string release(releases.front());
  const auto b = *embedded_btf(release);
  const std::string btf(reinterpret_cast<const char*>(b.data()), b.size());
  // A second release only the archive has; its bytes are the first's (real BTF either way).
  const std::string fleet_only = "3.10.0-1160.cnmtest.el7.x86_64";
  std::filesystem::create_directories(dir / "btf");
  const auto archive = dir / "btf" / kBtfArchiveName;
  test::write_tar(archive, {{"centos/7/" + fleet_only + ".btf", btf}, {release + ".btf", btf}},
                  archive_write_add_filter_xz);
  const std::string absent = (dir / "absent").string();

  auto s = BtfSource::find("", dir / "btf", fleet_only, nullptr, absent);
  ASSERT_EQ(s.kind(), BtfSource::Kind::kArchive) << s.description();
  EXPECT_EQ(s.description(), "the file for " + fleet_only + " in " + archive.string());
  EXPECT_EQ(test::read_file(s.libbpf_path()), btf);
  // Before the embedded file of the same release.
  EXPECT_EQ(BtfSource::find("", dir / "btf", release, nullptr, absent).kind(),
            BtfSource::Kind::kArchive);
  // After the folder's own file.
  test::write_file(dir / "btf" / (fleet_only + ".btf"), "BTF");
  EXPECT_EQ(BtfSource::find("", dir / "btf", fleet_only, nullptr, absent).kind(),
            BtfSource::Kind::kFolder);
  std::filesystem::remove(dir / "btf" / (fleet_only + ".btf"));
  // An archive named elsewhere (the preflight's --btf-archive) instead of the folder's.
  std::filesystem::rename(archive, dir / "elsewhere.tar.xz");
  s = BtfSource::find("", dir / "btf", fleet_only, nullptr, absent,
                      (dir / "elsewhere.tar.xz").string());
  EXPECT_EQ(s.kind(), BtfSource::Kind::kArchive) << s.description();
  s = BtfSource::find("", dir / "btf", fleet_only, nullptr, absent);
  EXPECT_EQ(s.kind(), BtfSource::Kind::kNone) << s.description();

  // Damaged: passed over to the embedded file, or none with why.
  test::write_file(archive, "not an archive at all, not even close to one, no");
  EXPECT_EQ(BtfSource::find("", dir / "btf", release, nullptr, absent).kind(),
            BtfSource::Kind::kEmbedded);
  s = BtfSource::find("", dir / "btf", fleet_only, nullptr, absent);
  EXPECT_EQ(s.kind(), BtfSource::Kind::kNone);
  EXPECT_NE(s.description().find("BTF archive " + archive.string()), std::string::npos)
      << s.description();
  // A FIFO: not waited on.
  std::filesystem::remove(archive);
  ASSERT_EQ(::mkfifo(archive.c_str(), 0600), 0);
  s = BtfSource::find("", dir / "btf", fleet_only, nullptr, absent);
  EXPECT_EQ(s.kind(), BtfSource::Kind::kNone);
  EXPECT_NE(s.description().find(archive.string() + " is a FIFO, not a regular file"),
            std::string::npos)
      << s.description();
}

}  // namespace
}  // namespace cnm::probe
