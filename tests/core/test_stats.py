"""rtw.core.stats: the one home of Wald intervals and two-sided p-values, against R.

R 4.x: ``qnorm(0.975)`` = 1.959963984540054, ``qnorm(0.9)`` = 1.2815515655446004,
``qt(0.975, 10)`` = 2.228138851986274, ``2 * pnorm(-1.96)`` = 0.04999579029644087,
``2 * pnorm(-3)`` = 0.0026997960632601866.
"""
import math

import numpy as np
import pytest

from rtw.core.stats import p_two_sided, wald_ci, wald_cis, wald_power, z_quantile


def test_quantiles_match_R_qnorm_qt():
    assert z_quantile(0.95) == pytest.approx(1.959963984540054, rel=1e-15)
    assert z_quantile(0.80) == pytest.approx(1.2815515655446004, rel=1e-15)
    assert z_quantile(0.95, df=10) == pytest.approx(2.228138851986274, rel=1e-14)


def test_p_two_sided_matches_R_pnorm():
    assert p_two_sided(1.96) == pytest.approx(0.04999579029644087, rel=1e-13)
    assert p_two_sided(-3.0) == pytest.approx(0.0026997960632601866, rel=1e-13)
    np.testing.assert_allclose(p_two_sided(np.array([1.96, -1.96])), 0.04999579029644087, rtol=1e-13)
    assert math.isnan(p_two_sided(float("nan")))


def test_wald_ci_identity_and_log_scale():
    lo, hi = wald_ci(1.0, 0.5, 0.95)
    assert (lo, hi) == pytest.approx((1 - 0.5 * 1.959963984540054, 1 + 0.5 * 1.959963984540054))
    lo, hi = wald_ci(2.0, 0.1, 0.95, log=True)   # R: exp(log(2) + c(-1, 1) * qnorm(0.975) * 0.1)
    assert (lo, hi) == pytest.approx((1.6440303903967781, 2.433045047929206), rel=1e-12)
    cis = wald_cis(2.0, 0.1, [0.95, 0.80], log=True)
    assert list(cis) == [0.95, 0.80] and all(isinstance(v, float) for v in cis[0.80])


def test_wald_power_matches_R_pnorm_formula():
    # R: pnorm(2.8 - qnorm(0.975)) + pnorm(-2.8 - qnorm(0.975)) = 0.79955687
    assert wald_power(2.8) == pytest.approx(0.7995568714356515, rel=1e-12)
    assert wald_power(-2.8) == wald_power(2.8)
    assert wald_power(0.0) == pytest.approx(0.05, rel=1e-12)
