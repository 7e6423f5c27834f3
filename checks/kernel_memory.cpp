#include "checks/kernel_memory.h"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/file_read.h"

namespace cnm {
namespace {

constexpr int kFormat = 1;

const char* answer_text(probe::Answer a) {
  return a == probe::Answer::kYes ? "yes" : a == probe::Answer::kNo ? "no" : "unknown";
}

std::optional<probe::Answer> answer_of(const std::string& s) {
  if (s == "yes") return probe::Answer::kYes;
  if (s == "no") return probe::Answer::kNo;
  return std::nullopt;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

}  // namespace

std::string gnu_build_id(std::string_view notes) {
  // A sequence of notes: namesz, descsz, type (4 bytes each), the name and the descriptor, each
  // padded to 4 bytes. NT_GNU_BUILD_ID is type 3 with name "GNU".
  auto align4 = [](std::size_t n) { return (n + 3) & ~std::size_t{3}; };
  std::size_t at = 0;
  while (at + 12 <= notes.size()) {
    std::uint32_t h[3];
    std::memcpy(h, notes.data() + at, sizeof h);
    const std::size_t name_at = at + 12, desc_at = name_at + align4(h[0]);
    const std::size_t next = desc_at + align4(h[1]);
    if (h[0] > notes.size() || h[1] > notes.size() || next > notes.size()) return "";
    if (h[2] == 3 && h[0] == 4 && notes.substr(name_at, 4) == std::string_view("GNU\0", 4))
      return hex(notes.substr(desc_at, h[1]));
    at = next;
  }
  return "";
}

std::string kernel_identity(const HostFs& fs) {
  std::string id;
  if (auto notes = fs.read("/sys/kernel/notes"); notes) id = gnu_build_id(notes->text);
  if (!id.empty()) {
    id = "build-id:" + id;
  } else {
    const auto version = fs.read("/proc/version");
    const auto boot = fs.read("/proc/sys/kernel/random/boot_id");
    id = "version:" + std::to_string(std::hash<std::string>{}(version ? version->text : "")) +
         ",boot:" + (boot ? first_line(boot->text) : "");
  }
  const auto lockdown = fs.read("/sys/kernel/security/lockdown");
  id += ",lockdown:" + (lockdown ? first_line(lockdown->text) : "none");
  return id + ",cnmctl:" CNM_VERSION;
}

bool KernelMemory::keeps(const probe::Need& n) {
  switch (n.kind) {
    case probe::NeedKind::kProgramType:
    case probe::NeedKind::kMapType:
    case probe::NeedKind::kHelper:
    case probe::NeedKind::kTracepoint:
    case probe::NeedKind::kKernelFunction:
    case probe::NeedKind::kCmpxchg:
      return true;
    default:
      return false;
  }
}

KernelMemory::KernelMemory(std::filesystem::path file, std::string identity, bool read_only)
    : file_(std::move(file)), identity_(std::move(identity)), read_only_(read_only) {
  // The one bounded, non-blocking reader (common/file_read.h): a FIFO, a device or a folder at
  // this path is not read (a plain ifstream blocked forever on a FIFO), a file over the bound
  // is ignored, as is any file that is not this kernel's memory.
  const FileRead in =
      read_file(file_, ReadLimits{kMaxMemoryBytes, OverLimit::Refuse, /*follow_last_link=*/true});
  if (!in.ok()) {
    if (in.status != ReadStatus::Absent)
      spdlog::debug("{}: ignored ({})", file_.string(), in.why(kMaxMemoryBytes));
    return;
  }
  const auto j = nlohmann::json::parse(in.text, nullptr, /*allow_exceptions=*/false);
  try {
    if (!j.is_object() || j.value("format", 0) != kFormat || j.value("kernel", "") != identity_)
      return;
    for (const auto& [k, v] : j.at("answers").items())
      if (auto a = answer_of(v.get<std::string>())) answers_[k] = *a;
    for (const auto& [k, list] : j.at("verdicts").items()) {
      auto& out = verdicts_[k];
      for (const auto& v : list)
        out.push_back({v.at("object"), v.at("program"), v.at("loaded"), v.at("error")});
    }
  } catch (const nlohmann::json::exception& e) {
    spdlog::debug("{}: ignored ({})", file_.string(), e.what());
    answers_.clear();
    verdicts_.clear();
  }
}

std::optional<probe::Answer> KernelMemory::answer(const std::string& need_key) const {
  const auto it = answers_.find(need_key);
  if (it == answers_.end()) return std::nullopt;
  recalled_ = true;
  return it->second;
}

void KernelMemory::remember(const std::string& need_key, probe::Answer a) {
  if (a == probe::Answer::kUnknown) return;
  answers_[need_key] = a;
  changed_ = true;
}

std::optional<std::vector<probe::ProgramVerdict>> KernelMemory::verdicts(
    const std::string& key) const {
  const auto it = verdicts_.find(key);
  if (it == verdicts_.end()) return std::nullopt;
  recalled_ = true;
  return it->second;
}

void KernelMemory::remember(const std::string& key, const std::vector<probe::ProgramVerdict>& v) {
  verdicts_[key] = v;
  changed_ = true;
}

bool KernelMemory::save() const {
  if (!changed_ || read_only_) return true;
  nlohmann::json answers = nlohmann::json::object(), verdicts = nlohmann::json::object();
  for (const auto& [k, a] : answers_) answers[k] = answer_text(a);
  for (const auto& [k, list] : verdicts_) {
    auto& out = verdicts[k] = nlohmann::json::array();
    for (const auto& v : list)
      out.push_back(
          {{"object", v.object}, {"program", v.program}, {"loaded", v.loaded}, {"error", v.error}});
  }
  const nlohmann::json j = {
      {"format", kFormat}, {"kernel", identity_}, {"answers", answers}, {"verdicts", verdicts}};
  try {
    std::filesystem::create_directories(file_.parent_path());
    atomic_write(file_, j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                 0644);
    return true;
  } catch (const std::exception& e) {
    spdlog::debug("cannot remember the kernel's answers in {}: {}", file_.string(), e.what());
    return false;
  }
}

}  // namespace cnm
