// The files cnm-probe and cnmctl carry inside themselves (probe/embed_files.cmake): the probe's
// BPF objects, by file name, and its minimized BTF files, by kernel release. The daemon loads
// these bytes, and the preflight verifies the same bytes on a host where nothing is installed.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace cnm::probe {

// A BPF object ("tcp_tracer.bpf.o"), or nullopt when not embedded.
std::optional<std::span<const std::byte>> embedded_object(std::string_view file_name);
// Its SHA-256 (hex), computed when it was embedded; "" when not embedded.
std::string_view embedded_object_sha256(std::string_view file_name);

// The minimized BTF file for a kernel release (`uname -r`), or nullopt.
std::optional<std::span<const std::byte>> embedded_btf(std::string_view kernel_release);
std::vector<std::string_view> embedded_btf_releases();

}  // namespace cnm::probe
