"""Time-to-event curves by arm: Kaplan-Meier with a number-at-risk table, and
Aalen-Johansen cumulative incidence with the competing event.

Curves, bands and numbers at risk come from the survival room's tables
(``km_curves``, ``km_at_risk``, ``cif_curves``); nothing is estimated here.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Mapping

import matplotlib
import numpy as np
import pandas as pd

from rtw.report import fmt, style
from rtw.core.timescale import axis_label, round_times
from rtw.report.figure_common import (check_arms, chosen_conf_level, not_estimable_panel,
                                      outcome_config, outcome_tau,
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


def _first_column_pad_pt(values: list) -> float:
    """Padding (points) between the arm names and the axis so that the table's first column,
    centred on time 0, clears the names: half the widest number plus 1.5 mm."""
    widest = max([text_width_mm(fmt.fmt_int(v, thousands=False)) for v in values] + [0.0])
    return (widest / 2 + 1.5) * 72 / style.MM_PER_INCH


def _km_figure(plt, width, arm_names: list, pad_pt: float = 9.0) -> tuple:
    """Figure with the curve axes over two tables sharing its time axis (number at risk, then
    cumulative number of events), laid out in mm; the left margin fits the longest arm name.
    Returns ``(fig, ax, [table axes], [table title heights])``."""
    n_rows = len(arm_names)
    w_in, _ = style.figsize(width)
    w_mm = w_in * style.MM_PER_INCH
    # layout in millimetres: title, plot, x axis (ticks + label), then per table its title
    # and rows
    top_mm, plot_mm, xaxis_mm, ttitle_mm, row_mm, bottom_mm = 5.0, 50.0, 9.5, 4.0, 3.4, 1.5
    table_mm = ttitle_mm + row_mm * n_rows
    h_mm = top_mm + plot_mm + xaxis_mm + 2 * table_mm + bottom_mm
    longest = max([text_width_mm(name) for name in arm_names] + [0.0])
    left_mm = max(15.0, longest + 2.0 + pad_pt * style.MM_PER_INCH / 72)
    right_mm = 4.0
    fig = plt.figure(figsize=(w_in, style.mm(h_mm)))
    lf, wf = left_mm / w_mm, (w_mm - left_mm - right_mm) / w_mm
    ax = fig.add_axes([lf, 1 - (top_mm + plot_mm) / h_mm, wf, plot_mm / h_mm])
    tables, titles = [], []
    for k in range(2):                       # k = 0: at risk (upper), 1: events (lower)
        base = bottom_mm + (1 - k) * table_mm
        tables.append(fig.add_axes([lf, base / h_mm, wf, (row_mm * n_rows) / h_mm], sharex=ax))
        titles.append((base + row_mm * n_rows + 0.6) / h_mm)
    return fig, ax, tables, titles


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


def _labelled_ticks(times: list, x_end: float) -> list:
    """The times that get a tick label (thinned so that labels do not collide): the only
    times where the tables under the axis have a column."""
    ticks = [t for t in times if t <= x_end + 1e-9]
    labels = thinned_tick_labels(ticks, x_end)
    return [t for t, lab in zip(ticks, labels) if lab]


def _format_km_axes(ax, outcome: Mapping, arms: list, styles: Mapping, *, x_end: float,
                    ticks: list, cumulative: bool, ylabel: str | None) -> None:
    """Limits, proportion ticks, labels, time ticks (labelled ones only), title and legend."""
    ax.set_xlim(0, x_end)
    ax.set_ylim(0, 1)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt.fmt_num(v, 1)))
    ax.set_ylabel(ylabel or _km_ylabel(outcome, cumulative))
    ax.set_xlabel(axis_label(outcome["time_unit"]))
    if ticks:
        ax.set_xticks(ticks)
        ax.set_xticklabels([fmt.fmt_num(t, 0 if float(t).is_integer() else 1) for t in ticks])
    ax.set_title(outcome["label"], loc="left", fontsize=style.BASE_PT)
    ax.legend(loc="lower right" if cumulative else "upper right",
              handles=[matplotlib.lines.Line2D([], [], color=styles[a].colour,
                                               linestyle=styles[a].linestyle, lw=1.1,
                                               label=styles[a].name) for a in arms])
    ax.tick_params(axis="x", labelbottom=True)


def _draw_table(fig, axr, values: pd.DataFrame, arms: list, styles: Mapping, title: str,
                title_y: float | None, gid: str, pad_pt: float = 9.0) -> pd.DataFrame:
    """Numbers as text at their times (``values``: arm, time, n), one row per arm, under a
    bold title (at figure height ``title_y``, else the axes' own title)."""
    rows = []
    axr.set_ylim(len(arms) - 0.5, -0.5)
    for i, a in enumerate(arms):
        va = values[values["arm"].astype(str) == a].sort_values("time")
        for t, n in zip(pd.to_numeric(va["time"]), pd.to_numeric(va["n"])):
            txt = fmt.fmt_int(n, thousands=False)
            axr.text(t, i, txt, ha="center", va="center", gid=f"{gid}:{a}", clip_on=False)
            rows.append({"arm": a, "time": float(t), "n": int(n), "text": txt})
    axr.set_yticks(range(len(arms)))
    axr.set_yticklabels([styles[a].name for a in arms])
    axr.tick_params(axis="y", length=0, pad=pad_pt)
    axr.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for sp in axr.spines.values():
        sp.set_visible(False)
    axr.patch.set_visible(False)
    if title_y is None:
        axr.set_title(title, loc="left", fontsize=style.BASE_PT, fontweight="bold", pad=2)
    else:
        fig.text(0.01, title_y, title, ha="left", va="bottom", fontweight="bold")
    return pd.DataFrame(rows, columns=["arm", "time", "n", "text"])


def _at_times(risk: pd.DataFrame, cur: pd.DataFrame, arms: list, times: list) -> tuple:
    """``(number at risk, cumulative number of events)`` of each arm at ``times``: the first
    from the at-risk table, the second summed from the curve's event counts (``n_event`` at
    times up to t)."""
    grid = np.asarray(times, float)
    rt = pd.to_numeric(risk["time"]).to_numpy(float)
    r = risk[np.array([bool(np.any(np.abs(grid - x) < 1e-9)) for x in rt], dtype=bool)]
    at_risk = pd.DataFrame({"arm": r["arm"].astype(str), "time": pd.to_numeric(r["time"]),
                            "n": pd.to_numeric(r["n_risk"])})
    ev = []
    for a in arms:
        d = cur[cur["arm"].astype(str) == a]
        t = pd.to_numeric(d["time"]).to_numpy(float)
        e = pd.to_numeric(d["n_event"], errors="coerce").fillna(0).to_numpy(float)
        for x in times:
            ev.append({"arm": a, "time": float(x), "n": int(round(e[t <= x + 1e-9].sum()))})
    return at_risk, pd.DataFrame(ev, columns=["arm", "time", "n"])


def _km_inset(ax, estimates: pd.DataFrame | None, config: Mapping, outcome: str,
              cumulative: bool) -> str:
    """"HR 1.23 (95% CI 0.85 to 1.78)" of config ``figures.km_inset_model`` and "Log-rank
    p = 0.27" in a corner the curves leave free; the text ("" when nothing to show)."""
    if estimates is None or not config["figures"]["km_inset"]:
        return ""
    est = estimates[(estimates["outcome"].astype(str) == outcome)
                    & (estimates["term"].astype(str) == "arm")]
    level = float(config["conf_levels"][0])
    cl = pd.to_numeric(est["conf_level"], errors="coerce")
    model = config["figures"]["km_inset_model"]
    lines = []
    hr = est[(est["analysis"] == model) & ((cl - level).abs() < 1e-9)]
    if not len(hr):
        hr = est[est["analysis"] == model]
    if len(hr) and np.isfinite(float(hr["estimate"].iloc[0])):
        r = hr.iloc[0]
        lines.append(f"HR {fmt.fmt_num(r['estimate'], 2)} ({fmt.fmt_conf_level(level)} CI "
                     f"{fmt.fmt_num(r['conf_low'], 2)} to {fmt.fmt_num(r['conf_high'], 2)})")
    elif len(hr):
        lines.append("HR not estimable")
    lr = est[est["analysis"] == "logrank"]
    if len(lr) and not fmt.is_missing(lr["p_value"].iloc[0]):
        lines.append("Log-rank " + fmt.fmt_p_label(lr["p_value"].iloc[0]))
    if not lines:
        return ""
    txt = "\n".join(lines)
    ax.text(0.02, 0.97 if cumulative else 0.03, txt, transform=ax.transAxes, ha="left",
            va="top" if cumulative else "bottom", gid="inset",
            bbox=dict(facecolor="white", edgecolor="0.6", lw=0.4, pad=2.0))
    return txt


def _medians_from(estimates: pd.DataFrame | None, outcome: str) -> dict | None:
    """``{arm: median}`` from the ``km_median`` rows (NaN when not reached)."""
    if estimates is None:
        return None
    m = estimates[(estimates["analysis"] == "km_median")
                  & (estimates["outcome"].astype(str) == outcome)]
    out = {}
    for term, v in zip(m["term"].astype(str), m["estimate"]):
        if term.startswith("arm="):
            out.setdefault(term[4:], float(v))
    return out or None


@styled
def km_plot(km_curves: pd.DataFrame, km_at_risk: pd.DataFrame, config: Mapping, outcome: str,
            *, cumulative: bool = True, conf_level: float | None = None, ci: bool = True,
            censor_marks: bool = True, median_lines: bool | None = None,
            medians: Mapping | None = None, xmax: float | None = None,
            width="single", ylabel: str | None = None, estimates: pd.DataFrame | None = None):
    """Kaplan-Meier curves by arm with CI bands, censoring marks, and the number at risk and
    cumulative number of events under the axis (survminer's risk and events tables, Stata's
    ``sts graph, risktable``).

    Parameters
    ----------
    km_curves : pandas.DataFrame
        ``outcome, arm, time, n_risk, n_event, n_censor, surv, std_err,
        conf_level, lower, upper`` (time-0 row with surv 1 included; added
        if absent).  The cumulative events are summed from ``n_event``.
    km_at_risk : pandas.DataFrame
        ``outcome, arm, time, n_risk``: its times are the x ticks; a time whose label would
        collide with the next is left out of the axis and of both tables (no column under an
        unlabelled tick).
    config : mapping
        ``figures.km_inset``, ``figures.km_inset_model``, ``figures.km_median_lines``.
    outcome : str
        Outcome name (config ``outcomes.time_to_event[].name``).
    cumulative : bool
        Draw the cumulative proportion with the event, 1 - S(t) (default), or S(t).
    conf_level : float, optional
        CI level of the bands when ``km_curves`` holds several (default the
        first config ``conf_levels``).
    ci, censor_marks : bool
        Draw CI bands; tick marks at censoring times.
    median_lines : bool, optional
        Dotted lines at 0.5 to each arm's median (default config
        ``figures.km_median_lines``); medians from ``medians`` ``{arm: time}``, else the
        ``km_median`` rows of ``estimates``, else the first time S(t) <= 0.5 on the curve.
    xmax : float, optional
        Right end of the time axis (default: outcome ``tau``, else the last
        time).
    width : "single", "double" or float (mm)
    ylabel : str, optional
    estimates : pandas.DataFrame, optional
        The outcome's estimates: the inset (HR with its CI and log-rank p, when config
        ``figures.km_inset``) and the medians come from them.

    Returns
    -------
    fig : matplotlib.figure.Figure
    drawn : dict
        ``curves`` (arm, time, y, lower, upper: the step heights drawn),
        ``at_risk`` (arm, time, n_risk, text), ``events`` (arm, time, n_events, text),
        ``ticks`` (the labelled times), ``inset`` (text, "" when none), ``medians`` (arm,
        median) when median lines are drawn.
    """
    plt = pyplot()
    if not (km_curves["outcome"].astype(str) == outcome).any():
        return not_estimable_panel(f"{outcome_config(config, outcome)['label']}: Kaplan\u2013Meier",
                                   "no participants with this outcome: nothing to draw"), {}
    cur, risk = _km_rows(km_curves, km_at_risk, config, outcome, conf_level)
    styles = style.arm_styles(config)
    arms = [a for a in style.arm_order(config) if a in set(cur["arm"].astype(str))]
    tau = outcome_tau(config, outcome)
    risk_times = sorted(pd.to_numeric(risk["time"]).unique().tolist())
    x_end = xmax if xmax is not None else (tau if tau is not None else float(cur["time"].max()))
    if median_lines is None:
        median_lines = bool(config["figures"]["km_median_lines"])
    if medians is None:
        medians = _medians_from(estimates, outcome)
    first = pd.to_numeric(risk.loc[pd.to_numeric(risk["time"]) <= 1e-9, "n_risk"]).tolist()
    pad = max(9.0, _first_column_pad_pt(first or [0]))
    fig, ax, (axr, axe), (ry, ey) = _km_figure(plt, width, [styles[a].name for a in arms], pad)
    curves, med_rows = [], []
    for a in arms:
        steps = _km_steps(cur, a, cumulative)
        _draw_km_arm(ax, a, styles[a], steps, ci=ci, censor_marks=censor_marks)
        curves.append(pd.DataFrame({"arm": a, "time": steps.time, "y": steps.y,
                                    "lower": steps.lower, "upper": steps.upper}))
        if median_lines:
            med_rows.append(_draw_km_median(ax, a, steps, medians))
    ticks = _labelled_ticks(risk_times, x_end)
    _format_km_axes(ax, outcome_config(config, outcome), arms, styles,
                    x_end=x_end, ticks=ticks, cumulative=cumulative, ylabel=ylabel)
    inset = _km_inset(ax, estimates, config, outcome, cumulative)
    n_risk, n_ev = _at_times(risk, cur, arms, ticks)
    at_risk = _draw_table(fig, axr, n_risk, arms, styles, "Number at risk", ry, "atrisk", pad)
    events = _draw_table(fig, axe, n_ev, arms, styles, "Cumulative number of events", ey,
                         "events", pad)
    drawn = {"curves": pd.concat(curves, ignore_index=True),
             "at_risk": at_risk.rename(columns={"n": "n_risk"}),
             "events": events.rename(columns={"n": "n_events"}), "ticks": ticks,
             "inset": inset}
    if median_lines:
        drawn["medians"] = pd.DataFrame(med_rows, columns=["arm", "median"])
    return fig, drawn


# -------------------------------------------------- cumulative incidence --
def _draw_cif_panel(ax, cur: pd.DataFrame, cause: str, arms: list, styles: Mapping, *,
                    x_end: float, ci: bool, title: str, wrap: int, unit: str,
                    ticks: list) -> list:
    """One cause's panel: every arm's steps (flat at 0 without events) and band, axes and
    legend.  Returns the drawn rows (one frame per arm)."""
    rows = []
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
        pd.concat(rows)["upper"].fillna(0))) * 1.15)
    # a little room under 0 so an arm without events is a visible flat line above the spine
    ax.set_ylim(-0.015 * min(1.0, top), min(1.0, top))
    ax.set_xlabel(axis_label(unit))
    ax.set_ylabel("Cumulative incidence")
    ax.set_title("\n".join(textwrap.wrap(title, wrap)), loc="left", fontsize=style.BASE_PT)
    ax.set_xticks(ticks)
    ax.set_xticklabels([fmt.fmt_num(t, 0 if float(t).is_integer() else 1) for t in ticks])
    ax.legend(loc="lower right" if cause == "event" else "best")
    return rows


@styled
def cif_plot(cif_curves: pd.DataFrame, config: Mapping, outcome: str, *,
             conf_level: float | None = None, ci: bool = True, competing: bool = True,
             xmax: float | None = None, at_risk: pd.DataFrame | None = None):
    """Aalen-Johansen cumulative incidence by arm, with the competing event, and the number
    at risk under each panel.

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
        Add a second panel with the competing event.
    xmax : float, optional
    at_risk : pandas.DataFrame, optional
        ``outcome, arm, time, n_risk`` (the Kaplan-Meier at-risk table: free of either
        event and still followed): its times are the x ticks and a table under each panel,
        at labelled ticks only.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per cause (double column when two).  Every config arm is drawn and in the
        legend: an arm without events of a cause is a flat line at 0 (the axis starts a
        little below 0 so that it shows).
    drawn : dict
        ``curves``: cause, arm, time, y, lower, upper as drawn; ``at_risk``: arm, time,
        n_risk, text (one panel's table); ``ticks``.
    """
    plt = pyplot()
    if not (cif_curves["outcome"].astype(str) == outcome).any():
        return not_estimable_panel(f"{outcome_config(config, outcome)['label']}: cumulative "
                                   "incidence", "no cumulative incidence rows (no participants "
                                   "with this outcome)"), {}
    cur = _curve_rows(cif_curves, config, outcome, conf_level, "cif_plot", "rows")
    styles = style.arm_styles(config)
    arms = style.arm_order(config)
    causes = ["event"] + (["competing"] if competing and (cur["cause"] == "competing").any() else [])
    tau = outcome_tau(config, outcome)
    x_end = xmax if xmax is not None else (tau if tau is not None else float(cur["time"].max()))
    oc = outcome_config(config, outcome)
    unit = oc["time_unit"]
    risk = None
    if at_risk is not None:
        risk = at_risk[at_risk["outcome"].astype(str) == outcome]
        check_arms(risk, config, "cif_plot (at risk)")
        times = sorted(pd.to_numeric(risk["time"]).unique().tolist())
    else:
        times = config["survival"]["at_risk_days"] or round_times(x_end, unit)
    ticks = _labelled_ticks(times, x_end)
    width = "double" if len(causes) > 1 else "single"
    n_tab = len(arms) if risk is not None else 0
    fig, axes = plt.subplots(2 if risk is not None else 1, len(causes),
                             figsize=style.figsize(width, 62 + (6 + 3.4 * n_tab if n_tab else 0)),
                             squeeze=False,
                             gridspec_kw=({"height_ratios": [50, 3.4 * n_tab + 1.5]}
                                          if risk is not None else None))
    titles = {"event": f"{oc['label']}",
              "competing": f"{oc['competing_label'] or 'Competing event'} (competing event)"}
    rows, tables = [], []
    for k, cause in enumerate(causes):
        rows += _draw_cif_panel(axes[0, k], cur, cause, arms, styles, x_end=x_end, ci=ci,
                                title=titles[cause], wrap=48 if len(causes) > 1 else 60,
                                unit=unit, ticks=ticks)
        if risk is not None:
            axr = axes[1, k]
            axr.set_xlim(0, x_end)
            n_risk, _ = _at_times(risk, cur.assign(n_event=0), arms, ticks)
            first = n_risk.loc[n_risk["time"] <= 1e-9, "n"].tolist()
            tables.append(_draw_table(fig, axr, n_risk, arms, styles, "Number at risk", None,
                                      f"atrisk:{cause}",
                                      max(9.0, _first_column_pad_pt(first or [0]))))
    fig.tight_layout(h_pad=0.4)
    drawn = {"curves": pd.concat(rows, ignore_index=True), "ticks": ticks}
    if tables:
        drawn["at_risk"] = tables[0].rename(columns={"n": "n_risk"})
    return fig, drawn
