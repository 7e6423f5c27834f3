# frozen_string_literal: true

# cnmkit_probe: the probe installed (or removed) by cnmctl. All logic is in
# libraries/cnmkit_cnmctl.rb (tested with rspec against the real cnmctl); this file maps it onto
# Chef: converge_by runs a change only when cnmctl's dry run says there is one, and prints it
# (why-run mode shows the same lines and changes nothing).
unified_mode true
provides :cnmkit_probe

property :cnmctl, String, default: '/usr/bin/cnmctl'
property :root, String, default: '/'
property :layout, String
property :preflight, [true, false], default: true
property :preflight_strict, [true, false], default: false
property :preflight_root, String
property :archive, String
property :sha256, String
property :agent_version, String
property :service_manager, String, equal_to: %w(auto systemd sysv none), default: 'auto'
property :owner, String
property :settings, Hash, default: {}
property :health_timeout, Integer, default: 30

action_class do
  # Every property has the name of an Options member.
  def cnmctl_action
    props = Cnmkit::DEFAULTS.keys.to_h { |k| [k, new_resource.send(k)] }
    Cnmkit::ProbeAction.new(Cnmkit::Options.new(**props), logger: Chef::Log)
  end
end

action :install do
  cnmctl_action.install { |description, &change| converge_by(description, &change) }
end

action :remove do
  cnmctl_action.remove { |description, &change| converge_by(description, &change) }
end
