"""Cox arm-by-subgroup analysis (``subgroup_cox``: rtw.survival.subgroups.cox_fitter and
subgroup_cox_rows, written by rtw.survival.runner.run_time_to_event) against R
``survival::coxph`` 3.5-3.

Reference: ``tests/survival/reference/subgroup_cox.R`` ->
``expected/subgroup_cox.csv``, on the pipeline's generator data sets
``tests/survival/reference/data/generator_{wave,720}.csv``.  Event = ``rtw_event == 1``
(competing event 2 censored: cause-specific Cox); Efron ties; adjustment
``condition_group + days_off_before`` minus the subgroup column.  Subgroups:
``condition_group`` (3 levels) and ``absence_group`` ("long" if days_off_before >= 60
else "short"; missing in every 17th row, dropped).  Tolerances: rel 1e-6 (LR statistic,
Wald chi-square, within-level log HR and SEs), rel 1e-5 on p; n and events exact.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import sap
from rtw.core import subgroups as sg
from rtw.survival import subgroups as ssg
from rtw.survival.runner import run_time_to_event
from _regression_ref import CONFIG, ref

SURV = Path(__file__).resolve().parent / "reference" / "data"
F = SURV.parent / "expected" / "subgroup_cox.csv"
CASES = [(c, n) for c in ("condition_group", "absence_group") for n in ("wave", "720")]


def _data(name: str) -> pd.DataFrame:
    d = pd.read_csv(SURV / f"generator_{name}.csv")
    d["ev"] = (d["rtw_event"] == 1).astype(float)
    d["absence_group"] = np.where(d["days_off_before"] >= 60, "long", "short").astype(object)
    d.loc[(np.arange(len(d)) + 1) % 17 == 0, "absence_group"] = None
    return d


@pytest.mark.parametrize("column,name", CASES)
@pytest.mark.parametrize("cluster", [None, "practice"])
def test_subgroup_cox_matches_R_anova_coxph(column, name, cluster):
    """R: m0 <- coxph(Surv(rtw_time, rtw_event == 1) ~ arm + <adj> + sg, ties = "efron");
    m1 <- update(m0, . ~ . + arm:sg); anova(m0, m1) ('Chisq', 'Df', 'Pr(>|Chi|)');
    Wald chi2 of the arm:sg coefficients with vcov(m1); within-level log HR
    b_arm + b_arm:sg<l> with SE from vcov(m1) or, for cluster = practice, from
    vcov(coxph(..., cluster = practice)) (robust; LR test model-based either way)."""
    d = _data(name)
    adj = ["condition_group", "days_off_before"]
    res = sg.subgroup_analysis(d, CONFIG, column, ssg.cox_fitter("rtw_time", "ev", cluster),
                               required=["rtw_time", "ev"], adjust=adj, intercept=False,
                               events="ev", extra_columns=[cluster] if cluster else [])
    m = f"subgroup_cox_{column}_{name}"
    assert res.lr_stat == pytest.approx(ref(F, m, "lr_stat", "interaction")[0], rel=1e-6)
    assert res.lr_df == ref(F, m, "lr_df", "interaction")[0]
    assert res.lr_p == pytest.approx(ref(F, m, "lr_p", "interaction")[0], rel=1e-5)
    if cluster is None:
        assert res.wald_stat == pytest.approx(ref(F, m, "wald_stat", "interaction")[0], rel=1e-6)
    assert res.effects["n"].sum() == ref(F, m, "n", "interaction")[0]
    q = "se_cluster" if cluster else "se"
    for _, e in res.effects.iterrows():
        t = f"level={e['level']}"
        assert e["estimate"] == pytest.approx(ref(F, m, "coef", t)[0], rel=1e-6)
        assert e["se"] == pytest.approx(ref(F, m, q, t)[0], rel=1e-6)
        assert e["n"] == ref(F, m, "n", t)[0]
        assert e["events"] == ref(F, m, "nevent", t)[0]
    if column == "absence_group":
        assert any("missing absence_group excluded" in x for x in res.notes)


def _config(**kw):
    cfg = dict(CONFIG)
    cfg.update({"stratification_factors": ["condition_group"], "covariates": ["days_off_before"],
                "cluster": "practice", "practice_effect": "cluster_robust",
                "survival": {"ties": "efron"},
                "outcomes": {"time_to_event": [
                    {"name": "first_rtw", "time": "rtw_time", "event": "rtw_event",
                     "event_value": 1, "competing_value": 2},
                    {"name": "sustained_rtw", "time": "srtw_time", "event": "srtw_event",
                     "event_value": 1}]},
                "subgroups": [{"name": "condition_group", "column": "condition_group"},
                              {"name": "absence", "column": "absence_group"}]})
    cfg.update(kw)
    return sap(cfg)


def _estimates(d: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """The survival runner's estimates of every configured time-to-event outcome."""
    return pd.concat([run_time_to_event(d, cfg, o)["estimates"]
                      for o in cfg["outcomes"]["time_to_event"]], ignore_index=True)


def test_survival_runner_writes_subgroup_cox_rows_as_R():
    """run_time_to_event on the WAVE generator data (config defaults: cluster-robust by
    practice) gives subgroup_cox rows for the first time-to-event outcome only: HR =
    exp(coef) with the coxph(cluster = practice) SE and Wald CIs at every conf level; the
    interaction row carries anova(coxph(m0), coxph(m1)) chi-square and p."""
    d = _data("wave")
    out = _estimates(d, _config())
    cox = out[out["analysis"] == "subgroup_cox"]
    assert set(cox["outcome"]) == {"first_rtw"}
    assert set(cox.loc[cox["term"].str.startswith("subgroup="), "conf_level"]) == {0.95, 0.80}
    for col, sname in (("condition_group", "condition_group"), ("absence_group", "absence")):
        m = f"subgroup_cox_{col}_wave"
        r = cox[cox["term"] == f"interaction={sname}"].iloc[0]
        assert r["statistic"] == pytest.approx(ref(F, m, "lr_stat", "interaction")[0], rel=1e-6)
        assert r["p_value"] == pytest.approx(ref(F, m, "lr_p", "interaction")[0], rel=1e-5)
        assert "anova.coxph" in r["note"] and "LR test model-based" in r["note"]
        levels = sorted(t.split(":", 1)[1] for t in cox["term"] if t.startswith(f"subgroup={sname}:"))
        assert levels
        for lev in levels:
            rows = cox[cox["term"] == f"subgroup={sname}:{lev}"]
            b = ref(F, m, "coef", f"level={lev}")[0]
            se = ref(F, m, "se_cluster", f"level={lev}")[0]
            for _, rr in rows.iterrows():
                assert rr["estimate"] == pytest.approx(np.exp(b), rel=1e-6)
                assert rr["std_error"] == pytest.approx(se, rel=1e-6)
                z = {0.95: 1.959963984540054, 0.80: 1.2815515655446004}[rr["conf_level"]]
                assert rr["conf_low"] == pytest.approx(np.exp(b - z * se), rel=1e-6)
                assert rr["conf_high"] == pytest.approx(np.exp(b + z * se), rel=1e-6)
                assert rr["events"] == ref(F, m, "nevent", f"level={lev}")[0]
                assert "robust SE clustered by practice" in rr["note"]
                assert "competing rtw_event == 2 censored" in rr["note"]
        if col == "absence_group":
            assert "missing absence_group excluded" in r["note"]


def test_model_based_se_without_cluster_and_no_rows_without_time_to_event():
    """practice_effect: none -> model-based SE (vcov(m1)); no time_to_event outcome in the
    config (or no subgroups) -> no subgroup_cox rows."""
    d = _data("720")
    out = _estimates(d, _config(practice_effect="none"))
    r = out[(out["analysis"] == "subgroup_cox")
            & (out["term"] == "subgroup=condition_group:other")].iloc[0]
    assert r["std_error"] == pytest.approx(
        ref(F, "subgroup_cox_condition_group_720", "se", "level=other")[0], rel=1e-6)
    first = _config()["outcomes"]["time_to_event"][0]
    cfg = _config(outcomes={})
    assert ssg.subgroup_cox_rows(d, cfg, first) == []
    assert "subgroup_cox" not in set(run_time_to_event(d, cfg, first)["estimates"]["analysis"])
    assert ssg.subgroup_cox_rows(d, _config(subgroups=[]), first) == []


def test_subgroup_levels_are_labelled_alike_in_the_cox_and_negative_binomial_rows():
    """Issue 10: a numeric subgroup column with a missing value (read as 0.0/1.0) gives
    ``subgroup=female:0`` and ``:1`` in both subgroup_cox and subgroup_nb, not ``0.0``."""
    from rtw.models.runner import run_subgroups
    d = _data("720")
    d["female"] = (np.arange(len(d)) % 3 == 0).astype(float)
    d.loc[5, "female"] = np.nan
    d["days_off_6m"] = d["rtw_time"].clip(upper=182).round()
    cfg = _config(subgroups=[{"name": "female", "column": "female"}])
    cfg = sap({**cfg, "outcomes": {**cfg["outcomes"], "count": {"name": "days_off",
                                                                  "value": "days_off_6m"}}})
    cox = {t for t in _estimates(d, cfg)["term"] if str(t).startswith("subgroup=")}
    nb = {t for t in run_subgroups(d, cfg)["term"] if str(t).startswith("subgroup=")}
    assert cox == nb == {"subgroup=female:0", "subgroup=female:1"}
