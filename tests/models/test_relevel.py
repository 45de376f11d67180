"""Declared reference levels (config ``covariates: [{column, type: categorical, reference}]``)
against R ``relevel()``: the model frame puts the declared level first, and the NB and Cox fits
on it give R's full coefficient vectors (intercept and covariate contrasts change; the arm
effect does not).  R values: ``tests/models/reference/relevel/relevel.R`` ->
``expected.csv`` (MASS::glm.nb, survival::coxph Efron)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import sap
from rtw.core.modelframe import build_design
from rtw.models import counts
from rtw.survival.cox import fit_cox

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "reference" / "relevel" / "expected.csv"
SMALL = HERE / "reference" / "data" / "trial_small.csv"
TIES = HERE.parent / "survival" / "reference" / "data" / "trial_ties.csv"


def _config(covariates):
    return sap({"trial": {"arms": {"control": "usual_care", "intervention": "vocational_advice"}},
                "covariates": covariates})


def _r(model, quantity) -> pd.Series:
    d = pd.read_csv(EXPECTED, dtype={"value": str})
    d = d[(d["model"] == model) & (d["quantity"] == quantity)]
    return pd.Series(d["value"].astype(float).to_numpy(), index=d["term"].to_numpy())


def _rname(term: str) -> str:
    if term == "arm":
        return "armvocational_advice"
    m = re.fullmatch(r"(.+)\[(.+)\]", term)
    return f"{m.group(1)}{m.group(2)}" if m else term


RELEVEL = [{"column": "condition_group", "type": "categorical", "reference": "other"},
           {"column": "sex", "type": "categorical", "reference": "male"},
           {"column": "age", "type": "numeric"}]


def _nb(covariates):
    d = pd.read_csv(SMALL)
    D = build_design(d, _config(covariates), outcome="days_off_6m",
                     adjust=["condition_group", "sex", "age"])
    return counts.fit_nb(D.X, D.y, tol=1e-13)


def test_nb_with_declared_reference_matches_R_glm_nb_relevel():
    f = _nb(RELEVEL)
    assert f.converged
    assert [_rname(t) for t in f.params.index] == list(_r("nb_relevel", "coef").index)
    se = pd.Series(np.sqrt(np.diag(f.cov)), index=f.params.index)
    for term in f.params.index:
        assert f.params[term] == pytest.approx(_r("nb_relevel", "coef")[_rname(term)], rel=1e-6)
        assert se[term] == pytest.approx(_r("nb_relevel", "se")[_rname(term)], rel=1e-6)
    assert f.theta == pytest.approx(_r("nb_relevel", "theta")["theta"], rel=1e-6)


def test_nb_with_plain_names_matches_R_glm_nb_default_levels():
    f = _nb(["condition_group", "sex", "age"])
    r = _r("nb_default", "coef")
    assert [_rname(t) for t in f.params.index] == list(r.index)
    for term in f.params.index:
        assert f.params[term] == pytest.approx(r[_rname(term)], rel=1e-6)


def test_cox_with_declared_reference_matches_R_coxph_relevel():
    d = pd.read_csv(TIES)
    cfg = _config([{"column": "condition_group", "type": "categorical", "reference": "other"},
                   "days_off_before"])
    D = build_design(d, cfg, outcome=None, adjust=["condition_group", "days_off_before"],
                     intercept=False)
    event = (d.loc[D.index, "rtw_event"] == 1).astype(float).to_numpy()
    fit = fit_cox(d.loc[D.index, "rtw_time"].to_numpy(float), event, D.X.to_numpy(float),
                  names=list(D.X.columns))
    r_coef, r_se = _r("cox_relevel", "coef"), _r("cox_relevel", "se")
    assert [_rname(t) for t in D.X.columns] == list(r_coef.index)
    np.testing.assert_allclose(fit.coef, r_coef.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(fit.se, r_se.to_numpy(), rtol=1e-6)
    assert fit.loglik[1] == pytest.approx(_r("cox_relevel", "loglik")["loglik"], rel=1e-9)
