# frozen_string_literal: true

# Generated from ansible/options.yml by ansible/sync_options.py: edit that file, then run it.
# Options of the default recipe; each is the property of the same name (chef/README.md).

# present: install or update (the role: the package, the preflight, the SELinux module, the probe);
# absent: remove what cnmkit installed, restoring the originals (operator edits kept as .cnmkit-save),
# installing and checking nothing first.
default['cnmkit']['state'] = 'present'
# The cnmkit version to install (pinned): the package file's version, or the version asked of the
# repository.
default['cnmkit']['version'] = '0.1.0'
# Install the cnmkit package (false: cnmctl is already on the host, from an image or another tool).
default['cnmkit']['package'] = true
# controller: copy the .deb or .rpm from package_dir on the controller (Chef: install package_file from
# the node); repository: install from the repository named by apt_repository or rpm_repository.
default['cnmkit']['package_source'] = 'controller'
# The .deb or .rpm on the node (package_source controller).
default['cnmkit']['package_file'] = nil
# Which package to install; auto: .deb on the Debian family, .rpm elsewhere (from the host's os_family, or
# Chef's platform_family).
default['cnmkit']['package_format'] = 'auto'
# One-line apt source of the cnmkit repository (package_source repository, Debian family), e.g. "deb
# [signed-by=/usr/share/keyrings/cnmkit.gpg] https://repo.example/apt stable main"; written to
# /etc/apt/sources.list.d/cnmkit.list.
default['cnmkit']['apt_repository'] = nil
# Base URL of the cnmkit rpm repository (package_source repository, RPM family); written to
# /etc/yum.repos.d/cnmkit.repo (dnf, yum), or /etc/zypp/repos.d/cnmkit.repo on SUSE (zypper).
default['cnmkit']['rpm_repository'] = nil
# URL of the key that signs rpm_repository's packages: dnf, yum or zypper then check each package's
# signature (zypper: the key is imported into rpm's database). Empty: GPG checks are off for this
# repository (gpgcheck=0), so its transport alone vouches for the packages.
default['cnmkit']['rpm_repository_gpgkey'] = nil
# The cnmctl binary on the host (the cnmkit package puts it there).
default['cnmkit']['cnmctl'] = '/usr/bin/cnmctl'
# Host tree cnmctl acts on (--root); / on real hosts, a scratch folder in tests.
default['cnmkit']['root'] = '/'
# Whose probe: agent configures the Datadog Agent's own system-probe, cnmkit installs cnm-probe under
# cnmkit's own names, auto picks agent when the Agent is installed.
default['cnmkit']['probe'] = 'auto'
# YAML file overriding cnmkit's default paths, user and service names (--layout).
default['cnmkit']['layout'] = nil
# Run cnmctl preflight before installing; a host where the probe cannot run is left out (see unsupported).
# false lets every host into the rollout (the Ansible playbook's fleet report still judges every host, and
# marks such a host ungated: rolled out whatever its answer says).
default['cnmkit']['preflight'] = true
# Treat a host where any check warns as unsupported too (--strict).
default['cnmkit']['preflight_strict'] = false
# Judge the host tree below this folder instead of the live host (fixtures, images).
default['cnmkit']['preflight_root'] = nil
# What a host the preflight judges unsupported does: skip (left out of the rollout and listed in the fleet
# report, the others go on) or fail (the host fails with each failing check and its fix).
default['cnmkit']['unsupported'] = 'skip'
# Install cnmkit's SELinux policy module and label the probe (cnmctl selinux install); auto: where SELinux
# is enabled in the kernel or configured in /etc/selinux/config.
default['cnmkit']['selinux'] = 'auto'
# A modified policy (.te) on the host to compile and install instead of the packaged one.
default['cnmkit']['selinux_policy'] = nil
# A release archive (.tar.gz) or release folder on the host that cnmctl installs; empty: the payload the
# cnmkit package installed (/usr/lib/cnmkit).
default['cnmkit']['archive'] = nil
# Expected sha256 (hex) of the release archive; cnmctl refuses another.
default['cnmkit']['archive_sha256'] = nil
# A BTF archive on the host: the preflight judges with it and cnmctl installs it beside cnm-probe's
# objects (left out beside the Agent, whose system-probe has its own BTF).
default['cnmkit']['btf_archive'] = nil
# The agent's version where the host cannot tell (an agent before 7.24.1 gets system_probe_config.enabled
# as well as network_config.enabled).
default['cnmkit']['agent_version'] = nil
# The service manager cnmctl uses for the probe; none installs files only.
default['cnmkit']['service_manager'] = 'auto'
# USER:GROUP of a newly created system-probe.yaml (cnmctl's default: root and the layout's group, dd-agent
# beside the Agent).
default['cnmkit']['owner'] = nil
# More system-probe.yaml keys, dotted (system_probe_config.max_tracked_connections: 100000), edited in
# place with the operator's comments kept. Strings are written quoted, so the Agent reads them as text
# (log_level: "off", not the YAML 1.1 boolean).
default['cnmkit']['settings'] = {}
# Seconds cnmctl waits for the probe to answer after starting it (/health standalone, /debug/stats beside
# an Agent).
default['cnmkit']['health_timeout'] = 30
