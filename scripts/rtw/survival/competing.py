"""Competing risks as R's ``cmprsk`` (2.2-11): ``cuminc`` (+ ``timepoints``), Gray's test
and ``crr`` (Fine–Gray).  Re-implemented, vectorised, from Gray's Fortran
(``cinc``, ``crstm``/``crst``, ``crrfsv``, ``crrvv``):

* :func:`cuminc` — Aalen–Johansen cumulative incidence of one cause with cmprsk's
  own delta-method variance (subroutine ``cinc``), step values at given times as
  ``timepoints()`` (NaN after the group's last follow-up time);
* :func:`gray_test` — Gray (1988) K-sample test of cumulative incidence
  (``cuminc``'s ``Tests``, rho = 0 by default, optional strata);
* :func:`fine_gray` — the subdistribution-hazard model of Fine & Gray (1999) fitted
  as a Cox model with Breslow ties whose risk set keeps competing-event cases with
  weight ``G(t-)/G(T_i-)`` (G = Kaplan–Meier of censoring), and crr's sandwich
  variance ``Omega^-1 (sum (eta_i + psi_i)(eta_i + psi_i)') Omega^-1`` including the
  censoring-distribution term psi (single censoring group, time-fixed covariates).

CIs for the cumulative incidence (cuminc gives none) use the log(-log)
transform ``F^exp(+/- z se / (F log F))`` (as tidycmprsk).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from rtw.core.stats import z_quantile
from rtw.survival.km import kaplan_meier


# --------------------------------------------------------------------------- cuminc
@dataclass
class CumincCurve:
    """Cumulative incidence of one cause in one group: values just after each
    distinct time with an event of that cause (``time``, ``est``, ``var``) and the
    group's last follow-up time ``max_time``."""

    time: np.ndarray
    est: np.ndarray
    var: np.ndarray
    max_time: float

    def at(self, times):
        """``timepoints()``: (est, var) of the step function at each time; NaN after max_time."""
        times = np.asarray(times, float)
        idx = np.searchsorted(self.time, times, side="right") - 1
        est = np.where(idx >= 0, self.est[np.maximum(idx, 0)] if self.est.size else 0.0, 0.0)
        var = np.where(idx >= 0, self.var[np.maximum(idx, 0)] if self.var.size else 0.0, 0.0)
        out = times > self.max_time
        return np.where(out, np.nan, est), np.where(out, np.nan, var)


def cuminc_curve(time, status, cause=1, cencode=0) -> CumincCurve:
    """Cumulative incidence of ``cause`` in one group = cmprsk's Fortran ``cinc``."""
    time = np.asarray(time, float)
    status = np.asarray(status)
    fail = status != cencode
    icc = status == cause
    ut, inv = np.unique(time, return_inverse=True)
    nd1 = np.bincount(inv, weights=icc, minlength=ut.size)
    ndall = np.bincount(inv, weights=fail, minlength=ut.size)
    nd2 = ndall - nd1
    cnt = np.bincount(inv, minlength=ut.size).astype(float)
    rs = np.cumsum(cnt[::-1])[::-1]
    nd = nd1 + nd2
    fkn = np.cumprod(1.0 - nd / rs)
    fk = np.r_[1.0, fkn[:-1]]
    F = np.cumsum(fk * nd1 / rs)
    with np.errstate(divide="ignore", invalid="ignore"):
        # competing-cause part (nd2 > 0 and fkn > 0)
        t5 = np.where(nd2 > 1, 1 - (nd2 - 1) / (rs - 1), 1.0)
        t6 = fk * fk * t5 * nd2 / (rs * rs)
        ok2 = (nd2 > 0) & (fkn > 0)
        t3 = np.where(ok2, 1 / fkn, 0.0)
        t4 = np.where(ok2, F / fkn, 0.0)
        v1 = np.where(ok2, t4 * t4 * t6, 0.0)
        v2 = np.where(ok2, t3 * t4 * t6, 0.0)
        v3 = np.where(ok2, t3 * t3 * t6, 0.0)
        # cause-of-interest part
        ok1 = nd1 > 0
        t5 = np.where(nd1 > 1, 1 - (nd1 - 1) / (rs - 1), 1.0)
        t6 = fk * fk * t5 * nd1 / (rs * rs)
        t3 = np.where(fkn > 0, 1 / fkn, 0.0)
        t4 = 1 + t3 * F
        v1 = v1 + np.where(ok1, t4 * t4 * t6, 0.0)
        v2 = v2 + np.where(ok1, t3 * t4 * t6, 0.0)
        v3 = v3 + np.where(ok1, t3 * t3 * t6, 0.0)
    V1, V2, V3 = np.cumsum(v1), np.cumsum(v2), np.cumsum(v3)
    var = V1 + F * F * V3 - 2 * F * V2
    return CumincCurve(ut[ok1], F[ok1], var[ok1], float(time.max()))


def cif_confint(est, var, conf_level=0.95):
    """log(-log) CI for a cumulative incidence: ``F^exp(+/- z se / (F log F))``."""
    est = np.asarray(est, float)
    se = np.sqrt(np.asarray(var, float))
    z = z_quantile(conf_level)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = z * se / (est * np.log(est))
        lo = est ** np.exp(-k)
        hi = est ** np.exp(k)
    lo = np.where(est <= 0, 0.0, np.where(est >= 1, 1.0, lo))
    hi = np.where(est <= 0, 0.0, np.where(est >= 1, 1.0, hi))
    return lo, hi


def cuminc(time, status, group, cencode=0) -> dict:
    """All cause x group curves, as ``cmprsk::cuminc(time, status, group)``.

    Returns ``{(group, cause): CumincCurve}`` over sorted groups and causes.
    """
    time = np.asarray(time, float)
    status = np.asarray(status)
    group = np.asarray(group)
    causes = sorted(set(status[status != cencode].tolist()))
    out = {}
    for g in sorted(set(group.tolist())):
        m = group == g
        for c in causes:
            out[(g, c)] = cuminc_curve(time[m], status[m], c, cencode)
    return out


# --------------------------------------------------------------------------- Gray's test
@dataclass
class GrayResult:
    stat: float
    df: int
    p_value: float
    score: np.ndarray
    var: np.ndarray


def _crst(t, m, g, ng, rho):
    """Score and variance contributions of one stratum (Fortran ``crst``), vectorised."""
    ut, inv = np.unique(t, return_inverse=True)
    T = ut.size
    key = inv * ng + g
    d1 = np.bincount(key, weights=(m == 1), minlength=T * ng).reshape(T, ng)
    d2 = np.bincount(key, weights=(m == 2), minlength=T * ng).reshape(T, ng)
    cnt = np.bincount(key, minlength=T * ng).reshape(T, ng).astype(float)
    rs = np.cumsum(cnt[::-1], axis=0)[::-1]             # at risk at each time, per group
    nd1 = d1.sum(1)
    nd2 = d2.sum(1)
    evt = (nd1 + nd2) > 0
    pos = rs > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pos & evt[:, None], (d1 + d2) / np.where(pos, rs, 1.0), 0.0)
        skm = np.cumprod(1.0 - ratio, axis=0)
        skmm = np.vstack([np.ones((1, ng)), skm[:-1]])
        inc1 = np.where(pos & evt[:, None], skmm * d1 / np.where(pos, rs, 1.0), 0.0)
        f1 = np.cumsum(inc1, axis=0)
        f1m = np.vstack([np.zeros((1, ng)), f1[:-1]])
        t1 = np.where(pos, rs / skmm, 0.0)
        tr = t1.sum(1)
        tq = np.where(pos, rs * (1 - f1m) / skmm, 0.0).sum(1)
        finc = np.where(evt, nd1 / tr, 0.0)
        fcur = np.cumsum(finc)
        fm = np.r_[0.0, fcur[:-1]]
        fb = (1 - fm) ** rho
        # a(i,j) = fb (diag(t1) - t1 t1' / tr)
        A = fb[:, None, None] * (np.einsum("ti,ij->tij", t1, np.eye(ng))
                                 - np.einsum("ti,tj->tij", t1, t1) / tr[:, None, None])
        A = np.where(evt[:, None, None], A, 0.0)
        cinc = A * np.where(evt, nd1 / (tr * (1 - fm)), 0.0)[:, None, None]
        C = np.cumsum(cinc, axis=0)                       # c after this time's update
        s = np.where(pos & evt[:, None],
                     fb[:, None] * (d1 - nd1[:, None] * rs * (1 - f1m) / (skmm * tq[:, None])),
                     0.0).sum(0)[:-1]
        # nd1 > 0 part
        on1 = evt & (nd1 > 0)
        t4 = np.where(skm > 0, 1 - (1 - fcur[:, None]) / skm, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
        t3 = t5 * skmm * nd1[:, None] / (tr[:, None] * rs)
        w1 = on1[:, None] & pos
        t3 = np.where(w1, t3, 0.0)
        t4a = np.where(w1, t4, 0.0)
        v3 = (t4a * t4a * t3).sum(0)
        B = A - t4a[:, None, :] * C                       # (t, i, k): a_ik - t4_k c_ik
        v2 = np.einsum("tik,tk->ik", B, t4a * t3)
        v = np.einsum("tik,tjk,tk->ij", B, B, t3)
        # nd2 > 0 part
        w2 = evt[:, None] & (skm > 0) & (d2 > 0) & pos
        t4b = np.where(w2, (1 - fcur[:, None]) / np.where(skm > 0, skm, 1.0), 0.0)
        t5b = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        t3b = np.where(w2, t5b * skmm ** 2 * d2 / np.where(pos, rs, 1.0) ** 2, 0.0)
        v3 = v3 + (t4b * t4b * t3b).sum(0)
        Ct = t4b[:, None, :] * C                         # t4 c_ik
        v2 = v2 - np.einsum("tik,tk->ik", Ct, t4b * t3b)
        v = v + np.einsum("tik,tjk,tk->ij", Ct, Ct, t3b)
    Cf = C[-1]
    v = v + np.einsum("ik,jk,k->ij", Cf, Cf, v3) + Cf @ v2.T + v2 @ Cf.T
    k1 = ng - 1
    return s[:k1], v[:k1, :k1]


def gray_test(time, status, group, cause=1, strata=None, rho: float = 0.0,
              cencode=0) -> GrayResult:
    """Gray's test for equality of the cumulative incidence of ``cause`` across groups
    = ``cmprsk::cuminc(time, status, group, strata, rho)$Tests[cause, ]``."""
    time = np.asarray(time, float)
    status = np.asarray(status)
    m = np.where(status == cause, 1, np.where(status == cencode, 0, 2))
    gcode, glev = pd.factorize(np.asarray(group), sort=True)
    ng = len(glev)
    scode = (np.zeros(time.size, int) if strata is None
             else pd.factorize(np.asarray(strata), sort=True)[0])
    s = np.zeros(ng - 1)
    v = np.zeros((ng - 1, ng - 1))
    for k in np.unique(scode):
        w = scode == k
        sk, vk = _crst(time[w], m[w], gcode[w], ng, rho)
        s += sk
        v += vk
    stat = float(s @ np.linalg.solve(v, s))
    return GrayResult(stat, ng - 1, float(stats.chi2.sf(stat, ng - 1)), s, v)


# --------------------------------------------------------------------------- Fine-Gray
@dataclass
class FineGrayResult:
    coef: np.ndarray
    var: np.ndarray
    names: list
    loglik: float
    converged: bool
    iter: int
    n: int
    nevent: int

    @property
    def se(self):
        return np.sqrt(np.diag(self.var))


class _FGData:
    def __init__(self, time, status, X, cause, cencode):
        order = np.argsort(time, kind="stable")
        self.t = time[order]
        st = status[order]
        self.f1 = st == cause
        self.f2 = (st != cause) & (st != cencode)
        self.c0 = st == cencode
        self.X = X[order] - X.mean(0)
        n = self.t.size
        # censoring KM, left limit at each t: G(t-)
        self.G = kaplan_meier(self.t, self.c0).surv_before(self.t)
        self.first_idx = np.searchsorted(self.t, self.t, side="left")   # start of tie block
        # distinct cause-1 failure times
        uf, dk = np.unique(self.t[self.f1], return_counts=True)
        self.u, self.dk = uf, dk.astype(float)
        self.u_start = np.searchsorted(self.t, uf, side="left")            # first index with t >= u
        self.Gu = self.G[self.u_start]
        self.n = n

    def sums(self, beta):
        X = self.X
        r = np.exp(X @ beta)
        w2 = np.where(self.f2, r / self.G, 0.0)
        # S at each u: risk set t >= u (reverse cumsum) + G(u-) * sum_{t<u, cause 2} r/G
        rc0 = np.r_[np.cumsum(r[::-1])[::-1], 0.0]
        rc1 = np.vstack([np.cumsum((X * r[:, None])[::-1], axis=0)[::-1], np.zeros((1, X.shape[1]))])
        c0 = np.r_[0.0, np.cumsum(w2)]
        c1 = np.vstack([np.zeros((1, X.shape[1])), np.cumsum(X * w2[:, None], axis=0)])
        i = self.u_start
        S0 = rc0[i] + self.Gu * c0[i]
        S1 = rc1[i] + self.Gu[:, None] * c1[i]
        return r, w2, S0, S1, i

    def loglik_score_info(self, beta, info=True):
        X = self.X
        r, w2, S0, S1, i = self.sums(beta)
        eta = X @ beta
        ll = float(eta[self.f1].sum() - (self.dk * np.log(S0)).sum())
        U = X[self.f1].sum(0) - (self.dk[:, None] * S1 / S0[:, None]).sum(0)
        if not info:
            return ll, U, None
        p = X.shape[1]
        XX = np.einsum("ni,nj->nij", X, X)
        rc2 = np.concatenate([np.cumsum((XX * r[:, None, None])[::-1], axis=0)[::-1],
                              np.zeros((1, p, p))])
        c2 = np.concatenate([np.zeros((1, p, p)), np.cumsum(XX * w2[:, None, None], axis=0)])
        S2 = rc2[i] + self.Gu[:, None, None] * c2[i]
        xbar = S1 / S0[:, None]
        Om = np.einsum("k,kij->ij", self.dk / S0, S2) - np.einsum("k,ki,kj->ij", self.dk, xbar, xbar)
        return ll, U, Om

    def sandwich(self, beta, Om):
        X, t = self.X, self.t
        n, p = X.shape
        r, w2, S0, S1, i = self.sums(beta)
        xbar = S1 / S0[:, None]
        dk, Gu = self.dk, self.Gu
        # cumulative over failure times u_k <= t
        H0 = np.r_[0.0, np.cumsum(dk / S0)]
        H1 = np.vstack([np.zeros((1, p)), np.cumsum((dk / S0)[:, None] * xbar, axis=0)])
        J0 = np.r_[0.0, np.cumsum(dk * Gu / S0)]
        J1 = np.vstack([np.zeros((1, p)), np.cumsum((dk * Gu / S0)[:, None] * xbar, axis=0)])
        k_le = np.searchsorted(self.u, t, side="right")       # number of u_k <= t_i
        eta_i = -r[:, None] * (X * H0[k_le][:, None] - H1[k_le])
        # own failure: x_i - xbar(t_i)
        k_eq = np.clip(k_le - 1, 0, None)
        eta_i += np.where(self.f1[:, None], X - xbar[k_eq], 0.0)
        g2 = np.where(self.f2, r / self.G, 0.0)
        eta_i -= g2[:, None] * (X * (J0[-1] - J0[k_le])[:, None] - (J1[-1] - J1[k_le]))
        # censoring part psi
        w2c0 = np.r_[0.0, np.cumsum(w2)]
        w2c1 = np.vstack([np.zeros((1, p)), np.cumsum(X * w2[:, None], axis=0)])
        psi = np.zeros((n, p))
        if self.c0.any():
            cidx = np.unique(self.first_idx[self.c0])          # first index of each censoring time
            ct = t[cidx]
            nc = np.bincount(np.searchsorted(ct, t[self.c0]), minlength=ct.size).astype(float)
            Y = (n - cidx).astype(float)
            A0 = w2c0[cidx]                                    # sum over cause 2 with t < c
            A1 = w2c1[cidx]
            k_lt = np.searchsorted(self.u, ct, side="left")   # u_k >= c from k_lt
            M0 = J0[-1] - J0[k_lt]
            M1 = J1[-1] - J1[k_lt]
            q = A1 * M0[:, None] - A0[:, None] * M1
            inc = (nc / Y ** 2)[:, None] * q
            cum = np.vstack([np.zeros((1, p)), np.cumsum(inc, axis=0)])
            j_le = np.searchsorted(ct, t, side="right")
            psi = -cum[j_le]
            jc = np.clip(j_le - 1, 0, None)
            psi += np.where(self.c0[:, None], q[jc] / Y[jc][:, None], 0.0)
        tot = eta_i + psi
        Sig = tot.T @ tot
        Oi = np.linalg.inv(Om)
        return Oi @ Sig @ Oi


def fine_gray(time, status, X, cause=1, cencode=0, names=None, tol: float = 1e-12,
              max_iter: int = 50) -> FineGrayResult:
    """Fine–Gray subdistribution hazards model = ``cmprsk::crr(time, status, cov1 = X,
    failcode = cause, cencode = cencode)`` (one censoring group).

    Newton–Raphson with crr's backtracking, iterated to full convergence (crr's
    default ``gtol = 1e-6`` stops slightly earlier; differences ~1e-7 relative).
    """
    time = np.asarray(time, float)
    status = np.asarray(status)
    X = np.asarray(X, float)
    if X.ndim == 1:
        X = X[:, None]
    p = X.shape[1]
    names = list(names) if names is not None else [f"x{j + 1}" for j in range(p)]
    fd = _FGData(time, status, X, cause, cencode)
    b = np.zeros(p)
    ll, U, Om = fd.loglik_score_info(b)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        step = np.linalg.solve(Om, U)
        bn = b + step
        lln, Un, Omn = fd.loglik_score_info(bn)
        k = 0
        while (not np.isfinite(lln) or lln < ll + 1e-4 * (step @ U)) and k < 20:
            step = step / 2
            bn = b + step
            lln, Un, Omn = fd.loglik_score_info(bn)
            k += 1
        done = np.max(np.abs(bn - b)) < tol * max(1.0, np.max(np.abs(bn)))
        b, ll, U, Om = bn, lln, Un, Omn
        if done or np.max(np.abs(U)) < 1e-13 * max(1.0, abs(ll)):
            converged = True
            break
    var = fd.sandwich(b, Om)
    return FineGrayResult(b, var, names, ll, converged, it, int(time.size),
                          int((status == cause).sum()))
