"""Aalen–Johansen multi-state estimates (rtw.survival.multistate) against R survival 3.5-3.

R calls (tests/survival/reference/multistate.R; CI reads the stored values)::

    fit  <- survfit(Surv(start, stop, to) ~ arm, data, id = id, istate = from)  # default call
    fiti <- survfit(Surv(start, stop, to) ~ arm, data, id = id, istate = from, influence = TRUE)
    summary(fiti, rmean = tau)$table;  summary(fit, times = t)

Data: ``work`` (simulated work status: off_work -> at_work <-> off_work, left_job absorbing;
300 ids per arm, integer days, mixed initial states, late entry, interior and first censored
intervals; make_multistate_data.py), ``myeloid`` (survival's AML trial data, arms A/B, as the
survival vignette's ``sfit4``: entry -> CR / SCT / relapse / death, several intervals per id) and
``mgus2`` (the compete vignette's ``mfit3``: MGUS -> PCM -> death, by sex, months).

Tolerances: pstate abs 1e-8; std.err, CIs, cumhaz, rmean and its SE rel 1e-6 (abs 1e-10: R's
std.err is rounding noise, ~1e-17, where p = 1); counts and time grids exact.  Observed agreement
is ~1e-14.  Beside R: the variance equals a direct port of R's per-id influence recursion (the C
routine survfitci) on random data sets.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtw.survival.multistate import (aalen_johansen, ms_confint, pstate_at,
                                     rmean_difference)

REF = Path(__file__).resolve().parent / "reference"
SPECS = {
    "work": dict(group="arm", start="start", stop="stop", to="to", censored="censored",
                 istate="from", states=("off_work", "at_work", "left_job"),
                 taus=(91.5, 182, 200)),
    "myeloid": dict(group="trt", start="tstart", stop="tstop", to="event", censored="none",
                    istate=None, states=("(s0)", "CR", "SCT", "relapse", "death"),
                    taus=(365, 1461)),
    "mgus2": dict(group="sex", start="tstart", stop="tstop", to="event", censored="censor",
                  istate=None, states=("(s0)", "pcm", "death"), taus=(120, 240)),
}
FULL = ("work", "mgus2")      # data sets with CIs, influence = TRUE SEs and cumhaz stored
PTOL = dict(rtol=0, atol=1e-8)
SETOL = dict(rtol=1e-6, atol=1e-10)


@lru_cache(maxsize=None)
def _data(ds):
    return pd.read_csv(REF / "data" / f"multistate_{ds}.csv")


@lru_cache(maxsize=None)
def _expected(ds, what):
    e = pd.read_csv(REF / "expected" / f"multistate_{ds}_{what}.csv")
    if "group" in e:
        e["group"] = e["group"].astype(str)
    return e


@lru_cache(maxsize=None)
def _fit(ds, influence=False, tau=None, conf_type="log", conf_level=0.95):
    s, d = SPECS[ds], _data(ds)
    istate = d[s["istate"]].to_numpy() if s["istate"] else "(s0)"
    return aalen_johansen(d[s["start"]], d[s["stop"]], d[s["to"]], d["id"], istate, s["states"],
                          d[s["group"]], censored=s["censored"], tau=tau, conf_type=conf_type,
                          conf_level=conf_level, initial_influence=influence)


def _by_curve(ds, what="curve", **kw):
    """(our curve, R's rows for it by state) for each group."""
    e = _expected(ds, what)
    for c in _fit(ds, **kw).curves:
        eg = e[e["group"] == str(c.group)]
        yield c, {st: eg[eg["state"] == st] for st in c.states}


@pytest.mark.parametrize("ds", SPECS)
def test_time_grid_and_counts_match_R_survfit_multistate(ds):
    """time, n.risk, n.event (per state entered), n.censor (R's merge of interior censored
    intervals included): exact."""
    for c, r in _by_curve(ds):
        for j, st in enumerate(c.states):
            np.testing.assert_array_equal(c.time, r[st]["time"])
            np.testing.assert_array_equal(c.n_risk[:, j], r[st]["n_risk"])
            np.testing.assert_array_equal(c.n_event[:, j], r[st]["n_event"])
            np.testing.assert_array_equal(c.n_censor, r[st]["n_censor"])


@pytest.mark.parametrize("ds", SPECS)
def test_pstate_matches_R_survfit_multistate(ds):
    for c, r in _by_curve(ds):
        for j, st in enumerate(c.states):
            np.testing.assert_allclose(c.pstate[:, j], r[st]["pstate"], **PTOL)
        np.testing.assert_allclose(c.pstate.sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("ds", SPECS)
def test_std_err_matches_R_survfit_multistate_infinitesimal_jackknife(ds):
    """The default call (influence = FALSE): IJ SE clustered on id, no p0 term."""
    for c, r in _by_curve(ds):
        for j, st in enumerate(c.states):
            np.testing.assert_allclose(c.std_err[:, j], r[st]["std_err"], **SETOL)


@pytest.mark.parametrize("ds", FULL)
def test_std_err_with_initial_influence_matches_R_survfit_influence_true(ds):
    """influence = TRUE adds the influence of the estimated p0 (work: 10% start at work)."""
    for c, r in _by_curve(ds, influence=True):
        for j, st in enumerate(c.states):
            np.testing.assert_allclose(c.std_err[:, j], r[st]["std_err_infl"], **SETOL)
    if ds == "work":   # the two calls differ there, so the test can tell them apart
        base, infl = _fit(ds).curves[0], _fit(ds, influence=True).curves[0]
        assert np.abs(base.std_err - infl.std_err).max() > 1e-3
        assert (infl.sp0[:2] > 0).all() and (base.sp0 == 0).all()   # nobody starts in left_job


def _assert_ci(ours, theirs):
    theirs = theirs.to_numpy(float)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    ok = ~np.isnan(theirs)
    np.testing.assert_allclose(ours[ok], theirs[ok], **SETOL)


@pytest.mark.parametrize("ds", FULL)
@pytest.mark.parametrize("influence", [False, True])
def test_log_ci_matches_R_survfit_multistate(ds, influence):
    """R's default conf.type for multi-state survfit is "log" (NA at p = 0)."""
    sfx = "_infl" if influence else ""
    for c, r in _by_curve(ds, influence=influence):
        for j, st in enumerate(c.states):
            _assert_ci(c.lower[:, j], r[st]["lower" + sfx])
            _assert_ci(c.upper[:, j], r[st]["upper" + sfx])


@pytest.mark.parametrize("conf_type", ["log-log", "plain", "logit", "arcsin"])
def test_conf_types_match_R_survfit_confint(conf_type):
    """survfit(..., conf.type = ct, conf.int = 0.90) on the work data."""
    e = _expected("work", "ci")
    e = e[e["conf_type"] == conf_type]
    for c in _fit("work", conf_type=conf_type, conf_level=0.90).curves:
        eg = e[e["group"] == str(c.group)]
        for j, st in enumerate(c.states):
            _assert_ci(c.lower[:, j], eg[eg["state"] == st]["lower"])
            _assert_ci(c.upper[:, j], eg[eg["state"] == st]["upper"])


@pytest.mark.parametrize("ds", FULL)
def test_cumhaz_matches_R_survfit_multistate(ds):
    """Nelson–Aalen cumulative hazard of each observed transition (R's cumhaz columns)."""
    e = _expected(ds, "cumhaz")
    for c in _fit(ds).curves:
        eg = e[e["group"] == str(c.group)]
        for (fr, to), r in eg.groupby(["from", "to"]):
            i, j = c.states.index(fr), c.states.index(to)
            np.testing.assert_allclose(c.cumhaz[:, i, j], r["cumhaz"], rtol=1e-6, atol=1e-12)


RMEAN_CASES = [(ds, tau) for ds, s in SPECS.items() for tau in s["taus"]]


@pytest.mark.parametrize("ds,tau", RMEAN_CASES)
def test_rmean_and_se_match_R_summary_survfitms_rmean(ds, tau):
    """summary(survfit(..., influence = TRUE), rmean = tau)$table: rmean, se(rmean) (tau past the
    last time on the work data: the last curve value carried to tau)."""
    e = _expected(ds, "rmean")
    e = e[e["tau"] == tau]
    for c in _fit(ds, influence=True, tau=tau).curves:
        eg = e[e["group"] == str(c.group)].set_index("state").loc[list(c.states)]
        np.testing.assert_allclose(c.rmean, eg["rmean"], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(c.rmean_se, eg["se_rmean"], **SETOL)
        assert c.rmean.sum() == pytest.approx(tau)


@pytest.mark.parametrize("ds,tau", RMEAN_CASES)
def test_rmean_difference_matches_R_rmean_table_difference(ds, tau):
    """Second group minus first, variances added (arms independent), from R's rmean table."""
    e = _expected(ds, "rmean")
    fit = _fit(ds, influence=True, tau=tau)
    g0, g1 = fit.curves
    diff = rmean_difference(g1, g0)
    r = e[(e["tau"] == tau) & (e["group"] == f"{g1.group} - {g0.group}")]
    r = r.set_index("state").loc[list(fit.states)]
    np.testing.assert_allclose(diff.estimate, r["rmean"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(diff.se, r["se_rmean"], **SETOL)
    z = 1.959963984540054
    np.testing.assert_allclose(diff.lower, diff.estimate - z * diff.se, rtol=1e-12)
    np.testing.assert_allclose(diff.upper, diff.estimate + z * diff.se, rtol=1e-12)
    assert ((diff.p_value > 0) & (diff.p_value <= 1)).all()


@pytest.mark.parametrize("ds", SPECS)
def test_pstate_at_times_matches_R_summary_survfit_times(ds):
    e = _expected(ds, "at")
    times = np.sort(e["time"].unique())
    for c in _fit(ds).curves:
        eg = e[e["group"] == str(c.group)]
        at = pstate_at(c, times)
        for j, st in enumerate(c.states):
            r = eg[eg["state"] == st].set_index("time").loc[times]
            np.testing.assert_allclose(at["pstate"][:, j], r["pstate"], **PTOL)
            np.testing.assert_allclose(at["std_err"][:, j], r["std_err"], **SETOL)
            _assert_ci(at["lower"][:, j], r["lower"])
            _assert_ci(at["upper"][:, j], r["upper"])


def test_pstate_at_is_p0_before_the_first_time_and_nan_after_the_last():
    c = _fit("work", influence=True).curves[0]
    at = pstate_at(c, [0.0, c.time[-1] + 1])
    np.testing.assert_array_equal(at["pstate"][0], c.p0)
    np.testing.assert_array_equal(at["std_err"][0], c.sp0)
    assert np.isnan(at["pstate"][1]).all()


# --------------------------------------------------------------------------- beside R

def _random_long(seed, n_id=40, ns=3, horizon=40):
    """Random multi-state long data: ties, late entry, interior / first censored splits,
    moves into the current state, an absorbing last state, mixed initial states."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_id):
        s = int(rng.integers(0, ns - 1))
        t = float(rng.choice([0, 0, 0, 2, 5]))
        end = float(rng.integers(int(t) + 3, horizon + 1))
        first_state = s
        while True:
            dt = float(rng.integers(1, 9))
            if t + dt >= end:
                rows.append((i, t, end, -1, s))
                break
            if rng.random() < 0.15 and dt > 1:
                rows.append((i, t, t + 1, -1, s))
                t, dt = t + 1, dt - 1
            nxt = int(rng.integers(0, ns))
            rows.append((i, t, t + dt, nxt, s))
            t, s = t + dt, nxt
            if s == ns - 1:
                break
        del first_state
    d = pd.DataFrame(rows, columns=["id", "start", "stop", "to", "from"])
    d["arm"] = d["id"] % 2
    return d


def _direct(d, ns, influence, tau):
    """R's survfitci / docurve2 verbatim for one group: every id's influence row updated at
    every time (O(n_id x n_times)); returns times, pstate, std.err and the rmean SE."""
    ids, idx = np.unique(d["id"], return_inverse=True)
    start, stop, to = (d[k].to_numpy() for k in ("start", "stop", "to"))
    init = d.groupby("id")["from"].first().loc[ids].to_numpy()
    times = np.unique(stop)
    t0 = stop[to >= 0].min() if (to >= 0).any() else stop.max()
    at0 = (start < t0) & (stop >= t0)
    p = np.bincount(d["from"].to_numpy()[at0], minlength=ns) / at0.sum()
    U = np.zeros((ids.size, ns))
    if influence and (p < 1).all():
        U[idx[at0]] = (np.eye(ns)[d["from"].to_numpy()[at0]] - p) / at0.sum()
    cstate, dstate, atrisk = init.copy(), init.copy(), np.zeros(ids.size, bool)
    nstate, entered = np.zeros(ns), np.zeros(len(d), bool)
    P, SE, Us = [], [], [U.copy()]
    for t in times:
        for r in np.flatnonzero(~entered & (start < t)):
            entered[r] = True
            nstate[cstate[idx[r]]] += 1
            atrisk[idx[r]] = True
        rows = np.flatnonzero(stop == t)
        hm = np.zeros((ns, ns))
        for r in rows:
            if to[r] >= 0 and to[r] != cstate[idx[r]]:
                dstate[idx[r]] = to[r]
                hm[cstate[idx[r]], to[r]] += 1
        if hm.sum() > 0:
            H = np.eye(ns)
            for j in np.flatnonzero(nstate > 0):
                H[j] = hm[j] / nstate[j]
                H[j, j] = 1 - hm[j].sum() / nstate[j]
            U = U @ H
            for i in np.flatnonzero(atrisk):
                a = cstate[i]
                U[i] -= H[a] * p[a] / nstate[a]
                U[i, dstate[i]] += p[a] / nstate[a]
            p = p @ H
        P.append(p)
        SE.append(np.sqrt((U ** 2).sum(axis=0)))
        Us.append(U.copy())
        for r in rows:
            nstate[cstate[idx[r]]] -= 1
            if to[r] >= 0:
                cstate[idx[r]] = to[r]
            atrisk[idx[r]] = False
    tt = np.r_[0.0, times]
    delta = np.where(tt < tau, np.minimum(np.r_[times, tau], tau) - tt, 0.0)
    A = np.einsum("k,kij->ij", delta, np.array(Us))
    return times, np.array(P), np.array(SE), np.sqrt((A ** 2).sum(axis=0))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("influence", [False, True])
def test_std_err_and_rmean_se_equal_R_per_id_influence_recursion(seed, influence):
    """The cumulative computation (no id x time work) equals R's own recursion on random data."""
    ns = 3 + seed % 2
    d = _random_long(seed, n_id=30 + 7 * seed, ns=ns, horizon=25 + 10 * seed)
    tau = float(d["stop"].max()) * 0.7
    fit = aalen_johansen(d["start"], d["stop"], d["to"], d["id"], d["from"].to_numpy(),
                         list(range(ns)), d["arm"], censored=-1, tau=tau,
                         initial_influence=influence)
    for c in fit.curves:
        times, P, SE, rse = _direct(d[d["arm"] == c.group], ns, influence, tau)
        assert set(c.time) <= set(times)
        at = pstate_at(c, times)
        np.testing.assert_allclose(at["pstate"], P, rtol=0, atol=1e-12)
        np.testing.assert_allclose(at["std_err"], SE, rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(c.rmean_se, rse, rtol=1e-9, atol=1e-14)


EDGE = {   # (id, start, stop, to, from)
    "one_censored_interval": [(1, 0, 5, -1, 0)],
    "one_id_one_move": [(1, 0, 3, 1, 0), (1, 3, 9, -1, 1)],
    "nobody_moves": [(1, 0, 4, -1, 0), (2, 1, 6, -1, 1), (3, 0, 6, -1, 0)],
    "everyone_absorbed": [(1, 0, 2, 1, 0), (1, 2, 5, 2, 1), (2, 0, 5, 2, 0), (3, 1, 3, 2, 0)],
    "late_entry_after_the_moves": [(1, 0, 2, 1, 0), (2, 0, 4, -1, 0), (3, 5, 8, -1, 0)],
    "move_into_the_current_state": [(1, 0, 2, 0, 0), (1, 2, 6, 1, 0), (2, 0, 6, -1, 0)],
}


@pytest.mark.parametrize("case", EDGE)
@pytest.mark.parametrize("influence", [False, True])
def test_edge_cases_equal_R_per_id_influence_recursion(case, influence):
    d = pd.DataFrame(EDGE[case], columns=["id", "start", "stop", "to", "from"])
    fit = aalen_johansen(d["start"], d["stop"], d["to"], d["id"], d["from"].to_numpy(),
                         [0, 1, 2], censored=-1, tau=4.5, initial_influence=influence)
    c = fit.curve(None)
    times, P, SE, rse = _direct(d, 3, influence, 4.5)
    at = pstate_at(c, times)
    np.testing.assert_allclose(at["pstate"], P, atol=1e-14)
    np.testing.assert_allclose(at["std_err"], SE, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(c.rmean_se, rse, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(c.rmean.sum(), 4.5)


def test_row_order_and_id_type_do_not_change_the_fit():
    d = _data("work")
    s = SPECS["work"]
    sh = d.sample(frac=1.0, random_state=3)
    a = _fit("work", tau=182)
    b = aalen_johansen(sh["start"], sh["stop"], sh["to"], "p" + sh["id"].astype(str),
                       sh["from"].to_numpy(), s["states"], sh["arm"], tau=182)
    for ca, cb in zip(a.curves, b.curves):
        for k in ("time", "pstate", "std_err", "n_risk", "n_censor", "rmean", "rmean_se"):
            np.testing.assert_allclose(getattr(cb, k), getattr(ca, k), rtol=1e-12, atol=1e-15)


def test_single_group_without_group_argument():
    d = _data("work")
    d = d[d["arm"] == 1]
    s = SPECS["work"]
    one = aalen_johansen(d["start"], d["stop"], d["to"], d["id"], d["from"].to_numpy(),
                         s["states"])
    assert one.groups == (None,)
    np.testing.assert_allclose(one.curve(None).pstate, _fit("work").curve(1).pstate)


def test_ms_confint_plain_is_symmetric_and_clipped():
    lo, hi = ms_confint(np.array([0.5, 0.01, 1.0]), np.array([0.1, 0.05, 0.0]), 0.95, "plain")
    np.testing.assert_allclose(lo, [0.5 - 1.959963984540054 * 0.1, 0.0, 1.0])
    np.testing.assert_allclose(hi, [0.5 + 1.959963984540054 * 0.1, 0.01 + 1.959963984540054 * 0.05,
                                    1.0])


BAD = {
    "gap": ([0, 6], [5, 10], ["b", "c"], "gap"),
    "overlap": ([0, 4], [5, 10], ["b", "c"], "overlapping"),
    "start_after_stop": ([0, 5], [5, 5], ["b", "c"], "start >= stop"),
    "unknown_state": ([0, 5], [5, 10], ["x", "c"], "not one of the states"),
}


@pytest.mark.parametrize("case", BAD)
def test_invalid_intervals_stop_with_row_and_id(case):
    start, stop, to, msg = BAD[case]
    with pytest.raises(ValueError, match=msg):
        aalen_johansen(start, stop, to, ["id7", "id7"], "a", ["a", "b"], censored="c")


def test_istate_that_contradicts_the_previous_interval_stops():
    with pytest.raises(ValueError, match="teleport.*row 1, id 'id7'"):
        aalen_johansen([0, 5], [5, 10], ["b", "c"], ["id7", "id7"], ["a", "a"], ["a", "b"],
                       censored="c")


def test_an_id_in_two_groups_stops():
    with pytest.raises(ValueError, match="more than one group"):
        aalen_johansen([0, 5], [5, 10], ["b", "c"], [1, 1], "a", ["a", "b"], [0, 1],
                       censored="c")
