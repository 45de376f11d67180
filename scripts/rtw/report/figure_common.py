"""What the figure modules of the report room share.

The project style around every figure function (:func:`styled`), pyplot on
demand, config look-ups (an outcome's entry, the confidence level, tau), the
check that data arms are config arms, and thinned tick labels.
"""
from __future__ import annotations

import functools
from typing import Mapping

import pandas as pd

from rtw.report import fmt, style


def styled(func):
    """Draw inside the project style, whatever the caller's rcParams."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with style.context():
            return func(*args, **kwargs)
    return wrapper


def pyplot():
    """``matplotlib.pyplot``, imported when a figure is made."""
    import matplotlib.pyplot as plt
    return plt


def outcome_config(config: Mapping, outcome: str) -> dict:
    """The config entry of ``outcome`` (time-to-event, continuous, binary or count).

    Returns ``{"name": outcome, "label": outcome}`` when config has none.
    """
    for kind in ("time_to_event", "continuous", "binary"):
        for o in config["outcomes"][kind]:
            if o["name"] == outcome:
                return dict(o)
    c = config["outcomes"]["count"]
    if c and c["name"] == outcome:
        return dict(c)
    return {**tte_defaults(), "name": outcome, "label": outcome}


def tte_defaults() -> dict:
    """The schema's defaults of a time-to-event outcome entry (``$defs.tte``)."""
    from rtw.core.validation import load_schema
    props = load_schema()["$defs"]["tte"]["properties"]
    return {key: spec["default"] for key, spec in props.items() if "default" in spec}


def chosen_conf_level(config: Mapping, conf_level=None) -> float:
    """``conf_level`` when given, else the first config ``conf_levels``."""
    if conf_level is not None:
        return float(conf_level)
    return float(config["conf_levels"][0])


def rows_at_conf_level(df: pd.DataFrame, level: float) -> pd.DataFrame:
    """Rows of ``df`` at ``level`` when ``df`` holds several confidence levels."""
    if "conf_level" not in df.columns or df["conf_level"].nunique(dropna=False) <= 1:
        return df
    m = (pd.to_numeric(df["conf_level"], errors="coerce") - level).abs() < 1e-9
    if not m.any():
        raise ValueError(f"no rows at conf_level {level}; have {sorted(df['conf_level'].unique())}")
    return df[m]


def check_arms(df: pd.DataFrame, config: Mapping, what: str, col: str = "arm") -> None:
    """Raise ValueError naming the arm labels of ``df[col]`` that config ``trial.arms`` lacks."""
    arms = style.arm_order(config)
    unknown = sorted(set(df[col].dropna().astype(str)) - set(arms))
    if unknown:
        raise ValueError(f"{what}: arm labels {unknown} not in config trial.arms {arms}")


def outcome_tau(config: Mapping, outcome: str):
    """The outcome's ``tau`` (None when a time-to-event outcome sets none), for an outcome
    without one (count, continuous) ``trial.followup_days``; float or None."""
    o = outcome_config(config, outcome)
    t = o["tau"] if "tau" in o else config["trial"]["followup_days"]
    return None if t is None else float(t)


def thinned_tick_labels(ticks, x_end, min_gap: float = 0.09) -> list:
    """Tick labels, blanking a label too close to the next kept one (the last is kept)."""
    labels = [fmt.fmt_num(t, 0) for t in ticks]
    kept = None
    for i in range(len(ticks) - 1, -1, -1):
        if kept is not None and (kept - ticks[i]) < min_gap * x_end:
            labels[i] = ""
        else:
            kept = ticks[i]
    return labels


def reason_figure(title: str, reason: str, width: str = "single"):
    """A figure with one empty panel saying why nothing could be drawn (a model that is not
    estimable: e.g. no events), so that the figure file exists and shows the reason."""
    import textwrap

    plt = pyplot()
    fig, ax = plt.subplots(1, 1, figsize=style.figsize(width, 50))
    ax.axis("off")
    ax.set_title(title, loc="left", fontsize=style.BASE_PT)
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(reason, 60)), transform=ax.transAxes,
            ha="center", va="center", gid="reason")
    fig.tight_layout()
    return fig


def not_estimable_reason(est: pd.DataFrame, outcome: str, analyses=()) -> str:
    """The first ``not estimable: ...`` note of ``outcome`` in an estimates table (the
    ``analyses`` first when given), or ""."""
    if est is None or not len(est) or "note" not in est.columns:
        return ""
    rows = est[est["outcome"].astype(str) == outcome] if "outcome" in est.columns else est
    notes = rows["note"].fillna("").astype(str)
    order = []
    if analyses and "analysis" in rows.columns:
        for a in analyses:
            order += list(notes[rows["analysis"] == a])
    order += list(notes)
    for n in order:
        i = n.find("not estimable")
        if i >= 0:
            return n[i:]
    return ""


def term_label(config: Mapping, name: str) -> str:
    """Words for a model coefficient or column: config ``figures.term_labels`` (the name, or
    for ``column[level]`` the column), ``arm`` as "<intervention> vs <control>", else the
    name with underscores as spaces (first letter capitalised); a factor level as
    "<column words>: <level>"."""
    labels = dict(config["figures"]["term_labels"]) if config and "figures" in config else {}
    if name in labels:
        return str(labels[name])
    if "[" in name and name.endswith("]"):
        col, level = name[:-1].split("[", 1)
        return f"{term_label(config, col)}: {level}"
    if name == "arm" and config and "trial" in config and "arm_names" in config["trial"]:
        roles = style.arm_roles(config)
        names = style.arm_names(config)
        if "intervention" in roles and "control" in roles:
            return f"{names[roles['intervention']]} vs {names[roles['control']]}"
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def not_estimable_panel(title: str, reason: str, width="single"):
    """A figure of one empty panel saying why it has nothing to draw (a model that could not
    be estimated, no rows), so a run never stops on a figure."""
    import textwrap
    plt = pyplot()
    fig, ax = plt.subplots(figsize=style.figsize(width, 40))
    ax.axis("off")
    ax.set_title(title, loc="left", fontsize=style.BASE_PT)
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(reason[:1].upper() + reason[1:], 60)),
            transform=ax.transAxes, ha="center", va="center", gid="not_estimable")
    return fig
