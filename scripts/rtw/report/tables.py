"""Presentation tables (Table 1, primary, secondary, survival) built from the data and estimates.

Every table is a ``pandas.DataFrame`` of *strings* (already formatted with
:mod:`rtw.report.fmt`), first column the row label.  A row label starting with two
spaces is a sub-row (a level of a categorical variable, a statistic of a
continuous one); a row whose other cells are all empty is a section header.
:func:`rtw.report.writers.write_table` (re-exported here as :func:`write_table`)
writes a table as CSV, Markdown, HTML, Word ``.docx`` and LaTeX (booktabs),
byte-identical on reruns.

Config
------
``table1.variables`` lists the variables of Table 1, in order::

    table1:
      variables:
        - {column: age, label: "Age, years", type: continuous}
        - {column: sex, label: Sex, type: categorical,
           levels: {female: Female, male: Male}}     # optional: order and labels
        - {column: days_off_before, label: "Days off before randomisation",
           type: continuous, summary: median_iqr, dp: 0}
    tables:
      digits: {ratio: 2, mean: 1, percent: 1}         # see rtw.report.fmt.DEFAULT_DIGITS

Secondary outcomes (config ``outcomes.continuous``) may carry ``dp`` (means)
and ``estimate_dp`` (differences); by default scores within [-1, 1] (EQ-5D)
get 2 decimals.

``type`` is ``continuous`` (``summary``: ``both`` (default), ``mean_sd`` or
``median_iqr``; ``dp`` default ``tables.digits.mean``) or ``categorical``
(n (%) of participants with data; ``levels`` a list or ``{value: label}``
mapping fixing order; default the sorted values).  Missing counts are shown
for every variable with any missing value (``tables.show_missing: always``
shows them for every variable).  Without ``table1.variables``, the trial's stratification
factors, covariates and outcome baselines (:func:`default_table1_variables`).

Estimate conventions read here (``estimates.csv``, see ``rtw.core.estimates``)
-------------------------------------------------------------------------
* contrasts: ``term == "arm"``; per-arm values: ``term == "arm=<label>"``
  (``;t=<day>`` for proportions at a day); the CI at each config
  ``conf_levels`` is the row with that ``conf_level``.
* primary table: analyses in :data:`PRIMARY_ANALYSES` (override with
  ``tables.primary_analyses``: list of ``{analysis, label, population?}``),
  outcome = config ``outcomes.count.name``.
* survival table: ``km_median``, ``km_proportion`` (the proportion returned,
  1 - S(t)), ``rmst``, ``rmst_difference``, ``logrank``,
  ``logrank_stratified``, ``cox_unadjusted``, ``cox_adjusted``,
  ``fine_gray``, ``gray_test``, and ``cox_zph`` (the proportional-hazards test of each
  Cox model, note ``model=<analysis>; chi-square, df=<k>; transform=<t>``).

Journal conventions (issue 11)
------------------------------
* Ratios and differences in separate columns (``IRR``/``HR``/``Ratio`` and
  ``Difference[, unit]``); differences by the precision rule by magnitude
  (:func:`rtw.report.fmt.diff_dp`), risk differences in percentage points.
* Footnote symbols (:class:`Footnotes`; ``*``, dagger, double dagger, section, pilcrow,
  double bar, then doubled) on row labels, their texts in ``attrs["footnotes"]``: the
  adjustment set of each contrast with Table 1's labels (:func:`adjustment_set`,
  :func:`variable_label`) and its SE type (:func:`se_type`: robust / cluster-robust, from
  the note), count-part IRRs of two-part models, the proportional-hazards test.
* An analysis the estimates mark ``not estimable: <reason>`` (NaN estimate) shows that text
  in its estimate cell.
* secondary table: ``ancova``, ``lmm``, ``logistic``, ``gcomp_rd``, ``gcomp_rr`` rows with
  ``term`` ``arm`` (or ``risk_difference``/``risk_ratio``/``odds_ratio``).
"""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from rtw.core.config import covariate_declaration, covariate_names
from rtw.core.timescale import singular, time_digits
from rtw.core.validation import with_defaults
from rtw.report import fmt
from rtw.report.style import arm_names as _arm_names, arm_order as _arm_order
# The writers live in rtw.report.writers; re-exported here for callers of tables.write_table.
from rtw.report.writers import (  # noqa: F401
    FIXED_DOCX_TIME, FIXED_ZIP_DATE, INDENT, WRITERS, normalise_zip, tex_escape, to_docx_bytes,
    to_html, to_latex, to_markdown, write_table,
)


SECONDARY_ANALYSES = [
    ("ancova", "ANCOVA", "Mean difference"),
    ("lmm", "Linear mixed model", "Mean difference"),
    ("logistic", "Logistic regression", "Odds ratio"),
    ("gcomp_rd", "Standardisation (g-computation)", "Risk difference"),
    ("gcomp_rr", "Standardisation (g-computation)", "Risk ratio"),
]
RATIO_MEASURES = {"Odds ratio", "Risk ratio"}
RATIO_TERMS = {"odds_ratio", "risk_ratio"}


# ------------------------------------------------------------ helpers --
def _levels(config: Mapping) -> list:
    return [float(x) for x in config["conf_levels"]]


def primary_analyses(config: Mapping) -> list[tuple]:
    """(analysis, label, population) of the primary table's ratio rows: config
    ``tables.primary_analyses``."""
    return [(d["analysis"], d["label"], d["population"]) for d in config["tables"]["primary_analyses"]]


def primary_differences(config: Mapping) -> list[tuple]:
    """(analysis, label, population) of the primary table's difference rows: config
    ``tables.primary_differences``."""
    return [(d["analysis"], d["label"], d["population"])
            for d in config["tables"]["primary_differences"]]


def _close(a, b) -> bool:
    try:
        return abs(float(a) - float(b)) < 1e-9
    except (TypeError, ValueError):
        return False


def _pick(est: pd.DataFrame, *, level=None, **eq) -> pd.DataFrame:
    """Rows of ``est`` matching columns exactly (and a conf_level, if given)."""
    m = pd.Series(True, index=est.index)
    for k, v in eq.items():
        m &= est[k].astype(str) == str(v)
    out = est[m]
    if level is not None and len(out):
        lv = out[out["conf_level"].map(lambda x: _close(x, level))]
        out = lv if len(lv) else out.iloc[0:0]
    return out


def _first(df: pd.DataFrame):
    return None if df is None or not len(df) else df.iloc[0]


def _arm_header(config: Mapping, df: pd.DataFrame | None = None, arm_col: str = "arm") -> dict:
    names = _arm_names(config)
    out = {}
    for a in _arm_order(config):
        if df is not None:
            n = int((df[arm_col].astype(str) == a).sum())
            out[a] = f"{names[a]} (n={fmt.fmt_int(n)})"
        else:
            out[a] = names[a]
    return out


def _empty_row(columns) -> dict:
    return {c: "" for c in columns}


def _prettify(value) -> str:
    s = str(value).replace("_", " ")
    return s[:1].upper() + s[1:]


def _ci_cols(config: Mapping) -> list:
    return [f"{fmt.fmt_conf_level(lv)} CI" for lv in _levels(config)]


# ------------------------------------------------------------ Table 1 --
def baseline_spec(config: Mapping, df: pd.DataFrame | None = None) -> list:
    """The Table 1 variable list: config ``table1.variables``, else (null) the trial's
    stratification factors, covariates and outcome baselines (:func:`default_table1_variables`,
    which needs ``df``).

    Returns
    -------
    list of dict
        Each with every key of a ``table1.variables`` entry (schema defaults filled in).
    """
    spec = config["table1"]["variables"]
    if spec is None:
        if df is None:
            raise ValueError("table1.variables is null: the default list needs the analysis dataset")
        spec = default_table1_variables(config, df)
    return with_defaults("table1.variables", spec)


def default_table1_variables(config: Mapping, df: pd.DataFrame) -> list[dict]:
    """Table 1 rows when config ``table1.variables`` is null: the stratification factors,
    covariates and outcome baselines (count, continuous, binary) present in ``df``, in that
    order; numeric columns continuous (scores within [-1, 1] with 2 decimals), others
    categorical; labelled by the subgroup label of the same column, else the column's name."""
    outcomes = config["outcomes"]
    cols = list(config["stratification_factors"]) + covariate_names(config)
    cols += [o["baseline"] for o in ([outcomes["count"]] if outcomes["count"] else [])
             + list(outcomes["continuous"]) + list(outcomes["binary"])]
    labels = {sg["column"]: sg["label"] if "label" in sg else sg["name"] for sg in config["subgroups"]}
    spec = []
    for c in dict.fromkeys(cols):
        if not c or c not in df.columns:
            continue
        label = labels.get(c, c)
        if covariate_declaration(config, c)["type"] == "categorical":
            spec.append({"column": c, "label": label, "type": "categorical"})
        elif df[c].dtype.kind in "fiu":   # scores within [-1, 1] (EQ-5D) with 2 decimals
            small = df[c].notna().any() and float(df[c].abs().max()) <= 1
            spec.append({"column": c, "label": label, "type": "continuous",
                         **({"dp": 2} if small else {})})
        else:
            spec.append({"column": c, "label": label, "type": "categorical"})
    return spec


def _continuous_rows(label, groups, spec, dp, show_missing) -> list:
    summary = spec["summary"]
    rows = [(label, {g: "" for g in groups})]
    if summary in ("both", "mean_sd"):
        rows.append((INDENT + "Mean (SD)", {g: fmt.fmt_mean_sd(s.mean(), s.std(ddof=1) if s.count() > 1 else None, dp)
                                            if s.count() else "" for g, s in groups.items()}))
    if summary in ("both", "median_iqr"):
        rows.append((INDENT + "Median (IQR)", {
            g: fmt.fmt_median_iqr(s.median(), s.quantile(0.25), s.quantile(0.75), dp)
            if s.count() else "" for g, s in groups.items()}))
    if summary not in ("both", "mean_sd", "median_iqr"):
        raise ValueError(f"table1.variables: unknown summary {summary!r} for {spec['column']}")
    n_missing = {g: int(s.isna().sum()) for g, s in groups.items()}
    if show_missing == "always" or any(n_missing.values()):
        rows.append((INDENT + "Missing, n", {g: fmt.fmt_int(v) for g, v in n_missing.items()}))
    return rows


def _categorical_rows(label, groups, spec, pct_dp, show_missing) -> list:
    levels = spec["levels"]
    allvals = pd.concat(list(groups.values()))
    present = allvals.dropna().astype(str)
    if levels is None:
        order = sorted(present.unique())
        labels = {v: _prettify(v) for v in order}
    elif isinstance(levels, Mapping):
        order = [str(k) for k in levels]
        labels = {str(k): str(v) for k, v in levels.items()}
    else:
        order = [str(v) for v in levels]
        labels = {v: _prettify(v) for v in order}
    extra = sorted(set(present.unique()) - set(order))
    if extra:
        raise ValueError(f"table1.variables: column {spec['column']!r} has values {extra} "
                         f"not in its levels {order}")
    rows = [(label + ", n (%)", {g: "" for g in groups})]
    for v in order:
        cells = {}
        for g, s in groups.items():
            ok = s.dropna().astype(str)
            cells[g] = fmt.fmt_n_pct(int((ok == v).sum()), len(ok), pct_dp)
        rows.append((INDENT + labels[v], cells))
    n_missing = {g: int(s.isna().sum()) for g, s in groups.items()}
    if show_missing == "always" or any(n_missing.values()):
        rows.append((INDENT + "Missing, n", {g: fmt.fmt_int(v) for g, v in n_missing.items()}))
    return rows


def table1(df: pd.DataFrame, config: Mapping, *, arm_col: str = "arm",
           overall: bool = True) -> pd.DataFrame:
    """Baseline characteristics by arm and overall (CONSORT Table 1, no p-values).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per randomised participant (the ITT population).
    config : mapping
        ``trial.arms``/``arm_names`` (columns and their order),
        ``table1.variables`` (variables), ``tables.digits``,
        ``tables.show_missing`` (``if_any`` default, or ``always``).
    arm_col : str
    overall : bool
        Add an "Overall" column.

    Returns
    -------
    pandas.DataFrame
        Strings; first column ``"Characteristic"``, then one column per arm
        headed ``"<name> (n=<n>)"``, then ``"Overall (n=<n>)"``.  Continuous
        variables: mean (SD) and median (IQR) sub-rows; categorical: n (%)
        of participants with data; "Missing, n" sub-rows where any value is
        missing.  Percentages use the non-missing count as denominator.
    """
    dg = fmt.digits(config)
    show_missing = config["tables"]["show_missing"]
    arms = _arm_order(config)
    unknown = sorted(set(df[arm_col].dropna().astype(str)) - set(arms))
    if unknown:
        raise ValueError(f"table1: arm labels {unknown} not in config trial.arms {arms}")
    heads = _arm_header(config, df, arm_col)
    cols = ["Characteristic"] + [heads[a] for a in arms]
    if overall:
        cols.append(f"Overall (n={fmt.fmt_int(len(df))})")
    records = []
    for spec in baseline_spec(config, df):
        col = spec["column"]
        if col not in df.columns:
            raise KeyError(f"table1.variables: column {col!r} not in the analysis dataset")
        label = spec["label"] or col
        groups = {a: df.loc[df[arm_col].astype(str) == a, col] for a in arms}
        if overall:
            groups["__overall__"] = df[col]
        kind = spec["type"]
        if kind == "continuous":
            s_groups = {g: pd.to_numeric(s, errors="raise").astype(float) for g, s in groups.items()}
            rows = _continuous_rows(label, s_groups, spec, int(dg["mean"] if spec["dp"] is None else spec["dp"]), show_missing)
        elif kind == "categorical":
            rows = _categorical_rows(label, groups, spec, int(dg["percent"]), show_missing)
        else:
            raise ValueError(f"table1.variables: type of {col!r} must be continuous or categorical, "
                             f"not {kind!r}")
        for lab, cells in rows:
            rec = {"Characteristic": lab}
            for a in arms:
                rec[heads[a]] = cells[a]
            if overall:
                rec[cols[-1]] = cells["__overall__"]
            records.append(rec)
    return pd.DataFrame(records, columns=cols)


# ------------------------------------------------------- primary table --
class Footnotes:
    """The footnotes of one table, each marked by a symbol (:data:`MARKS`, in order of
    first use; the same text gets the same symbol).  :meth:`mark` returns the symbol to
    append to a row label; :meth:`attach` stores ``[(symbol, text), ...]`` in the table's
    ``attrs["footnotes"]``, which :func:`rtw.report.writers.write_table` prints under the
    table in every format (CSV excepted, which holds the table only)."""

    MARKS = ("*", "\u2020", "\u2021", "\u00a7", "\u00b6", "\u2016")

    def __init__(self):
        self.items: dict[str, str] = {}

    def mark(self, text: str) -> str:
        if not text:
            return ""
        if text not in self.items:
            k = len(self.items)
            base = self.MARKS[k % len(self.MARKS)]
            self.items[text] = base * (k // len(self.MARKS) + 1)
        return self.items[text]

    def attach(self, table: pd.DataFrame) -> pd.DataFrame:
        table.attrs["footnotes"] = [(m, t) for t, m in self.items.items()]
        return table


def variable_label(config: Mapping, column: str) -> str:
    """Display label of an analysis column (a covariate, a stratification factor, the
    cluster): its Table 1 label (config ``table1.variables``), its subgroup label, else the
    column name itself."""
    for spec in list(config["table1"]["variables"] or []):
        if spec["column"] == column and spec["label"]:
            return str(spec["label"])
    for sg in config["subgroups"]:
        if sg["column"] == column and "label" in sg:   # an optional key without a default
            return str(sg["label"])
    return column


def _words_list(items) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


#: Analyses of rtw.models.runner: each adjusts for the stratification factors, covariates and
#: the outcome's baseline (config), whether or not its rows list the covariate terms.
REGRESSION_ADJUSTED = {"nb_primary", "nb_per_protocol", "nb_fixed_practice", "zinb", "hurdle_nb",
                       "poisson_robust", "mi_nb", "cace", "ancova", "lmm", "logistic", "gcomp_rd",
                       "gcomp_rr"}
#: Analyses without covariates (contrasts of the arms alone).
UNADJUSTED = {"cox_unadjusted", "fine_gray", "rmst_difference", "km_median", "logrank",
              "gray_test", "mcf_difference", "state_time_difference"}
_NOT_TERMS = ("arm", "theta", "global", "(Intercept)", "Intercept", "log(theta)", "alpha")


def adjustment_set(est: pd.DataFrame, config: Mapping, *, analysis: str, outcome: str,
                   baseline: str | None = None) -> list[str] | None:
    """The columns an analysis is adjusted for, read from the estimates: the ``adjusted for
    ...`` of its note, else the covariate terms of its model (``condition_group[other]`` ->
    ``condition_group``), else for the regression analyses (:data:`REGRESSION_ADJUSTED`) the
    config's stratification factors, covariates and ``baseline``; ``[]`` when unadjusted,
    ``None`` when the estimates do not say."""
    import re

    rows = _pick(est, analysis=analysis, outcome=outcome)
    if not len(rows):
        return None
    cluster = config["cluster"]
    cols = []
    for t in rows["term"].astype(str):
        if t in _NOT_TERMS or "=" in t or ":" in t or ";" in t:
            continue
        c = t.split("[", 1)[0]
        if c and c != cluster and c not in cols:
            cols.append(c)
    for note in rows["note"].dropna().astype(str):
        for m in re.finditer(r"(?<!not )adjusted for (?:baseline )?([^;()]+)", note):
            cols += [c.strip() for c in m.group(1).split(",") if c.strip() not in cols + [""]]
    if cols:
        return cols
    if analysis in REGRESSION_ADJUSTED:
        cols = list(config["stratification_factors"]) + covariate_names(config)
        if baseline:
            cols.append(baseline)
        return list(dict.fromkeys(cols))
    if analysis in UNADJUSTED:
        return []
    return None


def se_type(note: str, config: Mapping) -> str:
    """The kind of standard error a note names, in words: ``"cluster-robust SE (clusters:
    practice)"``, ``"robust (sandwich) SE"``, or ``""`` (model-based or not said)."""
    import re
    note = str(note or "")
    m = (re.search(r"cluster\s*=\s*~?\s*([A-Za-z_][\w.]*)", note)
         or re.search(r"(?:clustered|cluster-robust SE) by ([A-Za-z_][\w.]*)", note))
    if m:
        return f"cluster-robust SE (clusters: {variable_label(config, m.group(1))})"
    if re.search(r"robust SE by participant", note):
        return "robust SE clustered by participant"
    if re.search(r"robust|sandwich|HC[0-3]|jackknife", note):
        return "robust (sandwich) SE"
    return ""


def model_footnote(est: pd.DataFrame, config: Mapping, *, analysis: str, outcome: str,
                   baseline: str | None = None, note: str = "",
                   baseline_words: str | None = None) -> str:
    """``"Adjusted for Health condition group and Days off work before randomisation;
    cluster-robust SE (clusters: practice)."`` -- the adjustment set (labels) and SE type
    of one contrast row, from the estimates; ``""`` when they say neither.  With
    ``baseline_words`` the outcome's ``baseline`` column is named by these words, last (so
    that outcomes adjusted alike for their own baselines share one footnote)."""
    adj = adjustment_set(est, config, analysis=analysis, outcome=outcome, baseline=baseline)
    parts = []
    if adj:
        words = [variable_label(config, c) for c in adj
                 if not (baseline_words and c == baseline and c not in covariate_names(config)
                         and c not in config["stratification_factors"])]
        if len(words) < len(adj):
            words.append(baseline_words)
        parts.append("Adjusted for " + _words_list(words))
        if "practice as fixed effect" in note or "fixed effect" in note:
            parts[-1] += " (and the cluster as a fixed effect)"
    elif adj == []:
        parts.append("Unadjusted")
    se = se_type(note, config)
    if se:
        parts.append(se)
    return "; ".join(parts) + ("." if parts else "")


COUNT_PART_NOTE = ("IRR of the count part of a two-part model (zero-inflated or hurdle): the "
                   "ratio of means among participants outside the zero part, not a ratio of "
                   "overall means like the other IRRs.")


def not_estimable_reason(note) -> str | None:
    """``"not estimable: <reason>"`` (up to the first ``;``) of a note saying so, else None."""
    note = "" if fmt.is_missing(note) else str(note)
    i = note.find("not estimable")
    if i < 0:
        return None
    return note[i:].split(";", 1)[0].strip()


def _contrast_cells(est: pd.DataFrame, config: Mapping, dp: int | None, *, analysis, outcome,
                    term="arm", population=None, scale: float = 1.0) -> dict | None:
    """Cells of one contrast row: ``Estimate``, one CI per level, ``p``, ``n``, and the row's
    ``note``.  ``dp`` None: the precision rule by magnitude (:func:`rtw.report.fmt.diff_dp`)
    over the estimate and every CI limit.  A row the estimates mark not estimable shows
    ``"not estimable: <reason>"`` as its Estimate.  ``scale`` multiplies every number
    (100: a risk difference in percentage points)."""
    sel = {"analysis": analysis, "outcome": outcome, "term": term}
    if population is not None:
        sel["population"] = population
    rows = _pick(est, **sel)
    if not len(rows):
        return None
    levels = _levels(config)
    first = rows.iloc[0]
    note = "; ".join(dict.fromkeys(rows["note"].dropna().astype(str))) if "note" in rows else ""

    def num(v):
        return None if fmt.is_missing(v) else float(v) * scale
    if dp is None:
        vals = [num(first["estimate"])] + [num(v) for v in rows["conf_low"]] + \
            [num(v) for v in rows["conf_high"]]
        dp = fmt.diff_dp(*vals)
    reason = not_estimable_reason(note) if fmt.is_missing(first["estimate"]) else None
    cells = {"Estimate": reason or fmt.fmt_num(num(first["estimate"]), dp), "note": note}
    for lv, col in zip(levels, _ci_cols(config)):
        r = _first(rows[rows["conf_level"].map(lambda x: _close(x, lv))])
        cells[col] = "" if r is None else fmt.fmt_ci(num(r["conf_low"]), num(r["conf_high"]), dp)
    cells["p"] = fmt.fmt_p(first["p_value"])
    cells["n"] = fmt.fmt_int(first["n"]) if "n" in rows else ""
    return cells


def _unit(outcome: Mapping):
    """The outcome's ``unit`` (the key issue 11 item 2 gives every outcome), None before the
    schema has it."""
    return outcome["unit"] if "unit" in outcome else None


def _difference_heading(unit) -> str:
    return f"Difference, {unit}" if unit else "Difference"


def _row_label(label: str, marks: str) -> str:
    return f"{label}{marks}"


def primary_table(estimates: pd.DataFrame, df: pd.DataFrame, config: Mapping, *,
                  arm_col: str = "arm", population_col: str | None = None) -> pd.DataFrame:
    """Primary outcome table: the count outcome by arm, IRRs with every CI level, and
    differences (e.g. the CACE) in their own column.

    Parameters
    ----------
    estimates : pandas.DataFrame
        The tidy estimates (``estimates.csv``).
    df : pandas.DataFrame
        Analysis dataset (ITT), for n, mean (SD) and median (IQR) by arm of
        config ``outcomes.count.value``.
    config : mapping
    arm_col : str
    population_col : str, optional
        A boolean column restricting ``df`` (e.g. ``pop_itt``).

    Returns
    -------
    pandas.DataFrame
        Columns ``Outcome / analysis``, one per arm, ``IRR``, then (when a difference row
        exists) ``Difference, <unit>`` (config ``outcomes.count.unit`` when set), one
        ``<level> CI`` per config level, ``p``, ``n``.  First a block of descriptive rows
        by arm, then one row per ratio analysis found (``tables.primary_analyses``), then
        the difference rows (``tables.primary_differences``; precision by magnitude,
        :func:`rtw.report.fmt.diff_dp`).  Analyses absent from ``estimates`` are left out;
        one the estimates mark not estimable shows ``"not estimable: <reason>"`` in its
        estimate column.  Row labels carry footnote symbols (:class:`Footnotes`: adjustment
        set and SE type of each analysis, count-part IRRs of two-part models), listed in
        ``attrs["footnotes"]``.
    """
    dg = fmt.digits(config)
    count = config["outcomes"]["count"]
    value, outcome = count["value"], count["name"]
    if population_col:
        df = df[df[population_col].astype(bool)]
    arms = _arm_order(config)
    heads = _arm_header(config)
    ci_cols = _ci_cols(config)
    diff_col = _difference_heading(_unit(count))
    notes = Footnotes()
    ratio_rows = [(a, lab, pop) for a, lab, pop in primary_analyses(config)
                  if len(_pick(estimates, analysis=a, outcome=outcome, term="arm"))]
    diff_rows = [(a, lab, pop) for a, lab, pop in primary_differences(config)
                 if len(_pick(estimates, analysis=a, outcome=outcome, term="arm"))]
    est_cols = ["IRR"] + ([diff_col] if diff_rows else [])
    cols = ["Outcome / analysis"] + [heads[a] for a in arms] + est_cols + ci_cols + ["p", "n"]
    recs = []

    def add(label, arm_cells=None, contrast=None, column="IRR"):
        r = _empty_row(cols)
        r["Outcome / analysis"] = label
        for a, v in (arm_cells or {}).items():
            r[heads[a]] = v
        if contrast:
            r[column] = contrast["Estimate"]
            for c in ci_cols + ["p", "n"]:
                r[c] = contrast.get(c, "")
        recs.append(r)

    groups = {a: pd.to_numeric(df.loc[df[arm_col].astype(str) == a, value], errors="coerce")
              for a in arms}
    add(count["label"])
    add(INDENT + "Randomised, n", {a: fmt.fmt_int(len(s)) for a, s in groups.items()})
    add(INDENT + "With outcome, n", {a: fmt.fmt_int(s.count()) for a, s in groups.items()})
    add(INDENT + "Mean (SD)", {a: fmt.fmt_mean_sd(s.mean(), s.std(ddof=1) if s.count() > 1 else None,
                                                  dg["mean"]) for a, s in groups.items()})
    add(INDENT + "Median (IQR)", {a: fmt.fmt_median_iqr(s.median(), s.quantile(0.25),
                                                        s.quantile(0.75), dg["mean"])
                                  if s.count() else "" for a, s in groups.items()})
    sections = [("Incidence rate ratio, intervention vs control", ratio_rows, dg["ratio"], "IRR"),
                ("Difference in means, intervention vs control", diff_rows, dg["estimate"],
                 diff_col)]
    for heading, rows, dp, column in sections:
        if rows:
            add(heading)
        for analysis, label, population in rows:
            cells = _contrast_cells(estimates, config, dp, analysis=analysis,
                                    outcome=outcome, population=population)
            marks = notes.mark(model_footnote(estimates, config, analysis=analysis,
                                              outcome=outcome, baseline=count["baseline"],
                                              note=cells["note"]))
            if "count-part" in cells["note"]:
                marks += notes.mark(COUNT_PART_NOTE)
            add(INDENT + _row_label(label, marks), contrast=cells, column=column)
    return notes.attach(pd.DataFrame(recs, columns=cols))


# ----------------------------------------------------- secondary table --
def _outcome_dp(o: Mapping, values: pd.Series | None, dg) -> int:
    """Digits for an outcome's means: config ``dp``, else 2 for scores within [-1, 1]."""
    if o["dp"] is not None:
        return int(o["dp"])
    if values is not None and values.notna().any() and float(values.abs().max()) <= 1:
        return max(2, int(dg["mean"]))
    return int(dg["mean"])


def _descriptive_cells(df: pd.DataFrame, value: str, arms, arm_col, binary: bool, dg,
                       dp: int | None = None) -> dict:
    out = {}
    dp = dg["mean"] if dp is None else dp
    for a in arms:
        s = pd.to_numeric(df.loc[df[arm_col].astype(str) == a, value], errors="coerce").dropna()
        if not len(s):
            out[a] = ""
        elif binary:
            out[a] = f"{fmt.fmt_n_pct(int((s == 1).sum()), len(s), dg['percent'])}; n={len(s)}"
        else:
            out[a] = (f"{fmt.fmt_mean_sd(s.mean(), s.std(ddof=1) if len(s) > 1 else None, dp)}"
                      f"; n={len(s)}")
    return out


def _descriptive_from_estimates(est: pd.DataFrame, outcome: str, arms, binary: bool, dg) -> dict:
    out = {}
    for a in arms:
        def stat(name):
            r = _first(_pick(est, analysis="descriptive", outcome=outcome, term=f"arm={a};stat={name}"))
            return None if r is None else r["estimate"]
        mean, sd, n = stat("mean"), stat("sd"), stat("n")
        if binary and stat("events") is not None and n is not None:
            out[a] = f"{fmt.fmt_n_pct(stat('events'), n, dg['percent'])}; n={fmt.fmt_int(n)}"
        elif mean is not None:
            txt = fmt.fmt_mean_sd(mean, sd, dg["mean"])
            out[a] = txt + (f"; n={fmt.fmt_int(n)}" if n is not None else "")
        else:
            out[a] = ""
    return out


def secondary_table(estimates: pd.DataFrame, config: Mapping, df: pd.DataFrame | None = None,
                    *, arm_col: str = "arm") -> pd.DataFrame:
    """Secondary outcomes: by-arm summaries and adjusted contrasts.

    Parameters
    ----------
    estimates : pandas.DataFrame
    config : mapping
        ``outcomes.continuous`` and ``outcomes.binary`` (order, labels, ``unit`` when set).
    df : pandas.DataFrame, optional
        Analysis dataset for by-arm mean (SD) / n (%); otherwise the
        ``descriptive`` rows of ``estimates`` (terms
        ``arm=<label>;stat=mean|sd|n|events``) are used.
    arm_col : str

    Returns
    -------
    pandas.DataFrame
        Columns ``Outcome``, one per arm (``mean (SD); n=`` or ``n (%); n=``),
        ``Analysis``, ``Ratio`` (odds and risk ratios), ``Difference`` (mean differences on
        the outcome's scale, risk differences in percentage points; precision by magnitude,
        :func:`rtw.report.fmt.diff_dp`, unless ``estimate_dp`` or
        ``tables.digits.estimate`` fix it), one ``<level> CI`` per level, ``p``.  One
        header row per outcome, then one row per analysis found; a not-estimable analysis
        shows ``"not estimable: <reason>"``.  Analysis labels carry footnote symbols
        (adjustment set and SE type), listed in ``attrs["footnotes"]``.
    """
    dg = fmt.digits(config)
    arms = _arm_order(config)
    heads = _arm_header(config)
    ci_cols = _ci_cols(config)
    cols = ["Outcome"] + [heads[a] for a in arms] + ["Analysis", "Ratio", "Difference"] \
        + ci_cols + ["p"]
    outs = [(o, False) for o in config["outcomes"]["continuous"]]
    outs += [(o, True) for o in config["outcomes"]["binary"]]
    notes = Footnotes()
    recs = []
    for o, binary in outs:
        name = o["name"]
        if df is not None and o["value"] in df.columns:
            vals = pd.to_numeric(df[o["value"]], errors="coerce")
            desc = _descriptive_cells(df, o["value"], arms, arm_col, binary, dg,
                                      _outcome_dp(o, vals, dg))
        else:
            desc = _descriptive_from_estimates(estimates, name, arms, binary, dg)
        head = _empty_row(cols)
        head["Outcome"] = o["label"]
        for a in arms:
            head[heads[a]] = desc.get(a, "")
        recs.append(head)
        for analysis, alabel, measure in SECONDARY_ANALYSES:
            rows = _pick(estimates, analysis=analysis, outcome=name)
            terms = [t for t in dict.fromkeys(rows["term"].astype(str))
                     if t == "arm" or t in ("risk_difference", "risk_ratio", "odds_ratio")]
            for term in terms:
                is_ratio = (measure in RATIO_MEASURES) or term in RATIO_TERMS
                m = measure if term == "arm" and measure else _prettify(term)
                risk_diff = not is_ratio and (binary or "risk" in m.lower())
                if is_ratio:
                    dp = dg["ratio"]
                elif o["estimate_dp"] is not None:
                    dp = int(o["estimate_dp"])
                else:
                    dp = dg["estimate"]
                cells = _contrast_cells(estimates, config, dp, analysis=analysis, outcome=name,
                                        term=term, scale=100.0 if risk_diff else 1.0)
                unit = "percentage points" if risk_diff else _unit(o)
                what = m.lower() if m else ""
                if unit and not is_ratio:
                    what += f", {unit}"
                marks = notes.mark(model_footnote(estimates, config, analysis=analysis,
                                                  outcome=name, baseline=o["baseline"],
                                                  note=cells["note"],
                                                  baseline_words="the outcome's baseline value"))
                r = _empty_row(cols)
                r["Analysis"] = f"{alabel}: {what}".rstrip(": ") + marks
                r["Ratio" if is_ratio else "Difference"] = cells["Estimate"]
                for c in ci_cols + ["p"]:
                    r[c] = cells[c]
                recs.append(r)
    return notes.attach(pd.DataFrame(recs, columns=cols))


# ------------------------------------------------------ survival table --
def _arm_est_ci(est, analysis, outcome, term, level, dp, *, as_pct=False, time=False):
    r = _first(_pick(est, level=level, analysis=analysis, outcome=outcome, term=term))
    if r is None:
        r = _first(_pick(est, analysis=analysis, outcome=outcome, term=term))
        if r is None:
            return ""
        low = high = None
    else:
        low, high = r["conf_low"], r["conf_high"]
    if time:
        return fmt.fmt_median_time(r["estimate"], low, high, dp)
    if as_pct:
        e, lo, hi = (None if fmt.is_missing(x) else 100.0 * float(x) for x in (r["estimate"], low, high))
        return fmt.fmt_est_ci(e, lo, hi, dp)
    return fmt.fmt_est_ci(r["estimate"], low, high, dp)


def _proportion_rows(estimates, outcome: Mapping, arms, level, dg) -> list[tuple]:
    """(label, cells) of the cumulative proportion with the event at each time the estimates
    hold (``km_proportion``, ``t=<time>``), in time order; a time that could not be estimated
    (beyond the last follow-up) keeps its row, with the reason in its cells."""
    rows = _pick(estimates, analysis="km_proportion", outcome=outcome["name"])
    times = sorted({str(t).split(";t=", 1)[1] for t in rows["term"].astype(str) if ";t=" in t},
                   key=float)
    what = outcome["event_label"] or "Event"
    out = []
    for t in times:
        cells = {a: _arm_est_ci(estimates, "km_proportion", outcome["name"], f"arm={a};t={t}",
                                level, dg["proportion"], as_pct=True) for a in arms}
        if not any(cells.values()):
            notes = rows.loc[rows["term"].astype(str).str.endswith(f";t={t}"), "note"].astype(str)
            reason = next((n for n in notes if n.startswith("not estimable")), "not estimable")
            cells = {a: reason for a in arms}
        out.append((f"{what} by {singular(outcome['time_unit'])} {t}", cells))
    return out


_ZPH_TRANSFORMS = {"km": "Kaplan\u2013Meier-transformed time", "identity": "time",
                   "rank": "ranked time", "log": "log time"}


def _chisq(statistic, note) -> str:
    """``"\u03c7\u00b2(1) = 4.69"`` from a statistic and a note holding ``df=<k>``."""
    import re
    if fmt.is_missing(statistic):
        return ""
    m = re.search(r"df\s*=\s*(\d+)", str(note or ""))
    df = f"({m.group(1)})" if m else ""
    return f"\u03c7\u00b2{df} = {fmt.fmt_num(statistic, 2)}"


def _zph_rows(est: pd.DataFrame, outcome: str, model: str) -> list[tuple]:
    """(label, statistic text, p, note) of the proportional-hazards test of one Cox model
    (``cox_zph`` rows whose note names ``model=<model>``): the arm term, then the global test
    when the model has more terms than the arm."""
    rows = _pick(est, analysis="cox_zph", outcome=outcome)
    import re
    pat = re.compile(rf"(?:^|model=){re.escape(model)}(?:;|$)")
    if rows.empty:  # no cox_zph rows (e.g. the model was not estimable)
        return []
    rows = rows[rows["note"].astype(str).map(lambda n: bool(pat.search(n)))]
    if rows.empty:
        return []
    out = []
    arm = _first(rows[rows["term"].astype(str) == "arm"])
    glob = _first(rows[rows["term"].astype(str) == "global"])
    n_terms = int((~rows["term"].astype(str).isin(["global"])).sum())
    if arm is not None:
        label = "Proportional hazards, arm" + (" (= global)" if n_terms == 1 else "")
        out.append((label, _chisq(arm["statistic"], arm["note"]), fmt.fmt_p(arm["p_value"]),
                    str(arm["note"])))
    if glob is not None and (arm is None or n_terms > 1):
        out.append(("Proportional hazards, global", _chisq(glob["statistic"], glob["note"]),
                    fmt.fmt_p(glob["p_value"]), str(glob["note"])))
    return out


def _zph_footnote(note: str) -> str:
    import re
    m = re.search(r"transform=(\w+)", note)
    against = _ZPH_TRANSFORMS.get(m.group(1), m.group(1)) if m else "time"
    return ("Proportional-hazards test: scaled Schoenfeld residuals against "
            f"{against} (Grambsch\u2013Therneau, as R cox.zph); a small p suggests the hazard "
            "ratio changes over follow-up.")


def _survival_test_rows(add, notes: "Footnotes", estimates: pd.DataFrame, config: Mapping,
                        name: str) -> None:
    """The test and hazard-ratio rows of one outcome of :func:`survival_table` (through its
    ``add``): log-rank, stratified log-rank and Gray's tests with their chi-square, then each
    Cox / Fine\u2013Gray model with its footnote and, under a Cox model, its
    proportional-hazards tests."""
    dg = fmt.digits(config)
    for analysis, label in [("logrank", "Log-rank test"),
                            ("logrank_stratified", "Stratified log-rank test"),
                            ("gray_test", "Gray's test (competing risks)")]:
        r = _first(_pick(estimates, analysis=analysis, outcome=name, term="arm"))
        if r is not None:
            add(INDENT + label, contrast={"p": fmt.fmt_p(r["p_value"])}, column=None,
                statistic=_chisq(r["statistic"], r["note"]))
    for analysis, label in [("cox_unadjusted", "Cox, unadjusted"),
                            ("cox_adjusted", "Cox, adjusted"),
                            ("fine_gray", "Fine\u2013Gray, subdistribution HR")]:
        c = _contrast_cells(estimates, config, dg["ratio"], analysis=analysis, outcome=name)
        if not c:
            continue
        marks = notes.mark(model_footnote(estimates, config, analysis=analysis,
                                          outcome=name, note=c["note"]))
        add(INDENT + label + marks, contrast=c)
        for zlabel, stat, p, znote in _zph_rows(estimates, name, analysis):
            add(INDENT * 2 + zlabel + notes.mark(_zph_footnote(znote)),
                contrast={"p": p}, column=None, statistic=stat)


def survival_table(estimates: pd.DataFrame, config: Mapping) -> pd.DataFrame:
    """Survival summary by outcome: events, medians, proportions with the event, RMST, tests
    and hazard ratios.

    Parameters
    ----------
    estimates : pandas.DataFrame
    config : mapping
        ``outcomes.time_to_event`` (order, labels, tau, time_unit), ``conf_levels``.

    Returns
    -------
    pandas.DataFrame
        Columns ``Measure``, one per arm (estimate with CI at the first config level),
        ``HR`` (Cox and Fine\u2013Gray hazard ratios), ``Difference, <unit>`` (RMST
        differences; ``Difference`` when outcomes differ in unit; precision by magnitude,
        :func:`rtw.report.fmt.diff_dp`), ``Test statistic`` (``\u03c7\u00b2(df) = x`` of the
        log-rank, Gray and proportional-hazards tests), one ``<level> CI`` per level,
        ``p``.  Under each Cox model its proportional-hazards test (``cox_zph``: the arm
        term and the global test).  Medians not reached print as ``"not reached"``;
        proportions are percentages with the event; a not-estimable contrast shows
        ``"not estimable: <reason>"``.  Footnote symbols (adjustment set and SE type, the
        PH test) are listed in ``attrs["footnotes"]``.
    """
    dg = fmt.digits(config)
    arms = _arm_order(config)
    heads = _arm_header(config)
    ci_cols = _ci_cols(config)
    lv0 = _levels(config)[0]
    lv0_txt = fmt.fmt_conf_level(lv0)
    tte = config["outcomes"]["time_to_event"]
    units = {o["time_unit"] for o in tte}
    diff_col = _difference_heading(units.pop() if len(units) == 1 else None)
    cols = ["Measure"] + [heads[a] for a in arms] + ["HR", diff_col, "Test statistic"] \
        + ci_cols + ["p"]
    notes = Footnotes()
    recs = []

    def add(label, arm_cells=None, contrast=None, column="HR", statistic=""):
        r = _empty_row(cols)
        r["Measure"] = label
        for a, v in (arm_cells or {}).items():
            r[heads[a]] = v
        if contrast:
            if column:
                r[column] = contrast.get("Estimate", "")
            for c in ci_cols + ["p"]:
                r[c] = contrast.get(c, "")
        r["Test statistic"] = statistic
        recs.append(r)

    for o in tte:
        name = o["name"]
        if not len(_pick(estimates, outcome=name)):
            continue
        add(o["label"])
        ev = {}
        for a in arms:
            r = _first(_pick(estimates, analysis="km_median", outcome=name, term=f"arm={a}"))
            ev[a] = ("" if r is None or fmt.is_missing(r["events"]) or fmt.is_missing(r["n"])
                     else f"{fmt.fmt_int(r['events'])}/{fmt.fmt_int(r['n'])}")
        if any(ev.values()):
            add(INDENT + "Events/participants", ev)
        unit = o["time_unit"]
        if len(_pick(estimates, analysis="km_median", outcome=name)):
            digits = time_digits(unit, dg["time"])
            add(INDENT + f"Median time, {unit} ({lv0_txt} CI)",
                {a: _arm_est_ci(estimates, "km_median", name, f"arm={a}", lv0, digits, time=True)
                 for a in arms})
        for label, cells in _proportion_rows(estimates, o, arms, lv0, dg):
            add(INDENT + f"{label}, % ({lv0_txt} CI)", cells)
        tau = o["tau"]
        tau_txt = f" to {singular(unit)} {float(tau):g}" if tau is not None else ""
        rm = {a: _arm_est_ci(estimates, "rmst", name, f"arm={a}", lv0, dg["mean"]) for a in arms}
        rmd = _contrast_cells(estimates, config, dg["estimate"], analysis="rmst_difference",
                              outcome=name)
        if any(rm.values()) or rmd:
            marks = notes.mark(model_footnote(estimates, config, analysis="rmst_difference",
                                              outcome=name, note=rmd["note"])) if rmd else ""
            add(INDENT + f"Restricted mean time{tau_txt}, {unit}{marks}", rm, rmd,
                column=diff_col)
        _survival_test_rows(add, notes, estimates, config, name)
    out = pd.DataFrame(recs, columns=cols)
    empty = [c for c in ("HR", diff_col, "Test statistic") if not (out[c] != "").any()]
    return notes.attach(out.drop(columns=empty))
