"""Aalen–Johansen state occupation probabilities for multi-state (start, stop] data, as R's
``survfit(Surv(start, stop, to) ~ group, id = id, istate = istate)`` (survival 3.5-3:
``survfitCI`` -> ``docurve2`` -> the C routine ``survfitci``), with R's infinitesimal-jackknife
standard errors and the restricted mean time in each state (``summary(fit, rmean = tau)$table``).

R's conventions, followed here:

* An id's intervals are contiguous: no gaps, no overlaps (``survcheck`` flags stop ``survfit``).
  The state at an interval's start is the id's initial state (``istate`` on its first interval),
  then the last state entered; ``to`` is the state entered at ``stop`` or the censoring value.
  A "move" into the current state is neither a transition nor a censoring (as the C code).
* An interval (start, stop] is at risk at the times t with start < t <= stop (delayed entry:
  ids may enter at start > 0).  At a time with transitions and censorings the transitions come
  first: intervals censored at t are in the risk set at t.
* Output at every distinct stop time of the group (censoring-only times too), after R's merge of
  interior censored intervals (neither the id's first nor its last interval, ending censored: it is
  joined to the next, so its stop is neither an output time nor counted in ``n_censor``).
* ``p0``: the distribution of the current state over the intervals at risk at the first time
  anyone moves (``at.zero`` in ``docurve2``).
* ``std_err``: sqrt(sum_i U_ij(t)^2) over ids i, with U_i the id's influence on p(t)
  (the C code's ``umat``): U_i(t) = U_i(t-) H(t) + 1{i at risk} p_a(t-)/n_a(t) (dN_i(t) - dA_a(t)).
  U_i(0) is 0, or with ``initial_influence`` (R's ``influence = TRUE``) the influence of p0,
  (1{istate_i = j} - p0_j) / n0, when no p0_j is 1; R 3.5-3 leaves that term out by default.
* CIs: ``survfit_confint(logse = FALSE)``; the default ``conf.type`` of a multi-state survfit is
  ``"log"``.  ``rmean``: ``survmean2`` after ``survfit0``: the integral of p_j from 0 to tau (p0 on
  [0, t1)); its SE the IJ SE of that integral (R prints it with ``influence = TRUE`` only).

Computation: R updates every id's influence row at every event time (O(n_id x n_times)).  Here
the Gram matrix G(t) = sum_i U_i(t)' U_i(t) is carried instead: G(t) = H' G(t-) H + X + X' + C,
where X and C need only the sums of U_i(t-) over the risk set of each state and over the ids moving
at t.  Those follow from one influence value per interval (at its end), chained along each id's
intervals with products H(l)...H(m) looked up in a table of dyadic blocks of H (O(log n_times) per
interval), and from state-level recursions over time.  The rmean SE needs no chain: the integrated
influence telescopes into one term per interval.  Work and memory: O(n_intervals log n_times +
n_times) with small matrices (n_states^2); time recursions run as blocked scans (O(sqrt n_times)
Python steps).  Unit case weights only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtw.core.stats import p_two_sided, wald_ci, z_quantile

CONF_TYPES = ("log", "log-log", "plain", "logit", "arcsin", "none")


@dataclass(frozen=True, eq=False)
class MultiStateCurve:
    """One group's Aalen–Johansen curve, the fields of R's multi-state ``survfit`` object.

    Arrays over ``time`` (T distinct stop times) and ``states``: ``n_risk`` (T, S) at risk in each
    state, ``n_event`` (T, S) transitions into each state, ``n_censor`` (T,), ``pstate``,
    ``std_err``, ``lower``, ``upper`` (T, S), ``cumhaz`` (T, S, S) Nelson–Aalen cumulative hazard
    of each from -> to transition.  ``p0``, ``sp0``: the state distribution at the start and its
    SE (R's ``p0``, ``sp0``).  ``n`` intervals (after R's merge), ``n_id`` ids.  ``rmean``,
    ``rmean_se`` (S,): expected time in each state up to ``tau`` and its IJ SE (NaN without tau).
    """

    group: object
    states: tuple
    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    pstate: np.ndarray
    std_err: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    cumhaz: np.ndarray
    p0: np.ndarray
    sp0: np.ndarray
    n: int
    n_id: int
    conf_level: float
    conf_type: str
    tau: float
    rmean: np.ndarray
    rmean_se: np.ndarray


@dataclass(frozen=True, eq=False)
class MultiStateFit:
    """Aalen–Johansen curves by group (R's strata, in sorted group order)."""

    states: tuple
    groups: tuple
    curves: tuple

    def curve(self, group) -> MultiStateCurve:
        """The curve of ``group``."""
        for g, c in zip(self.groups, self.curves):
            if g == group:
                return c
        raise KeyError(f"no group {group!r}; groups are {list(self.groups)}")


@dataclass(frozen=True, eq=False)
class RMeanDifference:
    """Difference in expected time in each state up to ``tau``, ``group1`` minus ``group0``,
    independent groups: se = sqrt(se1^2 + se0^2), Wald CI and two-sided p."""

    states: tuple
    group1: object
    group0: object
    tau: float
    estimate: np.ndarray
    se: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    p_value: np.ndarray
    conf_level: float


@dataclass
class _Rows:
    """One group's intervals sorted by (id, start), after R's merge of interior censorings.
    ``cur``: state at start; ``to``: state entered at stop (-1: censored); ``idl``: id 0..n_id-1."""

    start: np.ndarray
    stop: np.ndarray
    to: np.ndarray
    cur: np.ndarray
    idl: np.ndarray
    first: np.ndarray
    n_id: int


# --------------------------------------------------------------------------- public API

def aalen_johansen(start, stop, to, id, istate, states, group=None, *, censored="censored",
                   tau=None, conf_level=0.95, conf_type="log",
                   initial_influence=False) -> MultiStateFit:
    """Aalen–Johansen estimate by group = ``survfit(Surv(start, stop, to) ~ group, id = id,
    istate = istate)`` (survival 3.5-3), with ``summary(fit, rmean = tau)``'s rmean table.

    Parameters
    ----------
    start, stop : array of float
        The intervals (start, stop], start >= 0, start < stop; an id's intervals contiguous.
    to : array
        The state entered at ``stop`` (a value of ``states``), or ``censored``.
    id : array
        Id of each interval (R's ``id``; the IJ variance is clustered on it).
    istate : scalar or array
        State at the start of follow-up: one state for all, or one value per interval as R's
        ``istate`` (the first interval of each id is used; the others must equal the state the
        id is in, else R's survcheck stops).
    states : sequence
        The states, in output order.
    group : array, optional
        Group (arm) of each interval, constant within an id; curves in sorted group order.
    censored : scalar
        The value of ``to`` meaning censored.
    tau : float, optional
        Truncation time for the expected time in each state (R's ``rmean``).
    conf_level, conf_type
        R's ``conf.int`` and ``conf.type`` (``"log"`` is the multi-state default).
    initial_influence : bool
        R's ``influence = TRUE``: the SEs include the influence of the estimated p0.

    Returns
    -------
    MultiStateFit
    """
    states = tuple(states)
    if len(set(states)) != len(states) or len(states) < 2:
        raise ValueError("states must be at least two distinct values")
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")
    if tau is not None and not (np.isfinite(tau) and tau >= 0):
        raise ValueError(f"tau must be a finite time >= 0, got {tau!r}")
    curves = []
    for g, rows in _group_rows(*_input_arrays(start, stop, to, id, istate, states, group,
                                              censored)):
        curves.append(_curve(rows, g, states, tau, conf_level, conf_type, initial_influence))
    return MultiStateFit(states, tuple(c.group for c in curves), tuple(curves))


def ms_confint(pstate, std_err, conf_level=0.95, conf_type="log"):
    """Pointwise CI of a state probability as survival's ``survfit_confint(p, se, logse = FALSE,
    conf.type, conf.int)``: the SE is first turned into se/p (0 where se = 0).

    Returns ``(lower, upper)``; NaN where R gives NA (log, logit, arcsin at p = 0; log-log at
    p = 0 or 1); ``"none"``: NaN bounds.
    """
    p = np.asarray(pstate, float)
    se = np.asarray(std_err, float)
    z = float(z_quantile(conf_level))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = np.where(se == 0, 0.0, se / p)
        xx = np.where(p == 0, np.nan, p)
        if conf_type == "plain":
            se2 = s * p * z
            return np.maximum(p - se2, 0.0), np.minimum(p + se2, 1.0)
        if conf_type == "log":
            return np.exp(np.log(xx) - z * s), np.minimum(np.exp(np.log(xx) + z * s), 1.0)
        if conf_type == "log-log":
            xx = np.where(p == 1, np.nan, xx)
            se2 = z * s / np.log(xx)
            return (np.exp(-np.exp(np.log(-np.log(xx)) - se2)),
                    np.exp(-np.exp(np.log(-np.log(xx)) + se2)))
        if conf_type == "logit":
            se2 = z * s * (1 + xx / (1 - xx))
            lp = np.log(p / (1 - p))
            return 1 - 1 / (1 + np.exp(lp - se2)), 1 - 1 / (1 + np.exp(lp + se2))
        if conf_type == "arcsin":
            se2 = 0.5 * z * s * np.sqrt(xx / (1 - xx))
            a = np.arcsin(np.sqrt(xx))
            return (np.sin(np.maximum(0, a - se2)) ** 2,
                    np.sin(np.minimum(np.pi / 2, a + se2)) ** 2)
        if conf_type == "none":
            return np.full(p.shape, np.nan), np.full(p.shape, np.nan)
    raise ValueError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")


def pstate_at(curve: MultiStateCurve, times) -> dict:
    """State probabilities at given times, as ``summary(fit, times = t)`` (``extend = FALSE``).

    The curve is right-continuous; before the first time it is p0 (SE ``sp0``); after the last
    time it is not estimable (NaN: R drops those times).  Returns ``time``, ``pstate``,
    ``std_err``, ``lower``, ``upper`` (len(times), S).
    """
    times = np.asarray(times, float)
    idx = np.searchsorted(curve.time, times, side="right") - 1
    p = np.vstack([curve.p0, curve.pstate])[idx + 1]
    se = np.vstack([curve.sp0, curve.std_err])[idx + 1]
    out = times[:, None] > curve.time[-1]
    p = np.where(out, np.nan, p)
    se = np.where(out, np.nan, se)
    lo, hi = ms_confint(p, se, curve.conf_level, curve.conf_type)
    return {"time": times, "pstate": p, "std_err": se, "lower": lo, "upper": hi}


def rmean_difference(curve1: MultiStateCurve, curve0: MultiStateCurve,
                     conf_level=0.95) -> RMeanDifference:
    """Between-group difference in expected time in each state up to tau, ``curve1 - curve0``
    (independent groups: variances add), with Wald CI and two-sided p."""
    if curve1.tau != curve0.tau or not np.isfinite(curve1.tau):
        raise ValueError("both curves need the same finite tau")
    est = curve1.rmean - curve0.rmean
    se = np.hypot(curve1.rmean_se, curve0.rmean_se)
    lo, hi = wald_ci(est, se, conf_level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = p_two_sided(est / se)
    return RMeanDifference(curve1.states, curve1.group, curve0.group, curve1.tau, est, se,
                           lo, hi, p, conf_level)


# --------------------------------------------------------------------------- input checks

def _codes(values, states, what, censored=None, allow_censored=False) -> np.ndarray:
    """Integer codes of ``values`` in ``states`` (-1: ``censored``); unknown values stop."""
    cat = pd.Categorical(values, categories=list(states))
    codes = np.asarray(cat.codes, dtype=np.int16)
    bad = codes < 0
    if bad.any():
        vals = np.asarray(values, dtype=object)[bad] if np.ndim(values) else np.array([values])
        ok = pd.Series(vals, dtype=object).eq(censored).to_numpy() if allow_censored \
            else np.zeros(len(vals), bool)
        if not ok.all():
            row = int(np.flatnonzero(bad)[np.argmin(ok)])
            raise ValueError(f"{what}: value {vals[np.argmin(ok)]!r} (row {row}) is not one of "
                             f"the states {list(states)}" + (f" nor {censored!r}"
                                                              if allow_censored else ""))
    return codes


def _input_arrays(start, stop, to, id, istate, states, group, censored):
    """Validated arrays sorted by (group, id, start) and the sort order (original rows)."""
    start = np.asarray(start, dtype=float)
    stop = np.asarray(stop, dtype=float)
    n = start.size
    if stop.size != n or n == 0:
        raise ValueError("start and stop must be non-empty and of equal length")
    if np.isnan(start).any() or np.isnan(stop).any():
        raise ValueError("missing start or stop times")
    if (start < 0).any():
        raise ValueError(f"start < 0 at row {int(np.argmax(start < 0))}")
    if not (start < stop).all():
        raise ValueError(f"start >= stop at row {int(np.argmax(~(start < stop)))}")
    to_c = _codes(to, states, "to", censored, allow_censored=True)
    row_istate = np.ndim(istate) > 0
    ist = _codes(istate, states, "istate") if row_istate else \
        np.full(n, _codes([istate], states, "istate")[0], dtype=np.int16)
    idc, id_labels = pd.factorize(np.asarray(id), sort=False)
    if (idc < 0).any():
        raise ValueError(f"missing id at row {int(np.argmax(idc < 0))}")
    if group is None:
        gc, glab = np.zeros(n, np.int64), np.array([None], dtype=object)
    else:
        gc, glab = pd.factorize(np.asarray(group), sort=True)
        if (gc < 0).any():
            raise ValueError(f"missing group at row {int(np.argmax(gc < 0))}")
    order = _sort_order(gc, idc, start)
    if order is not None:
        start, stop, to_c, ist, idc, gc = (a[order] for a in (start, stop, to_c, ist, idc, gc))
    return start, stop, to_c, ist, row_istate, idc, np.asarray(id_labels), gc, glab, order


def _sort_order(gc, idc, start):
    """The permutation that sorts rows by (group, id, start), None if they are sorted; rows
    already sorted by (id, start) only need a stable sort on the group code."""
    if not _is_sorted(idc, start):
        return np.lexsort((start, idc, gc))
    if (np.diff(gc) >= 0).all():
        return None
    small = gc.astype(np.int16) if gc.max() < 2 ** 15 else gc
    return np.argsort(small, kind="stable")


def _is_sorted(*keys) -> bool:
    """Whether rows are sorted lexicographically by ``keys`` (the first the primary)."""
    eq = np.ones(keys[0].size - 1, bool)
    for k in keys:
        d = np.diff(k)
        if (eq & (d < 0)).any():
            return False
        eq &= d == 0
    return True


def _group_rows(start, stop, to, ist, row_istate, idc, id_labels, gc, glab, order):
    """Check each id's intervals (contiguous, one group, istate consistent), chain the current
    state, merge interior censored intervals (R), and yield (group label, _Rows) per group."""
    n = start.size
    rowno = order if order is not None else np.arange(n)
    first = np.r_[True, (idc[1:] != idc[:-1]) | (gc[1:] != gc[:-1])]
    last = np.r_[first[1:], True]
    cont = ~first
    _check(first & (np.bincount(idc[first], minlength=id_labels.size) > 1)[idc], rowno, idc,
           id_labels, "an id's intervals are in more than one group")
    prev_stop = np.r_[np.nan, stop[:-1]]
    _check(cont & (start > prev_stop), rowno, idc, id_labels,
           "gap between an id's intervals (R's survcheck flag 'gap')")
    _check(cont & (start < prev_stop), rowno, idc, id_labels,
           "overlapping intervals (R's survcheck flag 'overlap')")
    prev_to = np.r_[np.int16(-1), to[:-1]]
    src = np.where(first, ist, prev_to)
    valid = first | (prev_to >= 0)
    cur = src[np.maximum.accumulate(np.where(valid, np.arange(n), 0))]
    if row_istate:
        _check(cont & (ist != cur), rowno, idc, id_labels,
               "istate differs from the state the id is in (R's survcheck 'teleport')")
    del prev_stop, prev_to, src, valid
    keep = first | last | (to >= 0)
    kept = np.flatnonzero(keep)
    new_start = start[np.r_[-1, kept[:-1]] + 1]
    start, stop, to, cur, idc, gc, first = (new_start, stop[kept], to[kept], cur[kept],
                                            idc[kept], gc[kept], first[kept])
    bounds = np.flatnonzero(np.r_[True, gc[1:] != gc[:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        f = first[lo:hi]
        idl = np.cumsum(f) - 1
        label = glab[gc[lo]]
        label = label.item() if isinstance(label, np.generic) else label
        yield label, _Rows(start[lo:hi], stop[lo:hi], to[lo:hi], cur[lo:hi], idl, f,
                           int(f.sum()))


def _check(bad, rowno, idc, id_labels, message):
    if bad.any():
        r = int(np.argmax(bad))
        label = id_labels[idc[r]]
        label = label.item() if isinstance(label, np.generic) else label
        raise ValueError(f"{message}: row {int(rowno[r])}, id {label!r}")


# --------------------------------------------------------------------------- one curve

def _curve(rows: _Rows, group, states, tau, conf_level, conf_type, initial_influence):
    """The Aalen–Johansen curve of one group (see the module docstring)."""
    ns = len(states)
    times = np.unique(rows.stop)
    nt = times.size
    m = np.searchsorted(times, rows.stop) + 1                 # exit index, 1..T
    l = np.searchsorted(times, rows.start, side="right") + 1  # first index at risk
    mover = (rows.to >= 0) & (rows.to != rows.cur)
    c = _counts(l, m, rows.cur, rows.to, mover, nt, ns)
    p0, i0 = _initial(rows, times, ns, initial_influence)
    H, f = _transition_matrices(c["n_risk"], c["N"], nt, ns)
    scan = _Scanner(H[1:])
    p = scan.right(np.zeros((nt, 1, ns)), p0[None, :])[:, 0, :]          # p[k], k = 0..T
    f[1:] *= p[:-1]
    K = -f[:, :, None] * (H - np.eye(ns))                                   # k_a(k), rows a
    Q = scan.right(K[1:], np.zeros((ns, ns)))
    y, w = _interval_influence(rows, l, m, mover, H, Q, f, i0, scan)
    G = scan.congruence(_gram_increments(rows, l, m, mover, H, Q, f, K, c, y, w, scan),
                        i0.T @ i0)
    se = _std_err(G, p)
    lo, hi = ms_confint(p[1:], se[1:], conf_level, conf_type)
    cumhaz = np.cumsum(H[1:] - np.eye(ns), axis=0)
    if tau is None:
        rm = rse = np.full(ns, np.nan)
        tau = np.nan
    else:
        rm, rse = _rmean(rows, l, m, mover, times, float(tau), H, Q, f, p, i0)
    return MultiStateCurve(group, tuple(states), times, c["n_risk"][1:], c["n_event"][1:],
                           c["n_censor"][1:], p[1:], se[1:], lo, hi, cumhaz, p0, se[0],
                           int(rows.start.size), rows.n_id, conf_level, conf_type, float(tau),
                           rm, rse)


def _counts(l, m, cur, to, mover, nt, ns) -> dict:
    """Numbers at risk by state, transitions N[k, from, to], censorings, by time index 0..T."""
    size = (nt + 2) * ns
    enter = np.bincount(l * ns + cur, minlength=size)
    leave = np.bincount((m + 1) * ns + cur, minlength=size)
    n_risk = np.cumsum((enter - leave).reshape(nt + 2, ns), axis=0)[:nt + 1]
    N = np.bincount((m[mover] * ns + cur[mover]) * ns + to[mover],
                    minlength=(nt + 1) * ns * ns).reshape(nt + 1, ns, ns).astype(float)
    n_censor = np.bincount(m[to < 0], minlength=nt + 1)
    return {"n_risk": n_risk, "N": N, "n_event": N.sum(axis=1).astype(np.int64),
            "n_censor": n_censor}


def _initial(rows: _Rows, times, ns, initial_influence):
    """p0 over the intervals at risk at the first move (R's at.zero) and the ids' influence
    on it (zero unless ``initial_influence`` and no p0_j is 1, as docurve2)."""
    moved = rows.to >= 0
    t0 = rows.stop[moved].min() if moved.any() else times[-1]
    at0 = (rows.start < t0) & (rows.stop >= t0)
    n0 = int(at0.sum())
    p0 = np.bincount(rows.cur[at0], minlength=ns) / n0
    i0 = np.zeros((rows.n_id, ns))
    if initial_influence and (p0 < 1).all():
        i0[rows.idl[at0]] = (np.eye(ns)[rows.cur[at0]] - p0) / n0
    return p0, i0


def _transition_matrices(n_risk, N, nt, ns):
    """H[k] = I + dA(k) (rows sum to 1; I where nobody moves) and 1/n_a(k) where state a is
    at risk at a time with moves (0 elsewhere), by time index 0..T (H[0] = I)."""
    H = np.broadcast_to(np.eye(ns), (nt + 1, ns, ns)).copy()
    moves = N.sum(axis=(1, 2)) > 0
    nr = n_risk.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where((nr > 0) & moves[:, None], 1.0 / nr, 0.0)
    off = N * inv[:, :, None]
    H += off
    idx = np.arange(ns)
    H[:, idx, idx] = np.where(inv > 0, 1.0 - N.sum(axis=2) * inv, 1.0)
    return H, inv


# --------------------------------------------------------------------------- influence

def _interval_influence(rows, l, m, mover, H, Q, f, i0, scan):
    """Per interval r (state a, at risk at indices l..m): w_r = U_i(l-1) - Q_a(l-1) and
    y_r = w_r H(l)...H(m-1), so that U_i(k) = w_r H(l)...H(k) + Q_a(k) for l-1 <= k < m and
    U_i(m) = y_r H(m) + Q_a(m) + p_a(m-1)/n_a(m) (e_to - e_a) for a move.  Chained along each
    id's intervals (the next starts at index m), in steps over the interval's rank in its id."""
    ns = H.shape[1]
    fpos = np.flatnonzero(rows.first)
    cnt = np.diff(np.r_[fpos, rows.start.size])
    ids = np.argsort(-cnt, kind="stable")
    fpos, cnt = fpos[ids], cnt[ids]
    U = i0[ids]
    y = np.empty((rows.start.size, ns))
    w = np.empty_like(y)
    for j in range(int(cnt[0])):
        nj = int(np.searchsorted(-cnt, -j, side="left"))      # ids with more than j intervals
        r = fpos[:nj] + j
        a, li, mi = rows.cur[r], l[r] - 1, m[r]
        w[r] = wr = U[:nj] - Q[li, a]
        y[r] = yr = scan.apply(wr, li, mi - 1)
        ue = _vecmat(yr, H, mi)
        ue += Q[mi, a]
        mv = np.flatnonzero(mover[r])
        fa = f[mi[mv], a[mv]]
        ue[mv, rows.to[r[mv]]] += fa
        ue[mv, a[mv]] -= fa
        U[:nj] = ue
    return y, w


def _gram_increments(rows, l, m, mover, H, Q, f, K, c, y, w, scan):
    """F(k) with G(k) = H' G(k-1) H + F(k): F = X + X' + C, X = sum_i (U_i(k-1) H)' c_i,
    C = sum_i c_i' c_i over ids at risk at k (c_i = k_a + moves' p_a/n_a (e_b - e_a))."""
    nt, ns = H.shape[0] - 1, H.shape[1]
    cur, a_idx = rows.cur, np.arange(ns)
    enter = _accumulate((l - 1) * ns + cur, w, (nt + 1) * ns).reshape(nt + 1, ns, ns)
    exit_ = _accumulate(m * ns + cur, y, (nt + 1) * ns).reshape(nt + 1, ns, ns)
    Z = scan.right(enter[1:] - exit_[1:] @ H[1:], enter[0])              # Z[k-1] used at k
    S = c["n_risk"][1:, :, None] * Q[:-1] + Z[:-1]                        # sum U(k-1), risk set
    X = np.einsum("kai,kaj->kij", S @ H[1:], K[1:])
    # moves: (U_i(k-1) H)' p_a/n_a (e_b - e_a), with U_i(k-1) = y_r + Q_a(k-1)
    mv = np.flatnonzero(mover)
    a, b, k = cur[mv], rows.to[mv], m[mv]
    yh = _vecmat(y[mv], H, k) * f[k, a][:, None]
    xm = _accumulate(k * ns + b, yh, (nt + 1) * ns) - _accumulate(k * ns + a, yh, (nt + 1) * ns)
    X += xm.reshape(nt + 1, ns, ns)[1:].transpose(0, 2, 1)
    W = c["N"][1:] * f[1:, :, None]                                       # N_ab p_a / n_a
    Wsum = W.sum(axis=2)
    QH = Q[:-1] @ H[1:]
    X += np.einsum("kai,kab->kib", QH, W) - QH.transpose(0, 2, 1) * Wsum[:, None, :]
    E = W.copy()
    E[:, a_idx, a_idx] -= Wsum
    Kk = K[1:]
    V = W * f[1:, :, None]
    C = np.einsum("kai,ka,kaj->kij", Kk, c["n_risk"][1:].astype(float), Kk)
    KE = np.einsum("kai,kaj->kij", Kk, E)
    C += KE + KE.transpose(0, 2, 1) - V - V.transpose(0, 2, 1)
    C[:, a_idx, a_idx] += V.sum(axis=1) + V.sum(axis=2)
    return X + X.transpose(0, 2, 1) + C


def _std_err(G, p):
    """sqrt(G_jj).  Each id's influence sums to 0 over the states (p sums to 1), so G_jj also
    equals the sum of G over the other states' block; that form is used where p_j > 1/2: its
    terms are small there, and it is exactly 0 when everyone is in state j (R's ~1e-17), where
    G_jj keeps rounding noise of ~1e-18 (a SE of ~1e-9)."""
    ns = G.shape[1]
    var = np.diagonal(G, axis1=1, axis2=2).copy()
    for j in range(ns):
        big = p[:, j] > 0.5
        if big.any():
            others = np.delete(np.arange(ns), j)
            var[big, j] = G[big][:, others][:, :, others].sum(axis=(1, 2))
    return np.sqrt(np.maximum(var, 0.0))


def _rmean(rows, l, m, mover, times, tau, H, Q, f, p, i0):
    """Expected time in each state on [0, tau] (R's survmean2 after survfit0) and its IJ SE:
    A_i = sum_k delta_k U_i(k) telescopes to i0_i R(0) + sum over the id's intervals of
    (Q_a(m) + jump) R(m) - Q_a(l-1) R(l-1) + sum_{k=l-1}^{m-1} delta_k Q_a(k), with
    R(u) = sum_{k>=u} delta_k H(u+1)...H(k)."""
    nt, ns = times.size, H.shape[1]
    tt = np.r_[0.0, times]
    nxt = np.minimum(np.r_[times, tau], tau)
    delta = np.where(tt < tau, nxt - tt, 0.0)
    rmean = delta @ p
    # R(u)' = delta_u I + R(u+1)' H(u+1)': a forward scan over reversed time
    back = _Scanner(H[:0:-1].transpose(0, 2, 1))
    eye = np.eye(ns)
    Rt = back.right(delta[nt - 1::-1, None, None] * eye, delta[nt] * eye)[::-1]
    R = Rt.transpose(0, 2, 1)
    CQ = np.cumsum(delta[:, None, None] * Q, axis=0)
    cur, a = rows.cur, rows.cur
    end = Q[m, a]
    mv = np.flatnonzero(mover)
    fa = f[m[mv], a[mv]]
    end[mv, rows.to[mv]] += fa
    end[mv, a[mv]] -= fa
    lm2 = l - 2
    cq_before = np.where((lm2 >= 0)[:, None], CQ[np.maximum(lm2, 0), cur], 0.0)
    alpha = _vecmat(end, R, m) - _vecmat(Q[l - 1, cur], R, l - 1) + CQ[m - 1, cur] - cq_before
    A = _accumulate(rows.idl, alpha, rows.n_id) + i0 @ R[0]
    return rmean, np.sqrt((A ** 2).sum(axis=0))


# --------------------------------------------------------------------------- numerics

def _vecmat(v, mats, idx, chunk=1 << 17):
    """v[r] @ mats[idx[r]] for each r (the gathered matrices in chunks of rows)."""
    out = np.empty((v.shape[0], mats.shape[2]))
    for s in range(0, v.shape[0], chunk):
        np.einsum("ri,rij->rj", v[s:s + chunk], mats[idx[s:s + chunk]], out=out[s:s + chunk])
    return out


def _accumulate(index, values, size):
    """Sums of the rows of ``values`` (n, d) by ``index`` -> (size, d)."""
    return np.stack([np.bincount(index, weights=values[:, j], minlength=size)
                     for j in range(values.shape[1])], axis=1)


class _Scanner:
    """Linear recursions over time with one sequence of matrices M[1..T] (given as M[0..T-1]):
    ``right``: X(k) = X(k-1) M(k) + C(k); ``congruence``: G(k) = M(k)' G(k-1) M(k) + F(k);
    ``apply``: v M(lo+1)...M(hi) per row.  The recursions run in blocks of ~sqrt(T): within-block
    products vectorised across blocks, then one pass over the blocks; ``apply`` uses products of
    aligned dyadic blocks (O(log T) per row), so nothing is O(T) in Python steps."""

    def __init__(self, M):
        self.T, d, _ = M.shape
        self.d = d
        self.b = max(1, int(np.ceil(np.sqrt(self.T))))
        self.nb = -(-self.T // self.b) if self.T else 0
        Mp = np.broadcast_to(np.eye(d), (self.nb * self.b, d, d)).copy()
        Mp[:self.T] = M
        self.Mp = Mp.reshape(self.nb, self.b, d, d)
        P = np.empty_like(self.Mp)
        if self.nb:
            P[:, 0] = self.Mp[:, 0]
        for i in range(1, self.b):
            P[:, i] = P[:, i - 1] @ self.Mp[:, i]
        self.P = P
        self._table = None

    def _pad(self, C):
        Cp = np.zeros((self.nb * self.b,) + C.shape[1:])
        Cp[:self.T] = C
        return Cp.reshape((self.nb, self.b) + C.shape[1:])

    def right(self, C, x0):
        """X(0) = x0, X(k) = X(k-1) M(k) + C(k) for k = 1..T; returns X(0..T)."""
        Cp = self._pad(C)
        XL = np.empty_like(Cp)
        if self.nb:
            XL[:, 0] = Cp[:, 0]
        for i in range(1, self.b):
            XL[:, i] = XL[:, i - 1] @ self.Mp[:, i] + Cp[:, i]
        xs = np.empty((self.nb,) + np.shape(x0))
        cur = np.asarray(x0, float)
        for q in range(self.nb):
            xs[q] = cur
            cur = cur @ self.P[q, -1] + XL[q, -1]
        X = np.matmul(xs[:, None], self.P) + XL
        return np.concatenate([np.asarray(x0, float)[None], X.reshape((-1,) + np.shape(x0))[:self.T]])

    def congruence(self, F, g0):
        """G(0) = g0, G(k) = M(k)' G(k-1) M(k) + F(k); F given for k = 1..T; returns G(0..T)."""
        Fp = self._pad(F)
        GL = np.empty_like(Fp)
        Mt = self.Mp.transpose(0, 1, 3, 2)
        if self.nb:
            GL[:, 0] = Fp[:, 0]
        for i in range(1, self.b):
            GL[:, i] = Mt[:, i] @ GL[:, i - 1] @ self.Mp[:, i] + Fp[:, i]
        gs = np.empty((self.nb, self.d, self.d))
        cur = np.asarray(g0, float)
        for q in range(self.nb):
            gs[q] = cur
            cur = self.P[q, -1].T @ cur @ self.P[q, -1] + GL[q, -1]
        G = self.P.transpose(0, 1, 3, 2) @ gs[:, None] @ self.P + GL
        return np.concatenate([np.asarray(g0, float)[None], G.reshape(-1, self.d, self.d)[:self.T]])

    def _dyadic(self):
        """Products of aligned blocks of 2^j matrices, all levels stacked, with level offsets."""
        if self._table is None:
            levels = [self.Mp.reshape(-1, self.d, self.d)[:self.T]]
            while levels[-1].shape[0] >= 2:
                x = levels[-1]
                h = x.shape[0] // 2
                levels.append(x[0:2 * h:2] @ x[1:2 * h:2])
            offsets = np.cumsum([0] + [x.shape[0] for x in levels[:-1]])
            self._table = (np.concatenate(levels), offsets)
        return self._table

    def apply(self, v, lo, hi):
        """v[r] M(lo[r]+1) ... M(hi[r]) for each row r (identity where hi <= lo)."""
        table, offsets = self._dyadic()
        y = np.array(v, dtype=float, copy=True)
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.asarray(hi, dtype=np.int64)
        act = np.flatnonzero(lo < hi)
        ya, c, h = y[act], lo[act], hi[act]
        while act.size:
            jl = np.frexp((h - c).astype(float))[1] - 1            # floor(log2(remaining))
            jc = np.where(c == 0, 62, np.frexp((c & -c).astype(float))[1] - 1)
            j = np.minimum(jl, jc)                                   # the largest aligned block
            ya = _vecmat(ya, table, offsets[j] + (c >> j))
            c = c + (np.int64(1) << j)
            done = c >= h
            if done.any():
                y[act[done]] = ya[done]
                keep = ~done
                act, ya, c, h = act[keep], ya[keep], c[keep], h[keep]
        return y
