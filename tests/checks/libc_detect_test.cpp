// The host's C library, read from files: the version text of both glibc layouts, musl, hostile
// files, and this machine's own glibc (the test binary is linked dynamically, so the glibc it
// runs on is the host's).
#include "checks/libc_detect.h"

#include <gnu/libc-version.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/test_support.h"

namespace cnm {
namespace {

using namespace std::string_literals;

TEST(LibcVersion, FromGlibcsBanner) {
  EXPECT_EQ(glibc_version_from_banner(
                "\0GNU C Library (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36.\n"s),
            "2.36");
  EXPECT_EQ(glibc_version_from_banner("GNU C Library (GNU libc) stable release version 2.17, by "
                                      "Roland McGrath et al."),
            "2.17");
  // "release version" outside glibc's banner, and a banner without a version, say nothing.
  EXPECT_EQ(glibc_version_from_banner("\0zlib release version 1.2.13\0"s), std::nullopt);
  EXPECT_EQ(glibc_version_from_banner("GNU C Library release version ."), std::nullopt);
  EXPECT_EQ(glibc_version_from_banner(""), std::nullopt);
}

TEST(LibcVersion, FromOldGlibcsFileName) {
  EXPECT_EQ(glibc_version_from_file_name("libc-2.17.so"), "2.17");
  EXPECT_EQ(glibc_version_from_file_name("libc-2.28.so"), "2.28");
  EXPECT_EQ(glibc_version_from_file_name("libc.so.6"), std::nullopt);
  EXPECT_EQ(glibc_version_from_file_name("libc-2.17x.so"), std::nullopt);
  EXPECT_EQ(glibc_version_from_file_name("libc-.so"), std::nullopt);
}

TEST(LibcDetect, ThisMachinesGlibcIsTheOneThisProcessRunsOn) {
  const auto libc = detect_libc(HostFs("/"), "x86_64");
  ASSERT_TRUE(libc);
  EXPECT_EQ(libc->name, "glibc");
  EXPECT_EQ(libc->version, std::string(gnu_get_libc_version())) << libc->source;
}

TEST(LibcDetect, UnreadableOrStrangeFilesGiveTheNameWithoutAVersion) {
  test::TempDir root;
  std::filesystem::create_directories(root / "lib64");
  ASSERT_EQ(::mkfifo((root / "lib64/libc.so.6").c_str(), 0644), 0);  // must not block
  auto libc = detect_libc(HostFs(root.path()), "x86_64");
  ASSERT_TRUE(libc);
  EXPECT_EQ(libc->name, "glibc");
  EXPECT_EQ(libc->version, std::nullopt);
  EXPECT_EQ(libc->source, "/lib64/libc.so.6");

  test::TempDir junk;
  test::write_file(junk / "usr/lib/aarch64-linux-gnu/libc.so.6", std::string(100000, 'x'));
  libc = detect_libc(HostFs(junk.path()), "aarch64");
  ASSERT_TRUE(libc);
  EXPECT_EQ(libc->version, std::nullopt);
}

// Under --root an absolute link is the root's, as in a chroot: never this machine's glibc.
TEST(LibcDetect, AbsoluteLinksResolveInsideTheRoot) {
  test::TempDir root;
  test::write_file(root / "lib/x86_64-linux-gnu/libc.so.6",
                   "x\0GNU C Library (fixture) stable release version 2.99.\n"s);
  std::filesystem::create_directories(root / "lib64");
  std::filesystem::create_symlink("/lib/x86_64-linux-gnu/libc.so.6", root / "lib64/libc.so.6");
  auto libc = detect_libc(HostFs(root.path()), "x86_64");
  ASSERT_TRUE(libc);
  EXPECT_EQ(libc->version, "2.99");

  test::TempDir dangling;  // a link to the host's glibc that the root does not have
  std::filesystem::create_directories(dangling / "lib64");
  std::filesystem::create_symlink("/lib/x86_64-linux-gnu/libc.so.6", dangling / "lib64/libc.so.6");
  libc = detect_libc(HostFs(dangling.path()), "x86_64");
  EXPECT_FALSE(libc && libc->version) << "read the host's " << *libc->version;
}

TEST(LibcDetect, MuslAndNothing) {
  test::TempDir root;
  test::write_file(root / "lib/ld-musl-aarch64.so.1", "");
  const auto libc = detect_libc(HostFs(root.path()), "aarch64");
  ASSERT_TRUE(libc);
  EXPECT_EQ(libc->name, "musl");
  test::TempDir empty;
  EXPECT_EQ(detect_libc(HostFs(empty.path()), "x86_64"), std::nullopt);
}

// Debian and Ubuntu hosts with the `musl` package (a dependency of musl-tools) have musl's loader
// beside their glibc: the host is still a glibc host. A libc.so.6 that is not glibc (no banner, no
// libc-2.NN.so name) beside musl's loader is taken for a shim on a musl host.
TEST(LibcDetect, GlibcWithMuslsLoaderInstalledIsGlibc) {
  test::TempDir root;
  test::write_file(root / "usr/lib/x86_64-linux-musl/libc.so", "");
  std::filesystem::create_directories(root / "lib/x86_64-linux-gnu");
  test::write_file(root / "lib/x86_64-linux-gnu/libc-2.31.so", "");
  std::filesystem::create_symlink("libc-2.31.so", root / "lib/x86_64-linux-gnu/libc.so.6");
  std::filesystem::create_symlink("/usr/lib/x86_64-linux-musl/libc.so",
                                  root / "lib/ld-musl-x86_64.so.1");
  auto libc = detect_libc(HostFs(root.path()), "x86_64");
  ASSERT_TRUE(libc);
  EXPECT_EQ(libc->name, "glibc");
  EXPECT_EQ(libc->version, "2.31");

  test::TempDir shim;
  test::write_file(shim / "lib/ld-musl-x86_64.so.1", "");
  test::write_file(shim / "lib/libc.so.6", "not glibc");
  libc = detect_libc(HostFs(shim.path()), "x86_64");
  ASSERT_TRUE(libc);
  EXPECT_EQ(libc->name, "musl");
}

}  // namespace
}  // namespace cnm
