# frozen_string_literal: true

require 'json'
require 'open3'
require_relative 'cnmkit_options'

# What the cnmkit_probe resource does, in plain Ruby (no Chef API), so rspec drives it against
# the real cnmctl: cnmctl does the work (atomic, idempotent, rolled back on failure); this maps
# its --json answers onto a converge: preflight first, a dry run decides whether anything
# changes, and only then the real run, described by the dry run's actions and diffs.
module Cnmkit
  # A cnmctl run that failed, or a host the preflight says cannot run the probe.
  class Error < StandardError; end

  # Every resource's properties (cnmkit_options.rb, generated from ansible/options.yml).
  DEFAULTS = OPTION_DEFAULTS.values.reduce(:merge).freeze

  # The resources' properties, with their defaults.
  Options = Struct.new(*DEFAULTS.keys, keyword_init: true) do
    def initialize(**given)
      super(**DEFAULTS.merge(given.compact))
    end
  end

  # cnmctl command lines and their JSON answers.
  module Cnmctl
    module_function

    # --set takes KEY=VALUE with a YAML scalar. Ruby already spells true and false the YAML way;
    # nil is YAML's null; a string goes double-quoted (JSON's quoting is YAML's), so the Agent
    # reads it as text even where its YAML 1.1 reader would not ('off', 'yes', '0755').
    def yaml_scalar(value)
      return 'null' if value.nil?
      return JSON.generate(value) if value.is_a?(String)

      value.to_s
    end

    def base(opts)
      [opts.cnmctl] + (opts.layout ? ['--layout', opts.layout] : [])
    end

    # no_cache: why-run, where the preflight reads its cache of the kernel's answers but writes
    # nothing (--no-cache).
    def preflight_argv(opts, no_cache: false)
      base(opts) + ['preflight', '--json', '--probe', opts.probe] + (no_cache ? ['--no-cache'] : []) +
        (opts.preflight_strict ? ['--strict'] : []) +
        (opts.preflight_root ? ['--root', opts.preflight_root] : []) +
        (opts.btf_archive ? ['--btf-archive', opts.btf_archive] : [])
    end

    def install_argv(opts, dry_run:)
      argv = base(opts) + ['install', '--root', opts.root, '--json', '--probe', opts.probe,
                           '--service-manager', opts.service_manager,
                           '--health-timeout', opts.health_timeout.to_s]
      { '--archive' => opts.archive, '--sha256' => opts.archive_sha256,
        '--btf-archive' => opts.btf_archive, '--agent-version' => opts.agent_version,
        '--owner' => opts.owner }.each do |flag, v|
        argv += [flag, v] if v && !v.to_s.empty?
      end
      opts.settings.sort_by { |k, _| k.to_s }.each { |k, v| argv += ['--set', "#{k}=#{yaml_scalar(v)}"] }
      dry_run ? argv + ['--dry-run'] : argv
    end

    def selinux_argv(opts, action, dry_run: false)
      argv = base(opts) + ['selinux', action, '--json', '--root', opts.root, '--probe', opts.probe]
      argv += ['--policy', opts.selinux_policy] if action == 'install' && opts.selinux_policy
      dry_run ? argv + ['--dry-run'] : argv
    end

    def status_argv(opts)
      base(opts) + ['status', '--root', opts.root, '--json', '--probe', opts.probe,
                    '--service-manager', opts.service_manager]
    end

    def uninstall_argv(opts)
      base(opts) + ['uninstall', '--root', opts.root, '--json', '--service-manager', opts.service_manager]
    end

    # Whether cnmctl is there to run: a path (or a bare name found on PATH) to an executable file.
    # Before the package installs it (why-run on a fresh node) or after it removed it (a second
    # removal), it is not.
    def runnable?(cnmctl)
      paths = cnmctl.include?('/') ? [cnmctl] : ENV.fetch('PATH', '').split(':').map { File.join(_1, cnmctl) }
      paths.any? { |p| File.file?(p) && File.executable?(p) }
    end

    # Runs argv (no shell); returns [parsed JSON, exit code]. Exit codes outside ok_codes, no
    # JSON, or a cnmctl that cannot run at all raise Cnmkit::Error with the reason.
    def run_json(argv, ok_codes: [0])
      out, err, status = begin
        Open3.capture3(*argv)
      rescue SystemCallError => e
        raise Error, "#{argv.first} cannot run: #{e.message}"
      end
      doc = begin
        out.strip.empty? ? {} : JSON.parse(out)
      rescue JSON::ParserError
        raise Error, "#{argv.first} did not answer JSON (exit #{status.exitstatus}): #{err.strip}"
      end
      unless ok_codes.include?(status.exitstatus)
        why = doc['error'] || err.strip
        raise Error, "#{argv[0..1].join(' ')} failed (exit #{status.exitstatus}): #{why}"
      end

      [doc, status.exitstatus]
    end
  end

  # What the resources' cnmctl actions (ProbeAction, SelinuxAction) share: their options, and the
  # log line that says why nothing converges. Their `converge` is Chef's converge_by: called with
  # the description of a change and a block that makes it (Chef skips the block in why-run mode).
  # why_run: Chef's why-run mode, in which what they ask cnmctl writes nothing either.
  class CnmctlAction
    attr_reader :opts

    def initialize(opts, logger: nil, why_run: false)
      @opts = opts
      @logger = logger
      @why_run = why_run
    end

    private

    def log(msg)
      @logger&.info(msg)
      nil
    end
  end

  # cnmkit_probe's two actions: preflight, then cnmctl install when its dry run says it changes.
  class ProbeAction < CnmctlAction
    def install(&converge)
      check_preflight if opts.preflight
      plan, = Cnmctl.run_json(Cnmctl.install_argv(opts, dry_run: true))
      return log('cnmkit: the probe is up to date') unless plan['changed']

      converge.call(describe(plan)) do
        done, = Cnmctl.run_json(Cnmctl.install_argv(opts, dry_run: false))
        raise Error, "cnmctl install rolled back: #{done['error']}" if done['rolled_back']
      end
    end

    # Without cnmctl (the package is gone, e.g. a second removal) nothing can be asked or
    # removed: as the role's stat of cnmctl, nothing to do.
    def remove(&converge)
      return log("cnmkit: #{opts.cnmctl} is not here, nothing to remove") unless Cnmctl.runnable?(opts.cnmctl)

      status, = Cnmctl.run_json(Cnmctl.status_argv(opts))
      return log('cnmkit: nothing installed by cnmkit') unless status['installed']

      lines = ['remove what cnmkit installed, restoring the originals'] +
              status.fetch('files', []).map { |f| "  remove or restore #{f['path']}" }
      converge.call(lines) { Cnmctl.run_json(Cnmctl.uninstall_argv(opts)) }
    end

    # One line per changing action, and each file's diff (binaries by size).
    def describe(plan)
      plan.fetch('actions', []).select { |a| a['changed'] }.flat_map do |a|
        head = a['type'] == 'service' ? "run #{a['command'].join(' ')}" : "#{a['action']} #{a['path']}"
        ["#{head}: #{a['reason']}"] + a.fetch('diff', '').lines.map(&:chomp)
      end
    end

    private

    def check_preflight
      preflight = Preflight.new(opts, why_run: @why_run)
      raise Error, preflight.summary unless preflight.supported?
    end
  end

  # The preflight's verdict on this node, asked once: the guard of the SELinux and probe
  # resources (`only_if { preflight.supported? }`), and what a left-out node says why.
  # why_run: Chef's why-run mode, where the package resource installed nothing, so a fresh node
  # has no cnmctl to ask yet (pending?); outside it a missing cnmctl is an error.
  class Preflight
    def initialize(opts, why_run: false)
      @opts = opts
      @why_run = why_run
    end

    # Why-run on a node without cnmctl: the package comes first, the preflight after it.
    def pending?
      @why_run && !Cnmctl.runnable?(@opts.cnmctl)
    end

    def supported?
      answer.last.zero?
    end

    def report
      answer.first
    end

    # The verdict, then each failing check (and warning, when strict) with its fix.
    def summary
      bad = report.fetch('checks', []).select do |c|
        c['status'] == 'fail' || (@opts.preflight_strict && c['status'] == 'warn')
      end
      lines = bad.map do |c|
        "[#{c['status']}] #{c['id']}: #{printable(c['message'])} FIX: #{printable(c['remedy'])}"
      end
      "cnmkit preflight: #{report['verdict']} on this host\n#{lines.join("\n")}"
    end

    private

    # Host text (os-release names, kernel releases) as Chef's log may show it: control characters,
    # C1 controls and bidirectional overrides escaped (\u001b), as cnmctl's own text output does.
    def printable(text)
      text.to_s.gsub(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/) do |c|
        format('\\u%04x', c.ord)
      end
    end

    # 0 supported, 1 unsupported (or a warning with --strict): both answer JSON.
    def answer
      @answer ||= begin
        unless Cnmctl.runnable?(@opts.cnmctl)
          raise Error, "#{@opts.cnmctl} is not an executable: the cnmkit package did not install it" \
                       "#{@opts.package == false ? ' (package is false: install cnmkit first)' : ''}"
        end

        Cnmctl.run_json(Cnmctl.preflight_argv(@opts, no_cache: @why_run), ok_codes: [0, 1])
      end
    end
  end

  # cnmctl selinux install/remove where SELinux is on: `selinux` auto (enabled in the kernel or
  # configured in /etc/selinux/config), always or never. A dry run decides whether anything
  # changes; `converge` (Chef's converge_by) gets its steps and runs the change.
  class SelinuxAction < CnmctlAction
    def on?
      return @opts.selinux == 'always' unless @opts.selinux == 'auto'

      status, = Cnmctl.run_json(Cnmctl.base(@opts) + ['selinux', 'status', '--json', '--root', @opts.root])
      status['mode'] != 'disabled' || %w(enforcing permissive).include?(status['config_mode'])
    end

    def install(&converge)
      return log('cnmkit: SELinux is off here, no policy module needed') unless on?

      change('install', converge)
    end

    def remove(&converge)
      return log('cnmkit: SELinux module left alone (selinux: never)') if @opts.selinux == 'never'
      # As ProbeAction#remove: without cnmctl there is nothing to ask or remove.
      return log("cnmkit: #{opts.cnmctl} is not here, nothing to remove") unless Cnmctl.runnable?(opts.cnmctl)

      change('remove', converge)
    end

    private

    def change(action, converge)
      plan, = Cnmctl.run_json(Cnmctl.selinux_argv(@opts, action, dry_run: true))
      return log("cnmkit: SELinux #{action}: nothing to change") unless plan['changed']

      converge.call(["cnmctl selinux #{action}"] + plan.fetch('steps', []).map { |s| "  #{s}" }) do
        Cnmctl.run_json(Cnmctl.selinux_argv(@opts, action))
      end
    end
  end

  # cnmkit as dpkg has it: its version when installed (the status's second letter "i": "ii", or
  # "hi" when held; dpkg keeps a removed package's version while its configuration stays, so
  # nil then) and whether apt holds it (the first letter "h": apt-mark hold).
  DebInstalled = Struct.new(:version, :held)

  def self.deb_installed(admindir: nil)
    argv = ['dpkg-query'] + (admindir ? ['--admindir', admindir] : [])
    out, _err, status = Open3.capture3(*argv, '-W', '-f=${db:Status-Abbrev} ${Version}', 'cnmkit')
    return DebInstalled.new(nil, false) unless status.success?

    abbrev, version = out.split
    DebInstalled.new(abbrev.to_s[1] == 'i' ? version : nil, abbrev.to_s[0] == 'h')
  end

  # cnmkit's version as rpm has it (%{VERSION}, what a pin names), nil when not installed;
  # with two installed at once (an interrupted upgrade) the highest line is not known to be the
  # pin's, so their versions joined with a space.
  def self.rpm_installed(dbpath: nil)
    rpm_tag = '%{VERSION}\n' # rubocop:disable Style/FormatStringToken -- rpm's query format, not Ruby's
    argv = ['rpm'] + (dbpath ? ['--dbpath', dbpath] : []) + ['-q', '--qf', rpm_tag, 'cnmkit']
    out, _err, status = Open3.capture3(*argv)
    status.success? ? out.split.join(' ') : nil
  end

  # Marks the cnmkit repository's cached metadata expired (yum 3 and dnf both take it; RHEL 8+'s
  # yum is dnf), so the next install reads it again: Chef's flush_cache only restarts its own
  # helper, whose cache is the one on disk.
  def self.expire_metadata_argv
    ['yum', '--disablerepo=*', '--enablerepo=cnmkit', 'clean', 'expire-cache']
  end

  # Which cnmkit package a node gets: .deb on the Debian family, .rpm elsewhere (or
  # package_format), from package_file (checked to be the pinned version) or a repository.
  class PackageChoice
    DEB_FAMILIES = %w(debian).freeze

    def initialize(opts, platform_family)
      @opts = opts
      @family = platform_family
    end

    def format
      return @opts.package_format unless @opts.package_format == 'auto'

      DEB_FAMILIES.include?(@family) ? 'deb' : 'rpm'
    end

    def repository?
      @opts.package_source == 'repository'
    end

    # Which repository file: apt's, zypper's on SUSE (it reads /etc/zypp/repos.d, not yum's
    # folder), or yum's (dnf, yum).
    def repository_kind
      return 'apt' if format == 'deb'

      @family == 'suse' ? 'zypper' : 'yum'
    end

    # The package file, after checking it is there and holds the pinned version.
    def file
      path = @opts.package_file
      raise Error, 'cnmkit_package: package_file is not set (package_source controller)' unless path
      raise Error, "cnmkit_package: #{path} does not exist" unless File.file?(path)

      found = file_version(path)
      return path if found == @opts.version

      raise Error, "cnmkit_package: #{path} is cnmkit #{found}, not the pinned #{@opts.version}"
    end

    # A hold is the operator's word that the version stays (unattended upgrades, apt upgrade):
    # the pin does not override it, through apt or dpkg (which installs a .deb over a hold).
    def refuse_hold(installed)
      return unless installed.held && installed.version != @opts.version

      raise Error, "cnmkit_package: cnmkit #{installed.version} is held (apt-mark hold) and the pin " \
                   "is #{@opts.version}: a held package is not changed; release it (apt-mark " \
                   "unhold cnmkit) or pin #{installed.version}"
    end

    # Whether yum's or dnf's cached metadata must be read again before the pinned version is
    # asked for: when rpm does not have it installed. Both keep metadata for hours
    # (metadata_expire: yum 6 h, dnf 48 h), so a pin published since is "not available" until
    # then; a node at the pin fetches nothing. zypper refreshes an autorefresh repository
    # itself; apt's index is read again by apt_update.
    def flush_metadata?(installed_version)
      repository? && repository_kind == 'yum' && installed_version != @opts.version
    end

    # What the repository is asked for: the pinned version.
    def repository_version
      source = format == 'deb' ? @opts.apt_repository : @opts.rpm_repository
      raise Error, "cnmkit_package: no #{format == 'deb' ? 'apt' : 'rpm'}_repository given" unless source

      @opts.version
    end

    private

    def file_version(path)
      rpm_tag = '%{VERSION}' # rubocop:disable Style/FormatStringToken -- rpm's query format, not Ruby's
      argv = format == 'deb' ? ['dpkg-deb', '-f', path, 'Version'] : ['rpm', '-qp', '--qf', rpm_tag, path]
      out, err, status = Open3.capture3(*argv)
      raise Error, "cnmkit_package: #{argv.first} cannot read #{path}: #{err.strip}" unless status.success?

      out.strip
    end
  end
end
