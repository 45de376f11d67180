"""Fixed practice effects kept as a factor (issue 13: 1,000 practices cost about as much as 10).

``build_design(practice_codes_from=...)`` keeps many practice dummies out of X
(``Design.fixed``) and the NB runner fits them with ``counts.fit_nb(fixed=...)`` by the
block structure of X'WX; the rows must equal those of the dense dummies (the previous
path, itself equal to R glm.nb(... + factor(practice)): tests/models/test_counts.py and
test_regression_runner.py).  Checked here: the design (names, notes, values), the
fallback to dense dummies where R would give NA or few practices, the fit (coefficients,
model SEs, HC0 sandwich, profile CI) and the runner's nb_fixed_practice rows.
"""
import copy

import numpy as np
import pandas as pd
import pytest

from rtw.core import modelframe as mf
from rtw.models import counts
from rtw.models import runner as R
from helpers import default_config


def _trial(n=3000, G=60, seed=7):
    """A trial table with G practices, a practice with missing outcomes only (absent level
    after complete cases) and some rows with the practice missing."""
    rng = np.random.default_rng(seed)
    prac = np.array([f"GP{g:03d}" for g in rng.integers(0, G, n)])
    arm = np.where(np.arange(n) % 2 == 1, "vocational_advice", "usual_care")
    cond = rng.choice(["mental_health", "musculoskeletal", "other"], n)
    bl = np.round(rng.gamma(2.0, 25.0, n)).clip(15, 180)
    u = rng.normal(0, 0.3, G)
    mu = np.exp(3 + np.log(0.85) * (arm == "vocational_advice") + 0.004 * (bl - 50)
                + u[np.array([int(p[2:]) for p in prac])])
    y = np.minimum(rng.poisson(rng.gamma(0.8, mu / 0.8)), 182).astype(float)
    df = pd.DataFrame({"participant_id": [f"P{i:05d}" for i in range(n)], "arm": arm,
                       "practice": prac, "condition_group": cond, "days_off_before": bl,
                       "days_off_6m": y})
    df.loc[df["practice"] == "GP005", "days_off_6m"] = np.nan       # absent after dropping
    df.loc[rng.random(n) < 0.01, "practice"] = None
    return df


def _cfg(**kw):
    cfg = copy.deepcopy(default_config())
    cfg.update(kw)
    return cfg


def _designs(df, cfg, adjust=("condition_group", "days_off_before")):
    kw = dict(outcome="days_off_6m", adjust=list(adjust), practice="practice")
    return (mf.build_design(df, cfg, **kw),
            mf.build_design(df, cfg, practice_codes_from=counts.MIN_BLOCK, **kw))


def test_practice_codes_design_equals_practice_dummies():
    """Same rows, same column names in the same order, same notes (the absent practice),
    and the dummies built from the factor equal the dense design."""
    df, cfg = _trial(), _cfg()
    dense, coded = _designs(df, cfg)
    assert dense.fixed is None and coded.fixed is not None and coded.fixed_name == "practice"
    assert coded.index.equals(dense.index)
    blk, names = counts.factor_blocks(coded.X, coded.fixed, "practice")
    assert list(coded.X.columns) + names == list(dense.X.columns)
    assert "practice[GP005]" not in dense.X.columns
    assert coded.notes == dense.notes and any("practice[GP005]" in s for s in coded.notes)
    assert np.array_equal(blk.dense_matrix(), dense.X.to_numpy(float))


def test_practice_codes_fall_back_to_dummies_where_R_gives_NA_or_few_practices():
    """A practice-level covariate (collinear with the practice dummies: R gives NA for a
    dummy) and a design with fewer practice dummies than counts.MIN_BLOCK are built with the
    dense dummies, exactly as without practice_codes_from."""
    df, cfg = _trial(), _cfg()
    df["region"] = df["practice"].str[2:4].where(df["practice"].notna(), None)  # nested
    dense, coded = _designs(df, cfg, adjust=("condition_group", "days_off_before", "region"))
    assert coded.fixed is None
    assert coded.X.equals(dense.X) and coded.notes == dense.notes
    assert any("linearly dependent" in s for s in dense.notes)
    few = _trial(G=12)
    dense, coded = _designs(few, cfg)
    assert coded.fixed is None and coded.X.equals(dense.X)


def test_nb_fixed_practice_codes_equal_dense_dummies():
    """fit_nb on the factor equals fit_nb on the dense dummies (min_block beyond k: the plain
    Cholesky solve): coefficients abs 1e-9, model SEs and HC0 sandwich rel 1e-7, profile CI
    of arm abs 1e-8; the Poisson fit likewise."""
    df, cfg = _trial(), _cfg()
    dense, coded = _designs(df, cfg)
    a = counts.fit_nb(dense.X, dense.y, min_block=10 ** 9)
    b = counts.fit_nb(coded.X, coded.y, fixed=coded.fixed, fixed_name="practice")
    assert b.X is None and b.blocks.G == dense.X.shape[1] - coded.X.shape[1]
    assert list(b.params.index) == list(a.params.index)
    assert b.params.to_numpy() == pytest.approx(a.params.to_numpy(), abs=1e-9)
    assert np.sqrt(np.diag(b.cov)) == pytest.approx(np.sqrt(np.diag(a.cov)), rel=1e-7)
    assert b.theta == pytest.approx(a.theta, rel=1e-10)
    assert b.vcov_hc0().to_numpy() == pytest.approx(a.vcov_hc0().to_numpy(), rel=1e-7, abs=1e-14)
    assert counts.profile_ci(b, "arm") == pytest.approx(counts.profile_ci(a, "arm"), abs=1e-8)
    pa = counts.fit_poisson(dense.X, dense.y)
    pb = counts.fit_poisson(coded.X, coded.y, fixed=coded.fixed, fixed_name="practice")
    assert pb.params.to_numpy() == pytest.approx(pa.params.to_numpy(), abs=1e-9)
    assert pb.vcov_hc0().to_numpy() == pytest.approx(pa.vcov_hc0().to_numpy(), rel=1e-7,
                                                     abs=1e-14)


@pytest.mark.parametrize("nb_ci", ["wald", "profile"])
def test_runner_nb_fixed_practice_rows_equal_dense_dummies(nb_ci):
    """The runner's nb_fixed_practice rows (practice as a factor) equal exp(coef), SE and CI
    of the NB fitted on the dense dummies, for every term (arm, covariates, each practice)."""
    df = _trial()
    cfg = _cfg()
    cfg["regression"] = dict(cfg["regression"], nb_ci=nb_ci)
    spec = R._count_outcomes(cfg)[0]
    rows, (fit, cov), D = R._nb_model(df, cfg, spec, analysis="nb_fixed_practice",
                                      force_fixed=True)
    assert D.fixed is not None and fit.X is None
    out = pd.DataFrame(rows)
    dense, _ = _designs(df, cfg)
    a = counts.fit_nb(dense.X, dense.y, min_block=10 ** 9)
    terms = [t for t in a.params.index if t != "(Intercept)"]
    est = out[out["conf_level"] == 0.95].set_index("term")
    assert [t for t in est.index if t != "theta"] == terms
    se = np.sqrt(np.diag(a.cov.loc[terms, terms]))
    assert est.loc[terms, "estimate"].to_numpy() == pytest.approx(np.exp(a.params[terms]),
                                                                  rel=1e-9)
    assert est.loc[terms, "std_error"].to_numpy() == pytest.approx(se, rel=1e-7)
    lo, hi = (np.exp(counts.profile_ci(a, "arm")) if nb_ci == "profile" else
              np.exp(a.params["arm"] + np.array([-1, 1]) * 1.959963984540054 * se[0]))
    assert (est.loc["arm", "conf_low"], est.loc["arm", "conf_high"]) == pytest.approx(
        (lo, hi), rel=1e-8)
