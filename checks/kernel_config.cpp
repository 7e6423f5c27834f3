#include "checks/kernel_config.h"

#include <zlib.h>

#include <memory>

#include "common/host_fs.h"
#include "probe/btf_source.h"

namespace cnm {

std::optional<std::string> gunzip_bounded(std::string_view bytes, std::size_t max_out) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return std::nullopt;
  const std::unique_ptr<z_stream, int (*)(z_stream*)> end(&z, inflateEnd);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char buf[1 << 16];
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    const int r = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > max_out) return std::nullopt;
    // One stream and nothing after it (what the kernel's kernel/configs.c serves).
    if (r == Z_STREAM_END) return z.avail_in == 0 ? std::optional(std::move(out)) : std::nullopt;
    // Z_BUF_ERROR with no input left: the stream is cut short.
    if (r != Z_OK) return std::nullopt;
  }
}

std::optional<KernelConfig> read_kernel_config(const HostFs& fs, const std::string& release,
                                               bool release_runs_there) {
  constexpr std::size_t kMaxConfig = 1 << 20, kMaxUnpacked = 8 << 20;
  if (probe::release_is_file_name(release)) {
    const std::string boot = "/boot/config-" + release;
    if (const auto t = fs.read(boot, kMaxConfig); t && !t->truncated)
      return KernelConfig{t->text, boot};
  }
  // The running kernel's own: only where the release judged is the one that runs there.
  if (!release_runs_there) return std::nullopt;
  const auto gz = fs.read("/proc/config.gz", kMaxConfig);
  if (!gz || gz->truncated) return std::nullopt;
  auto text = gunzip_bounded(gz->text, kMaxUnpacked);
  if (!text) return std::nullopt;
  return KernelConfig{std::move(*text), "/proc/config.gz"};
}

bool config_unsets(std::string_view config, std::string_view option) {
  bool unset = false;
  const std::string set = std::string(option) + "=";
  const std::string not_set = "# " + std::string(option) + " is not set";
  for_each_line(config, [&](std::string_view line) {
    if (line.starts_with(set)) unset = line.substr(set.size()) == "n";
    if (line == not_set) unset = true;
  });
  return unset;
}

}  // namespace cnm
