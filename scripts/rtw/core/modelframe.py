"""Design matrices for the regression modules, built the way R's ``model.matrix`` does.

Nothing trial-specific lives here: the arm labels, covariates, stratification
factors and the practice column all come from the config.

Conventions (those of R ``factor()`` + ``contr.treatment``):

* the arm enters as one 0/1 column named ``arm`` (1 = intervention,
  ``config['trial']['arms']['intervention']``; the control arm is the reference);
* a categorical column (object, category or bool dtype, every
  ``stratification_factors`` column even when coded as numbers, and a covariate
  declared ``type: categorical``) becomes treatment dummies named
  ``column[level]`` with the *first sorted level* as reference (as R's
  ``factor()`` sorts levels), or the declared ``reference`` (R ``relevel``);
* numeric columns, and covariates declared ``type: numeric``, enter as they are;
* rows with a missing value in any model variable are dropped (complete case,
  as R's default ``na.action = na.omit``) and the number kept is reported.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from rtw.core.config import arm_label, covariate_declaration, covariate_names
from rtw.core.io import InputError

log = logging.getLogger(__name__)

INTERCEPT = "(Intercept)"
PRACTICE = "practice"   # the role of config data.columns.practice: the practice column's name here
PARTICIPANT = "participant_id"   # the role of config data.columns.participant_id


class NotEstimable(ValueError):
    """A model that cannot be fitted to these data (too few rows or events, a constant arm,
    separation...); the message is the reason, written as ``not estimable: <reason>`` in the
    estimates' ``note`` with a NaN estimate."""


#: fewer complete rows than this in an arm: no model comparing the arms is fitted.
MIN_ROWS_PER_ARM = 2


class TooFewParticipants(InputError):
    """An arm has fewer participants than ``min_per_arm.participants`` and
    ``min_per_arm.action`` is ``stop``: the analyses stop with one line."""


def min_per_arm_reason(df: pd.DataFrame, config: dict, column: str = "arm") -> str:
    """Why ``df`` is below ``min_per_arm.participants`` in an arm ("" when it is not)."""
    n = int(config["min_per_arm"]["participants"])
    if column not in df.columns:
        return ""
    arm = df[column].astype("string")
    if PARTICIPANT in df.columns:     # long tables (one row per timepoint): participants
        counts = df.assign(_a=arm).groupby("_a")[PARTICIPANT].nunique()
    else:
        counts = arm.value_counts()
    low = [(a, int(counts.get(a, 0))) for a in arm_labels(config) if counts.get(a, 0) < n]
    if not low:
        return ""
    return ("; ".join(f"arm {a} has {m} participant{'s' if m != 1 else ''}" for a, m in low)
            + f", fewer than min_per_arm.participants = {n}")


def check_min_per_arm(df: pd.DataFrame, config: dict, column: str = "arm") -> str:
    """The ``min_per_arm`` check of a whole analysis table: raises
    :class:`TooFewParticipants` (one line) when an arm is below
    ``min_per_arm.participants`` and the action is ``stop``; returns the reason when it
    is ``descriptive`` ("" when above)."""
    reason = min_per_arm_reason(df, config, column)
    if reason and config["min_per_arm"]["action"] == "stop":
        raise TooFewParticipants(f"{reason}: no comparative analysis is run "
                                 "(min_per_arm.action: stop; set it to descriptive for "
                                 "descriptive outputs only)", column=column)
    if reason:
        log.error("descriptive only: %s (min_per_arm.action: descriptive)", reason)
    return reason


def arm_labels(config: dict) -> tuple[str, str]:
    """(control, intervention) labels of ``df['arm']`` from config ``trial.arms``."""
    arms = config["trial"]["arms"]
    return str(arms["control"]), str(arms["intervention"])


def arm_indicator(df: pd.DataFrame, config: dict, column: str = "arm") -> pd.Series:
    """0/1 intervention indicator; raises if a label is not one of the two configured arms."""
    control, intervention = arm_labels(config)
    if column not in df.columns:
        raise ValueError(f"analysis table has no '{column}' column")
    a = df[column].astype("string")
    bad = a.notna() & ~a.isin([control, intervention])
    if bad.any():
        raise ValueError(
            f"arm label(s) {sorted(a[bad].unique().tolist())} not in config trial.arms "
            f"({control!r}, {intervention!r})")
    out = pd.Series(np.where(a == intervention, 1.0, 0.0), index=df.index)
    out[a.isna()] = np.nan
    return out


def is_categorical(s: pd.Series) -> bool:
    return (s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(s) or pd.api.types.is_string_dtype(s))


def levels(s: pd.Series) -> list:
    """Sorted levels of a categorical column (R ``factor()`` order)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [lv for lv in s.cat.categories if (s == lv).any()]
    vals = s.dropna().unique().tolist()
    try:
        return sorted(vals)
    except TypeError:
        return sorted(vals, key=str)


def reference_first(lv: list, reference, column: str = "") -> list:
    """``lv`` with the level ``reference`` first (R ``relevel``); ``None``: ``lv`` unchanged.

    The reference is matched as the data hold it, numbers by value (``2``, ``"2"`` and
    ``2.0`` are one level: :func:`rtw.core.config.arm_label`)."""
    if reference is None:
        return list(lv)
    want = arm_label(reference)
    hits = [x for x in lv if arm_label(x) == want]
    if not hits:
        raise ValueError(f"covariate {column!r}: reference level {reference!r} is not a level "
                         f"of the column (levels: {', '.join(map(str, lv))})")
    return [hits[0]] + [x for x in lv if x != hits[0]]


def dummies(s: pd.Series, name: str | None = None, lv: Sequence | None = None) -> pd.DataFrame:
    """Treatment dummies ``name[level]`` for all but the first level."""
    name = name or s.name
    lv = list(lv) if lv is not None else levels(s)
    cols = {}
    for level in lv[1:]:
        col = (s == level).astype(float)
        col[s.isna()] = np.nan
        cols[f"{name}[{level}]"] = col
    return pd.DataFrame(cols, index=s.index)


def adjustment_columns(config: dict, df: pd.DataFrame | None = None,
                       baseline: str | None = None,
                       include_covariates: bool = True) -> list[str]:
    """Adjustment set: stratification factors, then ``covariates``, then a baseline.

    Duplicates are removed (``days_off_before`` is both the count baseline and a
    covariate in the WAVE config).  Columns absent from ``df`` are dropped with
    a warning so that a bring-your-own table without them still runs.
    """
    cols: list[str] = []
    for c in list(config["stratification_factors"]) + (
            covariate_names(config) if include_covariates else []) + (
            [baseline] if baseline else []):
        if c and c not in cols and c != "arm":
            cols.append(c)
    if df is not None:
        missing = [c for c in cols if c not in df.columns]
        if missing:
            log.warning("adjustment column(s) %s not in the analysis table: left out", missing)
            cols = [c for c in cols if c in df.columns]
    return cols


@dataclass
class Design:
    """A complete-case design: response(s), X (with names), clusters, index kept."""
    X: pd.DataFrame
    y: pd.Series | None
    index: pd.Index
    cluster: pd.Series | None = None
    dropped: int = 0
    notes: list[str] = field(default_factory=list)
    #: the practice fixed effect as a factor (categorical, one value per kept row) when
    #: ``build_design(practice_codes_from=...)`` kept its dummies out of ``X``; its
    #: treatment dummies, named ``fixed_name[level]``, follow X's columns.
    fixed: pd.Series | None = None
    fixed_name: str | None = None

    @property
    def n(self) -> int:
        return len(self.index)


def build_design(df: pd.DataFrame, config: dict, *, outcome: str | None,
                 adjust: Sequence[str] = (), arm: bool = True, intercept: bool = True,
                 practice: str | None = None, cluster: str | None = None,
                 extra: pd.DataFrame | None = None,
                 arm_column: str = "arm", treatment: pd.Series | None = None,
                 practice_codes_from: int | None = None) -> Design:
    """Complete-case design matrix in R ``model.matrix`` form.

    Parameters
    ----------
    outcome : column name of the response (``None`` for none).
    adjust : adjustment columns (categorical -> dummies, numeric as is).
    arm : include the 0/1 ``arm`` column (intervention vs control from config).
    practice : a column to add as fixed-effect dummies (``practice_effect: fixed``).
    cluster : a column whose values are returned as clusters (rows missing it dropped).
    extra : further ready-made columns (e.g. interactions), aligned on ``df.index``.
    treatment : replaces the arm column by this 0/1 series named ``arm`` (e.g.
        engagement for IV); default the arm indicator.
    practice_codes_from : with ``practice``, when the practice has at least this many
        dummies (levels present in the complete cases, less the reference) and the design
        with them is of full rank, the dummies are not built: ``X`` holds the other
        columns and ``Design.fixed`` the practice as a factor (levels and names as the
        dummies would have them), for a fit that solves the dummies by their block
        structure (``rtw.models.counts.fit_nb(fixed=...)``).  Otherwise (fewer levels,
        or a rank-deficient design: R's NA) the dummies are built as without it.
    """
    needed = [c for c in adjust]
    if outcome is not None:
        needed.append(outcome)
    if practice:
        needed.append(practice)
    if cluster:
        needed.append(cluster)
    missing_cols = [c for c in needed if c not in df.columns]
    if missing_cols:
        raise ValueError(f"column(s) {missing_cols} not in the analysis table")
    codes = (practice_codes_from is not None and bool(practice) and practice not in adjust
             and extra is None)
    X = _design_columns(df, config, adjust, arm, intercept, None if codes else practice, extra,
                        arm_column, treatment)
    ok = X.notna().all(axis=1)
    for c in needed:
        ok &= df[c].notna()
    y = None
    if outcome is not None:
        y = pd.to_numeric(df[outcome], errors="coerce").astype(float)
        ok &= y.notna()
    if arm and treatment is None:
        reason = min_per_arm_reason(df, config, arm_column)
        if reason:
            raise NotEstimable(f"descriptive only: {reason}")
    keep = df.index[ok.to_numpy()]
    if codes:
        fac = _practice_factor(df, practice, keep, practice_codes_from)
        Xk = X.loc[keep]
        if fac is not None:
            fac, absent = fac
            Xd, notes = _drop_absent_and_dependent(Xk, extra_absent=absent)
            if _full_rank_with_factor(Xd.to_numpy(float), fac.cat.codes.to_numpy()):
                _check_minimum(Xd, config, arm and treatment is None)
                return Design(X=Xd, y=None if y is None else y.loc[keep], index=keep,
                              cluster=None if not cluster else df.loc[keep, cluster],
                              dropped=int(len(df) - len(keep)), notes=notes, fixed=fac,
                              fixed_name=practice)
        # few practices or R would give NA: the dummies as without practice_codes_from
        X = _design_columns(df, config, adjust, arm, intercept, practice, extra, arm_column,
                            treatment)
    X, notes = _drop_absent_and_dependent(X.loc[keep])
    _check_minimum(X, config, arm and treatment is None)
    return Design(X=X, y=None if y is None else y.loc[keep], index=keep,
                  cluster=None if not cluster else df.loc[keep, cluster],
                  dropped=int(len(df) - len(keep)), notes=notes)


def _design_columns(df, config, adjust, arm, intercept, practice, extra, arm_column,
                    treatment) -> pd.DataFrame:
    """All design columns on every row of ``df``, in order: intercept, arm, adjustment
    columns (categorical and stratification factors as dummies), practice dummies, extra."""
    parts = []
    if intercept:
        parts.append(pd.DataFrame({INTERCEPT: np.ones(len(df))}, index=df.index))
    if arm:
        a = treatment if treatment is not None else arm_indicator(df, config, arm_column)
        parts.append(pd.DataFrame({"arm": a.astype(float)}, index=df.index))
    strat = set(config["stratification_factors"])
    for c in adjust:
        s = df[c]
        declared = covariate_declaration(config, c)
        kind = declared["type"]
        if kind != "numeric" and (is_categorical(s) or c in strat or kind == "categorical"):
            # stratification factors are always factors; a declared reference comes first
            lv = reference_first(levels(s), declared["reference"], c)
            parts.append(dummies(s.astype(object).where(s.notna(), None), c, lv))
        else:
            parts.append(pd.DataFrame({c: pd.to_numeric(s, errors="coerce").astype(float)},
                                      index=df.index))
    if practice and practice not in adjust:
        parts.append(dummies(df[practice].astype(object).where(df[practice].notna(), None),
                             practice))
    if extra is not None:
        parts.append(extra)
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=df.index)


def _practice_factor(df, practice, keep, min_dummies):
    """(the practice of the kept rows as a categorical with the levels present, in R
    ``factor()`` order; names of the absent levels' dummies) -- the levels and the note
    of :func:`dummies` + :func:`_drop_absent_and_dependent` -- or None when the dummies
    should be built (fewer than ``min_dummies``, or the reference level absent)."""
    s = df[practice].astype(object).where(df[practice].notna(), None)
    lv = levels(s)
    cat = pd.Categorical(s.loc[keep], categories=lv)
    counts = np.bincount(cat.codes, minlength=len(lv))
    if len(lv) == 0 or counts[0] == 0 or int(np.sum(counts[1:] > 0)) < min_dummies:
        return None
    absent = [f"{practice}[{lv[i]}]" for i in range(1, len(lv)) if counts[i] == 0]
    fac = pd.Series(cat, index=keep, name=practice).cat.remove_unused_categories()
    return fac, absent


def _full_rank_with_factor(Xd: np.ndarray, codes: np.ndarray, tol: float = 1e-9) -> bool:
    """Whether [Xd, treatment dummies of ``codes`` (code 0 the reference)] has full column
    rank, without building the dummies: the dummies' Gram matrix is diagonal (the level
    counts), so the design has full rank iff the Schur complement Xd'Xd - B D^-1 B' is
    positive definite (B = Xd' dummies); tested on its unit-diagonal scaling."""
    G = int(codes.max()) + 1 if codes.size else 0
    A = Xd.T @ Xd
    B = np.array([np.bincount(codes, weights=Xd[:, j], minlength=G)[1:]
                  for j in range(Xd.shape[1])]).reshape(Xd.shape[1], max(G - 1, 0))
    d = np.bincount(codes, minlength=G)[1:].astype(float)
    if np.any(d <= 0):
        return False
    S = A - (B / d) @ B.T
    sc = np.sqrt(np.diag(A))
    if np.any(sc <= 0):
        return False
    ev = np.linalg.eigvalsh(S / np.outer(sc, sc)) if S.size else np.ones(1)
    return bool(ev.min() > tol)


def _check_minimum(X: pd.DataFrame, config: dict, by_arm: bool) -> None:
    """Raise :class:`NotEstimable` when the complete-case design cannot carry a model:
    fewer than :data:`MIN_ROWS_PER_ARM` rows in an arm (``by_arm``), or no more rows than
    parameters."""
    n, k = X.shape
    if by_arm and "arm" in X.columns:
        n1 = int((X["arm"] == 1).sum())
        for label, m in zip(arm_labels(config), (n - n1, n1)):
            if m < MIN_ROWS_PER_ARM:
                raise NotEstimable(f"{m} participant(s) with complete data in arm {label} "
                                   f"(a model needs at least {MIN_ROWS_PER_ARM} per arm)")
    if n and n <= k:
        raise NotEstimable(f"{n} complete observations for {k} regression parameters "
                           "(a model needs more observations than parameters)")


def _drop_absent_and_dependent(X: pd.DataFrame, extra_absent: Sequence[str] = ()
                               ) -> tuple[pd.DataFrame, list[str]]:
    """The complete-case design without dummy columns that are all zero (absent levels),
    without covariates that are constant in the complete cases, and without linearly
    dependent columns (R gives NA), and notes saying which were dropped.
    ``extra_absent``: names of absent-level dummies not in ``X`` (a factor kept as codes),
    added to the note after X's.

    Raises ValueError when the arm column itself is dependent (not estimable).
    """
    # drop dummy columns that are all zero in the complete cases (absent levels)
    const = [c for c in X.columns if c != INTERCEPT and "[" in c and (X[c] == 0).all()]
    notes = []
    if const:
        X = X.drop(columns=const)
    if const or extra_absent:
        notes.append("levels absent after dropping missing rows: "
                     + ", ".join(list(const) + list(extra_absent)))
    # a covariate constant in the complete cases carries no information (R: NA): left out
    flat = [c for c in X.columns if c not in (INTERCEPT, "arm") and "[" not in c
            and len(X) > 0 and X[c].nunique(dropna=False) == 1]
    if flat and INTERCEPT in X.columns:
        X = X.drop(columns=flat)
        notes.append("constant in the analysed rows, left out (R would give NA): "
                     + ", ".join(flat))
        log.warning("design: covariate(s) %s constant in the analysed rows: left out", flat)
    if len(X) > X.shape[1] > 0:
        dep = check_rank(X)
        if "arm" in dep:
            raise NotEstimable("the arm effect is not estimable in this design "
                             "(arm is collinear with the adjustment terms or constant)")
        if dep:
            X = X.drop(columns=dep)
            notes.append("dropped as linearly dependent (R would give NA): " + ", ".join(dep))
            log.warning("design: dropped linearly dependent column(s) %s", dep)
    return X, notes


def check_rank(X: pd.DataFrame) -> list[str]:
    """Names of columns that are linearly dependent on earlier ones (R gives NA)."""
    A = X.to_numpy(dtype=float)
    if np.linalg.matrix_rank(A) == A.shape[1]:
        return []
    dep = []
    kept = []
    for j in range(A.shape[1]):
        cand = kept + [j]
        if np.linalg.matrix_rank(A[:, cand]) < len(cand):
            dep.append(X.columns[j])
        else:
            kept.append(j)
    return dep


def cluster_sandwich(scores, bread, cluster, *, cadjust: bool = True,
                     hc1: tuple[int, int] | None = None) -> np.ndarray:
    """Cluster-robust covariance as R's ``sandwich::vcovCL``: ``adj * B M B``.

    Parameters
    ----------
    scores : (n, k) array
        Per-observation estimating-function contributions (``estfun``).
    bread : (k, k) array
        ``B`` in the model's own scaling (e.g. ``(X'WX)^-1``), so that
        ``B (sum_g s_g s_g') B`` is the covariance.
    cluster : array-like of length n
        Cluster labels (compared as text).
    cadjust : bool
        Multiply by G / (G - 1), vcovCL's default.
    hc1 : (n, k), optional
        Also multiply by (n - 1) / (n - k): vcovCL's ``type = "HC1"`` (its
        default for ``lm`` objects only).
    """
    scores = np.asarray(scores, float)
    codes, uniq = pd.factorize(pd.Series(np.asarray(cluster)).astype(str))
    G = len(uniq)
    S = np.zeros((G, scores.shape[1]))
    np.add.at(S, codes, scores)
    adj = G / (G - 1.0) if (cadjust and G > 1) else 1.0
    if hc1 is not None:
        n, k = hc1
        adj *= (n - 1.0) / (n - k)
    B = np.asarray(bread, float)
    return adj * B @ (S.T @ S) @ B


def practice_handling(df: pd.DataFrame, config: dict) -> tuple[str | None, str | None, str]:
    """(fixed-effect column, cluster column, note) from ``practice_effect`` / ``cluster``.

    ``practice_effect: fixed`` gives the practice column as a fixed effect,
    ``cluster_robust`` as the cluster of robust SEs (``sandwich::vcovCL``; coxph
    ``cluster =``), ``none`` neither; a practice column absent from ``df`` (or all
    missing) gives neither, with the reason in the note and a warning.
    """
    how = str(config["practice_effect"])
    col = config["cluster"] or PRACTICE
    if how == "none":
        return None, None, ""
    if col not in df.columns or df[col].isna().all():
        msg = f"practice_effect={how} but no '{col}' column: practice not accounted for"
        log.warning(msg)
        return None, None, msg
    if how == "fixed":
        return col, None, f"{col} as fixed effect"
    if how == "cluster_robust":
        return None, col, f"cluster-robust SE by {col} (sandwich::vcovCL)"
    raise ValueError(f"practice_effect must be fixed | cluster_robust | none, not {how!r}")
