#include "common/host_fs.h"

#include <sys/stat.h>

#include <cstring>

namespace cnm {

HostFs::HostFs(std::filesystem::path root)
    : dir_(std::make_shared<const RootDir>(root.empty() ? std::filesystem::path("/") : root)) {}

std::filesystem::path HostFs::path(std::string_view host_path) const {
  return dir_->display(host_path);
}

FileRead HostFs::read_file(std::string_view host_path, std::size_t max_bytes) const {
  return cnm::read_file(*dir_, host_path, ReadLimits{max_bytes, OverLimit::Truncate, true});
}

std::optional<FileText> HostFs::read(std::string_view host_path, std::size_t max_bytes) const {
  auto r = read_file(host_path, max_bytes);
  if (!r.ok()) return std::nullopt;
  return FileText{std::move(r.text), r.truncated};
}

bool HostFs::exists(std::string_view host_path) const {
  struct stat st {};
  return dir_->stat(host_path, st, true);
}

bool HostFs::is_dir(std::string_view host_path) const { return dir_->is_dir(host_path); }

std::vector<std::string> HostFs::list(std::string_view host_dir) const {
  return dir_->list(host_dir);
}

std::string describe_unread(const FileRead& r, std::size_t max_bytes) {
  switch (r.status) {
    case ReadStatus::Absent:
      return "is missing";
    case ReadStatus::Unreadable:
      return std::string("is unreadable (") + std::strerror(r.error) + ")";
    default:
      return r.why(max_bytes);
  }
}

bool HostFs::describes(std::string_view host_dir) const { return is_live() || is_dir(host_dir); }

std::string_view trim(std::string_view s) {
  const auto ws = " \t\r\n\v\f";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string first_line(std::string_view s) {
  const auto nl = s.find('\n');
  return std::string(trim(s.substr(0, nl)));
}

}  // namespace cnm
