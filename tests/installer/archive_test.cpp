// Release archives: the one the build makes is accepted; hostile ones built here are refused
// as a whole, by the library and through `cnmctl install`, with nothing written anywhere.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "installer/install_plan.h"
#include "installer/release_archive.h"
#include "installer/release_contents.h"
#include "installer/sha256.h"
#include "tests/installer/archive_builder.h"
#include "tests/installer/tree_snapshot.h"
#include "tests/support/test_support.h"

namespace cnm {
namespace {

using test::ArEntry;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Matches a call (a lambda that reads or checks a release) that refuses the release with a
// message holding `why`; gmock reports what it threw instead, or that it threw nothing.
auto refuses(const std::string& why) { return ThrowsMessage<ArchiveError>(HasSubstr(why)); }

const ArEntry kExample{"config/system-probe.yaml.example", "network_config:\n  enabled: false\n"};
const ArEntry kBinary{"bin/cnm-probe", std::string("\x7f"
                                                   "ELF\0\0fake",
                                                   10)};
const ArEntry kObject{"ebpf/tcp_tracer.bpf.o", "obj"};

void expect_refused(const std::vector<ArEntry>& entries, const std::string& why,
                    bool manifest = true) {
  test::TempDir d;
  const auto file = d / "r.tar.gz";
  test::write_archive(file, entries, manifest);
  EXPECT_THAT([&] { read_release(file, std::nullopt); }, refuses(why));
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
  test::write_archive(d / "ok.tar.gz", {{"ebpf", "", AE_IFDIR}, kExample, kBinary, kObject});
  const auto rel = read_release(d / "ok.tar.gz", std::nullopt);
  EXPECT_EQ(rel.files.size(), 3u);
  EXPECT_EQ(rel.files.at("bin/cnm-probe"), kBinary.content);
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
  EXPECT_EQ(rel.files.at("bin/cnm-probe"), kBinary.content);
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
  expect_refused({kExample, {"bin/cnm-probe", "", AE_IFREG, "", "/etc/passwd"}}, "hard link");
  expect_refused(
      {kExample, {"bin/cnm-probe", "", AE_IFREG, "", "config/system-probe.yaml.example"}},
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
  test::write_archive(d / "a.tar.gz", {kExample, {"bin/cnm-probe", big}});
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
  test::write_archive(d / "a.tar.gz", {kExample, {"bin/cnm-probe", std::string(5000, 'x')}});
  ArchiveLimits small;
  small.max_entry_bytes = 4096;
  EXPECT_THAT([&] { read_release(d / "a.tar.gz", std::nullopt, small); }, refuses("larger than"));
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
      {kExample, {"bin", "", AE_IFLNK, "../../"}, {"bin/cnm-probe", "x"}},
      {kExample, {"bin/cnm-probe", "", AE_IFREG, "", "../../outside"}},
      {kExample, {"bin/null", "", AE_IFCHR}},
      {kExample, {"unknown/file", "x"}},
      {kExample, kBinary, {"ebpf/extra.bpf.o", "x"}},  // a name no release holds
      {kExample},                                      // no probe: not a standalone release
      {kExample, {"bin/cnm-probe", ""}},               // an empty one neither
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
  test::write_archive(good, {kExample, kBinary, kObject});
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
  EXPECT_THAT([&] { read_release(CNM_RELEASE_ARCHIVE, std::nullopt); },
              refuses("cannot create a staging folder"));
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

// release_contents.h is the one statement of what a release holds: the archive the build
// makes holds exactly those files (sanitizer trees pack no BPF objects and a stand-in probe),
// the BPF objects among them are the ones the probe carries, and a standalone install has
// what it needs.
TEST(ReleaseContents, TheBuiltArchiveHoldsTheDeclaredFiles) {
  const auto rel = read_release(CNM_RELEASE_ARCHIVE, std::nullopt);
  std::set<std::string> built, declared;
  for (const auto& [name, content] : rel.files) built.insert(name);
  for (const auto& f : release_files()) declared.insert(f.name);
#if CNM_RELEASE_HAS_EVERY_PART
  EXPECT_EQ(built, declared);
#else
  for (const auto& name : built) EXPECT_TRUE(declared.count(name)) << name;
#endif
  std::set<std::string> carried, declared_objects;
  std::stringstream probe_objects(CNM_PROBE_OBJECTS);  // PROBE_OBJECTS, probe/CMakeLists.txt
  for (std::string path; std::getline(probe_objects, path, '|');)
    carried.insert(std::string(kReleaseBpfFolder) +
                   std::filesystem::path(path).filename().string());
  for (const auto& name : declared)
    if (name.starts_with(kReleaseBpfFolder)) declared_objects.insert(name);
  EXPECT_FALSE(carried.empty());
  EXPECT_EQ(declared_objects, carried);
  EXPECT_EQ(needed_release_files(ProbeMode::Standalone), std::vector<std::string>{"bin/cnm-probe"});
  EXPECT_TRUE(needed_release_files(ProbeMode::Agent).empty());
  EXPECT_NO_THROW(check_release_complete(rel, ProbeMode::Standalone));
}

// Where a standalone install puts each file of a release (release_contents.h states it once):
// the probe, the BPF objects and the SELinux module get their own copy; the templates and the
// example are read by the plan; a name no release holds has no place.
TEST(ReleaseContents, EachFileHasItsDestination) {
  const Layout layout = default_layout("/", ProbeMode::Standalone);
  using Dest = std::optional<std::pair<std::string, mode_t>>;
  EXPECT_EQ(release_destination(layout, "bin/cnm-probe"),
            Dest({"/opt/cnmkit/bin/cnm-probe", 0755}));
  EXPECT_EQ(release_destination(layout, "selinux/system_probe_policy.pp"),
            Dest({"/opt/cnmkit/selinux/system_probe_policy.pp", 0644}));
  std::size_t objects = 0;
  for (const auto& f : release_files()) {
    if (!f.name.starts_with(kReleaseBpfFolder)) continue;
    ++objects;
    EXPECT_EQ(release_destination(layout, f.name),
              Dest({"/opt/cnmkit/ebpf/" + f.name.substr(kReleaseBpfFolder.size()), 0644}));
  }
  EXPECT_GT(objects, 0u);
  for (const auto read : {kReleaseUnit, kReleaseInit, kReleaseExample})
    EXPECT_EQ(release_destination(layout, std::string(read)), std::nullopt) << read;
  for (const char* other : {"MANIFEST.sha256", "ebpf/extra.bpf.o", "README"})
    EXPECT_EQ(release_destination(layout, other), std::nullopt) << other;
}

// A name a release does not hold is refused as soon as its header is read, whether the
// manifest lists it or not: under ebpf/ only the probe's objects, and no other folder.
TEST(ReleaseArchive, NamesNoReleaseHoldsRefused) {
  for (const char* name : {"ebpf/extra.bpf.o", "ebpf/.hidden.bpf.o", "ebpf/sub/x.bpf.o",
                           "ebpf/foo.txt", "selinux/x.pp", "bin/other", "btf/x.btf", "README"})
    expect_refused({kExample, kBinary, {name, "x"}},
                   "'" + std::string(name) + "' is not a file a release holds");
  expect_refused({kExample, kBinary, {"ebpf/d0", "", AE_IFDIR}}, "folder 'ebpf/d0'");
  expect_refused({kExample, kBinary, {"ebpf/tcp_tracer.bpf.o", "", AE_IFDIR}},
                 "folder 'ebpf/tcp_tracer.bpf.o'");
  // Listed in the manifest only.
  test::TempDir d;
  test::write_archive(
      d / "a.tar.gz",
      {{std::string(kManifestName), sha256_hex(kExample.content) + "  " + kExample.name + "\n" +
                                        sha256_hex("x") + "  ebpf/extra.bpf.o\n"},
       kExample},
      false);
  EXPECT_THAT([&] { read_release(d / "a.tar.gz", std::nullopt); },
              refuses("lists 'ebpf/extra.bpf.o', which is not a file"));
}

// The same names are refused in a release folder (the packages' payload).
TEST(ReleaseFolder, NamesNoReleaseHoldsRefused) {
  for (const auto& [name, why] : std::vector<std::pair<std::string, std::string>>{
           {"ebpf/extra.bpf.o", "'ebpf/extra.bpf.o' is not a file a release holds"},
           {"bin/other", "'bin/other' is not a file a release holds"},
           {"btf/x.btf", "folder 'btf' is not in a release"}}) {
    test::TempDir d;
    test::write_file(d / kExample.name, kExample.content);
    test::write_file(d / name, "x");
    test::write_file(d / std::string(kManifestName), sha256_hex(kExample.content) + "  " +
                                                         kExample.name + "\n" + sha256_hex("x") +
                                                         "  " + name + "\n");
    EXPECT_THAT([&] { read_release_folder(d.path()); }, refuses(why)) << name;
  }
  test::TempDir d;
  test::write_file(d / kExample.name, kExample.content);
  std::filesystem::create_directories(d / "ebpf/empty");
  test::write_file(d / std::string(kManifestName),
                   sha256_hex(kExample.content) + "  " + kExample.name + "\n");
  EXPECT_THROW(read_release_folder(d.path()), ArchiveError);
}

// What each mode needs: standalone the probe binary (not empty), beside the Agent nothing.
TEST(ReleaseContents, AnIncompleteReleaseIsRefusedForStandaloneOnly) {
  Release rel;
  rel.files[kExample.name] = kExample.content;
  for (const auto mode : {ProbeMode::Standalone, ProbeMode::Agent}) {
    if (mode == ProbeMode::Agent) {
      EXPECT_NO_THROW(check_release_complete(rel, mode));
      continue;
    }
    EXPECT_THAT([&] { check_release_complete(rel, mode); },
                refuses("the release lacks bin/cnm-probe, needed to install the cnmkit probe "
                        "(--probe cnmkit)"));
  }
  rel.files["bin/cnm-probe"] = "";
  EXPECT_THROW(check_release_complete(rel, ProbeMode::Standalone), ArchiveError);
  EXPECT_NO_THROW(check_release_complete(rel, ProbeMode::Agent));
  rel.files["bin/cnm-probe"] = kBinary.content;
  EXPECT_NO_THROW(check_release_complete(rel, ProbeMode::Standalone));
}

// A download cut short, corrupted or with something appended is refused: the gzip stream is
// checked whole (CRC-32 and length of its one member, nothing after it) before libarchive,
// which checks none of it, reads the archive. A .tar.gz is all a release is.
TEST(ReleaseArchive, CorruptOrExtendedGzipRefused) {
  test::TempDir d;
  test::write_archive(d / "good.tar.gz", {kExample, kBinary, kObject});
  test::write_archive(d / "other.tar.gz", {{"../escape", "x"}}, false);
  const auto good = test::read_file(d / "good.tar.gz");
  ASSERT_NO_THROW(read_release(d / "good.tar.gz", std::nullopt));
  std::string bad_crc = good;
  bad_crc[bad_crc.size() - 8] = static_cast<char>(bad_crc[bad_crc.size() - 8] ^ 0xff);
  std::string bad_length = good;
  bad_length[bad_length.size() - 1] = static_cast<char>(bad_length[bad_length.size() - 1] ^ 1);
  const auto tar = test::sh("gzip -dc '" + (d / "good.tar.gz").string() + "'");
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {bad_crc, "is corrupt: not an intact gzip stream (incorrect data check)"},
      {bad_length, "is corrupt: not an intact gzip stream (incorrect length check)"},
      // Cut just before its trailer: libarchive fails it without a message, which crashed the
      // reader (SIGSEGV) before the stream was checked and libarchive's messages null-safe.
      {good.substr(0, good.size() - 8), "is truncated: its gzip stream ends early"},
      {good + "GARBAGE", "holds data after the end of its gzip stream"},
      {good + test::read_file(d / "other.tar.gz"), "holds data after the end of its gzip stream"},
      {tar.out, "is not gzip-compressed"},
  };
  for (const auto& [bytes, why] : cases) {
    test::write_file(d / "bad.tar.gz", bytes);
    EXPECT_THAT([&] { read_release(d / "bad.tar.gz", std::nullopt); }, refuses(why));
  }
}

// The default limits are a release's (release_contents.h), far below what they were (256 MiB
// a file, 512 MiB in all): one file over the per-file limit is refused from its header, a
// release over the total from the gzip stream's size, both before anything is staged.
TEST(ReleaseArchive, TheReleaseLimitsHoldByDefault) {
  test::TempDir d;
  const auto tmp = d / "tmp";
  std::filesystem::create_directories(tmp);
  const ScopedTmpdir scoped(tmp);
  const auto refused = [&](const std::vector<ArEntry>& entries, const std::string& why) {
    test::write_archive(d / "big.tar.gz", entries);
    EXPECT_THAT([&] { read_release(d / "big.tar.gz", std::nullopt); }, refuses(why));
    EXPECT_TRUE(is_empty_dir(tmp));
  };
  refused({kExample, {"bin/cnm-probe", std::string(kReleaseMaxFileBytes + 1, '\0')}},
          "'bin/cnm-probe' is larger than " + std::to_string(kReleaseMaxFileBytes) + " bytes");
  refused({kExample,
           {"bin/cnm-probe", std::string(kReleaseMaxFileBytes - 1, '\0')},
           {"ebpf/tcp_tracer.bpf.o", std::string(kReleaseMaxTotalBytes / 2, '\0')}},
          "unpacks to more than");
  // Within the limits, the same content is accepted.
  test::write_archive(d / "ok.tar.gz",
                      {kExample, {"bin/cnm-probe", std::string(kReleaseMaxFileBytes, '\0')}});
  EXPECT_EQ(read_release(d / "ok.tar.gz", std::nullopt).files.at("bin/cnm-probe").size(),
            kReleaseMaxFileBytes);
}

// The peak memory of one cnmctl run (test::run's, from wait4). posix_spawn's child shares the
// test's memory until it execs and inherits its high-water mark then, so the test's own (the
// archive it just built) is reset first (clear_refs 5, Linux 4.0).
test::RunResult run_from_a_low_mark(const std::vector<std::string>& argv) {
  std::ofstream("/proc/self/clear_refs") << "5";
  return test::run(argv);
}

// Through the CLI a release's content is held once: the install's peak memory stays below one
// and a half times the probe binary it installs (it was three times: the file read into a
// buffer twice its size, then the release's copy and the plan's).
TEST(ReleaseArchiveCli, AReleaseIsHeldInMemoryOnce) {
  test::TempDir d;
  const std::size_t size = 48u << 20;
  const auto file = d / "r.tar.gz";
  test::write_archive(file, {kExample, {"bin/cnm-probe", std::string(size, '\x7f')}});
  const auto root = d / "root";
  test::write_file(root / "etc/group", "root:x:0:\n");
  test::write_file(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  // The files owned by whoever runs the test: a unit test needs no privileges.
  const auto me = std::to_string(::getuid()) + ":" + std::to_string(::getgid());
  const auto r = run_from_a_low_mark({test::cnmctl(), "install", "--root", root.string(),
                                      "--archive", file.string(), "--probe", "cnmkit",
                                      "--service-manager", "none", "--owner", me});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto peak = r.peak_rss_bytes;
  EXPECT_EQ(std::filesystem::file_size(root / "opt/cnmkit/bin/cnm-probe"), size);
#if CNM_SANITIZED
  // ASan's shadow memory and quarantine add to the peak; the bound is the release tree's.
  EXPECT_LT(peak, 3 * size) << peak;
#else
  EXPECT_LT(peak, size + size / 2) << peak;
#endif
}

}  // namespace
}  // namespace cnm
