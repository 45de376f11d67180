"""Figures and the presentation table of recurrent-event and multi-state outcomes (SPEC §9).

* :func:`mcf_plot`: the mean cumulative function by arm (step curves, pointwise CI bands) with
  the numbers at risk under the time axis at its labelled ticks, as survminer's ``ggsurvplot``
  with ``fun = "cumhaz"``.
* :func:`state_plot`: stacked state occupation probabilities, one panel per arm (the
  ``plot(survfit(...))`` of a multi-state model drawn as areas), states in config order.
* :func:`longitudinal_table`: per outcome, the proportion in each state at the chosen times,
  the expected time in each state up to tau with the difference between arms, the hazard
  ratio of each transition; the event rates, rate ratios, mean number of events by tau and
  the Andersen-Gill / PWP hazard ratios.

Everything is read from the curves and ``estimates.csv`` the survival room wrote
(:mod:`rtw.survival.longitudinal`); nothing is estimated here.  Words come from config:
outcome labels, ``event_label``, ``state_labels``, ``time_unit`` and the arm names.
"""
from __future__ import annotations

import re
from typing import Mapping

import matplotlib
import numpy as np
import pandas as pd

from rtw.core.config import covariate_names
from rtw.core.timescale import axis_label, round_times
from rtw.report import fmt, style
from rtw.report.figure_common import pyplot, styled, thinned_tick_labels

#: fill greys of the states (dark to light) and hatches, so states differ without colour
STATE_GREYS = ("0.25", "0.6", "0.85", "0.45", "0.72", "0.95")
STATE_HATCHES = ("", "", "//", "..", "xx", "\\\\")


def long_entry(config: Mapping, kind: str, name: str) -> dict:
    """The ``outcomes.<kind>`` entry named ``name``."""
    for e in config["outcomes"][kind]:
        if e["name"] == name:
            return dict(e)
    raise KeyError(f"no outcomes.{kind} entry named {name!r}")


def state_label(entry: Mapping, state) -> str:
    """The words for a state: ``state_labels`` or the state's own value."""
    return str(entry["state_labels"].get(str(state), state))


def _horizon(entry: Mapping, times) -> float:
    tau = entry["tau"]
    return float(tau) if tau is not None else float(np.nanmax(np.r_[0.0, np.asarray(times)]))


def _ticks(x_end: float, unit: str) -> list[float]:
    return [t for t in round_times(x_end, unit) if t <= x_end + 1e-9]


def _arms(config: Mapping, present) -> list:
    present = set(map(str, present))
    return [a for a in style.arm_order(config) if a in present]


# ----------------------------------------------------------------- MCF --
def _mcf_layout(plt, n_arms: int, names: list):
    """Curve axes over a number-at-risk axes, laid out in mm (as the KM figure)."""
    from rtw.report.measure import text_width_mm
    w_in, _ = style.figsize("single")
    w_mm = w_in * style.MM_PER_INCH
    top, plot, xaxis, ttitle, row, bottom = 5.0, 50.0, 9.5, 4.0, 3.4, 1.5
    h = top + plot + xaxis + ttitle + row * n_arms + bottom
    left = max(15.0, max([text_width_mm(n) for n in names] + [0.0]) + 5.5)
    fig = plt.figure(figsize=(w_in, style.mm(h)))
    lf, wf = left / w_mm, (w_mm - left - 4.0) / w_mm
    ax = fig.add_axes([lf, 1 - (top + plot) / h, wf, plot / h])
    axr = fig.add_axes([lf, bottom / h, wf, row * n_arms / h], sharex=ax)
    return fig, ax, axr, (bottom + row * n_arms + 0.6) / h


def _draw_risk(fig, axr, risk: pd.DataFrame, arms: list, styles: Mapping, title_y: float):
    axr.set_ylim(len(arms) - 0.5, -0.5)
    for i, a in enumerate(arms):
        for t, n in zip(risk.loc[risk["arm"] == a, "time"], risk.loc[risk["arm"] == a, "n_risk"]):
            axr.text(t, i, fmt.fmt_int(n, thousands=False), ha="center", va="center",
                     gid=f"atrisk:{a}", clip_on=False)
    axr.set_yticks(range(len(arms)))
    axr.set_yticklabels([styles[a].name for a in arms])
    axr.tick_params(axis="y", length=0, pad=9)
    axr.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for sp in axr.spines.values():
        sp.set_visible(False)
    axr.patch.set_visible(False)
    fig.text(0.01, title_y, "Number at risk", ha="left", va="bottom", fontweight="bold")


@styled
def mcf_plot(curves: pd.DataFrame, at_risk: pd.DataFrame, config: Mapping, outcome: str, *,
             ci: bool = True):
    """Mean cumulative function by arm with pointwise CI bands and numbers at risk.

    Parameters
    ----------
    curves : DataFrame
        ``arm, time, n_risk, n_event, n_censor, mcf, se, lower, upper`` (the ``mcf`` curves of
        :func:`rtw.survival.longitudinal.run_recurrent`, first config CI level).
    at_risk : DataFrame
        ``arm, time, n_risk`` (:func:`rtw.survival.longitudinal.at_risk`): drawn under the
        time axis at the times that carry a tick label.
    config : mapping
    outcome : str
        The ``outcomes.recurrent`` entry's name.

    Returns
    -------
    fig, drawn
        ``drawn``: ``curves`` (arm, time, y: the steps drawn, from (0, 0)) and ``at_risk``
        (arm, time, n_risk: the table drawn, one column per labelled tick; a tick left
        unlabelled because it is too close to the next has no column).
    """
    plt = pyplot()
    entry = long_entry(config, "recurrent", outcome)
    styles = style.arm_styles(config)
    arms = _arms(config, curves["arm"])
    x_end = _horizon(entry, curves["time"])
    ticks = _ticks(x_end, entry["time_unit"])
    fig, ax, axr, title_y = _mcf_layout(plt, len(arms), [styles[a].name for a in arms])
    drawn = []
    for a in arms:
        c = curves[curves["arm"].astype(str) == a].sort_values("time")
        keep = c["time"].to_numpy(float) <= x_end + 1e-9
        t = np.r_[0.0, c["time"].to_numpy(float)[keep], x_end]
        y = np.r_[0.0, c["mcf"].to_numpy(float)[keep]]
        y = np.r_[y, y[-1]]
        lo = np.r_[0.0, c["lower"].to_numpy(float)[keep]]
        hi = np.r_[0.0, c["upper"].to_numpy(float)[keep]]
        if ci:
            ax.fill_between(t, np.r_[lo, lo[-1]], np.r_[hi, hi[-1]], step="post",
                            color=styles[a].colour, alpha=0.18, linewidth=0)
        ax.step(t, y, where="post", color=styles[a].colour, linestyle=styles[a].linestyle,
                linewidth=1.1, label=styles[a].name, gid=f"mcf:{a}")
        drawn.append(pd.DataFrame({"arm": a, "time": t, "y": y}))
    ax.set_xlim(0, x_end)
    ax.set_ylim(0, None)
    labels = thinned_tick_labels(ticks, x_end)
    ax.set_xticks(ticks)
    ax.set_xticklabels(labels)
    ax.set_xlabel(axis_label(entry["time_unit"]))
    ax.set_ylabel("Mean number per participant")
    ax.set_title(entry["label"], loc="left", fontsize=style.BASE_PT)
    ax.legend(loc="upper left")
    shown = [t for t, lab in zip(ticks, labels) if lab]
    risk = at_risk[at_risk["arm"].astype(str).isin(arms)
                   & at_risk["time"].astype(float).apply(lambda t: any(abs(t - u) < 1e-9
                                                                       for u in shown))]
    risk = risk.assign(arm=risk["arm"].astype(str)).reset_index(drop=True)
    _draw_risk(fig, axr, risk, arms, styles, title_y)
    return fig, {"curves": pd.concat(drawn, ignore_index=True), "at_risk": risk}


# ---------------------------------------------------- state occupation --
@styled
def state_plot(curves: pd.DataFrame, config: Mapping, outcome: str):
    """Stacked state occupation probabilities (Aalen-Johansen) over time, one panel per arm.

    Parameters
    ----------
    curves : DataFrame
        ``arm, time, state, n_risk, pstate, ...`` (the ``states`` curves of
        :func:`rtw.survival.longitudinal.run_multistate`; a time-0 row per state).

    Returns
    -------
    fig, drawn
        ``drawn``: ``bands`` (arm, state, time, bottom, top: the stacked steps drawn).
    """
    plt = pyplot()
    entry = long_entry(config, "multistate", outcome)
    styles = style.arm_styles(config)
    arms = _arms(config, curves["arm"])
    states = [str(s) for s in entry["states"]]
    x_end = _horizon(entry, curves["time"])
    ticks = _ticks(x_end, entry["time_unit"])
    w_in, _ = style.figsize("double")
    fig, axes = plt.subplots(1, max(len(arms), 1), figsize=(w_in, style.mm(75)), sharey=True,
                             squeeze=False)
    bands = []
    for ax, a in zip(axes[0], arms):
        c = curves[curves["arm"].astype(str) == a]
        wide = c.pivot_table(index="time", columns="state", values="pstate", aggfunc="first")
        wide.columns = wide.columns.astype(str)
        wide = wide.reindex(columns=states).fillna(0.0)
        wide = wide[wide.index <= x_end + 1e-9]
        t = np.r_[wide.index.to_numpy(float), x_end]
        bottom = np.zeros(t.size)
        for k, s in enumerate(states):
            p = wide[s].to_numpy(float)
            top = bottom + np.r_[p, p[-1]]
            ax.fill_between(t, bottom, top, step="post", facecolor=STATE_GREYS[k % 6],
                            hatch=STATE_HATCHES[k % 6], edgecolor="0.15", linewidth=0.4,
                            label=state_label(entry, s), gid=f"state:{a}:{s}")
            bands.append(pd.DataFrame({"arm": a, "state": s, "time": t, "bottom": bottom,
                                       "top": top}))
            bottom = top
        ax.set_xlim(0, x_end)
        ax.set_ylim(0, 1)
        ax.set_xticks(ticks)
        ax.set_xticklabels(thinned_tick_labels(ticks, x_end))
        ax.set_xlabel(axis_label(entry["time_unit"]))
        ax.set_title(styles[a].name, loc="left", fontsize=style.BASE_PT)
        ax.yaxis.set_major_formatter(
            matplotlib.ticker.FuncFormatter(lambda v, _: fmt.fmt_num(v, 1)))
    axes[0][0].set_ylabel("Proportion of participants")
    fig.suptitle(entry["label"], x=0.09, ha="left", fontsize=style.BASE_PT, fontweight="bold")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="center right", frameon=False)
    fig.subplots_adjust(left=0.09, right=0.8, bottom=0.17, top=0.86, wspace=0.08)
    return fig, {"bands": pd.concat(bands, ignore_index=True) if bands else pd.DataFrame()}


# --------------------------------------------------------------- table --
def _rows(est: pd.DataFrame, analysis: str, outcome: str, level: float) -> pd.DataFrame:
    e = est[(est["analysis"] == analysis) & (est["outcome"] == outcome)]
    at = e[np.isclose(e["conf_level"].astype(float), level) | e["conf_level"].isna()]
    return at.set_index("term")


def _cell(r, dp: int, *, pct: bool = False) -> str:
    if r is None:
        return ""
    if not np.isfinite(r["estimate"]):
        return str(r["note"]) if str(r["note"]).startswith("not estimable") else ""
    k = 100.0 if pct else 1.0
    return fmt.fmt_est_ci(r["estimate"] * k, r["conf_low"] * k, r["conf_high"] * k, dp)


def _get(rows: pd.DataFrame, term: str):
    return rows.loc[term] if term in rows.index else None


def _effect(r, dp: int | None = None, ratio: bool = False) -> tuple[str, str, str]:
    """(ratio cell, difference cell, p) of a contrast: a ratio with ``dp`` decimals in the
    first, a difference in the second with the precision rule by magnitude
    (:func:`rtw.report.fmt.diff_dp`); a not-estimable one shows its reason."""
    if r is None:
        return "", "", ""
    if not np.isfinite(r["estimate"]):
        why = str(r["note"]).split(";", 1)[0] if str(r["note"]).startswith("not estimable") else ""
        return (why, "", "") if ratio else ("", why, "")
    if ratio:
        return fmt.fmt_ratio_ci(r["estimate"], r["conf_low"], r["conf_high"], dp), "", \
            fmt.fmt_p(r["p_value"])
    dp = fmt.diff_dp(r["estimate"], r["conf_low"], r["conf_high"]) if dp is None else dp
    return "", fmt.fmt_est_ci(r["estimate"], r["conf_low"], r["conf_high"], dp), \
        fmt.fmt_p(r["p_value"])


def _multistate_rows(est, entry, arms, level) -> list[list[str]]:
    name, unit = entry["name"], entry["time_unit"]
    out = [[entry["label"], "", "", "", "", ""]]
    prob = _rows(est, "state_probability", name, level)
    times = sorted({float(t.split("t=")[1]) for t in prob.index if "t=" in t})
    for s in entry["states"]:
        for t in times:
            tt = fmt.fmt_num(t, 0 if float(t).is_integer() else 1)
            cells = [_cell(_get(prob, f"arm={a};state={s};t={tt}"), 1, pct=True) for a in arms]
            out.append([f"  {state_label(entry, s)} at {tt} {unit}, % (CI)", *cells, "", "", ""])
    rmean = _rows(est, "state_time", name, level)
    diff = _rows(est, "state_time_difference", name, level)
    for s in entry["states"]:
        cells = [_cell(_get(rmean, f"arm={a};state={s}"), 1) for a in arms]
        out.append([f"  Time {state_label(entry, s).lower()} up to {fmt.fmt_num(_tau(entry, rmean), 0)}"
                    f" {unit}, mean (CI)", *cells, *_effect(_get(diff, f"state={s}"))])
    trans = _rows(est, "transition_cox", name, level)
    for term in trans.index:
        a, b = (p.split("=", 1)[1] for p in term.split(";"))
        out.append([f"  {state_label(entry, a)} to {state_label(entry, b).lower()}, HR (CI)",
                    *[""] * len(arms), *_effect(trans.loc[term], 2, ratio=True)])
    return out


def _tau(entry, rows) -> float:
    if entry["tau"] is not None:
        return float(entry["tau"])
    note = " ".join(rows["note"].astype(str))
    m = re.search(r"up to ([0-9.]+)", note)
    return float(m.group(1)) if m else float("nan")


def _recurrent_rows(est, entry, arms, level) -> list[list[str]]:
    name, unit = entry["name"], entry["time_unit"]
    what = entry["event_label"] or "Events"
    out = [[entry["label"], "", "", "", "", ""]]
    rates = _rows(est, "event_rate", name, level)
    cells = []
    for a in arms:
        r = _get(rates, f"arm={a};stat=rate")
        cells.append("" if r is None else f"{fmt.fmt_int(r['events'])} / {fmt.fmt_int(r['n'])}")
    out.append([f"  {what}, n / participants at risk", *cells, "", "", ""])
    per = f"per 100 person-{unit}" if unit != "days" else "per 1,000 person-days"
    k = 100.0 if unit != "days" else 1000.0
    cells = []
    for a in arms:
        r = _get(rates, f"arm={a};stat=rate")
        cells.append("" if r is None else fmt.fmt_num(r["estimate"] * k, 2))
    out.append([f"  Rate {per}", *cells, *_effect(_get(_rows(est, "rate_nb", name, level), "arm"),
                                                   2, ratio=True)])
    out.append(["  Rate ratio, Poisson with robust SE", *[""] * len(arms),
                *_effect(_get(_rows(est, "rate_poisson", name, level), "arm"), 2, ratio=True)])
    mcf = _rows(est, "mcf", name, level)
    diff = _rows(est, "mcf_difference", name, level)
    t = next((term.split("t=")[1] for term in mcf.index), "")
    cells = [_cell(_get(mcf, f"arm={a};t={t}"), 2) for a in arms]
    out.append([f"  {what}, mean number per participant by {t} {unit} (CI)", *cells,
                *_effect(_get(diff, f"t={t}"))])
    for analysis, words in (("ag_cox", "Andersen-Gill"), ("pwp_total", "PWP, total time"),
                            ("pwp_gap", "PWP, gap time")):
        out.append([f"  HR (CI), {words}", *[""] * len(arms),
                    *_effect(_get(_rows(est, analysis, name, level), "arm"), 2, ratio=True)])
    return out


def longitudinal_table(est: pd.DataFrame, config: Mapping) -> pd.DataFrame:
    """The presentation table of every multi-state and recurrent-event outcome.

    Columns: the measure, one per arm (config order, arm names), ``Ratio (CI)`` (hazard and
    rate ratios, intervention vs control), ``Difference (CI)`` (differences in expected time
    and in mean number of events, on the outcome's scale; precision by magnitude,
    :func:`rtw.report.fmt.diff_dp`) and ``p``; CIs at the first config level.  A quantity
    that could not be estimated shows ``"not estimable: <reason>"`` in its cell.
    """
    level = float(config["conf_levels"][0])
    arms = style.arm_order(config)
    names = style.arm_names(config)
    lv = f"{round(100 * level)}%"
    rows = []
    for entry in config["outcomes"]["multistate"]:
        rows += _multistate_rows(est, entry, arms, level)
    for entry in config["outcomes"]["recurrent"]:
        rows += _recurrent_rows(est, entry, arms, level)
    cols = ["", *(names[a] for a in arms), f"Ratio ({lv} CI)", f"Difference ({lv} CI)", "p"]
    return pd.DataFrame(rows, columns=cols)


def _adjusted(config: Mapping) -> str:
    from rtw.report.tables import variable_label
    cols = [*config["stratification_factors"], *covariate_names(config)]
    labels = [variable_label(config, str(c)) for c in dict.fromkeys(cols)]
    return ("Models adjust for " + ", ".join(labels) + ".") if cols else "Models are unadjusted."


def longitudinal_texts(config: Mapping) -> dict:
    """Title and footnote of :func:`longitudinal_table`."""
    control, intervention = (style.arm_names(config)[a] for a in style.arm_order(config))
    return {
        "title": "Outcomes over time: state occupation and recurrent events by arm",
        "footnote": (
            f"Effects are {intervention} versus {control}. State percentages and expected "
            "times: Aalen-Johansen estimates with robust (infinitesimal jackknife) SEs and log "
            "CIs; differences in expected time with independent-arm SEs. HR: Cox models of "
            "each transition, and Andersen-Gill and Prentice-Williams-Peterson models of "
            "recurrent events, robust SE by participant. Rates: crude; the rate ratio "
            "beside them is negative binomial with a log person-time offset. Mean number: "
            "Nelson-Aalen mean cumulative function (Lawless-Nadeau SE). " + _adjusted(config)),
    }
