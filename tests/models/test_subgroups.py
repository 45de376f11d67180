"""Subgroup interaction tests (rtw.models.subgroups) against R MASS::glm.nb / anova.negbin.

LR statistic rel 1e-6 (each model with its own ML theta, as ``anova(m0, m1)``),
Wald chi-square and within-subgroup log IRRs / SEs (model-based and vcovCL) rel 1e-6.
"""

import numpy as np
import pandas as pd
import pytest

from rtw.models import subgroups as sg
from _regression_ref import CONFIG, data, ref

F = "subgroups.csv"
CASES = [(c, n) for c in ("sex", "condition_group", "prior_absence_group") for n in ("small", "large")]


@pytest.mark.parametrize("column,name", CASES)
@pytest.mark.parametrize("cluster", [None, "practice"])
def test_subgroup_nb_interaction_matches_R_anova_glm_nb(column, name, cluster):
    """R: m0 <- glm.nb(days_off_6m ~ arm + <adj> + sg); m1 <- update(m0, . ~ . + arm:sg);
    anova(m0, m1) ('LR stat.', df, 'Pr(Chi)'); Wald chi2 of the arm:sg coefficients;
    within-level IRR = exp(b_arm + b_arm:sg<l>) with SE from vcov(m1) or vcovCL(m1, ~practice)."""
    d = data(f"trial_{name}.csv")
    adj = ["condition_group", "days_off_before"]
    res = sg.subgroup_analysis(d, CONFIG, column, sg.nb_fitter("days_off_6m", cluster),
                               required=["days_off_6m"], adjust=adj,
                               extra_columns=[cluster] if cluster else [])
    m = f"subgroup_{column}_{name}"
    assert res.lr_stat == pytest.approx(ref(F, m, "lr_stat", "interaction")[0], rel=1e-6)
    assert res.lr_df == ref(F, m, "lr_df", "interaction")[0]
    assert res.lr_p == pytest.approx(ref(F, m, "lr_p", "interaction")[0], rel=1e-5)
    if cluster is None:
        assert res.wald_stat == pytest.approx(ref(F, m, "wald_stat", "interaction")[0], rel=1e-6)
    q = "se_vcovCL" if cluster else "se"
    for _, e in res.effects.iterrows():
        assert e["estimate"] == pytest.approx(ref(F, m, "coef", f"level={e['level']}")[0], rel=1e-6)
        assert e["se"] == pytest.approx(ref(F, m, q, f"level={e['level']}")[0], rel=1e-6)


def test_subgroup_engine_is_generic_in_the_model():
    """A fitter with the ModelFit contract (here OLS on the log outcome, no intercept in the
    design, as a Cox fitter would use) plugs in unchanged."""
    d = data("trial_small.csv").assign(logy=lambda x: np.log1p(x["days_off_6m"]))

    def ols_fitter(rows, X):
        Xa = np.column_stack([np.ones(len(X)), X.to_numpy(float)])
        y = rows["logy"].to_numpy()
        b, *_ = np.linalg.lstsq(Xa, y, rcond=None)
        e = y - Xa @ b
        s2 = e @ e / (len(y) - Xa.shape[1])
        V = s2 * np.linalg.inv(Xa.T @ Xa)
        names = ["const"] + list(X.columns)
        ll = -0.5 * len(y) * (np.log(2 * np.pi * (e @ e) / len(y)) + 1)
        return sg.ModelFit(pd.Series(b, index=names), pd.DataFrame(V, index=names, columns=names), ll)

    res = sg.subgroup_analysis(d, CONFIG, "sex", ols_fitter, required=["logy"], intercept=False)
    assert list(res.effects["level"]) == ["female", "male"]
    assert res.lr_df == 1 and res.lr_stat >= 0
    # within-level effect in the reference level is the arm coefficient
    sub = d.dropna(subset=["logy"])
    assert res.effects["n"].sum() == len(sub)
