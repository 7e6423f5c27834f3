#include "probe/embedded_files.h"

#include <cstdint>
#include <cstring>

namespace {

// Laid out by probe/embed_files.cmake: kind, name, data, size, SHA-256 (hex).
struct EmbeddedFile {
  std::uint64_t kind;  // 0 BPF object, 1 BTF file
  const char* name;
  const std::byte* data;
  std::uint64_t size;
  const char* sha256;
};

}  // namespace

extern "C" const EmbeddedFile cnm_embedded_files[];
extern "C" const std::uint64_t cnm_embedded_count;

namespace cnm::probe {
namespace {

constexpr std::uint64_t kObject = 0, kBtf = 1;

std::span<const EmbeddedFile> files() {
  return {cnm_embedded_files, static_cast<std::size_t>(cnm_embedded_count)};
}

std::optional<std::span<const std::byte>> find(std::uint64_t kind, std::string_view name) {
  for (const auto& f : files())
    if (f.kind == kind && name == f.name)
      return std::span<const std::byte>(f.data, static_cast<std::size_t>(f.size));
  return std::nullopt;
}

std::vector<std::string_view> names(std::uint64_t kind) {
  std::vector<std::string_view> out;
  for (const auto& f : files())
    if (f.kind == kind) out.emplace_back(f.name);
  return out;
}

}  // namespace

std::optional<std::span<const std::byte>> embedded_object(std::string_view file_name) {
  return find(kObject, file_name);
}

std::string_view embedded_object_sha256(std::string_view file_name) {
  for (const auto& f : files())
    if (f.kind == kObject && file_name == f.name) return f.sha256;
  return {};
}

std::optional<std::span<const std::byte>> embedded_btf(std::string_view kernel_release) {
  return find(kBtf, kernel_release);
}
std::vector<std::string_view> embedded_btf_releases() { return names(kBtf); }

}  // namespace cnm::probe
