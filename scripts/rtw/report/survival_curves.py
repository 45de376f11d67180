"""Time-to-event curves by arm: Kaplan-Meier with a number-at-risk table, and
Aalen-Johansen cumulative incidence with the competing event.

Curves, bands and numbers at risk come from the survival room's tables
(``km_curves``, ``km_at_risk``, ``cif_curves``); nothing is estimated here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import matplotlib
import numpy as np
import pandas as pd

from rtw.report import fmt, style
from rtw.core.timescale import axis_label, round_times
from rtw.report.figure_common import (check_arms, chosen_conf_level, outcome_config, outcome_tau,
                                      pyplot, rows_at_conf_level, styled, thinned_tick_labels)
from rtw.report.measure import text_width_mm


def _steps_with_origin(d: pd.DataFrame, ycol: str) -> pd.DataFrame:
    d = d.sort_values("time", kind="mergesort")
    if not len(d) or float(d["time"].iloc[0]) > 0:
        origin = {c: np.nan for c in d.columns}
        origin.update({"time": 0.0, "surv": 1.0, "lower": 1.0, "upper": 1.0, "n_censor": 0})
        if ycol == "cif":
            origin.update({"cif": 0.0, "lower": 0.0, "upper": 0.0})
        d = pd.concat([pd.DataFrame([origin]), d], ignore_index=True)
    return d.reset_index(drop=True)


def _flat_if_no_events(d: pd.DataFrame, x_end: float) -> pd.DataFrame:
    """A curve that is only its origin (an arm without events) carried flat to ``x_end``,
    so that it is drawn (and shown in the legend) rather than vanishing as one point."""
    if len(d) != 1 or not np.isfinite(x_end) or x_end <= float(d["time"].iloc[0]):
        return d
    end = d.iloc[[0]].assign(time=float(x_end))
    return pd.concat([d, end], ignore_index=True)


def _first_time_at_or_below(time, surv, p=0.5):
    hit = np.nonzero(np.asarray(surv) <= p + 1e-12)[0]
    return float(np.asarray(time)[hit[0]]) if len(hit) else np.nan



@dataclass(frozen=True)
class _KMSteps:
    """One arm's steps: the table rows (time-0 row added), S(t), and the heights drawn."""

    frame: pd.DataFrame
    time: np.ndarray
    surv: np.ndarray
    y: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def _km_steps(cur: pd.DataFrame, arm: str, cumulative: bool) -> _KMSteps:
    """Steps of ``arm``: 1 - S(t) and its band when ``cumulative``, else S(t)."""
    d = _steps_with_origin(cur[cur["arm"].astype(str) == arm], "surv")
    t = d["time"].to_numpy(float)
    s = d["surv"].to_numpy(float)
    lo, hi = d["lower"].to_numpy(float), d["upper"].to_numpy(float)
    # R gives NA bounds where S is 1 (log-log) or 0: the band is the point there
    for b in (lo, hi):
        b[np.isnan(b) & (np.abs(s - 1) < 1e-12)] = 1.0
        b[np.isnan(b) & (np.abs(s) < 1e-12)] = 0.0
    if cumulative:
        y, ylo, yhi = 1 - s, 1 - hi, 1 - lo
    else:
        y, ylo, yhi = s, lo, hi
    return _KMSteps(frame=d, time=t, surv=s, y=y, lower=ylo, upper=yhi)


def _curve_rows(curves: pd.DataFrame, config: Mapping, outcome: str, conf_level, what: str,
                rows_word: str) -> pd.DataFrame:
    """Rows of ``outcome`` at the chosen CI level, both arms checked (``what`` names the
    figure in errors)."""
    level = chosen_conf_level(config, conf_level)
    cur = curves[curves["outcome"].astype(str) == outcome]
    if not len(cur):
        raise ValueError(f"{what}: no {rows_word} for outcome {outcome!r}")
    cur = rows_at_conf_level(cur, level)
    check_arms(cur, config, what)
    return cur


def _km_rows(km_curves: pd.DataFrame, km_at_risk: pd.DataFrame, config: Mapping, outcome: str,
             conf_level) -> tuple:
    """``(curve rows at the CI level, at-risk rows)`` of ``outcome``, arms checked."""
    cur = _curve_rows(km_curves, config, outcome, conf_level, "km_plot", "curve rows")
    risk = km_at_risk[km_at_risk["outcome"].astype(str) == outcome]
    check_arms(risk, config, "km_plot (at risk)")
    return cur, risk


def _km_figure(plt, width, arm_names: list) -> tuple:
    """Figure with the curve axes over the number-at-risk axes (shared time axis), laid out in
    mm; the left margin fits the longest arm name.  Returns ``(fig, ax, axr, table_title_y)``."""
    n_rows = len(arm_names)
    w_in, _ = style.figsize(width)
    w_mm = w_in * style.MM_PER_INCH
    # layout in millimetres: title, plot, x axis (ticks + label), table title, table rows
    top_mm, plot_mm, xaxis_mm, ttitle_mm, row_mm, bottom_mm = 5.0, 50.0, 9.5, 4.0, 3.4, 1.5
    h_mm = top_mm + plot_mm + xaxis_mm + ttitle_mm + row_mm * n_rows + bottom_mm
    longest = max([text_width_mm(name) for name in arm_names] + [0.0])
    left_mm = max(15.0, longest + 5.5)
    right_mm = 4.0
    fig = plt.figure(figsize=(w_in, style.mm(h_mm)))
    lf, wf = left_mm / w_mm, (w_mm - left_mm - right_mm) / w_mm
    ax = fig.add_axes([lf, 1 - (top_mm + plot_mm) / h_mm, wf, plot_mm / h_mm])
    table_bottom = bottom_mm / h_mm
    axr = fig.add_axes([lf, table_bottom, wf, (row_mm * n_rows) / h_mm], sharex=ax)
    table_title_y = (bottom_mm + row_mm * n_rows + 0.6) / h_mm
    return fig, ax, axr, table_title_y


def _draw_km_arm(ax, arm: str, st, steps: _KMSteps, *, ci: bool, censor_marks: bool) -> None:
    """CI band, step curve and censoring ticks of one arm."""
    t, y = steps.time, steps.y
    if ci:
        ax.fill_between(t, steps.lower, steps.upper, step="post", color=st.colour, alpha=0.18,
                        linewidth=0, hatch=None)
    ax.step(t, y, where="post", color=st.colour, linestyle=st.linestyle, linewidth=1.1,
            label=st.name, gid=f"km:{arm}")
    if censor_marks and "n_censor" in steps.frame:
        cm = pd.to_numeric(steps.frame["n_censor"], errors="coerce").fillna(0).to_numpy() > 0
        if cm.any():
            ax.plot(t[cm], y[cm], linestyle="none", marker="|", markersize=3.5,
                    markeredgewidth=0.6, color=st.colour, gid=f"censor:{arm}")


def _draw_km_median(ax, arm: str, steps: _KMSteps, medians: Mapping | None) -> dict:
    """Dotted line at 0.5 to the arm's median (given, else the first time S(t) <= 0.5)."""
    m = (medians or {}).get(arm, None) if medians else _first_time_at_or_below(steps.time,
                                                                               steps.surv)
    if m is not None and np.isfinite(m):
        ax.plot([0, m, m], [0.5, 0.5, 0], color="0.4", lw=0.6, linestyle=":",
                gid=f"median:{arm}")
    return {"arm": arm, "median": m}


def _km_ylabel(outcome: Mapping, cumulative: bool) -> str:
    """``Proportion returned to work`` from the outcome's ``event_label`` ("Returned to work");
    without one, cumulative incidence or survival probability."""
    what = outcome["event_label"]
    if not what:
        return "Cumulative incidence" if cumulative else "Survival probability"
    what = what[:1].lower() + what[1:]
    return f"Proportion {what}" if cumulative else f"Proportion not {what}"


def _format_km_axes(ax, outcome: Mapping, arms: list, styles: Mapping, *, x_end: float,
                    risk_times: list, cumulative: bool, ylabel: str | None) -> None:
    """Limits, proportion ticks, labels, time ticks at the at-risk times, title and legend."""
    ax.set_xlim(0, x_end)
    ax.set_ylim(0, 1)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt.fmt_num(v, 1)))
    ax.set_ylabel(ylabel or _km_ylabel(outcome, cumulative))
    ax.set_xlabel(axis_label(outcome["time_unit"]))
    ticks = [t for t in risk_times if t <= x_end + 1e-9] or None
    if ticks:
        ax.set_xticks(ticks)
        ax.set_xticklabels(thinned_tick_labels(ticks, x_end))
    ax.set_title(outcome["label"], loc="left", fontsize=style.BASE_PT)
    ax.legend(loc="lower right" if cumulative else "upper right",
              handles=[matplotlib.lines.Line2D([], [], color=styles[a].colour,
                                               linestyle=styles[a].linestyle, lw=1.1,
                                               label=styles[a].name) for a in arms])
    ax.tick_params(axis="x", labelbottom=True)


def _draw_at_risk_table(fig, axr, risk: pd.DataFrame, arms: list, styles: Mapping,
                        x_end: float, title_y: float) -> pd.DataFrame:
    """Numbers at risk as text at their times, one row per arm, under a bold title."""
    at_risk_rows = []
    axr.set_ylim(len(arms) - 0.5, -0.5)
    for i, a in enumerate(arms):
        ra = risk[risk["arm"].astype(str) == a].sort_values("time")
        for t, n in zip(pd.to_numeric(ra["time"]), pd.to_numeric(ra["n_risk"])):
            if t > x_end + 1e-9:
                continue
            txt = fmt.fmt_int(n, thousands=False)
            axr.text(t, i, txt, ha="center", va="center", gid=f"atrisk:{a}", clip_on=False)
            at_risk_rows.append({"arm": a, "time": float(t), "n_risk": int(n), "text": txt})
    axr.set_yticks(range(len(arms)))
    axr.set_yticklabels([styles[a].name for a in arms])
    axr.tick_params(axis="y", length=0, pad=9)
    axr.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for sp in axr.spines.values():
        sp.set_visible(False)
    axr.patch.set_visible(False)
    fig.text(0.01, title_y, "Number at risk", ha="left", va="bottom", fontweight="bold")
    return pd.DataFrame(at_risk_rows, columns=["arm", "time", "n_risk", "text"])


@styled
def km_plot(km_curves: pd.DataFrame, km_at_risk: pd.DataFrame, config: Mapping, outcome: str,
            *, cumulative: bool = True, conf_level: float | None = None, ci: bool = True,
            censor_marks: bool = True, median_lines: bool = False,
            medians: Mapping | None = None, xmax: float | None = None,
            width="single", ylabel: str | None = None):
    """Kaplan-Meier curves by arm with CI bands and a number-at-risk table.

    Parameters
    ----------
    km_curves : pandas.DataFrame
        ``outcome, arm, time, n_risk, n_event, n_censor, surv, std_err,
        conf_level, lower, upper`` (time-0 row with surv 1 included; added
        if absent).
    km_at_risk : pandas.DataFrame
        ``outcome, arm, time, n_risk``: drawn as a table under the time axis
        at its times (which become the x ticks), as survminer / Stata
        ``sts graph, risktable``.
    config : mapping
    outcome : str
        Outcome name (config ``outcomes.time_to_event[].name``).
    cumulative : bool
        Draw the cumulative proportion returned, 1 - S(t) (default), or S(t).
    conf_level : float, optional
        CI level of the bands when ``km_curves`` holds several (default the
        first config ``conf_levels``).
    ci, censor_marks : bool
        Draw CI bands; tick marks at censoring times.
    median_lines : bool
        Dotted lines at 0.5 to each arm's median (from ``medians``
        ``{arm: days}``, e.g. the ``km_median`` estimates; otherwise the
        first time S(t) <= 0.5 on the curve).
    xmax : float, optional
        Right end of the time axis (default: outcome ``tau``, else the last
        time).
    width : "single", "double" or float (mm)
    ylabel : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
    drawn : dict
        ``curves`` (arm, time, y, lower, upper: the step heights drawn),
        ``at_risk`` (arm, time, n_risk, text: the table drawn),
        ``medians`` (arm, median) when median lines are drawn.
    """
    plt = pyplot()
    cur, risk = _km_rows(km_curves, km_at_risk, config, outcome, conf_level)
    styles = style.arm_styles(config)
    arms = [a for a in style.arm_order(config) if a in set(cur["arm"].astype(str))]
    tau = outcome_tau(config, outcome)
    risk_times = sorted(pd.to_numeric(risk["time"]).unique().tolist())
    x_end = xmax if xmax is not None else (tau if tau is not None else float(cur["time"].max()))
    fig, ax, axr, table_title_y = _km_figure(plt, width, [styles[a].name for a in arms])
    curves, med_rows = [], []
    for a in arms:
        steps = _km_steps(cur, a, cumulative)
        _draw_km_arm(ax, a, styles[a], steps, ci=ci, censor_marks=censor_marks)
        curves.append(pd.DataFrame({"arm": a, "time": steps.time, "y": steps.y,
                                    "lower": steps.lower, "upper": steps.upper}))
        if median_lines:
            med_rows.append(_draw_km_median(ax, a, steps, medians))
    _format_km_axes(ax, outcome_config(config, outcome), arms, styles,
                    x_end=x_end, risk_times=risk_times, cumulative=cumulative, ylabel=ylabel)
    at_risk = _draw_at_risk_table(fig, axr, risk, arms, styles, x_end, table_title_y)
    drawn = {"curves": pd.concat(curves, ignore_index=True), "at_risk": at_risk}
    if median_lines:
        drawn["medians"] = pd.DataFrame(med_rows, columns=["arm", "median"])
    return fig, drawn


# -------------------------------------------------- cumulative incidence --
@styled
def cif_plot(cif_curves: pd.DataFrame, config: Mapping, outcome: str, *,
             conf_level: float | None = None, ci: bool = True, competing: bool = True,
             xmax: float | None = None):
    """Aalen-Johansen cumulative incidence of RTW by arm, with the competing event.

    Parameters
    ----------
    cif_curves : pandas.DataFrame
        ``outcome, arm, cause (event|competing), time, cif, std_err,
        conf_level, lower, upper``.
    config : mapping
    outcome : str
    conf_level : float, optional
        Level of the CI bands when several are present.
    ci : bool
        Draw CI bands.
    competing : bool
        Add a second panel with the competing event (leaving employment).
    xmax : float, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per cause (double column when two).
    drawn : dict
        ``curves``: cause, arm, time, y, lower, upper as drawn.
    """
    plt = pyplot()
    cur = _curve_rows(cif_curves, config, outcome, conf_level, "cif_plot", "rows")
    styles = style.arm_styles(config)
    arms = [a for a in style.arm_order(config) if a in set(cur["arm"].astype(str))]
    causes = ["event"] + (["competing"] if competing and (cur["cause"] == "competing").any() else [])
    tau = outcome_tau(config, outcome)
    x_end = xmax if xmax is not None else (tau if tau is not None else float(cur["time"].max()))
    width = "double" if len(causes) > 1 else "single"
    fig, axes = plt.subplots(1, len(causes), figsize=style.figsize(width, 62), squeeze=False)
    oc = outcome_config(config, outcome)
    titles = {"event": f"{oc['label']}",
              "competing": f"{oc['competing_label'] or 'Competing event'} (competing event)"}
    unit = oc["time_unit"]
    rows = []
    for ax, cause in zip(axes[0], causes):
        for a in arms:
            st = styles[a]
            d = cur[(cur["arm"].astype(str) == a) & (cur["cause"] == cause)]
            d = _flat_if_no_events(_steps_with_origin(d, "cif"), x_end)
            t = d["time"].to_numpy(float)
            y = d["cif"].to_numpy(float)
            lo, hi = d["lower"].to_numpy(float), d["upper"].to_numpy(float)
            if ci:
                ax.fill_between(t, lo, hi, step="post", color=st.colour, alpha=0.18, linewidth=0)
            ax.step(t, y, where="post", color=st.colour, linestyle=st.linestyle, lw=1.1,
                    label=st.name, gid=f"cif:{cause}:{a}", zorder=3, clip_on=False)
            rows.append(pd.DataFrame({"cause": cause, "arm": a, "time": t, "y": y,
                                      "lower": lo, "upper": hi}))
        ax.set_xlim(0, x_end)
        top = 1.0 if cause == "event" else max(0.1, float(np.nanmax(
            pd.concat([r for r in rows if r["cause"].iloc[0] == cause])["upper"].fillna(0))) * 1.15)
        # a little room under 0 so an arm without events is a visible flat line above the spine
        ax.set_ylim(-0.015 * min(1.0, top), min(1.0, top))
        ax.set_xlabel(axis_label(unit))
        ax.set_ylabel("Cumulative incidence")
        ax.set_title(titles[cause], loc="left", fontsize=style.BASE_PT)
        ticks = config["survival"]["at_risk_days"] or round_times(x_end, unit)
        ax.set_xticks([d for d in ticks if d <= x_end + 1e-9])
        ax.legend(loc="lower right" if cause == "event" else "best")
    fig.tight_layout()
    return fig, {"curves": pd.concat(rows, ignore_index=True)}

