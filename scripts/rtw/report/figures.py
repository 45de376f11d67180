"""Publication figures drawn from tidy data frames.

Every function takes tidy data (as written by the analysis rules) and the
config, draws with the project style (:mod:`rtw.report.style`), and returns
``(fig, drawn)``: the matplotlib Figure and a dict of data frames holding
exactly what was drawn (for tests, and for a reader who wants the numbers
behind a figure).  Every function draws inside :func:`rtw.report.style.context`, so
callers need not set the style.  Save with :func:`rtw.report.style.save_figure`.  Nothing here
estimates anything: curves, estimates and tests come from the survival and
regression modules; only descriptive binning (days-off histogram) and a
lowess smooth of residuals (Schoenfeld plot, as R's ``plot.cox.zph`` smooths)
are computed for display.

Arms are drawn in config order (``trial.arms``) with config names and
colours and, for greyscale, a distinct line style, marker and hatch each.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd

from rtw.report import fmt, style

# --------------------------------------------------------------- helpers --


def _styled(func):
    """Draw inside the project style, whatever the caller's rcParams."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with style.context():
            return func(*args, **kwargs)
    return wrapper


def _plt():
    import matplotlib.pyplot as plt
    return plt


def _outcome_cfg(config: Mapping, outcome: str) -> dict:
    for kind in ("time_to_event", "continuous", "binary"):
        for o in (config.get("outcomes") or {}).get(kind) or []:
            if o.get("name") == outcome:
                return dict(o)
    c = (config.get("outcomes") or {}).get("count") or {}
    if c.get("name") == outcome:
        return dict(c)
    return {"name": outcome, "label": outcome}


def _conf_level(config: Mapping, conf_level=None) -> float:
    if conf_level is not None:
        return float(conf_level)
    return float((config.get("conf_levels") or [0.95])[0])


def _select_level(df: pd.DataFrame, level: float) -> pd.DataFrame:
    if "conf_level" not in df.columns or df["conf_level"].nunique(dropna=False) <= 1:
        return df
    m = (pd.to_numeric(df["conf_level"], errors="coerce") - level).abs() < 1e-9
    if not m.any():
        raise ValueError(f"no rows at conf_level {level}; have {sorted(df['conf_level'].unique())}")
    return df[m]


def _check_arms(df: pd.DataFrame, config: Mapping, what: str, col: str = "arm") -> None:
    arms = style.arm_order(config)
    unknown = sorted(set(df[col].dropna().astype(str)) - set(arms))
    if unknown:
        raise ValueError(f"{what}: arm labels {unknown} not in config trial.arms {arms}")


def _tau(config: Mapping, outcome: str, default=None):
    o = _outcome_cfg(config, outcome)
    t = o.get("tau", (config.get("trial") or {}).get("followup_days", default))
    return None if t is None else float(t)


def favours_labels(config: Mapping, lower_favours_intervention: bool = True) -> tuple:
    """``("Favours <intervention>", "Favours <control>")`` for a ratio axis (left, right).

    Parameters
    ----------
    config : mapping
    lower_favours_intervention : bool
        True for days off (IRR < 1 is better with the intervention); False
        for a hazard ratio of return to work (HR > 1 is better).
    """
    roles = style.arm_roles(config)
    names = style.arm_names(config)
    labels = list(roles.values())
    ctrl = roles.get("control", labels[0])
    intv = roles.get("intervention", labels[-1])
    a, b = f"Favours {names[intv]}", f"Favours {names[ctrl]}"
    return (a, b) if lower_favours_intervention else (b, a)


# ------------------------------------------------------------ CONSORT --
_LINE_MM = 7 * 1.25 * 25.4 / 72      # one 7-pt line (with leading) in mm
_PAD_MM = 1.6


_WIDTH_CACHE: dict = {}


def _text_width_mm(s: str, size: float = style.BASE_PT) -> float:
    """Width of a string in the project font at ``size`` pt, in mm (exact glyph layout)."""
    key = (s, size)
    if key not in _WIDTH_CACHE:
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextPath
        if not s.strip():
            _WIDTH_CACHE[key] = 0.0
        else:
            tp = TextPath((0, 0), s, size=size, prop=FontProperties(family=style.FONT_FAMILY))
            _WIDTH_CACHE[key] = float(tp.get_extents().x1) * 25.4 / 72
    return _WIDTH_CACHE[key]


def _wrap(lines: Sequence[str], width_mm: float) -> list:
    """Greedy word wrap by measured width; continuation lines indented 2 spaces more."""
    avail = width_mm - 2 * _PAD_MM - 0.5
    out = []
    for ln in lines:
        indent = len(ln) - len(ln.lstrip(" "))
        words = ln.strip().split(" ")
        cur = " " * indent
        for w in words:
            trial = cur + ("" if cur.strip() == "" else " ") + w
            if cur.strip() and _text_width_mm(trial) > avail:
                out.append(cur)
                cur = " " * (indent + 2) + w
            else:
                cur = trial
        out.append(cur)
    return out


#: Display text of known CONSORT reasons (withdrawal levels); others are prettified.
REASON_LABELS = {
    "intervention": "From intervention", "from_intervention": "From intervention",
    "followup": "From follow-up", "follow_up": "From follow-up",
    "from_follow_up": "From follow-up", "from_followup": "From follow-up",
    "full": "Full withdrawal", "full_data_kept": "Full, data kept",
    "full_data_removed": "Full, data removed",
}


def _reason_text(reason, labels: Mapping | None = None) -> str:
    r = str(reason).strip()
    table = {**REASON_LABELS, **(labels or {})}
    if r in table:
        return str(table[r])
    s = r.replace("_", " ")
    return s[:1].upper() + s[1:]


@_styled
def consort_diagram(consort_df: pd.DataFrame, config: Mapping):
    """CONSORT 2010 flow diagram drawn from ``consort.csv``.

    Parameters
    ----------
    consort_df : pandas.DataFrame
        Columns ``stage_order, stage, arm, n, reason``; stages ``invited``,
        ``responded``, ``assessed_eligible``, ``not_eligible`` (reason rows
        plus a total with empty reason), ``declined``, ``randomised``,
        ``allocated``, ``received_intervention``, ``withdrawn`` (reason rows
        plus total), ``analysed_primary``, ``missing_primary``.  Absent
        stages are left out of the diagram.
    config : mapping
        Arm order and names.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Double-column width; boxes for enrolment, then one column per arm
        for allocation, follow-up and analysis.
    drawn : dict
        ``boxes``: one row per box (``box``, ``stage``, ``arm``, ``text``);
        ``counts``: one row per number drawn (``stage, arm, reason, n,
        box``), equal to the rows of ``consort_df`` that are drawn.
    """
    plt = _plt()
    df = consort_df.copy()
    df["arm"] = df["arm"].fillna("all").astype(str)
    df["reason"] = df["reason"].fillna("").astype(str)
    df["n"] = pd.to_numeric(df["n"], errors="raise").astype(int)
    if "stage_order" in df.columns:
        df = df.sort_values(["stage_order"], kind="mergesort")
    arms = style.arm_order(config)
    names = style.arm_names(config)
    reason_labels = ((config.get("figures") or {}).get("consort_reason_labels") or {})
    arm_rows = df[~df["arm"].isin(["all"])]
    _check_arms(arm_rows, config, "consort_diagram")

    counts = []

    def total(stage, arm="all"):
        r = df[(df["stage"] == stage) & (df["arm"] == arm) & (df["reason"] == "")]
        if not len(r):
            return None
        return int(r["n"].iloc[0])

    def reasons(stage, arm="all"):
        r = df[(df["stage"] == stage) & (df["arm"] == arm) & (df["reason"] != "")]
        return list(zip(r["reason"], r["n"].astype(int)))

    def n_txt(n):
        return f"(n={fmt.fmt_int(n)})"

    W = style.DOUBLE_COLUMN_MM
    left_label_w = 9.0
    arm_cx = {a: left_label_w + (W - left_label_w) * f
              for a, f in zip(arms, np.linspace(0.24, 0.76, len(arms)) if len(arms) > 1 else [0.5])}
    cx_main = float(np.mean(list(arm_cx.values()))) if arm_cx else W / 2
    arm_w = min(72.0, (W - left_label_w) / max(len(arms), 1) - 10)
    main_w = 56.0
    side_left = cx_main + main_w / 2 + 5
    side_w = W - 2 - side_left
    side_x = side_left + side_w / 2
    gap = 6.0

    boxes = []   # dicts: key, stage, arm, cx, top, w, h, lines
    y = 3.0

    def add_box(key, stage, arm, cx, top, w, lines, center=True):
        lines = _wrap(lines, w)
        h = len(lines) * _LINE_MM + 2 * _PAD_MM
        b = {"box": key, "stage": stage, "arm": arm, "cx": cx, "top": top, "w": w, "h": h,
             "lines": lines, "center": center}
        boxes.append(b)
        return b

    def count(stage, arm, reason, n, key):
        counts.append({"stage": stage, "arm": arm, "reason": reason, "n": int(n), "box": key})

    # --- enrolment (single column) ---
    main_chain = []
    for stage, text in [("invited", "Invited"), ("responded", "Responded"),
                        ("assessed_eligible", "Assessed for eligibility")]:
        n = total(stage)
        if n is None:
            continue
        b = add_box(stage, stage, "all", cx_main, y, main_w, [f"{text} {n_txt(n)}"])
        count(stage, "all", "", n, stage)
        main_chain.append(b)
        y = b["top"] + b["h"] + gap
    excl_lines = []
    n_ne = total("not_eligible")
    if n_ne is not None or reasons("not_eligible"):
        if n_ne is not None:
            excl_lines.append(f"Not eligible {n_txt(n_ne)}")
            count("not_eligible", "all", "", n_ne, "excluded")
        for reason, n in reasons("not_eligible"):
            excl_lines.append(f"  \u2022 {_reason_text(reason, reason_labels)} {n_txt(n)}")
            count("not_eligible", "all", reason, n, "excluded")
    n_dec = total("declined")
    if n_dec is not None:
        excl_lines.append(f"Declined to participate {n_txt(n_dec)}")
        count("declined", "all", "", n_dec, "excluded")
    for reason, n in reasons("declined"):
        excl_lines.append(f"  \u2022 {_reason_text(reason, reason_labels)} {n_txt(n)}")
        count("declined", "all", reason, n, "excluded")
    excl = None
    if excl_lines:
        excl = add_box("excluded", "excluded", "all", side_x, y, side_w, excl_lines, center=False)
        y = excl["top"] + excl["h"] + gap
    n_rand = total("randomised")
    rand = None
    if n_rand is not None:
        rand = add_box("randomised", "randomised", "all", cx_main, y, main_w,
                       [f"Randomised {n_txt(n_rand)}"])
        count("randomised", "all", "", n_rand, "randomised")
        main_chain.append(rand)
        y = rand["top"] + rand["h"] + gap + 4

    # --- per-arm columns ---
    sections = []

    def arm_section(title, build):
        nonlocal y
        per_arm = {}
        for a in arms:
            lines = build(a)
            if lines:
                per_arm[a] = lines
        if not per_arm:
            return None
        top = y + 5.0  # room for the section label
        wrapped = {a: _wrap(ls, arm_w) for a, ls in per_arm.items()}
        h = max(len(ls) for ls in wrapped.values()) * _LINE_MM + 2 * _PAD_MM
        row = {}
        for a, ls in per_arm.items():
            b = add_box(f"{title.lower()}:{a}", title.lower(), a, arm_cx[a], top, arm_w, ls,
                        center=False)
            b["h"] = h
            row[a] = b
        sections.append((title, y, top + h))
        y = top + h + gap
        return row

    def alloc_lines(a):
        lines = []
        n = total("allocated", a)
        if n is not None:
            lines.append(f"Allocated to {names[a]} {n_txt(n)}")
            count("allocated", a, "", n, f"allocation:{a}")
        n = total("received_intervention", a)
        if n is not None:
            lines.append(f"  Received allocated intervention {n_txt(n)}")
            count("received_intervention", a, "", n, f"allocation:{a}")
        return lines

    def withdrawn_lines(a):
        lines = []
        n = total("withdrawn", a)
        rs = reasons("withdrawn", a)
        if n is None and not rs:
            return lines
        if n is not None:
            lines.append(f"Withdrawn {n_txt(n)}")
            count("withdrawn", a, "", n, f"follow-up:{a}")
        else:
            lines.append("Withdrawn")
        for reason, k in rs:
            lines.append(f"  \u2022 {_reason_text(reason, reason_labels)} {n_txt(k)}")
            count("withdrawn", a, reason, k, f"follow-up:{a}")
        return lines

    def analysis_lines(a):
        lines = []
        for stage, text in [("analysed_primary", "Analysed for primary outcome"),
                            ("missing_primary", "Missing primary outcome")]:
            n = total(stage, a)
            if n is not None:
                lines.append(f"{text} {n_txt(n)}")
                count(stage, a, "", n, f"analysis:{a}")
        return lines

    rows = {}
    for title, build in [("Allocation", alloc_lines), ("Follow-up", withdrawn_lines),
                         ("Analysis", analysis_lines)]:
        r = arm_section(title, build)
        if r:
            rows[title] = r

    H = y + 1.0
    fig = plt.figure(figsize=(style.mm(W), style.mm(H)))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, W)
    ax.set_ylim(H, 0)
    ax.axis("off")
    from matplotlib.patches import FancyBboxPatch, Rectangle

    def draw_box(b):
        ax.add_patch(Rectangle((b["cx"] - b["w"] / 2, b["top"]), b["w"], b["h"], facecolor="white",
                               edgecolor="black", linewidth=0.6, zorder=2))
        text = "\n".join(b["lines"])
        if b["center"]:
            ax.text(b["cx"], b["top"] + b["h"] / 2, text, ha="center", va="center", zorder=3,
                    linespacing=1.25)
        else:
            ax.text(b["cx"] - b["w"] / 2 + _PAD_MM, b["top"] + _PAD_MM, text, ha="left", va="top",
                    zorder=3, linespacing=1.25)

    for b in boxes:
        draw_box(b)

    def arrow(x0, y0, x1, y1, head=True):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>" if head else "-", lw=0.6, color="black",
                                    shrinkA=0, shrinkB=0, mutation_scale=6), zorder=1)

    for b0, b1 in zip(main_chain, main_chain[1:]):
        arrow(b0["cx"], b0["top"] + b0["h"], b1["cx"], b1["top"])
    if excl is not None and main_chain:
        prev = [b for b in main_chain if b["top"] < excl["top"]]
        if prev:
            ymid = excl["top"] + excl["h"] / 2
            arrow(cx_main, ymid, excl["cx"] - excl["w"] / 2, ymid)
    # randomised -> allocation boxes
    if rand is not None and "Allocation" in rows:
        ysplit = rand["top"] + rand["h"] + 3
        arrow(cx_main, rand["top"] + rand["h"], cx_main, ysplit, head=False)
        xs = [b["cx"] for b in rows["Allocation"].values()]
        ax.plot([min(xs + [cx_main]), max(xs + [cx_main])], [ysplit, ysplit], color="black", lw=0.6)
        for b in rows["Allocation"].values():
            arrow(b["cx"], ysplit, b["cx"], b["top"])
    order = [t for t in ("Allocation", "Follow-up", "Analysis") if t in rows]
    for t0, t1 in zip(order, order[1:]):
        for a in arms:
            if a in rows[t0] and a in rows[t1]:
                b0, b1 = rows[t0][a], rows[t1][a]
                arrow(b0["cx"], b0["top"] + b0["h"], b1["cx"], b1["top"])
    # section labels (CONSORT template banners)
    for title, top, bottom in sections:
        ax.add_patch(FancyBboxPatch((cx_main - 15, top + 0.6), 30, 3.6, boxstyle="round,pad=0.3",
                                    facecolor="#e6e6e6", edgecolor="black", linewidth=0.5))
        ax.text(cx_main, top + 2.4, title, ha="center", va="center", fontweight="bold")
    if main_chain:
        top = main_chain[0]["top"]
        ax.text(2.0, top + 2, "Enrolment", ha="left", va="top", fontweight="bold", rotation=90)

    drawn = {
        "boxes": pd.DataFrame([{"box": b["box"], "stage": b["stage"], "arm": b["arm"],
                                "text": "\n".join(b["lines"])} for b in boxes]),
        "counts": pd.DataFrame(counts, columns=["stage", "arm", "reason", "n", "box"]),
    }
    return fig, drawn


# ------------------------------------------------------- Kaplan-Meier --
def _steps_with_origin(d: pd.DataFrame, ycol: str) -> pd.DataFrame:
    d = d.sort_values("time", kind="mergesort")
    if not len(d) or float(d["time"].iloc[0]) > 0:
        origin = {c: np.nan for c in d.columns}
        origin.update({"time": 0.0, "surv": 1.0, "lower": 1.0, "upper": 1.0, "n_censor": 0})
        if ycol == "cif":
            origin.update({"cif": 0.0, "lower": 0.0, "upper": 0.0})
        d = pd.concat([pd.DataFrame([origin]), d], ignore_index=True)
    return d.reset_index(drop=True)


def _first_time_at_or_below(time, surv, p=0.5):
    hit = np.nonzero(np.asarray(surv) <= p + 1e-12)[0]
    return float(np.asarray(time)[hit[0]]) if len(hit) else np.nan


def _thinned_labels(ticks, x_end, min_gap: float = 0.09) -> list:
    """Tick labels, blanking a label too close to the next kept one (the last is kept)."""
    labels = [fmt.fmt_num(t, 0) for t in ticks]
    kept = None
    for i in range(len(ticks) - 1, -1, -1):
        if kept is not None and (kept - ticks[i]) < min_gap * x_end:
            labels[i] = ""
        else:
            kept = ticks[i]
    return labels


@_styled
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
    plt = _plt()
    level = _conf_level(config, conf_level)
    cur = km_curves[km_curves["outcome"].astype(str) == outcome]
    if not len(cur):
        raise ValueError(f"km_plot: no curve rows for outcome {outcome!r}")
    cur = _select_level(cur, level)
    _check_arms(cur, config, "km_plot")
    risk = km_at_risk[km_at_risk["outcome"].astype(str) == outcome]
    _check_arms(risk, config, "km_plot (at risk)")
    styles = style.arm_styles(config)
    arms = [a for a in style.arm_order(config) if a in set(cur["arm"].astype(str))]
    tau = _tau(config, outcome)
    risk_times = sorted(pd.to_numeric(risk["time"]).unique().tolist())
    x_end = xmax if xmax is not None else (tau if tau is not None else float(cur["time"].max()))

    n_rows = len(arms)
    w_in, _ = style.figsize(width)
    w_mm = w_in * style.MM_PER_INCH
    # layout in millimetres: title, plot, x axis (ticks + label), table title, table rows
    top_mm, plot_mm, xaxis_mm, ttitle_mm, row_mm, bottom_mm = 5.0, 50.0, 9.5, 4.0, 3.4, 1.5
    h_mm = top_mm + plot_mm + xaxis_mm + ttitle_mm + row_mm * n_rows + bottom_mm
    longest = max([_text_width_mm(styles[a].name) for a in arms] + [0.0])
    left_mm = max(15.0, longest + 5.5)
    right_mm = 4.0
    fig = plt.figure(figsize=(w_in, style.mm(h_mm)))
    lf, wf = left_mm / w_mm, (w_mm - left_mm - right_mm) / w_mm
    ax = fig.add_axes([lf, 1 - (top_mm + plot_mm) / h_mm, wf, plot_mm / h_mm])
    table_bottom = bottom_mm / h_mm
    axr = fig.add_axes([lf, table_bottom, wf, (row_mm * n_rows) / h_mm], sharex=ax)
    table_title_y = (bottom_mm + row_mm * n_rows + 0.6) / h_mm

    curves, med_rows = [], []
    for a in arms:
        st = styles[a]
        d = _steps_with_origin(cur[cur["arm"].astype(str) == a], "surv")
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
        if ci:
            ax.fill_between(t, ylo, yhi, step="post", color=st.colour, alpha=0.18, linewidth=0,
                            hatch=None)
        ax.step(t, y, where="post", color=st.colour, linestyle=st.linestyle, linewidth=1.1,
                label=st.name, gid=f"km:{a}")
        if censor_marks and "n_censor" in d:
            cm = pd.to_numeric(d["n_censor"], errors="coerce").fillna(0).to_numpy() > 0
            if cm.any():
                ax.plot(t[cm], y[cm], linestyle="none", marker="|", markersize=3.5,
                        markeredgewidth=0.6, color=st.colour, gid=f"censor:{a}")
        curves.append(pd.DataFrame({"arm": a, "time": t, "y": y, "lower": ylo, "upper": yhi}))
        if median_lines:
            m = (medians or {}).get(a, None) if medians else _first_time_at_or_below(t, s)
            if m is not None and np.isfinite(m):
                ax.plot([0, m, m], [0.5, 0.5, 0 if cumulative else 0], color="0.4", lw=0.6,
                        linestyle=":", gid=f"median:{a}")
            med_rows.append({"arm": a, "median": m})

    ax.set_xlim(0, x_end)
    ax.set_ylim(0, 1)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt.fmt_num(v, 1)))
    oc = _outcome_cfg(config, outcome)
    ax.set_ylabel(ylabel or ("Proportion returned to work" if cumulative
                             else "Proportion not returned to work"))
    ax.set_xlabel("Days since randomisation")
    ticks = [t for t in risk_times if t <= x_end + 1e-9] or None
    if ticks:
        ax.set_xticks(ticks)
        ax.set_xticklabels(_thinned_labels(ticks, x_end))
    ax.set_title(oc.get("label", outcome), loc="left", fontsize=style.BASE_PT)
    ax.legend(loc="lower right" if cumulative else "upper right",
              handles=[matplotlib.lines.Line2D([], [], color=styles[a].colour,
                                               linestyle=styles[a].linestyle, lw=1.1,
                                               label=styles[a].name) for a in arms])
    ax.tick_params(axis="x", labelbottom=True)

    # number-at-risk table
    at_risk_rows = []
    axr.set_ylim(n_rows - 0.5, -0.5)
    for i, a in enumerate(arms):
        ra = risk[risk["arm"].astype(str) == a].sort_values("time")
        for t, n in zip(pd.to_numeric(ra["time"]), pd.to_numeric(ra["n_risk"])):
            if t > x_end + 1e-9:
                continue
            txt = fmt.fmt_int(n, thousands=False)
            axr.text(t, i, txt, ha="center", va="center", gid=f"atrisk:{a}", clip_on=False)
            at_risk_rows.append({"arm": a, "time": float(t), "n_risk": int(n), "text": txt})
    axr.set_yticks(range(n_rows))
    axr.set_yticklabels([styles[a].name for a in arms])
    axr.tick_params(axis="y", length=0, pad=9)
    axr.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for sp in axr.spines.values():
        sp.set_visible(False)
    axr.patch.set_visible(False)
    fig.text(0.01, table_title_y, "Number at risk", ha="left", va="bottom", fontweight="bold")
    drawn = {"curves": pd.concat(curves, ignore_index=True),
             "at_risk": pd.DataFrame(at_risk_rows, columns=["arm", "time", "n_risk", "text"])}
    if median_lines:
        drawn["medians"] = pd.DataFrame(med_rows, columns=["arm", "median"])
    return fig, drawn


# -------------------------------------------------- cumulative incidence --
@_styled
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
    plt = _plt()
    level = _conf_level(config, conf_level)
    cur = cif_curves[cif_curves["outcome"].astype(str) == outcome]
    if not len(cur):
        raise ValueError(f"cif_plot: no rows for outcome {outcome!r}")
    cur = _select_level(cur, level)
    _check_arms(cur, config, "cif_plot")
    styles = style.arm_styles(config)
    arms = [a for a in style.arm_order(config) if a in set(cur["arm"].astype(str))]
    causes = ["event"] + (["competing"] if competing and (cur["cause"] == "competing").any() else [])
    tau = _tau(config, outcome)
    x_end = xmax if xmax is not None else (tau if tau is not None else float(cur["time"].max()))
    width = "double" if len(causes) > 1 else "single"
    fig, axes = plt.subplots(1, len(causes), figsize=style.figsize(width, 62), squeeze=False)
    oc = _outcome_cfg(config, outcome)
    titles = {"event": f"{oc.get('label', outcome)}",
              "competing": "Left employment before return to work (competing event)"}
    rows = []
    for ax, cause in zip(axes[0], causes):
        for a in arms:
            st = styles[a]
            d = cur[(cur["arm"].astype(str) == a) & (cur["cause"] == cause)]
            d = _steps_with_origin(d, "cif")
            t = d["time"].to_numpy(float)
            y = d["cif"].to_numpy(float)
            lo, hi = d["lower"].to_numpy(float), d["upper"].to_numpy(float)
            if ci:
                ax.fill_between(t, lo, hi, step="post", color=st.colour, alpha=0.18, linewidth=0)
            ax.step(t, y, where="post", color=st.colour, linestyle=st.linestyle, lw=1.1,
                    label=st.name, gid=f"cif:{cause}:{a}")
            rows.append(pd.DataFrame({"cause": cause, "arm": a, "time": t, "y": y,
                                      "lower": lo, "upper": hi}))
        ax.set_xlim(0, x_end)
        top = 1.0 if cause == "event" else max(0.1, float(np.nanmax(
            pd.concat([r for r in rows if r["cause"].iloc[0] == cause])["upper"].fillna(0))) * 1.15)
        ax.set_ylim(0, min(1.0, top))
        ax.set_xlabel("Days since randomisation")
        ax.set_ylabel("Cumulative incidence")
        ax.set_title(titles[cause], loc="left", fontsize=style.BASE_PT)
        days = (config.get("survival") or {}).get("at_risk_days")
        if days:
            ax.set_xticks([d for d in days if d <= x_end + 1e-9])
        ax.legend(loc="lower right" if cause == "event" else "best")
    fig.tight_layout()
    return fig, {"curves": pd.concat(rows, ignore_index=True)}


# ------------------------------------------------------------- forest --
def forest_rows_primary(estimates: pd.DataFrame, config: Mapping, *,
                        conf_level: float | None = None, analyses=None) -> pd.DataFrame:
    """Rows for the primary forest plot: the primary IRR and its sensitivity analyses.

    Parameters
    ----------
    estimates : pandas.DataFrame
    config : mapping
    conf_level : float, optional
        Default the first config level.
    analyses : list of (analysis, label, population), optional
        Default :data:`rtw.report.tables.PRIMARY_ANALYSES` (or config
        ``tables.primary_analyses``).

    Returns
    -------
    pandas.DataFrame
        ``label, estimate, conf_low, conf_high, p, header`` (term ``arm`` of
        the count outcome), in order; analyses absent are skipped.
    """
    from rtw.report.tables import PRIMARY_ANALYSES
    level = _conf_level(config, conf_level)
    outcome = config["outcomes"]["count"]["name"]
    spec = (config.get("tables") or {}).get("primary_analyses")
    if analyses is None:
        analyses = ([(d["analysis"], d.get("label", d["analysis"]), d.get("population"))
                     for d in spec] if spec else PRIMARY_ANALYSES)
    out = []
    for analysis, label, population in analyses:
        m = ((estimates["analysis"] == analysis) & (estimates["outcome"] == outcome)
             & (estimates["term"] == "arm"))
        if population is not None:
            m &= estimates["population"] == population
        r = estimates[m]
        r = r[(pd.to_numeric(r["conf_level"]) - level).abs() < 1e-9]
        if not len(r):
            continue
        r = r.iloc[0]
        out.append({"label": label, "estimate": float(r["estimate"]),
                    "conf_low": float(r["conf_low"]), "conf_high": float(r["conf_high"]),
                    "p": fmt.fmt_p(r["p_value"]), "header": False})
    return pd.DataFrame(out, columns=["label", "estimate", "conf_low", "conf_high", "p", "header"])


def _prettify_level(level) -> str:
    s = str(level).replace("_", " ").strip()
    return s[:1].upper() + s[1:]


def _subgroup_key(sg: Mapping) -> list:
    return [k for k in dict.fromkeys([str(sg.get("name", "")), str(sg.get("column", ""))]) if k]


def forest_rows_subgroups(estimates: pd.DataFrame, config: Mapping, *,
                          analysis: str = "subgroup_nb", outcome: str | None = None,
                          conf_level: float | None = None,
                          overall_analysis: str | None = "nb_primary") -> pd.DataFrame:
    """Rows for the subgroup forest plot with interaction p-values.

    Subgroup effects are rows with term ``subgroup=<name>:<level>`` and the
    interaction test the row with term ``interaction=<name>`` (``<name>`` the
    subgroup's config ``name`` or ``column``).

    Parameters
    ----------
    estimates : pandas.DataFrame
    config : mapping
        ``subgroups`` (order and labels).
    analysis : str
        ``subgroup_nb`` (days off) or ``subgroup_cox`` (RTW).
    outcome : str, optional
        Default the count outcome's name.
    conf_level : float, optional
    overall_analysis : str or None
        Analysis whose ``arm`` row is drawn first as "Overall".

    Returns
    -------
    pandas.DataFrame
        ``label, estimate, conf_low, conf_high, p, header``: a header row per
        subgroup carrying ``"interaction p = ..."`` then one row per level.
    """
    level = _conf_level(config, conf_level)
    outcome = outcome or config["outcomes"]["count"]["name"]
    est = estimates[(estimates["outcome"] == outcome)]
    lv = (pd.to_numeric(est["conf_level"], errors="coerce") - level).abs() < 1e-9
    out = []
    if overall_analysis:
        r = est[(est["analysis"] == overall_analysis) & (est["term"] == "arm") & lv]
        if len(r):
            r = r.iloc[0]
            out.append({"label": "Overall", "estimate": float(r["estimate"]),
                        "conf_low": float(r["conf_low"]), "conf_high": float(r["conf_high"]),
                        "p": "", "header": False})
    sub = est[est["analysis"] == analysis]
    for sg in config.get("subgroups") or []:
        keys = _subgroup_key(sg)
        inter = sub[sub["term"].isin([f"interaction={k}" for k in keys])]
        p_txt = ""
        if len(inter):
            p_txt = "interaction " + fmt.fmt_p_label(inter["p_value"].iloc[0])
        is_level = sub["term"].astype(str).map(
            lambda t: any(t.startswith(f"subgroup={k}:") for k in keys))
        lvl_rows = sub[is_level & lv.loc[sub.index]]
        if not len(lvl_rows) and not len(inter):
            continue
        out.append({"label": sg.get("label", sg.get("name")), "estimate": np.nan,
                    "conf_low": np.nan, "conf_high": np.nan, "p": p_txt, "header": True})
        for _, r in lvl_rows.iterrows():
            lev = str(r["term"]).split(":", 1)[1]
            n_txt = "" if fmt.is_missing(r.get("n")) else f" (n={fmt.fmt_int(r['n'])})"
            out.append({"label": "  " + _prettify_level(lev) + n_txt, "estimate": float(r["estimate"]),
                        "conf_low": float(r["conf_low"]), "conf_high": float(r["conf_high"]),
                        "p": "", "header": False})
    return pd.DataFrame(out, columns=["label", "estimate", "conf_low", "conf_high", "p", "header"])


_NICE_TICKS = [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10, 20]


@_styled
def forest_plot(rows: pd.DataFrame, config: Mapping, *, measure: str = "IRR",
                conf_level: float | None = None, ref: float = 1.0, log: bool = True,
                xlim: tuple | None = None, favours: tuple | None = None,
                xlabel: str | None = None, width="double", p_header: str = "p"):
    """Forest plot: point estimates with CIs on a log axis, reference line at 1.

    Parameters
    ----------
    rows : pandas.DataFrame
        ``label, estimate, conf_low, conf_high`` and optionally ``p``
        (text, right column) and ``header`` (bold rows without a point),
        e.g. from :func:`forest_rows_primary` / :func:`forest_rows_subgroups`.
    config : mapping
    measure : str
        Name of the ratio for the column header and axis, e.g. "IRR", "HR".
    conf_level : float, optional
        Level of the CIs in ``rows`` (for the header text).
    ref : float
        Reference line (no effect).
    log : bool
        Log-scaled x axis.
    xlim : (float, float), optional
        Axis limits; CIs beyond them end in an arrow.
    favours : (str, str), optional
        Labels under the axis, left and right of ``ref`` (see
        :func:`favours_labels`).
    xlabel : str, optional
    width : "single", "double" or float (mm)
    p_header : str
        Header of the right-most text column.

    Returns
    -------
    fig : matplotlib.figure.Figure
    drawn : dict
        ``points``: label, y, estimate, conf_low, conf_high, text (the
        "est (low to high)" drawn), p.
    """
    plt = _plt()
    level = _conf_level(config, conf_level)
    rows = rows.reset_index(drop=True).copy()
    if "header" not in rows:
        rows["header"] = False
    if "p" not in rows:
        rows["p"] = ""
    rows["header"] = rows["header"].fillna(False).astype(bool)
    rows["p"] = rows["p"].fillna("").astype(str)
    n = len(rows)
    if n == 0:
        raise ValueError("forest_plot: no rows to draw")
    ys = np.arange(n)[::-1].astype(float)
    pts = rows[~rows["header"]]
    vals = pd.concat([pts["conf_low"], pts["conf_high"], pts["estimate"]]).astype(float)
    vals = vals[np.isfinite(vals) & ((vals > 0) if log else True)]
    if xlim is None:
        lo = min(float(vals.min()) if len(vals) else ref, ref)
        hi = max(float(vals.max()) if len(vals) else ref, ref)
        if log:
            lo, hi = lo / 1.15, hi * 1.15
        else:
            pad = 0.08 * (hi - lo or 1)
            lo, hi = lo - pad, hi + pad
        xlim = (lo, hi)
    w_in, _ = style.figsize(width)
    h_mm = 14 + 4.6 * (n + 1) + (5 if favours else 0)
    fig = plt.figure(figsize=(w_in, style.mm(h_mm)))
    bottom = (9 + (5 if favours else 0)) / h_mm
    top = 1 - 4.6 * 1.4 / h_mm
    ax = fig.add_axes([0.40, bottom, 0.30, top - bottom])
    if log:
        ax.set_xscale("log")
    ax.set_xlim(*xlim)
    ax.set_ylim(-0.7, n - 0.3)
    ax.axvline(ref, color="black", lw=0.6, linestyle="--", zorder=1)
    ax.spines["left"].set_visible(False)
    ax.set_yticks([])
    tr_fig_y = matplotlib.transforms.blended_transform_factory(fig.transFigure, ax.transData)
    ci_txt = f"{measure} ({fmt.fmt_conf_level(level)} CI)"
    hy = n - 0.3 + 0.5
    for x, txt, ha in [(0.01, "", "left"), (0.72, ci_txt, "left"), (0.99, p_header, "right")]:
        if txt:
            ax.text(x, hy, txt, transform=tr_fig_y, ha=ha, va="center", fontweight="bold",
                    clip_on=False)
    drawn = []
    xs, ylist = [], []
    lo_lim, hi_lim = xlim
    for (i, r), y in zip(rows.iterrows(), ys):
        label = str(r["label"])
        bold = bool(r["header"])
        ax.text(0.01 + (0.015 if label.startswith("  ") else 0), y, label.strip(), transform=tr_fig_y,
                ha="left", va="center", fontweight="bold" if bold else "normal", clip_on=False)
        if r["p"]:
            ax.text(0.99, y, r["p"], transform=tr_fig_y, ha="right", va="center", clip_on=False)
        if bold or not np.isfinite(float(r["estimate"])):
            drawn.append({"label": label, "y": y, "estimate": np.nan, "conf_low": np.nan,
                          "conf_high": np.nan, "text": "", "p": r["p"]})
            continue
        est, cl, ch = float(r["estimate"]), float(r["conf_low"]), float(r["conf_high"])
        a, b = max(cl, lo_lim), min(ch, hi_lim)
        ax.plot([a, b], [y, y], color="black", lw=0.9, solid_capstyle="butt", zorder=2,
                gid=f"ci:{i}")
        if cl < lo_lim:
            ax.plot([lo_lim], [y], marker="<", color="black", markersize=3, zorder=3)
        if ch > hi_lim:
            ax.plot([hi_lim], [y], marker=">", color="black", markersize=3, zorder=3)
        xs.append(est)
        ylist.append(y)
        txt = fmt.fmt_ratio_ci(est, cl, ch)
        ax.text(0.72, y, txt, transform=tr_fig_y, ha="left", va="center", clip_on=False)
        drawn.append({"label": label, "y": y, "estimate": est, "conf_low": cl, "conf_high": ch,
                      "text": txt, "p": r["p"]})
    ax.plot(xs, ylist, linestyle="none", marker="s", markersize=3.6, color="black", zorder=3,
            gid="points")
    if log:
        ticks = [t for t in _NICE_TICKS if lo_lim <= t <= hi_lim]
        if ref not in ticks:
            ticks = sorted(ticks + [ref])
        ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _: fmt.fmt_num(v, 2).rstrip("0").rstrip(".")))
    ax.set_xlabel(xlabel or f"{measure} ({'log scale' if log else 'linear scale'})")
    if favours:
        tr = matplotlib.transforms.blended_transform_factory(ax.transData, fig.transFigure)
        yb = 2.2 / h_mm
        ax.text(ref, yb, "\u2190 " + favours[0] + "   ", transform=tr, ha="right", va="bottom",
                fontsize=style.BASE_PT - 0.5, clip_on=False)
        ax.text(ref, yb, "   " + favours[1] + " \u2192", transform=tr, ha="left", va="bottom",
                fontsize=style.BASE_PT - 0.5, clip_on=False)
    return fig, {"points": pd.DataFrame(drawn, columns=["label", "y", "estimate", "conf_low",
                                                        "conf_high", "text", "p"])}


# --------------------------------------------------- days-off histogram --
@_styled
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
        ``bins``: arm, left, right, count, percent; ``summary``: arm, n,
        n_missing, mean, sd, median.
    """
    plt = _plt()
    count_cfg = (config.get("outcomes") or {}).get("count") or {}
    value = value or count_cfg.get("value", "days_off_6m")
    _check_arms(df, config, "days_off_distribution", arm_col)
    arms = style.arm_order(config)
    styles = style.arm_styles(config)
    x = pd.to_numeric(df[value], errors="coerce")
    end = float(count_cfg.get("exposure_days") or (config.get("trial") or {}).get("followup_days")
                or np.nanmax(x))
    end = max(end, float(np.nanmax(x)) if x.notna().any() else end)
    edges = np.arange(0, end + bin_days, bin_days, dtype=float)
    if edges[-1] < end:
        edges = np.append(edges, end)
    fig, axes = plt.subplots(len(arms), 1, sharex=True, sharey=True,
                             figsize=style.figsize("single", 28 + 30 * len(arms)), squeeze=False)
    bins_rows, summ = [], []
    for ax, a in zip(axes[:, 0], arms):
        st = styles[a]
        s = x[df[arm_col].astype(str) == a]
        ok = s.dropna().to_numpy(float)
        counts, _ = np.histogram(ok, bins=edges)
        pct = 100.0 * counts / len(ok) if len(ok) else counts * 0.0
        ax.bar(edges[:-1], pct, width=np.diff(edges), align="edge", color=st.colour, alpha=0.55,
               edgecolor="black", linewidth=0.4, hatch=st.hatch or None, gid=f"hist:{a}")
        for i in range(len(counts)):
            bins_rows.append({"arm": a, "left": edges[i], "right": edges[i + 1],
                              "count": int(counts[i]), "percent": float(pct[i])})
        if len(ok):
            mean, med = float(ok.mean()), float(np.median(ok))
            sd = float(ok.std(ddof=1)) if len(ok) > 1 else np.nan
            ax.axvline(mean, color="black", lw=0.8, linestyle="--")
            ax.axvline(med, color="black", lw=0.8, linestyle=":")
        else:
            mean = med = sd = np.nan
        n_miss = int(s.isna().sum())
        summ.append({"arm": a, "n": len(ok), "n_missing": n_miss, "mean": mean, "sd": sd,
                     "median": med})
        txt = (f"{st.name}\nn = {len(ok)}" + (f" ({n_miss} missing)" if n_miss else "")
               + f"\nmean {fmt.fmt_num(mean, 1)} (SD {fmt.fmt_num(sd, 1)})"
               + f"\nmedian {fmt.fmt_num(med, 0)}")
        ax.text(0.98, 0.95, txt, transform=ax.transAxes, ha="right", va="top")
        ax.set_ylabel("Participants (%)")
    axes[-1, 0].set_xlabel(f"{count_cfg.get('label', value)}")
    axes[-1, 0].set_xlim(0, edges[-1])
    ticks = list(np.arange(0, edges[-1] + 1e-9, 28.0))
    if edges[-1] - ticks[-1] >= 14:
        ticks.append(float(edges[-1]))
    axes[-1, 0].set_xticks(ticks)
    axes[-1, 0].set_xticklabels(_thinned_labels(ticks, edges[-1], 0.06))
    handles = [matplotlib.lines.Line2D([], [], color="black", lw=0.8, linestyle="--", label="Mean"),
               matplotlib.lines.Line2D([], [], color="black", lw=0.8, linestyle=":", label="Median")]
    fig.legend(handles=handles, loc="upper center", ncol=2, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig, {"bins": pd.DataFrame(bins_rows), "summary": pd.DataFrame(summ)}


# ---------------------------------------------------------- Schoenfeld --
@_styled
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
        (term, statistic, p_value, text).
    """
    plt = _plt()
    from statsmodels.nonparametric.smoothers_lowess import lowess

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
    terms = list(dict.fromkeys(res["term"].astype(str)))
    ncol = min(3, len(terms))
    nrow = math.ceil(len(terms) / ncol)
    width = "single" if ncol == 1 else "double"
    fig, axes = plt.subplots(nrow, ncol, figsize=style.figsize(width, 8 + 52 * nrow), squeeze=False)
    pts, smooth, trows = [], [], []
    for k, term in enumerate(terms):
        ax = axes[k // ncol, k % ncol]
        d = res[res["term"].astype(str) == term].sort_values(x, kind="mergesort")
        xv, yv = d[x].to_numpy(float), d["residual"].to_numpy(float)
        ax.plot(xv, yv, linestyle="none", marker="o", markersize=2.2, markerfacecolor="none",
                markeredgewidth=0.5, color="0.35", gid=f"resid:{term}")
        pts.append(pd.DataFrame({"term": term, "x": xv, "residual": yv}))
        if len(xv) >= 4:
            sm = lowess(yv, xv, frac=frac, it=0, return_sorted=True)
            ax.plot(sm[:, 0], sm[:, 1], color="black", lw=1.1, gid=f"smooth:{term}")
            smooth.append(pd.DataFrame({"term": term, "x": sm[:, 0], "y": sm[:, 1]}))
        if reference and term in reference:
            ax.axhline(float(reference[term]), color="black", lw=0.6, linestyle="--")
        t = tests[tests["term"].astype(str) == term]
        txt = ""
        if len(t):
            r = t.iloc[0]
            txt = fmt.fmt_p_label(r["p_value"])
            if not fmt.is_missing(r.get("statistic")):
                txt = f"\u03c7\u00b2 = {fmt.fmt_num(r['statistic'], 2)}, " + txt
            trows.append({"term": term, "statistic": r.get("statistic"), "p_value": r["p_value"],
                          "text": txt})
        ax.set_title(term, loc="left", fontsize=style.BASE_PT)
        if txt:
            ax.text(0.98, 0.97, txt, transform=ax.transAxes, ha="right", va="top",
                    bbox=dict(facecolor="white", edgecolor="none", pad=1.0), gid=f"ptext:{term}")
        ax.set_xlabel("Days since randomisation" if x == "time" else "Transformed time")
        ax.set_ylabel("Scaled Schoenfeld residual")
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


# --------------------------------------------------------------- power --
@_styled
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
    plt = _plt()
    d = power_df.copy()
    for c in ("n_per_arm", "true_irr", "power", "mc_se"):
        d[c] = pd.to_numeric(d[c], errors="coerce")
    for c in ("dispersion", "attrition"):
        if c not in d:
            d[c] = np.nan
    combos = list(dict.fromkeys(zip(d["dispersion"], d["attrition"])))
    combos = sorted(combos, key=lambda t: (str(t[0]), str(t[1])))
    ncol = min(2, len(combos))
    nrow = math.ceil(len(combos) / ncol)
    width = "single" if ncol == 1 else "double"
    fig, axes = plt.subplots(nrow, ncol, figsize=style.figsize(width, 10 + 58 * nrow),
                             squeeze=False, sharey=True)
    irrs = sorted(d["true_irr"].dropna().unique())
    sty = dict(zip(irrs, style.series_styles(len(irrs))))
    rows = []
    for k, (disp, attr) in enumerate(combos):
        ax = axes[k // ncol, k % ncol]
        sub = d[(d["dispersion"].astype(str) == str(disp)) & (d["attrition"].astype(str) == str(attr))]
        for irr in irrs:
            s = sub[np.isclose(sub["true_irr"], irr)].sort_values("n_per_arm")
            if not len(s):
                continue
            is_null = abs(irr - 1.0) < 1e-12
            yv = s["power"].to_numpy(float)
            err = z * s["mc_se"].fillna(0).to_numpy(float)
            lab = f"IRR {fmt.fmt_ratio(irr)}" + (" (type I error)" if is_null else "")
            st = sty[irr]
            cont = ax.errorbar(s["n_per_arm"], yv, yerr=err, color=st["color"],
                               linestyle=st["linestyle"], marker=st["marker"], markersize=3,
                               lw=0.9, elinewidth=0.6, capsize=1.5, label=lab)
            cont.lines[0].set_gid(f"power:{irr}")
            rows.append(pd.DataFrame({"dispersion": disp, "attrition": attr, "true_irr": irr,
                                      "n_per_arm": s["n_per_arm"].to_numpy(float), "power": yv,
                                      "err_low": yv - err, "err_high": yv + err}))
        for tv in targets:
            ax.axhline(tv, color="0.5", lw=0.6, linestyle="--", zorder=0)
            ax.text(1.0, tv, f" {fmt.fmt_num(100 * tv, 0)}%", transform=matplotlib.transforms.
                    blended_transform_factory(ax.transAxes, ax.transData), ha="left", va="center",
                    fontsize=style.BASE_PT - 1, clip_on=False)
        if any(abs(i - 1.0) < 1e-12 for i in irrs):
            ax.axhline(alpha, color="0.5", lw=0.6, linestyle=":", zorder=0)
        ax.set_ylim(0, 1)
        ax.set_xlabel("Participants per arm")
        ax.set_ylabel("Power")
        parts = []
        if not fmt.is_missing(disp):
            parts.append(f"NB dispersion {disp}")
        if not fmt.is_missing(attr):
            parts.append(f"attrition {fmt.fmt_pct(float(attr), 0)}")
        if parts:
            ax.set_title(", ".join(parts), loc="left", fontsize=style.BASE_PT)
        if k == 0:
            ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.1), fontsize=style.BASE_PT - 1)
    for k in range(len(combos), nrow * ncol):
        axes[k // ncol, k % ncol].axis("off")
    fig.tight_layout()
    return fig, {"series": pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()}
