#include "common/host_record.h"

#include "common/file_read.h"

namespace cnm {

std::string state_file(const Layout& layout) { return layout.state_dir + "/state.json"; }

std::runtime_error damaged_state(const Layout& layout) {
  return std::runtime_error(RootDir(layout.root).display(state_file(layout)).string() +
                            " is damaged; fix or remove it by hand");
}

std::optional<nlohmann::json> read_state_json(const Layout& layout) {
  const RootDir root(layout.root);
  const std::string path = state_file(layout);
  // Not following a link: state.json is cnmkit's own file, and a link there could lead out of
  // the root or to a file that is not a state.
  const auto r = read_file(root, path, {kMaxStateFileBytes, OverLimit::Refuse, false});
  if (r.status == ReadStatus::Absent) return std::nullopt;
  // Unreadable is this user's lot (state.json is root's, 0600) or an I/O error: nothing to fix
  // in the file itself.
  if (r.status == ReadStatus::Unreadable)
    throw std::runtime_error(root.display(path).string() + " " + r.why(kMaxStateFileBytes));
  if (!r.ok())
    throw std::runtime_error(root.display(path).string() + " " +
                             (r.status == ReadStatus::IsLink ? std::string("is a symbolic link")
                                                             : r.why(kMaxStateFileBytes)) +
                             "; fix or remove it by hand");
  auto j = nlohmann::json::parse(r.text, nullptr, false);
  if (!j.is_object()) throw damaged_state(layout);
  return j;
}

HostRecord host_record_from_state(const nlohmann::json& state, const Layout& layout) {
  HostRecord h;
  try {
    if (state.contains("mode")) h.mode = parse_probe_mode(state["mode"].get<std::string>());
    if (state.contains("enabled_services"))
      h.enabled_services = state["enabled_services"].get<std::vector<std::string>>();
    h.selinux_module = state.value("selinux_module", false);
    h.layout = state.value("layout", "");
  } catch (const std::invalid_argument&) {
    throw damaged_state(layout);
  } catch (const nlohmann::json::exception&) {
    throw damaged_state(layout);
  }
  return h;
}

void put_host_record(const HostRecord& host, nlohmann::json& state) {
  if (host.mode) state["mode"] = to_string(*host.mode);
  if (!host.enabled_services.empty()) state["enabled_services"] = host.enabled_services;
  if (host.selinux_module) state["selinux_module"] = true;
  if (!host.layout.empty()) state["layout"] = host.layout;
}

}  // namespace cnm
