#include "selinux/semanage_store.h"

// libsemanage's headers have no extern "C" of their own.
extern "C" {
#include <semanage/context_record.h>
#include <semanage/debug.h>
#include <semanage/fcontext_record.h>
#include <semanage/fcontexts_local.h>
#include <semanage/modules.h>
}
#include <spdlog/spdlog.h>
#include <sys/mman.h>

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <vector>

#include "common/host_fs.h"
#include "common/root_dir.h"
#include "selinux/store_location.h"

namespace cnm::selinux {
namespace {

// libsemanage reports through a printf-style callback; keep errors and warnings for our
// messages, log the rest at debug.
void collect_message(void* arg, semanage_handle_t* sh, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
void collect_message(void* arg, semanage_handle_t* sh, const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  const int level = semanage_msg_get_level(sh);
  spdlog::debug("libsemanage: {}", buf);
  if (level == SEMANAGE_MSG_ERR || level == SEMANAGE_MSG_WARN) {
    auto* out = static_cast<std::string*>(arg);
    if (!out->empty()) out->append("; ");
    out->append(buf);
  }
}

struct ModuleKey {
  semanage_handle_t* sh;
  semanage_module_key_t* key = nullptr;
  ModuleKey(semanage_handle_t* h, const std::string& name) : sh(h) {
    if (semanage_module_key_create(sh, &key) < 0 ||
        semanage_module_key_set_name(sh, key, name.c_str()) < 0 ||
        semanage_module_key_set_priority(sh, key, kModulePriority) < 0)
      throw StoreError("cannot make a module key for " + name);
  }
  ~ModuleKey() {
    if (key) {
      semanage_module_key_destroy(sh, key);
      std::free(key);
    }
  }
  ModuleKey(const ModuleKey&) = delete;
  ModuleKey& operator=(const ModuleKey&) = delete;
};

struct FcontextKey {
  semanage_fcontext_key_t* key = nullptr;
  FcontextKey(semanage_handle_t* sh, const FcontextRule& r) {
    if (semanage_fcontext_key_create(sh, r.expr.c_str(), r.file_type, &key) < 0)
      throw StoreError("cannot make an fcontext key for " + r.expr);
  }
  ~FcontextKey() { semanage_fcontext_key_free(key); }
  FcontextKey(const FcontextKey&) = delete;
  FcontextKey& operator=(const FcontextKey&) = delete;
};

}  // namespace

SemanageStore::SemanageStore(const Layout& layout, bool for_write) {
  const auto loc = store_location(HostFs(layout.root));
  if (loc.policy_type.empty())
    throw StoreError("no SELinux configuration at " + layout.at("/etc/selinux/config").string() +
                     " (SELINUXTYPE=): install a policy, e.g. the Debian package "
                     "selinux-policy-default");
  // A semanage.conf that is a FIFO would hang libsemanage's fopen; one it cannot parse makes
  // it fail later with less to say.
  if (!loc.problem.empty()) throw StoreError(loc.problem + "; nothing was changed");
  // A commit runs the programs the root's semanage.conf names, as host programs with the root's
  // arguments: a copied store takes only those that cannot be turned against the host.
  if (const auto why = root_program_problem(loc.programs); !layout.is_live() && !why.empty())
    throw StoreError(layout.at(kSemanageConf).string() + ": " + why + "; nothing was changed");
  policy_type_ = loc.policy_type;
  host_path_ = loc.path;
  path_ = layout.at(host_path_);
  // libsemanage opens these by name under the root and follows any link it meets on the host:
  // refuse a root where one would lead it out (an absolute link, or ".." past the root). The
  // whole store root, not only the store: libsemanage builds in STORE_ROOT/final.
  const RootDir root(layout.root);
  std::vector<std::string> trees{"/etc/selinux"};
  if (loc.store_root != "/etc/selinux" && !loc.store_root.starts_with("/etc/selinux/"))
    trees.push_back(loc.store_root);
  for (const auto& tree : trees)
    if (const auto link = root.first_escape(tree); !link.empty())
      throw StoreError(root.display(link).string() +
                       " leads out of --root (libsemanage would follow it to the host's "
                       "files); nothing was changed");
  std::error_code ec;
  const bool present = std::filesystem::is_directory(path_ / "active", ec);
  if (ec == std::errc::permission_denied)
    throw StoreError("no permission to read the policy store at " + path_.string() +
                     ": run as root");
  if (!present)
    throw StoreError("no SELinux policy store at " + path_.string() + " (store root from " +
                     loc.origin +
                     "): install a policy, e.g. the Debian package selinux-policy-default");
  // Process-wide: every path libsemanage uses (semanage.conf, store, final policy) moves
  // under the root. "" is the live host.
  if (semanage_set_root(layout.is_live() ? "" : layout.root.c_str()) < 0)
    throw StoreError("semanage_set_root failed");
  sh_ = semanage_handle_create();
  if (!sh_)
    throw StoreError("cannot create a libsemanage handle (is " + layout.at(kSemanageConf).string() +
                     " readable?)");
  // The store we checked is the store libsemanage opens: its own reading of semanage.conf
  // falls back to the host's file when the root has none, takes a relative store-root from
  // its working folder, and takes the policy type from the host's /etc/selinux/config, not
  // the root's. Both before the first call that builds its paths (is_managed).
  semanage_set_store_root(sh_, loc.store_root.c_str());
  semanage_select_store(sh_, policy_type_.data(), SEMANAGE_CON_DIRECT);
  // A constructor that throws runs no destructor: release the handle on the way out.
  try {
    semanage_msg_set_callback(sh_, collect_message, &messages_);
    // Never load a policy built from a copied store into the running kernel, nor run the root's
    // setfiles on the host (root_program_problem).
    if (!layout.is_live()) {
      semanage_set_reload(sh_, 0);
      semanage_set_check_contexts(sh_, 0);
    }
    semanage_set_create_store(sh_, 0);
    if (!semanage_is_managed(sh_))
      fail("the policy store at " + path_.string() + " is not managed");
    const int access = semanage_access_check(sh_);
    if (access < (for_write ? SEMANAGE_CAN_WRITE : SEMANAGE_CAN_READ))
      throw StoreError(std::string("no permission to ") + (for_write ? "change" : "read") +
                       " the policy store at " + path_.string() + ": run as root");
    if (semanage_connect(sh_) < 0) fail("cannot connect to the policy store at " + path_.string());
  } catch (...) {
    if (semanage_is_connected(sh_)) semanage_disconnect(sh_);
    semanage_handle_destroy(sh_);
    sh_ = nullptr;
    throw;
  }
}

SemanageStore::~SemanageStore() {
  if (!sh_) return;
  if (semanage_is_connected(sh_)) semanage_disconnect(sh_);
  semanage_handle_destroy(sh_);
}

// libsemanage returns a negative number on failure; reads return the store's commit number.
void SemanageStore::fail(const std::string& what) const {
  std::string msg = what;
  if (!messages_.empty()) msg += " (libsemanage: " + messages_ + ")";
  messages_.clear();
  throw StoreError(msg);
}

bool SemanageStore::mls() const { return semanage_mls_enabled(sh_) == 1; }

std::optional<std::string> SemanageStore::module_data(const std::string& name) const {
  ModuleKey key(sh_, name);
  semanage_module_info_t* info = nullptr;
  const int found = semanage_module_get_module_info(sh_, key.key, &info);
  // libsemanage 3.4 leaves an allocated info behind even when the module is not found.
  if (info) {
    semanage_module_info_destroy(sh_, info);
    std::free(info);
    info = nullptr;
  }
  if (found < 0) {
    messages_.clear();  // "not found" is an answer, not an error
    return std::nullopt;
  }
  void* data = nullptr;
  std::size_t size = 0;
  if (semanage_module_extract(sh_, key.key, 0, &data, &size, &info) < 0)
    fail("cannot read module " + name + " from the store");
  std::string out(static_cast<const char*>(data), size);
  ::munmap(data, size);
  semanage_module_info_destroy(sh_, info);
  std::free(info);
  return out;
}

std::optional<std::string> SemanageStore::local_fcontext(const FcontextRule& rule) const {
  FcontextKey key(sh_, rule);
  int exists = 0;
  if (semanage_fcontext_exists_local(sh_, key.key, &exists) < 0)
    fail("cannot read the local fcontext rules");
  if (!exists) return std::nullopt;
  semanage_fcontext_t* fc = nullptr;
  if (semanage_fcontext_query_local(sh_, key.key, &fc) < 0)
    fail("cannot read the fcontext rule " + rule.expr);
  std::string out = "<<none>>";
  if (semanage_context_t* con = semanage_fcontext_get_con(fc)) {
    char* s = nullptr;
    if (semanage_context_to_string(sh_, con, &s) == 0) {
      out = s;
      std::free(s);
    }
  }
  semanage_fcontext_free(fc);
  return out;
}

void SemanageStore::begin() {
  if (semanage_begin_transaction(sh_) < 0)
    fail("cannot start a transaction on the policy store at " + path_.string());
}

void SemanageStore::install_module(const PolicyModule& m) {
  // install_info would let us set the priority; install() uses the handle's default, so set it.
  if (semanage_set_default_priority(sh_, kModulePriority) < 0) fail("cannot set the priority");
  std::string data = m.pp;  // libsemanage takes a mutable buffer
  if (semanage_module_install(sh_, data.data(), data.size(), m.name.c_str(), "pp") < 0)
    fail("cannot install module " + m.name + " " + m.version);
}

void SemanageStore::remove_module(const std::string& name) {
  ModuleKey key(sh_, name);
  if (semanage_module_remove_key(sh_, key.key) < 0) fail("cannot remove module " + name);
}

void SemanageStore::set_local_fcontext(const FcontextRule& rule) {
  FcontextKey key(sh_, rule);
  semanage_fcontext_t* fc = nullptr;
  semanage_context_t* con = nullptr;
  const std::string ctx = file_context(rule.type, mls());
  const bool ok = semanage_fcontext_create(sh_, &fc) >= 0 &&
                  semanage_fcontext_set_expr(sh_, fc, rule.expr.c_str()) >= 0 &&
                  (semanage_fcontext_set_type(fc, rule.file_type), true) &&
                  semanage_context_from_string(sh_, ctx.c_str(), &con) >= 0 &&
                  semanage_fcontext_set_con(sh_, fc, con) >= 0 &&
                  semanage_fcontext_modify_local(sh_, key.key, fc) >= 0;
  if (con) semanage_context_free(con);
  if (fc) semanage_fcontext_free(fc);
  if (!ok) fail("cannot set the fcontext rule " + rule.expr + " -> " + ctx);
}

void SemanageStore::delete_local_fcontext(const FcontextRule& rule) {
  FcontextKey key(sh_, rule);
  if (semanage_fcontext_del_local(sh_, key.key) < 0)
    fail("cannot delete the fcontext rule " + rule.expr);
}

void SemanageStore::commit() {
  if (semanage_commit(sh_) < 0) fail("the policy store rejected the change; it is unchanged");
}

}  // namespace cnm::selinux
