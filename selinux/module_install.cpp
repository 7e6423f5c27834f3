#include "selinux/module_install.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "common/atomic_file.h"
#include "common/host_fs.h"
#include "selinux/fcontext_rules.h"
#include "selinux/relabel.h"
#include "selinux/semanage_store.h"
#include "selinux/status.h"
#include "selinux/store_location.h"

namespace cnm::selinux {
namespace {

Layout effective_layout(const ChangeOptions& o) {
  Layout l = o.layout;
  if (o.binary) l.probe_binary = *o.binary;
  return l;
}

// `more`'s rules that `rules` does not have yet, added to it.
void add_missing(std::vector<FcontextRule>& rules, std::vector<FcontextRule> more) {
  for (auto& rule : more)
    if (std::none_of(rules.begin(), rules.end(),
                     [&](const FcontextRule& have) { return have.expr == rule.expr; }))
      rules.push_back(std::move(rule));
}

std::vector<FcontextRule> rules_of(const ChangeOptions& o, const Layout& l) {
  auto rules = fcontext_rules(l);
  if (o.other_mode) add_missing(rules, fcontext_rules(*o.other_mode));
  return rules;
}

double commit_timed(SemanageStore& store) {
  const auto t0 = std::chrono::steady_clock::now();
  store.commit();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// After a commit (or when it was not needed): say what the change means on this host.
void add_host_notes(const Layout& l, ChangeReport& r) {
  if (!l.is_live())
    r.notes.push_back("alternate root " + l.root.string() +
                      ": the policy was built there and not loaded into the running kernel");
  if (selinux_mode(HostFs(l.root)) == "disabled")
    r.notes.push_back(
        "SELinux is disabled in the kernel (no /sys/fs/selinux/enforce): the "
        "change is in the policy store and takes effect at the next boot with "
        "SELinux enabled");
}

// Relabelling runs after the commit: if it fails the store is already changed, so say that
// rather than let the caller report an unchanged store. Running the command again finishes it.
std::vector<RelabelResult> relabel_after(const Layout& l, const std::string& policy_type,
                                         const std::vector<FcontextRule>& rules,
                                         const ChangeReport& r) {
  try {
    return relabel(l, policy_type, rules);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(e.what()) + " (the policy store " +
                             (r.committed ? "was changed" : "is unchanged") +
                             "; run `cnmctl selinux " + r.action + "` again to finish)");
  }
}

void record_relabels(const std::vector<RelabelResult>& rs, ChangeReport& r) {
  for (const auto& x : rs) {
    if (x.changed()) {
      r.steps.push_back("relabelled " + x.host_path + ": " +
                        (x.before.empty() ? "(none)" : x.before) + " -> " + x.after);
      r.changed = true;
    } else {
      r.steps.push_back(x.host_path + " already labelled " + x.after);
    }
  }
}

// The version of a module found in the store; someone else may have installed a CIL module
// under our name, which has none.
std::string installed_version(const std::string& data) {
  try {
    return read_module_package(data, "installed").version;
  } catch (const PolicyError&) {
    return "(not a .pp module)";
  }
}

}  // namespace

std::string version_marker(const std::string& store_path, const std::string& module) {
  return store_path + "/active/modules/" + std::to_string(kModulePriority) + "/" + module +
         "/cnmkit-version";
}

ChangeReport install(const ChangeOptions& o) {
  const Layout l = effective_layout(o);
  // Compile first: a policy with an error never gets near the store.
  const PolicyModule m =
      o.policy_file ? compile_policy(*o.policy_file, l.selinux_module) : packaged_module();
  if (m.name != l.selinux_module)
    throw PolicyError("the packaged module is '" + m.name + "' but the layout names '" +
                      l.selinux_module + "': pass --policy with a module of that name");
  ChangeReport r;
  r.action = "install";
  r.module = m.name;
  r.version = m.version;
  SemanageStore store(l, !o.dry_run);
  const auto installed = store.module_data(m.name);
  const bool module_same = installed && *installed == m.pp;
  const auto rules = rules_of(o, l);
  std::vector<const FcontextRule*> rules_to_set;
  for (const auto& rule : rules) {
    const std::string want = file_context(rule.type, store.mls());
    if (store.local_fcontext(rule) != want) rules_to_set.push_back(&rule);
  }
  if (module_same) {
    r.steps.push_back("module " + m.name + " " + m.version + " already installed");
  } else {
    if (installed) {
      r.steps.push_back("replace module " + m.name + " " + installed_version(*installed) +
                        " with " + m.version);
    } else {
      r.steps.push_back("install module " + m.name + " " + m.version + " (from " + m.source + ")");
    }
  }
  for (const auto& rule : rules)
    r.steps.push_back(std::find(rules_to_set.begin(), rules_to_set.end(), &rule) ==
                              rules_to_set.end()
                          ? "fcontext " + rule.expr + " already " + rule.type
                          : "add fcontext " + rule.expr + " -> " + rule.type);
  r.changed = !module_same || !rules_to_set.empty();
  if (o.dry_run) {
    r.notes.push_back("dry run: nothing was changed");
    add_host_notes(l, r);
    return r;
  }
  if (r.changed) {
    store.begin();
    if (!module_same) store.install_module(m);
    for (const auto* rule : rules_to_set) store.set_local_fcontext(*rule);
    r.commit_seconds = commit_timed(store);
    r.committed = true;
    spdlog::info("policy store committed in {:.1f} s", r.commit_seconds);
  }
  // The version marker: rewritten only when it is missing or says something else.
  const std::string marker = version_marker(store.host_path(), m.name);
  const auto written = HostFs(l.root).read(marker, 256);
  if ((written ? first_line(written->text) : "") != m.version)
    atomic_write(RootDir(l.root), marker, m.version + "\n", 0644);
  record_relabels(relabel_after(l, store.policy_type(), rules, r), r);
  add_host_notes(l, r);
  return r;
}

ChangeReport remove(const ChangeOptions& o) {
  const Layout l = effective_layout(o);
  ChangeReport r;
  r.action = "remove";
  r.module = l.selinux_module;
  // No SELinux configuration, so no policy store: no module of ours to remove. A fleet's
  // uninstall asks every host, SELinux or not.
  if (store_location(HostFs(l.root)).policy_type.empty()) {
    r.steps.push_back("no SELinux configuration at " + l.at("/etc/selinux/config").string() +
                      ": no module to remove");
    return r;
  }
  SemanageStore store(l, !o.dry_run);
  const auto installed = store.module_data(l.selinux_module);
  if (installed) {
    r.version = installed_version(*installed);
    r.steps.push_back("remove module " + l.selinux_module + " " + r.version);
  } else {
    r.steps.push_back("module " + l.selinux_module + " is not installed");
  }
  auto rules = rules_of(o, l);
  // Beside the Agent, the rules an install made where its files were then: the Datadog installer
  // moves a package's Agent to its own folder (and back), which changes the defaults.
  if (l.mode == ProbeMode::Agent) add_missing(rules, fcontext_rules(with_other_agent_dir(l)));
  std::vector<const FcontextRule*> present;
  for (const auto& rule : rules) {
    if (store.local_fcontext(rule)) {
      present.push_back(&rule);
      r.steps.push_back("delete fcontext " + rule.expr);
    } else {
      r.steps.push_back("no fcontext rule " + rule.expr);
    }
  }
  r.changed = installed.has_value() || !present.empty();
  if (o.dry_run) {
    r.notes.push_back("dry run: nothing was changed");
    add_host_notes(l, r);
    return r;
  }
  if (r.changed) {
    store.begin();
    // Rules first: they name the module's types, which must not outlive them.
    for (const auto* rule : present) store.delete_local_fcontext(*rule);
    if (installed) store.remove_module(l.selinux_module);
    r.commit_seconds = commit_timed(store);
    r.committed = true;
  }
  // Back to what the distribution's policy says for these paths.
  record_relabels(relabel_after(l, store.policy_type(), rules, r), r);
  add_host_notes(l, r);
  return r;
}

}  // namespace cnm::selinux
