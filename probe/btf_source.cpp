#include "probe/btf_source.h"

#include "common/file_read.h"
#include "common/uname.h"
#include "probe/btf_archive.h"
#include "probe/embedded_files.h"

namespace cnm::probe {
namespace {

// Why an archive file could not be read whole; "" for a folder's archive that is not there.
std::string unread_archive(const FileRead& r, const std::string& shown, bool named) {
  if (r.status == ReadStatus::Absent && !named) return "";
  return shown + " " + r.why(kMaxBtfArchiveBytes);
}

// The release's file in the archive at `path` (inside root), or nothing with why: "" when the
// folder has no archive at all, else "none for ..." or why it could not be read. Read with the
// one bounded, non-blocking reader (a FIFO cannot hang the daemon or the preflight). A `named`
// archive (the preflight's --btf-archive) is checked whole, as `cnmctl install --btf-archive`
// checks it, in the same pass that finds the release's file; its absence is said.
std::optional<std::string> from_archive(const RootDir& root, std::string_view path,
                                        std::string_view release, bool named,
                                        std::string& why_not) {
  const std::string shown = root.display(path).string();
  const FileRead r =
      read_file(root, path, ReadLimits{kMaxBtfArchiveBytes, OverLimit::Refuse, true});
  if (!r.ok()) {
    why_not = unread_archive(r, shown, named);
    return std::nullopt;
  }
  std::optional<std::string> btf;
  if (named) {
    try {
      btf = check_btf_archive(r.text, shown, {}, release).wanted;
    } catch (const std::exception& e) {
      why_not = e.what();
      return std::nullopt;
    }
  } else {
    auto found = btf_from_archive(r.text, release, shown);
    why_not = found.problem;
    btf = std::move(found.btf);
  }
  if (!btf && why_not.empty()) why_not = "none for " + std::string(release) + " in " + shown;
  return btf;
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
