"""Validation of the config against its JSON Schema, and the schema's defaults.

``workflow/schemas/config.schema.yaml`` is the one home of every config default
and of each key's description.  :func:`validate` checks a config against it and
returns a copy with every default filled in (also inside list items and the
branch of a ``oneOf`` the value matches), so the library never needs a fallback.
"""
from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"


@lru_cache(maxsize=4)
def load_schema(path: str | None = None) -> dict:
    """The config schema (``workflow/schemas/config.schema.yaml`` unless ``path``)."""
    import yaml
    with open(path or SCHEMA, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def validate(config: dict, schema_path: str | None = None, source: str = "config") -> dict:
    """Check ``config`` against the schema; return a copy with the schema's defaults filled in.

    Raises
    ------
    rtw.core.config.ConfigError
        One line naming ``source``, the key's path and what was expected.
    """
    import jsonschema

    from rtw.core.config import ConfigError
    schema = load_schema(str(schema_path) if schema_path else None)
    filled = copy.deepcopy(dict(config or {}))
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(filled))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "top level"
        raise ConfigError(f"{source}: {where}: {error.message}")
    return fill_defaults(filled, schema, schema)


def _resolve(node: dict, root: dict) -> dict:
    """Follow a local ``$ref`` (``#/$defs/...``) from the schema's root."""
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref supported in the config schema, got {ref!r}")
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def _branch(node: dict, value, root: dict) -> dict | None:
    """The ``oneOf``/``anyOf`` branch of ``node`` that ``value`` matches (None if none)."""
    import jsonschema
    for key in ("oneOf", "anyOf"):
        for sub in node.get(key, []):
            candidate = dict(sub)
            candidate["$defs"] = root.get("$defs", {})
            if jsonschema.Draft202012Validator(candidate).is_valid(value):
                return _resolve(sub, root)
    return None


def fill_defaults(value, node: dict, root: dict):
    """Fill ``default`` values of ``node`` (a schema) into ``value`` (validated), recursively."""
    node = _resolve(node, root)
    branch = _branch(node, value, root)
    if branch is not None:
        return fill_defaults(value, branch, root)
    if isinstance(value, dict):
        props = node.get("properties", {})
        for key, sub in props.items():
            sub = _resolve(sub, root)
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
        for key in list(value):
            if key in props:
                value[key] = fill_defaults(value[key], props[key], root)
            elif isinstance(node.get("additionalProperties"), dict):
                value[key] = fill_defaults(value[key], node["additionalProperties"], root)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        value = [fill_defaults(v, node["items"], root) for v in value]
    return value


def block_defaults(path: str, schema_path: str | None = None):
    """The schema defaults of one config block, filled in depth (``"synthetic"``,
    ``"survival"``, ``"derivation.days_off"``): what a config that omits the block gets.

    For callers outside the workflow (tests, notebooks) that build a block from a few
    overrides: ``{**block_defaults("synthetic"), **overrides}``, never a literal default.
    """
    schema = load_schema(str(schema_path) if schema_path else None)
    node = schema
    for part in path.split("."):
        node = _resolve(node, schema)["properties"][part]
    node = _resolve(node, schema)
    return fill_defaults(copy.deepcopy(node.get("default", {})), node, schema)


def with_defaults(path: str, block, schema_path: str | None = None):
    """``block`` (a partial config block, e.g. from a test) with the schema's defaults of
    ``path`` filled in; the block is not validated."""
    schema = load_schema(str(schema_path) if schema_path else None)
    node = schema
    for part in path.split("."):
        node = _resolve(node, schema)["properties"][part]
    return fill_defaults(copy.deepcopy(block if block is not None else {}), node, schema)
