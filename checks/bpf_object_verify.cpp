#include "checks/bpf_object_verify.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <memory>

namespace cnm {
namespace {

struct ObjectCloser {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};
using ObjectPtr = std::unique_ptr<bpf_object, ObjectCloser>;

ObjectPtr open_object(const std::filesystem::path& path, std::string& error) {
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  const long err = libbpf_get_error(obj);
  if (err) {
    error = "cannot open: " + std::string(std::strerror(static_cast<int>(-err)));
    return nullptr;
  }
  return ObjectPtr(obj);
}

// The verifier ends its log with statistics ("processed N insns ..."); the reason for a
// refusal is the last line before them.
std::string reason_line(const char* log) {
  std::string_view s(log);
  while (!s.empty()) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
    const auto nl = s.rfind('\n');
    const auto line = nl == std::string_view::npos ? s : s.substr(nl + 1);
    if (!line.starts_with("processed ") && !line.starts_with("verification time") &&
        !line.starts_with("stack depth"))
      return std::string(line);
    s = nl == std::string_view::npos ? std::string_view() : s.substr(0, nl);
  }
  return {};
}

// Loads only program `only` (by index) of a fresh copy of the object.
ProgramVerdict load_one(const std::filesystem::path& path, std::size_t only) {
  ProgramVerdict v;
  v.object = path.filename().string();
  std::string error;
  auto obj = open_object(path, error);
  if (!obj) {
    v.error = error;
    return v;
  }
  static thread_local char log[16384];
  std::size_t i = 0;
  bpf_program* prog = nullptr;
  bpf_program* target = nullptr;
  bpf_object__for_each_program(prog, obj.get()) {
    const bool mine = i++ == only;
    bpf_program__set_autoload(prog, mine);
    if (mine) target = prog;
  }
  if (!target) return v;
  log[0] = '\0';
  bpf_program__set_log_buf(target, log, sizeof log);
  v.program = bpf_program__name(target);
  v.section = bpf_program__section_name(target);
  const int err = bpf_object__load(obj.get());
  v.loaded = err == 0;
  if (!v.loaded) {
    v.error = std::strerror(-err);
    spdlog::debug("verifier log for {}:{}:\n{}", v.object, v.program, log);
    const auto line = reason_line(log);
    if (!line.empty()) v.error += ": " + line;
  }
  return v;
}

}  // namespace

std::vector<ProgramVerdict> verify_bpf_object(const std::filesystem::path& path) {
  std::vector<ProgramVerdict> out;
  std::string error;
  auto obj = open_object(path, error);
  if (!obj) {
    out.push_back({path.filename().string(), "", "", false, error});
    return out;
  }
  std::vector<ProgramVerdict> all;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, obj.get()) {
    all.push_back({path.filename().string(),
                   bpf_program__name(prog),
                   bpf_program__section_name(prog),
                   false,
                   {}});
  }
  if (bpf_object__load(obj.get()) == 0) {
    for (auto& v : all) v.loaded = true;
    return all;
  }
  obj.reset();
  for (std::size_t i = 0; i < all.size(); ++i) out.push_back(load_one(path, i));
  return out;
}

}  // namespace cnm
