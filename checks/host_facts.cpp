#include "checks/host_facts.h"

#include <elf.h>

#include <cstddef>
#include <string_view>
#include <utility>

#include "common/mounts.h"
#include "common/uname.h"

namespace cnm {
namespace {

void detect_kernel(HostFacts& f) {
  if (f.options.kernel_release) {
    f.kernel_release = *f.options.kernel_release;
    f.kernel_source = "--kernel-release";
  } else if (f.fs.is_live()) {
    f.kernel_release = running_uname().release;
    if (!f.kernel_release.empty()) f.kernel_source = "uname";
  } else if (const auto t = f.fs.read_file("/proc/sys/kernel/osrelease", 4096); t.ok()) {
    f.kernel_release = first_line(t.text);
    f.kernel_source = "proc/sys/kernel/osrelease";
  } else {
    f.kernel_error = "no kernel release: proc/sys/kernel/osrelease " + describe_unread(t, 4096) +
                     " under " + f.fs.root().string();
    return;
  }
  if (f.kernel_source.empty()) {
    f.kernel_error = "no kernel release (uname failed)";
    return;
  }
  f.kernel = KernelRelease::parse(f.kernel_release, &f.kernel_error);
}

// The architecture a kernel release names: RHEL/Fedora/Amazon end in ".x86_64", Debian in
// "-amd64", "-arm64", "-686-pae", ... Ubuntu's "-generic" and SUSE's "-default" name none.
std::string arch_of_release(std::string_view release) {
  static const std::pair<const char*, const char*> kSuffixes[] = {
      {".x86_64", "x86_64"},     {".aarch64", "aarch64"},     {".arm64", "aarch64"},
      {".ppc64le", "ppc64le"},   {".s390x", "s390x"},         {".i686", "i686"},
      {".armv7l", "armv7l"},     {"-amd64", "x86_64"},        {"-arm64", "aarch64"},
      {"-686", "i686"},          {"-686-pae", "i686"},        {"-armmp", "armv7l"},
      {"-armmp-lpae", "armv7l"}, {"-powerpc64le", "ppc64le"}, {"-s390x", "s390x"}};
  // A suffix alone is no release.
  for (const auto& [suffix, arch] : kSuffixes)
    if (release.ends_with(suffix) && release != suffix) return arch;
  return {};
}

// The machine an ELF file is built for (its header's e_machine), as uname -m names it.
std::string arch_of_elf(std::string_view h) {
  // e_machine is the same 2 bytes in ELF32 and ELF64 headers, in the file's byte order.
  constexpr std::size_t kMachine = offsetof(Elf64_Ehdr, e_machine);
  static_assert(kMachine == offsetof(Elf32_Ehdr, e_machine));
  if (h.size() < kMachine + 2 || !h.starts_with(ELFMAG)) return {};
  const bool big = h[EI_DATA] == ELFDATA2MSB;
  const auto b = [&](std::size_t i) {
    return static_cast<unsigned>(static_cast<unsigned char>(h[i]));
  };
  const unsigned machine =
      big ? (b(kMachine) << 8 | b(kMachine + 1)) : (b(kMachine + 1) << 8 | b(kMachine));
  switch (machine) {
    case EM_X86_64:
      return "x86_64";
    case EM_AARCH64:
      return "aarch64";
    case EM_386:
      return "i686";
    case EM_ARM:
      return "armv7l";
    case EM_PPC64:
      return big ? "ppc64" : "ppc64le";
    case EM_S390:
      return "s390x";
    case EM_RISCV:
      return "riscv64";
    default:
      return {};
  }
}

// The architecture a kernel's build configuration names ("" when none of these).
std::string arch_of_kernel_config(std::string_view config) {
  bool little_endian = false, bits64 = false;
  std::string arch;
  for_each_line(config, [&](std::string_view line) {
    if (line == "CONFIG_X86_64=y") arch = "x86_64";
    if (line == "CONFIG_X86_32=y") arch = "i686";
    if (line == "CONFIG_ARM64=y") arch = "aarch64";
    if (line == "CONFIG_ARM=y") arch = "armv7l";
    if (line == "CONFIG_S390=y") arch = "s390x";
    if (line == "CONFIG_PPC64=y") arch = "ppc64";
    if (line == "CONFIG_RISCV=y") arch = "riscv";
    if (line == "CONFIG_CPU_LITTLE_ENDIAN=y") little_endian = true;
    if (line == "CONFIG_64BIT=y") bits64 = true;
  });
  if (arch == "riscv") return bits64 ? "riscv64" : "riscv32";
  return arch == "ppc64" && little_endian ? "ppc64le" : arch;
}

void detect_arch(HostFacts& f) {
  if (f.fs.is_live()) {
    f.arch = running_uname().machine;
  } else if (const auto t = f.fs.read("/proc/sys/kernel/arch", 256)) {
    f.arch = first_line(t->text);
  } else {
    f.arch = arch_of_release(f.kernel_release);
    // A root whose release names no architecture (Ubuntu's -generic, SUSE's -default): the
    // machine its own programs are built for (an image's /bin/sh), read through the jail.
    for (const char* p : {"/bin/sh", "/usr/bin/sh", "/bin/busybox", "/sbin/init"}) {
      if (!f.arch.empty()) break;
      if (const auto elf = f.fs.read(p, 64)) f.arch = arch_of_elf(elf->text);
    }
    // A bare host description (no programs): the kernel's own build configuration.
    if (f.arch.empty() && f.kernel_config) f.arch = arch_of_kernel_config(f.kernel_config->text);
  }
  if (f.arch.empty()) f.arch = "unknown";
}

// The last mount on "/" is the one in effect.
std::string root_fstype(const HostFs& fs) {
  std::string type;
  if (const auto ms = read_mounts(fs))
    for (const auto& m : *ms)
      if (m.dir == "/") type = m.type;
  return type;
}

}  // namespace

ContainerFacts detect_container(const HostFs& fs) {
  ContainerFacts c;
  auto strong = [&](std::string runtime, std::string why) {
    c.in_container = true;
    if (c.runtime.empty()) c.runtime = std::move(runtime);
    c.evidence.push_back(std::move(why));
  };
  if (fs.exists("/run/.containerenv")) strong("podman", "/run/.containerenv exists");
  if (const auto t = fs.read("/run/systemd/container", 256))
    strong(first_line(t->text), "/run/systemd/container says " + first_line(t->text));
  if (const auto t = fs.read("/proc/1/environ", 64 * 1024)) {
    std::string_view env = t->text;
    for (std::size_t p = 0; p < env.size();) {
      auto e = env.find('\0', p);
      if (e == std::string_view::npos) e = env.size();
      const auto var = env.substr(p, e - p);
      if (var.starts_with("container="))
        strong(std::string(var.substr(10)), "PID 1 has " + std::string(var));
      p = e + 1;
    }
  }
  for (const char* f : {"/proc/1/cgroup", "/proc/self/cgroup"}) {
    const auto t = fs.read(f, 64 * 1024);
    if (!t) continue;
    static const std::pair<const char*, const char*> markers[] = {
        {"kubepods", "kubernetes"}, {"/docker", "docker"}, {"docker-", "docker"},
        {"/libpod", "podman"},      {"/lxc", "lxc"},       {"/containerd", "containerd"},
        {"crio-", "cri-o"},         {"/ecs/", "ecs"}};
    for (const auto& [needle, runtime] : markers) {
      if (t->text.find(needle) != std::string::npos) {
        strong(runtime, std::string(f) + " mentions '" + needle + "'");
        break;
      }
    }
    if (c.in_container) break;
  }
  if (fs.exists("/.dockerenv")) {
    // Docker creates /.dockerenv, but images reused as VM root filesystems keep it too;
    // only an overlay root makes it believable on its own.
    const auto type = root_fstype(fs);
    if (type == "overlay" || c.in_container)
      strong("docker", "/.dockerenv exists" + (type.empty() ? "" : " and / is " + type));
    else
      c.evidence.push_back("/.dockerenv exists but / is " + (type.empty() ? "unknown" : type) +
                           ", not overlay: treated as a host");
  }
  return c;
}

bool HostFacts::rhel7_kernel() const {
  return kernel && kernel->major == 3 && kernel->minor == 10 &&
         (kernel->el_tag() == "el7" || support.rhel7);
}

HostFacts gather_facts(const PreflightOptions& options) {
  HostFacts f;
  f.fs = HostFs(options.layout.root);
  f.layout = options.layout;
  f.options = options;
  detect_kernel(f);
  if (!f.fs.is_live())
    f.kernel_config = read_kernel_config(
        f.fs, f.kernel_release,
        f.kernel_source == "uname" || f.kernel_source == "proc/sys/kernel/osrelease");
  detect_arch(f);
  f.libc = detect_libc(f.fs, f.arch);
  f.distro = detect_distro(f.fs);
  f.support = evaluate_distro(f.distro);
  auto agent = detect_agent_version(f.fs, f.layout, options.agent_version);
  f.agent_version = agent.version;
  f.agent_version_source = agent.source;
  f.agent_version_error = agent.error;
  if (f.layout.mode == ProbeMode::Agent) f.agent_sources = read_agent_sources(f.fs, f.layout);
  f.container = detect_container(f.fs);
  return f;
}

}  // namespace cnm
