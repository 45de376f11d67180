"""Distribution of the count outcome (e.g. days off work over follow-up): one histogram panel
per arm.

Only descriptive binning is computed here (``numpy.histogram``), with the mean,
SD and median of each arm printed in its panel.
"""
from __future__ import annotations

from typing import Mapping

import math

import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd

from rtw.report import fmt, style
from rtw.report.figure_common import check_arms, pyplot, styled, thinned_tick_labels


#: at most this many histogram bins (wider bins, multiples of ``bin_days``, beyond it)
MAX_BINS = 60
#: at most this many labelled ticks on the days axis
MAX_TICKS = 10


def _histogram_edges(x: pd.Series, count_cfg: Mapping, config: Mapping,
                     bin_days: int) -> tuple[np.ndarray, float]:
    """Bin edges ``0, w, 2w, ...`` up to the axis end, and that end.

    A count over a window of days (``exposure_days`` a number): the end is the window, or
    the largest value if that is larger; ``w`` is ``bin_days``, or a multiple of it giving at
    most :data:`MAX_BINS` bins.  Any other count: the end is its largest value rounded up to
    a whole bin of a round width (1, 2, 5, 10, ...) giving about 25 bins.  Either way, when
    the largest value lies beyond the robust range of the data (upper fence Q3 + 3 IQR,
    from quantiles), the axis ends at the largest value within the fence (never before the
    window) and the values above it are counted in one overflow bar, so an extreme value
    (e.g. 10^7) bounds neither the axis nor the work.
    """
    window = count_cfg["exposure_days"]
    days = isinstance(window, (int, float)) and not isinstance(window, bool) and window > 0
    ok = x.dropna().to_numpy(float)
    ok = ok[np.isfinite(ok)]
    top = float(ok.max()) if ok.size else 0.0
    end = float(window) if days else 0.0
    if top > end:
        q1, q3 = np.quantile(ok, [0.25, 0.75])
        fence = q3 + 3.0 * (q3 - q1)
        if fence <= 0:
            fence = float(np.quantile(ok, 0.99))
        inside = ok[ok <= fence]
        end = max(end, float(inside.max()) if inside.size else fence)
    if days:
        if end <= 0:
            end = float(bin_days)
        width = float(bin_days) * max(1, math.ceil(end / bin_days / MAX_BINS))
    else:
        end = max(end, 1.0)
        width = next(w * 10.0 ** k for k in range(0, 12) for w in (1, 2, 5)
                     if end / (w * 10.0 ** k) <= 25)
        end = width * math.floor(end / width + 1.0)   # the largest value inside its bin
    edges = np.arange(0, end + width, width, dtype=float)
    edges = edges[edges <= end + 1e-9]
    if edges[-1] < end:
        edges = np.append(edges, end)
    return edges, float(edges[-1])


def _draw_days_off_panel(ax, arm: str, st, values: pd.Series, edges: np.ndarray) -> tuple:
    """Histogram of one arm in percent of its participants with the outcome, mean (dashed) and
    median (dotted) lines, and a summary text.  Returns ``(bin rows, summary row)``."""
    ok = values.dropna().to_numpy(float)
    above = ok[ok > edges[-1]]
    counts, _ = np.histogram(ok[ok <= edges[-1]], bins=edges)
    pct = 100.0 * counts / len(ok) if len(ok) else counts * 0.0
    ax.bar(edges[:-1], pct, width=np.diff(edges), align="edge", color=st.colour, alpha=0.55,
           edgecolor="black", linewidth=0.4, hatch=st.hatch or None, gid=f"hist:{arm}")
    bins_rows = [{"arm": arm, "left": edges[i], "right": edges[i + 1], "count": int(counts[i]),
                  "percent": float(pct[i])} for i in range(len(counts))]
    if len(above):
        # values beyond the robust axis range: one overflow bar at the axis end
        w = float(edges[-1] - edges[-2]) if len(edges) > 1 else 1.0
        p_above = 100.0 * len(above) / len(ok)
        ax.bar([edges[-1]], [p_above], width=w, align="edge", color="white", edgecolor="black",
               linewidth=0.6, hatch="xx", gid=f"overflow:{arm}")
        bins_rows.append({"arm": arm, "left": float(edges[-1]), "right": np.inf,
                          "count": int(len(above)), "percent": p_above})
    if len(ok):
        mean, med = float(ok.mean()), float(np.median(ok))
        sd = float(ok.std(ddof=1)) if len(ok) > 1 else np.nan
        ax.axvline(mean, color="black", lw=0.8, linestyle="--")
        ax.axvline(med, color="black", lw=0.8, linestyle=":")
    else:
        mean = med = sd = np.nan
    n_miss = int(values.isna().sum())
    summary = {"arm": arm, "n": len(ok), "n_missing": n_miss, "mean": mean, "sd": sd,
               "median": med}
    txt = (f"{st.name}\nn = {len(ok)}" + (f" ({n_miss} missing)" if n_miss else "")
           + f"\nmean {fmt.fmt_num(mean, 1)} (SD {fmt.fmt_num(sd, 1)})"
           + f"\nmedian {fmt.fmt_num(med, 0)}"
           + (f"\n{len(above)} above {fmt.fmt_num(edges[-1], 0)} (crossed bar; "
              f"max {fmt.fmt_num(float(above.max()), 0)})" if len(above) else ""))
    ax.text(0.98, 0.95, txt, transform=ax.transAxes, ha="right", va="top")
    ax.set_ylabel("Participants (%)")
    return bins_rows, summary


def _days_axis(ax, edges: np.ndarray, label: str, days: bool, overflow: bool = False) -> None:
    """Axis of the bottom panel: a window of days has ticks every 28 days (a multiple of 28
    giving at most :data:`MAX_TICKS`, plus the end when 14 or more past); other counts round
    integer ticks; room for the overflow bar."""
    ax.set_xlabel(label)
    w = float(edges[-1] - edges[-2]) if len(edges) > 1 else 1.0
    ax.set_xlim(0, edges[-1] + (w if overflow else 0.0))
    if not days:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=8, integer=True))
        return
    step = 28.0 * max(1, math.ceil(edges[-1] / 28.0 / MAX_TICKS))
    ticks = list(np.arange(0, edges[-1] + 1e-9, step))
    if edges[-1] - ticks[-1] >= 14:
        ticks.append(float(edges[-1]))
    ax.set_xticks(ticks)
    ax.set_xticklabels(thinned_tick_labels(ticks, edges[-1], 0.06))


@styled
def days_off_distribution(df: pd.DataFrame, config: Mapping, *, value: str | None = None,
                          bin_days: int = 7, arm_col: str = "arm"):
    """Distribution of days off work over follow-up, one histogram panel per arm.

    Parameters
    ----------
    df : pandas.DataFrame
        Analysis dataset (one row per participant).
    config : mapping
        ``outcomes.count.value`` (column), ``outcomes.count.exposure_days``
        (axis end), arms.
    value : str, optional
        Column to draw (default the primary outcome).
    bin_days : int
        Bin width in days; bins ``[0, w), [w, 2w), ...``, the last one
        closed at the window end (numpy histogram convention).
    arm_col : str

    Returns
    -------
    fig : matplotlib.figure.Figure
        Panels share axes; y is the percentage of the arm's participants with
        the outcome; dashed line at the mean, dotted at the median; missing
        counts noted in the panel.
    drawn : dict
        ``bins``: arm, left, right, count, percent (an overflow row with right = inf
        when values lie beyond the robust range); ``summary``: arm, n, n_missing, mean,
        sd, median (of all values); ``range``: end (axis end), width (bin width),
        n_above, max.  Bins, ticks and axis are bounded whatever the values
        (:func:`_histogram_edges`).
    """
    plt = pyplot()
    count_cfg = config["outcomes"]["count"]
    value = value or count_cfg["value"]
    check_arms(df, config, "days_off_distribution", arm_col)
    arms = style.arm_order(config)
    styles = style.arm_styles(config)
    x = pd.to_numeric(df[value], errors="coerce")
    edges, end = _histogram_edges(x, count_cfg, config, bin_days)
    fig, axes = plt.subplots(len(arms), 1, sharex=True, sharey=True,
                             figsize=style.figsize("single", 28 + 30 * len(arms)), squeeze=False)
    bins_rows, summ = [], []
    for ax, a in zip(axes[:, 0], arms):
        rows, summary = _draw_days_off_panel(ax, a, styles[a], x[df[arm_col].astype(str) == a],
                                             edges)
        bins_rows += rows
        summ.append(summary)
    n_above = int((x > end).sum())
    window = count_cfg["exposure_days"]
    _days_axis(axes[-1, 0], edges, f"{count_cfg['label']}",
               isinstance(window, (int, float)) and not isinstance(window, bool),
               overflow=n_above > 0)
    handles = [matplotlib.lines.Line2D([], [], color="black", lw=0.8, linestyle="--", label="Mean"),
               matplotlib.lines.Line2D([], [], color="black", lw=0.8, linestyle=":", label="Median")]
    fig.legend(handles=handles, loc="upper center", ncol=2, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig, {"bins": pd.DataFrame(bins_rows), "summary": pd.DataFrame(summ),
                 "range": {"end": end, "width": float(edges[1] - edges[0]), "n_above": n_above,
                           "max": float(x.max()) if x.notna().any() else np.nan}}
