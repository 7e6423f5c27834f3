#include "installer/package_files.h"

#include <sstream>
#include <unordered_map>

#include "common/file_read.h"
#include "common/host_fs.h"
#include "common/root_dir.h"

namespace cnm {
namespace {

constexpr const char* kDpkgInfo = "/var/lib/dpkg/info";
constexpr std::size_t kMaxListBytes = 64u << 20;

// Debian's merged /usr: a package lists /lib/systemd/system/x or /bin/y, the host reaches the
// same file as /usr/lib/... or /usr/bin/...; either name is the package's file.
std::vector<std::string> names_of(const std::string& path) {
  std::vector<std::string> names{path};
  for (const char* top : {"/bin/", "/sbin/", "/lib/", "/lib64/"}) {
    const std::string t = top, usr = "/usr" + t;
    if (path.rfind(t, 0) == 0) names.push_back("/usr" + path);
    if (path.rfind(usr, 0) == 0) names.push_back(path.substr(4));
  }
  return names;
}

void dpkg_owners(const RootDir& root, const std::vector<std::string>& paths,
                 std::map<std::string, std::string>& out) {
  std::unordered_map<std::string, std::string> wanted;  // any name -> the path asked about
  for (const auto& p : paths)
    for (const auto& n : names_of(p)) wanted.emplace(n, p);
  for (const auto& file : root.list(kDpkgInfo)) {
    if (file.size() < 6 || file.compare(file.size() - 5, 5, ".list") != 0) continue;
    const auto r = read_file(root, std::string(kDpkgInfo) + "/" + file,
                             {kMaxListBytes, OverLimit::Truncate, false});
    if (!r.ok()) continue;
    std::string package = file.substr(0, file.size() - 5);  // "libc6:amd64.list": "libc6"
    if (const auto colon = package.find(':'); colon != std::string::npos) package.resize(colon);
    for_each_line(r.text, [&](std::string_view line) {
      if (const auto it = wanted.find(std::string(line)); it != wanted.end())
        out.emplace(it->second, package);
    });
  }
}

void rpm_owners(const Layout& layout, const std::vector<std::string>& paths,
                const CommandRunner& run, std::map<std::string, std::string>& out) {
  std::vector<std::string> argv = {"rpm", "--root", layout.root.string(),
                                   "-qf", "--qf",   "%{NAME}\\n"};
  argv.insert(argv.end(), paths.begin(), paths.end());
  std::string text;
  run(argv, &text);
  // One line per path, in order: the package's name, or "file PATH is not owned by any
  // package".
  std::istringstream lines(text);
  std::string line;
  for (const auto& p : paths) {
    if (!std::getline(lines, line)) break;
    if (!line.empty() && line.find(' ') == std::string::npos) out.emplace(p, line);
  }
}

}  // namespace

std::map<std::string, std::string> package_owners(const Layout& layout,
                                                  const std::vector<std::string>& paths,
                                                  const CommandRunner& run) {
  std::map<std::string, std::string> out;
  if (paths.empty()) return out;
  const RootDir root(layout.root);
  if (root.is_dir(kDpkgInfo)) dpkg_owners(root, paths, out);
  if (root.is_dir("/var/lib/rpm")) rpm_owners(layout, paths, run, out);
  return out;
}

}  // namespace cnm
