// The one reader for every file cnmkit reads: bounded in size, never blocking. The file is
// opened O_NONBLOCK (a FIFO cannot hang the open) and must be a regular file (a FIFO, a device
// such as /dev/zero or /dev/urandom, a socket or a folder is refused with a clear error, not
// read); it is read up to a limit (proc and sys files, which report size 0, are regular files
// and read the same way). Every caller says what a file over the limit means: its start is
// enough (host facts), or it is an error (configuration, token, layout, state).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/root_dir.h"

namespace cnm {

enum class ReadStatus {
  Ok,
  Absent,      // no such file (or a parent is not a folder)
  Unreadable,  // exists, but open or read failed (permissions, I/O error): see `error`
  NotRegular,  // a FIFO, device, socket or folder: not read
  TooLarge,    // longer than the limit with OverLimit::Refuse: not returned
  IsLink,      // the last part is a symbolic link and the caller asked not to follow it
};

enum class OverLimit { Truncate, Refuse };

struct ReadLimits {
  std::size_t max_bytes = 64 * 1024;
  OverLimit over = OverLimit::Truncate;
  bool follow_last_link = true;
};

struct FileRead {
  ReadStatus status = ReadStatus::Absent;
  int error = 0;           // errno for Unreadable
  std::string text;        // the content (its start when truncated)
  bool truncated = false;  // longer than max_bytes, OverLimit::Truncate
  mode_t mode = 0;         // type and permission bits (st_mode) when opened
  uid_t uid = 0;
  gid_t gid = 0;

  bool ok() const { return status == ReadStatus::Ok; }
  // "is a FIFO, not a regular file", "cannot be read: Permission denied", ... (no path).
  std::string why(std::size_t max_bytes) const;
};

// Reads host_path inside root (see root_dir.h) under the limits.
FileRead read_file(const RootDir& root, std::string_view host_path, const ReadLimits& limits);
// The same for a path on the live host (command-line files: --config, --layout, --archive).
FileRead read_file(const std::filesystem::path& path, const ReadLimits& limits);
// Reads an already opened fd (after the same checks).
FileRead read_fd(int fd, const ReadLimits& limits);

// What a caller that needs the whole file throws: "WHAT PATH: WHY".
class FileReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The whole file (up to max_bytes) or FileReadError; nullopt only when absent and allowed.
std::optional<std::string> read_whole_file(const std::filesystem::path& path, std::size_t max_bytes,
                                           const std::string& what, bool absent_ok = false);

// Describes a file type from st_mode ("a FIFO", "a character device", ...).
std::string file_type_name(mode_t mode);

}  // namespace cnm
