"""CACE by 2SLS (rtw.models.causal) against R AER::ivreg + sandwich.  rel 1e-8 (closed form)."""
import math

import numpy as np
import pandas as pd
import pytest

from rtw.models import causal
from rtw.core import modelframe as mf
from _regression_ref import CONFIG, data, ref, ref_series, rname

F = "causal.csv"


def _fit(name):
    d = data(f"trial_{name}.csv")
    D = mf.build_design(d.assign(_eng=d["engaged"].astype(float)), CONFIG,
                        outcome="days_off_6m", adjust=["condition_group", "days_off_before", "_eng"],
                        cluster="practice")
    Z = D.X.drop(columns="_eng")
    X = Z.copy()
    X["arm"] = D.X["_eng"]
    return D, causal.fit_iv(D.y, X, Z)


@pytest.mark.parametrize("name", ["small", "large"])
def test_cace_matches_R_ivreg_vcovHC_HC0(name):
    """R: iv <- ivreg(days_off_6m ~ engaged + condition_group + days_off_before |
    arm + condition_group + days_off_before); coef, sqrt(diag(vcov(iv))),
    sqrt(diag(vcovHC(iv, type = "HC0"))), vcovCL(iv, cluster = ~practice),
    coeftest(iv, vcovHC(iv, type = "HC0")) p-value (t, df = n - k).  rel 1e-8."""
    D, iv = _fit(name)
    m = f"ivreg_{name}"
    rb, rs, rh, rc = (ref_series(F, m, q) for q in ("coef", "se", "se_HC0", "se_vcovCL"))
    Vc = iv.vcov_cluster(D.cluster)
    for t in iv.params.index:
        rt = "engaged" if t == "arm" else rname(t)
        assert iv.params[t] == pytest.approx(rb[rt], rel=1e-8)
        assert math.sqrt(iv.cov_model.loc[t, t]) == pytest.approx(rs[rt], rel=1e-8)
        assert math.sqrt(iv.cov_hc0.loc[t, t]) == pytest.approx(rh[rt], rel=1e-8)
        assert math.sqrt(Vc.loc[t, t]) == pytest.approx(rc[rt], rel=1e-8)
    assert iv.df_resid == ref(F, m, "df_residual")[0]
    from scipy import stats
    tval = iv.params["arm"] / math.sqrt(iv.cov_hc0.loc["arm", "arm"])
    assert 2 * stats.t.sf(abs(tval), iv.df_resid) == pytest.approx(ref(F, m, "p_HC0")[0], rel=1e-6)


def test_cace_equals_itt_over_compliance_without_covariates():
    """Wald estimator: with only the instrument, 2SLS = ITT difference / engagement difference."""
    d = data("trial_small.csv").dropna(subset=["days_off_6m"])
    a = mf.arm_indicator(d, CONFIG)
    e = d["engaged"].astype(float)
    X = pd.DataFrame({"(Intercept)": 1.0, "arm": e})
    Z = pd.DataFrame({"(Intercept)": 1.0, "arm": a})
    iv = causal.fit_iv(d["days_off_6m"], X, Z)
    y = d["days_off_6m"]
    itt = y[a == 1].mean() - y[a == 0].mean()
    comp = e[a == 1].mean() - e[a == 0].mean()
    assert iv.params["arm"] == pytest.approx(itt / comp, rel=1e-10)
    assert iv.first_stage["arm"] == pytest.approx(comp, rel=1e-10)


def test_weak_instrument_is_noted():
    rng = np.random.default_rng(5)
    n = 200
    a = (np.arange(n) % 2).astype(float)
    e = (rng.random(n) < 0.5 + 0.02 * a).astype(float)
    y = rng.normal(size=n)
    iv = causal.fit_iv(y, pd.DataFrame({"(Intercept)": 1.0, "arm": e}),
                       pd.DataFrame({"(Intercept)": 1.0, "arm": a}))
    assert any("weak instrument" in n for n in iv.notes)
