"""Poisson and negative binomial GLMs fitted to many replicates at once (power simulation).

A batch of R data sets with the same columns (the replicates of a power simulation) is
fitted as stacked arrays: every IRLS or Newton update of every replicate is one array
operation over the batch, with a per-replicate convergence mask (replicates leave the
working set when they converge).  The fits are those of :mod:`rtw.models.counts`, step
for step, with the same starting values, convergence criteria and boundary handling, so
that the estimates are the same (tests/ops/test_power_batched.py: ~1e-12 relative):

* :func:`irls_batch` -- R ``glm.fit``'s IRLS for a log-link Poisson or NB(theta) GLM as
  :func:`rtw.models.counts.irls` (start ``mu = y + 0.1``, the deviance criterion
  ``|dev - dev_old| / (|dev| + 0.1) < 1e-12``, at most 100 iterations);
* :func:`theta_ml_batch` -- ``MASS::theta.ml`` as :func:`rtw.models.counts.theta_ml`
  (Newton on log theta from a warm start; otherwise the bracketing search on
  [1e-8, THETA_MAX] with the boundary when the score is still positive at THETA_MAX);
* :func:`fit_nb_batch` -- ``MASS::glm.nb`` as :func:`rtw.models.counts.fit_nb`: the
  Poisson start, theta.ml, the alternation until the log-likelihood changes by
  <= 1e-12 relative and theta by <= 1e-10, the Poisson fit at the boundary, a last IRLS;
* :func:`wald_batch` -- Wald estimate, SE and p of one coefficient with the model-based
  (``vcov``), ``sandwich::vcovHC(type = "HC0")`` or ``sandwich::vcovCL`` (HC0, G/(G-1))
  covariance, as :class:`rtw.models.counts.GLMFit`.

The data are weighted rows (:func:`count_rows`): a participant, or -- when every
covariate is discrete (arm, factors) -- a covariate pattern with its number of
participants and sum of counts, so that the work per iteration no longer grows with n.
The theta terms use the digamma recurrence over a table of the count values, the
deviance and log-likelihood changes are written without their large cancelling terms.

Replicates the batch cannot decide as the single fit would are flagged ``single`` and
fitted alone by the caller (:func:`rtw.models.counts.fit_nb`), so that every decision
is the single fit's: a convergence criterion within rounding of its threshold (the
single fit adds its sums in another order; ``*_BAND``), a boundary score within rounding
of 0, a non-finite deviance or near-singular X'WX (the single fit would halve steps or
take a minimum-norm solve), a group with no events (the estimate diverges and its value
depends on the path), no convergence.

The design (:class:`BatchDesign`) is dense columns plus factors given by level codes:
the factor blocks of X'WX are sums by level (``bincount``), so a factor with many
levels (practice fixed effects) costs little more than one column.  Each replicate's
numbers depend only on its own rows (sums in a fixed order), so the results do not
depend on the batch size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rtw.core.stats import p_two_sided
from rtw.models.counts import THETA_MAX

#: A theta score at a bracket end this close to 0 (per observation) leaves the boundary
#: decision to the single fit.
SCORE_TOL = 1e-12
#: Bands around the single fit's convergence criteria (value / threshold within 1 +- band)
#: where the batch's sums, added in another order, could decide differently.
IRLS_BAND = 0.005
LL_BAND = 0.003
THETA_BAND = 0.003


@dataclass
class BatchDesign:
    """Design matrices of R replicates of n rows each.

    Attributes
    ----------
    dense : (R, kd, n) float array
        Dense columns, column-major per replicate: the intercept (ones) first, then e.g.
        arm and continuous covariates.
    factors : list of (R, n) int arrays
        Level codes ``0 .. L-1`` of each factor (one dummy per level present among the
        analysed rows except the first present, which is the reference).
    levels : list of int
        Number of levels ``L`` of each factor.
    mask : (R, n) bool array
        Rows analysed (outcome observed).
    """
    dense: np.ndarray
    factors: list
    levels: list
    mask: np.ndarray

    def __post_init__(self):
        if not np.all(self.dense[:, 0] == 1):
            raise ValueError("BatchDesign: the first dense column must be the intercept")
        R, n = self.mask.shape
        self.R, self.n, self.kd = R, n, self.dense.shape[1]
        self.k = self.kd + sum(self.levels)
        active = [np.ones((R, self.kd), bool)]
        for codes, L in zip(self.factors, self.levels):
            present = np.bincount((np.arange(R)[:, None] * L + codes)[self.mask],
                                  minlength=R * L).reshape(R, L) > 0
            ref = np.argmax(present, axis=1)
            present[np.arange(R), ref] = False
            active.append(present)
        self.active = np.concatenate(active, axis=1)
        self._index()

    def _index(self):
        R = self.R
        rows = np.arange(R)[:, None]
        self.idx = [(rows * L + c).ravel() for c, L in zip(self.factors, self.levels)]
        self.pairs = {}
        for f in range(len(self.factors)):
            for g in range(f + 1, len(self.factors)):
                Lf, Lg = self.levels[f], self.levels[g]
                self.pairs[f, g] = (rows * (Lf * Lg) + self.factors[f] * Lg
                                    + self.factors[g]).ravel()

    def take(self, rows) -> "BatchDesign":
        """The replicates ``rows`` (an index array) as a design of their own."""
        sub = object.__new__(BatchDesign)
        sub.dense, sub.mask = self.dense[rows], self.mask[rows]
        sub.factors = [c[rows] for c in self.factors]
        sub.levels = self.levels
        sub.R, sub.n, sub.kd, sub.k = sub.mask.shape[0], self.n, self.kd, self.k
        sub.active = self.active[rows]
        sub._index()
        return sub

    def slices(self):
        """Parameter positions of the dense block and of each factor."""
        out, j = [slice(0, self.kd)], self.kd
        for L in self.levels:
            out.append(slice(j, j + L))
            j += L
        return out

    def eta(self, beta: np.ndarray) -> np.ndarray:
        """Linear predictor ``X beta`` (R, n) of coefficients ``beta`` (R, k)."""
        if self.kd > 1:
            eta = beta[:, 1, None] * self.dense[:, 1] + beta[:, 0, None]
        else:
            eta = np.repeat(beta[:, :1], self.n, axis=1)
        for j in range(2, self.kd):
            eta += beta[:, j, None] * self.dense[:, j]
        for i, s in zip(self.idx, self.slices()[1:]):
            eta += beta[:, s].ravel()[i].reshape(self.R, self.n)
        return eta

    def xtv(self, v: np.ndarray) -> np.ndarray:
        """``X' v`` (R, k) for a row vector ``v`` (R, n) (zero on rows not analysed), 0 for
        the columns left out."""
        out = np.zeros((self.R, self.k))
        out[:, 0] = v.sum(axis=-1)
        out[:, 1:self.kd] = (self.dense[:, 1:] * v[:, None, :]).sum(axis=-1)
        flat = v.ravel()
        for i, s in zip(self.idx, self.slices()[1:]):
            L = s.stop - s.start
            out[:, s] = np.bincount(i, weights=flat, minlength=self.R * L).reshape(self.R, L)
        return out * self.active

    def xtwx(self, w: np.ndarray) -> np.ndarray:
        """``X' diag(w) X`` (R, k, k), with the unit matrix on the columns left out
        (absent and reference levels), for weights ``w`` (R, n) (zero on rows not analysed).

        Dense x dense blocks by row sums, dense x factor and factor x factor blocks by sums
        over levels (``bincount``), the factor diagonals from the intercept's row."""
        R, kd = self.R, self.kd
        out = np.zeros((R, self.k, self.k))
        sl = self.slices()
        wd = self.dense[:, 1:] * w[:, None, :]
        out[:, 0, 0] = w.sum(axis=-1)
        out[:, 0, 1:kd] = wd.sum(axis=-1)
        for a in range(1, kd):
            out[:, a, a:kd] = (wd[:, a - 1, None, :] * self.dense[:, a:]).sum(axis=-1)
        cols = [w.ravel()] + [wd[:, a].ravel() for a in range(kd - 1)]
        for f, (i, s) in enumerate(zip(self.idx, sl[1:])):
            L = s.stop - s.start
            for a, c in enumerate(cols):
                out[:, a, s] = np.bincount(i, weights=c, minlength=R * L).reshape(R, L)
            diag = np.arange(s.start, s.stop)
            out[:, diag, diag] = out[:, 0, s]
            for g in range(f + 1, len(self.idx)):
                Lg = self.levels[g]
                out[:, s, sl[g + 1]] = np.bincount(self.pairs[f, g], weights=cols[0],
                                                   minlength=R * L * Lg).reshape(R, L, Lg)
        iu = np.triu_indices(self.k, 1)
        out[:, iu[1], iu[0]] = out[:, iu[0], iu[1]]
        return _leave_out(out, self.active)


def _leave_out(M: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Zero the rows and columns of the inactive parameters and put 1 on their diagonal."""
    off = ~active
    if off.any():
        M = M * (active[:, :, None] & active[:, None, :])
        r, j = np.nonzero(off)
        M[r, j, j] = 1.0
    return M


def _chol_ok(A: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Per replicate: ``A`` is positive definite and not near-singular by
    :func:`rtw.models.counts._wls_step`'s rule (smallest Cholesky diagonal > 1e-7 x largest,
    over the active parameters)."""
    good = np.ones(len(A), bool)
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        L = np.zeros_like(A)
        for r in range(len(A)):
            try:
                L[r] = np.linalg.cholesky(A[r])
            except np.linalg.LinAlgError:
                good[r] = False
    d = np.abs(np.diagonal(L, axis1=1, axis2=2))
    big = np.where(active, d, 0.0).max(axis=1)
    small = np.where(active, d, np.inf).min(axis=1)
    return good & np.isfinite(big) & (small > 1e-7 * big)


def _solve(A: np.ndarray, b: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``A^-1 b`` per replicate where ``ok`` (NaN elsewhere)."""
    out = np.full(b.shape, np.nan)
    if ok.any():
        try:
            out[ok] = np.linalg.solve(A[ok], b[ok][..., None])[..., 0]
        except np.linalg.LinAlgError:
            for r in np.flatnonzero(ok):
                try:
                    out[r] = np.linalg.solve(A[r], b[r])
                except np.linalg.LinAlgError:
                    pass
    return out


# --------------------------------------------------------------------------- #
# the counts as weighted rows
# --------------------------------------------------------------------------- #
@dataclass
class CountRows:
    """The counts of R replicates on the rows of a :class:`BatchDesign`.

    A row is one participant (``f`` 1, or 0 when the count is missing) or, collapsed
    (:func:`count_rows` with discrete covariates), one covariate pattern with ``f``
    participants.  Per row: ``f``, ``S`` = sum of the counts, ``S2`` = sum of their
    squares, ``Q`` = sum of ``(y + 0.1) log(y + 0.1)`` (the first IRLS step from
    ``mu = y + 0.1``), ``cluster`` code (or None).  Per replicate: ``ylogy`` = sum of
    ``y log y`` and the value tables, one column per replicate: ``C[v]`` = number of
    counts equal to v, ``N[j]`` = number above j (sums over a table's values run down its
    columns, in order, so that the table's length -- the batch's largest count -- changes
    no digit).
    """
    f: np.ndarray
    S: np.ndarray
    S2: np.ndarray
    Q: np.ndarray
    C: np.ndarray
    N: np.ndarray
    ylogy: np.ndarray
    cluster: np.ndarray | None = None

    def take(self, rows) -> "CountRows":
        return CountRows(self.f[rows], self.S[rows], self.S2[rows], self.Q[rows],
                         self.C[:, rows], self.N[:, rows], self.ylogy[rows],
                         None if self.cluster is None else self.cluster[rows])


def _value_table(y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``C[v, r]`` = analysed counts of replicate r equal to v and ``N[j, r]`` = above j.

    ``sum_i digamma(theta + y_i) - digamma(theta) = sum_j N[j] / (theta + j)`` (the
    recurrence ``digamma(x + 1) = digamma(x) + 1 / x``), and likewise for ``lgamma`` and
    ``trigamma``: the theta terms of the NB likelihood need only reciprocals and logs.
    """
    R = len(y)
    yi = np.where(mask, y, 0).astype(np.int64)
    J = int(yi.max(initial=0))
    C = np.bincount((yi * R + np.arange(R)[:, None])[mask],
                    minlength=R * (J + 1)).reshape(J + 1, R).astype(float)
    N = np.ascontiguousarray(np.cumsum(C[::-1], axis=0)[::-1][1:])
    return C, N


def _pattern_key(dense, factors, levels, cluster, n_clusters):
    """Pattern index of each participant (binary dense columns, factor levels, cluster) and
    the number of patterns, or ``None`` when a dense column is not 0/1."""
    key = np.zeros(dense.shape[0::2], np.int64)
    P = 1
    for j in range(1, dense.shape[1]):
        x = dense[:, j]
        if not np.isin(x, (0.0, 1.0)).all():
            return None
        key += P * x.astype(np.int64)
        P *= 2
    for c, L in zip(factors, levels):
        key += P * c
        P *= L
    if cluster is not None:
        key += P * cluster
        P *= n_clusters
    return key, P


def count_rows(dense, factors, levels, y, mask, cluster=None, n_clusters: int = 0,
               collapse: bool = True) -> tuple[BatchDesign, CountRows]:
    """The design and counts of R replicates of n participants as weighted rows.

    ``dense`` (R, kd, n) with the intercept first, ``factors`` (R, n) level codes,
    ``y`` (R, n) counts (any value where ``mask`` is False), ``cluster`` (R, n) codes
    ``< n_clusters``.  With ``collapse`` and only 0/1 dense columns besides the intercept,
    participants with the same covariates (and cluster) are one row, when that makes
    fewer rows: every sum the fit needs is a sum over rows (the fit is the same; the work
    per iteration no longer grows with n).
    """
    y = _counts(y, mask)
    R, n = mask.shape
    m = mask.astype(float)
    q = np.where(mask, (y + 0.1) * np.log(y + 0.1), 0.0)
    C, N = _value_table(y, mask)
    ylogy = _colsum(C * _xlogx(np.arange(C.shape[0]))[:, None])
    pk = _pattern_key(dense, factors, levels, cluster, n_clusters) if collapse else None
    if pk is None or pk[1] >= n:
        d = BatchDesign(dense, factors, levels, mask)
        return d, CountRows(m, y, y * y, q, C, N, ylogy, cluster)
    key, P = pk
    idx = (np.arange(R)[:, None] * P + key).ravel()

    def rowsum(v):
        return np.bincount(idx, weights=v.ravel(), minlength=R * P).reshape(R, P)
    f = rowsum(m)
    code = np.arange(P)
    cols = [np.ones(P)]
    for _ in range(1, dense.shape[1]):
        cols.append((code % 2).astype(float))
        code = code // 2
    fac = []
    for L in levels:
        fac.append(np.broadcast_to(code % L, (R, P)))
        code = code // L
    cl = None if cluster is None else np.broadcast_to(code, (R, P))
    d = BatchDesign(np.broadcast_to(np.stack(cols)[None], (R, len(cols), P)), fac, levels,
                    f > 0)
    return d, CountRows(f, rowsum(y), rowsum(y * y), rowsum(q), C, N, ylogy, cl)


def _xlogx(v):
    v = np.asarray(v, float)
    return np.where(v > 0, v * np.log(np.where(v > 0, v, 1.0)), 0.0)


def _counts(y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    y = np.where(mask, np.asarray(y, float), 0.0)
    if (y < 0).any() or (np.abs(y - np.round(y)) > 1e-8).any():
        raise ValueError("count outcome must be non-negative integers")
    return np.round(y)


def _colsum(a: np.ndarray) -> np.ndarray:
    """Column sums of a value table, added down each column in order (numpy reduces the
    outer axis of a C-contiguous 2-D array row by row), so that the table's length -- the
    batch's largest count -- changes no digit.  A single column is padded with a zero
    column: numpy would add one contiguous column pairwise."""
    a = np.ascontiguousarray(a)
    if a.shape[1] == 1:
        return np.add.reduce(np.concatenate([a, np.zeros_like(a)], axis=1), axis=0)[:1]
    return np.add.reduce(a, axis=0)


# --------------------------------------------------------------------------- #
# IRLS (glm.fit)
# --------------------------------------------------------------------------- #
def _irls_weights(mu, theta):
    """Working weights ``mu^2 / V(mu)`` of the log link: ``mu`` (Poisson) or
    ``mu / (1 + mu / theta)``."""
    with np.errstate(over="ignore", invalid="ignore"):
        th = theta[:, None]
        return np.where(np.isfinite(th), mu / (1 + mu / th), mu)


def _shrink(mu, theta):
    """``1 / (1 + mu / theta)`` (1 for Poisson): the working weight over ``mu``.  Rows left
    out have ``f = S = 0``, so every row sum below needs no mask."""
    fin = np.isfinite(theta)
    if not fin.any():
        return np.ones_like(mu)
    with np.errstate(over="ignore", invalid="ignore"):
        g = 1.0 / (1.0 + mu / theta[:, None])
    return g if fin.all() else np.where(fin[:, None], g, 1.0)


class _Deviance:
    """Deviance (R,) of a Poisson (all theta inf) or NB(theta) GLM on weighted rows, as
    :func:`rtw.models.counts._deviance`, and its change between two sets of means written
    without the terms that cancel (so that IRLS's relative criterion at 1e-12 is decided on
    the change itself, not on a difference of two large sums)."""

    def __init__(self, rows: CountRows, theta: np.ndarray, mask: np.ndarray):
        nb = np.isfinite(theta)
        if nb.any() and not nb.all():
            raise ValueError("_Deviance: theta all finite or all infinite")
        self.nb = bool(nb.all())
        self.f, self.S, self.mask = rows.f, rows.S, mask
        self.th = theta[:, None]
        v = np.arange(rows.C.shape[0])[:, None]
        self.base = rows.ylogy - (_colsum(rows.C * _xlogx(v + theta)) if self.nb
                                  else rows.S.sum(axis=-1))

    def take(self, keep) -> "_Deviance":
        sub = object.__new__(_Deviance)
        sub.nb = self.nb
        for k in ("f", "S", "mask", "th", "base"):
            setattr(sub, k, getattr(self, k)[keep])
        return sub

    def value(self, eta, mu):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.nb:
                per = (self.S + self.f * self.th) * np.log(mu + self.th) - self.S * eta
            else:
                per = self.f * mu - self.S * eta
            return 2 * (self.base + per.sum(axis=-1))          # rows left out: f = S = 0

    def change(self, eta0, mu0, eta1, mu1):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.nb:
                per = ((self.S + self.f * self.th) * np.log1p((mu1 - mu0) / (mu0 + self.th))
                       - self.S * (eta1 - eta0))
            else:
                per = self.f * (mu1 - mu0) - self.S * (eta1 - eta0)
            return 2 * per.sum(axis=-1)


@dataclass
class IRLSBatch:
    """Result of :func:`irls_batch`: coefficients (R, k), means (R, rows), deviance (R,),
    ``converged`` and ``trouble`` per replicate (non-finite deviance or near-singular X'WX,
    where the single fit would halve steps or take a minimum-norm solve, or a convergence
    decision within rounding of the criterion)."""
    coef: np.ndarray
    mu: np.ndarray
    deviance: np.ndarray
    converged: np.ndarray
    trouble: np.ndarray


def _near(c: np.ndarray, band: float) -> np.ndarray:
    """A criterion ``c`` (value / threshold) within ``band`` of 1: the single fit, whose
    sums are added in another order, could decide the other way."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(c - 1.0) < band


def _first_step(d, rows, theta, start_eta):
    """X'WX and X'W z of the first IRLS step (beta = 0): from ``mu = y + 0.1`` per
    participant (``poisson()$initialize``; Poisson only) or from ``start_eta``; and the
    deviance there."""
    if start_eta is None:
        if np.isfinite(theta).any():
            raise ValueError("irls_batch: a start is needed for NB(theta)")
        A = d.xtwx(rows.S + 0.1 * rows.f)
        b = d.xtv(rows.Q - 0.1 * rows.f)
        v = np.arange(rows.C.shape[0])[:, None]
        dev0 = 2 * _colsum(rows.C * (_xlogx(v) - v * np.log(v + 0.1) + 0.1))
        return A, b, None, None, dev0
    eta = np.array(start_eta, float)
    mu = np.exp(eta)
    g = _shrink(mu, theta)
    w = rows.f * mu * g
    return d.xtwx(w), d.xtv(w * eta + (rows.S - rows.f * mu) * g), eta, mu, None


def irls_batch(d: BatchDesign, rows: CountRows, theta: np.ndarray, start_eta=None,
               tol: float = 1e-12, maxit: int = 100) -> IRLSBatch:
    """IRLS of a log-link Poisson (``theta`` inf) or NB(theta) GLM per replicate, as
    :func:`rtw.models.counts.irls` (= R ``glm.fit``) does it for one data set.

    Start ``mu = y + 0.1`` (``poisson()$initialize``) unless ``start_eta`` (R, rows);
    increments ``(X'WX)^-1 X'W (z - X beta)``; converged when
    ``|dev - dev_old| / (|dev| + 0.1) < tol``.  Replicates leave the working set when
    converged or in trouble.
    """
    R = d.R
    out = IRLSBatch(np.zeros((R, d.k)), np.empty((R, d.n)), np.empty(R), np.zeros(R, bool),
                    np.zeros(R, bool))
    devf = _Deviance(rows, theta, d.mask)
    A, b, eta, mu, dev0 = _first_step(d, rows, theta, start_eta)
    dev = devf.value(eta, mu) if dev0 is None else dev0
    work, sub, rw, th, beta = np.arange(R), d, rows, theta, np.zeros((R, d.k))
    for it in range(maxit):
        if it:
            g = _shrink(mu, th)
            A = sub.xtwx(rw.f * mu * g)
            b = sub.xtv((rw.S - rw.f * mu) * g)                     # eta = X beta here
        ok = _chol_ok(A, sub.active)
        beta = beta + _solve(A, b, ok)
        eta1 = sub.eta(beta)
        mu1 = np.exp(np.clip(eta1, -700, 700))
        dv = devf.value(eta1, mu1)
        change = dv - dev if eta is None else devf.change(eta, mu, eta1, mu1)
        c = np.abs(change) / (np.abs(dv) + 0.1) / tol
        bad = ~ok | ~np.isfinite(dv) | _near(c, IRLS_BAND) | ((eta is None) & (c < 10))
        done = c < 1
        eta, mu = eta1, mu1
        out.converged[work], out.trouble[work] = done & ~bad, bad
        out.coef[work], out.mu[work], out.deviance[work] = beta, mu, dv
        keep = ~(done | bad)
        if not keep.any():
            break
        if not keep.all():
            work, sub, rw, devf = work[keep], sub.take(keep), rw.take(keep), devf.take(keep)
            th, beta, eta, mu, dv = th[keep], beta[keep], eta[keep], mu[keep], dv[keep]
        dev = dv
    return out


# --------------------------------------------------------------------------- #
# theta.ml over a batch
# --------------------------------------------------------------------------- #
def _theta_sums(N: np.ndarray, theta: np.ndarray):
    """``sum_j N[j] / (theta + j)`` and ``sum_j N[j] / (theta + j)^2`` per replicate."""
    t = theta + np.arange(N.shape[0])[:, None]
    inv = N / t
    return _colsum(inv), _colsum(inv / t)


def theta_score(rows: CountRows, mu, mask, theta, info: bool = False):
    """d loglik / d theta per replicate (``MASS::theta.ml``'s score, written without its
    cancellations: ``sum_j N_j/(theta+j) - sum_i log1p(mu_i/theta) + (mu_i - y_i)/(mu_i + theta)``)
    and, with ``info``, minus its derivative (theta.ml's information)."""
    th = theta[:, None]
    T1, T2 = _theta_sums(rows.N, theta)
    f, S = rows.f, rows.S
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a = mu + th
        sc = T1 + ((f * mu - S) / a - f * np.log1p(mu / th)).sum(axis=-1)
        if not info:
            return sc
        inf = T2 + (f * (2 / a - 1 / th) - (S + f * th) / (a * a)).sum(axis=-1)
    return sc, inf


def nb_loglik(rows: CountRows, mu, mask, theta) -> np.ndarray:
    """NB log-likelihood per replicate (``logLik(glm.nb)``, as
    :func:`rtw.models.counts._nb_loglik`), written without large cancelling sums:
    ``sum_j N_j log((theta + j)/(1 + j)) - sum_i theta log1p(mu_i/theta) + y_i log1p(theta/mu_i)``."""
    N = rows.N
    j = np.arange(N.shape[0])[:, None]
    T = _colsum(N * np.log((theta + j) / (1.0 + j)))
    th = theta[:, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        per = -rows.f * th * np.log1p(mu / th) - np.where(rows.S > 0,
                                                           rows.S * np.log1p(th / mu), 0.0)
    return T + per.sum(axis=-1)


class _Working:
    """The counts, means and rows of the replicates still iterating (``work``), taken
    again only when some leave."""

    def __init__(self, rows: CountRows, mu, mask):
        self.work = np.arange(len(mu))
        self.rows, self.mu, self.mask = rows, mu, mask

    def score(self, theta):
        return theta_score(self.rows, self.mu, self.mask, theta, info=True)

    def keep(self, keep: np.ndarray) -> bool:
        """Keep the replicates ``keep`` (bool over ``work``); False when none is left."""
        if not keep.all():
            self.work = self.work[keep]
            self.rows, self.mu, self.mask = self.rows.take(keep), self.mu[keep], self.mask[keep]
        return bool(len(self.work))


def _theta_newton(rows, mu, mask, start):
    """:func:`rtw.models.counts.theta_ml`'s Newton iterations on log theta from a warm
    start (steps clipped to +-2, settled when a step is < 1e-13, at most 30).  Returns
    ``(theta, settled)``; unsettled replicates go to the bracketing search."""
    lt = np.log(start)
    settled = np.zeros(len(lt), bool)
    w = _Working(rows, mu, mask)
    for _ in range(30):
        th = np.exp(lt[w.work])
        sc, info = w.score(th)
        bad = ~np.isfinite(info) | (info <= 0) | ~np.isfinite(sc)
        step = np.clip(np.where(bad, 0.0, sc / (info * th)), -2.0, 2.0)
        lt[w.work] += step
        fin = ~bad & (np.abs(step) < 1e-13)
        settled[w.work[fin]] = True
        if not w.keep(~(fin | bad)):
            break
    return np.exp(lt), settled


def _theta_root(rows, mu, mask, lo: float, hi: float):
    """The root of the theta score in ``[lo, hi]`` (log theta; score > 0 at lo, < 0 at hi),
    by Newton steps kept inside a shrinking bracket (bisection when a step leaves it), to
    the precision of ``theta_ml``'s ``brentq`` (1e-14 on log theta), from theta.ml's
    moment estimate ``n / sum (y / mu - 1)^2``."""
    R = len(mu)
    a, b = np.full(R, lo), np.full(R, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(mask, rows.f, 0).sum(axis=-1)
        ss = np.where(mask, rows.S2 / mu ** 2 - 2 * rows.S / mu + rows.f, 0.0).sum(axis=-1)
        lt = np.clip(np.log(np.nan_to_num(n / ss, nan=1.0, posinf=1.0)), lo + 1, hi - 1)
    w = _Working(rows, mu, mask)
    for _ in range(200):
        wk = w.work
        th = np.exp(lt[wk])
        sc, info = w.score(th)
        pos = sc > 0
        a[wk] = np.where(pos, lt[wk], a[wk])
        b[wk] = np.where(pos, b[wk], lt[wk])
        with np.errstate(divide="ignore", invalid="ignore"):
            new = lt[wk] + sc / (info * th)
        out = ~np.isfinite(new) | (new <= a[wk]) | (new >= b[wk])
        new = np.where(out, (a[wk] + b[wk]) / 2, new)
        step = np.abs(new - lt[wk])
        lt[wk] = new
        fin = (~out & (step < 1e-12)) | (b[wk] - a[wk] < 1e-14)
        if not w.keep(~fin):
            break
    return np.exp(lt)


def theta_ml_batch(rows: CountRows, mu, mask, start=None, theta_max: float = THETA_MAX):
    """:func:`rtw.models.counts.theta_ml` (= ``MASS::theta.ml``) per replicate.

    With a warm ``start`` in (1e-6, theta_max / 10): its Newton iterations; otherwise (or
    unsettled) the bracketing search on [1e-8, theta_max]: boundary ``theta_max`` when the
    score is still positive there, ``1e-8`` when negative there, else the root.  Returns
    ``(theta, boundary, single)``; ``single`` marks a boundary sign within rounding of 0.
    """
    R = len(mu)
    theta = np.full(R, np.nan)
    boundary, single, bracket = np.zeros(R, bool), np.zeros(R, bool), np.ones(R, bool)
    if start is not None:
        warm = np.flatnonzero(np.isfinite(start) & (start > 1e-6) & (start < theta_max / 10))
        if len(warm):
            t, settled = _theta_newton(rows.take(warm), mu[warm], mask[warm], start[warm])
            theta[warm[settled]] = t[settled]
            bracket[warm[settled]] = False
    br = np.flatnonzero(bracket)
    if not len(br):
        return theta, boundary, single
    rb, mb, kb = rows.take(br), mu[br], mask[br]
    tol = SCORE_TOL * np.where(kb, rb.f, 0).sum(axis=-1)
    f_hi = theta_score(rb, mb, kb, np.full(len(br), theta_max))
    f_lo = theta_score(rb, mb, kb, np.full(len(br), 1e-8))
    hi, lo = f_hi > tol, (f_hi < -tol) & (f_lo < -tol)
    theta[br[hi]], theta[br[lo]] = theta_max, 1e-8
    boundary[br[hi | lo]] = True
    single[br] = (np.abs(f_hi) <= tol) | ~np.isfinite(f_hi) | (~hi & (np.abs(f_lo) <= tol))
    root = np.flatnonzero(~hi & ~lo & ~single[br])
    if len(root):
        r = br[root]
        theta[r] = _theta_root(rows.take(r), mu[r], mask[r], math.log(1e-8),
                               math.log(theta_max))
    return theta, boundary, single


# --------------------------------------------------------------------------- #
# glm.nb over a batch
# --------------------------------------------------------------------------- #
@dataclass
class NBBatch:
    """Result of :func:`fit_nb_batch` (one row per replicate).

    ``coef`` (R, k), ``mu`` (R, rows) and ``theta`` (inf at the boundary) of the NB fit;
    ``boundary``: theta -> infinity, the fit is the Poisson fit (``poisson_coef``,
    ``poisson_mu``, kept for the ``poisson_robust`` fallback); ``single``: left to the
    single fit (:func:`rtw.models.counts.fit_nb`), values NaN.
    """
    coef: np.ndarray
    mu: np.ndarray
    theta: np.ndarray
    boundary: np.ndarray
    single: np.ndarray
    poisson_coef: np.ndarray
    poisson_mu: np.ndarray


def _no_events(d: BatchDesign, rows: CountRows) -> np.ndarray:
    """Replicates whose MLE does not exist because a group has no events: all counts 0, or
    0 in one level of a 0/1 dense column or of a factor (its coefficient diverges)."""
    m = d.mask
    S = np.where(m, rows.S, 0.0)
    bad = S.sum(axis=-1) == 0
    for j in range(1, d.kd):
        x = d.dense[:, j]
        if not np.isin(x[m], (0.0, 1.0)).all():
            continue
        for sel in (x == 1, x == 0):
            bad |= ((m & sel).sum(axis=-1) > 0) & (np.where(sel, S, 0).sum(axis=-1) == 0)
    for i, L in zip(d.idx, d.levels):
        n_in = np.bincount(i, weights=m.ravel(), minlength=d.R * L).reshape(d.R, L)
        s = np.bincount(i, weights=S.ravel(), minlength=d.R * L).reshape(d.R, L)
        bad |= ((n_in > 0) & (s == 0)).any(axis=1)
    return bad


def _alternate(d, rows, mu, theta, ll, maxit: int = 100):
    """glm.nb's alternation as :func:`rtw.models.counts.fit_nb`: IRLS at the current theta
    from the current means, then ``theta.ml`` from the current theta, until the
    log-likelihood changes by <= 1e-12 relative and theta by <= 1e-10 relative, or theta
    reaches the boundary.  ``mu``, ``theta`` and ``ll`` are updated in place; returns the
    per-replicate status: 1 converged, 2 boundary, 3 single (a decision within rounding of
    a criterion, or trouble), 0 not converged."""
    status = np.zeros(d.R, np.int8)
    work, sub, rw = np.arange(d.R), d, rows
    for _ in range(maxit):
        fit = irls_batch(sub, rw, theta[work], start_eta=np.log(mu[work]))
        t_old, l_old = theta[work], ll[work]
        t, bnd, single = theta_ml_batch(rw, fit.mu, sub.mask, start=t_old)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            ll_new = nb_loglik(rw, fit.mu, sub.mask, t)
            c1 = np.abs(ll_new - l_old) / (1e-12 * (np.abs(ll_new) + 0.1))
            c2 = np.abs(t - t_old) / (1e-10 * t)
        mu[work], theta[work], ll[work] = fit.mu, t, ll_new
        sure_yes = (c1 < 1 - LL_BAND) & (c2 < 1 - THETA_BAND)
        sure_no = (c1 > 1 + LL_BAND) | (c2 > 1 + THETA_BAND)
        single |= fit.trouble | ~fit.converged | ~np.isfinite(ll_new)
        single |= ~bnd & ~(sure_yes | sure_no)
        st = np.select([single, bnd, sure_yes], [3, 2, 1], 0)
        status[work] = st
        keep = st == 0
        if not keep.any():
            break
        if not keep.all():
            work, sub, rw = work[keep], sub.take(keep), rw.take(keep)
    return status


def fit_nb_batch(d: BatchDesign, rows: CountRows) -> NBBatch:
    """``MASS::glm.nb`` (log link, theta by ML) of each replicate, step for step as
    :func:`rtw.models.counts.fit_nb` fits one data set.

    A Poisson IRLS gives the starting means; ``theta.ml`` on them (boundary: theta ->
    infinity); then the alternation (:func:`_alternate`); at the boundary the fit is the
    Poisson fit, otherwise a last IRLS at the final theta from the last means.

    Parameters
    ----------
    d, rows : the design and counts (:func:`count_rows`).

    Returns
    -------
    NBBatch
    """
    R = d.R
    pois = irls_batch(d, rows, np.full(R, np.inf))
    single = _no_events(d, rows) | ~pois.converged | pois.trouble
    theta, _, s0 = theta_ml_batch(rows, pois.mu, d.mask)
    single |= s0
    mu = pois.mu.copy()
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ll = nb_loglik(rows, mu, d.mask, theta)
    go = np.flatnonzero(~single)
    status = np.full(R, 3, np.int8)
    if len(go):
        m_r, t_r, l_r = mu[go], theta[go], ll[go]
        status[go] = _alternate(d.take(go), rows.take(go), m_r, t_r, l_r)
        mu[go], theta[go] = m_r, t_r
    boundary = status == 2
    coef, theta = pois.coef.copy(), np.where(boundary, np.inf, theta)
    mu = np.where(boundary[:, None], pois.mu, mu)
    go = np.flatnonzero(status == 1)
    if len(go):
        last = irls_batch(d.take(go), rows.take(go), theta[go], start_eta=np.log(mu[go]))
        coef[go], mu[go] = last.coef, last.mu
        status[go[last.trouble | ~last.converged]] = 3
    single = (status == 3) | (status == 0)
    for a in (coef, mu, theta):
        a[single] = np.nan
    return NBBatch(coef, mu, theta, boundary & ~single, single, pois.coef, pois.mu)


def wald_batch(d: BatchDesign, rows: CountRows, coef, mu, theta, j: int,
               vcov: str = "model") -> dict:
    """Wald estimate, SE and two-sided p of coefficient ``j`` per replicate.

    ``vcov``: ``"model"`` (``vcov(fit)``: the inverse Fisher information X'WX,
    dispersion 1), ``"HC0"`` (``sandwich::vcovHC(fit, type = "HC0")``) or ``"cluster"``
    (``sandwich::vcovCL(fit, cluster = ~cluster)``: HC0 with G/(G-1), G the clusters
    among the analysed rows; the rows' ``cluster`` codes).  ``theta`` inf: Poisson.
    Returns ``{"estimate", "std_error", "p_value"}`` arrays (NaN where ``coef`` is NaN).
    """
    ok = np.isfinite(coef[:, j])
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        w1 = np.where(d.mask, _irls_weights(mu, theta), 0.0)       # per participant
        A = d.xtwx(np.nan_to_num(rows.f * w1))
        e = np.zeros((d.R, d.k))
        e[:, j] = 1.0
        b = _solve(A, e, ok)
        var = b[:, j]
        if vcov != "model":
            xb = d.eta(np.nan_to_num(b)) * w1 / mu
            if vcov == "HC0":
                ss = rows.S2 - 2 * mu * rows.S + rows.f * mu ** 2     # sum (y - mu)^2
                var = np.where(d.mask, xb * xb * ss, 0.0).sum(axis=-1)
            elif vcov == "cluster":
                u = np.where(d.mask, xb * (rows.S - rows.f * mu), 0.0)
                var = _cluster_var(u, rows.cluster, d.mask)
            else:
                raise ValueError("vcov must be model, HC0 or cluster")
        var = np.where(ok, var, np.nan)
        est = coef[:, j]
        se = np.sqrt(var)
        p = p_two_sided(est / se)
    return {"estimate": est, "std_error": se, "p_value": p}


def _cluster_var(u: np.ndarray, codes: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``adj * sum_g (sum_{i in g} u_i)^2`` per replicate, adj = G/(G-1) (G > 1) with G the
    clusters among the analysed rows (vcovCL's ``cadjust``)."""
    R = len(u)
    codes = np.asarray(codes, np.int64)
    G = int(codes.max(initial=0)) + 1
    idx = (np.arange(R)[:, None] * G + codes).ravel()
    S = np.bincount(idx, weights=u.ravel(), minlength=R * G).reshape(R, G)
    present = np.bincount(idx, weights=mask.ravel(), minlength=R * G).reshape(R, G) > 0
    g = present.sum(axis=1).astype(float)
    adj = np.where(g > 1, g / np.maximum(g - 1, 1), 1.0)
    return adj * (S * S).sum(axis=1)
