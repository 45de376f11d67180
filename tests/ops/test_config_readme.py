"""config/README.md's key tables are generated from the config schema (rtw.ops.configdoc),
so schema and docs cannot drift: the README is in step with the schema and names every key."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from helpers import ROOT
from rtw.ops import configdoc

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
README = ROOT / "config" / "README.md"


def _schema():
    return yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))


def _property_paths(node, root, prefix=""):
    """Dotted paths of every property in the schema, walked independently of configdoc
    (list items and oneOf/anyOf/allOf branches add no path segment)."""
    if not isinstance(node, dict):
        return set()
    while "$ref" in node:
        target = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    out = set()
    for name, sub in (node.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        # a key marked x-doc-children: false is one row; its fields are described in the prose
        # of its section (test_estimand_fields_are_described_once)
        below = set() if sub.get("x-doc-children", True) is False else _property_paths(sub, root, path)
        out |= {path} | below
    for sub in [node.get("items")] + sum((node.get(k, []) for k in ("oneOf", "anyOf", "allOf")), []):
        out |= _property_paths(sub, root, prefix)
    return out


# --------------------------------------------------------------------------- the real README

def test_readme_key_tables_are_in_step_with_the_schema():
    text = README.read_text(encoding="utf-8")
    assert configdoc.differences(text, _schema()) == []
    assert configdoc.main(["--check"]) == 0


def test_every_schema_key_appears_in_the_readme():
    text = README.read_text(encoding="utf-8").replace("[]", "")
    documented = set(re.findall(r"^\| `([^`]+)` \|", text, re.M))
    missing = sorted(_property_paths(_schema(), _schema()) - documented)
    assert missing == [], f"schema keys missing from config/README.md: {missing}"


def test_estimand_fields_are_described_once():
    """The estimand of each analysis is one row of the keys table; the fields of an estimand
    (the schema's $defs/estimand) are each named in the prose of the estimands section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## `estimands`"):text.index("<!-- keys:begin estimands -->")]
    fields = _schema()["$defs"]["estimand"]["properties"]
    assert set(fields) == {"label", "population", "variable", "intercurrent_events", "summary"}
    for field in fields:
        assert f"`{field}`" in section, field


def test_check_runs_as_a_module():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "scripts")] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    r = subprocess.run([sys.executable, "-m", "rtw.ops.configdoc", "--check"], cwd=ROOT,
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr


# --------------------------------------------------------------------------- the generator

TOY = yaml.safe_load("""
type: object
properties:
  seed: {type: integer, default: 1, description: master seed}
  block:
    type: object
    default: {}
    properties:
      level: {type: number, exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.95}
      words: {type: array, items: {type: string}, default: ["none", "no"]}
      window: {type: [number, "null"], default: null, description: "null: the follow-up window"}
      inner:
        type: object
        properties:
          deep: {type: integer, minimum: 1, description: "a | pipe"}
      labels: {type: object, additionalProperties: {type: number}, default: {6w: 42}}
      mode: {enum: [poisson_robust, null], default: null}
  events:
    oneOf:
      - {$ref: "#/$defs/event"}
      - {type: array, items: {$ref: "#/$defs/event"}}
      - {type: "null"}
  groups:
    type: array
    items:
      allOf:
        - {type: object, properties: {name: {type: string}}, required: [name]}
        - {properties: {column: {type: string, minLength: 1}}}
  label:
    $ref: "#/$defs/armlabel"
    description: an arm label
required: [events]
$defs:
  event:
    type: object
    properties:
      time: {type: string, description: column of the time}
      value: {type: [integer, number, string]}
    required: [time]
  armlabel:
    oneOf: [{type: string}, {type: integer}]
    description: the $ref target's own text
""")


def _rows(schema=TOY):
    return {k.path: k for k in configdoc.keys(schema)}


def test_nested_objects_are_dotted_keys_in_schema_order():
    paths = list(_rows())
    assert paths[:3] == ["seed", "block", "block.level"]
    assert "block.inner.deep" in paths


def test_single_or_list_of_objects_is_listed_once_as_list_items():
    rows = _rows()
    assert rows["events"].type == "object or list of objects or null"
    assert rows["events"].default == "required"
    assert rows["events[].time"].default == "required"
    assert rows["events[].time"].description == "column of the time"
    assert rows["events[].value"].type == "number or string"
    assert "events.time" not in rows


def test_all_of_items_are_merged():
    rows = _rows()
    assert rows["groups"].type == "list of objects"
    assert rows["groups[].name"].default == "required"
    assert rows["groups[].column"].type == "non-empty string"
    assert rows["groups[].column"].default == configdoc.NO_DEFAULT


def test_ref_keeps_the_description_beside_it():
    row = _rows()["label"]
    assert row.description == "an arm label"
    assert row.type == "string or integer"


def test_defaults_are_yaml_literals():
    rows = _rows()
    assert rows["block.words"].default == "`[none, 'no']`"     # 'no' would be read as false
    assert rows["block.labels"].default == "`{6w: 42}`"
    assert rows["block.window"].default == "`null`"
    assert rows["block.window"].description == "null: the follow-up window"
    assert rows["block"].default == "`{}`"
    assert rows["block.inner.deep"].default == configdoc.NO_DEFAULT


def test_types_show_bounds_enums_and_mappings():
    rows = _rows()
    assert rows["block.level"].type == "number in (0, 1)"
    assert rows["block.inner.deep"].type == "integer >= 1"
    assert rows["block.labels"].type == "mapping of names to number"
    assert rows["block.mode"].type == "one of `poisson_robust`, `null`"
    assert rows["block.words"].type == "list of string"


def test_a_pipe_in_a_description_does_not_break_the_table():
    assert configdoc.table([_rows()["block.inner.deep"]]).splitlines()[-1].count(" | ") == 3


README_TOY = """# Config
Prose before.
<!-- keys:begin seed -->
stale
<!-- keys:end -->
Prose between.
<!-- keys:begin block events groups label -->
<!-- keys:end -->
Prose after.
"""


def test_render_rewrites_only_between_the_markers_and_is_idempotent():
    new, problems = configdoc.render(README_TOY, TOY)
    assert problems == []
    for prose in ("Prose before.", "Prose between.", "Prose after."):
        assert prose in new
    assert "stale" not in new
    assert "| `seed` | integer | `1` | master seed |" in new
    assert configdoc.render(new, TOY) == (new, [])
    assert configdoc.differences(new, TOY) == []


def test_check_lists_a_stale_row_and_a_key_in_no_table(tmp_path, capsys):
    readme = tmp_path / "README.md"
    schema = tmp_path / "schema.yaml"
    schema.write_text(yaml.safe_dump(TOY), encoding="utf-8")
    readme.write_text(README_TOY.replace(" groups label", ""), encoding="utf-8")
    assert configdoc.main(["--check", "--schema", str(schema), "--readme", str(readme)]) == 1
    err = capsys.readouterr().err
    assert "-stale" in err and "+| `seed` | integer | `1` | master seed |" in err
    assert "schema key 'groups' is in no keys table" in err
    assert "schema key 'label' is in no keys table" in err
    assert readme.read_text(encoding="utf-8") == README_TOY.replace(" groups label", "")  # unchanged
    # rewriting fixes the tables but still reports the keys no table shows
    assert configdoc.main(["--schema", str(schema), "--readme", str(readme)]) == 1
    assert "stale" not in readme.read_text(encoding="utf-8")


def test_a_marker_naming_no_key_is_reported():
    _, problems = configdoc.render(README_TOY.replace("events groups", "events typo groups"), TOY)
    assert problems == ["keys:begin on line 7 names 'typo', which is no schema key"]


@pytest.mark.parametrize("text", [
    "<!-- keys:begin seed -->\n",
    "<!-- keys:end -->\n",
    "<!-- keys:begin seed -->\n<!-- keys:begin block -->\n<!-- keys:end -->\n",
])
def test_malformed_markers_exit_2(tmp_path, text):
    readme = tmp_path / "README.md"
    schema = tmp_path / "schema.yaml"
    schema.write_text(yaml.safe_dump(TOY), encoding="utf-8")
    readme.write_text(text, encoding="utf-8")
    assert configdoc.main(["--check", "--schema", str(schema), "--readme", str(readme)]) == 2
