# The options every module of the role takes (module_utils/cnmkit_cnmctl.py parses them), written
# once: each module's DOCUMENTATION says `extends_documentation_fragment: cnmkit_cnmctl`.
# ansible-doc and validate-modules find it through doc_fragment_plugins (ansible/ansible.cfg).
from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods
    DOCUMENTATION = r"""
options:
  # BEGIN GENERATED options (ansible/sync_options.py; edit ansible/options.yml)
  state:
    description: 'present: install or update (the role: the package, the preflight, the SELinux module,
      the probe); absent: remove what cnmkit installed, restoring the originals (operator edits kept as
      .cnmkit-save), installing and checking nothing first.'
    type: str
    choices:
      - present
      - absent
    default: present
  cnmctl:
    description: The cnmctl binary on the host (the cnmkit package puts it there).
    type: path
    default: /usr/bin/cnmctl
  root:
    description: Host tree cnmctl acts on (--root); / on real hosts, a scratch folder in tests.
    type: path
    default: /
  probe:
    description: 'Whose probe: agent configures the Datadog Agent''s own system-probe, cnmkit installs cnm-probe
      under cnmkit''s own names, auto picks agent when the Agent is installed.'
    type: str
    choices:
      - auto
      - agent
      - cnmkit
    default: auto
  layout:
    description: YAML file overriding cnmkit's default paths, user and service names (--layout).
    type: path
  # END GENERATED options
"""
