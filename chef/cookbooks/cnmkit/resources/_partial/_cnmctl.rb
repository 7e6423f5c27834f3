# frozen_string_literal: true

# Generated from ansible/options.yml by ansible/sync_options.py: edit that file, then run it.
# The properties of every resource that runs cnmctl (cnmkit_probe, cnmkit_selinux): each declares
# `use '_partial/_cnmctl'` (a Chef 16+ resource partial) before its own properties.
property :cnmctl, String,
         default: '/usr/bin/cnmctl',
         description: 'The cnmctl binary on the host (the cnmkit package puts it there).'
property :root, String,
         default: '/',
         description: 'Host tree cnmctl acts on (--root); / on real hosts, a scratch folder in tests.'
property :probe, String,
         equal_to: %w(auto agent cnmkit),
         default: 'auto',
         description: 'Whose probe: agent configures the Datadog Agent\'s own system-probe, cnmkit ' \
                      'installs cnm-probe under cnmkit\'s own names, auto picks agent when the Agent ' \
                      'is installed.'
property :layout, String,
         description: 'YAML file overriding cnmkit\'s default paths, user and service names ' \
                      '(--layout).'
