#include "probe/btf_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/uname.h"
#include "probe/btf_archive.h"
#include "probe/embedded_files.h"

namespace cnm::probe {
namespace {

// The whole archive checked as `cnmctl install --btf-archive` checks it (every member, not
// only the one looked for), so the preflight never passes an archive the install refuses.
// Empty when it passes; else why not.
std::string whole_archive_problem(int fd, std::uint64_t size, const std::string& shown) {
  if (size > kMaxBtfArchiveBytes)
    return shown + " is larger than " + std::to_string(kMaxBtfArchiveBytes) + " bytes";
  std::string bytes(size, '\0');
  for (std::size_t got = 0; got < bytes.size();) {
    const ssize_t n = ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return "cannot read " + shown + ": " + std::strerror(errno);
    if (n == 0) return "cannot read " + shown + ": it shrank while being read";
    got += static_cast<std::size_t>(n);
  }
  try {
    check_btf_archive(bytes, shown);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// The release's file in the archive at `path` (inside root), or nothing with why: "" when the
// folder has no archive at all, else "none for ..." or why it could not be read. A `named`
// archive (the preflight's --btf-archive) is checked whole first, and its absence is said.
// Opened without blocking (a FIFO there cannot hang the daemon or the preflight) and read only
// as a regular file.
std::optional<std::string> from_archive(const RootDir& root, std::string_view path,
                                        std::string_view release, bool named,
                                        std::string& why_not) {
  const std::string shown = root.display(path).string();
  const UniqueFd fd = root.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (!fd) {
    if (errno != ENOENT || named) why_not = "cannot open " + shown + ": " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    why_not = shown + " is not a regular file";
    return std::nullopt;
  }
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  if (named) {
    why_not = whole_archive_problem(fd.get(), static_cast<std::uint64_t>(st.st_size), shown);
    if (!why_not.empty()) return std::nullopt;
  }
  auto found = btf_from_archive(fd.get(), release, shown);
  if (!found.problem.empty())
    why_not = found.problem;
  else if (!found.btf)
    why_not = "none for " + std::string(release) + " in " + shown;
  return std::move(found.btf);
}

}  // namespace

std::string kernel_release() { return running_uname().release; }

bool release_is_file_name(std::string_view release) {
  return !release.empty() && release.find('/') == std::string_view::npos &&
         release.find("..") == std::string_view::npos &&
         release.find('\0') == std::string_view::npos;
}

BtfSource BtfSource::find(const std::string& configured, const std::filesystem::path& folder,
                          std::string_view release, const RootDir* root, std::string_view sysfs_btf,
                          std::string_view archive) {
  std::optional<RootDir> live;
  if (!root) root = &live.emplace("/");
  BtfSource s;
  if (!configured.empty()) {
    s.kind_ = Kind::kConfigured;
    s.path_ = configured;
    s.text_ = "file " + configured + " (system_probe_config.btf_path)";
    return s;
  }
  const std::string sysfs_shown = root->display(sysfs_btf).string();
  if (root->is_file(sysfs_btf)) {  // sysfs files are regular
    s.kind_ = Kind::kKernel;
    s.text_ = "the kernel's (" + sysfs_shown + ")";
    return s;
  }
  const bool named = release_is_file_name(release);
  const std::string file = std::string(release) + ".btf";
  const std::string in_folder = (folder / file).string();
  if (named && !folder.empty() && root->is_file(in_folder)) {
    s.kind_ = Kind::kFolder;
    // libbpf opens it by this path: only on the live host is it the file found here.
    s.path_ = root->display(in_folder).string();
    s.text_ = "file " + s.path_;
    return s;
  }
  // A named archive is a file of this machine (the one an install would copy in); the folder's
  // is the root's.
  std::optional<RootDir> here;
  const RootDir& archive_root = archive.empty() ? *root : here.emplace("/");
  const std::string archive_path = !archive.empty() ? std::string(archive)
                                   : folder.empty() ? std::string()
                                                    : (folder / kBtfArchiveName).string();
  std::string archive_why;
  if (named && !archive_path.empty()) {
    const auto bytes =
        from_archive(archive_root, archive_path, release, !archive.empty(), archive_why);
    if (bytes && (s.embedded_ = BytesPath::hold(std::as_bytes(std::span(*bytes)), "cnm-btf"))) {
      s.kind_ = Kind::kArchive;
      s.text_ = "the file for " + std::string(release) + " in " +
                archive_root.display(archive_path).string();
      return s;
    }
  }
  if (const auto bytes = named ? embedded_btf(release) : std::nullopt) {
    if ((s.embedded_ = BytesPath::hold(*bytes, "cnm-btf"))) {
      s.kind_ = Kind::kEmbedded;
      s.text_ = "the embedded file for " + std::string(release);
      return s;
    }
  }
  if (!named) {
    s.text_ = "none: no kernel BTF (" + sysfs_shown + "), and the kernel release \"" +
              std::string(release) + "\" names no BTF file";
    return s;
  }
  s.text_ = "none: no kernel BTF (" + sysfs_shown + "), no " +
            (folder.empty() ? file : root->display(in_folder).string()) +
            (archive_why.empty() ? "" : ", " + archive_why) + ", and none embedded for " +
            std::string(release);
  return s;
}

}  // namespace cnm::probe
