"""The key tables of ``config/README.md``, generated from the config schema.

``workflow/schemas/config.schema.yaml`` is the one home of every config key's type,
default and description; ``config/README.md`` shows them as tables between markers ::

    <!-- keys:begin trial -->
    | key | type | default | description |
    ...
    <!-- keys:end -->

A marker names one or more key paths (``<!-- keys:begin seed blinded blind_seed -->``);
its table holds those keys and every key below them.  The prose around the markers is
left as it is.  ::

    python -m rtw.ops.configdoc            # rewrite the tables in place
    python -m rtw.ops.configdoc --check    # exit 1 listing every difference

Key paths are dotted (``derivation.days_off.cap_days``); the items of a list of
objects are written ``[]`` (``subgroups[].column``, ``outcomes.time_to_event[].tau``,
where the value may also be a single object).  ``$ref``, ``allOf``, ``oneOf`` and
``anyOf`` are followed.  The default is shown as a YAML literal (what a config file
would say); ``required`` marks a key that must be given.  A key marked
``x-doc-children: false`` in the schema is listed without the keys below it (the estimand of
each analysis: its fields are described once, in the prose of its section).
"""
from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
README = ROOT / "config" / "README.md"
BEGIN = re.compile(r"^<!-- keys:begin ([^>]*?) -->$")
END = "<!-- keys:end -->"
HEADER = "| key | type | default | description |\n|---|---|---|---|"
NO_DEFAULT = "—"


@dataclass(frozen=True)
class Key:
    """One config key as documented: dotted ``path`` and the cells of its table row."""

    path: str
    type: str
    default: str
    description: str

    def row(self) -> str:
        """The Markdown table row of this key."""
        cells = (f"`{self.path}`", self.type, self.default, self.description)
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


# --------------------------------------------------------------------------- schema walk

def resolve(node, root: dict) -> dict:
    """``node`` with local ``$ref`` followed and ``allOf`` parts merged into it.

    Keywords beside a ``$ref`` (a ``description``, a ``default``) win over the target's.
    """
    if not isinstance(node, dict):
        return {}
    node = dict(node)
    while "$ref" in node:
        ref = node.pop("$ref")
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref is supported in the config schema, got {ref!r}")
        target = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = {**target, **node}
    for part in node.pop("allOf", []):
        part = resolve(part, root)
        merged = {**part, **node}
        merged["properties"] = {**part.get("properties", {}), **node.get("properties", {})}
        merged["required"] = list(part.get("required", [])) + list(node.get("required", []))
        node = merged
    return node


def _shapes(node: dict, root: dict) -> list[dict]:
    """``node`` and the (resolved) branches of its ``oneOf``/``anyOf``, depth first."""
    out = [node]
    for key in ("oneOf", "anyOf"):
        for branch in node.get(key, []):
            out += _shapes(resolve(branch, root), root)
    return out


def children(node: dict, root: dict) -> list[tuple[str, str, dict, bool]]:
    """The keys below ``node``: ``(separator, name, schema, required)`` in schema order.

    The separator is ``"."`` for an object's property and ``"[]."`` for a property of a
    list's items; a property reachable both ways (one object, or a list of them) is
    listed once, as a list item.
    """
    found: dict[str, tuple[str, str, dict, bool]] = {}
    for shape in _shapes(node, root):
        parts = [(".", shape)]
        items = resolve(shape.get("items"), root)
        parts += [("[].", s) for s in _shapes(items, root)] if items else []
        for sep, obj in parts:
            required = set(obj.get("required", []))
            for name, sub in (obj.get("properties") or {}).items():
                if name not in found or (sep == "[]." and found[name][0] == "."):
                    found[name] = (sep, name, sub, name in required)
    return list(found.values())


def keys(schema: dict) -> list[Key]:
    """Every key of ``schema``, depth first in schema order, each with its table cells."""
    out: list[Key] = []

    def walk(node: dict, prefix: str) -> None:
        for sep, name, sub, required in children(node, schema):
            path = f"{prefix}{sep}{name}" if prefix else f"{sep.lstrip('.')}{name}"
            own = sub if isinstance(sub, dict) else {}
            full = resolve(sub, schema)
            out.append(Key(path, type_text(full, schema), default_text(own, full, required),
                           description_text(own, full)))
            if own.get("x-doc-children", True):
                walk(full, path)

    walk(resolve(schema, schema), "")
    return out


# --------------------------------------------------------------------------- cells

def _literal(value) -> str:
    """``value`` as a one-line YAML literal (flow style), as a config file would write it."""
    import yaml
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True,
                          width=float("inf")).strip()
    return text[:-4].strip() if text.endswith("\n...") else text


def _bounds(node: dict) -> str:
    """Numeric bounds of ``node`` as text: ``> 0``, ``>= 1``, ``in [0, 1]``."""
    lo = ("[", node["minimum"]) if "minimum" in node else \
        ("(", node["exclusiveMinimum"]) if "exclusiveMinimum" in node else None
    hi = ("]", node["maximum"]) if "maximum" in node else \
        (")", node["exclusiveMaximum"]) if "exclusiveMaximum" in node else None
    if lo and hi:
        return f" in {lo[0]}{_literal(lo[1])}, {_literal(hi[1])}{hi[0]}"
    if lo:
        return f" {'>=' if lo[0] == '[' else '>'} {_literal(lo[1])}"
    if hi:
        return f" {'<=' if hi[0] == ']' else '<'} {_literal(hi[1])}"
    return ""


def _count(node: dict, low: str, high: str, unit: str) -> str:
    """Size bounds (``minItems``/``maxItems`` or the like) as text: `` (2 items)``."""
    a, b = node.get(low), node.get(high)
    plural = unit if (b if b is not None else a) != 1 else unit[:-1]
    if a is not None and a == b:
        return f" ({a} {plural})"
    if a is not None and b is not None:
        return f" ({a} to {b} {plural})"
    if a:
        return f" (at least {a} {plural})"
    if b is not None:
        return f" (at most {b} {plural})"
    return ""


def _one_type(name: str, node: dict, root: dict) -> str:
    """Text of one JSON type of ``node``: ``list of number (2 items)``, ``integer >= 1``."""
    if name == "array":
        items = resolve(node.get("items"), root)
        if not items:
            inner = "any"
        elif any(s.get("properties") for s in _shapes(items, root)):
            plain = [type_text(resolve(b, root), root) for b in items.get("oneOf", [])
                     if not resolve(b, root).get("properties")]
            inner = " or ".join([*plain, "objects"])
        else:
            inner = type_text(items, root)
        return f"list of {inner}{_count(node, 'minItems', 'maxItems', 'items')}"
    if name == "object":
        extra = node.get("additionalProperties")
        pattern = next(iter((node.get("patternProperties") or {}).values()), None)
        values = extra if isinstance(extra, dict) else pattern
        if values is not None and not node.get("properties"):
            return f"mapping of names to {type_text(resolve(values, root), root)}"
        return "object"
    if name in ("number", "integer"):
        return name + _bounds(node)
    if name == "string" and node.get("minLength"):
        return "non-empty string"
    return name


def type_text(node: dict, root: dict) -> str:
    """The type column of a key: its JSON types, an enum's values or its branches'."""
    if "const" in node:
        return f"`{_literal(node['const'])}`"
    if "enum" in node:
        return "one of " + ", ".join(f"`{_literal(v)}`" for v in node["enum"])
    texts: list[str] = []
    types = node.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    if "number" in types and "integer" in types:
        types.remove("integer")             # every integer is a number
    for name in types:
        texts.append(_one_type(name, node, root))
    for key in ("oneOf", "anyOf"):
        for branch in node.get(key, []):
            texts.append(type_text(resolve(branch, root), root))
    seen = []
    for t in texts:
        for part in t.split(" or "):
            if part not in seen:
                seen.append(part)
    return " or ".join(seen) if seen else "any"


def default_text(own: dict, full: dict, required: bool) -> str:
    """The default column: ``required``, the default as a YAML literal, or a dash."""
    if required:
        return "required"
    for node in (own, full):
        if "default" in node:
            return f"`{_literal(node['default'])}`"
    return NO_DEFAULT


def description_text(own: dict, full: dict) -> str:
    """The description column: the key's ``description`` (or ``title``) on one line."""
    for node in (own, full):
        for field in ("description", "title"):
            if node.get(field):
                return " ".join(str(node[field]).split())
    return ""


# --------------------------------------------------------------------------- README

def table(rows: list[Key]) -> str:
    """The Markdown table of ``rows``."""
    return "\n".join([HEADER] + [k.row() for k in rows])


def selected(all_keys: list[Key], roots: list[str]) -> list[Key]:
    """The keys at or below any of ``roots`` (in schema order)."""
    def under(path: str, root: str) -> bool:
        return path == root or path.startswith(root + ".") or path.startswith(root + "[]")
    return [k for k in all_keys if any(under(k.path, r) for r in roots)]


def sections(text: str) -> list[tuple[list[str], int, int]]:
    """The keys sections of a README: ``(roots, first line, end-marker line)``, 0-based."""
    lines = text.split("\n")
    out, start = [], None
    for i, line in enumerate(lines):
        m = BEGIN.match(line.strip())
        if m:
            if start is not None:
                raise ValueError(f"line {i + 1}: keys:begin inside the section of line {start[1] + 1}")
            start = (m.group(1).split(), i)
        elif line.strip() == END:
            if start is None:
                raise ValueError(f"line {i + 1}: {END} without keys:begin")
            out.append((start[0], start[1] + 1, i))
            start = None
    if start is not None:
        raise ValueError(f"line {start[1] + 1}: keys:begin without {END}")
    return out


def render(text: str, schema: dict) -> tuple[str, list[str]]:
    """``text`` (a README) with every keys section regenerated from ``schema``, and the
    problems no regeneration can fix (a marker naming no key, a key in no section)."""
    all_keys = keys(schema)
    lines = text.split("\n")
    problems, covered = [], set()
    for roots, first, end in reversed(sections(text)):
        rows = selected(all_keys, roots)
        for r in roots:
            if not selected(all_keys, [r]):
                problems.append(f"keys:begin on line {first} names {r!r}, which is no schema key")
        covered.update(k.path for k in rows)
        lines[first:end] = table(rows).split("\n")
    problems.reverse()
    problems += [f"schema key {k.path!r} is in no keys table" for k in all_keys
                 if k.path not in covered]
    return "\n".join(lines), problems


def differences(text: str, schema: dict, name: str = "config/README.md") -> list[str]:
    """Every difference between the README ``text`` and what the schema generates."""
    new, problems = render(text, schema)
    diff = list(difflib.unified_diff(text.split("\n"), new.split("\n"), f"{name} (now)",
                                     f"{name} (from the schema)", lineterm="", n=0))
    return [f"{name}: {p}" for p in problems] + diff


def load_yaml(path: Path) -> dict:
    """A YAML file (the schema) as Python data."""
    import yaml
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def main(argv=None) -> int:
    """``python -m rtw.ops.configdoc [--check] [--schema FILE] [--readme FILE]``.

    Returns 0 when the README is (or now is) in step with the schema, 1 when ``--check``
    finds a difference or a key is in no section, 2 when the markers are malformed.
    """
    ap = argparse.ArgumentParser(prog="python -m rtw.ops.configdoc", description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 on any difference")
    ap.add_argument("--schema", type=Path, default=SCHEMA)
    ap.add_argument("--readme", type=Path, default=README)
    a = ap.parse_args(argv)
    text = a.readme.read_text(encoding="utf-8")
    schema = load_yaml(a.schema)
    try:
        if a.check:
            diff = differences(text, schema, str(a.readme))
            if diff:
                print("\n".join(diff), file=sys.stderr)
                print(f"run `python -m rtw.ops.configdoc` to regenerate {a.readme}", file=sys.stderr)
            return 1 if diff else 0
        new, problems = render(text, schema)
    except ValueError as e:
        print(f"{a.readme}: {e}", file=sys.stderr)
        return 2
    if new != text:
        a.readme.write_text(new, encoding="utf-8")
        print(f"rewrote the keys tables of {a.readme}")
    for p in problems:
        print(f"{a.readme}: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
