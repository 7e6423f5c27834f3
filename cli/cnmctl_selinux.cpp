// cnmctl-selinux: `cnmctl selinux ...`, exec'd by cnmctl (see cnmctl.cpp).
#include "cli/cnmctl_app.h"
#include "selinux/selinux_cli.h"

int main(int argc, char** argv) { return cnm::run_cnmctl(argc, argv, {cnm::add_selinux_commands}); }
