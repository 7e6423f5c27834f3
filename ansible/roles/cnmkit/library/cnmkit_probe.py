#!/usr/bin/python3
# Ansible module: installs or uninstalls the eBPF probe by running cnmctl, which does the work
# (atomic, idempotent, rolled back on failure). This file only maps Ansible's conventions onto
# cnmctl's: check mode is `--dry-run`, `changed` and the per-file diffs come from its --json.
from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: cnmkit_probe
short_description: Install or remove the eBPF network probe with cnmctl
description:
  - C(state=present) runs C(cnmctl install --json): system-probe.yaml edited in place (comments
    and other keys kept), release archive unpacked, probe service installed and started, agent
    restarted, probe health checked. C(state=absent) runs C(cnmctl uninstall --json).
  - Check mode runs C(cnmctl install --dry-run --json) and reports whether a run would change
    anything; diff mode shows each changing file's unified diff (C(--diff) on the real run).
options:
  state: {type: str, choices: [present, absent], default: present}
  cnmctl: {type: path, default: /usr/bin/cnmctl, description: the cnmctl binary}
  root: {type: path, default: /, description: host tree to act on (--root)}
  layout: {type: path, description: YAML file overriding the default paths (--layout)}
  archive: {type: path, description: release archive on the host (--archive)}
  archive_pending:
    type: bool
    default: false
    description: check mode only; the archive is about to be replaced by another (a copy that
      check mode did not make), so a real run would change the host
  sha256: {type: str, description: expected sha256 of the archive}
  agent_version: {type: str, description: agent version when it cannot be detected}
  service_manager: {type: str, choices: [auto, systemd, sysv, none], default: auto}
  owner: {type: str, description: USER:GROUP of a newly created config}
  settings: {type: dict, default: {}, description: extra dotted keys for system-probe.yaml}
  health_timeout: {type: float, default: 30}
"""

RETURN = r"""
actions: {description: cnmctl's actions, each with type, path or command, changed, reason}
notes: {description: decisions cnmctl reports (agent version, skipped steps)}
saved: {description: operator-edited files kept as .cnmkit-save on uninstall}
service_manager: {description: the service manager cnmctl used}
"""


def yaml_scalar(value):
    """--set takes KEY=VALUE with a YAML scalar; booleans must be true/false, not True/False."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def base_argv(p):
    argv = [p["cnmctl"]]
    if p["layout"]:
        argv += ["--layout", p["layout"]]
    return argv


def run_json(module, argv):
    rc, out, err = module.run_command(argv)
    try:
        doc = json.loads(out) if out.strip() else {}
    except ValueError:
        module.fail_json(msg="cnmctl did not answer JSON", rc=rc, stdout=out, stderr=err, cmd=argv)
    if rc != 0:
        module.fail_json(msg=doc.get("error") or err.strip() or "cnmctl failed", rc=rc,
                         stdout=out, stderr=err, cmd=argv, **{k: v for k, v in doc.items()
                                                              if k in ("actions", "rolled_back",
                                                                       "rollback_errors")})
    return doc


def diff_of(doc):
    # Text files come as unified diffs; binaries and mode changes as a line under their path.
    parts = [a["diff"] if a["diff"].startswith("---") else "%s:\n%s" % (a["path"], a["diff"])
             for a in doc.get("actions", []) if a.get("diff")]
    parts += ["run " + " ".join(a["command"]) + "\n"
              for a in doc.get("actions", []) if a.get("type") == "service"]
    return {"prepared": "".join(parts)} if parts else None


def present(module, p):
    argv = base_argv(p) + ["install", "--root", p["root"], "--json",
                           "--service-manager", p["service_manager"],
                           "--health-timeout", str(p["health_timeout"])]
    if p["archive"]:
        argv += ["--archive", p["archive"]]
    for flag, key in (("--sha256", "sha256"), ("--agent-version", "agent_version"),
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
    argv = base_argv(p)
    status = run_json(module, argv + ["status", "--root", p["root"], "--json",
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            cnmctl=dict(type="path", default="/usr/bin/cnmctl"),
            root=dict(type="path", default="/"),
            layout=dict(type="path"),
            archive=dict(type="path"),
            archive_pending=dict(type="bool", default=False),
            sha256=dict(type="str"),
            agent_version=dict(type="str"),
            service_manager=dict(type="str", choices=["auto", "systemd", "sysv", "none"],
                                 default="auto"),
            owner=dict(type="str"),
            settings=dict(type="dict", default={}),
            health_timeout=dict(type="float", default=30.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not os.access(p["cnmctl"], os.X_OK):
        module.fail_json(msg="%s is not an executable: install the cnmkit package first"
                         % p["cnmctl"])
    if p["state"] == "present":
        present(module, p)
    else:
        absent(module, p)


if __name__ == "__main__":
    main()
