#include "probe/btf_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <lzma.h>

#include <array>
#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>

#include "common/printable.h"
#include "probe/btf_header.h"

namespace cnm::probe {
namespace {

constexpr std::string_view kSuffix = ".btf", kXzSuffix = ".btf.xz";

struct ReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

// libarchive's reason, or its errno where it gives none (a null message is never used).
std::string la_error(archive* a) {
  const char* why = archive_error_string(a);
  return why && *why ? why : "errno " + std::to_string(archive_errno(a));
}

// A member holding a kernel's BTF: its release, and whether it is xz-compressed on its own.
struct Member {
  std::string release;
  bool xz = false;
};

// The member a name gives ("centos/7/x86_64/3.10.0-1160.el7.x86_64.btf" -> release
// "3.10.0-1160.el7.x86_64"; "<release>.btf.xz" -> the same, xz); nullopt when the name is
// neither.
std::optional<Member> member_of(std::string_view path) {
  const auto slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const bool xz = base.ends_with(kXzSuffix);
  const auto suffix = xz ? kXzSuffix : kSuffix;
  if (base.size() <= suffix.size() || !base.ends_with(suffix)) return std::nullopt;
  base.remove_suffix(suffix.size());
  if (base == "." || base.find("..") != std::string_view::npos) return std::nullopt;
  return Member{std::string(base), xz};
}

// What an .xz stream is refused for ("is truncated", "has bytes after its xz stream", ...).
struct XzError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One .xz stream as `xz` writes it (xz-file-format: its magic first, nothing after it), unpacked
// piece by piece by liblzma within kMemory. Not libarchive's xz filter: it peels nested layers,
// skips stream padding and takes any dictionary, work and memory no count between blocks sees.
class XzStream {
 public:
  // xz -9's 64 MiB dictionary and the decoder's own (65 MiB, `xz --info-memory`);
  // make_btf_archive.sh's 1 MiB dictionary needs 2 MiB.
  static constexpr std::uint64_t kMemory = 80u << 20;

  static bool is_xz(std::string_view bytes) {
    static constexpr std::string_view kMagic(
        "\xfd"
        "7zXZ\0",
        6);  // xz-file-format 2.1.1.1
    return bytes.starts_with(kMagic);
  }

  // `packed` outlives the stream.
  explicit XzStream(std::string_view packed) {
    if (lzma_stream_decoder(&s_, kMemory, 0) != LZMA_OK)
      throw XzError("cannot start an xz decoder");
    s_.next_in = reinterpret_cast<const std::uint8_t*>(packed.data());
    s_.avail_in = packed.size();
  }
  ~XzStream() { lzma_end(&s_); }
  XzStream(const XzStream&) = delete;
  XzStream& operator=(const XzStream&) = delete;

  // Up to `room` more bytes unpacked into `out`; 0 at the stream's end. Throws XzError.
  std::size_t next(std::uint8_t* out, std::size_t room) {
    s_.next_out = out;
    s_.avail_out = room;
    while (!ended_ && s_.avail_out == room) {
      const lzma_ret r = lzma_code(&s_, LZMA_FINISH);
      if (r == LZMA_STREAM_END) {
        ended_ = true;
        if (s_.avail_in != 0) throw XzError("has bytes after its xz stream");
      } else if (r != LZMA_OK) {
        throw XzError(problem(r));
      }
    }
    return room - s_.avail_out;
  }

 private:
  static std::string problem(lzma_ret r) {
    switch (r) {
      case LZMA_MEMLIMIT_ERROR:
        return "needs more than " + std::to_string(kMemory >> 20) +
               " MiB to unpack (a dictionary larger than xz -9's)";
      case LZMA_OPTIONS_ERROR:
        return "uses xz options this reader does not take";
      case LZMA_BUF_ERROR:
        return "is truncated";
      default:
        return "is corrupt (liblzma error " + std::to_string(static_cast<int>(r)) + ")";
    }
  }

  lzma_stream s_ = LZMA_STREAM_INIT;
  bool ended_ = false;
};

// One pass over an archive's entries with the limits held. visit(release, read) is called for
// each <release>.btf or <release>.btf.xz file; read() returns its BTF (unpacked); visit returns
// false to stop the walk.
//
// libarchive is never left to skip a member's data: it would unpack all of it inside one
// archive_read_next_header call, beyond any count taken between headers (a GNU 'D' folder keeps
// its size, a pax GNU.sparse.realsize hides the stored one: a 1 MB .tar.zst made 40 GB of work).
// Every member not read is drained here block by block, the unpacked count checked after each.
class Walk {
 public:
  // Reads an archive file's bytes (they outlive the walk). A tar.xz is unpacked here by
  // XzStream, within its memory, and handed to libarchive as a plain tar; gzip and zstd by
  // libarchive (a 32 KiB window; zstd's at most 128 MiB by default).
  Walk(std::string_view bytes, std::string shown, const BtfArchiveLimits& limits)
      : a_(archive_read_new()), shown_(std::move(shown)), limits_(limits) {
    support();
    const bool xz = XzStream::is_xz(bytes);
    if (xz) {
      try {
        xz_.emplace(bytes);
      } catch (const XzError& e) {
        fail(std::string(e.what()));
      }
    }
    if ((xz ? archive_read_open(a_.get(), this, nullptr, read_xz, nullptr)
            : archive_read_open_memory(a_.get(), bytes.data(), bytes.size())) != ARCHIVE_OK)
      fail("is not an intact tar archive (" + la_error(a_.get()) + ")");
    // One compression at most (the filters and the reader's own): libarchive peels nested
    // layers, and the count taken between blocks sees only the last one's output.
    if (archive_filter_count(a_.get()) > (xz ? 1 : 2)) fail("is compressed more than once");
  }

  void run(
      const std::function<bool(const std::string&, const std::function<std::string()>&)>& visit) {
    archive_entry* e = nullptr;
    for (std::size_t entries = 0;;) {
      const int r = archive_read_next_header(a_.get(), &e);
      check_unpacked();
      if (r == ARCHIVE_EOF) return;
      if (r != ARCHIVE_OK) fail("is corrupt or truncated (" + la_error(a_.get()) + ")");
      if (++entries > limits_.max_entries)
        fail("holds more than " + std::to_string(limits_.max_entries) + " entries");
      const auto member = checked_member(e);
      if (!member) continue;  // a folder: no data
      read_ = false;
      if (!visit(member->release, [&] { return read_member(member->xz); })) return;
      if (!read_) drain();
    }
  }

  // The tar stream unpacked, and what the members read unpacked to (xz on their own).
  std::uint64_t unpacked() const {
    return static_cast<std::uint64_t>(archive_filter_bytes(a_.get(), 0)) + members_unpacked_;
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error("BTF archive " + shown_ + ": " + why);
  }

 private:
  // Each format and filter built in, never an external program libarchive would fall back to
  // (ARCHIVE_WARN) in a root daemon.
  void support() const {
    const std::pair<const char*, int (*)(archive*)> parts[] = {
        {"tar", archive_read_support_format_tar},
        {"GNU tar", archive_read_support_format_gnutar},
        {"gzip", archive_read_support_filter_gzip},
        {"zstd", archive_read_support_filter_zstd}};
    for (const auto& [what, add] : parts)
      if (add(a_.get()) != ARCHIVE_OK)
        fail(std::string("this libarchive does not read ") + what + " itself (" +
             la_error(a_.get()) + ")");
  }

  // libarchive's read callback for a tar.xz: the next piece XzStream unpacks.
  static la_ssize_t read_xz(archive* a, void* self, const void** buf) {
    auto& w = *static_cast<Walk*>(self);
    try {
      const auto n = w.xz_->next(w.xz_out_.data(), w.xz_out_.size());
      *buf = w.xz_out_.data();
      return static_cast<la_ssize_t>(n);
    } catch (const XzError& e) {
      archive_set_error(a, EILSEQ, "the xz stream %s", e.what());
      return -1;
    }
  }

  void check_unpacked() const {
    if (unpacked() > limits_.max_unpacked_bytes)
      fail("unpacks to more than " + std::to_string(limits_.max_unpacked_bytes) + " bytes");
  }

  // The BTF member a regular file is, nullopt for a folder; fails on anything else. Names are
  // capped (GNU long names reach 1 MB each: a few hundred of them held gigabytes).
  std::optional<Member> checked_member(archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    const std::string_view name = raw ? raw : "";
    const auto base = name.substr(
        name.find_last_of('/') == std::string_view::npos ? 0 : name.find_last_of('/') + 1);
    if (name.size() > kMaxPath || base.size() > kMaxName)
      fail("an entry's name is longer than " + std::to_string(kMaxName) + " bytes (" +
           std::to_string(kMaxPath) + " with its folders)");
    shown_name_ = "'" + printable(name) + "'";
    if (archive_entry_hardlink(e)) fail(shown_name_ + " is a hard link");
    if (archive_entry_sparse_count(e) > 0) fail(shown_name_ + " is a sparse file");
    const auto type = archive_entry_filetype(e);
    if (type == AE_IFDIR) {
      if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
        fail(shown_name_ + " is a folder with data");
      return std::nullopt;
    }
    if (type != AE_IFREG) fail(shown_name_ + " is not a regular file or a folder");
    auto member = member_of(name);
    if (!member) fail(shown_name_ + " is not named <kernel release>.btf or .btf.xz");
    if (archive_entry_size_is_set(e) &&
        archive_entry_size(e) > static_cast<la_int64_t>(limits_.max_member_bytes))
      too_large();
    return member;
  }

  [[noreturn]] void too_large() const {
    fail(shown_name_ + " is larger than " + std::to_string(limits_.max_member_bytes) + " bytes");
  }

  // The limits held after another block of the current member, which now has member_bytes:
  // the whole archive's unpacked size, then the member's.
  void count_block(std::size_t member_bytes) const {
    check_unpacked();
    if (member_bytes > limits_.max_member_bytes) too_large();
  }

  // Each block of the current member's data, in order, with the limits held after every one.
  template <typename Fn>
  void each_block(Fn&& take) {
    std::size_t total = 0;
    while (true) {
      const void* buf = nullptr;
      std::size_t size = 0;
      la_int64_t offset = 0;
      const int r = archive_read_data_block(a_.get(), &buf, &size, &offset);
      if (r == ARCHIVE_EOF) return;
      if (r != ARCHIVE_OK)
        fail(shown_name_ + " is truncated or corrupt (" + la_error(a_.get()) + ")");
      count_block(total += size);
      take(static_cast<const char*>(buf), size);
    }
  }

  std::string read_member(bool xz) {
    read_ = true;
    std::string out;
    each_block([&](const char* p, std::size_t n) { out.append(p, n); });
    return xz ? unxz(out) : out;
  }

  // A member xz-compressed on its own, unpacked with the same limits: so one member is decoded,
  // not every one before it.
  std::string unxz(std::string_view packed) {
    if (!XzStream::is_xz(packed)) fail(shown_name_ + " is not xz-compressed");
    std::string out;
    try {
      XzStream x(packed);
      std::uint8_t buf[64 * 1024];
      for (std::size_t n; (n = x.next(buf, sizeof buf)) > 0;) {
        members_unpacked_ += n;
        count_block(out.size() + n);
        out.append(reinterpret_cast<const char*>(buf), n);
      }
    } catch (const XzError& e) {
      fail(shown_name_ + " " + e.what());
    }
    return out;
  }

  void drain() {
    each_block([](const char*, std::size_t) {});
  }

  static constexpr std::size_t kMaxName = 255, kMaxPath = 4096;  // NAME_MAX, PATH_MAX
  std::optional<XzStream> xz_;  // a tar.xz's stream (before a_: freed after it)
  std::array<std::uint8_t, 64 * 1024> xz_out_;
  std::unique_ptr<archive, ReadFree> a_;
  std::string shown_;
  BtfArchiveLimits limits_;
  std::string shown_name_;              // the current member, for messages
  bool read_ = false;                   // the current member's data was read by visit
  std::uint64_t members_unpacked_ = 0;  // what xz members read unpacked to
};

}  // namespace

BtfArchiveLookup btf_from_archive(std::string_view archive, std::string_view release,
                                  const std::string& shown, const BtfArchiveLimits& limits) {
  BtfArchiveLookup out;
  std::optional<Walk> w;
  try {
    w.emplace(archive, shown, limits);
    w->run([&](const std::string& r, const std::function<std::string()>& read) {
      if (r != release) return true;
      out.btf = read();
      if (const auto why = btf_sections(*out.btf).problem; !why.empty()) {
        out.btf.reset();
        w->fail("the BTF for " + printable(r) + ": " + why);
      }
      return false;
    });
  } catch (const std::exception& e) {
    out.problem = e.what();
  }
  if (w) out.unpacked_bytes = w->unpacked();
  return out;
}

BtfArchiveCheck check_btf_archive(std::string_view archive, const std::string& shown,
                                  const BtfArchiveLimits& limits, std::string_view want) {
  BtfArchiveCheck out;
  std::set<std::string> seen;
  Walk w(archive, shown, limits);
  w.run([&](const std::string& r, const std::function<std::string()>& read) {
    if (!seen.insert(r).second) w.fail("holds the BTF for " + printable(r) + " twice");
    auto btf = read();
    if (const auto why = btf_sections(btf).problem; !why.empty())
      w.fail("the BTF for " + printable(r) + ": " + why);
    if (!want.empty() && r == want) out.wanted = std::move(btf);
    out.releases.push_back(r);
    return true;
  });
  if (out.releases.empty()) w.fail("holds no <kernel release>.btf or .btf.xz file");
  return out;
}

bool btf_archive_applies(std::string_view probe_flag, ProbeMode mode) {
  if (mode != ProbeMode::Agent) return true;
  if (probe_flag == "agent")
    throw std::invalid_argument(std::string(kBtfArchiveRefusedForTheAgent) +
                                std::string(kBtfArchiveNotTheAgents));
  return false;
}

}  // namespace cnm::probe
