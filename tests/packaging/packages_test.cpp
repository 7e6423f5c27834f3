// The .deb and the .rpm as they ship: the same files, FHS paths, nothing of the Datadog Agent's,
// stripped static binaries, a payload that is the release archive unpacked, and no lintian error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "installer/release_archive.h"
#include "tests/packaging/shipped.h"
#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

// Files and links (not folders) a package installs, as absolute paths.
std::set<std::string> deb_files() {
  const auto list = run({"dpkg-deb", "-c", CNM_DEB_PACKAGE});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  std::set<std::string> files;
  std::istringstream lines(list.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == 'd') continue;
    auto path = line.substr(line.find("./") + 1);
    if (const auto arrow = path.find(" -> "); arrow != std::string::npos) path.resize(arrow);
    files.insert(path);
  }
  return files;
}

std::set<std::string> rpm_files() {
  const auto r =
      run({"rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\\n]", CNM_RPM_PACKAGE});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> files;
  std::istringstream lines(r.out);
  for (std::string perms, path; lines >> perms >> path;)
    if (perms[0] != 'd') files.insert(path);
  return files;
}

TEST(Packages, DebAndRpmHoldTheSameFiles) {
  const auto deb = deb_files(), rpm = rpm_files();
  ASSERT_GT(deb.size(), 10u);
  EXPECT_EQ(deb, rpm);
  for (const auto* must :
       {"/usr/bin/cnmctl", "/usr/libexec/cnmkit/cnmctl-installer",
        "/usr/libexec/cnmkit/cnmctl-selinux", "/usr/lib/cnmkit/MANIFEST.sha256",
        "/usr/lib/cnmkit/bin/cnm-probe", "/usr/share/man/man1/cnmctl.1.gz",
        "/usr/share/man/man8/cnm-probe.8.gz", "/usr/share/bash-completion/completions/cnmctl",
        "/usr/share/doc/cnmkit/copyright", "/usr/share/doc/cnmkit/changelog.gz"})
    EXPECT_TRUE(deb.count(must)) << must;
}

TEST(Packages, NothingUnderOptOrEtcAndNothingOfTheAgents) {
  for (const auto& f : deb_files()) {
    EXPECT_NE(f.rfind("/usr/", 0), std::string::npos) << f << " is outside /usr";
    EXPECT_EQ(f.find("datadog"), std::string::npos) << f;
  }
  // The rpm owns only its own folders, never one of the filesystem package's.
  const auto dirs =
      run({"rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\\n]", CNM_RPM_PACKAGE});
  std::istringstream lines(dirs.out);
  for (std::string perms, path; lines >> perms >> path;) {
    if (perms[0] == 'd') {
      EXPECT_NE(path.find("cnmkit"), std::string::npos) << "the rpm owns the folder " << path;
    }
  }
}

// One licence for the eBPF programs, said three times: the sources' SPDX line, the objects'
// "license" section (what the kernel reads to allow GPL-only helpers) and packaging/copyright.
TEST(Packages, TheBpfProgramsLicenceIsTheSameEverywhere) {
  const std::string spdx = "// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only";
  for (const auto& e : std::filesystem::directory_iterator(source_dir() / "probe/bpf")) {
    std::ifstream in(e.path());
    std::string first;
    std::getline(in, first);
    EXPECT_EQ(first, spdx) << e.path();
  }
  TempDir x;
  extract_deb(CNM_DEB_PACKAGE, x.path());
  int objects = 0;
  for (const auto& e : std::filesystem::directory_iterator(x / "usr/lib/cnmkit/ebpf")) {
    if (e.path().extension() != ".o") continue;
    ++objects;
    const auto r = run({"readelf", "-p", "license", e.path().string()});
    EXPECT_NE(r.out.find("Dual BSD/GPL"), std::string::npos) << e.path() << r.out << r.err;
  }
  EXPECT_GE(objects, 3);
  const auto text = read_file(source_dir() / "packaging/copyright");
  EXPECT_NE(text.find("Files: probe/bpf/*\nCopyright: 2026 cnmkit maintainers\nLicense: "
                      "BSD-2-Clause or GPL-2\n"),
            std::string::npos);
}

TEST(Packages, ShipStrippedStaticBinaries) {
  TempDir x;
  extract_deb(CNM_DEB_PACKAGE, x.path());
  for (const auto& b : shipped_binaries()) {
    const auto f = elf_facts(x / b.package_path);
    ASSERT_TRUE(f.is_elf) << b.package_path;
    EXPECT_FALSE(f.has_interpreter) << b.package_path;
    EXPECT_TRUE(f.needed.empty()) << b.package_path;
    EXPECT_FALSE(f.has_symbol_table) << b.package_path << " is not stripped";
  }
}

TEST(Packages, PayloadIsTheReleaseArchiveUnpacked) {
  TempDir x;
  extract_deb(CNM_DEB_PACKAGE, x.path());
  const Release folder = read_release_folder(x / "usr/lib/cnmkit");
  const Release archive = read_release(CNM_RELEASE_ARCHIVE, std::nullopt);
  ASSERT_FALSE(folder.files.empty());
  EXPECT_EQ(folder.files, archive.files);
}

TEST(Packages, LintianReportsNoError) {
  const auto r = run({"lintian", "--fail-on", "error", "--no-tag-display-limit", CNM_DEB_PACKAGE});
  std::string errors;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("E: ", 0) == 0) errors += line + "\n";
  EXPECT_EQ(errors, "");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace cnm::test
