"""Simulated power against the number per arm, one line per true IRR, with
Monte Carlo error bars, from the power simulation's table (``power.csv``).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd

from rtw.report import fmt, style
from rtw.report.figure_common import pyplot, styled


def _power_table(power_df: pd.DataFrame) -> pd.DataFrame:
    """``power_df`` with numeric columns, and ``dispersion``/``attrition`` (NaN) when absent."""
    d = power_df.copy()
    for c in ("n_per_arm", "true_irr", "power", "mc_se"):
        d[c] = pd.to_numeric(d[c], errors="coerce")
    for c in ("dispersion", "attrition"):
        if c not in d:
            d[c] = np.nan
    return d


def _draw_power_series(ax, s: pd.DataFrame, irr: float, st: Mapping, z: float) -> tuple:
    """Power of one true IRR with ``+/- z * mc_se`` error bars.  Returns
    ``(power, error half-width)``."""
    is_null = abs(irr - 1.0) < 1e-12
    yv = s["power"].to_numpy(float)
    err = z * s["mc_se"].fillna(0).to_numpy(float)
    lab = f"IRR {fmt.fmt_ratio(irr)}" + (" (type I error)" if is_null else "")
    cont = ax.errorbar(s["n_per_arm"], yv, yerr=err, color=st["color"],
                       linestyle=st["linestyle"], marker=st["marker"], markersize=3,
                       lw=0.9, elinewidth=0.6, capsize=1.5, label=lab)
    cont.lines[0].set_gid(f"power:{irr}")
    return yv, err


def _power_reference_lines(ax, targets: Sequence[float], alpha: float, null_drawn: bool) -> None:
    """Dashed lines at the target powers (labelled right of the axes); dotted at ``alpha``
    when the null IRR (type I error) is drawn."""
    for tv in targets:
        ax.axhline(tv, color="0.5", lw=0.6, linestyle="--", zorder=0)
        ax.text(1.0, tv, f" {fmt.fmt_num(100 * tv, 0)}%", transform=matplotlib.transforms.
                blended_transform_factory(ax.transAxes, ax.transData), ha="left", va="center",
                fontsize=style.BASE_PT - 1, clip_on=False)
    if null_drawn:
        ax.axhline(alpha, color="0.5", lw=0.6, linestyle=":", zorder=0)


def _panel_title(disp, attr) -> str:
    """``"NB dispersion <disp>, attrition <attr %>"`` (parts that are missing left out)."""
    parts = []
    if not fmt.is_missing(disp):
        parts.append(f"NB dispersion {disp}")
    if not fmt.is_missing(attr):
        parts.append(f"attrition {fmt.fmt_pct(float(attr), 0)}")
    return ", ".join(parts)


@styled
def power_curve(power_df: pd.DataFrame, config: Mapping, *, z: float = 1.96,
                targets: Sequence[float] = (0.8, 0.9), alpha: float = 0.05):
    """Simulated power against n per arm, one line per true IRR, with Monte Carlo error bars.

    Parameters
    ----------
    power_df : pandas.DataFrame
        ``n_per_arm, true_irr, dispersion, attrition, power, mc_se, type1,
        replicates``.  Rows with ``true_irr == 1`` give the type I error,
        drawn as its own series with a reference line at ``alpha``.
    config : mapping
    z : float
        Error bars are ``power +/- z * mc_se``.
    targets : sequence of float
        Horizontal reference lines (80% and 90% power).
    alpha : float
        Nominal type I error line.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per (dispersion, attrition) combination.
    drawn : dict
        ``series``: dispersion, attrition, true_irr, n_per_arm, power,
        err_low, err_high as drawn.
    """
    plt = pyplot()
    d = _power_table(power_df)
    combos = list(dict.fromkeys(zip(d["dispersion"], d["attrition"])))
    combos = sorted(combos, key=lambda t: (str(t[0]), str(t[1])))
    ncol = min(2, len(combos))
    nrow = math.ceil(len(combos) / ncol)
    width = "single" if ncol == 1 else "double"
    fig, axes = plt.subplots(nrow, ncol, figsize=style.figsize(width, 10 + 58 * nrow),
                             squeeze=False, sharey=True)
    irrs = sorted(d["true_irr"].dropna().unique())
    sty = dict(zip(irrs, style.series_styles(len(irrs))))
    has_null = any(abs(i - 1.0) < 1e-12 for i in irrs)
    rows = []
    for k, (disp, attr) in enumerate(combos):
        ax = axes[k // ncol, k % ncol]
        sub = d[(d["dispersion"].astype(str) == str(disp)) & (d["attrition"].astype(str) == str(attr))]
        for irr in irrs:
            s = sub[np.isclose(sub["true_irr"], irr)].sort_values("n_per_arm")
            if not len(s):
                continue
            yv, err = _draw_power_series(ax, s, irr, sty[irr], z)
            rows.append(pd.DataFrame({"dispersion": disp, "attrition": attr, "true_irr": irr,
                                      "n_per_arm": s["n_per_arm"].to_numpy(float), "power": yv,
                                      "err_low": yv - err, "err_high": yv + err}))
        _power_reference_lines(ax, targets, alpha, has_null)
        ax.set_ylim(0, 1)
        ax.set_xlabel("Participants per arm")
        ax.set_ylabel("Power")
        title = _panel_title(disp, attr)
        if title:
            ax.set_title(title, loc="left", fontsize=style.BASE_PT)
        if k == 0:
            ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.1), fontsize=style.BASE_PT - 1)
    for k in range(len(combos), nrow * ncol):
        axes[k // ncol, k % ncol].axis("off")
    fig.tight_layout()
    return fig, {"series": pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()}
