// The one mount table reader (common/mounts.h): /proc/self/mountinfo's fields, its escapes and
// optional fields, lines it must pass over, and reading it through HostFs (bounded, a FIFO
// refused without blocking, a root without it told apart).
#include "common/mounts.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/test_support.h"

namespace cnm {
namespace {

TEST(ParseMountinfo, TakesEachFieldWithOrWithoutOptionalFields) {
  const auto ms = parse_mountinfo(
      "25 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw,errors=remount-ro\n"
      "26 25 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
      "27 25 0:27 / /mnt/slave rw shared:7 master:1 propagate_from:2 - tmpfs none rw\n"
      "28 25 0:28 / /mnt/sshfs rw unbindable - fuse.sshfs me@host:/ rw\n");
  ASSERT_EQ(ms.size(), 4u);
  EXPECT_EQ(ms[0].root, "/");
  EXPECT_EQ(ms[0].dir, "/");
  EXPECT_EQ(ms[0].options, "rw,relatime");
  EXPECT_EQ(ms[0].type, "ext4");
  EXPECT_EQ(ms[0].source, "/dev/sda1");
  EXPECT_EQ(ms[1].dir, "/sys/fs/cgroup");
  EXPECT_EQ(ms[1].type, "cgroup2");
  EXPECT_EQ(ms[1].options, "rw,nosuid");
  EXPECT_EQ(ms[2].dir, "/mnt/slave");
  EXPECT_EQ(ms[2].type, "tmpfs");
  EXPECT_EQ(ms[2].source, "none");
  EXPECT_EQ(ms[3].type, "fuse.sshfs");
  EXPECT_EQ(ms[3].source, "me@host:/");
}

TEST(ParseMountinfo, UndoesTheKernelsOctalEscapes) {
  // A space (\040), a tab (\011), a newline (\012) and a backslash (\134), in the root, the
  // mount point and the source; a backslash not followed by three octal digits stays.
  const auto ms = parse_mountinfo(
      "40 25 0:40 /my\\040dir /mnt/my\\040cg\\011x rw - cgroup2 a\\134b rw\n"
      "41 25 0:41 / /mnt/nl\\012here rw - tmpfs \\09x rw\n");
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].root, "/my dir");
  EXPECT_EQ(ms[0].dir, "/mnt/my cg\tx");
  EXPECT_EQ(ms[0].source, "a\\b");
  EXPECT_EQ(ms[1].dir, "/mnt/nl\nhere");
  EXPECT_EQ(ms[1].source, "\\09x");
}

TEST(ParseMountinfo, PassesOverLinesThatLackAField) {
  EXPECT_TRUE(parse_mountinfo("").empty());
  EXPECT_TRUE(parse_mountinfo("\n\n  \n").empty());
  // No separator; the separator where OPTIONS should be; nothing after it; FSTYPE but no
  // SOURCE; a line cut inside its mount point.
  const auto ms = parse_mountinfo(
      "1 2 3\n"
      "1 2 3 / /x - cgroup2 none rw\n"
      "1 2 3 / /x rw -\n"
      "1 2 3 / /x rw - cgroup2\n"
      "26 25 0:26 / /sys/fs/cg\n"
      "27 25 0:27 / /ok rw - tmpfs none rw\n");
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].dir, "/ok");
}

// A mount made with an empty device name ("" as mount(2)'s source) shows an empty SOURCE
// between two spaces; the kernel always writes SUPER_OPTIONS, so two fields after the separator
// are FSTYPE and SUPER_OPTIONS.
TEST(ParseMountinfo, TakesAnEmptySourceAsEmpty) {
  const auto ms = parse_mountinfo(
      "30 25 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2  rw,nsdelegate\n"
      "31 25 0:31 / /z rw shared:1 - tmpfs tmpfs rw\n");
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].type, "cgroup2");
  EXPECT_EQ(ms[0].source, "");
  EXPECT_EQ(ms[1].source, "tmpfs");
}

TEST(ParseMountinfo, DropsTheLineTheSizeLimitCut) {
  const std::string text =
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "26 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgro";
  EXPECT_EQ(parse_mountinfo(text, false).size(), 2u);  // a last line without '\n' counts...
  const auto cut = parse_mountinfo(text, true);        // ...unless the limit cut it
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_EQ(cut[0].dir, "/");
  EXPECT_TRUE(parse_mountinfo("26 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw", true).empty());
}

// The cgroup source attaches at the hierarchy's root, and CgroupPaths walks it: found by type
// and by the mount's root (a bind mount of a cgroup inside the hierarchy is no root).
TEST(FindWholeMount, TheFirstMountOfTheTypeWhoseRootIsTheFileSystems) {
  // A hybrid host (cgroup v1 controllers, cgroup2 at unified/).
  const auto hybrid = parse_mountinfo(
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n");
  ASSERT_NE(find_whole_mount(hybrid, "cgroup2"), nullptr);
  EXPECT_EQ(find_whole_mount(hybrid, "cgroup2")->dir, "/sys/fs/cgroup/unified");
  // Unified, a bind mount of a subtree first (a container's /sys/fs/cgroup without a cgroup
  // namespace): passed over for the whole hierarchy after it.
  const auto unified = parse_mountinfo(
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "90 25 0:26 /system.slice/x.service /srv/cg rw shared:4 master:1 - cgroup2 cgroup2 rw\n"
      "26 25 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
      "27 25 0:26 / /mnt/second rw - cgroup2 cgroup2 rw\n");
  ASSERT_EQ(unified[1].root, "/system.slice/x.service");
  ASSERT_NE(find_whole_mount(unified, "cgroup2"), nullptr);
  EXPECT_EQ(find_whole_mount(unified, "cgroup2")->dir, "/sys/fs/cgroup");
  // Only the subtree: none.
  EXPECT_EQ(find_whole_mount(parse_mountinfo("90 25 0:26 /docker/abc /sys/fs/cgroup rw - "
                                             "cgroup2 cgroup2 rw\n"),
                             "cgroup2"),
            nullptr);
  // The type is FSTYPE, not a source or a path that says cgroup2.
  EXPECT_EQ(
      find_whole_mount(parse_mountinfo("33 1 0:5 / /cgroup2 rw - tmpfs cgroup2 rw\n"), "cgroup2"),
      nullptr);
  EXPECT_EQ(find_whole_mount({}, "cgroup2"), nullptr);
}

TEST(ReadMounts, ReadsTheRootsMountinfo) {
  test::TempDir d;
  test::write_file(d / "proc/self/mountinfo",
                   "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                   "26 25 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw\n");
  std::string why;
  const auto ms = read_mounts(HostFs(d.path()), &why);
  ASSERT_TRUE(ms) << why;
  ASSERT_EQ(ms->size(), 2u);
  EXPECT_EQ((*ms)[1].dir, "/sys/fs/cgroup");
  // An empty table is a table with no mount, not a missing one.
  test::write_file(d / "proc/self/mountinfo", "");
  ASSERT_TRUE(read_mounts(HostFs(d.path())));
  EXPECT_TRUE(read_mounts(HostFs(d.path()))->empty());
}

TEST(ReadMounts, SaysWhyWhenThereIsNone) {
  test::TempDir d;
  std::string why;
  EXPECT_FALSE(read_mounts(HostFs(d.path()), &why));
  EXPECT_EQ(why, "/proc/self/mountinfo is missing");
  // /proc/self/mounts alone is no mount table: every kernel since 2.6.26 has mountinfo.
  test::write_file(d / "proc/self/mounts", "sysfs /sys sysfs rw 0 0\n");
  EXPECT_FALSE(read_mounts(HostFs(d.path()), &why));
  EXPECT_EQ(why, "/proc/self/mountinfo is missing");
}

TEST(ReadMounts, RefusesAFifoWithoutBlocking) {
  test::TempDir d;
  std::filesystem::create_directories(d / "proc/self");
  ASSERT_EQ(::mkfifo((d / "proc/self/mountinfo").c_str(), 0644), 0);
  std::string why;
  EXPECT_FALSE(read_mounts(HostFs(d.path()), &why));
  EXPECT_NE(why.find("/proc/self/mountinfo is a FIFO"), std::string::npos) << why;
}

TEST(ReadMounts, ReadsAnOversizedTableUpToTheLimit) {
  test::TempDir d;
  // Lines of 64 bytes up to past the limit; the one the limit cuts is dropped.
  std::string line = "1 1 0:1 / /m rw - tmpfs none rw";
  line += std::string(63 - line.size(), 'x') + "\n";
  ASSERT_EQ(line.size(), 64u);
  const std::size_t lines = kMaxMountTableBytes / 64 + 100;
  const std::string first = "1 1 0:1 / /first rw - tmpfs none rw,x\n";
  ASSERT_NE((kMaxMountTableBytes - first.size()) % 64, 0u);  // the limit cuts a line
  std::string text = first;
  text.reserve(lines * 64 + first.size());
  for (std::size_t i = 0; i < lines; ++i) text += line;
  test::write_file(d / "proc/self/mountinfo", text);
  const auto ms = read_mounts(HostFs(d.path()));
  ASSERT_TRUE(ms);
  EXPECT_EQ((*ms)[0].dir, "/first");
  EXPECT_EQ(ms->size(), 1 + (kMaxMountTableBytes - first.size()) / 64);
  EXPECT_EQ(ms->back().dir, "/m");
}

TEST(ReadMounts, ReadsTheLiveHostsTable) {
  std::string why;
  const auto ms = read_mounts(HostFs("/"), &why);
  ASSERT_TRUE(ms) << why;
  bool root = false, proc = false;
  for (const auto& m : *ms) {
    root = root || m.dir == "/";
    proc = proc || (m.dir == "/proc" && m.type == "proc");
  }
  EXPECT_TRUE(root);
  EXPECT_TRUE(proc);
}

}  // namespace
}  // namespace cnm
