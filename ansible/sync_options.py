#!/usr/bin/python3
"""Writes every copy of the cnmkit options from their one source, ansible/options.yml.

    python3 ansible/sync_options.py            # rewrite the copies
    python3 ansible/sync_options.py --check    # exit 1 with a diff when a copy drifted

Whole files: the role's defaults/main.yml and meta/argument_specs.yml, the cookbook's
attributes/default.rb, libraries/cnmkit_options.rb and resources/_partial/_cnmctl.rb. Regions
between BEGIN/END GENERATED markers: the modules' DOCUMENTATION options and ARGUMENT_SPEC (each
module's own; the options every module takes once, in the role's doc_fragments/ and
module_utils/), the cookbook's resource properties, the option tables of ansible/README.md and
chef/README.md.
"""
import argparse
import difflib
import pathlib
import re
import sys
import textwrap

import yaml

HEADER = "Generated from ansible/options.yml by ansible/sync_options.py: edit that file, then run it."
RUBY_TYPES = {"str": "String", "path": "String", "bool": "[true, false]", "int": "Integer",
              "dict": "Hash"}
ROLE_ENTRY_POINTS = {
    "main": "Install cnmkit, preflight, SELinux module, then install or remove the probe",
    "fleet": "Install cnmkit and run its preflight on every host; write the fleet report",
}
ENTRY_POINT_FILES = {"main": "main", "fleet": "fleet_preflight"}


def load(root):
    doc = yaml.safe_load((root / "ansible/options.yml").read_text())
    version = re.search(r"project\(cnmkit VERSION ([0-9.]+)",
                        (root / "CMakeLists.txt").read_text()).group(1)
    options = {}
    for name, o in doc["options"].items():
        o = dict(o)
        if o.pop("project_version", False):
            o["default"] = version
        o["description"] = " ".join(o["description"].split())
        for key in ("role", "modules", "chef"):
            o.setdefault(key, [])
        options[name] = o
    return options


def unset(o):
    return o["default"] in ("", None)


# ---- Ansible ---------------------------------------------------------------------------------

class IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as yamllint (ansible-lint) wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def yaml_scalar(value):
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("\n...")


def role_defaults(options):
    out = ["---", "# " + HEADER, "# Every path is on the managed host unless it says controller.", ""]
    for name, o in options.items():
        if not o["role"]:
            continue
        out += ["# " + line for line in textwrap.wrap(o["description"], 96)]
        out.append("cnmkit_%s: %s" % (name, yaml_scalar(o["default"])))
    return "\n".join(out) + "\n"


def spec_entry(o, with_default=True):
    entry = {"description": o["description"], "type": o["type"]}
    if o.get("choices"):
        entry["choices"] = o["choices"]
    if with_default:
        entry["default"] = o["default"]
    return entry


def argument_specs(options):
    specs = {}
    for point, short in ROLE_ENTRY_POINTS.items():
        opts = {"cnmkit_" + n: spec_entry(o) for n, o in options.items() if point in o["role"]}
        specs[ENTRY_POINT_FILES[point]] = {"short_description": short, "options": opts}
    body = yaml.dump({"argument_specs": specs}, Dumper=IndentedDumper, sort_keys=False, width=100)
    return "---\n# " + HEADER + "\n" + body


def modules(options):
    return sorted({m for o in options.values() for m in o["modules"]})


def shared_by_modules(options):
    """The options every module takes: documented once (the role's doc fragment) and parsed once
    (CNMCTL_ARGUMENT_SPEC in the role's module_utils)."""
    return [n for n, o in options.items() if o["modules"] and set(modules(options)) <= set(o["modules"])]


def own_options(options, module):
    shared = shared_by_modules(options)
    return [n for n, o in options.items() if module in o["modules"] and n not in shared]


def module_doc_options(options, names):
    opts = {n: spec_entry(options[n], with_default=not unset(options[n])) for n in names}
    text = yaml.dump(opts, Dumper=IndentedDumper, sort_keys=False, width=100)
    return textwrap.indent(text, "  ")


def module_argument_spec(options, names, variable):
    lines = ["%s = dict(" % variable]
    for n in names:
        o = options[n]
        parts = ['type="%s"' % o["type"]]
        if o.get("choices"):
            parts.append("choices=%s" % repr(o["choices"]).replace("'", '"'))
        if not unset(o):
            parts.append("default=%s" % repr(o["default"]).replace("'", '"'))
        lines.append("    %s=dict(%s)," % (n, ", ".join(parts)))
    return "\n".join(lines + [")"]) + "\n"


def md_cell(text):
    return str(text).replace("|", "\\|")


def role_table(options):
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for n, o in options.items():
        if not o["role"]:
            continue
        default = "`%s`" % yaml_scalar(o["default"]) if not unset(o) else '`""`'
        meaning = o["description"]
        if o.get("choices"):
            meaning = "one of %s. %s" % (", ".join("`%s`" % c for c in o["choices"]), meaning)
        where = "" if o["role"] != ["fleet"] else " (fleet_preflight only)"
        rows.append("| `cnmkit_%s`%s | %s | %s |" % (n, where, md_cell(default), md_cell(meaning)))
    return "\n".join(rows) + "\n"


# ---- Chef ------------------------------------------------------------------------------------

def ruby(value):
    if value is None or value == "":
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return "{}" if not value else "{ %s }" % ", ".join(
            "%s => %s" % (ruby(k), ruby(v)) for k, v in value.items())
    return "'%s'" % str(value).replace("\\", "\\\\").replace("'", "\\'")


def ruby_string_lines(text, indent, width=104):
    """A long description as Ruby string literals joined with backslashes (rubocop's style)."""
    chunks = textwrap.wrap(text, width - indent - 4, drop_whitespace=False) or [""]
    # A chunk may start with the space it was cut at: that space ends the one before instead
    # (rubocop's Layout/LineContinuationLeadingSpace).
    for i in range(1, len(chunks)):
        stripped = chunks[i].lstrip(" ")
        chunks[i - 1] += chunks[i][: len(chunks[i]) - len(stripped)]
        chunks[i] = stripped
    lines = []
    for i, chunk in enumerate(chunks):
        lit = ruby(chunk)
        lines.append((" " * indent if i else "") + lit + (" \\" if i < len(chunks) - 1 else ""))
    return "\n".join(lines)


def chef_resources(options):
    return sorted({r for o in options.values() for r in o["chef"] if r != "recipe"})


CNMCTL_PARTIAL = "chef/cookbooks/cnmkit/resources/_partial/_cnmctl.rb"


def cnmctl_resources(options):
    """The resources that run cnmctl (they have its `cnmctl` property): each uses the partial."""
    return [r for r in chef_resources(options) if r in options["cnmctl"]["chef"]]


def shared_by_cnmctl_resources(options):
    """The properties every cnmctl resource has, declared once in the partial."""
    users = set(cnmctl_resources(options))
    return [n for n, o in options.items() if users <= set(o["chef"])]


def own_properties(options, resource):
    shared = shared_by_cnmctl_resources(options) if resource in cnmctl_resources(options) else []
    return [n for n, o in options.items() if resource in o["chef"] and n not in shared]


def chef_partial(options):
    users = ", ".join(cnmctl_resources(options))
    out = ["# frozen_string_literal: true", "", "# " + HEADER,
           "# The properties of every resource that runs cnmctl (%s): each declares" % users,
           "# `use '_partial/_cnmctl'` (a Chef 16+ resource partial) before its own properties."]
    return "\n".join(out) + "\n" + chef_properties(options, shared_by_cnmctl_resources(options))


def chef_properties(options, names):
    out = []
    for n in names:
        o = options[n]
        head = "property :%s, %s," % (n, RUBY_TYPES[o["type"]])
        lines = [head]
        pad = " " * len("property ")
        if o.get("choices"):
            lines.append(pad + "equal_to: %s," % ("%w(" + " ".join(o["choices"]) + ")"))
        if not unset(o):
            lines.append(pad + "default: %s," % ruby(o["default"]))
        lines.append(pad + "description: " + ruby_string_lines(o["description"],
                                                              len(pad) + len("description: ")))
        out.append("\n".join(lines))
    return "\n".join(out) + "\n"


def chef_attributes(options):
    out = ["# frozen_string_literal: true", "", "# " + HEADER,
           "# Options of the default recipe; each is the property of the same name (chef/README.md).", ""]
    for n, o in options.items():
        if not o["chef"]:
            continue
        out += ["# " + line for line in textwrap.wrap(o["description"], 104)]
        out.append("default['cnmkit']['%s'] = %s" % (n, ruby(o["default"])))
    return "\n".join(out) + "\n"


def chef_library(options):
    out = ["# frozen_string_literal: true", "", "# " + HEADER,
           "# Each resource's properties and their defaults, for the plain-Ruby logic in",
           "# cnmkit_cnmctl.rb (the resources declare the same properties).", "module Cnmkit",
           "  OPTION_DEFAULTS = {"]
    for r in chef_resources(options):
        out.append("    %s: {" % r)
        names = [n for n, o in options.items() if r in o["chef"]]
        for i, n in enumerate(names):
            out.append("      %s: %s%s" % (n, ruby(options[n]["default"]), "," if i < len(names) - 1 else ""))
        out.append("    },")
    out[-1] = "    }"
    out += ["  }.freeze", "end"]
    return "\n".join(out) + "\n"


def chef_table(options):
    rows = ["| property | resources | type | default | meaning |", "| --- | --- | --- | --- | --- |"]
    for n, o in options.items():
        if not o["chef"]:
            continue
        resources = ", ".join("`%s`" % r for r in o["chef"] if r != "recipe") or "recipe only"
        meaning = o["description"]
        if o.get("choices"):
            meaning = "one of %s. %s" % (", ".join("`%s`" % c for c in o["choices"]), meaning)
        rows.append("| `%s` | %s | %s | `%s` | %s |" % (n, resources, RUBY_TYPES[o["type"]],
                                                      ruby(o["default"]), md_cell(meaning)))
    return "\n".join(rows) + "\n"


# ---- writing ---------------------------------------------------------------------------------

def replace_region(text, name, body, comment, path):
    begin = "%s BEGIN GENERATED %s" % (comment, name)
    end = "%s END GENERATED %s" % (comment, name)
    pattern = re.compile(r"(^[ \t]*%s[^\n]*\n)(.*?)(^[ \t]*%s)" % (re.escape(begin), re.escape(end)),
                         re.S | re.M)
    if not pattern.search(text):
        raise SystemExit("%s: no '%s' ... '%s' region" % (path, begin, end))
    return pattern.sub(lambda m: m.group(1) + body + m.group(3), text, count=1)


def expected_files(root):
    options = load(root)
    files = {
        "ansible/roles/cnmkit/defaults/main.yml": role_defaults(options),
        "ansible/roles/cnmkit/meta/argument_specs.yml": argument_specs(options),
        "chef/cookbooks/cnmkit/attributes/default.rb": chef_attributes(options),
        "chef/cookbooks/cnmkit/libraries/cnmkit_options.rb": chef_library(options),
    }
    files[CNMCTL_PARTIAL] = chef_partial(options)
    shared = shared_by_modules(options)
    regions = [("ansible/README.md", "options", "<!--", role_table(options)),
               ("ansible/roles/cnmkit/doc_fragments/cnmkit_cnmctl.py", "options", "#",
                module_doc_options(options, shared)),
               ("ansible/roles/cnmkit/module_utils/cnmkit_cnmctl.py", "argument_spec", "#",
                module_argument_spec(options, shared, "CNMCTL_ARGUMENT_SPEC"))]
    for module in modules(options):
        path = "ansible/roles/cnmkit/library/%s.py" % module
        own = own_options(options, module)
        regions += [(path, "options", "#", module_doc_options(options, own)),
                    (path, "argument_spec", "#", module_argument_spec(options, own, "ARGUMENT_SPEC"))]
    for resource in cnmctl_resources(options):
        path = "chef/cookbooks/cnmkit/resources/%s.rb" % resource.removeprefix("cnmkit_")
        if "\nuse '_partial/_cnmctl'" not in (root / path).read_text():
            raise SystemExit("%s: no use '_partial/_cnmctl' (%s holds its common properties)"
                             % (path, CNMCTL_PARTIAL))
    for resource in chef_resources(options):
        regions.append(("chef/cookbooks/cnmkit/resources/%s.rb" % resource.removeprefix("cnmkit_"),
                        "properties", "#", chef_properties(options, own_properties(options, resource))))
    regions.append(("chef/README.md", "properties", "<!--", chef_table(options)))
    for path, name, comment, body in regions:
        text = files.get(path) or (root / path).read_text()
        files[path] = replace_region(text, name, body, comment, path)
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report copies that drifted")
    parser.add_argument("--root", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parent.parent,
                        help="the source tree (default: this file's)")
    args = parser.parse_args()
    drifted = []
    for path, want in expected_files(args.root).items():
        target = args.root / path
        have = target.read_text() if target.exists() else ""
        if have == want:
            continue
        drifted.append(path)
        if args.check:
            sys.stdout.writelines(difflib.unified_diff(
                have.splitlines(True), want.splitlines(True), path, path + " (from options.yml)"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(want)
    if args.check and drifted:
        print("drifted from ansible/options.yml: %s (run python3 ansible/sync_options.py)"
              % ", ".join(drifted), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
