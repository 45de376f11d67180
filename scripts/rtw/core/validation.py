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

    Parameters
    ----------
    config : dict
        The config as loaded from YAML.
    schema_path : str, optional
        Another schema (default ``workflow/schemas/config.schema.yaml``).
    source : str
        How the message names the config (``config my.yaml``, see
        :func:`rtw.core.config.config_source`).

    Raises
    ------
    rtw.core.config.ConfigError
        One line: ``source``, then the first problem in the config's own order (see
        :func:`problems`); the exception's ``problems`` attribute lists them all.
    """
    from rtw.core.config import ConfigError
    schema = load_schema(str(schema_path) if schema_path else None)
    filled = copy.deepcopy(dict(config or {}))
    found = problems(filled, schema_path)
    if found:
        error = ConfigError(f"{source}: {found[0]}")
        error.problems = [f"{source}: {p}" for p in found]
        raise error
    return fill_defaults(filled, schema, schema)


def _resolve(node: dict, root: dict) -> dict:
    """Follow a local ``$ref`` (``#/$defs/...``) from the schema's root.  Keywords beside the
    ``$ref`` (as draft 2020-12 allows, e.g. a ``default`` or ``description`` of this use of a
    shared definition) are kept over the definition's."""
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref supported in the config schema, got {ref!r}")
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **siblings} if siblings else target
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


def read_config(paths) -> dict:
    """Config file(s) read and merged as ``snakemake --configfile a.yaml b.yaml`` merges them.

    A later file's keys override an earlier one's; mappings are merged key by key.

    Raises
    ------
    rtw.core.config.ConfigError
        One line naming the file, and for a YAML problem its line and column:
        ``config my.yaml line 12, column 9: expected ',' or ']', but got ':'``.
    """
    from rtw.core.config import ConfigError
    merged: dict = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as e:
            raise ConfigError(f"config {path}: cannot be read ({e.strerror})") from None
        data = _parse_yaml(text, path)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"config {path}: expected a mapping of keys at the top level; "
                              f"got {_show(data)}")
        merged = _merge(merged, data)
    return merged


def config_file_problem(paths) -> str | None:
    """The one-line problem :func:`read_config` finds reading ``paths`` (None if they read).

    For the workflow, whose config files snakemake reads first and reports only as "not
    valid JSON or YAML": this names the file and the line.
    """
    from rtw.core.config import ConfigError
    try:
        read_config(paths)
    except ConfigError as e:
        return str(e)
    return None


def _parse_yaml(text: str, path):
    """YAML ``text`` of file ``path``; a syntax error as a one-line ConfigError with its line."""
    import yaml

    from rtw.core.config import ConfigError
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        pass
    try:  # the pure-Python parser's messages name the line and what was expected
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(str(e.problem or e.context or "not valid YAML").split())
        if e.context and e.problem and e.context_mark and e.context_mark is not mark:
            what += f" ({e.context} started at line {e.context_mark.line + 1})"
        if "\\t" in what:
            what += "; indent with spaces, not tabs"
        raise ConfigError(f"config {path}{where}: {what}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"config {path}: not valid YAML ({' '.join(str(e).split())})") from None


def _merge(base: dict, new: dict) -> dict:
    """``new`` merged into a copy of ``base``, mapping by mapping (snakemake's update_config)."""
    out = dict(base)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------ messages --
# One line per problem, naming the key's path, what is expected and what was given;
# never the schema.

_COLUMN = "^[A-Za-z_][A-Za-z0-9_.]*$"
_NOUNS = {"number": "number", "integer": "integer", "string": "string", "array": "list",
          "object": "mapping"}


def problems(config: dict, schema_path: str | None = None) -> list[str]:
    """Every way ``config`` breaks the schema, one line each, in the config's own order.

    Each line names the key's path (``outcomes.time_to_event[0]``), what is expected and
    what was given (``trial.followup_days: expected a number > 0; got 'six months'``); an
    unknown key gets the nearest valid key of its level (``unknown key 'tua' (in
    outcomes.time_to_event[0]); did you mean 'tau'?``).  A value that must match one of
    several forms (``oneOf``: an outcome, a list of them or null) is checked against the
    form of its own type, so the message is that form's problem.

    Returns
    -------
    list of str
        Empty when the config is valid.  A missing key comes after the keys present in
        its block.
    """
    import jsonschema
    schema = load_schema(str(schema_path) if schema_path else None)
    found: dict[str, tuple] = {}
    for error in jsonschema.Draft202012Validator(schema).iter_errors(config):
        for leaf in _leaves(error, schema):
            for order, text in _describe(leaf, config, schema):
                found.setdefault(text, order)
    return sorted(found, key=lambda text: found[text])


def _json_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object",
            type(None): "null"}.get(type(value), "object" if hasattr(value, "items") else "")


def _types(node: dict) -> list[str]:
    t = node.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def _type_branch(branches: list, value, root: dict) -> int | None:
    """Index of the first branch whose ``type`` admits the JSON type of ``value``."""
    jt = _json_type(value)
    for i, branch in enumerate(branches):
        types = _types(_resolve(branch, root))
        if jt in types or (jt == "integer" and "number" in types):
            return i
    return None


def _leaves(error, root: dict) -> list:
    """``error``, or for a ``oneOf``/``anyOf`` the errors of the branch of the value's type."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        idx = _type_branch(error.validator_value, error.instance, root)
        inner = [e for e in error.context if e.relative_schema_path[0] == idx]
        if idx is not None and inner:
            return [leaf for e in inner for leaf in _leaves(e, root)]
    return [error]


def _walk(path, config):
    """(dotted path, order key) of ``path`` in ``config``: ``a.b[0].c``; the order key is
    each step's position in its container (a key not present sorts last)."""
    text, order, node = "", [], config
    for step in path:
        if isinstance(node, list):
            text += f"[{step}]"
            order.append(step)
            node = node[step] if isinstance(step, int) and step < len(node) else None
        else:
            text += f".{step}" if text else str(step)
            keys = list(node) if isinstance(node, dict) else []
            order.append(keys.index(step) if step in keys else len(keys))
            node = node.get(step) if isinstance(node, dict) else None
    return text, tuple(order)


def _describe(error, config, root) -> list[tuple[tuple, str]]:
    """(order, line) of each problem one jsonschema error stands for."""
    path = list(error.absolute_path)
    where, order = _walk(path, config)
    if error.validator == "additionalProperties" and error.validator_value is False \
            and isinstance(error.instance, dict):
        valid = list(error.schema.get("properties", {}))
        return [(_walk(path + [key], config)[1],
                 f"unknown key {key!r} ({'in ' + where if where else 'top level'}); "
                 + _nearest(key, valid, "did you mean {}?", "valid keys: {}"))
                for key in error.instance if key not in valid]
    if error.validator == "required" and isinstance(error.instance, dict):
        props = error.schema.get("properties", {})
        return [(_walk(path + [key], config)[1],
                 (f"{where}: " if where else "") + f"{key!r} is required"
                 + _gloss(_resolve(props.get(key, {}), root)))
                for key in error.validator_value if key not in error.instance]
    return [(order, f"{where or 'top level'}: expected {_expected(error, root)}; "
                    f"got {_show(error.instance)}{_enum_hint(error)}")]


def _nearest(word, choices, found: str, otherwise: str) -> str:
    """``found`` with the choice nearest to ``word`` (difflib), else ``otherwise`` listing all."""
    import difflib
    lower = {str(c).lower(): c for c in choices}
    close = difflib.get_close_matches(str(word).lower(), list(lower), n=1, cutoff=0.6)
    if close:
        return found.format(repr(lower[close[0]]))
    return otherwise.format(", ".join(str(c) for c in choices))


def _gloss(node: dict) -> str:
    """`` (what the key is)``: its description up to the first stop, or nothing."""
    desc = " ".join(str(node.get("description", "")).split())
    for stop in (". ", "; ", " (", ": "):
        desc = desc.split(stop)[0]
    desc = desc.rstrip(".")
    if not desc:
        return ""
    if not desc[1:2].isupper():
        desc = desc[0].lower() + desc[1:]
    return f" ({desc})"


def _enum_hint(error) -> str:
    if error.validator != "enum" or not isinstance(error.instance, str):
        return ""
    words = [v for v in error.validator_value if isinstance(v, str)]
    hint = _nearest(error.instance, words, " (did you mean {}?)", "")
    return hint if hint.startswith(" (") else ""


def _expected(error, root) -> str:
    """What the schema node of ``error`` expects, in words."""
    if error.validator == "enum":
        return "one of " + ", ".join(_show(v, quote=False) for v in error.validator_value)
    if error.validator == "const":
        return _show(error.validator_value)
    return _phrase(error.schema, root)


def _phrase(node: dict, root: dict, plural: bool = False) -> str:
    """``node`` in words: ``a number > 0``, ``a list of column names``, ``a string or null``."""
    node = _resolve(node, root)
    if "enum" in node:
        return "one of " + ", ".join(_show(v, quote=False) for v in node["enum"])
    branches = node.get("oneOf") or node.get("anyOf")
    if branches:
        return _or([_phrase(b, root, plural) for b in branches])
    types = _types(node) or ["object"]
    if "integer" in types and "number" in types:
        types.remove("integer")
    words = [_type_phrase(t, node, root, plural) for t in types if t != "null"]
    return _or(words + (["null"] if "null" in types else []))


def _type_phrase(jtype: str, node: dict, root: dict, plural: bool) -> str:
    if jtype == "boolean":
        return "true or false"
    noun, rest = _NOUNS.get(jtype, jtype), ""
    if jtype in ("number", "integer"):
        bounds = [f"{op} {node[k]}" for k, op in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                                  ("maximum", "<="), ("exclusiveMaximum", "<"))
                  if k in node]
        rest = " " + " and ".join(bounds) if bounds else ""
    elif jtype == "string" and node.get("pattern") == _COLUMN:
        noun, rest = "column name", " (letters, digits, '_' and '.', not starting with a digit)"
    elif jtype == "string" and node.get("pattern"):
        rest = f" matching {node['pattern']}"
    elif jtype == "string" and node.get("minLength"):
        noun = "non-empty string"
    elif jtype == "array":
        noun, rest = _list_phrase(node, root)
    elif jtype == "object" and isinstance(node.get("additionalProperties"), dict):
        rest = " of key: " + _phrase(node["additionalProperties"], root).split(" ", 1)[-1]
    if plural:
        return f"{noun}s{rest}"
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}{rest}"


def _list_phrase(node: dict, root: dict) -> tuple[str, str]:
    items = _phrase(node["items"], root, plural=True) if isinstance(node.get("items"), dict) else ""
    lo, hi = node.get("minItems"), node.get("maxItems")
    if lo is not None and lo == hi and items:
        return "list", f" of {lo} {items}"
    noun = "non-empty list" if lo == 1 else "list"
    rest = f" of at least {lo}" if lo and lo > 1 else ""
    return noun, f"{rest} of {items}" if items else rest


def _or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _show(value, quote: bool = True, width: int = 60) -> str:
    """``value`` as the YAML user wrote it, shortened: ``'six months'``, ``null``, ``[95]``."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = repr(value) if quote else value
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(v, width=width) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k}: {_show(v, width=width)}" for k, v in value.items()) + "}"
    else:
        text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def typed_command_line(config: dict, overrides) -> dict:
    """``config`` with the values nested in ``snakemake --config KEY=VALUE`` overrides typed as
    YAML types them in a config file.

    Snakemake types a top-level ``--config`` value (int, float, bool) but reads a nested one
    (``--config 'simulation={replicates: 20}'``) with YAML's BaseLoader, which leaves every
    leaf a string (``'20'``); the strict schema would refuse it.  Each such leaf is read again
    with ``yaml.safe_load``, as the same text in a config file would be.
    """
    from collections.abc import Mapping

    import yaml

    def retype(value):
        if isinstance(value, Mapping):
            return {k: retype(v) for k, v in value.items()}
        if isinstance(value, list):
            return [retype(v) for v in value]
        return yaml.safe_load(value) if isinstance(value, str) else value

    def overlay(target, override, nested):
        for key, value in override.items():
            if isinstance(value, Mapping) and isinstance(target.get(key), dict):
                overlay(target[key], value, True)
            elif nested or isinstance(value, (Mapping, list)):
                target[key] = retype(value)

    typed = copy.deepcopy(dict(config))
    overlay(typed, dict(overrides or {}), False)
    return typed
