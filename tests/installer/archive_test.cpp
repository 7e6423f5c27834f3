// Release archives: the one the build makes is accepted; hostile ones built here are refused
// as a whole, by the library and through `cnmctl install`, with nothing written anywhere.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "installer/release_archive.h"
#include "installer/sha256.h"
#include "tests/installer/archive_builder.h"
#include "tests/installer/tree_snapshot.h"
#include "tests/support/test_support.h"

namespace cnm {
namespace {

using test::ArEntry;

const ArEntry kExample{"config/system-probe.yaml.example", "network_config:\n  enabled: false\n"};
const ArEntry kBinary{"bin/system-probe", std::string("\x7f"
                                                      "ELF\0\0fake",
                                                      10)};

void expect_refused(const std::vector<ArEntry>& entries, const std::string& why,
                    bool manifest = true) {
  test::TempDir d;
  const auto file = d / "r.tar.gz";
  test::write_archive(file, entries, manifest);
  try {
    read_release(file, std::nullopt);
    ADD_FAILURE() << "accepted an archive that should fail with: " << why;
  } catch (const ArchiveError& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

TEST(ReleaseArchive, BuiltArchiveIsAcceptedAndMatchesItsManifest) {
  const auto rel = read_release(CNM_RELEASE_ARCHIVE, sha256_file_hex(CNM_RELEASE_ARCHIVE));
  ASSERT_TRUE(rel.files.count("config/system-probe.yaml.example"));
  EXPECT_EQ(rel.files.at("config/system-probe.yaml.example"),
            test::read_file(test::source_dir() / "installer/dist/system-probe.yaml.example"));
  EXPECT_TRUE(rel.files.count("systemd/cnm-probe.service.in"));
  EXPECT_TRUE(rel.files.count("init.d/cnm-probe.init.in"));
  EXPECT_FALSE(rel.files.count(kManifestName));
}

TEST(ReleaseArchive, GoodTestArchiveRoundTrips) {
  test::TempDir d;
  test::write_archive(d / "ok.tar.gz",
                      {{"ebpf", "", AE_IFDIR}, kExample, kBinary, {"ebpf/t.bpf.o", "obj"}});
  const auto rel = read_release(d / "ok.tar.gz", std::nullopt);
  EXPECT_EQ(rel.files.size(), 3u);
  EXPECT_EQ(rel.files.at("bin/system-probe"), kBinary.content);
}

// `tar -C dir .` (GNU tar, the real one) starts with a "./" entry and names every file
// "./x"; a manifest written on Windows has CRLF lines. Both are accepted.
TEST(ReleaseArchive, TarOfDotWithCrlfManifestAccepted) {
  test::TempDir d;
  const auto tree = d / "tree";
  test::write_file(tree / kExample.name, kExample.content);
  test::write_file(tree / kBinary.name, kBinary.content);
  test::write_file(tree / std::string(kManifestName),
                   sha256_hex(kExample.content) + "  " + kExample.name + "\r\n" +
                       sha256_hex(kBinary.content) + "  ./" + kBinary.name + "\r\n");
  const auto file = d / "dot.tar.gz";
  const auto tar = test::run({"tar", "-C", tree.string(), "-czf", file.string(), "."});
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  const auto list = test::run({"tar", "-tzf", file.string()});
  ASSERT_EQ(list.out.rfind("./\n", 0), 0u) << list.out;  // the entry that used to be refused
  const auto rel = read_release(file, std::nullopt);
  EXPECT_EQ(rel.files.size(), 2u);
  EXPECT_EQ(rel.files.at("bin/system-probe"), kBinary.content);
  EXPECT_EQ(rel.files.at("config/system-probe.yaml.example"), kExample.content);
}

// The "." allowance is for the top folder only: a "." that is not a folder, or dots inside a
// path, are still refused.
TEST(ReleaseArchive, DotEntriesOtherThanTheTopFolderRefused) {
  expect_refused({kExample, {".", "x"}}, "'.'");
  expect_refused({kExample, {"./ebpf/./x.bpf.o", "x"}}, "'.'");
  expect_refused({{"./", "", AE_IFDIR}, kExample, {"./../escape", "x"}}, "'..'");
}

TEST(ReleaseArchive, TraversalRefused) {
  expect_refused({kExample, {"../escape", "x"}}, "'..'");
  expect_refused({kExample, {"ebpf/../../escape", "x"}}, "'..'");
}
TEST(ReleaseArchive, AbsolutePathRefused) {
  expect_refused({kExample, {"/etc/passwd", "x"}}, "absolute path");
}
TEST(ReleaseArchive, SymlinkRefused) {
  expect_refused({{"bin", "", AE_IFLNK, "/etc"}, kExample}, "symbolic link");
  expect_refused({{"ebpf/x.o", "", AE_IFLNK, "../../../../etc/shadow"}, kExample}, "symbolic link");
}
TEST(ReleaseArchive, HardlinkRefused) {
  expect_refused({kExample, {"bin/system-probe", "", AE_IFREG, "", "/etc/passwd"}}, "hard link");
  expect_refused(
      {kExample, {"bin/system-probe", "", AE_IFREG, "", "config/system-probe.yaml.example"}},
      "hard link");
}
TEST(ReleaseArchive, DevicesAndFifosRefused) {
  expect_refused({kExample, {"bin/null", "", AE_IFCHR}}, "device");
  expect_refused({kExample, {"bin/fifo", "", AE_IFIFO}}, "device, FIFO");
}
TEST(ReleaseArchive, ChecksumMismatchRefused) {
  test::TempDir d;
  const std::string manifest = sha256_hex("something else") + "  " + kExample.name + "\n";
  test::write_archive(d / "a.tar.gz", {{"MANIFEST.sha256", manifest}, kExample}, false);
  EXPECT_THROW(read_release(d / "a.tar.gz", std::nullopt), ArchiveError);
  expect_refused({kExample}, "no MANIFEST", false);
  test::write_archive(d / "b.tar.gz", {{"MANIFEST.sha256", ""}, kExample}, false);
  EXPECT_THROW(read_release(d / "b.tar.gz", std::nullopt), ArchiveError);
}
TEST(ReleaseArchive, WrongArchiveSha256Refused) {
  test::TempDir d;
  test::write_archive(d / "a.tar.gz", {kExample});
  EXPECT_NO_THROW(read_release(d / "a.tar.gz", sha256_file_hex(d / "a.tar.gz")));
  EXPECT_THROW(read_release(d / "a.tar.gz", sha256_hex("other")), ArchiveError);
  EXPECT_THROW(read_release(d / "a.tar.gz", std::string("xyz")), std::invalid_argument);
}
TEST(ReleaseArchive, TruncatedRefused) {
  test::TempDir d;
  std::string big(300000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  test::write_archive(d / "a.tar.gz", {kExample, {"bin/system-probe", big}});
  const auto whole = test::read_file(d / "a.tar.gz");
  for (const double frac : {0.1, 0.5, 0.9}) {
    test::write_file(d / "cut.tar.gz",
                     whole.substr(0, static_cast<std::size_t>(whole.size() * frac)));
    EXPECT_THROW(read_release(d / "cut.tar.gz", std::nullopt), ArchiveError) << frac;
  }
  test::write_file(d / "junk.tar.gz", "not an archive at all");
  EXPECT_THROW(read_release(d / "junk.tar.gz", std::nullopt), ArchiveError);
}
TEST(ReleaseArchive, OversizeRefused) {
  test::TempDir d;
  test::write_archive(d / "a.tar.gz", {kExample, {"bin/system-probe", std::string(5000, 'x')}});
  ArchiveLimits small;
  small.max_entry_bytes = 4096;
  try {
    read_release(d / "a.tar.gz", std::nullopt, small);
    FAIL();
  } catch (const ArchiveError& e) {
    EXPECT_NE(std::string(e.what()).find("larger than"), std::string::npos);
  }
  ArchiveLimits few;
  few.max_entries = 1;
  EXPECT_THROW(read_release(d / "a.tar.gz", std::nullopt, few), ArchiveError);
}
TEST(ReleaseArchive, DuplicateAndUnlistedEntriesRefused) {
  expect_refused({kExample, kExample}, "twice");
  test::TempDir d;
  test::write_archive(
      d / "a.tar.gz",
      {{"MANIFEST.sha256", sha256_hex(kExample.content) + "  " + kExample.name + "\n"},
       kExample,
       {"bin/extra", "x"}},
      false);
  EXPECT_THROW(read_release(d / "a.tar.gz", std::nullopt), ArchiveError);
}

// Through the CLI: every hostile archive exits 1 and leaves the host tree and its parent alone.
TEST(ReleaseArchiveCli, HostileArchivesChangeNothing) {
  test::TempDir d;
  const auto root = d / "root";
  test::write_file(root / "etc/group", "dd-agent:x:" + std::to_string(::getgid()) + ":\n");
  test::write_file(root / "etc/datadog-agent/system-probe.yaml",
                   "# mine\nnetwork_config:\n  enabled: false\n");
  const std::vector<std::vector<ArEntry>> hostile = {
      {kExample, {"../../outside", "x"}},
      {kExample, {"/tmp/cnmkit-abs-escape", "x"}},
      {kExample, {"bin", "", AE_IFLNK, "../../"}, {"bin/system-probe", "x"}},
      {kExample, {"bin/system-probe", "", AE_IFREG, "", "../../outside"}},
      {kExample, {"bin/null", "", AE_IFCHR}},
      {kExample, {"unknown/file", "x"}},
  };
  const auto before = test::snapshot(d.path());
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    const auto file =
        d.path().parent_path() / ("cnmkit-hostile-" + std::to_string(::getpid()) + ".tar.gz");
    test::write_archive(file, hostile[i]);
    const auto r = test::run({test::cnmctl(), "install", "--root", root.string(), "--archive",
                              file.string(), "--service-manager", "none", "--json"});
    std::filesystem::remove(file);
    EXPECT_EQ(r.exit_code, 1) << i << r.out << r.err;
    EXPECT_NE(r.err.find("nothing was installed"), std::string::npos) << i << r.err;
    EXPECT_EQ(test::tree_diff(before, test::snapshot(d.path())), "") << i;
  }
  EXPECT_FALSE(std::filesystem::exists("/tmp/cnmkit-abs-escape"));
  // A bad --sha256 is refused the same way.
  const auto r =
      test::run({test::cnmctl(), "install", "--root", root.string(), "--archive",
                 CNM_RELEASE_ARCHIVE, "--sha256", sha256_hex("x"), "--service-manager", "none"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(test::tree_diff(before, test::snapshot(d.path())), "");
}

// Sets $TMPDIR for one scope (the release is staged there), then puts the old value back.
struct ScopedTmpdir {
  explicit ScopedTmpdir(const std::filesystem::path& p) {
    if (const char* v = std::getenv("TMPDIR")) old = v;
    ::setenv("TMPDIR", p.c_str(), 1);
  }
  ~ScopedTmpdir() {
    if (old)
      ::setenv("TMPDIR", old->c_str(), 1);
    else
      ::unsetenv("TMPDIR");
  }
  std::optional<std::string> old;
};

bool is_empty_dir(const std::filesystem::path& p) {
  return std::filesystem::is_directory(p) && std::filesystem::is_empty(p);
}

// Entries are extracted by libarchive's disk writer into a private folder under $TMPDIR,
// which is gone after an accepted archive and after one refused early (a name) or late (a
// checksum, found only once the files are staged); the working folder is unchanged.
TEST(ReleaseArchive, StagingFolderUnderTmpdirIsRemovedWhateverHappens) {
  test::TempDir d;
  const auto tmp = d / "tmp";
  std::filesystem::create_directories(tmp);
  const ScopedTmpdir scoped(tmp);
  const auto cwd = std::filesystem::current_path();

  const auto good = d / "good.tar.gz";
  test::write_archive(good, {kExample, kBinary, {"ebpf/t.bpf.o", "obj"}});
  EXPECT_EQ(read_release(good, std::nullopt).files.size(), 3u);
  EXPECT_TRUE(is_empty_dir(tmp));
  EXPECT_EQ(std::filesystem::current_path(), cwd);

  // A manifest that lies about one file: found after both files are staged.
  const auto late = d / "late.tar.gz";
  test::write_archive(
      late,
      {kExample,
       kBinary,
       {std::string(kManifestName), sha256_hex("not it") + "  " + kExample.name + "\n" +
                                        sha256_hex(kBinary.content) + "  " + kBinary.name + "\n"}},
      false);
  EXPECT_THROW(read_release(late, std::nullopt), ArchiveError);
  EXPECT_TRUE(is_empty_dir(tmp));
  EXPECT_EQ(std::filesystem::current_path(), cwd);

  // The escaping name is this test's own: a file another program left in the shared folder
  // above d (seen once as /tmp/x on a CI machine) must not pass for a write that got out.
  const auto early = d / "early.tar.gz";
  const std::string escape = d.path().filename().string() + "-escape";
  test::write_archive(early, {kExample, {"ebpf/../../" + escape, "x"}});
  EXPECT_THROW(read_release(early, std::nullopt), ArchiveError);
  EXPECT_TRUE(is_empty_dir(tmp));
  EXPECT_EQ(std::filesystem::current_path(), cwd);
  EXPECT_FALSE(std::filesystem::exists(d.path().parent_path() / escape));
  EXPECT_FALSE(std::filesystem::exists(d / escape));
}

// No usable $TMPDIR: nothing can be staged, so the archive is refused, clearly.
TEST(ReleaseArchive, UnusableTmpdirRefusedClearly) {
  test::TempDir d;
  const ScopedTmpdir scoped(d / "no-such-folder");
  try {
    read_release(CNM_RELEASE_ARCHIVE, std::nullopt);
    ADD_FAILURE() << "read without a staging folder";
  } catch (const ArchiveError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create a staging folder"), std::string::npos)
        << e.what();
  }
}

// `cnmctl install --dry-run --archive`: stages and verifies the release, writes nothing under
// --root and leaves nothing in $TMPDIR.
TEST(ReleaseArchiveCli, DryRunWithAnArchiveLeavesNothingBehind) {
  test::TempDir d;
  const auto root = d / "root", tmp = d / "tmp";
  std::filesystem::create_directories(root);
  std::filesystem::create_directories(tmp);
  const auto before = test::snapshot(d.path());
  const auto r = test::run({"env", "TMPDIR=" + tmp.string(), test::cnmctl(), "install", "--root",
                            root.string(), "--archive", CNM_RELEASE_ARCHIVE, "--service-manager",
                            "none", "--owner", "0:0", "--dry-run", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The config is made from the archive's example (every tree's archive has it).
  EXPECT_NE(r.out.find("create from the release's example"), std::string::npos) << r.out;
  EXPECT_EQ(test::tree_diff(before, test::snapshot(d.path())), "");
}

}  // namespace
}  // namespace cnm
