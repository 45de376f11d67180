"""The regression runners (rtw.models.runner): contract, config handling, boundaries.

Runner-level R checks (rel 1e-6): the primary IRR row with cluster-robust SE equals
exp(coef) and sqrt(vcovCL) of R glm.nb; with ``practice_effect: fixed`` it equals
glm.nb(... + factor(practice)); with ``nb_ci: profile`` the CI equals the exact
profile interval; ``poisson_robust`` equals glm(poisson) + vcovCL.
"""
import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from rtw.models import runner as R
from rtw.core.estimates import COLUMNS
from _regression_ref import data, ref
from helpers import default_config, sap

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def config():
    cfg = default_config()
    cfg["regression"]["mi"] = {"m": 5, "iterations": 1}
    return cfg


@pytest.fixture(scope="module")
def small():
    return data("trial_small.csv")


def _row(out, analysis, term="arm", level=0.95, outcome=None):
    r = out[(out["analysis"] == analysis) & (out["term"] == term)]
    if outcome:
        r = r[r["outcome"] == outcome]
    if level is not None:
        r = r[r["conf_level"] == level]
    assert len(r) == 1, (analysis, term, len(r))
    return r.iloc[0]


def test_primary_nb_row_matches_R_glm_nb_with_vcovCL(small, config):
    """R: exp(coef(glm.nb(days_off_6m ~ arm + condition_group + days_off_before))['arm']),
    sqrt(diag(vcovCL(fit, cluster = ~practice)))['arm'] (config: practice_effect cluster_robust)."""
    out = R.run_primary(small, config)
    assert list(out.columns) == COLUMNS
    r = _row(out, "nb_primary")
    assert r["estimate"] == pytest.approx(math.exp(ref("counts.csv", "nb_small", "coef", "arm")[0]), rel=1e-6)
    assert r["std_error"] == pytest.approx(ref("counts.csv", "nb_small", "se_vcovCL", "arm")[0], rel=1e-6)
    assert r["n"] == 125 and "vcovCL" in r["note"]
    assert set(out.loc[out["term"] == "arm", "conf_level"]) == {0.95, 0.8}
    q = 1.959963984540054
    assert r["conf_low"] == pytest.approx(r["estimate"] * math.exp(-q * r["std_error"]), rel=1e-12)
    m = _row(out, "nb_primary", "arm=usual_care;stat=mean", level=None)
    assert m["estimate"] == pytest.approx(small.loc[small.arm == "usual_care", "days_off_6m"].mean())


def test_primary_fixed_practice_and_profile_ci_match_R(small, config):
    """R: glm.nb(... + factor(practice)) arm coefficient and SE; and with practice_effect none,
    nb_ci profile: the exact profile-likelihood interval (uniroot on the deviance)."""
    cfg = copy.deepcopy(config)
    cfg["practice_effect"] = "fixed"
    r = _row(R.run_primary(small, cfg), "nb_primary")
    assert math.log(r["estimate"]) == pytest.approx(
        ref("counts.csv", "nb_fixed_practice_small", "coef", "arm")[0], rel=1e-6)
    assert r["std_error"] == pytest.approx(ref("counts.csv", "nb_fixed_practice_small", "se", "arm")[0], rel=1e-6)
    cfg["practice_effect"] = "none"
    cfg["regression"] = dict(cfg["regression"], nb_ci="profile")
    out = R.run_primary(small, cfg)
    for lv in (0.95, 0.8):
        r = _row(out, "nb_primary", level=lv)
        lo, hi = ref("counts.csv", "nb_small", f"profile_ci_exact_{lv}")
        assert (r["conf_low"], r["conf_high"]) == pytest.approx((math.exp(lo), math.exp(hi)), rel=1e-6)
        assert "profile" in r["note"]


def test_sensitivity_writes_every_analysis(small, config):
    out = R.run_sensitivity(small, config)
    assert list(out.columns) == COLUMNS
    for a in ("zinb", "hurdle_nb", "poisson_robust", "nb_fixed_practice", "nb_per_protocol",
              "mi_nb", "cace", "tipping_point"):
        assert a in set(out["analysis"]), a
    z = _row(out, "zinb")
    assert z["std_error"] == pytest.approx(ref("counts.csv", "zinb_small", "se_vcovCL", "count_arm")[0], rel=1e-5)
    pr = _row(out, "poisson_robust")
    assert pr["std_error"] == pytest.approx(ref("counts.csv", "poisson_small", "se_vcovCL", "arm")[0], rel=1e-6)
    assert _row(out, "mi_nb")["population"] == "mi"
    assert _row(out, "nb_per_protocol")["population"] == "pp"
    deltas = config["outcomes"]["count"]["tipping_point_deltas"]
    tp = out[(out["analysis"] == "tipping_point") & out["term"].str.startswith("delta=")]
    assert len(tp) == 2 * len(deltas)
    assert tp["note"].str.contains("days off work added to imputed").all()
    assert len(out[out["term"].str.startswith("tipping_delta")]) == 2
    cace = _row(out, "cace")
    assert cace["std_error"] == pytest.approx(
        ref("causal.csv", "ivreg_small", "se_vcovCL", "engaged")[0], rel=1e-6)


def test_secondary_and_subgroups_and_delivery_rows(small, config):
    cont = R.run_secondary_continuous(small, config)
    assert {"ancova", "lmm"} <= set(cont["analysis"])
    # outcomes absent from this table (rtw_self_efficacy, presenteeism) are skipped, not errors
    lmm = cont[cont["analysis"] == "lmm"]
    assert set(lmm["outcome"]) == {"eq5d_6w", "eq5d_6m", "work_ability_6w", "work_ability_6m",
                                   "eq5d_index", "work_ability"}
    assert set(lmm.loc[lmm["outcome"] == "eq5d_index", "term"]) == {"arm:time[6m]"}
    # the 6m arm effect is arm + arm:time[6m] of lmer (R reference)
    r = _row(cont, "lmm", "arm", outcome="eq5d_6m")
    assert r["estimate"] == pytest.approx(ref("continuous.csv", "lmm_eq5d_index_small", "coef", "arm;time=6m")[0],
                                          abs=1e-3 * r["std_error"])
    assert r["std_error"] == pytest.approx(ref("continuous.csv", "lmm_eq5d_index_small", "se", "arm;time=6m")[0],
                                           rel=1e-5)
    b = R.run_secondary_binary(small, config)
    assert {"logistic", "gcomp_rd", "gcomp_rr"} <= set(b["analysis"])
    s = R.run_subgroups(small, config)
    assert "interaction=sex" in set(s["term"]) and "subgroup=sex:female" in set(s["term"])
    # subgroup_cox lives in the survival runner (rtw.survival.subgroups)
    assert set(s["analysis"]) == {"subgroup_nb"}
    d = R.run_delivery(small, config)
    assert set(d["analysis"]) == {"delivery"}


def test_bring_your_own_table_minimal_config():
    """Any subset of outcomes, no covariates, no stratification, no practice column."""
    rng = np.random.default_rng(11)
    n = 150
    df = pd.DataFrame({
        "arm": np.where(np.arange(n) % 2 == 0, "ctl", "trt"),
        "y": rng.negative_binomial(1, 0.05, n).astype(float),
        "score": rng.normal(size=n), "score_bl": rng.normal(size=n),
        "b": (rng.random(n) < 0.4).astype(float)})
    cfg = sap({"trial": {"arms": {"control": "ctl", "intervention": "trt"}},
           "outcomes": {"count": {"name": "cnt", "value": "y"},
                        "continuous": [{"name": "sc", "value": "score", "baseline": "score_bl"}],
                        "binary": [{"name": "bb", "value": "b"}]},
           "practice_effect": "cluster_robust", "cluster": "practice", "conf_levels": [0.9],
           "regression": {"mi": {"m": 3}}})
    p = R.run_primary(df, cfg)
    r = _row(p, "nb_primary", level=0.9)
    assert "practice not accounted for" in r["note"]
    sens = R.run_sensitivity(df, cfg)
    assert "MI not needed" in _row(sens, "mi_nb", level=0.9)["note"]
    assert _row(R.run_secondary_continuous(df, cfg), "ancova", level=0.9)["n"] == n
    assert _row(R.run_secondary_binary(df, cfg), "gcomp_rd", level=0.9)["n"] == n
    assert R.run_subgroups(df, cfg).empty
    assert R.run_delivery(df, cfg).empty
    only_binary = {k: v for k, v in cfg.items() if k != "outcomes"}
    only_binary["outcomes"] = {"binary": cfg["outcomes"]["binary"]}
    only_binary = sap(only_binary)
    assert R.run_primary(df, only_binary).empty
    assert list(R.run_primary(df, only_binary).columns) == COLUMNS
    assert R.run_secondary_continuous(df, only_binary).empty


def test_nb_boundary_fallback_only_as_configured():
    """theta -> infinity: with fallback poisson_robust the row is the robust Poisson fit (note);
    without, the NB at its Poisson limit with a note.  Never silent."""
    rng = np.random.default_rng(2)
    n = 200
    df = pd.DataFrame({"arm": np.where(np.arange(n) % 2 == 0, "c", "i"),
                       "y": rng.binomial(30, 0.4, n).astype(float)})
    cfg = sap({"trial": {"arms": {"control": "c", "intervention": "i"}},
           "outcomes": {"count": {"name": "y", "value": "y"}},
           "regression": {"fallback": {"nb_boundary": "poisson_robust"}}})
    r = _row(R.run_primary(df, cfg), "nb_primary")
    assert "fallback to Poisson with robust SE" in r["note"]
    cfg["regression"]["fallback"]["nb_boundary"] = None
    r2 = _row(R.run_primary(df, cfg), "nb_primary")
    assert "no fallback" in r2["note"] and "theta -> infinity" in r2["note"]
    assert r2["estimate"] == pytest.approx(r["estimate"], rel=1e-10)
    assert r2["std_error"] != pytest.approx(r["std_error"], rel=1e-6)   # model-based vs HC0


def test_separation_gives_no_number_but_a_note():
    d = data("separation.csv")
    cfg = sap({"trial": {"arms": {"control": "usual_care", "intervention": "vocational_advice"}},
           "outcomes": {"binary": [{"name": "y", "value": "y"}]}, "covariates": ["x"]})
    out = R.run_secondary_binary(d, cfg)
    for a in ("logistic", "gcomp_rd", "gcomp_rr"):
        r = _row(out, a)
        assert np.isnan(r["estimate"]) and "separation" in r["note"]


def test_runners_are_deterministic_and_reject_unknown_arm(small, config):
    a = R.run_sensitivity(small, config)
    b = R.run_sensitivity(small, config)
    pd.testing.assert_frame_equal(a, b)
    bad = small.assign(arm=small["arm"].replace("usual_care", "UC"))
    with pytest.raises(ValueError, match="not in config"):
        R.run_primary(bad, config)


def test_numeric_stratification_factor_enters_as_factor(small, config):
    """A stratification factor coded 1/2/3 is a factor (R: factor(strat)), not a slope:
    same IRR as the text-coded condition_group."""
    codes = {"mental_health": 1, "musculoskeletal": 2, "other": 3}
    df = small.assign(cg_num=small["condition_group"].map(codes))
    cfg = copy.deepcopy(config)
    cfg["stratification_factors"] = ["cg_num"]
    a = _row(R.run_primary(df, cfg), "nb_primary")
    b = _row(R.run_primary(small, config), "nb_primary")
    assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-9)
    terms = set(R.run_primary(df, cfg)["term"])
    assert {"cg_num[2]", "cg_num[3]"} <= terms


def test_exposure_column_enters_as_log_offset_like_R(small, config):
    """R: glm.nb(days_off_6m ~ arm + condition_group + days_off_before + offset(log(expo)))
    with outcomes.count.exposure_days naming the column ``expo``.  rel 1e-6."""
    cfg = copy.deepcopy(config)
    cfg["practice_effect"] = "none"
    cnt = cfg["outcomes"]["count"]
    cfg["outcomes"]["count"] = dict(cnt if isinstance(cnt, dict) else cnt[0], exposure_days="expo")
    df = small.assign(expo=120 + (np.arange(1, len(small) + 1) % 63))
    out = R.run_primary(df, cfg)
    r = _row(out, "nb_primary")
    assert math.log(r["estimate"]) == pytest.approx(ref("counts.csv", "nb_offset_small", "coef", "arm")[0], rel=1e-6)
    assert r["std_error"] == pytest.approx(ref("counts.csv", "nb_offset_small", "se", "arm")[0], rel=1e-6)
    th = _row(out, "nb_primary", "theta", level=None)
    assert th["estimate"] == pytest.approx(ref("counts.csv", "nb_offset_small", "theta", "theta")[0], rel=1e-6)


def test_unestimable_arm_effect_gives_nan_row_with_reason(small, config, caplog):
    """All intervention-arm outcomes missing: no arm effect can be estimated; the runners
    say so (note, ERROR log) instead of crashing or printing a number."""
    df = small.copy()
    df.loc[df["arm"] == "vocational_advice", ["days_off_6m", "at_work_6m", "srtw_26w"]] = np.nan
    with caplog.at_level("ERROR"):
        r = _row(R.run_primary(df, config), "nb_primary")
        b = _row(R.run_secondary_binary(df, config), "logistic", outcome="at_work_6m")
    assert np.isnan(r["estimate"]) and "not estimable" in r["note"]
    assert np.isnan(b["estimate"]) and "not estimable" in b["note"]
    assert "not estimated" in caplog.text


def test_tipping_point_deltas_default_to_multiples_of_the_outcome_sd(config):
    """Issue 11, item 2: without configured deltas the tipping-point grid is on the outcome's
    own scale: tipping_point_sd_multiples x SD of the observed outcome (3 significant digits)."""
    spec = dict(config["outcomes"]["count"], tipping_point_deltas=None,
                tipping_point_sd_multiples=[-1, -0.5, 0, 0.5, 1])
    y = pd.Series([0.0, 1, 2, 3, np.nan, 4])          # SD 1.5811...
    assert R.tipping_point_deltas(spec, y) == [-1.58, -0.791, 0.0, 0.791, 1.58]
    assert R.tipping_point_deltas(dict(spec, tipping_point_deltas=[0, 2]), y) == [0.0, 2.0]
    assert R.tipping_point_deltas(spec, pd.Series([3.0, 3.0])) == [0.0]
