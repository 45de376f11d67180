"""Scaled Schoenfeld residuals as R's ``plot(cox.zph(fit))`` draws them: one panel per
coefficient (a 3-level factor gives two), against the Kaplan-Meier-transformed time with the
axis labelled in the outcome's time unit, the natural-spline smooth (``df = 4``) and its
+-2 SE band (:func:`rtw.survival.cox.zph_smooth`, computed by the survival stage on every
residual: table ``zph_smooth``), and the ``cox.zph`` test of the coefficient's term.

At scale the points drawn are those of the ``zph_residuals`` table: every residual up to
config ``figures.schoenfeld_points`` events, a seeded random subsample beyond (the survival
stage draws it), so the figure costs the same at 10^6 participants as at 130.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

from rtw.core.timescale import axis_label, round_step, round_times
from rtw.report import fmt, style
from rtw.report.figure_common import (not_estimable_panel, outcome_config, pyplot, styled,
                                      term_label)


def _zph_rows(zph_residuals: pd.DataFrame, zph_tests: pd.DataFrame, outcome: str,
              model: str | None) -> tuple:
    """``(residual rows, test rows, model)`` of ``outcome`` and one model (default the first in
    the residuals); test rows are kept to those whose note names the model when any does."""
    res = zph_residuals[zph_residuals["outcome"].astype(str) == outcome]
    if "model" in res.columns and len(res):
        models = list(dict.fromkeys(res["model"].astype(str)))
        model = model if model in models else models[0]
        res = res[res["model"].astype(str) == model]
    tests = zph_tests
    if "analysis" in tests.columns:
        tests = tests[tests["analysis"] == "cox_zph"]
    tests = tests[tests["outcome"].astype(str) == outcome]
    if model and "note" in tests.columns:
        named = tests["note"].fillna("").astype(str).str.contains(model, regex=False)
        if named.any():
            tests = tests[named]
    return res, tests, model


def _zph_test_text(r) -> str:
    """``"χ² = 4.65, p = 0.031"`` (without the statistic when it is missing)."""
    txt = fmt.fmt_p_label(r["p_value"])
    if not fmt.is_missing(r.get("statistic")):
        txt = f"\u03c7\u00b2 = {fmt.fmt_num(r['statistic'], 2)}, " + txt
    return txt


def _term_of(coef: str) -> str:
    """The model term of a coefficient: ``grp[b]`` -> ``grp``."""
    return coef.split("[", 1)[0]


def _time_ticks(ax, xs: np.ndarray, ts: np.ndarray, unit: str) -> list:
    """Ticks on the transformed axis at round times of the unit (R labels its km axis in
    time, too), placed by linear interpolation of the (transformed, time) pairs."""
    o = np.argsort(xs, kind="mergesort")
    xs, ts = xs[o], ts[o]
    ok = np.isfinite(xs) & np.isfinite(ts)
    xs, ts = xs[ok], ts[ok]
    if len(xs) < 2 or ts[-1] <= ts[0]:
        return []
    step = round_step(float(ts[-1]), unit)
    times = [t for t in round_times(float(ts[-1]), unit)
             if ts[0] <= t <= ts[-1] and abs(t / step - round(t / step)) < 1e-9]
    at = np.interp(times, ts, xs)
    # the km scale squeezes late times together: keep a tick only 14% of the axis from the
    # last kept one (the last time is kept)
    span = (xs[-1] - xs[0]) or 1.0
    kept, last = [], None
    for t, a in reversed(list(zip(times, at))):
        if last is None or last - a >= 0.14 * span:
            kept.append((t, a))
            last = a
    kept.reverse()
    ax.set_xticks([a for _, a in kept])
    ax.set_xticklabels([fmt.fmt_num(t, 0 if float(t).is_integer() else 1) for t, _ in kept])
    return kept


def _draw_panel(ax, coef: str, label: str, d: pd.DataFrame, sm: pd.DataFrame | None,
                tests: pd.DataFrame, reference: Mapping | None, config: Mapping) -> tuple:
    """Points, smooth, band, reference line and test text of one coefficient."""
    xv, yv = d["transformed_time"].to_numpy(float), d["residual"].to_numpy(float)
    ax.plot(xv, yv, linestyle="none", marker="o", markersize=1.8, markerfacecolor="none",
            markeredgewidth=0.4, color="0.55", gid=f"resid:{coef}", rasterized=len(xv) > 5000)
    smooth = None
    if sm is not None and len(sm):
        x = sm["x"].to_numpy(float)
        ax.plot(x, sm["fit"], color="black", lw=1.1, gid=f"smooth:{coef}")
        ax.plot(x, sm["lower"], color="black", lw=0.7, linestyle="--", gid=f"band:{coef}")
        ax.plot(x, sm["upper"], color="black", lw=0.7, linestyle="--")
        smooth = sm.assign(term=coef)[["term", "x", "time", "fit", "lower", "upper"]]
    if reference and coef in reference:
        ax.axhline(float(reference[coef]), color="0.3", lw=0.6, linestyle=":")
    term = _term_of(coef)
    t = tests[tests["term"].astype(str).isin([coef, term])]
    test_row = None
    if len(t):
        r = t.iloc[0]
        txt = _zph_test_text(r)
        if term != coef:
            txt = f"{term_label(config, term)}, all levels:\n" + txt
        test_row = {"term": coef, "statistic": r.get("statistic"), "p_value": r["p_value"],
                    "text": txt}
        ax.text(0.98, 0.98, txt, transform=ax.transAxes, ha="right", va="top",
                fontsize=style.BASE_PT - 1, gid=f"ptext:{coef}",
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1.0))
    ax.set_title(label, loc="left", fontsize=style.BASE_PT)
    ax.set_ylabel("\u03b2(t)")
    return pd.DataFrame({"term": coef, "x": xv, "residual": yv}), smooth, test_row


def _not_estimable_reason(tests: pd.DataFrame, estimates: pd.DataFrame, outcome: str,
                          model: str | None) -> str:
    """The reason the residuals are absent: the cox_zph or the model's own note."""
    notes = []
    if "note" in tests.columns:
        notes += [str(n) for n in tests["note"].dropna() if "not estimable" in str(n)]
    if "analysis" in estimates.columns and model:
        m = estimates[(estimates["analysis"] == model)
                      & (estimates["outcome"].astype(str) == outcome)]
        notes += [str(n) for n in m.get("note", pd.Series(dtype=str)).dropna()
                  if "not estimable" in str(n)]
    if not notes and "analysis" in estimates.columns:
        # no model named (or it has no row): the Cox models' reasons, then the outcome's
        o = estimates[estimates["outcome"].astype(str) == outcome]
        cox = o[o["analysis"].astype(str).str.startswith("cox_")]
        for rows in (cox, o):
            notes += [str(n) for n in rows.get("note", pd.Series(dtype=str)).dropna()
                      if "not estimable" in str(n)]
    if not notes:
        return "no scaled Schoenfeld residuals (the Cox model was not fitted)"
    n = notes[0].split("not estimable", 1)[1].lstrip(": ")
    return f"not estimable: {n}" if n else "not estimable"


@styled
def schoenfeld_plot(zph_residuals: pd.DataFrame, zph_tests: pd.DataFrame, config: Mapping,
                    outcome: str, *, model: str | None = None,
                    zph_smooth: pd.DataFrame | None = None, reference: Mapping | None = None):
    """Scaled Schoenfeld residuals, one panel per coefficient, with R's smooth and band.

    Parameters
    ----------
    zph_residuals : pandas.DataFrame
        ``outcome, model, term, time, transformed_time, residual``, one term per
        coefficient (``column[level]`` for a factor level).
    zph_tests : pandas.DataFrame
        Estimates rows with analysis ``cox_zph`` (others are ignored, but a model's
        "not estimable" note is read when it has no residuals): term = model term or
        ``global``, ``statistic`` = chi-square, ``p_value``.
    config : mapping
        ``figures.term_labels`` (panel words), the outcome's ``time_unit``.
    outcome : str
    model : str, optional
        Which model's residuals (default: the first in the data).
    zph_smooth : pandas.DataFrame, optional
        ``outcome, model, term, x, time, fit, lower, upper`` (the survival stage's
        :func:`rtw.survival.cox.zph_smooth` of every residual); without it no smooth.
    reference : mapping, optional
        ``{coefficient: value}`` drawn as a dotted horizontal line.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The x axis is R's ``transform = "km"`` scale, ticked at round times of the unit and
        named so; a panel saying why when the model has no residuals.
    drawn : dict
        ``points`` (term, x, residual), ``smooth`` (term, x, time, fit, lower, upper),
        ``tests`` (term, statistic, p_value, text); without residuals, also ``reason``
        (the text of the panel drawn instead).
    """
    plt = pyplot()
    res, tests, model = _zph_rows(zph_residuals, zph_tests, outcome, model)
    oc = outcome_config(config, outcome)
    unit = oc["time_unit"]
    empty = {"points": pd.DataFrame(columns=["term", "x", "residual"]),
             "smooth": pd.DataFrame(columns=["term", "x", "time", "fit", "lower", "upper"]),
             "tests": pd.DataFrame(columns=["term", "statistic", "p_value", "text"])}
    if not len(res):
        reason = _not_estimable_reason(tests, zph_tests, outcome, model)
        return (not_estimable_panel(f"{oc['label']}: proportional hazards", reason),
                {**empty, "reason": reason})
    sm_all = None
    if zph_smooth is not None and len(zph_smooth):
        sm_all = zph_smooth[(zph_smooth["outcome"].astype(str) == outcome)
                            & (zph_smooth["model"].astype(str) == str(model))]
    coefs = list(dict.fromkeys(res["term"].astype(str)))
    ncol = min(3, len(coefs))
    nrow = math.ceil(len(coefs) / ncol)
    width = "single" if ncol == 1 else "double"
    fig, axes = plt.subplots(nrow, ncol, figsize=style.figsize(width, 12 + 50 * nrow),
                             squeeze=False)
    pts, smooth, trows = [], [], []
    for k, coef in enumerate(coefs):
        ax = axes[k // ncol, k % ncol]
        d = res[res["term"].astype(str) == coef]
        sm = None if sm_all is None else sm_all[sm_all["term"].astype(str) == coef]
        points, s, test_row = _draw_panel(ax, coef, term_label(config, coef), d, sm, tests,
                                          reference, config)
        pairs = (sm[["x", "time"]] if sm is not None and len(sm)
                 else d[["transformed_time", "time"]].set_axis(["x", "time"], axis=1))
        _time_ticks(ax, pairs["x"].to_numpy(float), pairs["time"].to_numpy(float), unit)
        ax.set_xlabel(f"{axis_label(unit)}\n(Kaplan\u2013Meier-transformed scale)", fontsize=style.BASE_PT - 0.5)
        pts.append(points)
        if s is not None:
            smooth.append(s)
        if test_row is not None:
            trows.append(test_row)
    for k in range(len(coefs), nrow * ncol):
        axes[k // ncol, k % ncol].axis("off")
    g = tests[tests["term"].astype(str) == "global"]
    if len(g):
        r = g.iloc[0]
        gtxt = "Global test: " + fmt.fmt_p_label(r["p_value"])
        fig.suptitle(gtxt, x=0.01, ha="left", fontsize=style.BASE_PT)
        trows.append({"term": "global", "statistic": r.get("statistic"), "p_value": r["p_value"],
                      "text": gtxt})
    dfs = sorted({int(v) for v in (sm_all["df"] if sm_all is not None and "df" in sm_all
                                   else [])}) or [4]
    df_txt = "/".join(map(str, dfs)) + " df" + (
        "; R's 4 df is singular with so few distinct times" if dfs != [4] else "")
    fig.text(0.99, 0.995, f"Solid: natural spline smooth ({df_txt}); dashed: \u00b12 SE",
             ha="right", va="top", fontsize=style.BASE_PT - 0.5, gid="smooth_note")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig, {"points": pd.concat(pts, ignore_index=True),
                 "smooth": (pd.concat(smooth, ignore_index=True) if smooth
                            else empty["smooth"]),
                 "tests": pd.DataFrame(trows, columns=["term", "statistic", "p_value", "text"])}
