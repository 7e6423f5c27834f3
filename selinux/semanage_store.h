// The host's SELinux policy store through libsemanage: one handle, connected to the store under
// Layout::root (semanage_set_root, so a copied store under a temporary root is fully isolated).
// Reads work outside a transaction; changes go between begin() and commit(), and nothing
// reaches the store unless commit() succeeds.
#pragma once

extern "C" {  // libsemanage's headers have no extern "C" of their own
#include <semanage/handle.h>
}

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/layout.h"
#include "selinux/fcontext_rules.h"
#include "selinux/policy_module.h"

namespace cnm::selinux {

// Missing store, missing privileges, or a libsemanage failure; the message says which and what
// libsemanage reported. The store is unchanged when this is thrown.
struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Priority of local modules (what `semodule -i` uses); the distribution's modules sit at 100.
inline constexpr int kModulePriority = 400;

class SemanageStore {
 public:
  // Throws StoreError when there is no policy store under layout.root, or when for_write and
  // this process may not change it.
  SemanageStore(const Layout& layout, bool for_write);
  ~SemanageStore();
  SemanageStore(const SemanageStore&) = delete;
  SemanageStore& operator=(const SemanageStore&) = delete;

  const std::string& policy_type() const { return policy_type_; }
  // The store's folder on disk, e.g. ROOT/var/lib/selinux/default (for messages).
  const std::filesystem::path& path() const { return path_; }
  // The same as a host path (selinux/store_location.h), for RootDir: /var/lib/selinux/default.
  const std::string& host_path() const { return host_path_; }
  bool mls() const;

  // The .pp bytes of the module at kModulePriority, nullopt when it is not installed.
  std::optional<std::string> module_data(const std::string& name) const;
  // The local fcontext rule's context for (expr, file_type), nullopt when there is none.
  std::optional<std::string> local_fcontext(const FcontextRule& rule) const;

  void begin();
  void install_module(const PolicyModule& m);
  void remove_module(const std::string& name);
  void set_local_fcontext(const FcontextRule& rule);
  void delete_local_fcontext(const FcontextRule& rule);
  // Rebuilds the policy (seconds). On a live host with SELinux on, libsemanage also loads it;
  // under an alternate root it never does.
  void commit();

 private:
  [[noreturn]] void fail(const std::string& what) const;

  semanage_handle_t* sh_ = nullptr;
  std::string policy_type_;
  std::filesystem::path path_;
  std::string host_path_;
  mutable std::string messages_;  // what libsemanage said since the last fail()
};

}  // namespace cnm::selinux
