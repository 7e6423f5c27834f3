#include "installer/release_contents.h"

#include "installer/release_objects.h"

namespace cnm {

[[noreturn]] void refuse_release(const std::string& why) {
  throw ArchiveError("archive refused: " + why + "; nothing was installed");
}

const std::vector<ReleaseFile>& release_files() {
  static const std::vector<ReleaseFile> files = [] {
    std::vector<ReleaseFile> f{{std::string(kReleaseProbe), true, ReleaseDest::ProbeBinary, 0755},
                               {std::string(kReleaseUnit)},
                               {std::string(kReleaseInit)},
                               {std::string(kReleaseExample)},
                               {std::string(kReleaseSelinux), false, ReleaseDest::Selinux}};
    for (const auto object : release_objects::kBpfObjects)
      f.push_back(
          {std::string(kReleaseBpfFolder) + std::string(object), false, ReleaseDest::BpfObjects});
    return f;
  }();
  return files;
}

const ReleaseFile* find_release_file(std::string_view name) {
  for (const auto& f : release_files())
    if (f.name == name) return &f;
  return nullptr;
}

bool is_release_file(std::string_view name) {
  return name == kManifestName || find_release_file(name);
}

bool is_release_folder(std::string_view name) {
  for (const auto& f : release_files()) {
    const auto slash = f.name.find('/');
    if (slash != std::string::npos && std::string_view(f.name).substr(0, slash) == name)
      return true;
  }
  return false;
}

std::vector<std::string> needed_release_files(ProbeMode mode) {
  std::vector<std::string> out;
  if (mode != ProbeMode::Standalone) return out;
  for (const auto& f : release_files())
    if (f.standalone_needs) out.push_back(f.name);
  return out;
}

void check_release_complete(const Release& rel, ProbeMode mode) {
  std::string missing;
  for (const auto& name : needed_release_files(mode)) {
    const auto it = rel.files.find(name);
    if (it != rel.files.end() && !it->second.empty()) continue;
    missing += (missing.empty() ? "" : ", ") + name + (it == rel.files.end() ? "" : " (empty)");
  }
  if (!missing.empty())
    refuse_release("the release lacks " + missing + ", needed to install the " + to_string(mode) +
                   " probe (--probe " + to_string(mode) + ")");
}

}  // namespace cnm
