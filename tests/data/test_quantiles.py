"""rtw.data.quantiles.nbinom_ppf returns scipy.stats.nbinom.ppf's values (the table path
for values sharing their parameters, scipy for the rest, the upper tail and ties)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from rtw.data.quantiles import nbinom_ppf


@pytest.mark.parametrize("theta", [0.05, 0.5, 2.0, 50.0, 1e4])
def test_nbinom_ppf_equals_scipy_on_shared_parameters(theta):
    """Two means (one per arm) and 60,000 copula uniforms, tails to 1 - 1e-13."""
    rng = np.random.default_rng(int(theta * 100))
    n = 60_000
    u = special.ndtr(rng.standard_normal(n) * 1.6)
    u[:4] = [1e-300, 0.5, 1 - 1e-12, 1 - 1e-15]
    mu = np.where(rng.random(n) < 0.5, 40.0, 32.0)
    p = theta / (theta + mu)
    assert np.array_equal(nbinom_ppf(u, theta, p), stats.nbinom.ppf(u, theta, p))


def test_nbinom_ppf_equals_scipy_on_distinct_parameters_and_edges():
    """Every value its own mean (scipy throughout); q at 0, 1, exact CDF values, NaN."""
    rng = np.random.default_rng(1)
    u = rng.random(3000)
    p = 0.5 / (0.5 + 40 * np.exp(rng.normal(0, 0.5, 3000)))
    assert np.array_equal(nbinom_ppf(u, 0.5, p), stats.nbinom.ppf(u, 0.5, p))
    q = np.r_[0.0, 1.0, np.nan, stats.nbinom.cdf(np.arange(6), 1.5, 0.2)]
    q = np.repeat(q, 100)
    assert np.array_equal(nbinom_ppf(q, 1.5, 0.2), stats.nbinom.ppf(q, 1.5, 0.2),
                          equal_nan=True)
    assert nbinom_ppf(np.full((2, 3), 0.3), 2.0, 0.5).shape == (2, 3)
