"""Binary outcomes (rtw.models.binary) against R glm(binomial), sandwich and g-computation in R.

Logistic coefficients / SEs / vcovCL: rel 1e-8.  Standardised risks, RD and RR:
rel 1e-10 against R's ``mean(predict(g, newdata = d1/d0, type = "response"))``.
Delta-method SEs: rel 1e-8 against the stacked estimating-equation sandwich
written out in make_reference.R (stdReg's variance; stdReg itself is not
installed, so the formula is reproduced by hand in R with sandwich::estfun).
"""
import math

import pandas as pd
import pytest

from rtw.models import binary as bn
from rtw.core import modelframe as mf
from rtw.models.runner import _logit_cluster
from _regression_ref import CONFIG, data, ref, ref_series, rname

F = "binary.csv"


def _fit(name, out):
    d = data(f"trial_{name}.csv")
    D = mf.build_design(d, CONFIG, outcome=out, adjust=["condition_group", "days_off_before"],
                        cluster="practice")
    return D, bn.fit_logistic(D.X, D.y)


CASES = [(n, o) for n in ("small", "large") for o in ("at_work_6m", "srtw_26w")]


@pytest.mark.parametrize("name,out", CASES)
def test_logistic_or_matches_R_glm_binomial(name, out):
    """R: g <- glm(out ~ arm + condition_group + days_off_before, family = binomial);
    coef, sqrt(diag(vcov(g))), sqrt(diag(vcovCL(g, cluster = ~practice))).  rel 1e-8."""
    D, f = _fit(name, out)
    assert f.converged and not f.separation
    m = f"logistic_{out}_{name}"
    rb, rs, rc = (ref_series(F, m, q) for q in ("coef", "se", "se_vcovCL"))
    Vc = _logit_cluster(f, D.cluster)
    for t in f.params.index:
        assert f.params[t] == pytest.approx(rb[rname(t)], rel=1e-8)
        assert math.sqrt(f.cov.loc[t, t]) == pytest.approx(rs[rname(t)], rel=1e-8)
        assert math.sqrt(Vc.loc[t, t]) == pytest.approx(rc[rname(t)], rel=1e-8)


@pytest.mark.parametrize("name,out", CASES)
def test_gcomp_risks_match_R_standardised_predictions(name, out):
    """R: p1 <- mean(predict(g, newdata = transform(d, arm = 1), type = "response")), p0 likewise;
    RD = p1 - p0, RR = p1 / p0 (rel 1e-10); SEs of p1, p0, RD and log RR from the stacked
    estimating equations (psi = estfun(g), p1_i - p1, p0_i - p0; A^-1 B A^-T / n) in R (rel 1e-8)."""
    D, f = _fit(name, out)
    st = bn.standardise(f)
    m = f"logistic_{out}_{name}"
    g = lambda q: ref(F, m, q, "gcomp")[0]
    assert st.p1 == pytest.approx(g("p1"), rel=1e-10)
    assert st.p0 == pytest.approx(g("p0"), rel=1e-10)
    assert st.rd == pytest.approx(g("rd"), rel=1e-9)
    assert st.rr == pytest.approx(g("rr"), rel=1e-10)
    assert st.se_rd == pytest.approx(g("se_rd"), rel=1e-8)
    assert st.se_log_rr == pytest.approx(g("se_log_rr"), rel=1e-8)
    assert math.sqrt(st.cov[0, 0]) == pytest.approx(g("se_p1"), rel=1e-8)
    assert math.sqrt(st.cov[1, 1]) == pytest.approx(g("se_p0"), rel=1e-8)


def test_separation_detected_where_R_glm_diverges():
    """R: glm(y ~ arm + x, binomial) on separated data: 'fitted probabilities numerically 0 or 1',
    |coef(arm)| huge with a meaningless SE.  rtw flags separation and reports no number."""
    d = data("separation.csv")
    D = mf.build_design(d, CONFIG, outcome="y", adjust=["x"])
    f = bn.fit_logistic(D.X, D.y)
    assert f.separation
    assert any("separation" in n for n in f.notes)
    assert abs(ref(F, "separation", "coef", "arm")[0]) > 10
    assert ref(F, "separation", "se", "arm")[0] > 100


def test_no_separation_in_ordinary_data():
    D, f = _fit("small", "at_work_6m")
    assert not bn.detect_separation(D.X.to_numpy(), D.y.to_numpy())


def test_quasi_separation_detected():
    X = pd.DataFrame({"(Intercept)": 1.0, "x": [0, 0, 0, 1, 1, 1, 2, 2.0]})
    y = pd.Series([0, 0, 1, 1, 1, 1, 1, 1.0])     # x >= 1 -> always 1 (quasi-complete)
    assert bn.detect_separation(X.to_numpy(), y.to_numpy())
