"""Awkward trials (issue 14, Deliver 3): small, lopsided, eventless or extreme data give either
estimates or a "not estimable: <reason>" row, never nonsense and never a crash; figures and
tables still render.  Each finding of issue 14 "What was found" about awkward trials has a
named test here (``test_finding_*``); the extreme-count NB is compared with R by direct
maximum likelihood (tests/models/reference/extreme_count.R; MASS::glm.nb fails on it).
"""
from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _stages import run_stages
from helpers import SCHEMAS, default_config, write_synthetic
from rtw.core.modelframe import NotEstimable, TooFewParticipants
from rtw.data.cleaning import clean_tables
from rtw.data.derivation import derive_analysis
from rtw.models import counts
from rtw.models import runner as R
from rtw.report import figures
from rtw.report.days_off import MAX_BINS, MAX_TICKS
from rtw.survival.runner import run_time_to_event

REF = Path(__file__).parent / "reference"
EXTREME = 1e7


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    """The default synthetic WAVE-size trial's analysis table and config."""
    d = tmp_path_factory.mktemp("awkward_raw")
    write_synthetic(d)
    cfg = default_config()
    tables, _ = clean_tables(d, cfg, SCHEMAS)
    return derive_analysis(tables, cfg), cfg


def _tte(cfg):
    return cfg["outcomes"]["time_to_event"][0]


def _count(cfg):
    c = cfg["outcomes"]["count"]
    return c[0] if isinstance(c, list) else c


def _ref(model, quantity):
    e = pd.read_csv(REF / "expected" / "extreme_count.csv")
    e = e[(e["model"] == model) & (e["quantity"] == quantity)]
    return dict(zip(e["term"], e["value"].astype(float)))


def _arm_rows(est, analysis, outcome=None):
    r = est[(est["analysis"] == analysis) & (est["term"] == "arm")]
    return r if outcome is None else r[r["outcome"] == outcome]


def _wave_extreme():
    """generator_wave.csv with days_off_6m of the 4th data row set to 10^7 (as the R script)."""
    d = pd.read_csv(REF / "data" / "generator_wave.csv")
    d.loc[3, "days_off_6m"] = EXTREME
    d = d[d["days_off_6m"].notna()].reset_index(drop=True)
    X = pd.DataFrame({"(Intercept)": 1.0, "arm": (d["arm"] == "vocational_advice").astype(float),
                      "condition_group[musculoskeletal]":
                          (d["condition_group"] == "musculoskeletal").astype(float),
                      "condition_group[other]": (d["condition_group"] == "other").astype(float),
                      "days_off_before": d["days_off_before"].astype(float)})
    return d, X


# ------------------------------------------------------------- findings of issue 14
def test_finding_all_events_in_one_arm_gives_reasons_and_every_figure_and_table(trial, tmp_path):
    """All events in one arm: the comparisons say "not estimable: no events in arm <control>",
    and the KM figure, the Schoenfeld figure (a panel with the reason) and the survival
    table are made (the figure step used to die: schoenfeld_plot: no residuals)."""
    df, cfg = trial
    o, control = _tte(cfg), cfg["trial"]["arms"]["control"]
    df = df.copy()
    df.loc[df["arm"] == control, o["event"]] = 0
    out = run_stages(df, cfg, tmp_path)
    est = out["estimates"]
    for model in ("cox_unadjusted", "cox_adjusted"):
        r = _arm_rows(est, model, o["name"])
        assert len(r) and r["estimate"].isna().all()
        assert (r["note"] == f"not estimable: no events in arm {control}").all()
    sg = est[(est["analysis"] == "subgroup_cox")]
    assert len(sg) and sg["note"].str.startswith("not estimable: no events in arm").all()
    names = {p.name for p in out["files"]}
    assert {f"km_{o['name']}.png", f"schoenfeld_{o['name']}.png",
            "table_survival.csv"} <= names
    for p in out["files"]:
        assert p.exists() and p.stat().st_size > 0


def test_finding_no_events_at_all_gives_reasons_and_every_figure_and_table(trial, tmp_path):
    """No events at all: same as all events in one arm (it ended in the same crash)."""
    df, cfg = trial
    o = _tte(cfg)
    df = df.copy()
    df[o["event"]] = 0
    out = run_stages(df, cfg, tmp_path)
    est = out["estimates"]
    r = _arm_rows(est, "cox_adjusted", o["name"])
    assert r["estimate"].isna().all() and r["note"].str.startswith("not estimable: no events").all()
    assert (tmp_path / f"schoenfeld_{o['name']}.png").exists()
    assert (tmp_path / f"km_{o['name']}.png").exists()


def test_finding_five_row_table_gives_no_numbers_only_reasons(trial, tmp_path):
    """A 5-row table (3 and 2 per arm): no model prints a number such as the
    "ZINB IRR 5.45 (5.45 to 5.45)" that was found; every arm-effect row of every model is
    NaN with "not estimable: <reason>" in its note (reasons in estimates.csv, where the
    tables read them), and the tables and figures are still written."""
    df, cfg = trial
    control, intervention = cfg["trial"]["arms"]["control"], cfg["trial"]["arms"]["intervention"]
    df = pd.concat([df[df["arm"] == control].head(3), df[df["arm"] == intervention].head(2)])
    out = run_stages(df, cfg, tmp_path)
    est = out["estimates"]
    models = ["nb_primary", "zinb", "hurdle_nb", "poisson_robust", "nb_fixed_practice",
              "mi_nb", "cace", "ancova", "logistic", "cox_adjusted"]
    for a in models:
        r = _arm_rows(est, a)
        assert len(r), a
        assert r["estimate"].isna().all(), (a, r[["estimate", "note"]])
        assert r["note"].str.startswith("not estimable: ").all(), (a, r["note"].tolist())
    assert (tmp_path / "table_primary.csv").exists() and (tmp_path / "forest_primary.png").exists()


def test_finding_one_extreme_count_fits_and_figures_are_bounded(trial, tmp_path):
    """One count of 10^7: the NB fits (it stopped with "The function value at x=-18.42 is
    NaN") and the figures job does bounded work (it ran for over 10 minutes at 12 GB): the
    histogram has at most MAX_BINS bins plus one overflow bar, an axis ending at the robust
    range, and at most MAX_TICKS ticks."""
    df, cfg = trial
    c = _count(cfg)
    df = df.copy()
    df.loc[df.index[df[c["value"]].notna()][3], c["value"]] = EXTREME
    out = run_stages(df, cfg, tmp_path)
    est = out["estimates"]
    for a in ("nb_primary", "nb_fixed_practice"):
        r = _arm_rows(est, a, c["name"])
        assert np.isfinite(r["estimate"]).all() and np.isfinite(r["conf_low"]).all(), a
    fig, drawn = figures.days_off_distribution(df, cfg)
    bins = drawn["bins"]
    assert bins.groupby("arm").size().max() <= MAX_BINS + 1
    assert (np.isinf(bins["right"])).sum() == 1           # one overflow bar, in one arm
    assert drawn["range"]["n_above"] == 1 and drawn["range"]["max"] == EXTREME
    assert drawn["range"]["end"] <= 182 + 7
    ax = fig.axes[-1]
    assert ax.get_xlim()[1] <= 182 + 2 * 7 and len(ax.get_xticks()) <= MAX_TICKS + 1


# ------------------------------------------------------------- extreme value vs R
@pytest.mark.parametrize("model", ["nb_extreme", "nb_extreme_practice"])
def test_nb_with_one_extreme_count_matches_R_direct_maximum_likelihood(model):
    """MASS::glm.nb fails on this table (stored: glm_nb_failed = 1); fit_nb falls back to
    direct ML over (beta, log theta) and reaches R's optim/nlm/Newton maximum."""
    d, X = _wave_extreme()
    assert _ref(model, "glm_nb_failed")["glm.nb"] == 1
    fixed = d["practice"] if model.endswith("practice") else None
    f = counts.fit_nb(X, d["days_off_6m"], fixed=fixed, fixed_name="practice")
    coef, se = _ref(model, "coef"), _ref(model, "se")
    rname = {"condition_group[musculoskeletal]": "condition_groupmusculoskeletal",
             "condition_group[other]": "condition_groupother"}
    for term in f.params.index:
        r = rname.get(term, term.replace("practice[", "practice").rstrip("]"))
        assert f.params[term] == pytest.approx(coef[r], rel=1e-6, abs=1e-8), term
        assert math.sqrt(f.cov.loc[term, term]) == pytest.approx(se[r], rel=1e-5), term
    assert f.theta == pytest.approx(_ref(model, "theta")["theta"], rel=1e-6)
    assert f.se_theta == pytest.approx(_ref(model, "se")["theta"], rel=1e-5)
    assert f.loglik == pytest.approx(_ref(model, "loglik")["loglik"], rel=1e-9)


def test_poisson_with_one_extreme_count_matches_R_glm():
    d, X = _wave_extreme()
    f = counts.fit_poisson(X, d["days_off_6m"])
    coef = _ref("poisson_extreme", "coef")
    assert f.params["arm"] == pytest.approx(coef["arm"], rel=1e-9)
    assert f.params["days_off_before"] == pytest.approx(coef["days_off_before"], rel=1e-9)


def test_hurdle_with_theta_to_zero_is_not_estimable():
    """An extreme count in a tiny table drives the truncated-NB theta to 0: not estimable
    (was 'converged' at theta = 1e-15, or a ZeroDivisionError)."""
    rng = np.random.default_rng(1)
    arm = np.r_[np.zeros(64), np.ones(66)]
    y = rng.negative_binomial(0.5, 0.5 / (0.5 + 20 * np.exp(-0.3 * arm)))
    y[5] = int(EXTREME)
    X = pd.DataFrame({"(Intercept)": 1.0, "arm": arm})
    with pytest.raises(NotEstimable, match="theta -> 0"):
        counts.fit_hurdle_nb(X, y)
    f = counts.fit_nb(X, y)                 # the NB itself has a maximum
    assert np.isfinite(f.params["arm"]) and f.converged


def test_irls_on_ordinary_data_unchanged_by_the_robust_steps(trial):
    """Step halving and the log-scale forms never act on well-behaved data: the primary NB
    of the default trial equals glm.nb's alternation with no fallback note."""
    df, cfg = trial
    est = R.run_primary(df, cfg)
    r = _arm_rows(est, "nb_primary").iloc[0]
    assert "direct maximum likelihood" not in r["note"] and np.isfinite(r["estimate"])


# ------------------------------------------------------------- each analysis's minimum
def test_all_counts_zero_is_not_estimable(trial):
    df, cfg = trial
    df = df.copy()
    df[_count(cfg)["value"]] = 0
    r = _arm_rows(R.run_primary(df, cfg), "nb_primary").iloc[0]
    assert np.isnan(r["estimate"]) and r["note"] == ("not estimable: every count is 0 (the "
                                                     "rate ratio has no finite estimate)")


def test_fewer_than_two_complete_rows_in_an_arm_is_not_estimable(trial):
    df, cfg = trial
    intervention = cfg["trial"]["arms"]["intervention"]
    c = _count(cfg)
    df = df.copy()
    keep = df.index[df["arm"] == intervention][:1]
    df.loc[(df["arm"] == intervention) & ~df.index.isin(keep), c["value"]] = np.nan
    r = _arm_rows(R.run_primary(df, cfg), "nb_primary").iloc[0]
    assert np.isnan(r["estimate"])
    assert r["note"] == (f"not estimable: 1 participant(s) with complete data in arm "
                         f"{intervention} (a model needs at least 2 per arm)")


def test_no_more_rows_than_parameters_is_not_estimable(trial):
    """4 complete rows (2 per arm) for the primary NB's 5 coefficients and theta."""
    df, cfg = trial
    control, intervention = cfg["trial"]["arms"]["control"], cfg["trial"]["arms"]["intervention"]
    df = df[df[_count(cfg)["value"]].notna()]
    df = pd.concat([df[df["arm"] == control].head(2), df[df["arm"] == intervention].head(2)])
    r = _arm_rows(R.run_primary(df, cfg), "nb_primary").iloc[0]
    assert np.isnan(r["estimate"])
    assert r["note"].startswith("not estimable: 4 complete observations for ")
    assert r["note"].endswith("(a model needs more observations than parameters)")


def test_constant_covariate_is_left_out_with_a_note(trial):
    """Decision: a covariate constant in the analysed rows is left out of the model with a
    note (R gives its coefficient NA); the arm effect is estimated as without it."""
    df, cfg = trial
    cfg = copy.deepcopy(cfg)
    cfg["covariates"] = list(cfg["covariates"]) + ["flat"]
    est = R.run_primary(df.assign(flat=3.0), cfg)
    base = R.run_primary(df, default_config())
    r, b = _arm_rows(est, "nb_primary").iloc[0], _arm_rows(base, "nb_primary").iloc[0]
    assert "constant in the analysed rows, left out (R would give NA): flat" in r["note"]
    assert r["estimate"] == pytest.approx(b["estimate"], rel=1e-10)
    assert "flat" not in set(est["term"])


def test_separation_in_a_binary_outcome_is_not_estimable(trial):
    df, cfg = trial
    b = cfg["outcomes"]["binary"][0]
    df = df.copy()
    df[b["value"]] = (df["arm"] == cfg["trial"]["arms"]["intervention"]).astype(float)
    r = _arm_rows(R.run_secondary_binary(df, cfg), "logistic", b["name"]).iloc[0]
    assert np.isnan(r["estimate"]) and r["note"].startswith("not estimable: separation")


def test_schoenfeld_figure_without_residuals_shows_the_reason(trial):
    df, cfg = trial
    o = _tte(cfg)
    df = df.copy()
    df[o["event"]] = 0
    res = run_time_to_event(df, cfg, o)
    fig, drawn = figures.schoenfeld_plot(res["zph_residuals"], res["estimates"], cfg, o["name"])
    assert drawn["reason"].startswith("not estimable: no events")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("no events" in t for t in texts)


# ------------------------------------------------------------- min_per_arm
def _tiny(df, cfg, n_control=4, n_int=1):
    control, intervention = cfg["trial"]["arms"]["control"], cfg["trial"]["arms"]["intervention"]
    return pd.concat([df[df["arm"] == control].head(n_control),
                      df[df["arm"] == intervention].head(n_int)])


def test_min_per_arm_stop_stops_with_one_line(trial):
    df, cfg = trial
    tiny = _tiny(df, cfg)
    intervention = cfg["trial"]["arms"]["intervention"]
    for run in (lambda: R.run_primary(tiny, cfg), lambda: run_time_to_event(tiny, cfg, _tte(cfg))):
        with pytest.raises(TooFewParticipants) as ei:
            run()
        msg = str(ei.value)
        assert "\n" not in msg and ei.value.column == "arm"
        assert (f"arm {intervention} has 1 participant, fewer than "
                "min_per_arm.participants = 2") in msg
        assert "min_per_arm.action: stop" in msg


def test_min_per_arm_descriptive_gives_km_and_summaries_but_no_models(trial, tmp_path):
    df, cfg = trial
    cfg = copy.deepcopy(cfg)
    cfg["min_per_arm"] = {"participants": 10, "action": "descriptive"}
    tiny = _tiny(df, cfg, 12, 6)
    out = run_stages(tiny, cfg, tmp_path)
    est = out["estimates"]
    for a in ("nb_primary", "zinb", "ancova", "logistic", "cox_adjusted", "logrank"):
        r = _arm_rows(est, a)
        assert len(r) and r["estimate"].isna().all(), a
        assert r["note"].str.startswith("not estimable: descriptive only: arm "
                                        f"{cfg['trial']['arms']['intervention']} has 6 "
                                        "participants").all(), a
    desc = est[(est["analysis"] == "nb_primary") & est["term"].str.contains("stat=mean")]
    assert np.isfinite(desc["estimate"]).all() and len(desc) == 2
    assert len(est[est["analysis"] == "km_median"]) > 0
    assert (tmp_path / f"km_{_tte(cfg)['name']}.png").exists()
