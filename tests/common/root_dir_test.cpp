// --root is a jail: every path resolved inside the root as a chroot would, for reads and
// writes, with openat2(RESOLVE_IN_ROOT) and with the portable walk that kernels before 5.6
// (RHEL 7's 3.10) get. Every test runs under both (the parameter).
#include "common/root_dir.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/file_read.h"
#include "common/host_fs.h"
#include "tests/support/test_support.h"

namespace cnm {
namespace {

class Jail : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { RootDir::force_portable_walk(GetParam()); }
  void TearDown() override { RootDir::force_portable_walk(false); }
  std::filesystem::path root() const { return dir_ / "root"; }
  std::filesystem::path outside() const { return dir_ / "outside"; }
  std::string read(const RootDir& r, const std::string& p) {
    const auto f = read_file(r, p, ReadLimits{});
    return f.ok() ? f.text : "<" + f.why(0) + ">";
  }
  test::TempDir dir_;
};

TEST_P(Jail, AbsoluteLinkToAFolderOutsideResolvesInsideTheRoot) {
  test::write_file(outside() / "secret", "host\n");
  test::write_file(root() / outside().relative_path() / "secret", "root's\n");
  std::filesystem::create_directories(root());
  std::filesystem::create_directory_symlink(outside(), root() / "opt");
  const RootDir r(root());
  EXPECT_EQ(read(r, "/opt/secret"), "root's\n");
}

// The real path inside the root: what the host resolves alike (selinux/relabel.cpp labels it).
TEST_P(Jail, RealPathFollowsLinksInsideTheRoot) {
  test::write_file(root() / "opt/pkg/7.60.0-1/bin/probe", "x");
  std::filesystem::create_directory_symlink("/opt/pkg/7.60.0-1", root() / "opt/pkg/stable");
  std::filesystem::create_directory_symlink("../opt/pkg/stable/bin", root() / "opt/rel");
  const RootDir r(root());
  EXPECT_EQ(r.real_path("/opt/pkg/stable/bin/probe"), "/opt/pkg/7.60.0-1/bin/probe");
  EXPECT_EQ(r.real_path("/opt/rel"), "/opt/pkg/7.60.0-1/bin");
  EXPECT_EQ(r.real_path("/opt/pkg/../../.."), "/");
  EXPECT_FALSE(r.real_path("/opt/pkg/stable/missing"));
  EXPECT_FALSE(r.resolves_alike("/opt/pkg/stable/bin"));  // the host: the link's /opt/pkg
  EXPECT_TRUE(r.resolves_alike(*r.real_path("/opt/pkg/stable/bin")));
}

TEST_P(Jail, DotDotStopsAtTheRootInPathsAndInLinks) {
  test::write_file(dir_ / "etc/passwd", "host\n");
  test::write_file(root() / "etc/passwd", "root's\n");
  std::filesystem::create_directories(root() / "a/b");
  std::filesystem::create_symlink("../../../../../../etc/passwd", root() / "a/b/up");
  const RootDir r(root());
  EXPECT_EQ(read(r, "/../../../etc/passwd"), "root's\n");
  EXPECT_EQ(read(r, "/a/../../../etc/passwd"), "root's\n");
  EXPECT_EQ(read(r, "/a/b/up"), "root's\n");
}

TEST_P(Jail, DotDotAfterALinkGoesUpFromItsTarget) {
  test::write_file(root() / "x/y/file", "y's\n");
  test::write_file(root() / "x/file", "x's\n");
  std::filesystem::create_directory_symlink("/x/y", root() / "link");
  const RootDir r(root());
  EXPECT_EQ(read(r, "/link/file"), "y's\n");
  EXPECT_EQ(read(r, "/link/../file"), "x's\n");  // as a chroot: .. of /x/y is /x
}

TEST_P(Jail, LinkLoopsEndInELOOPAndNoFollowRefusesTheLastLink) {
  std::filesystem::create_directories(root());
  std::filesystem::create_symlink("b", root() / "a");
  std::filesystem::create_symlink("a", root() / "b");
  test::write_file(root() / "real", "x");
  std::filesystem::create_symlink("/real", root() / "l");
  const RootDir r(root());
  EXPECT_FALSE(r.open("/a/x", O_RDONLY));
  EXPECT_EQ(errno, ELOOP);
  EXPECT_FALSE(r.open("/l", O_RDONLY | O_NOFOLLOW));
  EXPECT_EQ(errno, ELOOP);
  EXPECT_TRUE(r.open("/l", O_RDONLY));
}

// The preflight's example: a Debian 8 root whose etc/os-release links to /usr/lib/os-release.
TEST_P(Jail, HostFsReadsTheRootsFileBehindAnAbsoluteLink) {
  test::write_file(root() / "usr/lib/os-release", "ID=debian\nVERSION_ID=\"8\"\n");
  std::filesystem::create_directories(root() / "etc");
  std::filesystem::create_symlink("/usr/lib/os-release", root() / "etc/os-release");
  const HostFs fs(root());
  const auto t = fs.read("/etc/os-release");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->text, "ID=debian\nVERSION_ID=\"8\"\n");
  EXPECT_TRUE(fs.exists("/etc/os-release"));
  EXPECT_TRUE(fs.is_dir("/usr/lib"));
}

TEST_P(Jail, WritesFollowParentLinksInsideTheRootOnly) {
  std::filesystem::create_directories(outside());
  std::filesystem::create_directories(root() / outside().relative_path());
  std::filesystem::create_directory_symlink(outside(), root() / "opt");
  const RootDir r(root());
  atomic_write(r, "/opt/probe", "binary", 0755);
  EXPECT_TRUE(std::filesystem::is_empty(outside()));  // nothing written out of the root
  EXPECT_EQ(test::read_file(root() / outside().relative_path() / "probe"), "binary");
  const auto e = r.parent("/opt/probe");
  ASSERT_TRUE(e.dir);
  EXPECT_EQ(e.name, "probe");
  EXPECT_FALSE(r.parent("/").dir);
}

TEST_P(Jail, ListsAndStatsInsideTheRoot) {
  test::write_file(outside() / "host-only", "");
  test::write_file(root() / outside().relative_path() / "root-only", "");
  std::filesystem::create_directory_symlink(outside(), root() / "d");
  const RootDir r(root());
  EXPECT_EQ(r.list("/d"), std::vector<std::string>{"root-only"});
  EXPECT_TRUE(r.exists("/d/root-only"));
  EXPECT_FALSE(r.exists("/d/host-only"));
}

INSTANTIATE_TEST_SUITE_P(Resolution, Jail, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "PortableWalk" : "Openat2";
                         });

TEST(TempNames, AtomicWriteLeavesNoTempAndItsNamesAreRecognised) {
  test::TempDir d;
  atomic_write(d / "f", "x", 0644);
  EXPECT_EQ(RootDir(d.path()).list("/"), std::vector<std::string>{"f"});
  EXPECT_EQ(temp_file_target(".state.json.cnmkit-aB3xYz").value_or(""), "state.json");
  EXPECT_FALSE(temp_file_target(".state.json.cnmkit-aB3x"));
  EXPECT_FALSE(temp_file_target("state.json.cnmkit-aB3xYz"));
  EXPECT_FALSE(temp_file_target(".state.json.other-aB3xYz"));
}

TEST(RemoveTree, RemovesEverythingBelowAndNeverFollowsALink) {
  test::TempDir d;
  test::write_file(d / "keep/precious", "x");
  test::write_file(d / "t/a/b/c", "x");
  std::filesystem::create_directory_symlink(d / "keep", d / "t/a/link");
  const UniqueFd fd(::open(d.path().c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(remove_tree_at(fd.get(), "t"));
  EXPECT_FALSE(std::filesystem::exists(d / "t"));
  EXPECT_TRUE(std::filesystem::exists(d / "keep/precious"));
}

}  // namespace
}  // namespace cnm
