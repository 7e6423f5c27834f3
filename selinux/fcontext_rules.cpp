#include "selinux/fcontext_rules.h"

#include <semanage/fcontext_record.h>

namespace cnm::selinux {

std::string run_dir_type(const Layout& layout) {
  // "system_probe_t" -> "system_probe_run_t", the naming the .te uses.
  std::string t = layout.selinux_type;
  if (t.size() > 2 && t.compare(t.size() - 2, 2, "_t") == 0) t.resize(t.size() - 2);
  return t + "_run_t";
}

std::string escape_fcontext_path(std::string_view path) {
  std::string out;
  for (const char c : path) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string fcontext_expr(std::string_view path) {
  // The Datadog installer's "stable" is a link to the active package folder: a rule matches the
  // path a relabel of the whole tree finds (the folder of any version, so an upgrade keeps it)
  // as well as the one through the link.
  const std::string_view link(kInstallerAgentDir);
  if (path.starts_with(link) && (path.size() == link.size() || path[link.size()] == '/')) {
    const auto parent = link.substr(0, link.rfind('/') + 1);
    return escape_fcontext_path(parent) + "[^/]+" + escape_fcontext_path(path.substr(link.size()));
  }
  return escape_fcontext_path(path);
}

std::vector<FcontextRule> fcontext_rules(const Layout& layout) {
  return {
      {fcontext_expr(layout.probe_binary), SEMANAGE_FCONTEXT_REG, layout.selinux_type,
       layout.probe_binary, false},
      {fcontext_expr(layout.run_dir) + "(/.*)?", SEMANAGE_FCONTEXT_ALL, run_dir_type(layout),
       layout.run_dir, true},
  };
}

std::string file_context(const std::string& type, bool mls) {
  return "system_u:object_r:" + type + (mls ? ":s0" : "");
}

}  // namespace cnm::selinux
