# frozen_string_literal: true

# The cnmkit package, then (where the preflight says the probe can run) cnmkit's SELinux module
# where SELinux is on, then the probe; node['cnmkit'] holds the options (attributes/default.rb).
# state 'absent' removes them in the reverse order. cnmctl restarts the agent and rolls back on
# failure, so there is no separate restart to notify.
cfg = node['cnmkit']
options_for = lambda do |resource|
  Cnmkit::OPTION_DEFAULTS.fetch(resource).keys.to_h { |k| [k, cfg[k.to_s]] }.compact
end
# Asked once, when a guard first needs it (after the package is installed). In why-run mode a
# fresh node has no cnmctl yet (the package resource installed nothing): pending, nothing to ask.
preflight_options = Cnmkit::Options.new(**options_for.call(:cnmkit_probe), package: cfg['package'])
preflight = Cnmkit::Preflight.new(preflight_options, why_run: Chef::Config[:why_run])

if cfg['state'] == 'absent'
  cnmkit_probe 'system-probe' do
    options_for.call(:cnmkit_probe).each { |k, v| send(k, v) }
    action :remove
  end
  cnmkit_selinux 'cnmkit' do
    options_for.call(:cnmkit_selinux).each { |k, v| send(k, v) }
    action :remove
  end
  cnmkit_package 'cnmkit' do
    options_for.call(:cnmkit_package).each { |k, v| send(k, v) }
    action :remove
  end
  return
end

cnmkit_package 'cnmkit' do
  options_for.call(:cnmkit_package).each { |k, v| send(k, v) }
end

log 'cnmkit: the package comes first' do
  message "cnmkit #{cfg['version']} would be installed first; " \
          'its preflight, SELinux module and the probe follow it'
  only_if { preflight.pending? }
end

if cfg['unsupported'] == 'fail'
  ruby_block 'cnmkit: stop where the probe cannot run' do
    block { raise Cnmkit::Error, preflight.summary }
    not_if { !cfg['preflight'] || preflight.pending? || preflight.supported? }
  end
else
  log 'cnmkit: left out, the probe cannot run here' do
    message(lazy { preflight.summary })
    level :warn
    not_if { !cfg['preflight'] || preflight.pending? || preflight.supported? }
  end
end

cnmkit_selinux 'cnmkit' do
  options_for.call(:cnmkit_selinux).each { |k, v| send(k, v) }
  only_if { !preflight.pending? && (!cfg['preflight'] || preflight.supported?) }
end

cnmkit_probe 'system-probe' do
  options_for.call(:cnmkit_probe).each { |k, v| send(k, v) }
  only_if { !preflight.pending? && (!cfg['preflight'] || preflight.supported?) }
end
