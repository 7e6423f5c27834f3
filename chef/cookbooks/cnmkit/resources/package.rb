# frozen_string_literal: true

# cnmkit_package: the cnmkit package (cnmctl and the probe's payload) at a pinned version, from a
# file on the node or from the operator's repository, through Chef's own package resources.
# Which package and which source: Cnmkit::PackageChoice (libraries/cnmkit_cnmctl.rb, rspec).
unified_mode true
provides :cnmkit_package
description 'The cnmkit package, pinned, from a file on the node or a repository'

# BEGIN GENERATED properties (ansible/sync_options.py; edit ansible/options.yml)
property :version, String,
         default: '0.1.0',
         description: 'The cnmkit version to install (pinned): the package file\'s version, or the ' \
                      'version asked of the repository.'
property :package, [true, false],
         default: true,
         description: 'Install the cnmkit package (false: cnmctl is already on the host, from an ' \
                      'image or another tool).'
property :package_source, String,
         equal_to: %w(controller repository),
         default: 'controller',
         description: 'controller: copy the .deb or .rpm from package_dir on the controller (Chef: ' \
                      'install package_file from the node); repository: install from the repository ' \
                      'named by apt_repository or rpm_repository.'
property :package_file, String,
         description: 'The .deb or .rpm on the node (package_source controller).'
property :package_format, String,
         equal_to: %w(auto deb rpm),
         default: 'auto',
         description: 'Which package to install; auto: .deb on the Debian family, .rpm elsewhere ' \
                      '(from the host\'s os_family, or Chef\'s platform_family).'
property :apt_repository, String,
         description: 'One-line apt source of the cnmkit repository (package_source repository, ' \
                      'Debian family), e.g. "deb [signed-by=/usr/share/keyrings/cnmkit.gpg] ' \
                      'https://repo.example/apt stable main"; written to ' \
                      '/etc/apt/sources.list.d/cnmkit.list.'
property :rpm_repository, String,
         description: 'Base URL of the cnmkit rpm repository (package_source repository, RPM family); ' \
                      'written to /etc/yum.repos.d/cnmkit.repo (dnf, yum), or ' \
                      '/etc/zypp/repos.d/cnmkit.repo on SUSE (zypper).'
property :rpm_repository_gpgkey, String,
         description: 'URL of the key that signs rpm_repository\'s packages: dnf, yum or zypper then ' \
                      'check each package\'s signature (zypper: the key is imported into rpm\'s ' \
                      'database). Empty: GPG checks are off for this repository (gpgcheck=0), so its ' \
                      'transport alone vouches for the packages.'
# END GENERATED properties

action_class do
  include Cnmkit::ResourceHelpers

  def choice
    Cnmkit::PackageChoice.new(cnmkit_options(:cnmkit_package), node['platform_family'])
  end

  # The index is read again when the source changes, and when the pin is not the version dpkg
  # has: a new pin is unknown to an index read before it was published.
  def add_repository(pick, installed)
    return add_rpm_repository(pick.repository_kind) unless pick.repository_kind == 'apt'

    file '/etc/apt/sources.list.d/cnmkit.list' do
      content "#{new_resource.apt_repository}\n"
      mode '0644'
      notifies :update, 'apt_update[cnmkit]', :immediately
    end
    current = installed.version == pick.repository_version
    apt_update('cnmkit') { action(current ? :nothing : :update) }
  end

  # zypper's own repository file on SUSE, yum's elsewhere; the same properties. Without
  # rpm_repository_gpgkey GPG checks are off (gpgcheck=0); with it the key is imported.
  def add_rpm_repository(kind)
    url = new_resource.rpm_repository
    key = new_resource.rpm_repository_gpgkey
    declare_resource(kind == 'zypper' ? :zypper_repository : :yum_repository, 'cnmkit') do
      baseurl url
      gpgkey key unless key.nil?
      gpgcheck !key.nil?
    end
  end
end

action :install do
  description 'Install the pinned version (nothing happens when it is installed already)'
  return unless new_resource.package

  pick = choice
  installed = pick.format == 'deb' ? Cnmkit.deb_installed : Cnmkit::DebInstalled.new(nil, false)
  pick.refuse_hold(installed)
  if pick.repository?
    add_repository(pick, installed)
    # A lower pin is a rollback: Chef's apt_package allows it (--allow-downgrades, apt 1.1+).
    # Where the pin is new to the node, yum's or dnf's metadata of the repository is expired
    # first and their helper restarted (flush_cache), so the install reads it again.
    flush = pick.format == 'rpm' && pick.flush_metadata?(Cnmkit.rpm_installed)
    execute('cnmkit: expire the repository metadata') { command Cnmkit.expire_metadata_argv } if flush
    package('cnmkit') do
      version pick.repository_version
      flush_cache(before: true) if flush && respond_to?(:flush_cache)
    end
  elsif pick.format == 'deb'
    dpkg_package('cnmkit') { source pick.file }
  else
    rpm_package('cnmkit') { source pick.file }
  end
end

action :remove do
  description 'Remove the cnmkit package'
  package('cnmkit') { action :remove } if new_resource.package
end
