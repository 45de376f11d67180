"""Interval-censored time to event: Turnbull NPMLE and Weibull regression.

* :func:`turnbull` — the nonparametric MLE of Turnbull (1976) by self-consistency
  (EM) on the Turnbull (innermost) intervals, for observations known to lie in
  ``(lower, upper]`` (``upper`` NaN/inf = right-censored at ``lower``; ``lower``
  NaN or <= 0 = left-censored; ``lower == upper`` = exact).  Compare R's
  ``survfit(Surv(lower, upper, type = "interval2") ~ 1)``, which computes the same
  NPMLE (with a looser stopping rule, 5e-5 on S) and draws its jumps at the
  mid-points of the Turnbull intervals; the two agree at the interval end points.
* :func:`weibull_ic` — ``survreg(Surv(lower, upper, type = "interval2") ~ X,
  dist = "weibull")``: ``log T = X b + sigma W`` with W standard minimum extreme
  value; MLE of (b, log sigma) by BFGS with the analytic gradient, polished by
  Newton steps; covariance = inverse observed information (finite differences of
  the analytic gradient), as ``vcov(survreg)`` on (b, Log(scale)).  Time ratio
  ``exp(b)``, hazard ratio ``exp(-b / sigma)`` with delta-method SEs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize


# --------------------------------------------------------------------------- Turnbull
@dataclass
class TurnbullFit:
    """Turnbull NPMLE: probability ``mass`` on each innermost interval ``(left, right]``."""

    left: np.ndarray
    right: np.ndarray
    mass: np.ndarray
    iterations: int
    converged: bool
    n: int

    def surv_at(self, t) -> np.ndarray:
        """S(t) = mass of intervals lying after t (unique at interval end points;
        inside an innermost interval the NPMLE is not identified and the mass is
        taken at its right end)."""
        t = np.atleast_1d(np.asarray(t, float))
        return 1.0 - np.array([self.mass[self.right <= x].sum() for x in t])

    def cdf_at(self, t) -> np.ndarray:
        return 1.0 - self.surv_at(t)


def _bounds(lower, upper):
    lower = np.asarray(lower, float).copy()
    upper = np.asarray(upper, float).copy()
    upper[np.isnan(upper)] = np.inf
    left_c = np.isnan(lower) | (lower <= 0)
    lower[left_c] = 0.0                  # left-censored: (0, upper]
    if np.any(upper < lower):
        raise ValueError("interval bounds: upper < lower")
    return lower, upper


def turnbull(lower, upper, tol: float = 1e-10, max_iter: int = 100000) -> TurnbullFit:
    """Turnbull NPMLE of the distribution of an interval-censored time.

    Parameters
    ----------
    lower, upper : arrays
        Each observation lies in ``(lower, upper]``; ``upper`` NaN = right-censored;
        ``lower == upper`` = exact.
    tol : float
        Stop when the largest change in any interval mass is below ``tol``.
    """
    L, R = _bounds(lower, upper)
    exact = L == R
    # endpoint ranks: at equal values, closed-left (exact) < right < open-left
    vals = np.r_[L, R]
    kind = np.r_[np.where(exact, 0, 2), np.ones(R.size, int)]
    order = np.lexsort((kind, vals))
    rank = np.empty(order.size, int)
    rank[order] = np.arange(order.size)
    rL, rR = rank[:L.size], rank[L.size:]
    skind = kind[order]
    sval = vals[order]
    isleft = skind != 1
    # innermost intervals: a left end point immediately followed by a right end point
    k = np.flatnonzero(isleft[:-1] & ~isleft[1:])
    q_rank, p_rank = k, k + 1
    left, right = sval[q_rank], sval[p_rank]
    # compress observations to unique (rank-of-lower, rank-of-upper) with counts
    obs = np.unique(np.column_stack([rL, rR]), axis=0, return_counts=True)
    (uL, uR), w = obs[0].T, obs[1].astype(float)
    alpha = (uL[:, None] <= q_rank[None, :]) & (p_rank[None, :] <= uR[:, None])
    alpha = alpha.astype(float)
    m = left.size
    pm = np.full(m, 1.0 / m)
    N = w.sum()
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        den = alpha @ pm
        new = pm * ((w / den) @ alpha) / N
        delta = np.max(np.abs(new - pm))
        pm = new
        if delta < tol:
            converged = True
            break
    return TurnbullFit(left, right, pm, it, converged, int(L.size))


# --------------------------------------------------------------------------- Weibull
@dataclass
class WeibullICResult:
    """``survreg(..., dist = "weibull")``: ``coef`` (intercept first), ``log_scale``,
    ``var`` (covariance of (coef, log scale)), ``loglik``."""

    coef: np.ndarray
    log_scale: float
    var: np.ndarray
    loglik: float
    names: list
    converged: bool
    n: int

    @property
    def scale(self) -> float:
        return float(np.exp(self.log_scale))

    def time_ratio(self, name: str) -> tuple[float, float]:
        """(exp(b), SE of b) for covariate ``name``."""
        j = self.names.index(name)
        return float(np.exp(self.coef[j])), float(np.sqrt(self.var[j, j]))

    def hazard_ratio(self, name: str) -> tuple[float, float]:
        """(exp(-b / sigma), delta-method SE of -b / sigma)."""
        j = self.names.index(name)
        p = self.coef.size
        b, s = self.coef[j], self.scale
        g = np.zeros(p + 1)
        g[j] = -1.0 / s
        g[p] = b / s                      # d(-b e^{-logs}) / dlogs
        return float(np.exp(-b / s)), float(np.sqrt(g @ self.var @ g))


def _weibull_ll(theta, X, logl, logu, kind):
    """Log-likelihood and gradient; kind 0 exact, 1 right, 2 left, 3 interval."""
    p = X.shape[1]
    beta, ls = theta[:p], theta[p]
    sig = np.exp(ls)
    mu = X @ beta
    ll = np.zeros(mu.size)
    dzl = np.zeros(mu.size)   # d ll / d z_l
    dzu = np.zeros(mu.size)   # d ll / d z_u
    zl = np.where(np.isfinite(logl), (logl - mu) / sig, 0.0)
    zu = np.where(np.isfinite(logu), (logu - mu) / sig, 0.0)
    el, eu = np.exp(zl), np.exp(zu)
    ex = kind == 0
    rc = kind == 1
    lc = kind == 2
    iv = kind == 3
    # exact: log f(t) = -log sigma - log t + z - e^z
    ll[ex] = -ls - logl[ex] + zl[ex] - el[ex]
    dzl[ex] = 1 - el[ex]
    # right: log S(l) = -e^{zl}
    ll[rc] = -el[rc]
    dzl[rc] = -el[rc]
    # left: log(1 - S(u))
    Su = np.exp(-eu)
    with np.errstate(divide="ignore", invalid="ignore"):
        oneminus = -np.expm1(-eu)
        ll[lc] = np.log(oneminus[lc])
        dzu[lc] = Su[lc] * eu[lc] / oneminus[lc]
        # interval: log(S(l) - S(u)) = -e^{zl} + log(1 - exp(-(e^{zu} - e^{zl})))
        dd = eu - el
        om = -np.expm1(-dd)
        ll[iv] = -el[iv] + np.log(om[iv])
        # S(l) - S(u) = S(l) om; d/dzl = -S(l) e^{zl} / (S(l) om) ... (1 - om) = exp(-dd)
        dzl[iv] = -el[iv] / om[iv]
        dzu[iv] = eu[iv] * np.exp(-dd[iv]) / om[iv]
    g_beta = -(dzl + dzu) @ X / sig
    g_ls = -(dzl * zl + dzu * zu).sum() - ex.sum()
    return ll.sum(), np.r_[g_beta, g_ls]


def weibull_ic(lower, upper, X, names=None) -> WeibullICResult:
    """Weibull regression for interval-censored data = ``survreg(Surv(lower, upper,
    type = "interval2") ~ X, dist = "weibull")`` (an intercept is added first).

    ``lower`` NaN or <= 0 means left-censored at ``upper``; ``upper`` NaN means
    right-censored at ``lower``; equal bounds mean an exact time.  Rows with
    neither bound (no information) are dropped; ``n`` counts the rows used.
    """
    lower = np.asarray(lower, float)
    upper = np.asarray(upper, float)
    X = np.asarray(X, float)
    if X.ndim == 1:
        X = X[:, None]
    n = lower.size
    Xd = np.column_stack([np.ones(n), X]) if X.size else np.ones((n, 1))
    names = ["(Intercept)"] + (list(names) if names is not None else
                               [f"x{j + 1}" for j in range(Xd.shape[1] - 1)])
    left_c = np.isnan(lower) | (lower <= 0)
    right_c = np.isnan(upper) | np.isinf(upper)
    # no information (known only to be in (0, inf), e.g. censored at time 0): dropped,
    # as survreg drops Surv(NA, NA, type = "interval2")
    keep = ~(left_c & right_c)
    if not keep.all():
        lower, upper, Xd = lower[keep], upper[keep], Xd[keep]
        left_c, right_c = left_c[keep], right_c[keep]
        n = int(keep.sum())
    exact = ~left_c & ~right_c & (lower == upper)
    kind = np.where(exact, 0, np.where(right_c, 1, np.where(left_c, 2, 3)))
    with np.errstate(divide="ignore"):
        logl = np.where(left_c, -np.inf, np.log(np.where(left_c, 1.0, lower)))
        logu = np.where(right_c, np.inf, np.log(np.where(right_c, 1.0, upper)))
    mid = np.where(kind == 1, logl, np.where(kind == 2, logu, 0.5 * (np.where(np.isfinite(logl), logl, logu) + logu)))
    theta0 = np.zeros(Xd.shape[1] + 1)
    theta0[0] = float(np.mean(mid))

    def f(th):
        ll, g = _weibull_ll(th, Xd, logl, logu, kind)
        return -ll, -g

    res = optimize.minimize(f, theta0, jac=True, method="BFGS",
                            options={"gtol": 1e-9, "maxiter": 2000})
    th = res.x

    def hess(th, steps=None):
        # central differences of the analytic gradient; steps scaled to each
        # parameter's standard error when known (error ~ (step / se)^2)
        k = th.size
        steps = np.full(k, 1e-5) if steps is None else steps
        H = np.empty((k, k))
        for j in range(k):
            e = np.zeros(k)
            e[j] = steps[j]
            H[:, j] = (f(th + e)[1] - f(th - e)[1]) / (2 * e[j])
        return 0.5 * (H + H.T)

    converged = bool(res.success)
    for _ in range(20):                       # Newton polish
        g = f(th)[1]
        H = hess(th)
        step = np.linalg.solve(H, g)
        th = th - step
        if np.max(np.abs(step)) < 1e-12:
            converged = True
            break
    H = hess(th)
    se0 = np.sqrt(np.abs(np.diag(np.linalg.inv(H))))
    var = np.linalg.inv(hess(th, 1e-3 * np.where(se0 > 0, se0, 1e-5)))
    ll = -f(th)[0]
    p = Xd.shape[1]
    return WeibullICResult(th[:p], float(th[p]), var, float(ll), names, converged, n)
