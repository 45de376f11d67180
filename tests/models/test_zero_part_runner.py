"""``regression.zero_part`` in the sensitivity runner (rtw.models.runner.run_sensitivity).

``intercept`` (the default) fits pscl's ``y ~ x | 1``; ``same`` fits ``y ~ x | x`` (pscl's
default formula).  The zinb/hurdle_nb rows under ``same`` against R
(make_reference_zero_part.R, expected/counts_zero_part.csv): the count-part arm IRR rel 1e-5,
and for the ZINB the cluster-robust SE (the WAVE config's practice_effect cluster_robust:
vcovCL HC0 with G/(G-1), numDeriv bread) rel 1e-5.
"""
import copy
import math

import pytest

from rtw.core.config import load
from rtw.models import runner as R
from _regression_ref import data, ref
from helpers import default_config

FZ = "counts_zero_part.csv"


@pytest.fixture(scope="module")
def small():
    return data("trial_small.csv")


def _cfg(zero_part=None):
    cfg = copy.deepcopy(default_config())
    cfg["regression"]["mi"] = {"m": 2, "iterations": 1}
    if zero_part:
        cfg["regression"]["zero_part"] = zero_part
    return cfg


def _arm(out, analysis):
    r = out[(out["analysis"] == analysis) & (out["term"] == "arm") & (out["conf_level"] == 0.95)]
    assert len(r) == 1
    return r.iloc[0]


def test_zero_part_default_is_intercept():
    assert default_config()["regression"]["zero_part"] == "intercept"


def test_zero_part_must_be_intercept_or_same():
    cfg = _cfg()
    cfg["regression"]["zero_part"] = "all"
    with pytest.raises(Exception, match="zero_part"):
        load(cfg, source="test config")


def test_zero_part_same_rows_match_R_pscl_y_x_given_x(small):
    """zero_part: same -> zinb arm IRR = exp(coef(zeroinfl(y ~ x | x))['count_arm']) with
    se = sqrt(vcovCL)['count_arm'] (rel 1e-5); hurdle_nb arm IRR = exp(count_arm of
    hurdle(y ~ x | x)) (rel 1e-5); the notes say which zero part and give max |gradient|."""
    same = R.run_sensitivity(small, _cfg("same"))
    z = _arm(same, "zinb")
    assert z["estimate"] == pytest.approx(
        math.exp(ref(FZ, "zinb_same_small", "coef", "count_arm")[0]), rel=1e-5)
    assert z["std_error"] == pytest.approx(
        ref(FZ, "zinb_same_small", "se_vcovCL_numderiv", "count_arm")[0], rel=1e-5)
    h = _arm(same, "hurdle_nb")
    assert h["estimate"] == pytest.approx(
        math.exp(ref(FZ, "hurdle_same_small", "coef", "count_arm")[0]), rel=1e-5)
    for r in (z, h):
        assert "zero part: the count part's regressors" in r["note"]
        assert "max |gradient|" in r["note"]
    default = R.run_sensitivity(small, _cfg())
    zd = _arm(default, "zinb")
    assert "zero part" not in zd["note"] and "max |gradient|" in zd["note"]
    assert zd["estimate"] == pytest.approx(
        math.exp(ref("counts.csv", "zinb_small", "coef", "count_arm")[0]), rel=1e-5)
    # only the zinb / hurdle rows depend on the zero part
    keep = ~same["analysis"].isin(["zinb", "hurdle_nb"])
    assert same[keep].equals(default[~default["analysis"].isin(["zinb", "hurdle_nb"])])
