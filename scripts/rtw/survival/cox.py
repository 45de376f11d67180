"""A vectorised Cox proportional-hazards engine matching R's ``survival::coxph`` (3.5-3).

Design (scales to 10^6 rows; no per-row Python loops, no per-stratum groupby):

* sort once by (stratum, time); collapse rows to *blocks* of tied (stratum, time);
  per-block sums of ``r = exp(x'b)``, ``r x`` and ``r x x'`` by ``np.add.reduceat``;
  risk-set sums by a reverse cumulative sum within strata (segments);
* ties: Breslow, or Efron through per-death scalars
  ``den_k = S0 - (k/d) S0_dead`` (k = 0..d-1) reduced per block, so that the
  score and information need only the block sums;
* (start, stop] data (delayed entry, recurrent events; ``fit_cox(..., start=)``, R's
  ``agreg.fit``): the same sort by stop time; a row is at risk at t when
  start < t <= stop, so each death block's risk-set sums are the reverse cumulative
  sums over stop times minus the sums over the rows of its stratum not yet entered
  (start >= t), found per row by one ``searchsorted`` (its last death block at or
  before its entry) and gathered by ``bincount`` + a reverse cumulative sum over
  death blocks -- no n x n object; the score residuals (``agscore3``) subtract the
  hazard accrued before entry the same way;
* Newton–Raphson with step-halving exactly as coxph's ``coxfit6`` (``agfit4`` for
  (start, stop] data: the step after h failed tries is 1/(h+1)): start at 0,
  stop when ``|1 - loglik_old / loglik_new| <= eps`` (1e-9), ``iter.max`` = 20;
* cluster-robust variance = coxph ``cluster()``: grouped dfbeta residuals
  ``D = rowsum(score_resid %*% V, cluster)``, ``V_robust = D'D`` (survival's
  ``coxscore2`` score residuals, Efron or Breslow);
* likelihood-ratio, Wald (robust when clustered, as ``summary.coxph``) and score tests,
  and with clusters coxph's robust score test (``fit$rscore``: score residuals at the
  initial coefficients summed by cluster);
* :func:`cox_zph` = ``cox.zph(fit, transform = "km")`` of survival 3.x (the score test
  of ``beta(t) = beta + theta g(t)``, per term and global, and the scaled
  Schoenfeld residuals).

``fit_cox`` is the one entry point; a faster engine can replace it behind the
same signature and :class:`CoxResult`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from rtw.survival.km import kaplan_meier
from rtw.core.stats import p_two_sided


def _segments_next(blk_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For blocks ordered by stratum: index of the first block of each block's stratum
    and of the next stratum."""
    nb = blk_key.size
    change = np.flatnonzero(blk_key[1:] != blk_key[:-1]) + 1
    firsts = np.r_[0, change]
    nexts = np.r_[change, nb]
    seg = np.searchsorted(firsts, np.arange(nb), side="right") - 1
    return firsts[seg], nexts[seg]


class _CoxData:
    """Sorted, centred data and the block structure (computed once per fit)."""

    def __init__(self, time, event, X, strata, ties, start=None):
        n, p = X.shape
        if strata is None:
            scode = np.zeros(n, dtype=np.int64)
            self.strata_levels = None
        else:
            scode, levels = pd.factorize(np.asarray(strata), sort=True)
            if (scode < 0).any():
                raise ValueError("fit_cox: missing strata values")
            self.strata_levels = list(levels)
        order = np.lexsort((time, scode))
        self.order = order
        self.n, self.p = n, p
        self.time = time[order]
        self.event = event[order]
        self.scode = scode[order]
        self.xmean = X.mean(axis=0)
        self.X = X[order] - self.xmean
        t, s = self.time, self.scode
        newblk = np.ones(n, bool)
        newblk[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
        self.starts = np.flatnonzero(newblk)
        self.blk = np.cumsum(newblk) - 1
        nb = self.starts.size
        self.nb = nb
        self.blk_s = s[self.starts]
        self.first, self.nxt = _segments_next(self.blk_s)
        d = self.event
        dcount = np.add.reduceat(d, self.starts)
        self.E = np.flatnonzero(dcount > 0)           # death blocks
        self.dE = dcount[self.E]
        self.nevent = int(d.sum())
        ev = np.flatnonzero(d > 0)
        self.ev = ev
        evblk = self.blk[ev]
        self.ev_starts = np.r_[0, np.flatnonzero(evblk[1:] != evblk[:-1]) + 1] if ev.size else ev
        self.sum_x_dead = (np.add.reduceat(self.X[ev], self.ev_starts, axis=0)
                           if ev.size else np.zeros((0, p)))
        self.sum_x_dead_total = self.sum_x_dead.sum(axis=0)
        self.efron = ties == "efron" and bool((self.dE > 1).any())
        if self.efron:
            dE = self.dE.astype(np.int64)
            D = int(dE.sum())
            self.d_bi = np.repeat(np.arange(dE.size), dE)
            cstart = np.r_[0, np.cumsum(dE)[:-1]]
            k = np.arange(D) - np.repeat(cstart, dE)
            self.d_f = k / np.repeat(dE.astype(float), dE)
            self.d_starts = cstart
        self.pairs = [(a, b) for a in range(p) for b in range(a, p)]
        self.cp = start is not None
        if self.cp:
            self._setup_entry(np.asarray(start, float)[order])

    def _setup_entry(self, start):
        """(start, stop] data: for each row, the last death block of its stratum at or
        before its entry time (it is not at risk there and at the earlier ones).

        Exact integer keys (stratum, rank of the time among the death times) so that
        one ``searchsorted`` serves all strata; a row whose entry precedes every death
        time of its stratum is at risk throughout and needs no correction."""
        E = self.E
        tE = self.time[self.starts[E]]
        sE = self.blk_s[E].astype(np.int64)
        U = np.unique(tE)
        base = np.int64(U.size + 1)
        dkey = sE * base + np.searchsorted(U, tE, side="right")
        rkey = self.scode.astype(np.int64) * base + np.searchsorted(U, start, side="right")
        g = np.searchsorted(dkey, rkey, side="right")
        del rkey
        own = g - np.searchsorted(sE, self.scode, side="left")
        idx = np.int32 if self.n < 2 ** 31 - 1 else np.int64      # halve the index memory
        self.entry_rows = np.flatnonzero(own > 0).astype(idx)
        del own
        self.entry_blk = (g[self.entry_rows] - 1).astype(idx)    # index into the death blocks
        self.E_next = _segments_next(sE)[1]

    def entered(self, w):
        """Per death block: the sums of ``w`` over the rows of its stratum whose entry
        time is at or after it (reverse cumulative sums over death blocks)."""
        rows, blk = self.entry_rows, self.entry_blk
        nE = self.E.size
        if w.ndim == 1:
            W = np.bincount(blk, weights=w[rows], minlength=nE)
        else:
            W = np.column_stack([np.bincount(blk, weights=w[rows, j], minlength=nE)
                                 for j in range(w.shape[1])])
        rc = np.cumsum(W[::-1], axis=0)[::-1]
        ext = np.concatenate([rc, np.zeros((1,) + rc.shape[1:])])
        return rc - ext[self.E_next]

    def revcum(self, A):
        """Risk-set sums: reverse cumulative sum over blocks within strata."""
        rc = np.cumsum(A[::-1], axis=0)[::-1]
        ext = np.concatenate([rc, np.zeros((1,) + rc.shape[1:])])
        return rc - ext[self.nxt]

    def cumblk(self, A):
        """Cumulative sum over blocks within strata (inclusive)."""
        cs = np.concatenate([np.zeros((1,) + A.shape[1:]), np.cumsum(A, axis=0)])
        return cs[1:] - cs[self.first]

    def _sym(self, vec_pairs, m):
        p = self.p
        out = np.empty((m, p, p))
        for j, (a, b) in enumerate(self.pairs):
            out[:, a, b] = vec_pairs[:, j]
            out[:, b, a] = vec_pairs[:, j]
        return out

    def risk_sums(self, R, w):
        """Risk-set sums at the death blocks from per-block sums ``R`` (of the per-row
        values ``w``): reverse cumulative sums over stop times within strata, minus,
        for (start, stop] data, the rows not yet entered (start >= the death time)."""
        S = self.revcum(R)[self.E]
        if self.cp:
            S = S - self.entered(w)
        return S

    def _tie_terms(self, r, rX, S0):
        """Per death block: Breslow/Efron scalars ``a, c, e0, e1, e2``, the dead rows'
        sums ``D0, D1`` (Efron) and the ``sum log(denominator)`` before the shift."""
        ev, evs = self.ev, self.ev_starts
        dE = self.dE.astype(float)
        if self.efron:
            D0 = np.add.reduceat(r[ev], evs)
            D1 = np.add.reduceat(rX[ev], evs, axis=0)
            bi, f = self.d_bi, self.d_f
            den = S0[bi] - f * D0[bi]
            inv = 1.0 / den
            ds = self.d_starts
            a = np.add.reduceat(inv, ds)
            c = np.add.reduceat(f * inv, ds)
            inv2 = inv * inv
            e0 = np.add.reduceat(inv2, ds)
            e1 = np.add.reduceat(f * inv2, ds)
            e2 = np.add.reduceat(f * f * inv2, ds)
            logsum = float(np.log(den).sum())
            return dict(D0=D0, D1=D1, a=a, c=c, e0=e0, e1=e1, e2=e2), logsum
        a = dE / S0
        e0 = dE / (S0 * S0)
        logsum = float((dE * np.log(S0)).sum())
        return dict(D0=None, D1=None, a=a, c=None, e0=e0, e1=None, e2=None), logsum

    def _information(self, X, rX, S1, t):
        """The information matrix at the death blocks (Efron or Breslow) and the
        risk-set sums of ``r x x'`` (pairs) ``S2`` and the dead rows' ``D2``."""
        starts, ev, evs = self.starts, self.ev, self.ev_starts
        a, c, e0, e1, e2, D1 = t["a"], t["c"], t["e0"], t["e1"], t["e2"], t["D1"]
        R2 = np.empty((self.nb, len(self.pairs)))
        for j, (ia, ib) in enumerate(self.pairs):
            R2[:, j] = np.add.reduceat(rX[:, ia] * X[:, ib], starts)
        S2 = self.risk_sums(R2, None if not self.cp else self._pair_products(rX, X))
        D2 = None
        if self.efron:
            D2 = np.empty((self.E.size, len(self.pairs)))
            Xe, rXe = X[ev], rX[ev]
            for j, (ia, ib) in enumerate(self.pairs):
                D2[:, j] = np.add.reduceat(rXe[:, ia] * Xe[:, ib], evs)
            I2 = S2.T @ a - D2.T @ c
        else:
            I2 = S2.T @ a
        I = self._sym(I2[None, :], 1)[0]
        I -= (S1 * e0[:, None]).T @ S1
        if self.efron:
            t1 = (S1 * e1[:, None]).T @ D1
            I += t1 + t1.T
            I -= (D1 * e2[:, None]).T @ D1
        return I, S2, D2

    def _pair_products(self, rX, X):
        """Per row ``r x_a x_b`` for each column pair (only for the entry sums)."""
        return np.column_stack([rX[:, ia] * X[:, ib] for ia, ib in self.pairs])

    def evaluate(self, beta, info=True, keep=False):
        """Log partial likelihood, score and information at ``beta`` (Efron or Breslow),
        with the risk-set and tie arrays when ``keep``."""
        X, starts = self.X, self.starts
        eta = X @ beta
        shift = float(eta.max()) if eta.size and eta.max() > 300 else 0.0
        r = np.exp(eta - shift)
        rX = X * r[:, None]
        R0 = np.add.reduceat(r, starts)
        R1 = np.add.reduceat(rX, starts, axis=0)
        S0 = self.risk_sums(R0, r)
        S1 = self.risk_sums(R1, rX)
        loglik_lin = float(eta[self.ev].sum()) - shift * self.nevent
        t, logsum = self._tie_terms(r, rX, S0)
        loglik = loglik_lin - (logsum + shift * self.nevent)
        msum = S1 * t["a"][:, None]
        if self.efron:
            msum = msum - t["D1"] * t["c"][:, None]
        U = self.sum_x_dead_total - msum.sum(axis=0)
        out = {"loglik": loglik, "U": U}
        if info or keep:
            I, S2, D2 = self._information(X, rX, S1, t)
            out["I"] = I
            if keep:
                out.update(dict(eta=eta - shift, r=r, S0=S0, S1=S1, S2=S2, D2=D2, **t))
        return out

    def score_residuals(self, ev_out):
        """Score residuals per row (sorted order), as survival's ``coxscore2``."""
        p, nb, E = self.p, self.nb, self.E
        S1, a, e0 = ev_out["S1"], ev_out["a"], ev_out["e0"]
        dE = self.dE.astype(float)
        A = np.zeros(nb)
        B = np.zeros((nb, p))
        corrA = np.zeros(nb)
        corrB = np.zeros((nb, p))
        C = np.zeros((nb, p))
        A[E] = a
        if self.efron:
            D1, c, e1, e2 = ev_out["D1"], ev_out["c"], ev_out["e1"], ev_out["e2"]
            B[E] = S1 * e0[:, None] - D1 * e1[:, None]
            corrA[E] = c
            corrB[E] = S1 * e1[:, None] - D1 * e2[:, None]
            C[E] = (S1 * a[:, None] - D1 * c[:, None]) / dE[:, None]
        else:
            B[E] = S1 * e0[:, None]
            C[E] = S1 * a[:, None] / dE[:, None]
        cumA = self.cumblk(A)
        cumB = self.cumblk(B)
        b = self.blk
        d = self.event.astype(float)[:, None]
        r = ev_out["r"][:, None]
        X = self.X
        res = d * (X - C[b]) - r * (X * cumA[b][:, None] - cumB[b])
        if self.efron:
            res += d * r * (X * corrA[b][:, None] - corrB[b])
        if self.cp:
            # hazard accrued before entry: death blocks up to the row's entry block
            rows = self.entry_rows
            eb = self.E[self.entry_blk]
            res[rows] += r[rows] * (X[rows] * cumA[eb][:, None] - cumB[eb])
        return res


@dataclass
class CoxResult:
    """A fitted Cox model (what ``summary(coxph(...))`` shows).

    ``var`` is the robust (sandwich) variance when ``cluster`` was given, with the
    model-based one in ``naive_var`` (as coxph).  Tests are tuples
    ``(statistic, df, p)``; ``wald_test`` uses ``var``; ``robust_score_test`` is
    coxph's ``rscore`` (clustered fits only).
    """

    coef: np.ndarray
    var: np.ndarray
    names: list
    loglik: tuple
    lr_test: tuple
    wald_test: tuple
    score_test: tuple
    n: int
    nevent: int
    iter: int
    converged: bool
    ties: str
    naive_var: np.ndarray | None = None
    n_clusters: int | None = None
    terms: dict = field(default_factory=dict)
    infinite: np.ndarray | None = None
    robust_score_test: tuple | None = None
    _data: object = field(default=None, repr=False)
    _final: dict = field(default=None, repr=False)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.var))

    @property
    def robust(self) -> bool:
        return self.naive_var is not None

    def hazard_ratio(self, name: str) -> float:
        return float(np.exp(self.coef[self.names.index(name)]))

    def table(self) -> pd.DataFrame:
        """``summary(coxph)$coefficients`` as a DataFrame (coef, exp(coef), se, z, p)."""
        se = self.se
        z = self.coef / se
        df = pd.DataFrame({"term": self.names, "coef": self.coef, "hr": np.exp(self.coef),
                           "se": se, "z": z, "p": p_two_sided(z)})
        if self.robust:
            df.insert(3, "naive_se", np.sqrt(np.diag(self.naive_var)))
        return df


def _chi(stat, df):
    return (float(stat), int(df), float(stats.chi2.sf(stat, df)))


def _cox_arrays(time, event, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``time``, ``event`` and ``X`` as float arrays (``X`` as a column matrix when 1-d),
    checked for equal lengths and missing values."""
    time = np.asarray(time, float)
    event = np.asarray(event).astype(float)
    X = np.asarray(X, float)
    if X.ndim == 1:
        X = X[:, None]
    n = X.shape[0]
    if not (time.size == event.size == n):
        raise ValueError("fit_cox: time, event and X lengths differ")
    if np.isnan(time).any() or np.isnan(X).any():
        raise ValueError("fit_cox: missing values (drop incomplete rows first)")
    return time, event, X


def _first_step(ev0: dict) -> tuple[np.ndarray, float]:
    """The first Newton step from the initial ``evaluate`` output and the score test
    statistic ``U' I^-1 U`` (least squares when the information is singular)."""
    try:
        step = np.linalg.solve(ev0["I"], ev0["U"])
        score = float(ev0["U"] @ step)
    except np.linalg.LinAlgError:
        step = np.linalg.lstsq(ev0["I"], ev0["U"], rcond=None)[0]
        score = float(ev0["U"] @ step)
    return step, score


def _newton_raphson(cd: _CoxData, beta: np.ndarray, eps: float, max_iter: int,
                    on_init=None):
    """Newton-Raphson with step-halving as coxph's ``coxfit6`` (right-censored data:
    halve the last step) or ``agfit4`` ((start, stop] data: after h failed tries the
    step is 1/(h+1) of the previous try's), from ``beta``.

    ``on_init(ev0)``, when given, is called on the full ``evaluate(keep=True)`` output at
    the initial ``beta`` (whose per-row arrays are dropped afterwards, to keep them out of
    the later peaks).

    Returns
    -------
    tuple
        ``(beta, final, ll0, score, iterations, converged, init_value)``: the fitted
        coefficients, the ``evaluate(beta, keep=True)`` output at them, the initial log
        partial likelihood, the score test statistic at the initial ``beta`` and what
        ``on_init`` returned (None without it).
    """
    ev0 = cd.evaluate(beta, keep=on_init is not None)
    init_value = None
    if on_init is not None:
        init_value = on_init(ev0)
        ev0 = {k: ev0[k] for k in ("loglik", "U", "I")}
    ll0 = ev0["loglik"]
    step, score = _first_step(ev0)
    ll_old = ll0
    newbeta = beta + step
    halving = 0
    converged = False
    it = 0
    cur = ev0
    for it in range(1, max_iter + 1):
        cur = cd.evaluate(newbeta, keep=True)
        ll = cur["loglik"]
        if not halving and abs(1 - ll_old / ll) <= eps:
            converged = True
            break
        if it == max_iter:
            break
        if ll < ll_old:
            halving += 1
            newbeta = ((beta * halving + newbeta) / (halving + 1.0) if cd.cp
                       else (newbeta + beta) / 2)
        else:
            halving = 0
            ll_old = ll
            beta = newbeta
            newbeta = newbeta + np.linalg.solve(cur["I"], cur["U"])
        cur = None                       # free this iteration's arrays before the next
    if not converged:
        warnings.warn("fit_cox: Newton-Raphson did not converge in max_iter iterations",
                      RuntimeWarning, stacklevel=3)
    beta = newbeta
    final = cur if (cur is not None and cur is not ev0) else cd.evaluate(beta, keep=True)
    return beta, final, ll0, score, it, converged, init_value


def _cluster_codes(cd: _CoxData, cluster) -> tuple[np.ndarray, int]:
    """Cluster codes of the sorted rows and the number of clusters."""
    ccode, clev = pd.factorize(np.asarray(cluster)[cd.order], sort=True)
    return ccode, len(clev)


def _collapse(res: np.ndarray, ccode: np.ndarray, G: int) -> np.ndarray:
    """Row residuals summed by cluster (R's ``rowsum``), G x p."""
    return np.column_stack([np.bincount(ccode, weights=res[:, j], minlength=G)
                            for j in range(res.shape[1])])


def _cluster_variance(cd: _CoxData, final: dict, naive_var: np.ndarray,
                      ccode: np.ndarray, G: int) -> np.ndarray:
    """coxph's robust ``cluster()`` variance ``D'D`` (D = dfbeta residuals summed by
    cluster)."""
    dfb = cd.score_residuals(final) @ naive_var
    D = _collapse(dfb, ccode, G)
    return D.T @ D


def _robust_score_test(cd: _CoxData, ev0: dict, ccode: np.ndarray, G: int) -> float:
    """coxph's robust score test (``fit$rscore``): the score residuals at the initial
    coefficients summed by cluster, ``u' (T'T)^-1 u`` with ``u`` their total."""
    T = _collapse(cd.score_residuals(ev0), ccode, G)
    u = T.sum(axis=0)
    try:
        return float(u @ np.linalg.solve(T.T @ T, u))
    except np.linalg.LinAlgError:
        return float(u @ np.linalg.lstsq(T.T @ T, u, rcond=None)[0])


def _infinite_coefficients(final: dict, naive_var: np.ndarray, beta: np.ndarray,
                           eps: float, names: list, counting: bool = False) -> np.ndarray:
    """coxph.fit's check for a coefficient drifting to infinity (monotone likelihood):
    the remaining Newton step |U V| exceeds eps and toler.inf |beta| (toler.inf = sqrt(eps));
    agreg.fit's for (start, stop] data: it exceeds toler.inf (1 + |beta|)."""
    infs = np.abs(final["U"] @ naive_var)
    if counting:
        infinite = (infs > np.sqrt(eps) * (1 + np.abs(beta))) | ~np.isfinite(beta)
    else:
        infinite = ((infs > eps) & (infs > np.sqrt(eps) * np.abs(beta))) | ~np.isfinite(beta)
    if infinite.any():
        warnings.warn("fit_cox: coefficient(s) may be infinite: "
                      + ", ".join(np.asarray(names)[infinite]), RuntimeWarning, stacklevel=3)
    return infinite


def _entry_times(start, time: np.ndarray) -> np.ndarray | None:
    """Entry times as floats, checked as coxph's ``Surv(start, stop, event)``."""
    if start is None:
        return None
    start = np.asarray(start, float)
    if start.size != time.size:
        raise ValueError("fit_cox: start and time lengths differ")
    if np.isnan(start).any():
        raise ValueError("fit_cox: missing start times (drop incomplete rows first)")
    if (time <= start).any():
        raise ValueError(f"fit_cox: stop time must be > start time "
                         f"({int((time <= start).sum())} row(s))")
    return start


def fit_cox(time, event, X, strata=None, cluster=None, ties: str = "efron",
            names=None, terms: dict | None = None, eps: float = 1e-9, max_iter: int = 20,
            init=None, start=None) -> CoxResult:
    """Fit a Cox model = ``coxph(Surv(time, event) ~ X + strata(strata), cluster = cluster, ties = ties)``,
    or with ``start`` = ``coxph(Surv(start, time, event) ~ ...)`` (counting process).

    Parameters
    ----------
    time : array (n,)
        Follow-up times (float); the stop times of (start, stop] intervals.
    event : array (n,)
        1 = event, 0 = censored.
    X : array (n, p)
        Covariate (design) matrix, no intercept; factors already as dummies.
    strata : array (n,), optional
        Stratum labels: a separate baseline hazard per stratum.
    cluster : array (n,), optional
        Cluster labels: robust sandwich variance from grouped dfbeta residuals, and
        the robust score test (``fit$rscore``).
    ties : {"efron", "breslow"}
        Tie handling (coxph's default is Efron).
    names : list of str, optional
        Column names of ``X``.
    terms : dict, optional
        ``{term: [column indices]}`` grouping columns into model terms (used by
        :func:`cox_zph` for multi-column factors, as R's ``assign``).
    eps, max_iter
        coxph.control's ``eps`` (relative change in log-likelihood) and ``iter.max``.
    start : array (n,), optional
        Entry times (delayed entry, recurrent events, time-varying covariates): a row
        is at risk at t when ``start < t <= time`` (R's ``agreg.fit``; its step-halving
        and infinite-coefficient rules).  ``time > start`` is required.

    Returns
    -------
    CoxResult
    """
    if ties not in ("efron", "breslow"):
        raise ValueError("ties must be 'efron' or 'breslow'")
    time, event, X = _cox_arrays(time, event, X)
    start = _entry_times(start, time)
    n, p = X.shape
    names = list(names) if names is not None else [f"x{j + 1}" for j in range(p)]
    terms = terms or {nm: [j] for j, nm in enumerate(names)}
    cd = _CoxData(time, event, X, strata, ties, start=start)
    beta = np.zeros(p) if init is None else np.asarray(init, float).copy()
    n_clusters = robust_naive = rscore = on_init = None
    if cluster is not None:
        ccode, n_clusters = _cluster_codes(cd, cluster)
        on_init = lambda ev0: _robust_score_test(cd, ev0, ccode, n_clusters)  # noqa: E731
    beta, final, ll0, score, it, converged, rs = _newton_raphson(cd, beta, eps, max_iter, on_init)
    naive_var = np.linalg.inv(final["I"])
    var = naive_var
    if cluster is not None:
        var = _cluster_variance(cd, final, naive_var, ccode, n_clusters)
        robust_naive = naive_var
        rscore = _chi(rs, p)
    ll = final["loglik"]
    infinite = _infinite_coefficients(final, naive_var, beta, eps, names, counting=cd.cp)
    wald = float(beta @ np.linalg.solve(var, beta))
    return CoxResult(coef=beta, var=var, names=names, loglik=(ll0, ll),
                     lr_test=_chi(2 * (ll - ll0), p), wald_test=_chi(wald, p),
                     score_test=_chi(score, p), n=n, nevent=cd.nevent, iter=it,
                     converged=converged, ties=ties, naive_var=robust_naive,
                     n_clusters=n_clusters, terms=terms, infinite=infinite,
                     robust_score_test=rscore, _data=cd, _final=final)


def score_residuals(fit: CoxResult) -> np.ndarray:
    """Score residuals (n x p) in the original row order, = ``residuals(fit, "score")``."""
    cd = fit._data
    res = cd.score_residuals(fit._final)
    out = np.empty_like(res)
    out[cd.order] = res
    return out


@dataclass
class ZphResult:
    """``cox.zph`` result: ``table`` (term, chisq, df, p incl. GLOBAL), the scaled
    Schoenfeld residuals ``residuals`` (time, transformed_time, one column per term) and
    ``var`` (R's ``$var``: the inverse of the mean information, a DataFrame indexed by the
    residual columns; :func:`zph_smooth` draws its band with it)."""

    table: pd.DataFrame
    residuals: pd.DataFrame
    transform: str = "km"
    var: pd.DataFrame | None = None


def _transformed_times(cd: _CoxData, transform: str) -> np.ndarray:
    """g(t) before centring, per sorted row: ``km`` = 1 - pooled KM(t-), or the time
    itself, its log or its rank."""
    t_sorted = cd.time
    if transform == "km":
        km = kaplan_meier(t_sorted, cd.event)
        return 1 - km.surv_before(t_sorted)
    if transform == "identity":
        return t_sorted.copy()
    if transform == "log":
        return np.log(t_sorted)
    if transform == "rank":
        return stats.rankdata(t_sorted)
    raise ValueError(f"unknown transform {transform!r}")


def _information_by_death(cd: _CoxData, fin: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per death block: the information matrix (nE x p x p) and the weighted risk-set
    mean of x summed over the block's deaths (Efron or Breslow), at the fitted beta."""
    S1, S2, a, e0 = fin["S1"], fin["S2"], fin["a"], fin["e0"]
    nE = cd.E.size
    info = cd._sym(S2 * a[:, None], nE)
    info -= np.einsum("b,bi,bj->bij", e0, S1, S1)
    if cd.efron:
        D1, D2, c, e1, e2 = fin["D1"], fin["D2"], fin["c"], fin["e1"], fin["e2"]
        info -= cd._sym(D2 * c[:, None], nE)
        t1 = np.einsum("b,bi,bj->bij", e1, S1, D1)
        info += t1 + np.transpose(t1, (0, 2, 1))
        info -= np.einsum("b,bi,bj->bij", e2, D1, D1)
        msum = S1 * a[:, None] - D1 * c[:, None]
    else:
        msum = S1 * a[:, None]
    return info, msum


def _zph_tests(imat: np.ndarray, u2: np.ndarray, terms: dict, p: int,
               global_test: bool) -> pd.DataFrame:
    """Score tests of ``x * g(t)`` per term (joint df for multi-column terms) and
    GLOBAL: ``term, chisq, df, p``."""
    rows = []
    for term, cols in terms.items():
        kk = list(range(p)) + [p + j for j in cols]
        u = np.r_[np.zeros(p), u2[cols]]
        stat = float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u))
        rows.append((term, stat, len(cols)))
    if global_test:
        u = np.r_[np.zeros(p), u2]
        rows.append(("GLOBAL", float(u @ np.linalg.solve(imat, u)), p))
    table = pd.DataFrame(rows, columns=["term", "chisq", "df"])
    table["p"] = stats.chi2.sf(table["chisq"], table["df"])
    return table


def _events_where_varying(cd: _CoxData) -> np.ndarray:
    """``used[s, j]``: the number of events in stratum s if column j is not constant in
    s, else 0."""
    p = cd.p
    nstrat = int(cd.scode.max()) + 1
    ev_per_s = np.bincount(cd.scode[cd.ev], minlength=nstrat).astype(float)
    xmin = np.full((nstrat, p), np.inf)
    xmax = np.full((nstrat, p), -np.inf)
    sfirst = np.r_[0, np.flatnonzero(cd.scode[1:] != cd.scode[:-1]) + 1]
    xmin[cd.scode[sfirst]] = np.minimum.reduceat(cd.X, sfirst, axis=0)
    xmax[cd.scode[sfirst]] = np.maximum.reduceat(cd.X, sfirst, axis=0)
    return np.where(xmax > xmin, ev_per_s[:, None], 0.0)


def _by_term(schoen, vmean, used, terms: dict, fcoef):
    """Schoenfeld residuals, mean information and ``used`` per model term: columns in
    term order, a multi-column term as the linear predictor of its columns."""
    if any(len(c) > 1 for c in terms.values()):
        temp = np.zeros((schoen.shape[1], len(terms)))
        for i, cols in enumerate(terms.values()):
            if len(cols) == 1:
                temp[cols[0], i] = 1.0
            else:
                temp[cols, i] = fcoef[cols]
        return (schoen @ temp, temp.T @ vmean @ temp,
                used[:, [cols[0] for cols in terms.values()]])
    order_terms = [cols[0] for cols in terms.values()]
    return (schoen[:, order_terms], vmean[np.ix_(order_terms, order_terms)],
            used[:, order_terms])


def _scaled_schoenfeld(cd: _CoxData, fit: CoxResult, msum: np.ndarray,
                       info_total: np.ndarray, terms: dict | None = None) -> tuple:
    """Scaled Schoenfeld residuals per event (sorted by stratum, time), one column per
    term: ``beta + V^-1 schoenfeld`` within each stratum, V the per-event average
    information over the columns that vary there (NaN for the others), as R.  Returns
    ``(residuals, vmean)``: R's ``$var`` is the inverse of ``vmean``."""
    p = cd.p
    ev = cd.ev
    C = np.zeros((cd.nb, p))
    C[cd.E] = msum / cd.dE[:, None]              # Efron mean of means
    schoen = cd.X[ev] - C[cd.blk[ev]]
    used = _events_where_varying(cd)
    nstrat = used.shape[0]
    terms = fit.terms if terms is None else terms
    fcoef = fit.coef
    nterm = len(terms)
    wtmat = np.zeros((p, p))
    for s in range(nstrat):
        wtmat += np.minimum.outer(used[s], used[s])
    vmean = info_total / np.where(wtmat == 0, 1.0, wtmat)
    sres, vmean, used = _by_term(schoen, vmean, used, terms, fcoef)
    sres = sres.copy()
    s_ev = cd.scode[ev]
    for s in range(nstrat):
        k = np.flatnonzero(used[s] > 0)
        rows_s = s_ev == s
        if not rows_s.any():
            continue
        if k.size:
            sub = sres[np.ix_(rows_s, k)]
            sres[np.ix_(rows_s, k)] = np.linalg.solve(vmean[np.ix_(k, k)], sub.T).T
        nk = np.setdiff1d(np.arange(nterm), k)
        if nk.size:
            sres[np.ix_(rows_s, nk)] = np.nan
    for i, cols in enumerate(terms.values()):
        sres[:, i] += fcoef[cols[0]] if len(cols) == 1 else 1.0
    return sres, vmean


def cox_zph(fit: CoxResult, transform: str = "km", global_test: bool = True,
            terms: bool = True, residual_terms: bool | None = None) -> ZphResult:
    """Proportional-hazards test = ``cox.zph(fit, transform = "km", terms = terms)``
    (survival >= 3.0).

    The score test for adding ``x * g(t)`` (g = 1 - pooled KM(t-) centred at its
    mean over events) at the fitted beta, per term (``terms`` of the fit; multi-
    column terms get their joint df) and globally; scaled Schoenfeld residuals
    ``beta + V^-1 schoenfeld`` with V the per-event average information, as R.
    ``transform`` may also be ``"identity"``, ``"log"`` or ``"rank"``.
    ``terms=False`` tests and gives residuals per coefficient (a 3-level factor: two);
    ``residual_terms`` (default ``terms``) chooses for the residuals and ``var`` alone, so
    one call gives R's default table and the per-coefficient residuals a plot needs.
    Right-censored fits only (not (start, stop] data).
    """
    cd: _CoxData = fit._data
    if cd.cp:
        raise NotImplementedError("cox_zph: fits on (start, stop] data are not supported")
    p = cd.p
    ev = cd.ev
    ttimes = _transformed_times(cd, transform)
    g = ttimes - ttimes[ev].mean()
    gb = g[cd.starts][cd.E]       # g at each death block
    info, msum = _information_by_death(cd, fit._final)
    I11 = info.sum(0)
    I12 = np.einsum("b,bij->ij", gb, info)
    I22 = np.einsum("b,bij->ij", gb * gb, info)
    imat = np.block([[I11, I12], [I12.T, I22]])
    u2 = gb @ (cd.sum_x_dead - msum)
    by_coef = {nm: [j] for j, nm in enumerate(fit.names)}
    table = _zph_tests(imat, u2, fit.terms if terms else by_coef, p, global_test)
    rterms = fit.terms if (terms if residual_terms is None else residual_terms) else by_coef
    sres, vmean = _scaled_schoenfeld(cd, fit, msum, I11, rterms)
    resid = pd.DataFrame(sres, columns=list(rterms.keys()))
    resid.insert(0, "transformed_time", ttimes[ev])
    resid.insert(0, "time", cd.time[ev])
    if cd.strata_levels is not None:
        resid.insert(0, "strata", np.asarray(cd.strata_levels, dtype=object)[cd.scode[ev]])
    var = pd.DataFrame(np.linalg.inv(vmean), index=list(rterms), columns=list(rterms))
    return ZphResult(table=table, residuals=resid, transform=transform, var=var)


def _bspline_basis(x: np.ndarray, t: np.ndarray, order: int, deriv: int = 0) -> np.ndarray:
    """B-spline basis of ``order`` on knots ``t`` (repeated knots allowed, 0/0 taken as 0, as
    R's ``splineDesign``) at ``x``, or its ``deriv``-th derivative; the right end of the knots
    belongs to the last non-empty interval (left limit)."""
    x = np.asarray(x, float)
    if deriv > 0:
        low = _bspline_basis(x, t, order - 1, deriv - 1)
        k = order - 1
        out = np.zeros((len(x), len(t) - order))
        for i in range(len(t) - order):
            d1, d2 = t[i + k] - t[i], t[i + k + 1] - t[i + 1]
            if d1 > 0:
                out[:, i] += k * low[:, i] / d1
            if d2 > 0:
                out[:, i] -= k * low[:, i + 1] / d2
        return out
    n1 = len(t) - 1
    B = np.zeros((len(x), n1))
    nonempty = np.flatnonzero(t[1:] > t[:-1])
    last = nonempty[-1]
    for i in nonempty:
        B[:, i] = (x >= t[i]) & (x < t[i + 1])
    B[x == t[last + 1], last] = 1.0
    for k in range(2, order + 1):
        nb = len(t) - k
        new = np.zeros((len(x), nb))
        for i in range(nb):
            d1, d2 = t[i + k - 1] - t[i], t[i + k] - t[i + 1]
            if d1 > 0:
                new[:, i] += (x - t[i]) / d1 * B[:, i]
            if d2 > 0:
                new[:, i] += (t[i + k] - x) / d2 * B[:, i + 1]
        B = new
    return B


def _natural_spline_basis(x: np.ndarray, df: int = 4, knot_data: np.ndarray | None = None
                          ) -> np.ndarray:
    """A basis of R's ``splines::ns(x, df = df, intercept = TRUE)`` space at ``x``: cubic
    B-splines with ``df - 2`` interior knots at quantiles (R's type 7) of ``knot_data`` (default
    ``x``; R's call is on all the values, ties included) and boundary knots at its range,
    constrained to zero second derivative at both boundaries.  Spans the same functions as R's
    basis (which fixes the constraint by a QR of its own), so least-squares fits, their fitted
    values and their variances equal R's."""
    x = np.asarray(x, float)
    kd = x if knot_data is None else np.asarray(knot_data, float)
    lo, hi = float(np.min(kd)), float(np.max(kd))
    inner = np.quantile(kd, np.linspace(0, 1, df)[1:-1]) if df > 2 else np.array([])
    t = np.r_[[lo] * 4, inner, [hi] * 4]
    basis = _bspline_basis(x, t, 4)
    const = _bspline_basis(np.array([lo, hi]), t, 4, deriv=2)
    q, _ = np.linalg.qr(const.T, mode="complete")
    return basis @ q[:, 2:]


def zph_smooth(x, y, var: float, time=None, df: int = 4, nsmo: int = 40,
               reduce_df: bool = True) -> pd.DataFrame | None:
    """The smooth and band of one panel of R's ``plot(cox.zph(...))`` (``plot.cox.zph``).

    A natural spline (``ns(df = 4, intercept = TRUE)``, knots from the grid and the residuals
    together, as R) fitted by least squares to the scaled Schoenfeld residuals ``y`` against the
    transformed time ``x``, evaluated at ``nsmo`` equally spaced points of ``x``; the band is
    ``fit +- 2 sqrt(var * seval)``, ``seval`` the diagonal of ``P (X'X)^-1 P'`` at the grid and
    ``var`` the coefficient's entry of :attr:`ZphResult.var`.  O(n): every residual is used.

    Parameters
    ----------
    x, y : array
        Transformed times and residuals (NaN residuals, R's ``keep``, are left out of the fit
        but their times still place the knots).
    var : float
    time : array, optional
        Untransformed times of ``x``: the grid's times are interpolated from them (axis ticks).
    df, nsmo : int
        As R's ``plot.cox.zph``.
    reduce_df : bool
        When the ``df`` fit is singular (few distinct times: a knot falls on the boundary,
        as when most events share the first report time), R warns "spline fit is singular"
        and draws no smooth; here the spline is refitted with one df less down to 2 (a
        line), and ``df`` says which was used.  False: None, as R.

    Returns
    -------
    pandas.DataFrame or None
        ``x, time, fit, lower, upper, df`` (``nsmo`` rows); None when no fit is possible.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    grid = np.linspace(x.min(), x.max(), nsmo)
    keep = np.isfinite(y)
    # the fit depends on the residuals only through, per distinct time, their number and sum:
    # the spline is evaluated at the distinct times (few, even at 10^6 events) and the
    # least-squares fit solved from X'X and X'y (weighted by the counts)
    ux, first, inv = np.unique(x, return_index=True, return_inverse=True)
    w = np.bincount(inv[keep], minlength=len(ux)).astype(float)
    sy = np.bincount(inv[keep], weights=y[keep], minlength=len(ux))
    knot_data = np.r_[grid, x]
    for used_df in range(int(df), 1, -1):
        lmat = _natural_spline_basis(np.r_[grid, ux], used_df, knot_data)
        pmat, B = lmat[:nsmo], lmat[nsmo:]
        if int((w > 0).sum()) >= used_df and np.linalg.matrix_rank(
                B[w > 0] * np.sqrt(w[w > 0])[:, None]) == used_df:
            break
        if not reduce_df:
            return None
    else:
        return None
    xtx = np.linalg.inv((B * w[:, None]).T @ B)
    coef = xtx @ (B.T @ sy)
    seval = np.einsum("ij,jk,ik->i", pmat, xtx, pmat)
    fit = pmat @ coef
    half = 2 * np.sqrt(float(var) * seval)
    out = pd.DataFrame({"x": grid, "time": np.nan, "fit": fit, "lower": fit - half,
                        "upper": fit + half, "df": used_df})
    if time is not None:
        out["time"] = np.interp(grid, ux, np.asarray(time, float)[first])
    return out
