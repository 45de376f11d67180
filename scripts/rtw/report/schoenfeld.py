"""Scaled Schoenfeld residuals against time, one panel per term, with a lowess
smooth (as R's ``plot.cox.zph`` smooths) and the ``cox.zph`` test of each term.
"""
from __future__ import annotations

import math
from typing import Mapping

import pandas as pd

from rtw.report import fmt, style
from rtw.core.timescale import axis_label
from rtw.report.figure_common import (not_estimable_reason, outcome_config, pyplot,
                                      reason_figure, styled)


def _zph_rows(zph_residuals: pd.DataFrame, zph_tests: pd.DataFrame, outcome: str,
              model: str | None) -> tuple:
    """``(residual rows, test rows)`` of ``outcome`` and one model (default the first in the
    residuals); test rows are kept to those whose note names the model when any does."""
    res = zph_residuals[zph_residuals["outcome"].astype(str) == outcome]
    if not len(res):
        raise ValueError(f"schoenfeld_plot: no residuals for outcome {outcome!r}")
    if "model" in res.columns:
        models = list(dict.fromkeys(res["model"].astype(str)))
        model = model or models[0]
        res = res[res["model"].astype(str) == model]
    tests = zph_tests
    if "analysis" in tests.columns:
        tests = tests[tests["analysis"] == "cox_zph"]
    tests = tests[tests["outcome"].astype(str) == outcome]
    if model and "note" in tests.columns:
        named = tests["note"].fillna("").astype(str).str.contains(model, regex=False)
        if named.any():
            tests = tests[named]
    return res, tests


def _zph_test_text(r) -> str:
    """``"χ² = 4.65, p = 0.031"`` (without the statistic when it is missing)."""
    txt = fmt.fmt_p_label(r["p_value"])
    if not fmt.is_missing(r.get("statistic")):
        txt = f"\u03c7\u00b2 = {fmt.fmt_num(r['statistic'], 2)}, " + txt
    return txt


def _draw_term_panel(ax, term: str, d: pd.DataFrame, tests: pd.DataFrame, *, x: str,
                     frac: float, reference: Mapping | None, unit: str = "days") -> tuple:
    """Residual points, lowess smooth (4 points or more), reference line and test text of one
    term.  Returns ``(points, smooth or None, test row or None)``."""
    from statsmodels.nonparametric.smoothers_lowess import lowess

    xv, yv = d[x].to_numpy(float), d["residual"].to_numpy(float)
    ax.plot(xv, yv, linestyle="none", marker="o", markersize=2.2, markerfacecolor="none",
            markeredgewidth=0.5, color="0.35", gid=f"resid:{term}")
    points = pd.DataFrame({"term": term, "x": xv, "residual": yv})
    smooth = None
    if len(xv) >= 4:
        sm = lowess(yv, xv, frac=frac, it=0, return_sorted=True)
        ax.plot(sm[:, 0], sm[:, 1], color="black", lw=1.1, gid=f"smooth:{term}")
        smooth = pd.DataFrame({"term": term, "x": sm[:, 0], "y": sm[:, 1]})
    if reference and term in reference:
        ax.axhline(float(reference[term]), color="black", lw=0.6, linestyle="--")
    t = tests[tests["term"].astype(str) == term]
    txt, test_row = "", None
    if len(t):
        r = t.iloc[0]
        txt = _zph_test_text(r)
        test_row = {"term": term, "statistic": r.get("statistic"), "p_value": r["p_value"],
                    "text": txt}
    ax.set_title(term, loc="left", fontsize=style.BASE_PT)
    if txt:
        ax.text(0.98, 0.97, txt, transform=ax.transAxes, ha="right", va="top",
                bbox=dict(facecolor="white", edgecolor="none", pad=1.0), gid=f"ptext:{term}")
    ax.set_xlabel(axis_label(unit) if x == "time" else "Transformed time")
    ax.set_ylabel("Scaled Schoenfeld residual")
    return points, smooth, test_row


@styled
def schoenfeld_plot(zph_residuals: pd.DataFrame, zph_tests: pd.DataFrame, config: Mapping,
                    outcome: str, *, model: str | None = None, x: str = "time",
                    frac: float = 2 / 3, reference: Mapping | None = None):
    """Scaled Schoenfeld residuals against time, one panel per term, with a lowess smooth.

    Parameters
    ----------
    zph_residuals : pandas.DataFrame
        ``outcome, model, term, time, transformed_time, residual``.
    zph_tests : pandas.DataFrame
        Estimates rows with analysis ``cox_zph`` (others are ignored): term =
        covariate or ``global``, ``statistic`` = chi-square, ``p_value``.
    config : mapping
    outcome : str
    model : str, optional
        Which model's residuals (default: the first in the data).  Test rows
        whose ``note`` or ``population`` mentions another model are ignored
        when the note names models.
    x : {"time", "transformed_time"}
        Horizontal axis.
    frac : float
        Lowess span (statsmodels ``lowess(frac=...)``).
    reference : mapping, optional
        ``{term: value}`` drawn as a dashed horizontal line (e.g. the
        coefficient: a flat smooth at it supports proportional hazards).

    Returns
    -------
    fig : matplotlib.figure.Figure
    drawn : dict
        ``points`` (term, x, residual), ``smooth`` (term, x, y), ``tests``
        (term, statistic, p_value, text); without residuals for ``outcome`` (no Cox
        model: no events, or none in an arm) one panel showing the reason (the
        ``not estimable`` note of the estimates), and ``reason``.
    """
    plt = pyplot()
    if not (zph_residuals["outcome"].astype(str) == outcome).any():
        # no Cox model (no events, or none in an arm): the figure says why
        reason = (not_estimable_reason(zph_tests, outcome, ("cox_zph", model or "cox_adjusted"))
                  or "no events: no Cox model, no residuals")
        fig = reason_figure("Scaled Schoenfeld residuals", reason)
        return fig, {"points": pd.DataFrame(columns=["term", "x", "residual"]),
                     "smooth": pd.DataFrame(columns=["term", "x", "y"]),
                     "tests": pd.DataFrame(columns=["term", "statistic", "p_value", "text"]),
                     "reason": reason}
    res, tests = _zph_rows(zph_residuals, zph_tests, outcome, model)
    terms = list(dict.fromkeys(res["term"].astype(str)))
    ncol = min(3, len(terms))
    nrow = math.ceil(len(terms) / ncol)
    width = "single" if ncol == 1 else "double"
    fig, axes = plt.subplots(nrow, ncol, figsize=style.figsize(width, 8 + 52 * nrow), squeeze=False)
    pts, smooth, trows = [], [], []
    for k, term in enumerate(terms):
        d = res[res["term"].astype(str) == term].sort_values(x, kind="mergesort")
        points, sm, test_row = _draw_term_panel(axes[k // ncol, k % ncol], term, d, tests, x=x,
                                                frac=frac, reference=reference,
                                                unit=outcome_config(config, outcome)["time_unit"])
        pts.append(points)
        if sm is not None:
            smooth.append(sm)
        if test_row is not None:
            trows.append(test_row)
    for k in range(len(terms), nrow * ncol):
        axes[k // ncol, k % ncol].axis("off")
    g = tests[tests["term"].astype(str) == "global"]
    if len(g):
        r = g.iloc[0]
        gtxt = "Global test: " + fmt.fmt_p_label(r["p_value"])
        fig.suptitle(gtxt, x=0.01, ha="left", fontsize=style.BASE_PT)
        trows.append({"term": "global", "statistic": r.get("statistic"), "p_value": r["p_value"],
                      "text": gtxt})
    fig.tight_layout()
    return fig, {"points": pd.concat(pts, ignore_index=True),
                 "smooth": (pd.concat(smooth, ignore_index=True) if smooth
                            else pd.DataFrame(columns=["term", "x", "y"])),
                 "tests": pd.DataFrame(trows, columns=["term", "statistic", "p_value", "text"])}
