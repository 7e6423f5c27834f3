// cnmctl-installer: `cnmctl install|uninstall|status|config`, exec'd by cnmctl (see cnmctl.cpp).
#include "cli/cnmctl_app.h"
#include "installer/installer_cli.h"

int main(int argc, char** argv) {
  return cnm::run_cnmctl(argc, argv, {cnm::add_installer_commands});
}
