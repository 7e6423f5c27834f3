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

std::vector<FcontextRule> fcontext_rules(const Layout& layout) {
  return {
      {escape_fcontext_path(layout.probe_binary), SEMANAGE_FCONTEXT_REG, layout.selinux_type,
       layout.probe_binary, false},
      {escape_fcontext_path(layout.run_dir) + "(/.*)?", SEMANAGE_FCONTEXT_ALL, run_dir_type(layout),
       layout.run_dir, true},
  };
}

std::string file_context(const std::string& type, bool mls) {
  return "system_u:object_r:" + type + (mls ? ":s0" : "");
}

}  // namespace cnm::selinux
