#include "installer/release_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "common/file_read.h"
#include "common/root_dir.h"
#include "installer/file_action.h"
#include "installer/release_manifest.h"
#include "installer/sha256.h"

namespace cnm {
namespace {

// Staged files are read whole with the one bounded reader.
static_assert(kReleaseMaxFileBytes <= kMaxManagedFileBytes);

// libarchive's reason for the last failure. It gives none for some (archive_read_data on a
// gzip member cut just before its trailer), and a null message reaching a std::string was a
// crash (SIGSEGV) instead of a refusal.
std::string la_error(archive* a) {
  const char* why = archive_error_string(a);
  return why && *why
             ? why
             : "libarchive gives no reason (errno " + std::to_string(archive_errno(a)) + ")";
}

struct ReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};

// "." or "./" (what `tar -C dir .` writes first): the archive's own top folder.
bool is_top_dir(const char* raw) {
  if (!raw) return false;
  std::string name = raw;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  while (name.size() > 2 && name.compare(0, 2, "./") == 0) name.erase(0, 2);
  return name == ".";
}

constexpr std::string_view kStagingPrefix = "cnmkit-release-";

std::string tmp_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

// Removes the staging folders that killed runs left in $TMPDIR: only folders named like ours,
// owned by this user, whose flock no live run holds (a run holds its own until it is done;
// the kernel drops a killed run's).
void remove_stale_staging() {
  const UniqueFd tmp(::open(tmp_dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!tmp) return;
  for (const auto& name : RootDir(tmp_dir()).list("/")) {
    if (name.size() != kStagingPrefix.size() + 6 || !name.starts_with(kStagingPrefix)) continue;
    const UniqueFd d(
        ::openat(tmp.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!d || ::fstat(d.get(), &st) != 0 || st.st_uid != ::geteuid()) continue;
    if (::flock(d.get(), LOCK_EX | LOCK_NB) != 0) continue;  // a live run's
    remove_tree_at(tmp.get(), name);
  }
}

// A fresh private folder (mkdtemp under $TMPDIR, 0700) that the archive is extracted into,
// removed with everything in it when the object dies, whatever happened. Never under --root.
// It holds an flock on the folder for its life, so the sweep above never takes a live one.
class Staging {
 public:
  Staging() {
    remove_stale_staging();
    for (int attempt = 0; attempt < 10; ++attempt) {
      std::string tmpl = tmp_dir() + "/" + std::string(kStagingPrefix) + "XXXXXX";
      if (!::mkdtemp(tmpl.data()))
        throw ArchiveError("archive refused: cannot create a staging folder " + tmpl + ": " +
                           std::strerror(errno) + " (set TMPDIR); nothing was installed");
      lock_.reset(::open(tmpl.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      struct stat st {};
      // Another run's sweep may have taken it between mkdtemp and the lock: then it is gone.
      if (lock_ && ::flock(lock_.get(), LOCK_EX) == 0 && ::fstat(lock_.get(), &st) == 0 &&
          st.st_nlink > 0) {
        path_ = tmpl;  // mkdtemp makes it 0700
        return;
      }
    }
    throw ArchiveError("archive refused: cannot hold a staging folder in " + tmp_dir() +
                       "; nothing was installed");
  }
  ~Staging() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  UniqueFd lock_;
};

// libarchive's disk writer resolves entry names against the working folder (the secure flags
// refuse absolute names), so extraction runs inside the staging folder; the caller's working
// folder comes back when this dies. cnmctl is single-threaded while it reads the release.
class InFolder {
 public:
  explicit InFolder(const std::filesystem::path& dir) {
    saved_ = ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (saved_ < 0 || ::chdir(dir.c_str()) != 0) {
      const int e = errno;
      if (saved_ >= 0) ::close(saved_);
      throw ArchiveError("archive refused: cannot enter the staging folder " + dir.string() + ": " +
                         std::strerror(e) + "; nothing was installed");
    }
  }
  ~InFolder() {
    // When the previous folder is gone, "/" at least exists.
    [[maybe_unused]] const int rc = ::fchdir(saved_) == 0 ? 0 : ::chdir("/");
    ::close(saved_);
  }
  InFolder(const InFolder&) = delete;
  InFolder& operator=(const InFolder&) = delete;

 private:
  int saved_ = -1;
};

// A staged file's content (read_whole: regular files only, links never followed).
std::string read_staged(const std::filesystem::path& p) {
  std::optional<std::string> content;
  try {
    content = read_whole(p);
  } catch (const std::exception& e) {
    refuse_release("cannot read the extracted " + p.string() + ": " + e.what());
  }
  if (!content) refuse_release("the extracted " + p.string() + " is missing");
  return std::move(*content);
}

// What tar headers and padding add to the content in the uncompressed stream: a 512-byte
// header, up to two more for a long name (GNU or pax) and up to 511 bytes of padding per
// entry, and the end marker padded to a 10 KiB record.
std::size_t tar_overhead(const ArchiveLimits& limits) {
  return limits.max_entries * 4 * 512 + 20 * 512;
}

// The gzip stream, checked whole before libarchive reads it. libarchive 3.6 (Debian 12) skips
// a member's trailer without checking its CRC-32 and length, and stops at the tar's end
// marker, so a corrupted download and whatever follows the first member (appended bytes, or a
// second member with entries other tools would unpack) went unseen. zlib's inflate checks the
// trailer; one member and nothing after it is what make_release.cmake (cmake -E tar) and
// `tar czf` write. The output is counted, so a gzip bomb is refused here, before anything is
// staged. One more pass over a file of a few MB: about 20 ms for the 5 MB release.
void check_gzip_stream(int fd, const std::string& file, const ArchiveLimits& limits) {
  const std::uint64_t max_out = limits.max_total_bytes + tar_overhead(limits);
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) refuse_release("zlib cannot start");
  const std::unique_ptr<z_stream, int (*)(z_stream*)> end(&z, inflateEnd);
  std::vector<unsigned char> in(1 << 16), out(1 << 16);
  std::uint64_t total = 0;
  bool done = false;
  while (true) {
    const ssize_t n = ::read(fd, in.data(), in.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) refuse_release(file + ": " + std::strerror(errno));
    // Whatever follows the stream: left over from the read that ended it (avail_in, kept from
    // the last pass), or read since.
    if (done && (n > 0 || z.avail_in > 0))
      refuse_release(file + " holds data after the end of its gzip stream (appended bytes or " +
                     "a second gzip member)");
    if (n == 0) break;
    if (z.total_in == 0 && (n < 2 || in[0] != 0x1f || in[1] != 0x8b))
      refuse_release(file + " is not gzip-compressed (a release is a .tar.gz)");
    z.next_in = in.data();
    z.avail_in = static_cast<uInt>(n);
    while (true) {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      const int r = inflate(&z, Z_NO_FLUSH);
      total += out.size() - z.avail_out;
      if (total > max_out)
        refuse_release(file + " unpacks to more than " + std::to_string(max_out) +
                       " bytes (a release holds at most " + std::to_string(limits.max_total_bytes) +
                       ")");
      if (r == Z_STREAM_END) {
        done = true;
        break;
      }
      if (r != Z_OK && r != Z_BUF_ERROR)
        refuse_release(file + " is corrupt: not an intact gzip stream (" +
                       (z.msg ? std::string(z.msg) : "zlib error " + std::to_string(r)) + ")");
      if (z.avail_in == 0 && z.avail_out != 0) break;  // everything read has come out
    }
  }
  if (!done) refuse_release(file + " is truncated: its gzip stream ends early");
}

// Reads every entry, applies the policy (names, types, sizes, counts) and extracts the regular
// files that pass into `stage` with libarchive's disk writer and its secure flags. Returns the
// extracted names.
std::set<std::string> extract(archive* in, const std::filesystem::path& stage,
                              const ArchiveLimits& limits) {
  std::unique_ptr<archive, WriteFree> out(archive_write_disk_new());
  // Refuse "..", absolute names and writing through a symlink; never replace a file; no owner,
  // permission or time restore (the installer sets modes; the folder is private).
  if (archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                    ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
                                                    ARCHIVE_EXTRACT_NO_OVERWRITE) != ARCHIVE_OK)
    refuse_release(std::string("libarchive disk writer: ") + la_error(out.get()));
  const InFolder cd(stage);

  std::set<std::string> names;
  std::size_t declared = 0, entries = 0;
  archive_entry* e = nullptr;
  while (true) {
    const int r = archive_read_next_header(in, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) refuse_release(std::string("corrupt or truncated: ") + la_error(in));
    if (++entries > limits.max_entries)
      refuse_release("more than " + std::to_string(limits.max_entries) + " entries");
    if (archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e) &&
        is_top_dir(archive_entry_pathname(e)))
      continue;
    const std::string name = checked_release_name(archive_entry_pathname(e));
    if (archive_entry_hardlink(e)) refuse_release("hard link '" + name + "'");
    const auto type = archive_entry_filetype(e);
    if (type == AE_IFDIR) {
      if (!is_release_folder(name)) refuse_release("folder '" + name + "' is not in a release");
      continue;  // the writer makes the folders files need
    }
    if (type == AE_IFLNK)
      refuse_release("symbolic link '" + name + "' -> '" +
                     (archive_entry_symlink(e) ? archive_entry_symlink(e) : "") + "'");
    if (type != AE_IFREG) refuse_release("'" + name + "' is a device, FIFO or socket");
    // Before a byte of it is staged: only the names a release holds (release_contents.h).
    if (!is_release_file(name)) refuse_release("'" + name + "' is not a file a release holds");
    // The sizes the headers declare refuse an oversize release before a byte of it is staged;
    // the per-file count below holds whatever the headers say. The total needs no count of
    // its own as the data is read: libarchive's tar reader sets every entry's size from its
    // header and archive_read_data returns no more than that, and check_gzip_stream has
    // bounded the whole uncompressed stream already.
    if (archive_entry_size_is_set(e) &&
        archive_entry_size(e) > static_cast<la_int64_t>(limits.max_entry_bytes))
      refuse_release("'" + name + "' is larger than " + std::to_string(limits.max_entry_bytes) +
                     " bytes");
    if (archive_entry_size_is_set(e) &&
        (declared += static_cast<std::size_t>(archive_entry_size(e))) > limits.max_total_bytes)
      refuse_release("the files hold more than " + std::to_string(limits.max_total_bytes) +
                     " bytes in all");
    if (!names.insert(name).second) refuse_release("'" + name + "' appears twice");

    archive_entry_set_pathname(e, name.c_str());  // "./x" -> "x", as checked
    archive_entry_set_perm(e, 0600);
    if (archive_write_header(out.get(), e) != ARCHIVE_OK)
      refuse_release("'" + name + "': " + la_error(out.get()));
    std::size_t size = 0;
    char buf[1 << 16];
    while (true) {
      const la_ssize_t n = archive_read_data(in, buf, sizeof buf);
      if (n < 0) refuse_release("'" + name + "' is truncated or corrupt: " + la_error(in));
      if (n == 0) break;
      size += static_cast<std::size_t>(n);
      if (size > limits.max_entry_bytes)
        refuse_release("'" + name + "' is larger than " + std::to_string(limits.max_entry_bytes) +
                       " bytes");
      if (archive_write_data(out.get(), buf, static_cast<std::size_t>(n)) != n)
        refuse_release("'" + name + "': cannot extract: " + la_error(out.get()));
    }
    if (archive_write_finish_entry(out.get()) != ARCHIVE_OK)
      refuse_release("'" + name + "': cannot extract: " + la_error(out.get()));
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK)
    refuse_release(std::string("cannot finish extracting: ") + la_error(out.get()));
  return names;
}

}  // namespace

Release read_release(const std::filesystem::path& file,
                     const std::optional<std::string>& expected_sha256,
                     const ArchiveLimits& limits) {
  if (expected_sha256) {
    const auto want = lower_hex(*expected_sha256);
    if (want.size() != 64 || want.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw std::invalid_argument("--sha256 wants 64 hex digits");
  }
  // Opened without blocking (a FIFO cannot hang the run, which holds the install lock) and
  // only as a regular file of bounded size; the hash and libarchive then read this same fd.
  const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) refuse_release(file.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) refuse_release(file.string() + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    refuse_release(file.string() + " is " + file_type_name(st.st_mode) + ", not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > limits.max_total_bytes)
    refuse_release(file.string() + " is larger than " + std::to_string(limits.max_total_bytes) +
                   " bytes");
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  if (expected_sha256) {
    const auto want = lower_hex(*expected_sha256);
    std::string got;
    try {
      got = sha256_fd_hex(fd.get(), file.string());
    } catch (const std::exception& e) {
      refuse_release(e.what());
    }
    if (got != want)
      refuse_release("sha256 of " + file.string() + " is " + got + ", expected " + want);
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) refuse_release(file.string() + ": cannot rewind");
  }
  check_gzip_stream(fd.get(), file.string(), limits);
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) refuse_release(file.string() + ": cannot rewind");

  std::unique_ptr<archive, ReadFree> a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_fd(a.get(), fd.get(), 1 << 16) != ARCHIVE_OK)
    refuse_release(file.string() + ": " + la_error(a.get()));

  const Staging stage;
  const auto names = extract(a.get(), stage.path(), limits);

  // The staged files, verified against the manifest, are what the plan installs.
  return verified_release(
      names, [&](const std::string& name) { return read_staged(stage.path() / name); });
}

}  // namespace cnm
