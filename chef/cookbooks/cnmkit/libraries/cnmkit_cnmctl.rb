# frozen_string_literal: true

require 'json'
require 'open3'

# What the cnmkit_probe resource does, in plain Ruby (no Chef API), so rspec drives it against
# the real cnmctl: cnmctl does the work (atomic, idempotent, rolled back on failure); this maps
# its --json answers onto a converge: preflight first, a dry run decides whether anything
# changes, and only then the real run, described by the dry run's actions and diffs.
module Cnmkit
  # A cnmctl run that failed, or a host the preflight says cannot run the probe.
  class Error < StandardError; end

  DEFAULTS = {
    cnmctl: '/usr/bin/cnmctl', root: '/', layout: nil, preflight: true, preflight_strict: false,
    preflight_root: nil, archive: nil, sha256: nil, agent_version: nil, service_manager: 'auto',
    owner: nil, settings: {}, health_timeout: 30
  }.freeze

  # The resource's properties.
  Options = Struct.new(*DEFAULTS.keys, keyword_init: true) do
    def initialize(**given)
      super(**DEFAULTS.merge(given.compact))
    end
  end

  # cnmctl command lines and their JSON answers.
  module Cnmctl
    module_function

    # --set takes KEY=VALUE with a YAML scalar.
    # (Ruby already spells true and false the YAML way; nil is YAML's null.)
    def yaml_scalar(value)
      value.nil? ? 'null' : value.to_s
    end

    def base(opts)
      [opts.cnmctl] + (opts.layout ? ['--layout', opts.layout] : [])
    end

    def preflight_argv(opts)
      base(opts) + %w(preflight --json) + (opts.preflight_strict ? ['--strict'] : []) +
        (opts.preflight_root ? ['--root', opts.preflight_root] : [])
    end

    def install_argv(opts, dry_run:)
      argv = base(opts) + ['install', '--root', opts.root, '--json', '--service-manager',
                           opts.service_manager, '--health-timeout', opts.health_timeout.to_s]
      { '--archive' => opts.archive, '--sha256' => opts.sha256,
        '--agent-version' => opts.agent_version, '--owner' => opts.owner }.each do |flag, v|
        argv += [flag, v] if v
      end
      opts.settings.sort_by { |k, _| k.to_s }.each { |k, v| argv += ['--set', "#{k}=#{yaml_scalar(v)}"] }
      dry_run ? argv + ['--dry-run'] : argv
    end

    def status_argv(opts)
      base(opts) + ['status', '--root', opts.root, '--json', '--service-manager', opts.service_manager]
    end

    def uninstall_argv(opts)
      base(opts) + ['uninstall', '--root', opts.root, '--json', '--service-manager', opts.service_manager]
    end

    # Runs argv (no shell); returns [parsed JSON, exit code]. Exit codes outside ok_codes, or no
    # JSON, raise with cnmctl's own error.
    def run_json(argv, ok_codes: [0])
      out, err, status = Open3.capture3(*argv)
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

  # The resource's two actions. `converge` is Chef's converge_by: called with the description
  # of a change and a block that makes it (Chef skips the block in why-run mode).
  class ProbeAction
    attr_reader :opts

    def initialize(opts, logger: nil)
      @opts = opts
      @logger = logger
    end

    def install(&converge)
      check_preflight if opts.preflight
      plan, = Cnmctl.run_json(Cnmctl.install_argv(opts, dry_run: true))
      return log('cnmkit: the probe is up to date') unless plan['changed']

      converge.call(describe(plan)) do
        done, = Cnmctl.run_json(Cnmctl.install_argv(opts, dry_run: false))
        raise Error, "cnmctl install rolled back: #{done['error']}" if done['rolled_back']
      end
    end

    def remove(&converge)
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
      report, code = Cnmctl.run_json(Cnmctl.preflight_argv(opts), ok_codes: [0, 1])
      return if code.zero?

      bad = report.fetch('checks', []).select do |c|
        c['status'] == 'fail' || (opts.preflight_strict && c['status'] == 'warn')
      end
      lines = bad.map { |c| "[#{c['status']}] #{c['id']}: #{c['message']} FIX: #{c['remedy']}" }
      raise Error, "cnmkit preflight: #{report['verdict']} on this host\n#{lines.join("\n")}"
    end

    def log(msg)
      @logger&.info(msg)
      nil
    end
  end
end
