"""Config normalisation and semantic checks (beyond the JSON Schema).

The Snakefile validates ``config`` against ``workflow/schemas/config.schema.yaml``
(which also fills in defaults); :func:`normalise` then gives the library one
shape: ``outcomes.time_to_event`` is always a list of dicts with a ``name``,
``outcomes.count`` a dict with a ``name`` (or ``None``), ``continuous`` and
``binary`` lists, ``trial.arm_names`` defaulting to the labels.
"""
from __future__ import annotations

import copy
import re


class ConfigError(ValueError):
    """The config is internally inconsistent (names the key and what was expected)."""


_INTEGRAL = re.compile(r"[+-]?[0-9]+(\.0*)?")
ESTIMAND_PLACEHOLDERS = ("outcome", "event", "competing", "unit", "tau", "intervention", "control")
_FIELD = re.compile(r"\{([^{}]*)\}")


def arm_label(value) -> str:
    """An arm label as the pipeline holds it: text, with numbers matched by value.

    Trial datasets code arms as numbers (0/1, 1/2) or text ("UC"/"VA"); a spreadsheet may
    give ``1.0`` where the config says ``1``.  Integral numbers, and text that spells one
    (``"1"``, ``"1.0"``, ``" 01 "``), become the integer's digits (``"1"``); other text is
    stripped of surrounding blanks.  Booleans are refused (``true`` is not an arm label).
    """
    if isinstance(value, bool):
        raise ConfigError(f"arm label {value!r}: expected a number or text, not true/false")
    if isinstance(value, (int, float)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    if _INTEGRAL.fullmatch(text):
        return str(int(float(text)))
    return text


def _arms(trial: dict) -> None:
    """Arm labels, and the keys of ``arm_names``/``arm_colours``, as :func:`arm_label` gives them."""
    arms = {role: arm_label(lab) for role, lab in trial["arms"].items()}
    if arms["control"] == arms["intervention"]:
        raise ConfigError(f"config trial.arms: control and intervention are both {arms['control']!r}; "
                          "expected two different arm labels")
    trial["arms"] = arms
    for key in ("arm_names", "arm_colours"):
        trial[key] = {arm_label(lab): str(v) for lab, v in (trial.get(key) or {}).items()}
    for lab in arms.values():
        trial["arm_names"].setdefault(lab, lab)


def normalise(config: dict) -> dict:
    """The validated config in the one shape the library reads (see the module docstring).

    Computed defaults, each stated in the key's schema description: an arm's name is its
    label; ``derivation.days_off.cap_days: null`` is the follow-up window; an outcome's
    ``name`` is its kind (numbered when several) and its ``label`` its name.
    """
    cfg = copy.deepcopy(dict(config))
    trial = cfg.setdefault("trial", {})
    if any((trial.get("arms") or {}).get(role) is None for role in ("control", "intervention")):
        raise ConfigError("config trial.arms needs both 'control' and 'intervention' labels")
    _arms(trial)
    days_off = ((cfg.get("derivation") or {}).get("days_off")) or {}
    if "cap_days" in days_off and days_off["cap_days"] is None:
        days_off["cap_days"] = trial["followup_days"]
    oc = cfg.setdefault("outcomes", {}) or {}
    tte = oc.get("time_to_event")
    if tte is None:
        tte = []
    elif isinstance(tte, dict):
        tte = [tte]
    seen = set()
    for i, o in enumerate(tte):
        o.setdefault("name", "time_to_event" if len(tte) == 1 else f"time_to_event_{i + 1}")
        o.setdefault("label", o["name"])
        if o["name"] in seen:
            raise ConfigError(f"config outcomes.time_to_event: duplicated name {o['name']!r}")
        seen.add(o["name"])
    oc["time_to_event"] = tte
    cnt = oc.get("count")
    if cnt:
        cnt.setdefault("name", "count")
        cnt.setdefault("label", cnt["name"])
    oc["count"] = cnt or None
    for kind in ("continuous", "binary"):
        lst = oc.get(kind) or []
        for o in lst:
            o.setdefault("label", o["name"])
        oc[kind] = lst
    for kind in ("recurrent", "multistate"):
        lst = oc.get(kind) or []
        for o in lst:
            o.setdefault("label", o["name"])
            if kind == "multistate" and o.get("initial_state") is None:
                o["initial_state"] = o["states"][0]
        oc[kind] = lst
    cfg["outcomes"] = oc
    for key in ("covariates", "stratification_factors", "subgroups"):
        cfg[key] = list(cfg.get(key) or [])
    cfg["covariates"] = [_covariate(i, c) for i, c in enumerate(cfg["covariates"])]
    _roles_in_references(cfg)
    check_estimands(cfg)
    return cfg


def check_estimands(cfg: dict) -> None:
    """Config checks beyond the schema: every intercurrent event an analysis names is one of
    ``estimands.intercurrent_events``, and the text uses known placeholders only.

    Raises
    ------
    ConfigError
        Naming the key, the value and what was expected.
    """
    est = cfg.get("estimands") or {}
    events = est.get("intercurrent_events") or {}
    for name, text in events.items():
        _check_text(text, f"estimands.intercurrent_events.{name}")
    for analysis, entry in (est.get("analyses") or {}).items():
        for key in ("label", "population", "variable", "summary"):
            _check_text(entry.get(key) or "", f"estimands.analyses.{analysis}.{key}")
        for ie in entry.get("intercurrent_events") or {}:
            if ie not in events:
                raise ConfigError(
                    f"config estimands.analyses.{analysis}.intercurrent_events: {ie!r} is not an "
                    f"intercurrent event of estimands.intercurrent_events; expected one of "
                    f"{', '.join(sorted(events)) or '(none declared)'}")


def _check_text(text: str, key: str) -> None:
    for name in _FIELD.findall(text):
        if name not in ESTIMAND_PLACEHOLDERS:
            raise ConfigError(f"config {key}: unknown placeholder {{{name}}} in {text!r}; expected "
                              f"one of {', '.join('{' + p + '}' for p in ESTIMAND_PLACEHOLDERS)}")


def _covariate(i: int, item):
    """A covariate as the library holds it: a column name, or a declaration
    ``{column, type, reference}`` (reference null unless a categorical one names it)."""
    if not isinstance(item, dict):
        return item
    decl = {"column": item["column"], "type": item["type"], "reference": item.get("reference")}
    if decl["type"] == "numeric" and decl["reference"] is not None:
        raise ConfigError(f"config covariates[{i}]: reference {decl['reference']!r} given for "
                          f"numeric covariate {decl['column']!r}; expected type: categorical "
                          "with a reference level, or no reference")
    return decl


def covariate_names(config: dict) -> list[str]:
    """The covariates' column names, in config order, whichever form each is written in
    (a column name or a declaration ``{column, type, reference}``).  The one place that
    reads the two forms, with :func:`covariate_declarations`."""
    return [c["column"] if isinstance(c, dict) else c for c in (config.get("covariates") or [])]


def covariate_declarations(config: dict) -> dict:
    """``{column: {"type": "numeric"|"categorical", "reference": level or None}}`` of the
    covariates declared with a type (plain names are absent: their type is inferred)."""
    out = {}
    for c in config.get("covariates") or []:
        if isinstance(c, dict):
            out[c["column"]] = {"type": c["type"], "reference": c.get("reference")}
    return out


def covariate_declaration(config: dict, column: str) -> dict:
    """``{"type", "reference"}`` declared for ``column``; both None for a column not declared
    (a plain covariate name, a stratification factor, a baseline: its type is inferred)."""
    return covariate_declarations(config).get(column, {"type": None, "reference": None})


def _roles_in_references(cfg: dict) -> None:
    """With a bring-your-own table, a config reference to a column mapped to a role
    (e.g. ``strata: site`` with ``data.columns.practice: site``) is rewritten to
    the role's name, because the imported table carries the column under it."""
    data = cfg.get("data") or {}
    if data.get("source") != "table":
        return
    ren = {src: role for role, src in (data.get("columns") or {}).items() if src and src != role}
    if not ren:
        return
    for key in ("strata", "cluster"):
        if cfg.get(key) in ren:
            cfg[key] = ren[cfg[key]]
    cfg["stratification_factors"] = [ren.get(c, c) for c in cfg["stratification_factors"]]
    cfg["covariates"] = [{**c, "column": ren.get(c["column"], c["column"])} if isinstance(c, dict)
                         else ren.get(c, c) for c in cfg["covariates"]]
    for sg in cfg["subgroups"]:
        sg["column"] = ren.get(sg["column"], sg["column"])


def load(config: dict, source: str = "config") -> dict:
    r"""The SAP as the library reads it: ``config`` validated against the schema, every
    default filled in from the schema (:func:`rtw.core.validation.validate`), then
    :func:`normalise`\ d.  ``source`` names the config file(s) in error messages."""
    from rtw.core.validation import validate
    checked = validate(config, source=source)
    try:
        return normalise(checked)
    except ConfigError as e:
        message = str(e)
        if source != "config" and message.startswith("config "):
            message = f"{source}: {message[len('config '):]}"
        raise ConfigError(message) from None


def config_source(configfiles) -> str:
    """How error messages name the config: ``config <file>[, <file>...]``."""
    return "config " + ", ".join(str(f) for f in configfiles) if configfiles else "config"


def outcome_names(config: dict, kind: str) -> list[str]:
    oc = normalise(config)["outcomes"]
    if kind == "count":
        return [oc["count"]["name"]] if oc["count"] else []
    return [o["name"] for o in oc[kind]]


def tte_outcome(config: dict, name: str) -> dict:
    for o in normalise(config)["outcomes"]["time_to_event"]:
        if o["name"] == name:
            return o
    raise ConfigError(f"no time_to_event outcome named {name!r}")


def analysis_config(config: dict) -> dict:
    """The config every rule after the data step sees (and provenance records).

    :func:`normalise`, then in blinded mode :func:`rtw.data.blinding.blind_config`
    (arms ``A``/``B``) without ``blind_seed``, so no output can name a true arm
    or recompute the permutation.
    """
    cfg = normalise(config)
    if cfg.get("blinded"):
        from rtw.data.blinding import blind_config
        cfg = blind_config(cfg)
        cfg.pop("blind_seed", None)
    return cfg
