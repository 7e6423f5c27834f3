# What every module of the role (library/cnmkit_*.py) does the same way: it takes cnmctl's
# common options (CNMCTL_ARGUMENT_SPEC, beside its own), checks cnmctl is there, runs it (cnmctl
# does the work: atomic, idempotent, rolled back on failure) and reads its --json answer.
# Imported as ansible.module_utils.cnmkit_cnmctl: while the role runs, its module_utils/ folder
# is on Ansible's module_utils path, and Ansible ships this file inside each module that uses it.
from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import json
import os

# What a failed run's answer says beyond its error: what it did and undid, and a mode switch
# that had already taken the other mode away (installed again or not). `changed` too: a failed
# switch changed the host.
FAILURE_DETAILS = ("actions", "rolled_back", "rollback_errors", "switched_from", "changed")

# The options every module takes (documented once in doc_fragments/cnmkit_cnmctl.py).
# BEGIN GENERATED argument_spec (ansible/sync_options.py; edit ansible/options.yml)
CNMCTL_ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["present", "absent"], default="present"),
    cnmctl=dict(type="path", default="/usr/bin/cnmctl"),
    root=dict(type="path", default="/"),
    probe=dict(type="str", choices=["auto", "agent", "cnmkit"], default="auto"),
    layout=dict(type="path"),
)
# END GENERATED argument_spec


def require_cnmctl(module):
    """Fails the module, before anything runs, when its cnmctl is not there."""
    if not os.access(module.params["cnmctl"], os.X_OK):
        module.fail_json(msg="%s is not an executable: install the cnmkit package first"
                         % module.params["cnmctl"])


def cnmctl_argv(p):
    """cnmctl and its global options; the subcommand follows."""
    return [p["cnmctl"]] + (["--layout", p["layout"]] if p["layout"] else [])


def run_json(module, argv):
    """Runs argv (no shell) and returns cnmctl's --json answer. A run that fails (exit code or
    an `error` in the answer) fails the module with cnmctl's own error."""
    rc, out, err = module.run_command(argv)
    try:
        # A failed run may print nothing on stdout (a usage error): then stderr says why.
        doc = json.loads(out) if out.strip() or rc == 0 else {}
    except ValueError:
        module.fail_json(msg="cnmctl did not answer JSON", rc=rc, stdout=out, stderr=err, cmd=argv)
    if rc != 0 or doc.get("error"):
        module.fail_json(msg=doc.get("error") or err.strip() or "cnmctl failed", rc=rc,
                         stdout=out, stderr=err, cmd=argv,
                         **{k: v for k, v in doc.items() if k in FAILURE_DETAILS})
    return doc
