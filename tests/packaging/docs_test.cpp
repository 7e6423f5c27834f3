// The man pages and the bash completion in the package are the binaries' own CLI definitions:
// every option a command's --help prints is in its page and every option a page lists is in
// --help; every command has a page; the completion completes what the CLI accepts.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tests/packaging/shipped.h"
#include "tests/support/test_support.h"

namespace cnm::test {
namespace {

std::set<std::string> long_options(const std::string& text) {
  static const std::regex opt(R"(--[a-z][a-z0-9-]*)");
  std::set<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), opt), end; it != end; ++it)
    out.insert(it->str());
  return out;
}

// A page's roff with hyphens as typed ("\-" is roff for '-').
std::string page_text(const std::filesystem::path& gz) {
  auto r = run({"gzip", "-dc", gz.string()});
  EXPECT_EQ(r.exit_code, 0) << gz;
  return std::regex_replace(r.out, std::regex(R"(\\-)"), "-");
}

std::string help(const std::string& binary, std::vector<std::string> args) {
  args.insert(args.begin(), binary);
  args.push_back("--help");
  const auto r = run(args);
  EXPECT_EQ(r.exit_code, 0) << args[1] << ": " << r.err;
  return r.out;
}

// Each page and the commands whose --help it documents.
const std::map<std::string, std::vector<std::vector<std::string>>>& pages() {
  static const std::map<std::string, std::vector<std::vector<std::string>>> m = {
      {"man1/cnmctl.1.gz", {{}}},
      {"man1/cnmctl-preflight.1.gz", {{"preflight"}}},
      {"man1/cnmctl-install.1.gz", {{"install"}}},
      {"man1/cnmctl-uninstall.1.gz", {{"uninstall"}}},
      {"man1/cnmctl-status.1.gz", {{"status"}}},
      {"man1/cnmctl-config.1.gz", {{"config"}, {"config", "enable"}}},
      {"man1/cnmctl-fleet.1.gz", {{"fleet"}, {"fleet", "report"}}},
      {"man1/cnmctl-selinux.1.gz",
       {{"selinux"}, {"selinux", "install"}, {"selinux", "remove"}, {"selinux", "status"}}},
      {"man8/cnm-probe.8.gz", {{}}},
  };
  return m;
}

TEST(ManPages, EachCommandsPageListsExactlyTheOptionsItsHelpPrints) {
  TempDir x;
  extract_deb(CNM_DEB_PACKAGE, x.path());
  const auto man = x / "usr/share/man";
  std::set<std::string> shipped;
  for (const auto& e : std::filesystem::recursive_directory_iterator(man))
    if (e.is_regular_file()) shipped.insert(e.path().lexically_relative(man).string());
  std::set<std::string> expected;
  for (const auto& [page, commands] : pages()) expected.insert(page);
  EXPECT_EQ(shipped, expected) << "a command without a page, or a page without a command";

  for (const auto& [page, commands] : pages()) {
    const auto text = page_text(man / page);
    const std::string binary =
        page.find("cnm-probe") != std::string::npos ? CNM_PROBE_PATH : CNMCTL_PATH;
    std::set<std::string> in_help;
    for (const auto& cmd : commands) {
      const auto h = long_options(help(binary, cmd));
      in_help.insert(h.begin(), h.end());
    }
    ASSERT_FALSE(in_help.empty()) << page;
    EXPECT_EQ(long_options(text), in_help) << page;
  }
}

TEST(ManPages, EverySubcommandCnmctlListsHasItsPage) {
  const auto text = help(CNMCTL_PATH, {});
  std::istringstream lines(text.substr(text.find("Subcommands:")));
  std::set<std::string> listed;
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line) && line.rfind("  ", 0) == 0)
    listed.insert(line.substr(2, line.find(' ', 2) - 2));
  ASSERT_GE(listed.size(), 6u) << text;
  for (const auto& sub : listed)
    EXPECT_TRUE(pages().count("man1/cnmctl-" + sub + ".1.gz")) << sub << " has no page";
}

// COMPREPLY of the shipped completion for the words typed so far (the last one is completed).
std::set<std::string> complete(const std::filesystem::path& script, const std::string& words) {
  const auto r = run({"bash", "-c",
                      "source '" + script.string() + "'; COMP_WORDS=(" + words +
                          "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _cnmctl; "
                          "printf '%s\\n' \"${COMPREPLY[@]}\""});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> out;
  std::istringstream lines(r.out);
  for (std::string w; std::getline(lines, w);)
    if (!w.empty()) out.insert(w);
  return out;
}

TEST(BashCompletion, CompletesCommandsOptionsAndFileArguments) {
  TempDir x;
  extract_deb(CNM_DEB_PACKAGE, x.path());
  const auto script = x / "usr/share/bash-completion/completions/cnmctl";
  EXPECT_EQ(complete(script, "cnmctl con"), std::set<std::string>{"config"});
  EXPECT_EQ(complete(script, "cnmctl config ''"),
            (std::set<std::string>{"enable", "--help", "-h", "--layout", "--verbose", "-v",
                                   "--version"}));
  const auto enable = complete(script, "cnmctl -v config enable --");
  EXPECT_TRUE(enable.count("--dry-run") && enable.count("--set") && enable.count("--root"));
  EXPECT_FALSE(enable.count("--archive"));  // install's, not config enable's
  // A value of --layout is not taken for a command (were "preflight" the command here, "pre"
  // would complete to nothing); an option's value completes as a file name.
  EXPECT_EQ(complete(script, "cnmctl --layout preflight pre"), std::set<std::string>{"preflight"});
  const auto files =
      complete(script, "cnmctl install --archive " + (x / "usr/share/doc/cnmkit/co").string());
  EXPECT_EQ(files, std::set<std::string>{(x / "usr/share/doc/cnmkit/copyright").string()});
}

}  // namespace
}  // namespace cnm::test
