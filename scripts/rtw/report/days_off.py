"""Distribution of the count outcome (WAVE: days off work): one histogram panel per arm,
binned from 0 to a robust upper quantile.

Only descriptive binning is computed here (``numpy.histogram``), with the mean,
SD and median of each arm printed in its panel.
"""
from __future__ import annotations

from typing import Mapping

import math

import matplotlib
import numpy as np
import pandas as pd

from rtw.report import fmt, style
from rtw.report.figure_common import check_arms, pyplot, styled, thinned_tick_labels


#: bin widths tried in order (7, 14, 28: weeks of days)
_STEPS = (1, 2, 5, 7, 10, 14, 20, 25, 28, 50)


def _nice_step(hi: float, most: int = 30) -> float:
    """The smallest bin width of :data:`_STEPS` (then 100, 200, 500, ...) giving at most
    ``most`` bins from 0 to ``hi``."""
    for step in _STEPS:
        if hi / step <= most + 1e-9:
            return float(step)
    p = 10.0 ** math.floor(math.log10(hi / most))
    for m in (1, 2, 5, 10):
        if hi / (m * p) <= most + 1e-9:
            return m * p
    return 10 * p


def _histogram_edges(x: pd.Series, quantile: float, bin_width: float | None) -> tuple:
    """``(edges, upper quantile)``: bins ``0, w, 2w, ...`` up to the ``quantile`` of the values
    (all arms; O(n)) rounded up to a whole bin, so one extreme value (or 10^6 of them) does not
    squeeze the rest into the first bar; ``w`` a round width (:func:`_nice_step`) unless given."""
    v = x.dropna().to_numpy(float)
    hi = float(np.quantile(v, quantile)) if len(v) else 1.0
    hi = max(hi, 1.0)
    w = float(bin_width) if bin_width else _nice_step(hi)
    end = w * math.ceil(hi / w - 1e-9)
    if end <= 0:
        end = w
    return np.arange(0, end + w / 2, w, dtype=float), hi


def _draw_days_off_panel(ax, arm: str, st, values: pd.Series, edges: np.ndarray) -> tuple:
    """Histogram of one arm in percent of its participants with the outcome, mean (dashed) and
    median (dotted) lines, and a summary text.  Returns ``(bin rows, summary row)``."""
    ok = values.dropna().to_numpy(float)
    counts, _ = np.histogram(np.clip(ok, edges[0], edges[-1]), bins=edges)
    pct = 100.0 * counts / len(ok) if len(ok) else counts * 0.0
    ax.bar(edges[:-1], pct, width=np.diff(edges), align="edge", color=st.colour, alpha=0.55,
           edgecolor="black", linewidth=0.4, hatch=st.hatch or None, gid=f"hist:{arm}")
    bins_rows = [{"arm": arm, "left": edges[i], "right": edges[i + 1], "count": int(counts[i]),
                  "percent": float(pct[i])} for i in range(len(counts))]
    n_above = int((ok > edges[-1]).sum())
    if len(ok):
        mean, med = float(ok.mean()), float(np.median(ok))
        sd = float(ok.std(ddof=1)) if len(ok) > 1 else np.nan
        ax.axvline(mean, color="black", lw=0.8, linestyle="--")
        ax.axvline(med, color="black", lw=0.8, linestyle=":")
    else:
        mean = med = sd = np.nan
    n_miss = int(values.isna().sum())
    summary = {"arm": arm, "n": len(ok), "n_missing": n_miss, "mean": mean, "sd": sd,
               "median": med, "n_above": n_above}
    txt = (f"{st.name}\nn = {len(ok)}" + (f" ({n_miss} missing)" if n_miss else "")
           + f"\nmean {fmt.fmt_num(mean, 1)} (SD {fmt.fmt_num(sd, 1)})"
           + f"\nmedian {fmt.fmt_num(med, 0)}"
           + (f"\n{fmt.fmt_int(n_above)} above {fmt.fmt_num(edges[-1], 0)} in the last bar"
              if n_above else ""))
    ax.text(0.98, 0.95, txt, transform=ax.transAxes, ha="right", va="top")
    ax.set_ylabel("Participants (%)")
    return bins_rows, summary


def _count_axis(ax, edges: np.ndarray, label: str) -> None:
    """Value axis of the bottom panel: ticks every few bins (at most 8 intervals), plus the end
    when at least half a tick step past the last."""
    ax.set_xlabel(label)
    ax.set_xlim(0, edges[-1])
    w = float(edges[1] - edges[0])
    n_bins = len(edges) - 1
    m = next((m for m in (1, 2, 4, 5, 10, 20, 50) if n_bins / m <= 8), 100)
    ticks = list(np.arange(0, edges[-1] + 1e-9, w * m))
    if edges[-1] - ticks[-1] >= w * m / 2:
        ticks.append(float(edges[-1]))
    ax.set_xticks(ticks)
    ax.set_xticklabels(thinned_tick_labels(ticks, edges[-1], 0.06))


@styled
def days_off_distribution(df: pd.DataFrame, config: Mapping, *, value: str | None = None,
                          bin_width: float | None = None, arm_col: str = "arm"):
    """Distribution of the count outcome, one histogram panel per arm.

    Parameters
    ----------
    df : pandas.DataFrame
        Analysis dataset (one row per participant).
    config : mapping
        ``outcomes.count.value`` (column) and ``label``, ``figures.histogram_quantile``
        (the axis ends at that quantile of the values, rounded up to a whole bin; larger
        values are counted in the last bar, which the panel says), arms.
    value : str, optional
        Column to draw (default the primary outcome).
    bin_width : float, optional
        Bin width; default a round width giving at most 30 bins (1, 2, 5, 7, 10, 14, ...);
        bins ``[0, w), [w, 2w), ...``, the last one closed (numpy histogram convention).
    arm_col : str

    Returns
    -------
    fig : matplotlib.figure.Figure
        Panels share axes; y is the percentage of the arm's participants with
        the outcome; dashed line at the mean, dotted at the median; missing
        counts noted in the panel.
    drawn : dict
        ``bins``: arm, left, right, count, percent; ``summary``: arm, n,
        n_missing, mean, sd, median, n_above (values beyond the axis, in the last bar).
        Costs O(n) (a quantile and a histogram): the same figure at 10^6 as at 130.
    """
    plt = pyplot()
    count_cfg = config["outcomes"]["count"]
    value = value or count_cfg["value"]
    check_arms(df, config, "days_off_distribution", arm_col)
    arms = style.arm_order(config)
    styles = style.arm_styles(config)
    x = pd.to_numeric(df[value], errors="coerce")
    edges, _ = _histogram_edges(x, float(config["figures"]["histogram_quantile"]), bin_width)
    fig, axes = plt.subplots(len(arms), 1, sharex=True, sharey=True,
                             figsize=style.figsize("single", 28 + 30 * len(arms)), squeeze=False)
    bins_rows, summ = [], []
    for ax, a in zip(axes[:, 0], arms):
        rows, summary = _draw_days_off_panel(ax, a, styles[a], x[df[arm_col].astype(str) == a],
                                             edges)
        bins_rows += rows
        summ.append(summary)
    _count_axis(axes[-1, 0], edges, f"{count_cfg['label']}")
    handles = [matplotlib.lines.Line2D([], [], color="black", lw=0.8, linestyle="--", label="Mean"),
               matplotlib.lines.Line2D([], [], color="black", lw=0.8, linestyle=":", label="Median")]
    fig.legend(handles=handles, loc="upper center", ncol=2, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig, {"bins": pd.DataFrame(bins_rows), "summary": pd.DataFrame(summ)}
