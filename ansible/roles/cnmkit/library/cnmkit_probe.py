#!/usr/bin/python
# Ansible module: installs or uninstalls the eBPF probe by running cnmctl, which does the work
# (atomic, idempotent, rolled back on failure). This file only maps Ansible's conventions onto
# cnmctl's: check mode is `--dry-run`, `changed` and the per-file diffs come from its --json.
from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
module: cnmkit_probe
short_description: Install or remove the eBPF network probe with cnmctl
description:
  - C(state=present) runs C(cnmctl install --json) - system-probe.yaml edited in place (comments
    and other keys kept), release archive unpacked, probe service installed and started, agent
    restarted, probe health checked; cnmctl rolls back on failure.
  - C(state=absent) runs C(cnmctl uninstall --json); an operator's edit is kept as
    C(.cnmkit-save).
  - Check mode runs C(cnmctl install --dry-run --json) and reports whether a run would change
    anything; diff mode shows each changing file's unified diff.
author: cnmkit maintainers (@cnmkit)
requirements:
  - the cnmkit package (cnmctl) on the managed host
extends_documentation_fragment:
  - cnmkit_cnmctl
options:
  # BEGIN GENERATED options (ansible/sync_options.py; edit ansible/options.yml)
  archive:
    description: 'A release archive (.tar.gz) or release folder on the host that cnmctl installs; empty:
      the payload the cnmkit package installed (/usr/lib/cnmkit).'
    type: path
  archive_sha256:
    description: Expected sha256 (hex) of the release archive; cnmctl refuses another.
    type: str
  archive_pending:
    description: 'Check mode only: the archive is about to be replaced by another (a copy that check mode
      did not make), so a real run would change the host.'
    type: bool
    default: false
  btf_archive:
    description: 'A BTF archive on the host: the preflight judges with it and cnmctl installs it beside
      cnm-probe''s objects (left out beside the Agent, whose system-probe has its own BTF).'
    type: path
  btf_archive_pending:
    description: 'Check mode only: the BTF archive is about to be replaced by another (a copy that check
      mode did not make), so a real run would change the host.'
    type: bool
    default: false
  agent_version:
    description: The agent's version where the host cannot tell (an agent before 7.24.1 gets system_probe_config.enabled
      as well as network_config.enabled).
    type: str
  service_manager:
    description: The service manager cnmctl uses for the probe; none installs files only.
    type: str
    choices:
      - auto
      - systemd
      - sysv
      - none
    default: auto
  owner:
    description: 'USER:GROUP of a newly created system-probe.yaml (cnmctl''s default: root and the layout''s
      group, dd-agent beside the Agent).'
    type: str
  settings:
    description: 'More system-probe.yaml keys, dotted (system_probe_config.max_tracked_connections: 100000),
      edited in place with the operator''s comments kept. Strings are written quoted, so the Agent reads
      them as text (log_level: "off", not the YAML 1.1 boolean).'
    type: dict
    default: {}
  health_timeout:
    description: Seconds cnmctl waits for the probe to answer after starting it (/health standalone, /debug/stats
      beside an Agent).
    type: int
    default: 30
  # END GENERATED options
notes:
  - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Install the probe from the payload the cnmkit package installed
  cnmkit_probe:
    settings:
      system_probe_config.max_tracked_connections: 100000

- name: Install from a release archive copied to the host instead
  cnmkit_probe:
    archive: /var/cache/cnmkit/cnmkit-0.1.0-x86_64.tar.gz

- name: Remove it again, restoring what was there
  cnmkit_probe:
    state: absent
"""

RETURN = r"""
actions:
  description: cnmctl's actions, each with its type, path or command, whether it changed, why,
    and (check or diff mode) the file's unified diff.
  returned: always
  type: list
  elements: dict
  sample: [{"type": "file", "path": "/etc/cnmkit/system-probe.yaml", "changed": true,
            "reason": "network_config.enabled: false -> true"}]
notes:
  description: Decisions cnmctl reports (agent version, skipped steps).
  returned: success
  type: list
  elements: str
saved:
  description: Operator-edited files kept as C(.cnmkit-save) on uninstall.
  returned: C(state=absent)
  type: list
  elements: str
service_manager:
  description: The service manager cnmctl used.
  returned: C(state=present)
  type: str
  sample: systemd
resumed:
  description: Whether this run finished an interrupted one.
  returned: C(state=present) and not check mode
  type: bool
"""

import json  # noqa: E402 (ansible-test wants imports after the documentation)
import os  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.cnmkit_cnmctl import (  # noqa: E402
    CNMCTL_ARGUMENT_SPEC, cnmctl_argv, require_cnmctl, run_json)


def yaml_scalar(value):
    """--set takes KEY=VALUE with a YAML scalar: booleans as true/false, not True/False; a
    string as a double-quoted one (JSON's quoting is YAML's), so the Agent reads it as text even
    where its YAML 1.1 reader would not ("off", "yes", "0755"), and cnmctl refuses such words
    plain."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def diff_of(doc):
    # Text files come as unified diffs; binaries and mode changes as a line under their path.
    parts = [a["diff"] if a["diff"].startswith("---") else "%s:\n%s" % (a["path"], a["diff"])
             for a in doc.get("actions", []) if a.get("diff")]
    parts += ["run " + " ".join(a["command"]) + "\n"
              for a in doc.get("actions", []) if a.get("type") == "service"]
    return {"prepared": "".join(parts)} if parts else None


def present(module, p):
    argv = cnmctl_argv(p) + ["install", "--root", p["root"], "--json", "--probe", p["probe"],
                             "--service-manager", p["service_manager"],
                             "--health-timeout", str(p["health_timeout"])]
    if p["archive"]:
        argv += ["--archive", p["archive"]]
    if p["btf_archive"]:
        argv += ["--btf-archive", p["btf_archive"]]
    for flag, key in (("--sha256", "archive_sha256"), ("--agent-version", "agent_version"),
                      ("--owner", "owner")):
        if p[key]:
            argv += [flag, p[key]]
    for key, value in sorted(p["settings"].items()):
        argv += ["--set", "%s=%s" % (key, yaml_scalar(value))]

    if module.check_mode and p["archive"] and (p["archive_pending"]
                                               or not os.path.exists(p["archive"])):
        # The copy task before this one did not run for real (check mode): a real run would
        # install from the new archive, so it would change.
        module.exit_json(changed=True, msg="a new release archive is not on the host yet",
                         actions=[], notes=[])
    if module.check_mode and p["btf_archive"] and (p["btf_archive_pending"]
                                                   or not os.path.exists(p["btf_archive"])):
        module.exit_json(changed=True, msg="a new BTF archive is not on the host yet",
                         actions=[], notes=[])
    if module.check_mode:
        plan = run_json(module, argv + ["--dry-run"])
        module.exit_json(changed=bool(plan["changed"]), diff=diff_of(plan),
                         actions=plan.get("actions", []), notes=plan.get("notes", []),
                         service_manager=plan.get("service_manager"))
    # Diff mode: the run itself reports each changing file's diff (one cnmctl run, no dry run).
    doc = run_json(module, argv + (["--diff"] if module._diff else []))
    result = dict(changed=bool(doc["changed"]), actions=doc.get("actions", []),
                  notes=doc.get("notes", []), service_manager=doc.get("service_manager"),
                  resumed=doc.get("resumed", False))
    if module._diff and doc["changed"]:
        result["diff"] = diff_of(doc)
    module.exit_json(**result)


def absent(module, p):
    argv = cnmctl_argv(p)
    status = run_json(module, argv + ["status", "--root", p["root"], "--json",
                                      "--probe", p["probe"],
                                      "--service-manager", p["service_manager"]])
    if module.check_mode:
        # uninstall has no dry run: it changes exactly when cnmkit installed something.
        module.exit_json(changed=bool(status.get("installed")),
                         diff={"prepared": "".join("remove or restore %s\n" % f["path"]
                                                   for f in status.get("files", []))}
                         if status.get("installed") else None)
    doc = run_json(module, argv + ["uninstall", "--root", p["root"], "--json",
                                   "--service-manager", p["service_manager"]])
    module.exit_json(changed=bool(doc["changed"]), actions=doc.get("actions", []),
                     saved=doc.get("saved", []))


# This module's own options; the common ones are in module_utils/cnmkit_cnmctl.py.
# BEGIN GENERATED argument_spec (ansible/sync_options.py; edit ansible/options.yml)
ARGUMENT_SPEC = dict(
    archive=dict(type="path"),
    archive_sha256=dict(type="str"),
    archive_pending=dict(type="bool", default=False),
    btf_archive=dict(type="path"),
    btf_archive_pending=dict(type="bool", default=False),
    agent_version=dict(type="str"),
    service_manager=dict(type="str", choices=["auto", "systemd", "sysv", "none"], default="auto"),
    owner=dict(type="str"),
    settings=dict(type="dict", default={}),
    health_timeout=dict(type="int", default=30),
)
# END GENERATED argument_spec


def main():
    module = AnsibleModule(argument_spec=dict(CNMCTL_ARGUMENT_SPEC, **ARGUMENT_SPEC),
                           supports_check_mode=True)
    require_cnmctl(module)
    p = module.params
    if p["state"] == "present":
        present(module, p)
    else:
        absent(module, p)


if __name__ == "__main__":
    main()
