#include "installer/release_archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <set>
#include <sstream>

#include "installer/sha256.h"

namespace cnm {
namespace {

struct ReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

[[noreturn]] void refuse(const std::string& why) {
  throw ArchiveError("archive refused: " + why + "; nothing was installed");
}

// Only plain relative paths: no "..", no absolute, no empty or "." parts, no backslashes or
// control characters (they hide traversal from humans reading a listing).
std::string checked_name(const char* raw) {
  if (!raw || !*raw) refuse("entry without a name");
  std::string name = raw;
  if (name.front() == '/') refuse("absolute path '" + name + "'");
  while (name.size() > 2 && name.compare(0, 2, "./") == 0) name.erase(0, 2);
  if (!name.empty() && name.back() == '/') name.pop_back();
  std::stringstream ss(name);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty() || part == "." || part == "..")
      refuse("path with '" + part + "' component: '" + name + "'");
  }
  for (const unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '\\')
      refuse("control character or backslash in '" + name + "'");
  return name;
}

// "." or "./" (what `tar -C dir .` writes first): the archive's own top folder.
bool is_top_dir(const char* raw) {
  if (!raw) return false;
  std::string name = raw;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  while (name.size() > 2 && name.compare(0, 2, "./") == 0) name.erase(0, 2);
  return name == ".";
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// sha256sum lines: "HEX  path" (or "HEX *path").
std::map<std::string, std::string> parse_manifest(const std::string& text) {
  std::map<std::string, std::string> out;
  std::stringstream ss(text);
  std::string line;
  int n = 0;
  while (std::getline(ss, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF manifest
    if (line.empty()) continue;
    if (line.size() < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*'))
      refuse(std::string(kManifestName) + " line " + std::to_string(n) + " is not 'SHA256  PATH'");
    const auto hex = lower(line.substr(0, 64));
    if (hex.find_first_not_of("0123456789abcdef") != std::string::npos)
      refuse(std::string(kManifestName) + " line " + std::to_string(n) + ": bad hex");
    const auto path = checked_name(line.c_str() + 66);
    if (!out.emplace(path, hex).second)
      refuse(std::string(kManifestName) + " lists '" + path + "' twice");
  }
  return out;
}

}  // namespace

Release read_release(const std::filesystem::path& file,
                     const std::optional<std::string>& expected_sha256,
                     const ArchiveLimits& limits) {
  if (expected_sha256) {
    const auto want = lower(*expected_sha256);
    if (want.size() != 64 || want.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw std::invalid_argument("--sha256 wants 64 hex digits");
    std::string got;
    try {
      got = sha256_file_hex(file);
    } catch (const std::exception& e) {
      refuse(e.what());
    }
    if (got != want) refuse("sha256 of " + file.string() + " is " + got + ", expected " + want);
  }

  std::unique_ptr<archive, ReadFree> a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK)
    refuse(file.string() + ": " + archive_error_string(a.get()));

  Release rel;
  std::size_t total = 0, entries = 0;
  archive_entry* e = nullptr;
  while (true) {
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK)
      refuse(std::string("corrupt or truncated: ") + archive_error_string(a.get()));
    if (++entries > limits.max_entries)
      refuse("more than " + std::to_string(limits.max_entries) + " entries");
    if (archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e) &&
        is_top_dir(archive_entry_pathname(e)))
      continue;
    const std::string name = checked_name(archive_entry_pathname(e));
    if (archive_entry_hardlink(e)) refuse("hard link '" + name + "'");
    const auto type = archive_entry_filetype(e);
    if (type == AE_IFDIR) continue;
    if (type == AE_IFLNK)
      refuse("symbolic link '" + name + "' -> '" + archive_entry_symlink(e) + "'");
    if (type != AE_IFREG) refuse("'" + name + "' is a device, FIFO or socket");
    if (archive_entry_size_is_set(e) &&
        archive_entry_size(e) > static_cast<la_int64_t>(limits.max_entry_bytes))
      refuse("'" + name + "' is larger than " + std::to_string(limits.max_entry_bytes) + " bytes");
    std::string data;
    char buf[1 << 16];
    while (true) {
      const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n < 0) refuse("'" + name + "' is truncated or corrupt: " + archive_error_string(a.get()));
      if (n == 0) break;
      data.append(buf, static_cast<std::size_t>(n));
      total += static_cast<std::size_t>(n);
      if (data.size() > limits.max_entry_bytes)
        refuse("'" + name + "' is larger than the per-file limit");
      if (total > limits.max_total_bytes) refuse("archive content is larger than the limit");
    }
    if (!rel.files.emplace(name, std::move(data)).second) refuse("'" + name + "' appears twice");
  }

  const auto m = rel.files.find(kManifestName);
  if (m == rel.files.end()) refuse(std::string("no ") + kManifestName);
  const auto manifest = parse_manifest(m->second);
  for (const auto& [name, content] : rel.files) {
    if (name == kManifestName) continue;
    const auto it = manifest.find(name);
    if (it == manifest.end()) refuse("'" + name + "' is not in " + kManifestName);
    if (sha256_hex(content) != it->second)
      refuse("'" + name + "' does not match its sha256 in " + kManifestName);
  }
  for (const auto& [name, hex] : manifest)
    if (!rel.files.count(name))
      refuse(std::string(kManifestName) + " lists '" + name + "' but the archive lacks it");
  rel.files.erase(kManifestName);
  return rel;
}

}  // namespace cnm
