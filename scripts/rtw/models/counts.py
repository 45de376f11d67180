"""Count-outcome models for the primary outcome (SPEC §4 A3, A4).

* :func:`fit_nb` -- negative binomial GLM with log link and theta by maximum
  likelihood, matching R ``MASS::glm.nb``: IRLS for the coefficients at fixed
  theta alternating with the ML estimate of theta (``MASS::theta.ml``) until
  both are stable.  Standard errors are those of ``summary(glm.nb(...))``:
  the expected (Fisher) information of the coefficients *conditional on
  theta*, dispersion 1.  (statsmodels' discrete ``NegativeBinomial`` inverts
  the joint information of (beta, alpha) instead, which differs from glm.nb by
  up to 0.16%; its ``GLM`` family keeps ``alpha`` fixed at 1 unless told --
  statsmodels issues 3339 and 8300.  Here alpha = 1/theta is profiled.)
* :meth:`GLMFit.vcov_cluster` -- ``sandwich::vcovCL(fit, cluster = ~practice)``
  with its defaults for a ``glm``/``negbin`` object: ``type = "HC0"`` (HC1 is
  only the default for class ``lm``) and ``cadjust = TRUE``, i.e. the meat
  multiplied by G/(G-1).  :meth:`GLMFit.vcov_hc0` is ``sandwich::vcovHC(fit,
  type = "HC0")``.
* :func:`fit_poisson` -- ``glm(family = poisson)``.
* :func:`fit_zinb` -- ``pscl::zeroinfl(y ~ x | z, dist = "negbin")`` and
  :func:`fit_hurdle_nb` -- ``pscl::hurdle(y ~ x | z, dist = "negbin")``
  (binomial logit zero hurdle), z an intercept (``| 1``, the default) or any
  regressors (``Z = X``: pscl's default ``y ~ x``).  Both by maximum likelihood
  with the covariance the inverse of the observed information over all
  parameters including log(theta), as pscl (whose optim Hessian is numerical;
  here it is analytic, so pscl's SEs agree to its differencing error, ~1e-5).
* :func:`profile_ci` -- likelihood-ratio (profile) CI of one coefficient with
  theta fixed, as ``confint(glm.nb_fit)`` (``profile.glm``), but solved exactly
  (R interpolates the profile by a spline, so R differs in the 4th-5th digit).

Scale.  A design with many fixed-effect dummies of one factor (practice) is
solved through its block structure: the dummies of one factor are mutually
exclusive 0/1 columns, so X'WX = [[A, B], [B', D]] with D diagonal, and each
IRLS step costs O(n p + G p^2) (p other columns, G levels) instead of
O(n (p + G)^2): the Schur complement A - B D^-1 B' is p x p.  The block is
found in a dense X (:func:`onehot_blocks`, used from :data:`MIN_BLOCK`
columns) or given as codes (``fit_nb(..., fixed=codes)``), which never builds
the n x G dummies.  ZINB and hurdle NB are maximised by Newton's method with the
analytic gradient and Hessian (Levenberg-Marquardt damped, line search),
iterated until the Newton decrement g' H^-1 g is below 1e-12 and converged when
it is below 1e-8 (the maximum less than 1e-4 standard errors away) -- criteria
that do not grow with n as max |gradient| does (a sum of n terms); the final
max |gradient| is reported in the fit's notes.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special, stats

from rtw.core.modelframe import NotEstimable, cluster_sandwich
from rtw.core.stats import p_two_sided

log = logging.getLogger(__name__)

#: theta above this is treated as the Poisson boundary (theta -> infinity).
THETA_MAX = 1e6
#: ZINB / hurdle NB: |log theta| kept below this (theta and 1 / theta representable).
LOG_THETA_BOUND = 50.0
#: a block of at least this many mutually exclusive dummy columns is solved by its
#: block structure (below it a dense solve costs no more).
MIN_BLOCK = 20
#: Newton decrement g' H^-1 g (the squared length of the Newton step in the metric of
#: the estimates' covariance H^-1) below which a pscl-type fit is converged: the maximum
#: is less than 1e-4 standard errors away (the remaining log-likelihood gain is dec / 2).
NEWTON_CONVERGED = 1e-8
#: ... and to which Newton's method iterates (full steps), unless rounding stops it first.
NEWTON_TOL = 1e-12


# --------------------------------------------------------------------------- #
# Result object
# --------------------------------------------------------------------------- #
@dataclass
class GLMFit:
    """A fitted GLM (Poisson or NB with fixed/profiled theta).

    ``cov`` is the model-based covariance as ``vcov()`` in R; ``vcov_cluster``
    and ``vcov_hc0`` give the sandwich alternatives.  ``X`` is the design as
    given; ``None`` when fixed effects were given as codes (``blocks``), in
    which case :meth:`full_X` builds the dummies on demand.
    """
    family: str
    params: pd.Series
    cov: pd.DataFrame
    X: np.ndarray | None
    y: np.ndarray
    mu: np.ndarray
    offset: np.ndarray
    loglik: float
    deviance: float
    theta: float = np.inf
    se_theta: float = np.nan
    converged: bool = True
    boundary: bool = False
    iterations: int = 0
    notes: list[str] = field(default_factory=list)
    blocks: "Blocks | None" = None

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def k(self) -> int:
        return len(self.params)

    def full_X(self) -> np.ndarray:
        """The n x k design (built from ``blocks`` when X was not given densely)."""
        return self.X if self.X is not None else self.blocks.dense_matrix()

    @property
    def df_resid(self) -> int:
        return self.n - self.k

    def _var(self, mu):
        return mu if not np.isfinite(self.theta) else mu + mu ** 2 / self.theta

    def scores(self) -> np.ndarray:
        """Per-observation scores (``sandwich::estfun.glm``): working residual x working weight x X."""
        w = self.mu ** 2 / self._var(self.mu)          # working weight, log link
        wres = (self.y - self.mu) / self.mu            # working residual
        return (wres * w)[:, None] * self.full_X()

    def _bread(self) -> np.ndarray:
        return self.cov.to_numpy()                     # (X'WX)^-1, dispersion 1

    def vcov_hc0(self) -> pd.DataFrame:
        """``sandwich::vcovHC(fit, type = "HC0")``.  With fixed effects given as codes the
        meat sum_i r_i^2 x_i x_i' is formed by the block structure (no n x k scores)."""
        B = self._bread()
        if self.X is None and self.blocks is not None:
            w = self.mu ** 2 / self._var(self.mu)
            M = self.blocks.gram_full(((self.y - self.mu) / self.mu * w) ** 2)
        else:
            s = self.scores()
            M = s.T @ s
        V = B @ M @ B
        return pd.DataFrame(V, index=self.params.index, columns=self.params.index)

    def vcov_cluster(self, cluster, type: str = "HC0", cadjust: bool = True) -> pd.DataFrame:
        """``sandwich::vcovCL(fit, cluster = cluster, type = type, cadjust = cadjust)``.

        The defaults are vcovCL's for a ``glm``/``negbin`` object (HC0 with the
        G/(G-1) cluster adjustment).  ``type="HC1"`` also multiplies by (n-1)/(n-k).
        """
        if type not in ("HC0", "HC1"):
            raise ValueError("type must be HC0 or HC1")
        V = cluster_sandwich(self.scores(), self._bread(), cluster, cadjust=cadjust,
                             hc1=(self.n, self.k) if type == "HC1" else None)
        return pd.DataFrame(V, index=self.params.index, columns=self.params.index)


# --------------------------------------------------------------------------- #
# Block structure of fixed-effect dummies (practice-sparse X'WX)
# --------------------------------------------------------------------------- #
@dataclass
class Blocks:
    """A design split into dense columns and one block of mutually exclusive 0/1 columns.

    ``codes[i]`` is the block column that is 1 in row ``i``, or ``G`` (the number
    of block columns) when none is (the factor's reference level); ``didx`` and
    ``bidx`` are the positions of the dense and the block columns in the design's
    column order.  X beta, X'r and X'WX then cost O(n p) with p dense columns,
    whatever G is (treatment dummies of a factor, as R ``model.matrix``).
    """
    dense: np.ndarray
    codes: np.ndarray
    didx: np.ndarray
    bidx: np.ndarray

    @property
    def G(self) -> int:
        return len(self.bidx)

    @property
    def k(self) -> int:
        return len(self.didx) + len(self.bidx)

    def dot(self, beta) -> np.ndarray:
        """X beta."""
        bb = np.zeros(self.G + 1)
        bb[:self.G] = beta[self.bidx]
        return self.dense @ beta[self.didx] + bb[self.codes]

    def tdot(self, r) -> np.ndarray:
        """X' r."""
        out = np.empty(self.k)
        out[self.didx] = self.dense.T @ r
        out[self.bidx] = np.bincount(self.codes, weights=r, minlength=self.G + 1)[:self.G]
        return out

    def gram(self, w):
        """X'WX as (A, B, d): dense block p x p, cross block p x G, diagonal of the G block."""
        G = self.G
        Dw = self.dense * w[:, None]
        A = Dw.T @ self.dense
        B = np.array([np.bincount(self.codes, weights=Dw[:, j], minlength=G + 1)[:G]
                      for j in range(Dw.shape[1])]).reshape(Dw.shape[1], G)
        d = np.bincount(self.codes, weights=w, minlength=G + 1)[:G]
        return A, B, d

    def gram_full(self, w) -> np.ndarray:
        """X'WX as the full k x k matrix (in the design's column order)."""
        A, B, d = self.gram(w)
        out = np.zeros((self.k, self.k))
        di, bi = self.didx, self.bidx
        out[np.ix_(di, di)] = A
        out[np.ix_(di, bi)] = B
        out[np.ix_(bi, di)] = B.T
        out[bi, bi] = d
        return out

    def without(self, j: int) -> "Blocks":
        """The blocks of the design without its dense column ``j`` (design column index)."""
        keep = [c for c in range(self.k) if c != j]
        pos = {c: i for i, c in enumerate(keep)}
        dmask = self.didx != j
        return Blocks(np.asfortranarray(self.dense[:, dmask]), self.codes,
                      np.array([pos[c] for c in self.didx[dmask]], dtype=np.int64),
                      np.array([pos[c] for c in self.bidx], dtype=np.int64))

    def column(self, j: int) -> np.ndarray:
        """Column ``j`` of the design."""
        if j in set(self.didx.tolist()):
            return self.dense[:, int(np.flatnonzero(self.didx == j)[0])].copy()
        g = int(np.flatnonzero(self.bidx == j)[0])
        return (self.codes == g).astype(float)

    def dense_matrix(self) -> np.ndarray:
        """The full n x k design (the dummies materialised)."""
        X = np.zeros((len(self.codes), self.k))
        X[:, self.didx] = self.dense
        rows = np.flatnonzero(self.codes < self.G)
        X[rows, self.bidx[self.codes[rows]]] = 1.0
        return X


def onehot_blocks(X, min_block: int = MIN_BLOCK) -> Blocks | None:
    """The largest set of mutually exclusive 0/1 columns of ``X`` as :class:`Blocks`.

    Candidates are the 0/1 columns that are neither all 0 nor all 1 (the
    intercept); taken from the sparsest, each joins if no row already has a 1
    in a chosen column (the treatment dummies of one factor, e.g. practice,
    all join).  ``None`` if fewer than ``min_block`` columns join.
    """
    X = np.asarray(X, float)
    n, k = X.shape
    if k < min_block:
        return None
    cand = []
    for j in range(k):
        x = X[:, j]
        idx = np.flatnonzero(x)
        if 0 < len(idx) < n and np.all(x[idx] == 1.0):
            cand.append((len(idx), j, idx))
    taken = np.zeros(n, bool)
    chosen = []
    for _, j, idx in sorted(cand, key=lambda t: (t[0], t[1])):
        if not taken[idx].any():
            taken[idx] = True
            chosen.append((j, idx))
    if len(chosen) < min_block:
        return None
    chosen.sort(key=lambda t: t[0])
    bidx = np.array([j for j, _ in chosen])
    codes = np.full(n, len(chosen), dtype=np.int64)
    for g, (_, idx) in enumerate(chosen):
        codes[idx] = g
    didx = np.setdiff1d(np.arange(k), bidx)
    return Blocks(np.asfortranarray(X[:, didx]), codes, didx, bidx)


def factor_blocks(X, factor, name: str) -> tuple[Blocks, list[str]]:
    """:class:`Blocks` of a dense ``X`` plus treatment dummies of ``factor`` (all but its
    first sorted level, R ``factor()``; a categorical: its categories' order, unused ones
    dropped), named ``name[level]``, without building them."""
    X = np.asarray(X, float)
    f = pd.Series(factor)
    if isinstance(f.dtype, pd.CategoricalDtype):
        f = f.cat.remove_unused_categories()
        codes, levels = f.cat.codes.to_numpy().astype(np.int64), list(f.cat.categories)
    else:
        codes, levels = pd.factorize(f.to_numpy(), sort=True)
    if np.any(codes < 0):
        raise ValueError(f"{name}: missing values in the fixed-effect factor")
    G = len(levels) - 1
    codes = np.where(codes == 0, G, codes - 1).astype(np.int64)
    p = X.shape[1]
    blk = Blocks(np.asfortranarray(X), codes, np.arange(p), np.arange(p, p + G))
    return blk, [f"{name}[{lv}]" for lv in levels[1:]]


def _schur(A, B, d):
    """Cholesky factor of the Schur complement A - B D^-1 B' and D^-1, or None if X'WX is
    (near) singular."""
    if d.size and d.min() <= 1e-10 * d.max():
        return None
    dinv = 1.0 / d
    S = A - (B * dinv) @ B.T
    try:
        c = linalg.cho_factor(S, check_finite=False)
    except (np.linalg.LinAlgError, linalg.LinAlgError):
        return None
    dd = np.abs(np.diag(c[0]))
    if dd.size and dd.min() <= 1e-7 * dd.max():
        return None
    return c, dinv


def _block_solve(blocks: Blocks, w, r):
    """(X'WX)^-1 X'W r by the block structure, or None if X'WX is (near) singular."""
    A, B, d = blocks.gram(w)
    f = _schur(A, B, d)
    if f is None:
        return None
    c, dinv = f
    wr = w * r
    rd = blocks.dense.T @ wr
    rb = np.bincount(blocks.codes, weights=wr, minlength=blocks.G + 1)[:blocks.G]
    xd = linalg.cho_solve(c, rd - B @ (dinv * rb), check_finite=False)
    out = np.empty(blocks.k)
    out[blocks.didx] = xd
    out[blocks.bidx] = dinv * (rb - B.T @ xd)
    return out


def _block_inverse(blocks: Blocks, w):
    """(X'WX)^-1 by the block formula (Schur complement), or None if singular."""
    A, B, d = blocks.gram(w)
    f = _schur(A, B, d)
    if f is None:
        return None
    c, dinv = f
    Sinv = linalg.cho_solve(c, np.eye(A.shape[0]), check_finite=False)
    BD = B * dinv
    SBD = Sinv @ BD
    out = np.empty((blocks.k, blocks.k))
    di, bi = blocks.didx, blocks.bidx
    out[np.ix_(di, di)] = Sinv
    out[np.ix_(di, bi)] = -SBD
    out[np.ix_(bi, di)] = -SBD.T
    out[np.ix_(bi, bi)] = np.diag(dinv) + BD.T @ SBD
    return out


# --------------------------------------------------------------------------- #
# IRLS and theta
# --------------------------------------------------------------------------- #
def _nb_loglik(y, mu, theta):
    """Full NB log-likelihood as MASS (``loglik`` inside glm.nb); Poisson if theta is inf."""
    if not np.isfinite(theta):
        return float(np.sum(stats.poisson.logpmf(y, mu)))
    return float(np.sum(special.gammaln(theta + y) - special.gammaln(theta)
                        - special.gammaln(y + 1) + theta * np.log(theta)
                        + y * np.log(mu + (y == 0)) - (theta + y) * np.log(theta + mu)))


def _deviance(y, mu, theta):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ylog = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0)
        if not np.isfinite(theta):
            dev = float(2 * np.sum(ylog - (y - mu)))
        else:
            dev = float(2 * np.sum(ylog - (y + theta) * np.log((y + theta) / (mu + theta))))
    if np.isfinite(dev) or not np.all(np.isfinite(mu)):
        return dev
    return _deviance_log(y, np.log(mu), theta)


def _deviance_log(y, eta, theta):
    """The deviance from eta = log(mu), on the log scale throughout: finite wherever
    the means are representable, also when y / mu or mu^2 would overflow (extreme counts,
    fitted means near 0).  Used where :func:`_deviance` is not finite."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ly = np.log(np.where(y > 0, y, 1.0))
        ylog = np.where(y > 0, y * (ly - eta), 0.0)
        mu = np.exp(eta)
        if not np.isfinite(theta):
            return float(2 * np.sum(ylog - (y - mu)))
        lt = math.log(theta)
        return float(2 * np.sum(ylog - (y + theta) * (np.log(y + theta)
                                                        - np.logaddexp(eta, lt))))


#: |eta| = |log mu| is kept below this in IRLS (exp(ETA_MAX) ~ 1e300 is representable,
#: and so is mu^2 / theta for theta >= 1e-8 only up to ~1e146: weights use the safe form).
ETA_MAX = 300.0


def _working_weights(mu, eta, theta):
    """IRLS weights mu^2 / var(mu) (log link), var = mu + mu^2 / theta; where that
    overflows, the same in the form theta mu / (theta + mu) computed on the log scale."""
    with np.errstate(over="ignore", invalid="ignore"):
        var = mu if not np.isfinite(theta) else mu + mu ** 2 / theta
        w = mu ** 2 / var                  # (mu^2 / mu, not mu: bit-identical to before)
    if not np.isfinite(theta):
        return w
    bad = ~np.isfinite(w)
    if bad.any():
        lt = math.log(theta)
        w = np.where(bad, np.exp(lt + eta - np.logaddexp(eta, lt)), w)
    return w


def irls(X, y, offset=None, theta=np.inf, start_eta=None, tol=1e-12, maxit=100, blocks=None):
    """IRLS for a log-link Poisson (theta=inf) or NB(theta) GLM, as R ``glm.fit``.

    Convergence: |dev - dev_old| / (|dev| + 0.1) < tol (R's criterion; R's
    default tol is 1e-8, here tighter so that the solution is the MLE to
    machine precision).  ``blocks`` (:class:`Blocks` of X; X may then be None)
    solves each step by the block structure.  Returns (beta, mu, deviance,
    converged, iterations).

    Robust numerics (extreme counts, a tiny theta): eta = log mu is bounded by
    :data:`ETA_MAX`; a step whose deviance is not finite, or (after the first
    step, whose starting means are not a fit) larger than the previous one, is halved
    up to 30 times (as R's ``glm2``; ``glm.fit`` halves only a non-finite
    deviance); weights and deviance fall back to log-scale forms where the plain
    ones overflow.  On well-behaved data none of this changes a step.
    """
    X = None if X is None else np.asarray(X, float)
    y = np.asarray(y, float)
    xb = (lambda b: X @ b) if blocks is None else blocks.dot
    off = np.zeros(len(y)) if offset is None else np.asarray(offset, float)
    if start_eta is None:
        eta = np.log(y + 0.1)  # poisson()$initialize: mustart = y + 0.1
    else:
        eta = np.asarray(start_eta, float)
    mu = np.exp(eta)
    dev_old = _deviance(y, mu, theta)
    beta = np.zeros(X.shape[1] if blocks is None else blocks.k)
    converged = False
    it = 0
    for it in range(1, maxit + 1):
        w = _working_weights(mu, eta, theta)
        z = (eta - off) + (y - mu) / mu
        beta_new = _wls_step(X, w, z, beta, blocks)
        eta_new = xb(beta_new) + off
        mu_new = np.exp(np.clip(eta_new, -700, 700))
        dev = _deviance(y, mu_new, theta)
        # step halving if the deviance is not finite (as glm.fit) or, after the first
        # step, increases (as glm2)
        halv = 0
        while ((not np.isfinite(dev) or np.abs(eta_new).max() > ETA_MAX
                or (it > 1 and dev > dev_old + 1e-9 * (abs(dev_old) + 0.1)))
               and halv < 30):
            beta_new = (beta_new + beta) / 2
            eta_new = xb(beta_new) + off
            mu_new = np.exp(np.clip(eta_new, -700, 700))
            dev = _deviance(y, mu_new, theta)
            halv += 1
        if (not np.isfinite(dev) or not np.all(np.isfinite(beta_new))
                or (it > 1 and dev > dev_old + 1e-9 * (abs(dev_old) + 0.1))):
            break                      # no step helps: not converged (the caller says so)
        beta, eta, mu = beta_new, eta_new, mu_new
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
    return beta, mu, dev, converged, it


def _wls_step(X, w, z, beta, blocks=None):
    """Weighted least squares of the working response ``z`` on ``X`` (weights ``w``).

    Solved in increment form, ``beta + (X'WX)^-1 X'W (z - X beta)``, by a Cholesky
    factorisation of the k x k matrix X'WX: O(n k^2) with no n x k temporaries
    beyond one, and as accurate as a QR solve at convergence because the error of
    the normal equations scales with the (vanishing) increment.  With ``blocks``
    the same increment by the Schur complement of the dummies' diagonal block,
    O(n p + G p^2).  A rank-deficient X falls back to the minimum-norm SVD
    solution (``lstsq``), as before.
    """
    if blocks is not None:
        inc = _block_solve(blocks, w, z - blocks.dot(beta))
        if inc is not None:
            return beta + inc
        X = blocks.dense_matrix() if X is None else X
    Xw = X * w[:, None]
    XtWX = Xw.T @ X
    try:
        c = linalg.cho_factor(XtWX, check_finite=False)
        d = np.abs(np.diag(c[0]))
        if d.min() <= 1e-7 * d.max():
            raise np.linalg.LinAlgError("near-singular X'WX")
        return beta + linalg.cho_solve(c, Xw.T @ (z - X @ beta), check_finite=False)
    except (np.linalg.LinAlgError, linalg.LinAlgError):
        sw = np.sqrt(w)
        return np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)[0]


def _ydist(y):
    """Distinct values of the counts and their frequencies.

    Sums over observations of a function of y alone (digamma(theta + y),
    trigamma(theta + y), gammaln) need it only at the distinct values, weighted
    by their frequencies: O(distinct) special-function calls instead of O(n)
    (a count outcome capped at 182 days has at most 183 values at any n).
    """
    y = np.asarray(y, float)
    if y.size and y.min() >= 0 and y.max() <= 1e7:
        yi = y.astype(np.int64)
        if np.array_equal(yi, y):
            cnt = np.bincount(yi)
            vals = np.flatnonzero(cnt)
            return vals.astype(float), cnt[vals].astype(float)
    vals, cnt = np.unique(y, return_counts=True)
    return vals, cnt.astype(float)


def _theta_score(theta, y, mu, yd=None):
    vals, cnt = _ydist(y) if yd is None else yd
    n = y.size
    return float(np.dot(cnt, special.digamma(theta + vals)) - n * special.digamma(theta)
                 + n * (math.log(theta) + 1) - np.sum(np.log(theta + mu))
                 - np.sum((y + theta) / (mu + theta)))


def _theta_info(theta, y, mu, yd=None):
    vals, cnt = _ydist(y) if yd is None else yd
    n = y.size
    return float(-np.dot(cnt, special.polygamma(1, theta + vals)) + n * special.polygamma(1, theta)
                 - n / theta + np.sum(2 / (mu + theta) - (y + theta) / (mu + theta) ** 2))


def theta_ml(y, mu, theta_max: float = THETA_MAX,
             start: float | None = None) -> tuple[float, float, bool]:
    """ML estimate of theta given the means, as ``MASS::theta.ml``.

    Solves the score equation exactly (bracketing root search on log theta)
    instead of theta.ml's Newton iterations; the root is the same.  Returns
    ``(theta, se_theta, boundary)``; ``boundary`` is True when the likelihood
    still increases at ``theta_max`` (no over-dispersion: theta -> infinity,
    where theta.ml warns "iteration limit reached").
    """
    y = np.asarray(y, float)
    mu = np.asarray(mu, float)
    yd = _ydist(y)
    if start is not None and np.isfinite(start) and 1e-6 < start < theta_max / 10:
        # Newton on log(theta) from a warm start (the previous alternation's theta);
        # falls back to the bracketing search below if it does not settle quickly.
        lt = math.log(start)
        for _ in range(30):
            th = math.exp(lt)
            sc = _theta_score(th, y, mu, yd)
            info = _theta_info(th, y, mu, yd)
            # d score / d log theta = -info * theta
            if not np.isfinite(info) or info <= 0:
                break
            step = sc / (info * th)
            step = max(min(step, 2.0), -2.0)
            lt += step
            if abs(step) < 1e-13:
                th = math.exp(lt)
                info = _theta_info(th, y, mu, yd)
                return th, (math.sqrt(1 / info) if info > 0 else np.nan), False
    f = lambda lt: _theta_score(math.exp(lt), y, mu, yd)
    lo, hi = math.log(1e-8), math.log(theta_max)
    if f(hi) > 0:
        return theta_max, np.nan, True
    if f(lo) < 0:
        return 1e-8, np.nan, True
    lt = optimize.brentq(f, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    th = math.exp(lt)
    info = _theta_info(th, y, mu, yd)
    se = math.sqrt(1 / info) if info > 0 else np.nan
    return th, se, False


def theta_ml_se_R(y, mu, limit: int = 25) -> float:
    """``attr(MASS::theta.ml(y, mu, limit = 25), "SE")`` reproduced exactly.

    theta.ml runs Newton steps from the moment estimate n / sum((y/mu - 1)^2)
    until |step| <= eps = .Machine$double.eps^0.25 and returns
    sqrt(1 / info) with the information evaluated at the *last-but-one*
    iterate (before the final step).  glm.nb's ``SE.theta`` is this value;
    it differs from the information at the ML theta by up to ~1e-5 relative.
    """
    y = np.asarray(y, float)
    mu = np.asarray(mu, float)
    eps = np.finfo(float).eps ** 0.25
    yd = _ydist(y)
    t0 = len(y) / np.sum((y / mu - 1) ** 2)
    it, delta, info = 0, 1.0, np.nan
    while True:
        it += 1
        if not (it < limit and abs(delta) > eps):
            break
        t0 = abs(t0)
        info = _theta_info(t0, y, mu, yd)
        delta = _theta_score(t0, y, mu, yd) / info
        t0 = t0 + delta
    return math.sqrt(1 / info) if info > 0 else np.nan


def _as_arrays(X, y, offset):
    names = list(X.columns) if isinstance(X, pd.DataFrame) else [f"x{j}" for j in range(np.shape(X)[1])]
    Xa = np.asarray(X, float)
    ya = np.asarray(y, float)
    off = np.zeros(len(ya)) if offset is None else np.asarray(offset, float)
    if np.any(ya < 0) or np.any(np.abs(ya - np.round(ya)) > 1e-8):
        raise ValueError("count outcome must be non-negative integers")
    return names, Xa, ya, off


def _fisher_cov(X, mu, theta, names, blocks=None):
    """(X'WX)^-1 at the fitted means (``vcov`` of a glm/negbin fit, dispersion 1)."""
    var = mu if not np.isfinite(theta) else mu + mu ** 2 / theta
    w = mu ** 2 / var
    cov = None if blocks is None else _block_inverse(blocks, w)
    if cov is None:
        X = blocks.dense_matrix() if X is None else X
        cov = np.linalg.inv(X.T @ (w[:, None] * X))
    return pd.DataFrame(cov, index=names, columns=names)


def _glm_design(X, y, offset, fixed=None, fixed_name="fixed", min_block=MIN_BLOCK):
    """Names, dense X (None when ``fixed`` is given), y, offset and :class:`Blocks`.

    ``fixed`` (a factor, one value per row) adds its treatment dummies as a block
    that is never materialised; otherwise a block of at least ``min_block``
    mutually exclusive dummy columns of X is looked for (:func:`onehot_blocks`).
    """
    names, Xa, ya, off = _as_arrays(X, y, offset)
    if fixed is not None:
        blocks, bnames = factor_blocks(Xa, fixed, fixed_name)
        return names + bnames, None, ya, off, blocks
    return names, Xa, ya, off, onehot_blocks(Xa, min_block)


def fit_poisson(X, y, offset=None, fixed=None, fixed_name: str = "fixed") -> GLMFit:
    """Poisson GLM, log link (R ``glm(y ~ ..., family = poisson)``).

    ``fixed``: a factor whose treatment dummies are added to X (R ``+ factor(fixed)``),
    solved by the block structure without building them.
    """
    names, Xa, ya, off, blk = _glm_design(X, y, offset, fixed, fixed_name)
    beta, mu, dev, conv, it = irls(Xa, ya, off, blocks=blk)
    notes = [] if conv else ["Poisson IRLS did not converge"]
    for n_ in notes:
        log.warning(n_)
    return GLMFit("poisson", pd.Series(beta, index=names),
                  _fisher_cov(Xa, mu, np.inf, names, blk), Xa, ya, mu, off,
                  _nb_loglik(ya, mu, np.inf), dev, converged=conv, iterations=it, notes=notes,
                  blocks=blk)


def fit_nb_fixed(X, y, theta, offset=None, start_eta=None) -> GLMFit:
    """NB GLM at a fixed theta (R ``glm(y ~ ..., family = MASS::negative.binomial(theta))``)."""
    names, Xa, ya, off, blk = _glm_design(X, y, offset)
    beta, mu, dev, conv, it = irls(Xa, ya, off, theta=theta, start_eta=start_eta, blocks=blk)
    return GLMFit("negbin", pd.Series(beta, index=names), _fisher_cov(Xa, mu, theta, names, blk),
                  Xa, ya, mu, off, _nb_loglik(ya, mu, theta), dev, theta=theta,
                  converged=conv, iterations=it, blocks=blk)


def fit_nb(X, y, offset=None, maxit: int = 100, tol: float = 1e-12,
           theta_max: float = THETA_MAX, fixed=None, fixed_name: str = "fixed",
           min_block: int = MIN_BLOCK) -> GLMFit:
    """Negative binomial regression, log link, theta by ML (= ``MASS::glm.nb``).

    Follows glm.nb: a Poisson fit gives the starting means; then IRLS at the
    current theta alternates with ``theta_ml`` on the current means until the
    log-likelihood and theta are stable (``tol`` tighter than glm.nb's 1e-8
    so that the result is the joint MLE; R's default-tolerance answer agrees
    to about 1e-7 relative).  A final IRLS at the final theta makes the
    coefficients and theta mutually consistent.

    Parameters
    ----------
    X : DataFrame or array, design matrix including the intercept column.
    y : counts.
    offset : optional offset on the log scale (e.g. log exposure).
    fixed : optional factor (one value per row) whose treatment dummies are
        added after X's columns, named ``fixed_name[level]`` (R ``+ factor(f)``,
        first sorted level the reference) and solved by the block structure
        without building the n x G dummies.
    min_block : without ``fixed``, a block of at least this many mutually
        exclusive dummy columns of X (e.g. practice dummies) is solved by the
        block structure (:func:`onehot_blocks`); the result equals the dense solve.

    Returns
    -------
    GLMFit with ``family='negbin'``, ``theta``, ``se_theta`` (= glm.nb's
    ``SE.theta``), ``loglik`` (= ``logLik(fit)``), ``deviance``,
    model-based ``cov`` (= ``vcov(fit)``, conditional on theta), ``boundary``
    True when theta -> infinity (the fit is then the Poisson fit).

    Robustness: when the alternation does not converge or fails (an extreme
    count, a fit that IRLS cannot follow), the NB log-likelihood is maximised
    directly over (beta, log theta) by Newton's method with the analytic Hessian,
    line search and log theta bounded in [log 1e-8, log theta_max] (the maximum
    glm.nb would report had it converged; the covariance is then as glm.nb's, the
    Fisher information conditional on theta, and a note says so).  If that too
    fails, :class:`NotEstimable` is raised with the reason.
    """
    names, Xa, ya, off, blk = _glm_design(X, y, offset, fixed, fixed_name, min_block)
    if len(ya) <= len(names) + 1:
        raise NotEstimable(f"{len(ya)} observations for {len(names) + 1} negative binomial "
                           "parameters (coefficients and theta)")
    if not np.any(ya > 0):
        raise NotEstimable("every count is 0 (the rate ratio has no finite estimate)")
    try:
        with np.errstate(all="ignore"):
            fit = _fit_nb_alternating(names, Xa, ya, off, blk, maxit, tol, theta_max)
        ok = (fit.converged and np.all(np.isfinite(fit.params))
              and np.all(np.isfinite(fit.cov.to_numpy())))
    except (ValueError, ArithmeticError, np.linalg.LinAlgError, linalg.LinAlgError) as exc:
        fit, ok = None, False
        log.warning("glm.nb-type fit failed (%s): direct maximum likelihood instead", exc)
    if ok:
        for n_ in fit.notes:
            log.warning("glm.nb-type fit: %s", n_)
        return fit
    return _fit_nb_direct(names, Xa, ya, off, blk, theta_max, fit)


def _nb_eval(par, yt, X, off):
    """Negative NB log-likelihood, gradient and Hessian over (beta, log theta) (log link);
    +inf outside log theta in [log 1e-8, log THETA_MAX] so that a line search stays inside."""
    lt = par[-1]
    if not (math.log(1e-8) <= lt <= math.log(THETA_MAX)):
        return np.inf, np.full(len(par), np.nan), np.full((len(par), len(par)), np.nan)
    eta = X @ par[:-1] + off
    if np.abs(eta).max() > ETA_MAX:
        return np.inf, np.full(len(par), np.nan), np.full((len(par), len(par)), np.nan)
    with np.errstate(all="ignore"):
        d = _nb_derivs(yt, eta, lt)
    k = X.shape[1]
    H = np.empty((k + 1, k + 1))
    H[:k, :k] = _gram(X, d["l_ee"])
    H[:k, -1] = H[-1, :k] = X.T @ d["l_et"]
    H[-1, -1] = d["l_tt"].sum()
    ll = float(d["l"].sum())
    if not np.isfinite(ll):
        return np.inf, np.full(len(par), np.nan), np.full((len(par), len(par)), np.nan)
    return -ll, -np.r_[X.T @ d["l_e"], d["l_t"].sum()], -H


def _fit_nb_direct(names, Xa, ya, off, blk, theta_max, failed) -> GLMFit:
    """NB by direct maximum likelihood (Newton on (beta, log theta)); see :func:`fit_nb`."""
    X = blk.dense_matrix() if Xa is None else Xa
    with np.errstate(all="ignore"):
        b0, mu0, _, c0, _ = irls(X, ya, off)
    if not (c0 and np.all(np.isfinite(b0))):
        b0 = np.zeros(X.shape[1])
        b0[0] = math.log(max(ya.mean(), 1e-8)) if np.allclose(X[:, 0], 1) else 0.0
    yt = _YTable(ya)
    par, f, g, H, dec, it = _newton(_nb_eval, np.r_[b0, 0.0], (yt, X, off))
    converged = bool(np.isfinite(f) and np.isfinite(dec) and dec < NEWTON_CONVERGED)
    if not converged:
        why = ("the negative binomial likelihood has no finite maximum that Newton's method "
               f"could reach (max |gradient| {np.max(np.abs(g)):.2g})")
        log.error("NB fit not estimable: %s", why)
        raise NotEstimable(why)
    beta, lt = par[:-1], par[-1]
    mu = np.exp(X @ beta + off)
    boundary = bool(lt > math.log(theta_max) - 1)
    th_use = np.inf if boundary else math.exp(lt)
    info = float(H[-1, -1])            # -d2 loglik / d(log theta)^2 at the maximum
    se_th = math.exp(lt) / math.sqrt(info) if info > 0 else np.nan   # as theta.ml's SE
    notes = [("glm.nb alternation did not converge" if failed is not None
              else "glm.nb alternation failed")
             + f": NB fitted by direct maximum likelihood over (beta, log theta) "
               f"(Newton, {it} iterations)"]
    if boundary:
        notes.append(f"theta -> infinity (no over-dispersion; theta > {theta_max:g}): "
                     "NB at the Poisson boundary")
    for n_ in notes:
        log.warning("glm.nb-type fit: %s", n_)
    return GLMFit("negbin", pd.Series(beta, index=names), _fisher_cov(Xa, mu, th_use, names, blk),
                  Xa, ya, mu, off, _nb_loglik(ya, mu, th_use), _deviance(ya, mu, th_use),
                  theta=th_use, se_theta=se_th, converged=True, boundary=boundary,
                  iterations=it, notes=notes, blocks=blk)


def _fit_nb_alternating(names, Xa, ya, off, blk, maxit, tol, theta_max) -> GLMFit:
    """glm.nb's alternation of IRLS at fixed theta and theta.ml (see :func:`fit_nb`)."""
    notes: list[str] = []
    beta, mu, dev, conv, it_total = irls(Xa, ya, off, blocks=blk)
    if not conv:
        notes.append("starting Poisson fit did not converge")
    th, se_th, boundary = theta_ml(ya, mu, theta_max)
    ll = _nb_loglik(ya, mu, th)
    converged = False
    for it in range(1, maxit + 1):
        beta, mu, dev, conv, k = irls(Xa, ya, off, theta=th, start_eta=np.log(mu), blocks=blk)
        it_total += k
        if not conv:
            notes.append(f"IRLS did not converge at alternation {it}")
            if sum(n_.startswith("IRLS did not converge") for n_ in notes) >= 3:
                break                  # not converging: fit_nb maximises directly instead
        th_old, ll_old = th, ll
        th, se_th, boundary = theta_ml(ya, mu, theta_max, start=th)
        ll = _nb_loglik(ya, mu, th)
        if boundary:
            break
        if abs(ll - ll_old) <= tol * (abs(ll) + 0.1) and abs(th - th_old) <= 1e-10 * th:
            converged = True
            break
    if boundary:
        notes.append(f"theta -> infinity (no over-dispersion; theta > {theta_max:g}): "
                     "NB at the Poisson boundary")
        converged = True
        beta, mu, dev, conv, _ = irls(Xa, ya, off, theta=np.inf, blocks=blk)
        th_use = np.inf
    else:
        mu_prev = mu
        beta, mu, dev, conv, _ = irls(Xa, ya, off, theta=th, start_eta=np.log(mu), blocks=blk)
        th_use = th
        # glm.nb's SE.theta: theta.ml's Newton information on the previous means
        se_r = theta_ml_se_R(ya, mu_prev, limit=25)
        if np.isfinite(se_r):
            se_th = se_r
        if not converged:
            notes.append("alternation limit reached (theta/coefficients not converged)")
    if not conv:
        converged = False
    fit = GLMFit("negbin", pd.Series(beta, index=names), _fisher_cov(Xa, mu, th_use, names, blk),
                 Xa, ya, mu, off, _nb_loglik(ya, mu, th_use), _deviance(ya, mu, th_use),
                 theta=th_use if not boundary else np.inf, se_theta=se_th,
                 converged=converged, boundary=boundary, iterations=it_total, notes=notes,
                 blocks=blk)
    return fit


def profile_ci(fit: GLMFit, term: str, level: float = 0.95) -> tuple[float, float]:
    """Profile-likelihood CI of one coefficient with theta fixed (log scale).

    As ``confint(glm.nb_fit, term, level)`` (R >= 4.4 ``confint.glm`` via
    ``profile.glm``, signed root deviance with dispersion 1, theta held at its
    estimate), but each limit is the exact root of
    ``deviance(b) - deviance = qchisq(level, 1)`` rather than R's spline
    interpolation of the profile.
    """
    j = list(fit.params.index).index(term)
    b0 = fit.params.iloc[j]
    se = math.sqrt(fit.cov.iloc[j, j])
    crit = stats.chi2.ppf(level, 1)
    blk = fit.blocks
    if blk is not None and j in set(blk.didx.tolist()):
        # the other columns by their block structure (the dummies are never built)
        Xo, bo, xj = None, blk.without(j), blk.column(j)
    else:
        X = fit.full_X()
        Xo, bo, xj = np.delete(X, j, axis=1), None, X[:, j]
    dev0 = fit.deviance

    def excess(b):
        _, mu, dev, _, _ = irls(Xo, fit.y, fit.offset + b * xj, theta=fit.theta,
                                start_eta=np.log(fit.mu), blocks=bo)
        return dev - dev0 - crit

    out = []
    for sgn in (-1, 1):
        step = se
        hi = b0 + sgn * step
        for _ in range(60):
            if excess(hi) > 0:
                break
            step *= 2
            hi = b0 + sgn * step
        out.append(optimize.brentq(excess, b0, hi, xtol=1e-12) if sgn > 0
                   else optimize.brentq(excess, hi, b0, xtol=1e-12))
    return out[0], out[1]


# --------------------------------------------------------------------------- #
# Zero-inflated and hurdle NB (pscl)
# --------------------------------------------------------------------------- #
@dataclass
class MLFit:
    """A model fitted by direct maximum likelihood (pscl-type)."""
    model: str
    params: pd.Series           # count coefficients, zero coefficients, log(theta)
    cov: pd.DataFrame           # inverse observed information (all parameters)
    loglik: float
    n: int
    converged: bool
    boundary: bool = False
    notes: list[str] = field(default_factory=list)

    scores: np.ndarray | None = None   # per-observation scores of the coefficients (no theta)
    max_abs_gradient: float = np.nan   # at the returned estimates (log-likelihood scale)
    iterations: int = 0
    gradient: np.ndarray | None = None  # of the log-likelihood at the estimates (params order)

    @property
    def theta(self) -> float:
        return math.exp(self.params["log(theta)"])

    @property
    def coef_names(self) -> list[str]:
        return [c for c in self.params.index if c != "log(theta)"]

    def vcov_cluster(self, cluster, cadjust: bool = True) -> pd.DataFrame:
        """``sandwich::vcovCL(fit, cluster = cluster)`` for a pscl ``zeroinfl``/``hurdle`` fit.

        As sandwich does for these classes: bread = the coefficient block of the
        model covariance (``vcov(fit)``, which excludes log(theta)) x n, meat from
        the coefficient scores only (``estfun`` has no theta column), type HC0 with
        the G/(G-1) cluster adjustment.
        """
        names = self.coef_names
        V = cluster_sandwich(self.scores, self.cov.loc[names, names].to_numpy(), cluster,
                             cadjust=cadjust)
        return pd.DataFrame(V, index=names, columns=names)


class _YTable:
    """Functions of (y + theta) evaluated at the distinct counts only (see :func:`_ydist`)."""

    def __init__(self, y):
        self.y = np.asarray(y, float)
        self.vals, inv = np.unique(self.y, return_inverse=True)
        self.inv = inv.reshape(-1)

    def lgam(self, th):
        """log Gamma(y + th) - log Gamma(th) - log Gamma(y + 1) per observation."""
        v = self.vals
        return (special.gammaln(v + th) - special.gammaln(th) - special.gammaln(v + 1))[self.inv]

    def dig(self, th):
        """digamma(y + th) - digamma(th) and trigamma(y + th) - trigamma(th) per observation."""
        v = self.vals
        d1 = special.digamma(v + th) - special.digamma(th)
        d2 = special.polygamma(1, v + th) - special.polygamma(1, th)
        return d1[self.inv], d2[self.inv]


@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def _nb_derivs(yt: _YTable, eta, lt):
    """NB log-density and log P(Y = 0) per observation with their first and second
    derivatives in (eta = log mu, lt = log theta).

    Returns a dict: ``l, l_e, l_t, l_ee, l_et, l_tt`` (log-density) and
    ``q, q_e, q_t, q_ee, q_et, q_tt`` (log p0 = theta log(theta / (theta + mu))).
    """
    y = yt.y
    th = math.exp(lt)
    mu = np.exp(eta)
    tm = th + mu
    ltm = np.log(tm)
    m = mu / tm                        # mu / (theta + mu)
    d1, d2 = yt.dig(th)
    s = d1 + lt + 1 - ltm - (y + th) / tm
    s1 = d2 + 1 / th - 1 / tm - (mu - y) / tm ** 2
    out = {
        "l": yt.lgam(th) + th * lt + y * eta - (y + th) * ltm,
        "l_e": th * (y - mu) / tm,
        "l_ee": -th * m * (th + y) / tm,
        "l_t": th * s,
        "l_tt": th * s + th * th * s1,
        "l_et": th * (y - mu) * m / tm,
        "q": th * (lt - ltm),
        "q_e": -th * m,
        "q_ee": -th * m * (th / tm),
        "q_t": th * (lt - ltm + m),
        "q_et": -th * m * m,
    }
    out["q_tt"] = out["q_t"] + th * m * m
    return out


def _gram(A, h, B=None):
    """A' diag(h) B (B = A by default)."""
    return (A * h[:, None]).T @ (A if B is None else B)


def _hessian3(X, Z, hee, hez, het, hzz, hzt, htt):
    """Assemble the Hessian over (beta, gamma, log theta) from per-observation second
    derivatives in (eta, zeta, lt), eta = X beta, zeta = Z gamma."""
    kx, kz = X.shape[1], Z.shape[1]
    H = np.empty((kx + kz + 1, kx + kz + 1))
    H[:kx, :kx] = _gram(X, hee)
    H[:kx, kx:-1] = _gram(X, hez, Z)
    H[kx:-1, :kx] = H[:kx, kx:-1].T
    H[kx:-1, kx:-1] = _gram(Z, hzz)
    H[:kx, -1] = H[-1, :kx] = X.T @ het
    H[kx:-1, -1] = H[-1, kx:-1] = Z.T @ hzt
    H[-1, -1] = htt.sum()
    return H


@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def _zinb_eval(par, yt, X, Z, obs=False):
    """Negative ZINB log-likelihood, gradient and Hessian (pscl ``zeroinfl``, logit
    inflation phi = plogis(Z gamma)); with ``obs`` the per-observation scores of
    (beta, gamma) instead (``estfun``)."""
    kx, kz = X.shape[1], Z.shape[1]
    d = _nb_derivs(yt, X @ par[:kx], par[-1])
    zeta = Z @ par[kx:kx + kz]
    log_phi, log_1mphi = -np.logaddexp(0, -zeta), -np.logaddexp(0, zeta)
    phi = np.exp(log_phi)
    y0 = yt.y == 0
    # y = 0: log(phi + (1 - phi) p0) = logsumexp(A, B), A = log phi, B = log(1 - phi) + q
    ll0 = np.logaddexp(log_phi, log_1mphi + d["q"])
    wA, wB = np.exp(log_phi - ll0), np.exp(log_1mphi + d["q"] - ll0)
    wAB = np.where(y0, wA * wB, 0.0)
    ge = np.where(y0, wB * d["q_e"], d["l_e"])
    gz = np.where(y0, wA * (1 - phi) - wB * phi, -phi)
    if obs:
        return np.column_stack([ge[:, None] * X, gz[:, None] * Z])
    gt = np.where(y0, wB * d["q_t"], d["l_t"])
    ll = np.where(y0, ll0, log_1mphi + d["l"]).sum()
    grad = np.r_[X.T @ ge, Z.T @ gz, gt.sum()]
    H = _hessian3(X, Z,
                  np.where(y0, wB * d["q_ee"], d["l_ee"]) + wAB * d["q_e"] ** 2,
                  -wAB * d["q_e"],
                  np.where(y0, wB * d["q_et"], d["l_et"]) + wAB * d["q_e"] * d["q_t"],
                  wAB - phi * (1 - phi),
                  -wAB * d["q_t"],
                  np.where(y0, wB * d["q_tt"], d["l_tt"]) + wAB * d["q_t"] ** 2)
    return -float(ll), -grad, -H


@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def _trunc_nb_eval(par, yt, X, obs=False):
    """Negative zero-truncated NB log-likelihood, gradient and Hessian (the count part of
    pscl ``hurdle``); with ``obs`` the per-observation scores of beta."""
    d = _nb_derivs(yt, X @ par[:-1], par[-1])
    log1m = np.log(-np.expm1(d["q"]))          # log(1 - p0)
    r = np.exp(d["q"] - log1m)                 # p0 / (1 - p0)
    ge = d["l_e"] + r * d["q_e"]
    if obs:
        return ge[:, None] * X
    gt = d["l_t"] + r * d["q_t"]
    rr = r * (1 + r)                           # -d2 log(1 - p0) / dq2
    hee = d["l_ee"] + r * d["q_ee"] + rr * d["q_e"] ** 2
    het = d["l_et"] + r * d["q_et"] + rr * d["q_e"] * d["q_t"]
    htt = d["l_tt"] + r * d["q_tt"] + rr * d["q_t"] ** 2
    k = X.shape[1]
    H = np.empty((k + 1, k + 1))
    H[:k, :k] = _gram(X, hee)
    H[:k, -1] = H[-1, :k] = X.T @ het
    H[-1, -1] = htt.sum()
    ll = (d["l"] - log1m).sum()
    return -float(ll), -np.r_[X.T @ ge, gt.sum()], -H


def _logit_eval(par, Z, yb):
    """Negative binomial-logit log-likelihood, gradient and Hessian (R ``glm(binomial)``)."""
    zeta = Z @ par
    ll = np.sum(yb * zeta - np.logaddexp(0, zeta))
    p = special.expit(zeta)
    return -float(ll), -(Z.T @ (yb - p)), _gram(Z, p * (1 - p))


def _newton_step(H, g, lam):
    """Damped Newton step (H + lam diag|H|)^-1 g and the decrement g' step; None if the
    damped matrix is not positive definite."""
    D = np.maximum(np.abs(np.diag(H)), 1e-12 * max(np.max(np.abs(np.diag(H))), 1e-300))
    try:
        c = linalg.cho_factor(H + lam * np.diag(D), check_finite=False)
    except (np.linalg.LinAlgError, linalg.LinAlgError):
        return None, np.nan
    step = linalg.cho_solve(c, g, check_finite=False)
    dec = float(g @ step)
    return (step, dec) if np.all(np.isfinite(step)) else (None, np.nan)


def _full_step_helps(f, dec, f1, g1, H1):
    """Near the maximum (Newton decrement ``dec`` < :data:`NEWTON_CONVERGED`) a full Newton
    step is taken if it decreases f (Armijo), or -- where the decrease, about dec / 2, is
    below the rounding of f (a sum of n terms) -- if it reduces the decrement."""
    if not np.isfinite(f1):
        return False
    if f1 <= f - 1e-4 * dec:
        return True
    _, dec1 = _newton_step(H1, g1, 0.0)
    return bool(np.isfinite(dec1) and dec1 < dec)


def _newton(fun, par, args, maxit=200, tol=NEWTON_TOL):
    """Minimise ``fun(par, *args) -> (f, g, H)`` by Newton's method with
    Levenberg-Marquardt damping and a backtracking (Armijo) line search.

    Far from the maximum: damped steps with line search.  Once H is positive
    definite and the (undamped) Newton decrement g' H^-1 g is below
    :data:`NEWTON_CONVERGED`: full Newton steps (quadratic convergence) until
    the decrement is below ``tol`` (then one more step) or a step no longer
    helps (the rounding floor).  Returns (par, f, g, H, decrement, iterations).
    """
    f, g, H = fun(par, *args)
    lam, it = 0.0, 0
    for it in range(1, maxit + 1):
        step, dec_l = _newton_step(H, g, 0.0)
        if step is not None and dec_l < NEWTON_CONVERGED:
            f1, g1, H1 = fun(par - step, *args)
            if not _full_step_helps(f, dec_l, f1, g1, H1):
                break
            par, f, g, H, lam = par - step, f1, g1, H1, 0.0
            if dec_l < tol:
                break
            continue
        if lam > 0:
            step, dec_l = _newton_step(H, g, lam)
        if step is None:
            lam = max(10 * lam, 1e-6)
            continue
        t, accepted = 1.0, False
        while t > 1e-6:
            f1, g1, H1 = fun(par - t * step, *args)
            if np.isfinite(f1) and f1 <= f - 1e-4 * t * dec_l:
                accepted = True
                break
            t /= 2
        if accepted:
            par, f, g, H = par - t * step, f1, g1, H1
            lam = lam / 10 if lam > 1e-5 else 0.0
        else:
            lam = max(10 * lam, 1e-6)
    _, dec = _newton_step(H, g, 0.0)
    return par, f, g, H, dec, it


def _ml(fun, start, args, names, model, n):
    """Maximum likelihood by :func:`_newton`; covariance = inverse observed information
    (pscl's ``vcov``, here from the analytic Hessian).  The notes give the final max
    |gradient| and whether the maximum was reached."""
    def bounded(par, *a):
        # log theta kept where theta and 1/theta are representable (an extreme count can
        # drive theta to 0); outside, +inf makes the line search step back
        if not (-LOG_THETA_BOUND <= par[-1] <= LOG_THETA_BOUND):
            return np.inf, np.full(len(par), np.nan), np.full((len(par), len(par)), np.nan)
        return fun(par, *a)

    par, f, g, H, dec, it = _newton(bounded, start, args)
    if not np.isfinite(f):
        raise NotEstimable(f"{model}: the likelihood is not finite at any parameter value tried")
    if par[-1] < math.log(1e-8):
        raise NotEstimable(f"{model}: theta -> 0 (theta = {math.exp(par[-1]):.2g}; the count "
                           "part's likelihood has no interior maximum)")
    gmax = float(np.max(np.abs(g)))
    converged = bool(np.isfinite(dec) and dec < NEWTON_CONVERGED)
    if converged:
        notes = [f"{model}: ML converged (Newton, analytic Hessian, {it} iterations; "
                 f"max |gradient| {gmax:.2g})"]
    else:
        notes = [f"{model}: maximum likelihood did not converge (max |gradient| {gmax:.2g}, "
                 f"Newton decrement {dec:.2g})"]
    try:
        cov = np.linalg.inv(H)
        if np.any(np.diag(cov) < 0) or not np.all(np.isfinite(cov)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.full_like(H, np.nan)
        notes.append(f"{model}: information matrix singular; no standard errors")
    boundary = bool(par[-1] > math.log(THETA_MAX) - 1)
    if boundary:
        notes.append(f"{model}: theta -> infinity (no over-dispersion in the count part)")
    for n_ in notes[1 if converged else 0:]:
        log.warning(n_)
    return MLFit(model, pd.Series(par, index=names), pd.DataFrame(cov, index=names, columns=names),
                 -f, n, converged, boundary, notes, max_abs_gradient=gmax, iterations=it,
                 gradient=-g)


def _zero_design(Z, n):
    """Zero-part design (intercept only when ``Z`` is None) and its ``zero_`` names."""
    if Z is None:
        return np.ones((n, 1)), ["zero_(Intercept)"]
    names = list(Z.columns) if isinstance(Z, pd.DataFrame) else [f"z{j}" for j in range(np.shape(Z)[1])]
    return np.asarray(Z, float), ["zero_" + str(c) for c in names]


def _logit_start(Z, yb):
    """Binomial-logit fit by Newton (pscl's starting zero model, ``glm.fit(Z, y0, binomial)``)."""
    par = np.zeros(Z.shape[1])
    par[0] = special.logit(min(max(yb.mean(), 0.01), 0.99)) if np.allclose(Z[:, 0], 1) else 0.0
    return _newton(_logit_eval, par, (Z, yb))


def fit_zinb(X, y, Z=None) -> MLFit:
    """Zero-inflated NB (= ``pscl::zeroinfl(y ~ x | z, dist = "negbin")``, logit inflation).

    ``Z`` defaults to an intercept only (``y ~ x | 1``); ``Z = X`` is pscl's default
    ``y ~ x`` (the same regressors in both parts).  Parameter names: count
    coefficients as the columns of X, zero coefficients prefixed ``zero_``, and
    ``log(theta)``.  Starting values as pscl: Poisson count model, binomial logit
    of y == 0 on Z, theta = 1; then Newton's method with the analytic Hessian
    (:func:`_newton`).  Covariance: inverse of the observed information over all
    parameters (pscl's ``vcov``).  ``boundary`` when the largest fitted inflation
    probability is below plogis(-10) (no excess zeros beyond the NB).
    """
    names, Xa, ya, _ = _as_arrays(X, y, None)
    n = len(ya)
    Za, znames = _zero_design(Z, n)
    b0, *_ = irls(Xa, ya)
    g0 = _logit_start(Za, (ya == 0).astype(float))[0]
    yt = _YTable(ya)
    fit = _ml(_zinb_eval, np.r_[b0, g0, 0.0], (yt, Xa, Za), names + znames + ["log(theta)"],
              "zinb", n)
    par = fit.params.to_numpy()
    fit.scores = _zinb_eval(par, yt, Xa, Za, obs=True)
    if np.max(Za @ par[Xa.shape[1]:-1]) < -10:
        msg = ("zinb: zero-inflation probability -> 0 (boundary; no excess zeros beyond the NB): "
               "zero-part estimate and SE are not meaningful, count part equals the NB")
        fit.notes.append(msg)
        fit.boundary = True
        log.warning(msg)
    return fit


def _hurdle_zero(Za, znames, pos):
    """Zero hurdle: binomial logit of y > 0 on Z -- (params, cov, loglik, scores, converged,
    log-likelihood gradient).  Intercept only: closed form (logit of the proportion)."""
    n = len(pos)
    if len(znames) == 1 and np.all(Za == 1):
        p = pos.mean()
        g = np.array([math.log(p / (1 - p))])
        cov = np.array([[1 / (n * p * (1 - p))]])
        ll = float(np.sum(np.where(pos, math.log(p), math.log(1 - p))))
        return g, cov, ll, (pos - p)[:, None], True, np.zeros(1)
    yb = pos.astype(float)
    g, f, grad, H, dec, _ = _logit_start(Za, yb)
    scores = (yb - special.expit(Za @ g))[:, None] * Za
    return g, np.linalg.inv(H), -f, scores, bool(dec < NEWTON_CONVERGED), -grad


def fit_hurdle_nb(X, y, Z=None) -> MLFit:
    """Hurdle NB (= ``pscl::hurdle(y ~ x | z, dist = "negbin")``, binomial logit zero hurdle).

    Zero hurdle: binomial logit of y > 0 on ``Z`` (intercept only when None, in
    closed form; ``Z = X`` is pscl's default ``y ~ x``), covariance its inverse
    information.  Count part: zero-truncated NB by Newton's method with the
    analytic Hessian, covariance the inverse observed information of (beta, log
    theta), as pscl.  The two parts are separable: their cross-covariance is 0.
    Parameters: count coefficients, ``zero_`` coefficients, ``log(theta)``.
    """
    names, Xa, ya, _ = _as_arrays(X, y, None)
    pos = ya > 0
    n = len(ya)
    Za, znames = _zero_design(Z, n)
    b0, *_ = irls(Xa[pos], ya[pos])
    yt = _YTable(ya[pos])
    fit = _ml(_trunc_nb_eval, np.r_[b0, 0.0], (yt, Xa[pos]), names + ["log(theta)"],
              "hurdle_nb", n)
    g, covz, llz, scz, convz, gz = _hurdle_zero(Za, znames, pos)
    order = names + znames + ["log(theta)"]
    params = pd.concat([fit.params, pd.Series(g, index=znames)])[order]
    cov = fit.cov.reindex(index=order, columns=order).fillna(0.0)
    cov.loc[znames, znames] = covz
    sc = np.zeros((n, Xa.shape[1]))
    sc[pos] = _trunc_nb_eval(fit.params.to_numpy(), yt, Xa[pos], obs=True)
    notes = list(fit.notes)
    gzmax = float(np.max(np.abs(gz)))
    if not convz:
        notes.append(f"hurdle_nb: zero hurdle (logit) did not converge (max |gradient| {gzmax:.2g})")
        log.warning(notes[-1])
    grad = np.r_[fit.gradient[:-1], gz, fit.gradient[-1]]
    return MLFit("hurdle_nb", params, cov, fit.loglik + llz, n, fit.converged and convz,
                 fit.boundary, notes, scores=np.column_stack([sc, scz]),
                 max_abs_gradient=max(fit.max_abs_gradient, gzmax), iterations=fit.iterations,
                 gradient=grad)


def wald(params: pd.Series, cov: pd.DataFrame, term: str) -> dict:
    """Wald estimate, SE, z and two-sided p of one coefficient (log scale)."""
    b = float(params[term])
    se = float(math.sqrt(cov.loc[term, term])) if np.isfinite(cov.loc[term, term]) else np.nan
    z = b / se if se and np.isfinite(se) else np.nan
    p = p_two_sided(z) if np.isfinite(z) else np.nan
    return {"coef": b, "se": se, "z": z, "p": p}
