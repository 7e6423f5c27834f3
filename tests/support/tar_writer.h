// Writes tar archives in tests with libarchive's writer, hostile ones included (links, devices,
// odd names): what a real attacker could hand to `cnmctl install --archive` or put in place as a
// BTF archive. Any compression libarchive writes (gzip for a release, xz for a BTF archive).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cnm::test {

struct ArEntry {
  ArEntry(std::string n, std::string c, unsigned t = AE_IFREG, std::string l = "",
          std::string h = "")
      : name(std::move(n)),
        content(std::move(c)),
        type(t),
        link(std::move(l)),
        hardlink(std::move(h)) {}
  std::string name;
  std::string content;
  unsigned type = AE_IFREG;  // AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO
  std::string link;          // symlink target
  std::string hardlink;      // hard link target (then type is ignored)
};

// add_filter: archive_write_add_filter_gzip, _xz, _zstd or _none.
inline void write_tar(const std::filesystem::path& out, const std::vector<ArEntry>& entries,
                      int (*add_filter)(archive*) = archive_write_add_filter_gzip) {
  archive* a = archive_write_new();
  add_filter(a);
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open_filename(a, out.c_str()) != ARCHIVE_OK)
    throw std::runtime_error("cannot open archive");
  for (const auto& e : entries) {
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.name.c_str());
    archive_entry_set_perm(en, 0644);
    if (!e.hardlink.empty()) {
      archive_entry_set_filetype(en, AE_IFREG);
      archive_entry_set_hardlink(en, e.hardlink.c_str());
      archive_entry_set_size(en, 0);
    } else {
      archive_entry_set_filetype(en, e.type);
      if (e.type == AE_IFLNK) archive_entry_set_symlink(en, e.link.c_str());
      if (e.type == AE_IFCHR) archive_entry_set_rdev(en, makedev(1, 3));
      archive_entry_set_size(en,
                             e.type == AE_IFREG ? static_cast<la_int64_t>(e.content.size()) : 0);
    }
    archive_write_header(a, en);
    if (e.type == AE_IFREG && e.hardlink.empty() && !e.content.empty())
      archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
}

// `data` compressed as one stream by add_filter (archive_write_add_filter_xz, _gzip, ...), as
// `xz` or `gzip` writes a file.
inline std::string compressed(const std::string& data, int (*add_filter)(archive*)) {
  archive* a = archive_write_new();
  add_filter(a);
  archive_write_set_format_raw(a);
  std::string out(data.size() + (64u << 10), '\0');
  std::size_t used = 0;
  if (archive_write_open_memory(a, out.data(), out.size(), &used) != ARCHIVE_OK)
    throw std::runtime_error("cannot open an xz stream");
  archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_write_header(a, e);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  if (archive_write_close(a) != ARCHIVE_OK) throw std::runtime_error("cannot write an xz stream");
  archive_write_free(a);
  out.resize(used);
  return out;
}

// One .xz stream of `data` (a BTF archive's member packed on its own).
inline std::string xz_stream(const std::string& data) {
  return compressed(data, archive_write_add_filter_xz);
}

}  // namespace cnm::test
