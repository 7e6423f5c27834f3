# frozen_string_literal: true

# One resource does it all; cnmctl restarts the agent and rolls back on failure, so there is no
# separate restart to notify.
cnmkit_probe 'system-probe' do
  cfg = node['cnmkit']
  cnmctl cfg['cnmctl']
  root cfg['root']
  layout cfg['layout'] if cfg['layout']
  preflight cfg['preflight']
  preflight_strict cfg['preflight_strict']
  preflight_root cfg['preflight_root'] if cfg['preflight_root']
  archive cfg['archive'] if cfg['archive']
  sha256 cfg['sha256'] if cfg['sha256']
  agent_version cfg['agent_version'] if cfg['agent_version']
  service_manager cfg['service_manager']
  owner cfg['owner'] if cfg['owner']
  settings cfg['settings'].to_h
  health_timeout cfg['health_timeout']
  action cfg['action'].to_sym
end
