# frozen_string_literal: true

# cnmkit_selinux: cnmkit's SELinux policy module and the probe's label, through cnmctl selinux.
# Logic in libraries/cnmkit_cnmctl.rb (Cnmkit::SelinuxAction): cnmctl's status says whether
# SELinux is on (or configured) here, its dry run whether anything changes; converge_by runs the
# change only then (why-run mode prints the steps and runs nothing).
unified_mode true
provides :cnmkit_selinux
description "cnmkit's SELinux policy module and the probe binary's label"

# BEGIN GENERATED properties (ansible/sync_options.py; edit ansible/options.yml)
property :cnmctl, String,
         default: '/usr/bin/cnmctl',
         description: 'The cnmctl binary on the host (the cnmkit package puts it there).'
property :root, String,
         default: '/',
         description: 'Host tree cnmctl acts on (--root); / on real hosts, a scratch folder in tests.'
property :layout, String,
         description: 'YAML file overriding cnmkit\'s default paths, user and service names ' \
                      '(--layout).'
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
  def selinux_action
    props = Cnmkit::OPTION_DEFAULTS[:cnmkit_selinux].keys.to_h { |k| [k, new_resource.send(k)] }
    Cnmkit::SelinuxAction.new(Cnmkit::Options.new(**props), logger: Chef::Log)
  end
end

action :install do
  description 'Install the policy module and file contexts, relabel the probe (where SELinux is on)'
  selinux_action.install { |description, &change| converge_by(description, &change) }
end

action :remove do
  description 'Remove the policy module and file contexts, relabel the probe'
  selinux_action.remove { |description, &change| converge_by(description, &change) }
end
