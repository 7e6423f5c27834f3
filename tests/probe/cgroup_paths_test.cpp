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

// The cgroup source attaches at the hierarchy's root: found in /proc/self/mountinfo by fstype
// and by the mount's root field (a bind mount of a folder inside the hierarchy is no root).
TEST(Cgroup2Root, TheFirstCgroup2MountOfTheHierarchysRoot) {
  // A hybrid host (this CI machine's layout): cgroup v1 controllers and cgroup2 at unified/.
  const std::string hybrid =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
  EXPECT_EQ(cgroup2_root_from_mountinfo(hybrid), "/sys/fs/cgroup/unified");
  // Unified, with optional fields; a bind mount of a subtree first is passed over.
  const std::string unified =
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "90 25 0:26 /system.slice/x.service /srv/cg rw shared:4 master:1 - cgroup2 cgroup2 rw\n"
      "26 25 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
      "27 25 0:26 / /mnt/second rw - cgroup2 cgroup2 rw\n";
  EXPECT_EQ(cgroup2_root_from_mountinfo(unified), "/sys/fs/cgroup");
  // Escaped mount points (a space is \040).
  EXPECT_EQ(cgroup2_root_from_mountinfo("26 25 0:26 / /mnt/my\\040cg rw - cgroup2 none rw"),
            "/mnt/my cg");
  // None: cgroup v1 only; a "cgroup2" that is a source or a path, not the type; garbage lines.
  EXPECT_EQ(cgroup2_root_from_mountinfo("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw\n"),
            std::nullopt);
  EXPECT_EQ(cgroup2_root_from_mountinfo("33 1 0:5 / /cgroup2 rw - tmpfs cgroup2 rw\n"),
            std::nullopt);
  EXPECT_EQ(cgroup2_root_from_mountinfo("- cgroup2\n\n  \n1 2 3\n1 2 3 / /x - cgroup2"),
            std::nullopt);
  EXPECT_EQ(cgroup2_root_from_mountinfo(""), std::nullopt);
}

}  // namespace
}  // namespace cnm::probe
