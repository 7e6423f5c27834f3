// CgroupPaths on a plain folder tree (the walk is the same as on a cgroup2 mount): ids are the
// folders' inode numbers, paths are relative to the mount with a leading "/".
#include "probe/cgroup_paths.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/test_support.h"

namespace cnm::probe {
namespace {

std::uint64_t inode(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_ino;
}

TEST(CgroupPaths, MapsFolderInodesToPathsBelowTheMount) {
  test::TempDir dir;
  const auto scope = dir / "system.slice/docker-abc.scope";
  std::filesystem::create_directories(scope);
  test::write_file(dir / "system.slice/cgroup.procs", "1\n");  // files are not cgroups
  CgroupPaths paths(dir.path());
  EXPECT_EQ(paths.path_of(inode(scope)), "/system.slice/docker-abc.scope");
  EXPECT_EQ(paths.path_of(inode(dir / "system.slice")), "/system.slice");
  EXPECT_EQ(paths.path_of(inode(dir.path())), "/");
  EXPECT_EQ(paths.path_of(inode(dir / "system.slice/cgroup.procs")), std::nullopt);
  EXPECT_EQ(paths.path_of(0), std::nullopt);
  // A path seen once is kept after its folder is removed (a container gone before its last
  // connection is read).
  const auto id = inode(scope);
  std::filesystem::remove(scope);
  EXPECT_EQ(paths.path_of(id), "/system.slice/docker-abc.scope");
}

TEST(CgroupPaths, NoMountMeansNoPath) {
  CgroupPaths none{std::filesystem::path()};
  EXPECT_EQ(none.path_of(1), std::nullopt);
}

// This host's cgroup v2 hierarchy, as the probe finds it: a cgroup2 mount from mountinfo whose
// folder is a cgroup (the walk maps its inode to "/"). Which mounts count is tested on
// mountinfo text in tests/common/mounts_test.cpp.
TEST(CgroupPaths, FindsThisHostsCgroup2Hierarchy) {
  std::string why;
  const auto mount = CgroupPaths::find_cgroup2_mount(&why);
  ASSERT_FALSE(mount.empty()) << why;
  EXPECT_TRUE(std::filesystem::exists(mount / "cgroup.procs")) << mount;
  CgroupPaths paths(mount);
  EXPECT_EQ(paths.path_of(inode(mount)), "/");
}

}  // namespace
}  // namespace cnm::probe
