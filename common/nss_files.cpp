#include "common/nss_files.h"

#include <nss.h>

#include <initializer_list>

namespace cnm {

void use_files_name_services() {
  // Every database glibc's nsswitch knows (nss/databases.def).
  for (const char* db :
       {"aliases", "ethers", "group", "gshadow", "initgroups", "netgroup", "networks", "passwd",
        "protocols", "publickey", "rpc", "services", "shadow"})
    __nss_configure_lookup(db, "files");
  __nss_configure_lookup("hosts", "files dns");
}

}  // namespace cnm
