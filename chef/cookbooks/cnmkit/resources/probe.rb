# frozen_string_literal: true

# cnmkit_probe: the probe installed (or removed) by cnmctl. All logic is in
# libraries/cnmkit_cnmctl.rb (tested with rspec against the real cnmctl); this file maps it onto
# Chef: converge_by runs a change only when cnmctl's dry run says there is one, and prints it
# (why-run mode shows the same lines and changes nothing).
unified_mode true
provides :cnmkit_probe
description 'The eBPF network probe, installed or removed by cnmctl (preflight first)'

use '_partial/_cnmctl' # the properties of every cnmctl resource
# BEGIN GENERATED properties (ansible/sync_options.py; edit ansible/options.yml)
property :preflight, [true, false],
         default: true,
         description: 'Run cnmctl preflight before installing; a host where the probe cannot run is ' \
                      'left out (see unsupported). false lets every host into the rollout (the ' \
                      'Ansible playbook\'s fleet report still judges every host, and marks such a host ' \
                      'ungated: rolled out whatever its answer says).'
property :preflight_strict, [true, false],
         default: false,
         description: 'Treat a host where any check warns as unsupported too (--strict).'
property :preflight_root, String,
         description: 'Judge the host tree below this folder instead of the live host (fixtures, ' \
                      'images).'
property :archive, String,
         description: 'A release archive (.tar.gz) or release folder on the host that cnmctl ' \
                      'installs; empty: the payload the cnmkit package installed (/usr/lib/cnmkit).'
property :archive_sha256, String,
         description: 'Expected sha256 (hex) of the release archive; cnmctl refuses another.'
property :btf_archive, String,
         description: 'A BTF archive on the host: the preflight judges with it and cnmctl installs it ' \
                      'beside cnm-probe\'s objects (left out beside the Agent, whose system-probe has ' \
                      'its own BTF).'
property :agent_version, String,
         description: 'The agent\'s version where the host cannot tell (an agent before 7.24.1 gets ' \
                      'system_probe_config.enabled as well as network_config.enabled).'
property :service_manager, String,
         equal_to: %w(auto systemd sysv none),
         default: 'auto',
         description: 'The service manager cnmctl uses for the probe; none installs files only.'
property :owner, String,
         description: 'USER:GROUP of a newly created system-probe.yaml (cnmctl\'s default: root and ' \
                      'the layout\'s group, dd-agent beside the Agent).'
property :settings, Hash,
         default: {},
         description: 'More system-probe.yaml keys, dotted ' \
                      '(system_probe_config.max_tracked_connections: 100000), edited in place with ' \
                      'the operator\'s comments kept. Strings are written quoted, so the Agent reads ' \
                      'them as text (log_level: "off", not the YAML 1.1 boolean).'
property :health_timeout, Integer,
         default: 30,
         description: 'Seconds cnmctl waits for the probe to answer after starting it (/health ' \
                      'standalone, /debug/stats beside an Agent).'
# END GENERATED properties

action_class do
  include Cnmkit::ResourceHelpers

  def cnmctl_action
    Cnmkit::ProbeAction.new(cnmkit_options(:cnmkit_probe), logger: Chef::Log, why_run: Chef::Config[:why_run])
  end
end

action :install do
  description 'Preflight, then install or update the probe when cnmctl\'s dry run says it changes'
  converge_cnmctl(cnmctl_action, :install)
end

action :remove do
  description 'Uninstall what cnmctl installed, restoring the originals'
  converge_cnmctl(cnmctl_action, :remove)
end
