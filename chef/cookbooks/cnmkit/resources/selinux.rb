# frozen_string_literal: true

# cnmkit_selinux: cnmkit's SELinux policy module and the probe's label, through cnmctl selinux.
# Logic in libraries/cnmkit_cnmctl.rb (Cnmkit::SelinuxAction): cnmctl's status says whether
# SELinux is on (or configured) here, its dry run whether anything changes; converge_by runs the
# change only then (why-run mode prints the steps and runs nothing).
unified_mode true
provides :cnmkit_selinux
description "cnmkit's SELinux policy module and the probe binary's label"

use '_partial/_cnmctl' # the properties of every cnmctl resource
# BEGIN GENERATED properties (ansible/sync_options.py; edit ansible/options.yml)
property :selinux, String,
         equal_to: %w(auto always never),
         default: 'auto',
         description: 'Install cnmkit\'s SELinux policy module and label the probe (cnmctl selinux ' \
                      'install); auto: where SELinux is enabled in the kernel or configured in ' \
                      '/etc/selinux/config.'
property :selinux_policy, String,
         description: 'A modified policy (.te) on the host to compile and install instead of the ' \
                      'packaged one.'
# END GENERATED properties

action_class do
  include Cnmkit::ResourceHelpers

  def selinux_action
    Cnmkit::SelinuxAction.new(cnmkit_options(:cnmkit_selinux), logger: Chef::Log)
  end
end

action :install do
  description 'Install the policy module and file contexts, relabel the probe (where SELinux is on)'
  converge_cnmctl(selinux_action, :install)
end

action :remove do
  description 'Remove the policy module and file contexts, relabel the probe'
  converge_cnmctl(selinux_action, :remove)
end
