"""Each figure is checked from its data: what is drawn equals what was given."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import fixtures_outputs as F  # noqa: E402
from rtw.report import figures, style  # noqa: E402


@pytest.fixture(autouse=True)
def _close_all():
    yield
    plt.close("all")


def _texts(fig):
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def _by_gid(fig, prefix, kind=matplotlib.lines.Line2D):
    return [a for a in fig.findobj(kind) if (a.get_gid() or "").startswith(prefix)]


# ------------------------------------------------------------- style --
def test_style_sizes_font_and_arm_styles():
    cfg = F.config()
    assert style.figsize("single", 60)[0] == pytest.approx(89 / 25.4)
    assert style.figsize("double")[0] == pytest.approx(183 / 25.4)
    assert style.font_file().endswith("DejaVuSans.ttf")
    st = style.arm_styles(cfg)
    assert list(st) == [F.CONTROL, F.INTERVENTION]                   # config order
    assert st[F.CONTROL].name == "Usual care"
    assert st[F.CONTROL].colour == "#1b1b1b"
    a, b = st.values()
    assert a.linestyle != b.linestyle and a.marker != b.marker       # greyscale-safe
    g = style.grey_levels([a.colour, b.colour])
    assert abs(g[0] - g[1]) > 0.3


def test_save_figure_is_byte_identical(tmp_path):
    def make():
        with style.context():
            fig, ax = plt.subplots(figsize=style.figsize("single", 50))
            ax.plot([0, 1, 2], [0, 1, 0], label="x")
            ax.set_title("t")
            ax.legend()
        return fig
    p1 = style.save_figure(make(), tmp_path / "a" / "fig", svg=True)
    p2 = style.save_figure(make(), tmp_path / "b" / "fig.png", svg=True)
    assert [p.suffix for p in p1] == [".pdf", ".png", ".svg"]
    for x, y in zip(p1, p2):
        assert x.read_bytes() == y.read_bytes(), x.name
    pdf = p1[0].read_bytes()
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf
    assert b"/Producer (rtw trial pipeline" in pdf
    png = p1[1].read_bytes()
    assert b"Software" not in png and b"matplotlib version" not in png
    from PIL import Image
    with Image.open(p1[1]) as im:
        assert round(im.info["dpi"][0]) == 300
        assert im.size[0] == pytest.approx(89 / 25.4 * 300, abs=2)
    svg = p1[2].read_text()
    assert "<dc:date>" not in svg


# ------------------------------------------------------------ CONSORT --
def test_consort_counts_equal_consort_csv():
    cfg = F.config()
    cons = F.consort_df()
    fig, drawn = figures.consort_diagram(cons, cfg)
    got = drawn["counts"][["stage", "arm", "reason", "n"]]
    exp = cons[["stage", "arm", "reason", "n"]].fillna({"reason": ""})
    key = ["stage", "arm", "reason"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  exp.sort_values(key).reset_index(drop=True), check_dtype=False)
    text = "\n".join(_texts(fig))
    # every count is printed in the figure as "(n=<count>)"
    for n in cons["n"]:
        assert f"(n={n:,})" in text
    assert "Allocated to Usual care (n=64)" in text
    assert "Allocated to Vocational advice (n=66)" in text
    assert "Off work < 2 weeks (n=180)" in text
    # the box texts drawn are the ones in `drawn`
    for box_text in drawn["boxes"]["text"]:
        assert box_text in _texts(fig)
    # arms left-to-right in config order
    boxes = drawn["boxes"].set_index("box")
    assert list(boxes.loc[boxes["stage"] == "allocation", "arm"]) == [F.CONTROL, F.INTERVENTION]


def test_consort_rejects_unknown_arm():
    cons = F.consort_df()
    cons.loc[cons["stage"] == "allocated", "arm"] = ["usual_care", "other"]
    with pytest.raises(ValueError, match="other"):
        figures.consort_diagram(cons, F.config())


# ------------------------------------------------------- Kaplan-Meier --
def test_km_steps_equal_one_minus_surv_and_at_risk_table():
    cfg = F.config()
    curves, at_risk = F.km_tables()
    fig, drawn = figures.km_plot(curves, at_risk, cfg, "first_rtw", median_lines=True)
    c95 = curves[curves["conf_level"] == 0.95]
    for arm in (F.CONTROL, F.INTERVENTION):
        (line,) = _by_gid(fig, f"km:{arm}")
        exp = c95[c95["arm"] == arm].sort_values("time")
        assert line.get_drawstyle() == "steps-post"
        np.testing.assert_allclose(line.get_xdata(), exp["time"])
        np.testing.assert_allclose(line.get_ydata(), 1 - exp["surv"])
        # at-risk numbers drawn as text, at the table's times, equal the table
        # (issue 11: only at labelled ticks, so 168, whose label would touch 182's, is left out)
        texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_gid() == f"atrisk:{arm}"]
        drawn_tab = sorted((float(t.get_position()[0]), int(t.get_text())) for t in texts)
        exp_tab = at_risk[(at_risk["arm"] == arm) & at_risk["time"].isin(drawn["ticks"])]
        assert drawn_tab == list(zip(exp_tab["time"].astype(float), exp_tab["n_risk"].astype(int)))
        assert 168.0 not in [x for x, _ in drawn_tab] and len(drawn_tab) == 7
        # cumulative number of events at the same times, summed from the curve's n_event
        ev = sorted((float(t.get_position()[0]), int(t.get_text()))
                    for t in fig.findobj(matplotlib.text.Text) if t.get_gid() == f"events:{arm}")
        assert ev == [(x, int(exp[exp["time"] <= x]["n_event"].sum())) for x in drawn["ticks"]]
    # the number-at-risk axes shares the time axis with the curves (alignment)
    ax_curve, ax_table = fig.axes[0], fig.axes[1]
    assert ax_table.get_shared_x_axes().joined(ax_curve, ax_table)
    assert ax_curve.get_xlim() == ax_table.get_xlim() == (0.0, 182.0)
    # every tick is labelled and has a column in the tables (168 is too close to 182)
    assert [t for t in ax_curve.get_xticks()] == [0, 28, 56, 84, 112, 140, 182] == drawn["ticks"]
    assert all(t.get_text() for t in ax_curve.get_xticklabels())
    assert [t.get_text() for t in ax_table.get_yticklabels()] == ["Usual care", "Vocational advice"]
    # drawn data, 95% band by default
    d = drawn["curves"][drawn["curves"]["arm"] == F.CONTROL]
    e = c95[c95["arm"] == F.CONTROL].sort_values("time")
    np.testing.assert_allclose(d["lower"], 1 - e["upper"])
    assert set(drawn["medians"]["arm"]) == {F.CONTROL, F.INTERVENTION}


def test_km_survival_scale_and_80_band():
    cfg = F.config()
    curves, at_risk = F.km_tables()
    fig, drawn = figures.km_plot(curves, at_risk, cfg, "first_rtw", cumulative=False,
                                 conf_level=0.80)
    (line,) = _by_gid(fig, f"km:{F.INTERVENTION}")
    exp = curves[(curves["conf_level"] == 0.80) & (curves["arm"] == F.INTERVENTION)]
    np.testing.assert_allclose(line.get_ydata(), exp.sort_values("time")["surv"])
    d = drawn["curves"][drawn["curves"]["arm"] == F.INTERVENTION]
    np.testing.assert_allclose(d["upper"], exp.sort_values("time")["upper"])


def test_km_nan_bounds_at_surv_one_are_filled():
    cfg = F.config()
    curves, at_risk = F.km_tables()
    curves.loc[curves["time"] == 0, ["lower", "upper"]] = np.nan   # as R's log-log at S = 1
    fig, drawn = figures.km_plot(curves, at_risk, cfg, "first_rtw")
    first = drawn["curves"].groupby("arm").head(1)
    assert (first["lower"] == 0).all() and (first["upper"] == 0).all()


# ------------------------------------------------ cumulative incidence --
def test_cif_curves_drawn_equal_data():
    cfg = F.config()
    cif = F.cif_curves()
    fig, drawn = figures.cif_plot(cif, cfg, "first_rtw")
    assert len(fig.axes) == 2
    for cause in ("event", "competing"):
        for arm in (F.CONTROL, F.INTERVENTION):
            (line,) = _by_gid(fig, f"cif:{cause}:{arm}")
            exp = cif[(cif["cause"] == cause) & (cif["arm"] == arm)].sort_values("time")
            np.testing.assert_allclose(line.get_ydata(), exp["cif"])
            np.testing.assert_allclose(line.get_xdata(), exp["time"])


# -------------------------------------------------------------- forest --
def test_forest_primary_points_equal_estimates():
    cfg = F.config()
    est = F.estimates()
    rows = figures.forest_rows_primary(est, cfg)
    assert rows["label"].iloc[0].startswith("Primary")
    fig, drawn = figures.forest_plot(rows, cfg, favours=figures.favours_labels(cfg, "lower"))
    (pts,) = _by_gid(fig, "points")
    e95 = est[(est["term"] == "arm") & (est["outcome"] == "days_off") & (est["conf_level"] == 0.95)]
    # CACE is a difference in mean days, not a ratio: it must not sit on the IRR axis
    exp = e95.set_index("analysis").loc[["nb_primary", "zinb", "poisson_robust", "mi_nb",
                                         "nb_per_protocol"]]
    assert "cace" not in set(rows["label"].str.lower())
    np.testing.assert_allclose(pts.get_xdata(), exp["estimate"])
    ax = [a for a in fig.axes if a.get_xscale() == "log"][0]
    # reference line at 1
    assert any(np.allclose(l.get_xdata(), [1, 1]) for l in ax.lines)
    # CI segments equal the 95% limits; texts formatted by fmt
    cis = sorted(_by_gid(fig, "ci:"), key=lambda l: l.get_gid())
    np.testing.assert_allclose(sorted(tuple(c.get_xdata()) for c in cis),
                               sorted(zip(exp["conf_low"], exp["conf_high"])))
    text = _texts(fig)
    assert "0.91 (0.55 to 1.51)" in text and "IRR (95% CI)" in text
    assert "0.724" in text
    assert any("Favours Vocational advice" in t for t in text)


def test_forest_subgroups_interaction_p_and_arrows():
    cfg = F.config()
    est = F.estimates()
    rows = figures.forest_rows_subgroups(est, cfg)
    assert list(rows.loc[rows["header"], "label"]) == ["Health condition group", "Sex"]
    assert rows.loc[rows["label"] == "Sex", "p"].item() == "interaction p < 0.001"
    assert rows.loc[rows["label"] == "Health condition group", "p"].item() == "interaction p = 0.430"
    fig, drawn = figures.forest_plot(rows, cfg, xlim=(0.4, 2.5))
    (pts,) = _by_gid(fig, "points")
    pts_exp = rows.loc[~rows["header"], "estimate"].to_numpy()
    np.testing.assert_allclose(pts.get_xdata(), pts_exp)
    # CIs beyond xlim are clipped and end in arrows
    ax = [a for a in fig.axes if a.get_xscale() == "log"][0]
    markers = [l.get_marker() for l in ax.lines]
    assert "<" in markers and ">" in markers
    assert "interaction p < 0.001" in _texts(fig)


# ------------------------------------------------------------ days off --
def test_days_off_histogram_counts():
    cfg = F.config()
    df = F.analysis_df()
    fig, drawn = figures.days_off_distribution(df, cfg)
    edges = np.arange(0, 183, 7.0)
    for arm in (F.CONTROL, F.INTERVENTION):
        x = df.loc[df["arm"] == arm, "days_off_6m"].dropna()
        counts, _ = np.histogram(x, bins=edges)
        b = drawn["bins"][drawn["bins"]["arm"] == arm]
        np.testing.assert_array_equal(b["count"], counts)
        bars = _by_gid(fig, f"hist:{arm}", matplotlib.patches.Rectangle)
        if not bars:  # BarContainer patches carry no gid in some versions: use the axes
            ax = fig.axes[[F.CONTROL, F.INTERVENTION].index(arm)]
            bars = ax.patches
        np.testing.assert_allclose([p.get_height() for p in bars], 100 * counts / len(x))
        s = drawn["summary"].set_index("arm").loc[arm]
        assert s["n"] == len(x) and s["n_missing"] == df.loc[df["arm"] == arm, "days_off_6m"].isna().sum()
        assert s["mean"] == pytest.approx(x.mean())


# ---------------------------------------------------------- Schoenfeld --
def test_schoenfeld_points_smooth_and_p():
    """As R's plot.cox.zph (issue 11): points against the km-transformed time (axis ticked in
    the unit's round times), the smooth and band of the zph_smooth table, panel words from
    config, not column names."""
    from rtw.survival.cox import zph_smooth
    cfg = F.config()
    cfg["figures"] = {**cfg["figures"], "term_labels": {"days_off_before": "Days off before"}}
    res = F.zph_residuals()
    est = F.estimates()
    sm = []
    for term in ("arm", "days_off_before"):
        d = res[res["term"] == term]
        s = zph_smooth(d["transformed_time"], d["residual"], 0.5, time=d["time"])
        sm.append(s.assign(outcome="first_rtw", model="cox_adjusted", term=term))
    sm = pd.concat(sm, ignore_index=True)
    fig, drawn = figures.schoenfeld_plot(res, est, cfg, "first_rtw", zph_smooth=sm)
    for term in ("arm", "days_off_before"):
        (pts,) = _by_gid(fig, f"resid:{term}")
        exp = res[res["term"] == term]
        np.testing.assert_allclose(pts.get_xdata(), exp["transformed_time"])
        np.testing.assert_allclose(pts.get_ydata(), exp["residual"])
        (line,) = _by_gid(fig, f"smooth:{term}")
        e = sm[sm["term"] == term]
        np.testing.assert_allclose(line.get_xdata(), e["x"])
        np.testing.assert_allclose(line.get_ydata(), e["fit"])
        (band,) = _by_gid(fig, f"band:{term}")
        np.testing.assert_allclose(band.get_ydata(), e["lower"])
        ax = line.axes
        assert "Kaplan\u2013Meier-transformed" in ax.get_xlabel()
        assert ax.get_xlabel().startswith("Days since randomisation")
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels[:3] == ["28", "56", "84"]          # round days, placed on the km scale
    texts = _texts(fig)
    assert "Usual care" not in texts and "Vocational advice vs Usual care" in texts
    assert "Days off before" in texts and "days_off_before" not in texts
    assert "\u03c7\u00b2 = 4.65, p = 0.031" in texts
    assert "\u03c7\u00b2 = 0.41, p = 0.520" in texts
    assert any(t == "Global test: p = 0.090" for t in texts)


def test_schoenfeld_factor_gives_a_panel_per_coefficient_and_not_estimable_gives_a_reason():
    cfg = F.config()
    res = F.zph_residuals()
    res = pd.concat([res, res[res["term"] == "arm"].assign(term="grp[b]"),
                     res[res["term"] == "arm"].assign(term="grp[c]")], ignore_index=True)
    fig, drawn = figures.schoenfeld_plot(res, F.estimates(), cfg, "first_rtw")
    assert list(dict.fromkeys(drawn["points"]["term"])) == ["arm", "days_off_before", "grp[b]",
                                                          "grp[c]"]
    assert {"Grp: b", "Grp: c"} <= set(_texts(fig))
    plt.close(fig)
    est = F.estimates()
    est = pd.concat([est, pd.DataFrame([{"analysis": "cox_adjusted", "outcome": "other",
                                         "term": "arm", "estimate": np.nan,
                                         "note": "not estimable: no events in arm usual_care"}])])
    fig, drawn = figures.schoenfeld_plot(res, est, cfg, "other", model="cox_adjusted")
    (txt,) = [t.get_text() for t in fig.findobj(matplotlib.text.Text)
              if t.get_gid() == "not_estimable"]
    assert "no events in arm usual_care" in txt
    assert drawn["points"].empty


# --------------------------------------------------------------- power --
def test_power_curve_points_error_bars_and_reference_lines():
    cfg = F.config()
    pw = F.power_df()
    fig, drawn = figures.power_curve(pw, cfg)
    ax = fig.axes[0]
    for irr in (0.7, 0.8, 1.0):
        (line,) = _by_gid(fig, f"power:{irr}")
        exp = pw[pw["true_irr"] == irr].sort_values("n_per_arm")
        np.testing.assert_allclose(line.get_ydata(), exp["power"])
        s = drawn["series"][drawn["series"]["true_irr"] == irr]
        np.testing.assert_allclose(s["err_high"] - s["power"], 1.96 * exp["mc_se"])
    hlines = [l.get_ydata()[0] for l in ax.lines if len(set(l.get_ydata())) == 1
              and len(l.get_xdata()) == 2]
    assert {0.8, 0.9, 0.05} <= set(np.round(hlines, 6))
    assert any("type I error" in t for t in _texts(fig))


def test_all_figures_save_deterministically(tmp_path):
    cfg = F.config()
    curves, at_risk = F.km_tables()

    def render(folder):
        with style.context():
            figs = {
                "consort": figures.consort_diagram(F.consort_df(), cfg)[0],
                "km": figures.km_plot(curves, at_risk, cfg, "first_rtw")[0],
                "forest": figures.forest_plot(figures.forest_rows_primary(F.estimates(), cfg),
                                              cfg)[0],
                "km_inset": figures.km_plot(curves, at_risk, cfg, "first_rtw",
                                            estimates=F.estimates(), median_lines=True)[0],
                "cif": figures.cif_plot(F.cif_curves(), cfg, "first_rtw", at_risk=at_risk)[0],
                "schoenfeld": figures.schoenfeld_plot(F.zph_residuals(), F.estimates(), cfg,
                                                      "first_rtw")[0],
                "days_off": figures.days_off_distribution(F.analysis_df(), cfg)[0],
            }
            for name, fig in figs.items():
                style.save_figure(fig, folder / name)
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}

    a, b = render(tmp_path / "a"), render(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) == 14
    assert a == b


# ------------------------------------------------------ report captions --
CAPTIONS = ["consort", "consort_table", "km", "cif", "forest_primary", "forest_subgroups",
            "forest_subgroups_tte", "count_distribution", "schoenfeld", "power", "table1",
            "primary_table", "secondary_table", "survival_table", "survival_summary_csv",
            "estimates", "queries", "download", "mcf", "states", "longitudinal_table",
            "workflow"]
WAVE_WORDS = [r"\bSMS\b", r"(?i)vocational", r"(?i)fit note", r"(?i)days off",
              r"(?i)employment", r"(?i)\b6 months\b", r"(?i)return(ed|ing|s)? to work",
              r"\bRTW\b", r"(?i)usual care", r"\bWAVE\b"]


def _byo_config():
    from helpers import sap
    """A trial that is not about work (as tests/workflow/test_any_trial_words.py runs)."""
    return sap({
        "data": {"source": "table", "table": "trial.csv",
                 "columns": {"participant_id": "pid", "arm": "grp"}},
        "trial": {"name": "BREATHE", "arms": {"control": 0, "intervention": 1}},
        "stratification_factors": ["centre"], "covariates": ["age"],
        "subgroups": [{"name": "smoker", "column": "smoker"}],
        "outcomes": {
            "time_to_event": {"name": "relapse", "label": "Time to relapse", "time": "months",
                              "event": "status", "competing_value": 2, "time_unit": "months",
                              "event_label": "Relapsed", "competing_label": "Died",
                              "better": "lower"},
            "count": {"name": "exacerbations", "label": "Exacerbations", "value": "exac",
                      "unit": "exacerbations", "better": "lower"},
            "continuous": [{"name": "fev1", "label": "FEV1", "value": "fev12"}],
            "binary": [{"name": "hosp", "label": "Admitted to hospital", "value": "hosp"}],
            "recurrent": [{"name": "flares", "label": "Flares", "table": "f.csv",
                           "time_unit": "months"}],
            "multistate": [{"name": "course", "label": "Course", "table": "s.csv",
                            "states": ["a", "b"], "time_unit": "months"}]}})


def _render_caption(name, cfg):
    from pathlib import Path
    import jinja2
    from docutils.core import publish_parts

    repo = Path(__file__).resolve().parents[2]
    src = (repo / "workflow" / "report" / f"{name}.rst").read_text(encoding="utf-8")
    oc = cfg["outcomes"]
    outcome = (oc["recurrent"][0] if name == "mcf" else oc["multistate"][0] if name == "states"
               else oc["time_to_event"][0])

    class Smk:          # as snakemake --report renders captions (config: the analysis config)
        config = cfg
        params = {"outcome": outcome}
        rule = "some_rule"

    text = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True).from_string(src).render(snakemake=Smk)
    parts = publish_parts(text, writer="html",
                          settings_overrides={"report_level": 2, "halt_level": 2})
    return src, text, parts


@pytest.mark.parametrize("name", CAPTIONS)
def test_report_captions_render_cleanly(name):
    """Each caption renders with Jinja (as Snakemake does, from the analysis config) and
    docutils, without warnings, names its rule, and never hard-codes an arm label (blinded
    mode)."""
    from helpers import default_config
    cfg = default_config()
    cfg["outcomes"]["recurrent"] = _byo_config()["outcomes"]["recurrent"]
    cfg["outcomes"]["multistate"] = _byo_config()["outcomes"]["multistate"]
    src, text, parts = _render_caption(name, cfg)
    assert parts["body"].strip()
    if name != "workflow":
        assert "some_rule" in text
    lower = src.lower()
    for label in F.CONFIG["trial"]["arm_names"].values():
        assert label.lower() not in lower
    for label in F.CONFIG["trial"]["arms"].values():
        assert label not in src


@pytest.mark.parametrize("name", CAPTIONS)
def test_report_captions_of_another_trial_have_none_of_waves_words(name):
    """Issue 11, item 2: the captions describe the run that was made, in the config's words."""
    import re
    _, text, parts = _render_caption(name, _byo_config())
    found = [m.group(0) for p in WAVE_WORDS for m in re.finditer(p, text)]
    assert not found, f"{name}: {found}\n{text}"
    if name == "workflow":
        assert "Trial analysis: BREATHE" in text and "bring-your-own analysis table" in text
        assert "raw exports" not in text
    if name == "forest_primary":
        assert "fewer exacerbations" in " ".join(text.split()) and "favours it" in text


def test_forest_draws_every_conf_level_thin_and_thick():
    cfg = F.config()
    est = F.estimates()
    levels = [float(x) for x in cfg["conf_levels"]]
    assert len(levels) >= 2
    for rows in (figures.forest_rows_primary(est, cfg), figures.forest_rows_subgroups(est, cfg)):
        pts = rows[~rows["header"]]
        # first level kept in conf_low/conf_high, every level in its own columns
        np.testing.assert_allclose(pts["conf_low"], pts["conf_low_95"])
        assert {"conf_low_80", "conf_high_80"} <= set(rows.columns)
        assert (pts["conf_low_80"] > pts["conf_low_95"]).all()
        assert (pts["conf_high_80"] < pts["conf_high_95"]).all()
        fig, drawn = figures.forest_plot(rows, cfg)
        seg = drawn["segments"]
        assert len(seg) == len(pts) * len(levels)
        thin = seg[seg["level"] == 0.95]
        thick = seg[seg["level"] == 0.80]
        assert (thick["lw"].to_numpy() > thin["lw"].to_numpy()).all()
        np.testing.assert_allclose(thick["conf_low"], pts["conf_low_80"])
        assert len(_by_gid(fig, "ci80:")) == len(pts)
        assert any("95% CI thin" in t and "80% CI thick" in t for t in _texts(fig))
        plt.close(fig)


def test_cif_arm_without_events_is_drawn_flat_at_zero():
    cfg = F.config()
    cif = F.cif_curves()
    out = "first_rtw"
    arm = str(cif["arm"].iloc[0])
    cif = cif[~((cif["arm"].astype(str) == arm) & (cif["cause"] == "event"))]
    fig, drawn = figures.cif_plot(cif, cfg, out)
    (line,) = _by_gid(fig, f"cif:event:{arm}")
    y = np.asarray(line.get_ydata(), float)
    assert len(y) >= 2 and np.all(y == 0)
    assert line.get_xdata()[-1] > 0
    ax = line.axes
    assert ax.get_ylim()[0] < 0
    assert arm in [str(a) for a in drawn["curves"]["arm"]]
    assert any(t.get_text() for t in ax.get_legend().get_texts())
    plt.close(fig)


def test_forest_not_estimable_row_says_so_and_no_estimates_gives_a_panel():
    cfg = F.config()
    rows = figures.forest_rows_primary(F.estimates(), cfg)
    rows.loc[1, ["estimate", "conf_low", "conf_high"]] = np.nan
    fig, drawn = figures.forest_plot(rows, cfg)
    assert drawn["points"].loc[1, "text"] == "not estimable"
    assert "not estimable" in _texts(fig)
    plt.close(fig)
    rows[["estimate", "conf_low", "conf_high"]] = np.nan
    fig, drawn = figures.forest_plot(rows, cfg)
    assert [t for t in fig.findobj(matplotlib.text.Text) if t.get_gid() == "not_estimable"]
    assert drawn["points"].empty


def test_km_inset_hr_and_logrank_p_and_median_lines_from_estimates():
    cfg = F.config()
    curves, at_risk = F.km_tables()
    est = pd.DataFrame([
        {"analysis": "cox_unadjusted", "outcome": "first_rtw", "term": "arm", "estimate": 1.234,
         "conf_level": 0.95, "conf_low": 0.851, "conf_high": 1.789, "p_value": 0.27},
        {"analysis": "logrank", "outcome": "first_rtw", "term": "arm", "estimate": np.nan,
         "conf_level": np.nan, "conf_low": np.nan, "conf_high": np.nan, "p_value": 0.2704},
        {"analysis": "km_median", "outcome": "first_rtw", "term": f"arm={F.CONTROL}",
         "estimate": 60.0, "conf_level": 0.95, "conf_low": 40, "conf_high": 80, "p_value": np.nan},
    ])
    cfg["figures"] = {**cfg["figures"], "km_median_lines": True}
    fig, drawn = figures.km_plot(curves, at_risk, cfg, "first_rtw", estimates=est)
    assert drawn["inset"] == "HR 1.23 (95% CI 0.85 to 1.79)\nLog-rank p = 0.270"
    (inset,) = [t for t in fig.findobj(matplotlib.text.Text) if t.get_gid() == "inset"]
    assert inset.get_text() == drawn["inset"]
    (med,) = _by_gid(fig, f"median:{F.CONTROL}")
    assert list(med.get_xdata()) == [0, 60.0, 60.0]
    plt.close(fig)
    cfg["figures"] = {**cfg["figures"], "km_inset": False, "km_median_lines": False}
    fig, drawn = figures.km_plot(curves, at_risk, cfg, "first_rtw", estimates=est)
    assert drawn["inset"] == "" and "medians" not in drawn
    # censoring marks drawn where the curve table has censored rows
    assert _by_gid(fig, f"censor:{F.CONTROL}")
