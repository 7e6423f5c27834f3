#!/usr/bin/python
# Ansible module: installs or removes cnmkit's SELinux policy module and labels the probe by
# running cnmctl, which does the work (libsemanage, one commit, idempotent). This file only maps
# Ansible's conventions onto cnmctl's: check mode is --dry-run, the diff is cnmctl's steps.
from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
module: cnmkit_selinux
short_description: Install or remove cnmkit's SELinux policy module and label the probe
description:
  - C(state=present) runs C(cnmctl selinux install --json) - the policy module that lets the
    probe use bpf() and perf events, its file context rules, and the probe binary relabelled;
    nothing is committed when the module and rules are already in place.
  - C(state=absent) runs C(cnmctl selinux remove --json).
  - Check mode runs the same with C(--dry-run); diff mode lists the steps a run takes.
author: cnmkit maintainers (@cnmkit)
requirements:
  - the cnmkit package (cnmctl) on the managed host, and an SELinux policy store
extends_documentation_fragment:
  - cnmkit_cnmctl
options:
  # BEGIN GENERATED options (ansible/sync_options.py; edit ansible/options.yml)
  selinux_policy:
    description: A modified policy (.te) on the host to compile and install instead of the packaged one.
    type: path
  # END GENERATED options
notes:
  - Supports check mode and diff mode.
  - A host whose kernel runs without SELinux but whose policy store exists gets the module for
    its next boot.
"""

EXAMPLES = r"""
- name: Let the probe run on an enforcing host
  cnmkit_selinux:

- name: Install a locally modified policy
  cnmkit_selinux:
    selinux_policy: /etc/cnmkit/system_probe_policy.te
"""

RETURN = r"""
module:
  description: The policy module's name.
  returned: success
  type: str
  sample: system_probe_policy
version:
  description: The policy module's version.
  returned: success
  type: str
  sample: "1.2"
steps:
  description: What the run did (or, in check mode, would do).
  returned: success
  type: list
  elements: str
notes:
  description: Remarks from cnmctl, such as a module installed for the next boot.
  returned: success
  type: list
  elements: str
committed:
  description: Whether the policy store was committed (a commit rebuilds the policy, 6 to 15 s).
  returned: success
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.cnmkit_cnmctl import (  # noqa: E402
    CNMCTL_ARGUMENT_SPEC, cnmctl_argv, require_cnmctl, run_json)


def run_selinux(module, p):
    argv = cnmctl_argv(p) + ["selinux", "install" if p["state"] == "present" else "remove",
                             "--json", "--probe", p["probe"]]
    if p["root"] != "/":
        argv += ["--root", p["root"]]
    if p["state"] == "present" and p["selinux_policy"]:
        argv += ["--policy", p["selinux_policy"]]
    if module.check_mode:
        argv.append("--dry-run")
    doc = run_json(module, argv)
    result = dict(changed=bool(doc.get("changed")), module=doc.get("module"),
                  version=doc.get("version"), steps=doc.get("steps", []),
                  notes=doc.get("notes", []), committed=bool(doc.get("committed")))
    if module._diff and result["changed"]:
        result["diff"] = {"prepared": "".join("%s\n" % s for s in result["steps"])}
    module.exit_json(**result)


# This module's own options; the common ones are in module_utils/cnmkit_cnmctl.py.
# BEGIN GENERATED argument_spec (ansible/sync_options.py; edit ansible/options.yml)
ARGUMENT_SPEC = dict(
    selinux_policy=dict(type="path"),
)
# END GENERATED argument_spec


def main():
    module = AnsibleModule(argument_spec=dict(CNMCTL_ARGUMENT_SPEC, **ARGUMENT_SPEC),
                           supports_check_mode=True)
    require_cnmctl(module)
    run_selinux(module, module.params)


if __name__ == "__main__":
    main()
