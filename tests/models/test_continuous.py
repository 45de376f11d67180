"""Continuous outcomes (rtw.models.continuous) against R lm / sandwich / lme4::lmer.

Tolerances: lm coefficients, SEs, CIs, vcovCL rel 1e-8 (same closed form);
lmer fixed effects within 1e-3 SE and SEs rel 1e-5, variance components rel
1e-4 (both sides optimise the profiled REML criterion numerically: lme4 with
bobyqa, rtw with L-BFGS-B; the REML log-likelihoods agree to 1e-9);
singular-fit flag exactly.
"""
import math

import pandas as pd
import pytest
from scipy import stats

from rtw.models import continuous
from rtw.core import modelframe as mf
from _regression_ref import CONFIG, REF, data, ref, ref_series, rname

F = "continuous.csv"


def _ancova(name):
    d = data(f"trial_{name}.csv")
    D = mf.build_design(d, CONFIG, outcome="eq5d_index_6m",
                        adjust=["condition_group", "days_off_before", "eq5d_index_bl"],
                        cluster="practice")
    return D, continuous.fit_ols(D.X, D.y)


@pytest.mark.parametrize("name", ["small", "large"])
def test_ancova_matches_R_lm_and_vcovCL(name):
    """R: a <- lm(eq5d_index_6m ~ arm + condition_group + days_off_before + eq5d_index_bl);
    coef, sqrt(diag(vcov(a))), confint(a, "arm", level = 0.95 / 0.80),
    sqrt(diag(sandwich::vcovCL(a, cluster = ~practice)))  (lm default: HC1).  rel 1e-8."""
    D, f = _ancova(name)
    m = f"ancova_{name}"
    rb, rs, rc = (ref_series(F, m, q) for q in ("coef", "se", "se_vcovCL"))
    Vc = f.vcov_cluster(D.cluster)
    for t in f.params.index:
        assert f.params[t] == pytest.approx(rb[rname(t)], rel=1e-8)
        assert math.sqrt(f.cov.loc[t, t]) == pytest.approx(rs[rname(t)], rel=1e-8)
        assert math.sqrt(Vc.loc[t, t]) == pytest.approx(rc[rname(t)], rel=1e-8)
    assert f.df_resid == ref(F, m, "df_residual")[0]
    se = math.sqrt(f.cov.loc["arm", "arm"])
    for lv in (0.95, 0.8):
        q = stats.t.ppf(0.5 + lv / 2, f.df_resid)
        ci = (f.params["arm"] - q * se, f.params["arm"] + q * se)
        assert ci == pytest.approx(tuple(ref(F, m, f"ci_{lv}")), rel=1e-8)


def _lmm_design(name, fam):
    d = data(f"trial_{name}.csv")
    L = pd.concat([d.assign(y=d[f"{fam}_6w"], time="6w"),
                   d.assign(y=d[f"{fam}_6m"], time="6m")], ignore_index=True)
    L["bl"] = L[f"{fam}_bl"]
    arm = mf.arm_indicator(L, CONFIG)
    extra = pd.DataFrame({"time[6m]": (L["time"] == "6m").astype(float)})
    extra["arm:time[6m]"] = extra["time[6m]"] * arm
    D = mf.build_design(L, CONFIG, outcome="y", adjust=["bl", "condition_group", "days_off_before"],
                        extra=extra)
    return L, D


def _r(term):
    return rname(term).replace("time[6m]", "time6m")


@pytest.mark.parametrize("name,fam,practice", [
    ("small", "eq5d_index", False), ("small", "work_ability", False),
    ("large", "eq5d_index", False), ("large", "work_ability", False),
    ("small", "eq5d_index", True), ("large", "work_ability", True)])
def test_lmm_fixed_effects_match_R_lmer(name, fam, practice):
    """R: lmer(y ~ arm * time + bl + condition_group + days_off_before + (1 | participant_id)
    [+ (1 | practice)], REML = TRUE): fixef, sqrt(diag(vcov)), VarCorr, isSingular, logLik.
    (The practice models are singular in R: practice variance 0.)"""
    L, D = _lmm_design(name, fam)
    f = continuous.fit_lmm(D.X, D.y, L.loc[D.index, "participant_id"],
                           L.loc[D.index, "practice"] if practice else None)
    m = f"lmm_{fam}_{name}" + ("_practice" if practice else "")
    rb, rs = ref_series(F, m, "coef"), ref_series(F, m, "se")
    for t in f.params.index:
        se = math.sqrt(f.cov.loc[t, t])
        assert f.params[t] == pytest.approx(rb[_r(t)], abs=1e-3 * rs[_r(t)]), t
        assert se == pytest.approx(rs[_r(t)], rel=1e-5), t
    est, se = continuous.contrast(f.params, f.cov, {"arm": 1, "arm:time[6m]": 1})
    assert est == pytest.approx(ref(F, m, "coef", "arm;time=6m")[0], abs=1e-3 * se)
    assert se == pytest.approx(ref(F, m, "se", "arm;time=6m")[0], rel=1e-5)
    rv = ref_series(F, m, "variance")
    assert f.var_participant == pytest.approx(rv["participant_id"], rel=1e-4)
    assert f.sigma2 == pytest.approx(rv["Residual"], rel=1e-4)
    assert f.singular == bool(ref(F, m, "singular")[0])
    if practice:
        assert f.var_practice == pytest.approx(rv["practice"], abs=1e-10)
        assert any("singular" in n for n in f.notes)
    assert f.reml_loglik == pytest.approx(ref(F, m, "reml_loglik")[0], rel=1e-9)
    assert f.converged


def test_lmm_singular_participant_variance_flagged_like_R_isSingular(caplog):
    """R: lmer(y ~ arm * time + (1 | participant_id)) on data with no participant effect:
    isSingular(fit) TRUE; fixed effects and SEs as lmer (then = lm), rel 1e-6."""
    Ls = pd.read_csv(REF / "data" / "lmm_singular.csv")
    arm = Ls["arm"].astype(float)
    X = pd.DataFrame({"(Intercept)": 1.0, "arm": arm, "time[6m]": (Ls["time"] == "6m").astype(float)})
    X["arm:time[6m]"] = X["arm"] * X["time[6m]"]
    with caplog.at_level("WARNING"):
        f = continuous.fit_lmm(X, Ls["y"], Ls["participant_id"])
    assert f.singular and bool(ref(F, "lmm_singular", "singular", "model")[0])
    assert "singular" in caplog.text
    rb, rs = ref_series(F, "lmm_singular", "coef"), ref_series(F, "lmm_singular", "se")
    for t in X.columns:
        assert f.params[t] == pytest.approx(rb[_r(t)], rel=1e-6, abs=1e-9)
        assert math.sqrt(f.cov.loc[t, t]) == pytest.approx(rs[_r(t)], rel=1e-6)


def test_statsmodels_mixedlm_agrees_with_lmer_only_when_interior():
    """The check behind using our own REML: statsmodels MixedLM(reml=True) matches lmer's
    fixed effects (rel 1e-4) when the participant variance is interior."""
    import statsmodels.api as sm
    L, D = _lmm_design("small", "eq5d_index")
    res = sm.MixedLM(D.y.to_numpy(), D.X.to_numpy(),
                     groups=L.loc[D.index, "participant_id"].to_numpy()).fit(reml=True)
    rb = ref_series(F, "lmm_eq5d_index_small", "coef")
    rs = ref_series(F, "lmm_eq5d_index_small", "se")
    for j, t in enumerate(D.X.columns):
        assert res.fe_params[j] == pytest.approx(rb[_r(t)], abs=1e-2 * rs[_r(t)])
