#include "checks/host_facts.h"

#include <mntent.h>
#include <sys/utsname.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace cnm {
namespace {

void detect_kernel(HostFacts& f) {
  if (f.options.kernel_release) {
    f.kernel_release = *f.options.kernel_release;
    f.kernel_source = "--kernel-release";
  } else if (f.fs.is_live()) {
    struct utsname u {};
    if (::uname(&u) == 0) {
      f.kernel_release = u.release;
      f.kernel_source = "uname";
    }
  } else if (const auto t = f.fs.read("/proc/sys/kernel/osrelease", 4096)) {
    f.kernel_release = first_line(t->text);
    f.kernel_source = "proc/sys/kernel/osrelease";
  }
  if (f.kernel_source.empty()) {
    f.kernel_error =
        "no kernel release: proc/sys/kernel/osrelease is missing under " + f.fs.root().string();
    return;
  }
  f.kernel = KernelRelease::parse(f.kernel_release, &f.kernel_error);
}

void detect_arch(HostFacts& f) {
  if (f.fs.is_live()) {
    struct utsname u {};
    if (::uname(&u) == 0) f.arch = u.machine;
  } else if (const auto t = f.fs.read("/proc/sys/kernel/arch", 256)) {
    f.arch = first_line(t->text);
  } else {
    for (const char* a : {"x86_64", "aarch64", "arm64", "ppc64le", "s390x", "i686", "armv7l"}) {
      const std::string suffix = std::string(".") + a;
      if (f.kernel_release.size() > suffix.size() &&
          f.kernel_release.compare(f.kernel_release.size() - suffix.size(), suffix.size(),
                                   suffix) == 0)
        f.arch = a;
    }
  }
  if (f.arch.empty()) f.arch = "unknown";
}

void detect_agent_version(HostFacts& f) {
  auto take = [&](const std::string& text, const std::string& source) {
    if (auto v = Version::parse(text)) {
      f.agent_version = v;
      f.agent_version_source = source;
      return true;
    }
    f.agent_version_error = source + " gives an unreadable agent version '" + text + "'";
    return false;
  };
  if (f.options.agent_version) {
    take(*f.options.agent_version, "--agent-version");
    return;
  }
  if (const auto st = f.fs.read("/var/lib/dpkg/status", 64 * 1024 * 1024)) {
    if (auto v = agent_version_from_dpkg_status(st->text)) {
      f.agent_version = v;
      f.agent_version_source = "dpkg status of datadog-agent";
      return;
    }
  }
  if (const auto t = f.fs.read(f.layout.agent_version_manifest, 1024 * 1024)) {
    const auto j = nlohmann::json::parse(t->text, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("build_version") && j["build_version"].is_string()) {
      take(j["build_version"].get<std::string>(), f.layout.agent_version_manifest);
      return;
    }
    f.agent_version_error = f.layout.agent_version_manifest + " has no build_version";
  }
}

std::string root_fstype(const HostFs& fs) {
  std::string type;
  FILE* m = ::setmntent(fs.path("/proc/self/mounts").c_str(), "r");
  if (!m) return type;
  struct mntent ent {};
  char buf[4096];
  // The last mount on "/" is the one in effect.
  while (::getmntent_r(m, &ent, buf, sizeof buf)) {
    if (std::string_view(ent.mnt_dir) == "/") type = ent.mnt_type;
  }
  ::endmntent(m);
  return type;
}

}  // namespace

std::optional<Version> agent_version_from_dpkg_status(std::string_view status) {
  // Debian control format: paragraphs of "Field: value" separated by blank lines.
  bool is_agent = false, installed = false;
  std::string version;
  std::size_t pos = 0;
  while (pos <= status.size()) {
    auto nl = status.find('\n', pos);
    if (nl == std::string_view::npos) nl = status.size();
    const std::string_view line = status.substr(pos, nl - pos);
    pos = nl + 1;
    if (trim(line).empty()) {
      if (is_agent && installed) return Version::parse(version);
      is_agent = installed = false;
      version.clear();
      if (nl == status.size()) break;
      continue;
    }
    if (line.rfind("Package:", 0) == 0) is_agent = trim(line.substr(8)) == "datadog-agent";
    if (line.rfind("Status:", 0) == 0) installed = trim(line.substr(7)) == "install ok installed";
    if (line.rfind("Version:", 0) == 0) version = std::string(trim(line.substr(8)));
    if (nl == status.size()) break;
  }
  if (is_agent && installed) return Version::parse(version);
  return std::nullopt;
}

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
      if (var.rfind("container=", 0) == 0)
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

HostFacts gather_facts(const PreflightOptions& options) {
  HostFacts f;
  f.fs = HostFs(options.layout.root);
  f.layout = options.layout;
  f.options = options;
  detect_kernel(f);
  detect_arch(f);
  f.distro = detect_distro(f.fs);
  f.support = evaluate_distro(f.distro);
  detect_agent_version(f);
  f.container = detect_container(f.fs);
  return f;
}

}  // namespace cnm
