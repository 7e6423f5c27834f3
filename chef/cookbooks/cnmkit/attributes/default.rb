# frozen_string_literal: true

# Options of the cnmkit_probe resource the default recipe declares (see chef/README.md).
default['cnmkit']['action'] = 'install' # or 'remove'
default['cnmkit']['cnmctl'] = '/usr/bin/cnmctl'
default['cnmkit']['root'] = '/'
default['cnmkit']['layout'] = nil
default['cnmkit']['preflight'] = true
default['cnmkit']['preflight_strict'] = false
default['cnmkit']['preflight_root'] = nil # judge a host tree instead of the live host
default['cnmkit']['archive'] = nil # release archive on the node
default['cnmkit']['sha256'] = nil
default['cnmkit']['agent_version'] = nil
default['cnmkit']['service_manager'] = 'auto'
default['cnmkit']['owner'] = nil
default['cnmkit']['settings'] = {} # dotted system-probe.yaml keys
default['cnmkit']['health_timeout'] = 30
