// cnmkit's binaries are static (cmake/CnmDeps.cmake). A static glibc that meets a name service
// it does not have built in (`passwd: files systemd` in nsswitch.conf, sss, ldap) dlopens the
// host's libnss_*.so, built for another glibc: seen here, libsemanage's home-directory contexts
// (getpwent, at every policy commit) crashed in libnss_systemd. Every binary therefore pins
// each name-service database to glibc's built-in `files` source (and `dns` for hosts) before
// anything can look a name up; nsswitch.conf is then not read at all. cnmkit itself reads
// accounts from the (root's) files anyway (common/host_accounts.h).
#pragma once

namespace cnm {

// Call first thing in main(). Idempotent.
void use_files_name_services();

}  // namespace cnm
