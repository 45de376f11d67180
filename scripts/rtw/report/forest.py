"""Forest plots: the rows (primary analysis and its sensitivity analyses, or
subgroups with interaction tests) taken from ``estimates.csv``, and the plot
of point estimates with CIs on a ratio axis.
"""
from __future__ import annotations

from typing import Mapping

import matplotlib
import numpy as np
import pandas as pd

from rtw.report import fmt, style
from rtw.report.figure_common import chosen_conf_level, not_estimable_panel, pyplot, styled


def favours_labels(config: Mapping, better: str | None) -> tuple | None:
    """``(left, right)`` "Favours <arm>" labels of a ratio axis, from the outcome's direction
    of benefit (config ``better``): ``lower`` (a ratio below 1 favours the intervention, e.g.
    fewer days off), ``higher`` (above 1 favours it, e.g. faster recovery); ``None`` (not
    stated) gives no labels."""
    if better is None:
        return None
    if better not in ("lower", "higher"):
        raise ValueError(f"better: expected 'lower', 'higher' or null, got {better!r}")
    roles = style.arm_roles(config)
    names = style.arm_names(config)
    ctrl, intv = roles["control"], roles["intervention"]
    a, b = f"Favours {names[intv]}", f"Favours {names[ctrl]}"
    return (a, b) if better == "lower" else (b, a)


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
        Default config ``tables.primary_analyses``.

    Returns
    -------
    pandas.DataFrame
        ``label, estimate, conf_low, conf_high, p, header`` (term ``arm`` of
        the count outcome, CI at ``conf_level``), in order, then
        ``conf_low_<pct>, conf_high_<pct>`` for every config level (``conf_level``
        first); analyses absent are skipped.
    """
    from rtw.report.tables import primary_analyses
    level = chosen_conf_level(config, conf_level)
    outcome = config["outcomes"]["count"]["name"]
    if analyses is None:
        analyses = primary_analyses(config)
    out = []
    for analysis, label, population in analyses:
        m = ((estimates["analysis"] == analysis) & (estimates["outcome"] == outcome)
             & (estimates["term"] == "arm"))
        if population is not None:
            m &= estimates["population"] == population
        cands = estimates[m]
        r = cands[(pd.to_numeric(cands["conf_level"]) - level).abs() < 1e-9]
        if not len(r):
            continue
        r = r.iloc[0]
        out.append({"label": label, "estimate": float(r["estimate"]),
                    "conf_low": float(r["conf_low"]), "conf_high": float(r["conf_high"]),
                    "p": fmt.fmt_p(r["p_value"]), "header": False,
                    **_ci_by_level(cands, _all_levels(config, level))})
    return pd.DataFrame(out, columns=_row_columns(config, level))


def _all_levels(config: Mapping, level: float) -> list:
    """``level`` first, then the other config ``conf_levels``."""
    rest = [float(x) for x in config["conf_levels"] if abs(float(x) - level) > 1e-9]
    return [level] + rest


def _row_columns(config: Mapping, level: float) -> list:
    """Columns of the forest rows: the first level's CI, p, header, then a CI pair per level."""
    cols = ["label", "estimate", "conf_low", "conf_high", "p", "header"]
    for lev in _all_levels(config, level):
        cols += [f"conf_low_{level_suffix(lev)}", f"conf_high_{level_suffix(lev)}"]
    return cols


def level_suffix(level: float) -> str:
    """Column suffix of a CI level: 0.95 -> ``"95"``, 0.8 -> ``"80"``."""
    return f"{100 * float(level):g}".replace(".", "_")


def _ci_by_level(cands: pd.DataFrame, levels) -> dict:
    """``conf_low_<pct>``/``conf_high_<pct>`` of each level in ``levels`` from the rows ``cands``
    (one term, all levels); NaN where a level is absent."""
    out = {}
    cl = pd.to_numeric(cands["conf_level"], errors="coerce")
    for lev in levels:
        r = cands[(cl - float(lev)).abs() < 1e-9]
        sfx = level_suffix(lev)
        out[f"conf_low_{sfx}"] = float(r["conf_low"].iloc[0]) if len(r) else np.nan
        out[f"conf_high_{sfx}"] = float(r["conf_high"].iloc[0]) if len(r) else np.nan
    return out


def _prettify_level(level) -> str:
    s = str(level).replace("_", " ").strip()
    return s[:1].upper() + s[1:]


def _subgroup_key(sg: Mapping) -> list:
    return [k for k in dict.fromkeys([str(sg["name"]), str(sg["column"])]) if k]


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
        ``subgroup_nb`` (the count outcome) or ``subgroup_cox`` (a time-to-event outcome).
    outcome : str, optional
        Default the count outcome's name.
    conf_level : float, optional
    overall_analysis : str or None
        Analysis whose ``arm`` row is drawn first as "Overall".

    Returns
    -------
    pandas.DataFrame
        ``label, estimate, conf_low, conf_high, p, header``: a header row per
        subgroup carrying ``"interaction p = ..."`` then one row per level;
        then ``conf_low_<pct>, conf_high_<pct>`` for every config CI level.
    """
    level = chosen_conf_level(config, conf_level)
    levels = _all_levels(config, level)
    outcome = outcome or config["outcomes"]["count"]["name"]
    est = estimates[(estimates["outcome"] == outcome)]
    lv = (pd.to_numeric(est["conf_level"], errors="coerce") - level).abs() < 1e-9
    out = []
    if overall_analysis:
        cands = est[(est["analysis"] == overall_analysis) & (est["term"] == "arm")]
        r = cands[lv.loc[cands.index]]
        if len(r):
            r = r.iloc[0]
            out.append({"label": "Overall", "estimate": float(r["estimate"]),
                        "conf_low": float(r["conf_low"]), "conf_high": float(r["conf_high"]),
                        "p": "", "header": False, **_ci_by_level(cands, levels)})
    sub = est[est["analysis"] == analysis]
    for sg in config["subgroups"]:
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
        out.append({"label": sg["label"], "estimate": np.nan,
                    "conf_low": np.nan, "conf_high": np.nan, "p": p_txt, "header": True})
        for _, r in lvl_rows.iterrows():
            lev = str(r["term"]).split(":", 1)[1]
            n_txt = "" if fmt.is_missing(r.get("n")) else f" (n={fmt.fmt_int(r['n'])})"
            out.append({"label": "  " + _prettify_level(lev) + n_txt, "estimate": float(r["estimate"]),
                        "conf_low": float(r["conf_low"]), "conf_high": float(r["conf_high"]),
                        "p": "", "header": False,
                        **_ci_by_level(sub[sub["term"] == r["term"]], levels)})
    return pd.DataFrame(out, columns=_row_columns(config, level))


_NICE_TICKS = [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10, 20]


def _forest_table(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with a 0..n-1 index, ``header`` (bool) and ``p`` (text) filled in."""
    rows = rows.reset_index(drop=True).copy()
    if "header" not in rows:
        rows["header"] = False
    if "p" not in rows:
        rows["p"] = ""
    rows["header"] = rows["header"].fillna(False).astype(bool)
    rows["p"] = rows["p"].fillna("").astype(str)
    return rows


def _forest_xlim(rows: pd.DataFrame, ref: float, log: bool) -> tuple:
    """Axis limits around the CIs and ``ref``: 15% further out on a log axis, 8% on a linear one."""
    pts = rows[~rows["header"]]
    vals = pd.concat([pts["conf_low"], pts["conf_high"], pts["estimate"]]).astype(float)
    vals = vals[np.isfinite(vals) & ((vals > 0) if log else True)]
    lo = min(float(vals.min()) if len(vals) else ref, ref)
    hi = max(float(vals.max()) if len(vals) else ref, ref)
    if log:
        lo, hi = lo / 1.15, hi * 1.15
    else:
        pad = 0.08 * (hi - lo or 1)
        lo, hi = lo - pad, hi + pad
    return (lo, hi)


def _forest_axes(plt, width, n: int, favours, *, log: bool, xlim: tuple, ref: float) -> tuple:
    """Figure of ``n`` rows (labels left, CI text and p right of a middle axes) with the
    reference line.  Returns ``(fig, ax, h_mm)``."""
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
    return fig, ax, h_mm


def _level_widths(rows: pd.DataFrame, level: float) -> list:
    """``(level, suffix, line width)`` of every CI level carried by ``rows`` (columns
    ``conf_low_<pct>``; else ``level`` alone): the widest level thin, narrower ones thick."""
    sfx = [c[len("conf_low_"):] for c in rows.columns if c.startswith("conf_low_")]
    levs = sorted({float(x.replace("_", ".")) / 100 for x in sfx} or {level}, reverse=True)
    return [(lev, level_suffix(lev), 0.9 if k == 0 else 2.6) for k, lev in enumerate(levs)]


def _draw_level_segments(ax, i, r, y, xlim: tuple, widths: list, level: float) -> list:
    """One CI segment per level of row ``i`` (clipped at ``xlim``; gid ``ci:<i>`` for ``level``,
    ``ci<pct>:<i>`` for the others); returns what was drawn."""
    segs = []
    for lev, sfx, lw in widths:
        gid = f"ci:{i}" if abs(lev - level) < 1e-9 else f"ci{sfx}:{i}"
        cl = float(r.get(f"conf_low_{sfx}", r["conf_low"]))
        ch = float(r.get(f"conf_high_{sfx}", r["conf_high"]))
        if not (np.isfinite(cl) and np.isfinite(ch)):
            continue
        a, b = max(cl, xlim[0]), min(ch, xlim[1])
        ax.plot([a, b], [y, y], color="black", lw=lw, solid_capstyle="butt", zorder=2,
                gid=gid)
        segs.append({"row": i, "y": y, "level": lev, "conf_low": cl, "conf_high": ch, "lw": lw})
    return segs


def _draw_forest_row(ax, tr_fig_y, i, r, y, xlim: tuple) -> dict:
    """Label, p text and (unless a header) the CI segment, clipped at ``xlim`` with an arrow,
    and the "est (low to high)" text of row ``i`` at height ``y``.  Returns what was drawn."""
    label = str(r["label"])
    bold = bool(r["header"])
    ax.text(0.01 + (0.015 if label.startswith("  ") else 0), y, label.strip(), transform=tr_fig_y,
            ha="left", va="center", fontweight="bold" if bold else "normal", clip_on=False)
    if r["p"]:
        ax.text(0.99, y, r["p"], transform=tr_fig_y, ha="right", va="center", clip_on=False)
    if bold or not np.isfinite(float(r["estimate"])):
        txt = "" if bold else "not estimable"
        if txt:
            ax.text(0.72, y, txt, transform=tr_fig_y, ha="left", va="center", clip_on=False,
                    style="italic", gid=f"not_estimable:{i}")
        return {"label": label, "y": y, "estimate": np.nan, "conf_low": np.nan,
                "conf_high": np.nan, "text": txt, "p": r["p"]}
    lo_lim, hi_lim = xlim
    est, cl, ch = float(r["estimate"]), float(r["conf_low"]), float(r["conf_high"])
    if cl < lo_lim:
        ax.plot([lo_lim], [y], marker="<", color="black", markersize=3, zorder=3)
    if ch > hi_lim:
        ax.plot([hi_lim], [y], marker=">", color="black", markersize=3, zorder=3)
    txt = fmt.fmt_ratio_ci(est, cl, ch)
    ax.text(0.72, y, txt, transform=tr_fig_y, ha="left", va="center", clip_on=False)
    return {"label": label, "y": y, "estimate": est, "conf_low": cl, "conf_high": ch,
            "text": txt, "p": r["p"]}


def _ratio_ticks(ax, xlim: tuple, ref: float) -> None:
    """Round ratio ticks within ``xlim`` (and ``ref``), printed without trailing zeros."""
    lo_lim, hi_lim = xlim
    ticks = [t for t in _NICE_TICKS if lo_lim <= t <= hi_lim]
    if ref not in ticks:
        ticks = sorted(ticks + [ref])
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: fmt.fmt_num(v, 2).rstrip("0").rstrip(".")))


def _favours_text(fig, ax, ref: float, favours: tuple, h_mm: float) -> None:
    """"<- favours[0]" left and "favours[1] ->" right of ``ref``, under the axis."""
    tr = matplotlib.transforms.blended_transform_factory(ax.transData, fig.transFigure)
    yb = 2.2 / h_mm
    ax.text(ref, yb, "\u2190 " + favours[0] + "   ", transform=tr, ha="right", va="bottom",
            fontsize=style.BASE_PT - 0.5, clip_on=False)
    ax.text(ref, yb, "   " + favours[1] + " \u2192", transform=tr, ha="left", va="bottom",
            fontsize=style.BASE_PT - 0.5, clip_on=False)


@styled
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
        "est (low to high)" drawn, first level), p; ``segments``: row, y, level,
        conf_low, conf_high, lw (one CI line per row and level: the widest level
        thin, narrower ones thick, with a key in the header row).
    """
    plt = pyplot()
    level = chosen_conf_level(config, conf_level)
    rows = _forest_table(rows)
    n = len(rows)
    if n == 0 or not np.isfinite(pd.to_numeric(rows["estimate"], errors="coerce")).any():
        fig = not_estimable_panel(f"Forest plot ({measure})",
                                  "no estimate could be made for any row of this plot"
                                  + (": " + ", ".join(map(str, rows["label"])) if n else ""))
        empty = {"points": pd.DataFrame(columns=["label", "y", "estimate", "conf_low",
                                                 "conf_high", "text", "p"]),
                 "segments": pd.DataFrame(columns=["row", "y", "level", "conf_low",
                                                   "conf_high", "lw"])}
        return fig, empty
    ys = np.arange(n)[::-1].astype(float)
    if xlim is None:
        xlim = _forest_xlim(rows, ref, log)
    fig, ax, h_mm = _forest_axes(plt, width, n, favours, log=log, xlim=xlim, ref=ref)
    tr_fig_y = matplotlib.transforms.blended_transform_factory(fig.transFigure, ax.transData)
    hy = n - 0.3 + 0.5
    for x, txt, ha in [(0.72, f"{measure} ({fmt.fmt_conf_level(level)} CI)", "left"),
                       (0.99, p_header, "right")]:
        if txt:
            ax.text(x, hy, txt, transform=tr_fig_y, ha=ha, va="center", fontweight="bold",
                    clip_on=False)
    drawn = [_draw_forest_row(ax, tr_fig_y, i, r, y, xlim)
             for (i, r), y in zip(rows.iterrows(), ys)]
    widths = _level_widths(rows, level)
    segs = [s for (i, r), y in zip(rows.iterrows(), ys)
            if not bool(r["header"]) and np.isfinite(float(r["estimate"]))
            for s in _draw_level_segments(ax, i, r, y, xlim, widths, level)]
    if len(widths) > 1:
        key = "; ".join(f"{fmt.fmt_conf_level(lev)} CI {'thin' if lw < 1 else 'thick'}"
                        for lev, _, lw in widths)
        ax.text(0.01, hy, "Lines: " + key, transform=tr_fig_y, ha="left", va="center",
                fontsize=style.BASE_PT - 0.5, clip_on=False)
    points = [d for d in drawn if np.isfinite(d["estimate"])]
    ax.plot([d["estimate"] for d in points], [d["y"] for d in points], linestyle="none",
            marker="s", markersize=3.6, color="black", zorder=3, gid="points")
    if log:
        _ratio_ticks(ax, xlim, ref)
    ax.set_xlabel(xlabel or f"{measure} ({'log scale' if log else 'linear scale'})")
    if favours:
        _favours_text(fig, ax, ref, favours, h_mm)
    return fig, {"points": pd.DataFrame(drawn, columns=["label", "y", "estimate", "conf_low",
                                                        "conf_high", "text", "p"]),
                 "segments": pd.DataFrame(segs, columns=["row", "y", "level", "conf_low",
                                                         "conf_high", "lw"])}
