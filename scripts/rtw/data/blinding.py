"""Blinded mode: relabel the arms "A", "B", ... by a seeded permutation.

With ``blinded: true`` in config the lead applies these functions at the
data layer, so every output downstream (tables, figures, report, estimates)
sees only the blinded labels and a statistician can review the analysis
before unblinding.

Design
------
* :func:`blind_labels` maps the true labels (config ``trial.arms`` values, in
  config order) to letters by a permutation drawn with
  ``numpy.random.default_rng(config["blind_seed"])``.  The mapping is
  reproducible from the seed and never written to any output.
* :func:`blind_config` returns a config in which ``trial.arms`` is
  ``{<first role>: "A", <second role>: "B", ...}`` (letters in alphabetical
  order, so "A" is always the *reference* arm of the blinded analysis, and
  the permutation decides which true arm that is), ``trial.arm_names`` is
  ``{"A": "Arm A", ...}`` and ``trial.arm_colours`` gives colours by
  position, so neither a name, a colour nor the direction of a contrast
  reveals the allocation.  Any other string (or mapping key) anywhere in the
  config equal to a true label or display name is replaced too.
* :func:`blind_frame` relabels columns of a data frame and refuses values
  it does not know (a silent pass-through would leak a label).
* :func:`find_label_leaks` scans output files for true labels, for tests.

Keep ``blind_seed`` with someone unblinded (e.g. pass it with
``--config blind_seed=...``) if the reviewing statistician must not be able
to recompute the permutation.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

LETTERS = "ABCDEFGH"


def _true_roles(config: Mapping) -> dict:
    arms = config["trial"]["arms"]
    if isinstance(arms, Mapping):
        return {str(k): str(v) for k, v in arms.items()}
    return {f"arm{i + 1}": str(v) for i, v in enumerate(arms)}


def blind_labels(config: Mapping) -> dict:
    """Map each true arm label to a blinded letter by a seeded permutation.

    Parameters
    ----------
    config : mapping
        Needs ``trial.arms`` and ``blind_seed``.

    Returns
    -------
    dict
        ``{true_label: "A" | "B" | ...}``.

    Raises
    ------
    KeyError
        If ``blind_seed`` is missing.
    """
    labels = list(_true_roles(config).values())
    if len(labels) > len(LETTERS):
        raise ValueError(f"at most {len(LETTERS)} arms can be blinded")
    if len(set(labels)) != len(labels):
        raise ValueError(f"duplicate arm labels in trial.arms: {labels}")
    seed = config["blind_seed"]
    rng = np.random.default_rng(int(seed))
    perm = rng.permutation(len(labels))
    return {lab: LETTERS[int(p)] for lab, p in zip(labels, perm)}


def blinded_name(letter: str) -> str:
    """Display name of a blinded arm: ``"Arm A"``."""
    return f"Arm {letter}"


def _replace_everywhere(obj, table: Mapping):
    if isinstance(obj, Mapping):
        return {_replace_everywhere(k, table): _replace_everywhere(v, table)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace_everywhere(v, table) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_replace_everywhere(v, table) for v in obj)
    if isinstance(obj, str) and obj in table:
        return table[obj]
    return obj


def blind_config(config: Mapping) -> dict:
    """A copy of ``config`` whose arms are the blinded letters.

    Parameters
    ----------
    config : mapping

    Returns
    -------
    dict
        ``trial.arms = {role_1: "A", role_2: "B"}`` (roles in config order),
        ``trial.arm_names = {"A": "Arm A", ...}``, ``trial.arm_colours`` by
        position, ``blinded: True``; other occurrences of true labels or
        names replaced.
    """
    mapping = blind_labels(config)
    roles = _true_roles(config)
    trial = config["trial"]
    true_names = trial["arm_names"]
    true_colours = trial["arm_colours"]
    letters = sorted(mapping.values())
    table = dict(mapping)
    for lab, name in true_names.items():
        if lab in mapping:
            table[str(name)] = blinded_name(mapping[lab])
    out = _replace_everywhere(copy.deepcopy(dict(config)), table)
    new_trial = dict(out["trial"])
    role_keys = list(roles.keys())
    if isinstance(trial["arms"], Mapping):
        new_trial["arms"] = {role: letter for role, letter in zip(role_keys, letters)}
    else:
        new_trial["arms"] = list(letters)
    new_trial["arm_names"] = {letter: blinded_name(letter) for letter in letters}
    colour_list = [true_colours[lab] for lab in roles.values() if lab in true_colours]
    if colour_list:
        new_trial["arm_colours"] = {letter: colour_list[i % len(colour_list)]
                                    for i, letter in enumerate(letters)}
    out["trial"] = new_trial
    out["blinded"] = True
    return out


def blind_frame(df: pd.DataFrame, mapping: Mapping, columns: Sequence[str] = ("arm",)) -> pd.DataFrame:
    """Relabel arm columns of ``df`` with ``mapping`` (from :func:`blind_labels`).

    Parameters
    ----------
    df : pandas.DataFrame
    mapping : mapping
        ``{true_label: letter}``.
    columns : sequence of str
        Columns holding arm labels; absent columns are skipped.

    Returns
    -------
    pandas.DataFrame
        A copy; missing values stay missing.

    Raises
    ------
    ValueError
        If a column holds a non-missing value that is not a true label (e.g.
        "all" rows must be handled by the caller, or listed in ``mapping``).
    """
    out = df.copy()
    for col in columns:
        if col not in out.columns:
            continue
        s = out[col]
        known = s.isna() | s.astype(str).isin(list(mapping.keys()))
        if not known.all():
            bad = sorted(set(s[~known].astype(str)))
            raise ValueError(f"column '{col}' has values that are not arm labels: {bad}")
        out[col] = s.map(lambda v: v if pd.isna(v) else mapping[str(v)])
    return out


def blind_text(text: str, config: Mapping, mapping: Mapping | None = None) -> str:
    """Replace true labels and display names in free text (e.g. estimate terms).

    Longer strings are replaced first so that "usual_care" inside
    "arm=usual_care;t=42" is caught.
    """
    mapping = mapping or blind_labels(config)
    names = config["trial"]["arm_names"]
    table = dict(mapping)
    for lab, name in names.items():
        if lab in mapping:
            table[str(name)] = blinded_name(mapping[lab])
    for old in sorted(table, key=len, reverse=True):
        text = text.replace(old, table[old])
    return text


def true_label_strings(config: Mapping) -> list:
    """Every string that would reveal the allocation: labels and display names."""
    roles = _true_roles(config)
    names = config["trial"]["arm_names"]
    out = list(roles.values()) + [str(names[lab]) for lab in roles.values() if lab in names]
    return sorted(set(out), key=str)


def find_label_leaks(paths: Iterable, config: Mapping, *, case_sensitive: bool = False) -> list:
    """Files (and the strings) that contain a true arm label or name.

    Parameters
    ----------
    paths : iterable of path-like
        Files, or folders searched recursively.
    config : mapping
        The *unblinded* config.
    case_sensitive : bool

    Returns
    -------
    list of str
        ``"<path>: <label>"`` for every leak; empty when none.  Binary files
        (PNG, PDF, docx, parquet) are searched as bytes (PDF text streams are
        compressed, so also search the rendered text where it matters).
    """
    needles = true_label_strings(config)
    variants = set()
    for n in needles:
        variants.update({n, n.replace("_", " "), n.replace(" ", "_")})
    if not case_sensitive:
        variants = {v.lower() for v in variants}
    files = []
    for p in paths:
        p = Path(p)
        files.extend(sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p])
    leaks = []
    for f in files:
        data = f.read_bytes()
        hay = data if case_sensitive else data.lower()
        for v in sorted(variants):
            needle = v.encode("utf-8")
            if not case_sensitive:
                needle = needle.lower()
            if needle in hay:
                leaks.append(f"{f}: {v}")
    return leaks
