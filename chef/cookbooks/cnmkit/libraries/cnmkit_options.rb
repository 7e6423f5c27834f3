# frozen_string_literal: true

# Generated from ansible/options.yml by ansible/sync_options.py: edit that file, then run it.
# Each resource's properties and their defaults, for the plain-Ruby logic in
# cnmkit_cnmctl.rb (the resources declare the same properties).
module Cnmkit
  OPTION_DEFAULTS = {
    cnmkit_package: {
      version: '0.1.0',
      package: true,
      package_source: 'controller',
      package_file: nil,
      package_format: 'auto',
      apt_repository: nil,
      rpm_repository: nil,
      rpm_repository_gpgkey: nil
    },
    cnmkit_probe: {
      cnmctl: '/usr/bin/cnmctl',
      root: '/',
      probe: 'auto',
      layout: nil,
      preflight: true,
      preflight_strict: false,
      preflight_root: nil,
      archive: nil,
      archive_sha256: nil,
      btf_archive: nil,
      agent_version: nil,
      service_manager: 'auto',
      owner: nil,
      settings: {},
      health_timeout: 30
    },
    cnmkit_selinux: {
      cnmctl: '/usr/bin/cnmctl',
      root: '/',
      probe: 'auto',
      layout: nil,
      selinux: 'auto',
      selinux_policy: nil
    }
  }.freeze
end
