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

CNMCTL = ENV.fetch('CNMCTL')
ARCHIVE = ENV.fetch('CNM_RELEASE_ARCHIVE')
SOURCE_DIR = ENV.fetch('CNM_SOURCE_DIR')

RSpec.describe Cnmkit::ProbeAction do
  around do |example|
    Dir.mktmpdir('cnmkit-chef-') do |dir|
      @root = File.join(dir, 'root')
      FileUtils.mkdir_p(File.join(@root, 'etc'))
      File.write(File.join(@root, 'etc/passwd'), "root:x:0:0:root:/root:/bin/sh\n")
      File.write(File.join(@root, 'etc/group'), "root:x:0:\ndd-agent:x:998:\n")
      example.run
    end
  end

  let(:config) { File.join(@root, 'etc/datadog-agent/system-probe.yaml') }
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
    expect(converged[0]).to include(a_string_matching(%r{^create /etc/datadog-agent/system-probe.yaml}))
    expect(File.read(config)).to include("\n  enabled: true\n")
    expect(File.stat(config).mode & 0o7777).to eq(0o640)
    expect(File.stat(config).gid).to eq(998)
    before = tree
    described_class.new(options).install(&converge)
    expect(converged.size).to eq(1)
    expect(tree).to eq(before)
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

  it 'writes settings as YAML scalars' do
    described_class.new(options(settings: { 'network_config.disable_ipv6' => true,
                                            'network_config.max_tracked_connections' => 100_000 }))
                   .install(&converge)
    text = File.read(config)
    expect(text).to include('disable_ipv6: true', 'max_tracked_connections: 100000')
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
end

RSpec.describe Cnmkit::Cnmctl do
  let(:opts) do
    Cnmkit::Options.new(cnmctl: '/usr/bin/cnmctl', layout: '/etc/cnmkit/layout.yaml',
                        settings: { 'b.key' => false, 'a.key' => 'x y' })
  end

  it 'builds install command lines with the layout first and settings in key order' do
    argv = described_class.install_argv(opts, dry_run: true)
    expect(argv.first(4)).to eq(%w(/usr/bin/cnmctl --layout /etc/cnmkit/layout.yaml install))
    expect(argv.each_cons(2).select { |a, _| a == '--set' }.map(&:last)).to eq(['a.key=x y', 'b.key=false'])
    expect(argv.last).to eq('--dry-run')
    expect(described_class.install_argv(opts, dry_run: false)).not_to include('--dry-run')
  end

  it 'raises with the command and exit code when cnmctl cannot run' do
    expect { described_class.run_json(['/bin/false']) }.to raise_error(Cnmkit::Error, /exit 1/)
  end
end
