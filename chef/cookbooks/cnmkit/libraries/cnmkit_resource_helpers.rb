# frozen_string_literal: true

require_relative 'cnmkit_cnmctl'

module Cnmkit
  # What every cnmkit resource's actions do with Chef, written once: each resource's action class
  # includes it (`action_class do include Cnmkit::ResourceHelpers end`), which gives it
  # new_resource and converge_by. The logic itself is in cnmkit_cnmctl.rb, plain Ruby.
  module ResourceHelpers
    # The resource's properties, the keys of OPTION_DEFAULTS[resource], as Cnmkit::Options.
    def cnmkit_options(resource)
      Options.new(**OPTION_DEFAULTS.fetch(resource).keys.to_h { |k| [k, new_resource.send(k)] })
    end

    # Runs `verb` (:install or :remove) of a ProbeAction or SelinuxAction with Chef's converge_by
    # as its converge: the change is described, and made unless in why-run mode.
    def converge_cnmctl(cnmctl_action, verb)
      cnmctl_action.public_send(verb) { |description, &change| converge_by(description, &change) }
    end
  end
end
