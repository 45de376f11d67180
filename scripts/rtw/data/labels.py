"""Labels in the data: value labels of Stata/SPSS/SAS files, and variants of a label.

**Value labels.**  :func:`rtw.core.io.read_table` reads a labelled column as its codes and
keeps the label map (``{code: label}``).  Config may name a value of such a column by its
code or by its label:

* the **arm** column holds what ``trial.arms`` names: a code whose label is a configured arm
  label (and that is not itself one) is read as that label (:func:`arm_values`), so
  ``trial.arms: {control: usual_care, ...}`` and ``{control: 0, ...}`` both work on a
  column coded 0/1 and labelled usual_care/vocational_advice, and outputs name the arm as
  config does;
* an **event code** (``outcomes.time_to_event[].event_value``, ``competing_value``) given as a
  label is resolved to its code (:func:`resolve_event_values`): the event column stays
  numeric (0 = censored), as the time-to-event analyses need.  This is done where the plan is
  checked (before any job, so every rule sees the code) and again by the import (its log);
* another column whose every value has a label (a categorical variable: sex, job type) is
  read as its labels, except the columns whose numbers the analyses use (outcomes, their
  baselines, exposure), which keep their codes (:func:`apply_category_labels`).

Every use of a label is logged (``rtw.labels``).

**Variants.**  A label that differs from an expected one only in case or surrounding blanks
(``"usual_care "``, ``"Usual_Care"``) is matched to it and logged as a data query by the
caller (:func:`match_labels`); never silently changed, never silently refused.
"""
from __future__ import annotations

import copy
import logging

import numpy as np
import pandas as pd

from rtw.core.config import arm_label

log = logging.getLogger("rtw.labels")

VARIANT_RULE = "label differs from {what} only in case or surrounding blanks"


def _key(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def match_labels(values, allowed, canon=arm_label) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match raw values to the ``allowed`` labels.

    Parameters
    ----------
    values : array-like
        The column as read (text not stripped; numbers allowed).
    allowed : list of str
        The labels expected (as ``canon`` gives them).
    canon : callable
        A value as the pipeline holds it (default :func:`rtw.core.config.arm_label`: numbers
        by value, text stripped).

    Returns
    -------
    matched : ndarray of object
        The allowed label of each value (``None`` for missing or unknown values).
    variant : ndarray of bool
        Values matched only after ignoring case or surrounding blanks (to be queried).
    unknown : ndarray of bool
        Present values that match no allowed label.
    """
    values = pd.Series(values, dtype=object)
    codes, uniq = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    allowed = [str(a) for a in allowed]
    by_key: dict = {}
    for a in allowed:
        by_key.setdefault(_key(a), []).append(a)
    m_u = np.full(len(uniq), None, dtype=object)
    v_u = np.zeros(len(uniq), bool)
    for i, v in enumerate(uniq):
        if isinstance(v, bool):
            continue
        c = canon(v)
        blank = isinstance(v, str) and v != v.strip()
        if c in allowed:
            m_u[i], v_u[i] = c, blank
        elif len(by_key.get(_key(c), [])) == 1:
            m_u[i], v_u[i] = by_key[_key(c)][0], True
    seen = codes >= 0
    matched = np.full(len(codes), None, dtype=object)
    matched[seen] = m_u[codes[seen]]
    variant = np.zeros(len(codes), bool)
    variant[seen] = v_u[codes[seen]]
    unknown = seen & pd.isna(pd.Series(matched, dtype=object)).to_numpy()
    return matched, variant, unknown


def canonical_spellings(values) -> dict:
    """``{raw value: spelling used}`` for the text values of a category column without a
    list of expected labels: values equal but for case and surrounding blanks are one label,
    spelled as its most frequent form (ties: a form without blanks, then in lower case, then
    the first in sort order); only variants are returned."""
    s = pd.Series(values, dtype=object)
    text = s[s.map(lambda v: isinstance(v, str))]
    if text.empty:
        return {}
    counts = text.value_counts()
    groups: dict = {}
    for raw, n in counts.items():
        groups.setdefault(_key(raw), []).append((raw, n))
    out = {}
    for members in groups.values():
        if len(members) < 2 and members[0][0] == members[0][0].strip():
            continue
        best = sorted(members, key=lambda m: (-m[1], m[0].strip() != m[0],
                                              m[0].strip() != m[0].strip().lower(), m[0]))
        best = best[0][0].strip()
        out.update({raw: best for raw, _ in members if raw != best})
    return out


def arm_values(values: pd.Series, labels: dict | None, arms: dict, file: str,
               column: str) -> pd.Series:
    """The arm column as config names it: a code whose value label is a configured arm label
    (and that is not itself one) becomes that label (logged)."""
    if not labels:
        return values
    configured = {str(a) for a in arms.values()}
    use = {code: lab for code, lab in labels.items()
           if lab.strip() in configured and arm_label(code) not in configured}
    if not use:
        return values
    for code, lab in use.items():
        log.info("%s: column %r: code %s read as arm %r (its value label)", file, column,
                 code, lab.strip())
    by_code = {arm_label(c): lab.strip() for c, lab in use.items()}
    return values.map(lambda v: by_code.get(arm_label(v), v) if _present(v) else v)


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and np.isnan(v))


def resolve_event_values(config: dict, value_labels: dict, file: str) -> dict:
    """The config with each ``event_value``/``competing_value`` that is a value label of its
    event column (and not a code of it) replaced by the label's code (logged)."""
    cfg = copy.deepcopy(config)
    for i, o in enumerate(cfg["outcomes"]["time_to_event"]):
        labels = value_labels.get(o["event"]) or {}
        codes = {arm_label(c) for c in labels}
        for key in ("event_value", "competing_value"):
            v = o[key]
            if v is None or isinstance(v, bool) or arm_label(v) in codes:
                continue
            hits = [c for c, lab in labels.items() if lab.strip() == str(v).strip()]
            if len(hits) == 1:
                o[key] = hits[0]
                log.info("%s: outcomes.time_to_event[%d].%s: %r is the value label of code %s "
                         "in column %r; matched as %s", file, i, key, v, hits[0], o["event"],
                         hits[0])
    return cfg


def label_list(labels: dict) -> str:
    """``0 = censored, 1 = returned``: a label map for a message."""
    return ", ".join(f"{c} = {lab}" for c, lab in labels.items())


def apply_category_labels(df: pd.DataFrame, value_labels: dict, keep, file: str) -> pd.DataFrame:
    """Columns whose every present value has a value label are read as the labels, except
    the columns in ``keep`` (logged)."""
    out = df.copy()
    for col, labels in value_labels.items():
        if col not in out.columns or col in keep or not labels:
            continue
        by_code = {arm_label(c): lab for c, lab in labels.items()}
        present = out[col].map(_present).to_numpy(dtype=bool)
        codes = out[col][present].map(arm_label)
        if not codes.isin(list(by_code)).all():
            log.info("%s: column %r keeps its codes (not every value has a label)", file, col)
            continue
        out[col] = out[col].map(lambda v: by_code[arm_label(v)] if _present(v) else None)
        log.info("%s: column %r read as its value labels (%s)", file, col, label_list(labels))
    out.attrs = dict(df.attrs)
    return out
