# frozen_string_literal: true

# The cookbook's logic against the real cnmctl (CNMCTL, CNM_RELEASE_ARCHIVE from ctest) on a
# scratch host tree. Chef itself is not packaged in Debian 12, so no converge runs here: the
# `converge` lambda below stands in for Chef's converge_by with its documented contract (the
# block makes the change; why-run mode only records the description). The resource file that
# wires the two together is checked by rubocop, not run.
require 'fileutils'
require 'find'
require 'tmpdir'
require_relative '../../chef/cookbooks/cnmkit/libraries/cnmkit_cnmctl'
require_relative '../../chef/cookbooks/cnmkit/libraries/cnmkit_resource_helpers'

CNMCTL = ENV.fetch('CNMCTL')
ARCHIVE = ENV.fetch('CNM_RELEASE_ARCHIVE')
SOURCE_DIR = ENV.fetch('CNM_SOURCE_DIR')
BTF_DIR = ENV.fetch('CNM_BTF_DIR') # the build's minimized BTF files (probe/btf/make_btfs.sh)

# A scratch host tree with the accounts cnmctl gives the config to.
RSpec.shared_context 'scratch host tree' do
  around do |example|
    Dir.mktmpdir('cnmkit-chef-') do |dir|
      @root = File.join(dir, 'root')
      FileUtils.mkdir_p(File.join(@root, 'etc'))
      File.write(File.join(@root, 'etc/passwd'), "root:x:0:0:root:/root:/bin/sh\n")
      File.write(File.join(@root, 'etc/group'), "root:x:0:\ndd-agent:x:998:\n")
      example.run
    end
  end
end

RSpec.describe Cnmkit::ProbeAction do
  include_context 'scratch host tree'

  let(:config) { File.join(@root, 'etc/cnmkit/system-probe.yaml') }
  let(:converged) { [] }

  def options(**over)
    Cnmkit::Options.new(cnmctl: CNMCTL, root: @root, archive: ARCHIVE, service_manager: 'none',
                        owner: 'root:dd-agent', **over)
  end

  # Chef's converge_by: records the description; runs the change unless why-run.
  def converge(why_run: false)
    lambda do |description, &change|
      converged << Array(description)
      change.call unless why_run
    end
  end

  # Every file below the root with its content and mtime.
  def tree
    Find.find(@root).select { |p| File.file?(p) }.to_h { |p| [p, [File.read(p), File.mtime(p)]] }
  end

  it 'installs once, describing the change, and converges nothing on the next run' do
    described_class.new(options).install(&converge)
    expect(converged.size).to eq(1)
    expect(converged[0]).to include(a_string_matching(%r{^create /etc/cnmkit/system-probe.yaml}))
    expect(File.read(config)).to include("\n  enabled: true\n")
    expect(File.stat(config).mode & 0o7777).to eq(0o640)
    expect(File.stat(config).gid).to eq(998)
    before = tree
    described_class.new(options).install(&converge)
    expect(converged.size).to eq(1)
    expect(tree).to eq(before)
  end

  it 'asks its preflight with --no-cache in why-run mode, and only then' do
    allow(Cnmkit::Cnmctl).to receive(:run_json).and_call_original
    described_class.new(options, why_run: true).install(&converge(why_run: true))
    expect(Cnmkit::Cnmctl).to have_received(:run_json)
      .with(array_including('preflight', '--no-cache'), ok_codes: [0, 1]).once
    described_class.new(options).install(&converge)
    expect(Cnmkit::Cnmctl).to have_received(:run_json)
      .with(array_including('preflight'), ok_codes: [0, 1]).twice
    expect(Cnmkit::Cnmctl).to have_received(:run_json)
      .with(array_including('--no-cache'), ok_codes: [0, 1]).once
  end

  it 'changes nothing in why-run mode and shows the operator file diff' do
    mine = "# owned by the network team\nnetwork_config:\n  enabled: false # cnmkit flips this\n"
    FileUtils.mkdir_p(File.dirname(config))
    File.write(config, mine)
    before = tree
    described_class.new(options).install(&converge(why_run: true))
    expect(converged.size).to eq(1)
    expect(converged[0]).to include('-  enabled: false # cnmkit flips this',
                                    '+  enabled: true # cnmkit flips this')
    expect(converged[0]).to include(a_string_matching(/binary file, \d+ bytes/))
    expect(tree).to eq(before)
    described_class.new(options).install(&converge)
    expect(File.read(config)).to eq(mine.sub('enabled: false', 'enabled: true'))
  end

  it 'writes settings as YAML scalars, strings as text' do
    described_class.new(options(settings: { 'system_probe_config.disable_ipv6' => true,
                                            'system_probe_config.max_tracked_connections' => 100_000,
                                            'system_probe_config.log_level' => 'off' }))
                   .install(&converge)
    text = File.read(config)
    expect(text).to include('disable_ipv6: true', 'max_tracked_connections: 100000',
                            'log_level: "off"')
  end

  it 'stops on an unsupported host with each failing check and its fix, before any change' do
    before = tree
    centos = File.join(SOURCE_DIR, 'tests/checks/hosts/centos-7.5')
    expect { described_class.new(options(preflight_root: centos)).install(&converge) }
      .to raise_error(Cnmkit::Error, /unsupported.*\[fail\] kernel\.version: .* FIX: /m)
    expect(converged).to be_empty
    expect(tree).to eq(before)
  end

  it "fails with cnmctl's line and column on a malformed config and loses nothing" do
    FileUtils.mkdir_p(File.dirname(config))
    File.write(config, "network_config:\n  enabled: [true\n")
    before = tree
    expect { described_class.new(options).install(&converge) }
      .to raise_error(Cnmkit::Error, /system-probe\.yaml:\d+:\d+: .*malformed YAML/)
    expect(converged).to be_empty
    expect(tree).to eq(before)
  end

  # A fleet's BTF archive (btf_archive): installed beside cnm-probe's objects, shown in why-run,
  # then nothing to converge; the preflight is asked with it and with the same probe choice.
  it 'installs the BTF archive it is given, once' do
    btf = Dir[File.join(BTF_DIR, '*.btf')].first
    archive = File.join(File.dirname(@root), 'fleet-btf.tar.xz')
    system('tar', '-C', File.dirname(btf), '-cJf', archive, File.basename(btf), exception: true)
    opts = options(btf_archive: archive)
    expect(Cnmkit::Cnmctl.preflight_argv(opts)).to include('--btf-archive', archive, '--probe', 'auto')
    described_class.new(opts).install(&converge(why_run: true))
    installed = File.join(@root, 'opt/cnmkit/ebpf/btf/minimized-btfs.tar')
    created = /^create #{Regexp.escape(installed.delete_prefix(@root))}/
    expect(converged[0]).to include(a_string_matching(created))
    expect(File).not_to exist(installed)
    described_class.new(opts).install(&converge)
    expect(File.binread(installed)).to eq(File.binread(archive))
    converged.clear
    described_class.new(opts).install(&converge)
    expect(converged).to be_empty
  end

  it 'removes what it installed, then has nothing left to remove' do
    described_class.new(options).install(&converge)
    installed = tree
    described_class.new(options).remove(&converge(why_run: true))
    expect(converged.last.first).to start_with('remove what cnmkit installed')
    expect(tree).to eq(installed)
    described_class.new(options).remove(&converge)
    expect(File.exist?(config)).to be(false)
    count = converged.size
    described_class.new(options).remove(&converge)
    expect(converged.size).to eq(count)
  end

  it 'has nothing to remove once cnmctl is gone (a second removal after the package went)' do
    gone = File.join(@root, 'usr/bin/cnmctl')
    expect { described_class.new(options(cnmctl: gone)).remove(&converge) }.not_to raise_error
    expect(converged).to be_empty
  end
end

# The guard the recipe puts on the SELinux and probe resources.
# What the resources' action classes include, in a stand-in for Chef's action class: new_resource
# holds the properties (a Struct), converge_by records the description and makes the change.
RSpec.describe Cnmkit::ResourceHelpers do
  include_context 'scratch host tree'

  let(:action_class) do
    Class.new do
      include Cnmkit::ResourceHelpers
      attr_reader :new_resource, :converged

      def initialize(properties)
        @new_resource = Struct.new(*properties.keys).new(*properties.values)
        @converged = []
      end

      def converge_by(description, &change)
        @converged << description
        change.call
      end
    end
  end

  def probe_properties(**over)
    Cnmkit::OPTION_DEFAULTS[:cnmkit_probe].merge(cnmctl: CNMCTL, root: @root, archive: ARCHIVE,
                                                 service_manager: 'none', owner: 'root:dd-agent',
                                                 preflight: false, **over)
  end

  it "reads the resource's own properties into its options, the others' defaults for the rest" do
    chef = action_class.new(Cnmkit::OPTION_DEFAULTS[:cnmkit_selinux].merge(root: @root, selinux: 'never'))
    opts = chef.cnmkit_options(:cnmkit_selinux)
    expect([opts.root, opts.selinux, opts.probe]).to eq([@root, 'never', 'auto'])
    expect(opts.health_timeout).to eq(30) # a cnmkit_probe property: its default
  end

  it 'gives converge_by the change cnmctl plans, which it makes, then nothing to converge' do
    settings = { 'system_probe_config.max_tracked_connections' => 1000 }
    chef = action_class.new(probe_properties(settings:))
    chef.converge_cnmctl(Cnmkit::ProbeAction.new(chef.cnmkit_options(:cnmkit_probe)), :install)
    expect(chef.converged.size).to eq(1)
    expect(chef.converged[0]).to include(a_string_matching(%r{^create /etc/cnmkit/system-probe.yaml}))
    config = File.read(File.join(@root, 'etc/cnmkit/system-probe.yaml'))
    expect(config).to include('max_tracked_connections: 1000')
    chef.converge_cnmctl(Cnmkit::ProbeAction.new(chef.cnmkit_options(:cnmkit_probe)), :install)
    expect(chef.converged.size).to eq(1)
  end
end

RSpec.describe Cnmkit::Preflight do
  def preflight(fixture, **over)
    root = File.join(SOURCE_DIR, 'tests/checks/hosts', fixture)
    described_class.new(Cnmkit::Options.new(cnmctl: CNMCTL, preflight_root: root, **over))
  end

  it 'lets a supported host through' do
    expect(preflight('debian-9').supported?).to be(true)
  end

  it 'stops an unsupported host and says why, with each fix' do
    guard = preflight('centos-7.5')
    expect(guard.supported?).to be(false)
    expect(guard.summary).to match(/unsupported.*\[fail\] distro\.supported: .* FIX: upgrade/m)
    expect(guard.summary).not_to include('[warn]')
  end

  it 'is pending in why-run on a node without cnmctl yet, and an error outside why-run' do
    missing = '/nonexistent/usr/bin/cnmctl'
    why_run = described_class.new(Cnmkit::Options.new(cnmctl: missing), why_run: true)
    expect(why_run.pending?).to be(true)
    expect(preflight('debian-9').pending?).to be(false)
    expect(described_class.new(Cnmkit::Options.new(cnmctl: CNMCTL), why_run: true).pending?).to be(false)
    expect { described_class.new(Cnmkit::Options.new(cnmctl: missing)).supported? }
      .to raise_error(Cnmkit::Error, /is not an executable: the cnmkit package did not install it/)
  end

  it 'in why-run asks cnmctl with --no-cache, which it accepts, and answers the same' do
    opts = Cnmkit::Options.new(cnmctl: CNMCTL)
    expect(Cnmkit::Cnmctl.preflight_argv(opts, no_cache: true)).to include('--no-cache')
    expect(Cnmkit::Cnmctl.preflight_argv(opts)).not_to include('--no-cache')
    root = File.join(SOURCE_DIR, 'tests/checks/hosts', 'debian-9')
    # The wiring, not only the argv builder: the preflight's one cnmctl call carries --no-cache
    # in why-run and only there.
    expect(Cnmkit::Cnmctl).to receive(:run_json)
      .with(array_including('--no-cache'), ok_codes: [0, 1]).once.and_call_original
    why_run = described_class.new(Cnmkit::Options.new(cnmctl: CNMCTL, preflight_root: root), why_run: true)
    expect(why_run.supported?).to be(true)
    expect(Cnmkit::Cnmctl).to receive(:run_json)
      .with(satisfy { |argv| !argv.include?('--no-cache') }, ok_codes: [0, 1]).once.and_call_original
    expect(preflight('debian-9').supported?).to be(true)
  end

  it "shows a host's control characters and bidi overrides escaped, never raw" do
    Dir.mktmpdir do |root|
      FileUtils.cp_r(File.join(SOURCE_DIR, 'tests/checks/hosts/centos-7.5/.'), root)
      release = File.join(root, 'etc/os-release')
      hostile = "PRETTY_NAME=\"Cent\e[31mOS\u202e 7\""
      File.write(release, File.read(release).sub(/^PRETTY_NAME=.*$/, hostile))
      guard = described_class.new(Cnmkit::Options.new(cnmctl: CNMCTL, preflight_root: root))
      expect(guard.supported?).to be(false)
      expect(guard.summary).not_to match(/[\e\u202e]/)
      expect(guard.summary).to include('\\u001b').or include('\\x1b')
    end
  end

  it 'with preflight_strict, stops a host that only warns, naming the warnings' do
    guard = preflight('centos-7.6', preflight_strict: true)
    expect(guard.supported?).to be(false)
    expect(guard.summary).to include('[warn] distro.dns_resolution')
  end
end

# cnmkit_selinux against the real cnmctl and a copy of this machine's policy store (Debian's
# selinux-policy-default) under a scratch root; one real commit (6 to 15 s) and its rerun.
RSpec.describe Cnmkit::SelinuxAction do
  around do |example|
    Dir.mktmpdir('cnmkit-chef-selinux-') do |dir|
      @root = dir
      FileUtils.mkdir_p([File.join(dir, 'var/lib'), File.join(dir, 'etc')])
      FileUtils.cp_r('/etc/selinux', File.join(dir, 'etc/selinux'))
      FileUtils.cp_r('/var/lib/selinux', File.join(dir, 'var/lib/selinux'))
      example.run
    end
  end

  let(:converged) { [] }

  def action(**over)
    described_class.new(Cnmkit::Options.new(cnmctl: CNMCTL, root: @root, **over))
  end

  def converge(why_run: false)
    lambda do |description, &change|
      converged << Array(description)
      change.call unless why_run
    end
  end

  def store
    Find.find(File.join(@root, 'var/lib/selinux')).select { |p| File.file?(p) }.to_h { |p| [p, File.read(p)] }
  end

  def config(mode)
    File.write(File.join(@root, 'etc/selinux/config'), "SELINUX=#{mode}\nSELINUXTYPE=default\n")
  end

  it 'has nothing to remove on a host without SELinux (no /etc/selinux/config)' do
    Dir.mktmpdir('cnmkit-chef-no-selinux-') do |bare|
      opts = Cnmkit::Options.new(cnmctl: CNMCTL, root: bare)
      expect { described_class.new(opts).remove(&converge) }.not_to raise_error
    end
    expect(converged).to be_empty
  end

  it 'has nothing to remove once cnmctl is gone' do
    config('enforcing')
    expect { action(cnmctl: File.join(@root, 'usr/bin/cnmctl')).remove(&converge) }.not_to raise_error
    expect(converged).to be_empty
  end

  it 'does nothing where SELinux is neither on nor configured (auto), or never' do
    config('disabled')
    action.install(&converge)
    config('enforcing')
    action(selinux: 'never').install(&converge)
    expect(converged).to be_empty
  end

  it 'installs the module where SELinux is configured, shown first in why-run, then nothing' do
    config('enforcing')
    before = store
    action.install(&converge(why_run: true))
    expect(converged.size).to eq(1)
    expect(converged[0].first).to eq('cnmctl selinux install')
    expect(converged[0].size).to be > 1
    expect(store).to eq(before)
    action.install(&converge)
    status = JSON.parse(Open3.capture2(CNMCTL, 'selinux', 'status', '--json', '--root', @root).first)
    expect(status['module_installed']).to be(true)
    count = converged.size
    action.install(&converge)
    expect(converged.size).to eq(count)
  end
end

# Which package a node gets, checked against real packages built with dpkg-deb.
RSpec.describe Cnmkit::PackageChoice do
  around do |example|
    Dir.mktmpdir('cnmkit-chef-pkg-') do |dir|
      @dir = dir
      example.run
    end
  end

  def deb(version)
    tree = File.join(@dir, "tree-#{version}")
    FileUtils.mkdir_p(File.join(tree, 'DEBIAN'))
    File.write(File.join(tree, 'DEBIAN/control'),
               "Package: cnmkit\nVersion: #{version}\nArchitecture: all\n" \
               "Maintainer: t <t@example.invalid>\nDescription: test\n")
    path = File.join(@dir, "cnmkit_#{version}_all.deb")
    _, err, status = Open3.capture3('dpkg-deb', '--build', tree, path)
    raise err unless status.success?

    path
  end

  def choice(family, **over)
    described_class.new(Cnmkit::Options.new(**{ version: '0.1.0' }.merge(over)), family)
  end

  it 'picks the format from the platform family unless told' do
    expect(choice('debian').format).to eq('deb')
    expect(%w(rhel fedora amazon suse).map { |f| choice(f).format }.uniq).to eq(['rpm'])
    expect(choice('debian', package_format: 'rpm').format).to eq('rpm')
  end

  it 'takes a package file only at the pinned version' do
    expect(choice('debian', package_file: deb('0.1.0')).file).to end_with('cnmkit_0.1.0_all.deb')
    expect { choice('debian', package_file: deb('0.2.0')).file }
      .to raise_error(Cnmkit::Error, /is cnmkit 0\.2\.0, not the pinned 0\.1\.0/)
    expect { choice('debian', package_file: File.join(@dir, 'none.deb')).file }
      .to raise_error(Cnmkit::Error, /does not exist/)
    expect { choice('debian').file }.to raise_error(Cnmkit::Error, /package_file is not set/)
  end

  it "writes zypper's repository on SUSE, yum's on the other RPM families, apt's on Debian" do
    expect(%w(debian suse rhel fedora amazon).map { |f| choice(f).repository_kind })
      .to eq(%w(apt zypper yum yum yum))
    expect(choice('suse', package_format: 'deb').repository_kind).to eq('apt')
  end

  # A real dpkg database (its status file, as dpkg writes it) read by the real dpkg-query.
  def dpkg_db(status)
    admindir = File.join(@dir, "dpkg-#{status.tr(' ', '-')}")
    FileUtils.mkdir_p(File.join(admindir, 'info'))
    File.write(File.join(admindir, 'status'),
               "Package: cnmkit\nStatus: #{status}\nPriority: optional\nSection: admin\n" \
               "Maintainer: t <t@example.invalid>\nArchitecture: all\nVersion: 0.0.9\n" \
               "Description: test\n\n")
    Cnmkit.deb_installed(admindir:)
  end

  it 'reads the installed version and a hold from dpkg, and never changes a held package' do
    expect(dpkg_db('install ok installed').to_h).to eq(version: '0.0.9', held: false)
    expect(dpkg_db('hold ok installed').to_h).to eq(version: '0.0.9', held: true)
    expect(dpkg_db('deinstall ok config-files').to_h).to eq(version: nil, held: false)
    expect(Cnmkit.deb_installed(admindir: File.join(@dir, 'none')).to_h).to eq(version: nil, held: false)
    expect { choice('debian').refuse_hold(dpkg_db('hold ok installed')) }
      .to raise_error(Cnmkit::Error, /cnmkit 0\.0\.9 is held \(apt-mark hold\) and the pin is 0\.1\.0/)
    expect { choice('debian', version: '0.0.9').refuse_hold(dpkg_db('hold ok installed')) }.not_to raise_error
    expect { choice('debian').refuse_hold(dpkg_db('install ok installed')) }.not_to raise_error
  end

  # A real rpm database in a scratch folder, with a cnmkit package rpmbuild made.
  def rpm_db(version)
    top = File.join(@dir, "rpmbuild-#{version}")
    FileUtils.mkdir_p(File.join(top, 'SPECS'))
    File.write(File.join(top, 'SPECS/cnmkit.spec'),
               "Name: cnmkit\nVersion: #{version}\nRelease: 1\nSummary: test\nLicense: MIT\n" \
               "BuildArch: noarch\n%description\ntest\n%files\n")
    _, err, status = Open3.capture3('rpmbuild', '--define', "_topdir #{top}", '-bb',
                                    File.join(top, 'SPECS/cnmkit.spec'))
    raise err unless status.success?

    db = File.join(@dir, "rpmdb-#{version}")
    FileUtils.mkdir_p(db)
    rpm = Dir.glob(File.join(top, 'RPMS/noarch/*.rpm')).first
    _, err, status = Open3.capture3('rpm', '--dbpath', db, '-i', '--justdb', '--nodeps', rpm)
    raise err unless status.success?

    db
  end

  it 'reads the installed version from rpm and flushes yum metadata only for a new pin' do
    expect(Cnmkit.rpm_installed(dbpath: rpm_db('0.1.0'))).to eq('0.1.0')
    empty = File.join(@dir, 'rpmdb-empty')
    FileUtils.mkdir_p(empty)
    expect(Cnmkit.rpm_installed(dbpath: empty)).to be_nil
    repo = { package_source: 'repository', rpm_repository: 'file:///r' }
    expect(choice('rhel', **repo).flush_metadata?(Cnmkit.rpm_installed(dbpath: rpm_db('0.0.9')))).to be(true)
    expect(choice('rhel', **repo).flush_metadata?(Cnmkit.rpm_installed(dbpath: empty))).to be(true)
    expect(choice('rhel', **repo).flush_metadata?('0.1.0')).to be(false)
    expect(choice('suse', **repo).flush_metadata?(nil)).to be(false)
    expect(choice('rhel').flush_metadata?(nil)).to be(false)
    expect(Cnmkit.expire_metadata_argv)
      .to eq(['yum', '--disablerepo=*', '--enablerepo=cnmkit', 'clean', 'expire-cache'])
  end

  it 'asks a repository for the pinned version, and needs one' do
    apt = choice('debian', package_source: 'repository', apt_repository: 'deb file:/r ./')
    expect(apt.repository_version).to eq('0.1.0')
    expect { choice('rhel', package_source: 'repository').repository_version }
      .to raise_error(Cnmkit::Error, /no rpm_repository given/)
  end
end

RSpec.describe Cnmkit::Cnmctl do
  let(:opts) do
    Cnmkit::Options.new(cnmctl: '/usr/bin/cnmctl', layout: '/etc/cnmkit/layout.yaml',
                        settings: { 'b.key' => false, 'a.key' => 'x y' })
  end

  it 'builds install command lines with the layout first and settings in key order' do
    argv = described_class.install_argv(opts, dry_run: true)
    expect(argv.first(4)).to eq(%w(/usr/bin/cnmctl --layout /etc/cnmkit/layout.yaml install))
    expect(argv.each_cons(2).select { |a, _| a == '--set' }.map(&:last)).to eq(['a.key="x y"', 'b.key=false'])
    expect(argv.last).to eq('--dry-run')
    expect(described_class.install_argv(opts, dry_run: false)).not_to include('--dry-run')
  end

  it 'raises with the command and exit code when cnmctl cannot run' do
    expect { described_class.run_json(['/bin/false']) }.to raise_error(Cnmkit::Error, /exit 1/)
    expect { described_class.run_json(['/nonexistent/cnmctl', 'status']) }
      .to raise_error(Cnmkit::Error, %r{/nonexistent/cnmctl cannot run: No such file})
  end

  it 'tells whether cnmctl is there to run, by path or on PATH' do
    expect(described_class.runnable?(CNMCTL)).to be(true)
    expect(described_class.runnable?('/nonexistent/cnmctl')).to be(false)
    expect(described_class.runnable?('sh')).to be(true)
    expect(described_class.runnable?('/etc/passwd')).to be(false)
  end
end
