"""Recurrent events and transition-specific Cox against R (survival 3.5-3, MASS, sandwich).

Stored values: tests/survival/reference/recurrent.R on
``data/recurrent_sim.csv`` (make_recurrent_data.py: 300 ids, two arms, 0-6 events, gaps,
ties, 12 practices), ``data/recurrent_bladder2.csv`` (``survival::bladder2``, the bladder
cancer recurrence trial) and ``data/multistate_sim.csv`` (off_work / at_work / left_job).

R calls (see the script): ``coxph(Surv(start, stop, event) ~ arm + age, cluster = id)``
(Efron, Breslow, ``+ strata(practice)``, ``cluster = practice``, no cluster), PWP
``+ strata(enum)`` on total and gap time (``Surv(stop - start, event)``),
``strata(pmin(enum, 3))``; the same on bladder2 with ``rx + size + number``;
``glm.nb(n ~ ... + offset(log(time)))``, ``glm(..., poisson)`` + ``vcovHC(type = "HC0")``;
``survfit(Surv(start, stop, event) ~ arm, id = id)`` (cumhaz, robust std.chaz);
multi-state ``coxph(Surv(start, stop, to) ~ arm, id = id, istate = from)``.

Tolerances: Cox coef / SE / var / tests rel 1e-6 (same Newton–Raphson and convergence
rule as agreg.fit; observed ~1e-12), log-likelihood rel 1e-9; counts and iterations
exact; MCF and its SE rel 1e-9 (closed form); glm.nb (R run with
``glm.control(epsilon = 1e-13)``) coef and theta rel 1e-7, SE rel 1e-8, SE.theta rel 1e-6;
Poisson coef rel 1e-8, model and HC0 SE rel 1e-7 (R's vcov uses the weights of its
last IRLS step).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtw.survival.cox import cox_zph, fit_cox, score_residuals
from rtw.survival.recurrent import (andersen_gill, mcf_difference, mean_cumulative_function,
                                    person_time_counts, pwp, spell_number, spell_rates)
from rtw.survival.transitions import current_state, observed_transitions, transition_cox

REF = Path(__file__).resolve().parent / "reference"


@lru_cache(maxsize=None)
def _csv(name: str, folder: str = "expected") -> pd.DataFrame:
    return pd.read_csv(REF / folder / f"{name}.csv", dtype={"value": str} if folder == "expected" else None)


def data(name: str) -> pd.DataFrame:
    return _csv(name, "data").copy()


def ref(file: str, model: str, quantity: str, term: str | None = None) -> np.ndarray:
    d = _csv(file)
    d = d[(d.model == model) & (d.quantity == quantity)]
    if term is not None:
        d = d[d.term == term]
    if d.empty:
        raise KeyError(f"{file}:{model}:{quantity}:{term}")
    return d["value"].astype(float).to_numpy()


def close(ours, theirs, rtol, atol=0.0):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(theirs, float), rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- #
# Andersen–Gill and PWP
# --------------------------------------------------------------------------- #
SIM = ["arm", "age"]
BL = ["rx", "size", "number"]
COX_CASES = {
    # model: (data, columns, function, kwargs)
    "sim_ag_efron": ("recurrent_sim", SIM, "ag", {}),
    "sim_ag_breslow": ("recurrent_sim", SIM, "ag", {"ties": "breslow"}),
    "sim_ag_naive": ("recurrent_sim", SIM, "cox", {}),
    "sim_ag_strata_practice": ("recurrent_sim", SIM, "ag", {"strata": "practice"}),
    "sim_ag_cluster_practice": ("recurrent_sim", SIM, "cox", {"cluster": "practice"}),
    "sim_pwp_total": ("recurrent_sim", SIM, "pwp", {"timescale": "total"}),
    "sim_pwp_gap": ("recurrent_sim", SIM, "pwp", {"timescale": "gap"}),
    "sim_pwp_total_cap3": ("recurrent_sim", SIM, "pwp", {"timescale": "total", "max_spell": 3}),
    "bladder2_ag": ("recurrent_bladder2", BL, "ag", {}),
    "bladder2_ag_breslow": ("recurrent_bladder2", BL, "ag", {"ties": "breslow"}),
    "bladder2_pwp_total": ("recurrent_bladder2", BL, "pwp", {"timescale": "total", "spell": "enum"}),
    "bladder2_pwp_gap": ("recurrent_bladder2", BL, "pwp", {"timescale": "gap", "spell": "enum"}),
}


def _cox_fit(model):
    ds, cols, fun, kw = COX_CASES[model]
    d = data(ds)
    X = d[cols].to_numpy(float)
    kw = dict(kw)
    for k in ("strata", "cluster", "spell"):
        if k in kw:
            kw[k] = d[kw[k]].to_numpy()
    if fun == "ag":
        return andersen_gill(d.start, d.stop, d.event, X, d.id, names=cols, **kw)
    if fun == "pwp":
        return pwp(d.start, d.stop, d.event, X, d.id, names=cols, **kw)
    return fit_cox(d.stop, d.event, X, start=d.start, names=cols, **kw)


@pytest.mark.parametrize("model", list(COX_CASES))
def test_counting_process_cox_matches_R_coxph(model):
    """coef, robust and naive SE, full var, loglik (null, final), LR, score, robust Wald,
    robust score (rscore), n, nevent, iterations."""
    fit = _cox_fit(model)
    close(fit.coef, ref("recurrent_cox", model, "coef"), 1e-6)
    close(fit.se, ref("recurrent_cox", model, "se"), 1e-6)
    close(fit.var.ravel(order="F"), ref("recurrent_cox", model, "var"), 1e-6, 1e-15)
    close(fit.loglik, ref("recurrent_cox", model, "loglik"), 1e-9)
    close(fit.lr_test[0], ref("recurrent_cox", model, "lr"), 1e-6)
    close(fit.score_test[0], ref("recurrent_cox", model, "score"), 1e-6)
    close(fit.wald_test[0], ref("recurrent_cox", model, "wald"), 1e-6)
    assert fit.n == ref("recurrent_cox", model, "n")[0]
    assert fit.nevent == ref("recurrent_cox", model, "nevent")[0]
    assert fit.iter == ref("recurrent_cox", model, "iter")[0] and fit.converged
    if fit.robust:
        close(np.sqrt(np.diag(fit.naive_var)), ref("recurrent_cox", model, "naive_se"), 1e-6)
        close(fit.robust_score_test[0], ref("recurrent_cox", model, "rscore"), 1e-6)
    else:
        with pytest.raises(KeyError):
            ref("recurrent_cox", model, "rscore")


def test_bladder2_andersen_gill_is_the_published_example():
    """The classic AG fit (Therneau & Grambsch 2000, §8.5; survival's bladder2): thiotepa
    log HR -0.465, robust SE 0.266 (naive 0.200), 178 intervals, 112 recurrences."""
    fit = _cox_fit("bladder2_ag")
    assert round(fit.coef[0], 3) == -0.465 and round(fit.se[0], 3) == 0.266
    assert round(float(np.sqrt(fit.naive_var[0, 0])), 3) == 0.200
    assert (fit.n, fit.nevent, fit.n_clusters) == (178, 112, 85)


# --------------------------------------------------------------------------- #
# Engine properties of the (start, stop] path
# --------------------------------------------------------------------------- #
def _random_cp(seed, n_id=150):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_id):
        x = rng.normal(size=2)
        t = float(rng.integers(0, 5))
        for _ in range(int(rng.integers(1, 5))):
            stop = t + float(rng.integers(1, 30))
            rows.append((i, t, stop, float(rng.random() < 0.6), *x, i % 4))
            t = stop + float(rng.integers(0, 6))
    return pd.DataFrame(rows, columns=["id", "start", "stop", "event", "x1", "x2", "s"])


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_start_zero_equals_right_censored_fit(ties):
    """With every start at 0 the counting-process path is the right-censored fit."""
    d = _random_cp(1)
    X = d[["x1", "x2"]].to_numpy()
    a = fit_cox(d.stop, d.event, X, strata=d.s, cluster=d.id, ties=ties)
    b = fit_cox(d.stop, d.event, X, strata=d.s, cluster=d.id, ties=ties, start=np.zeros(len(d)))
    close(b.coef, a.coef, 1e-10)
    close(b.var, a.var, 1e-9)
    close(b.naive_var, a.naive_var, 1e-9)
    close(b.loglik, a.loglik, 1e-12)
    close(b.robust_score_test[0], a.robust_score_test[0], 1e-9)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_splitting_intervals_leaves_the_fit_unchanged(ties):
    """survSplit-style cuts (same id, covariates) change neither the partial likelihood
    nor, with the id as cluster, the robust variance."""
    d = _random_cp(2)
    cut = 7.5
    inside = (d.start < cut) & (d.stop > cut)
    first = d[inside].assign(stop=cut, event=0.0)
    second = d[inside].assign(start=cut)
    ds = pd.concat([d[~inside], first, second], ignore_index=True).sample(frac=1, random_state=3)
    X, Xs = d[["x1", "x2"]].to_numpy(), ds[["x1", "x2"]].to_numpy()
    a = fit_cox(d.stop, d.event, X, cluster=d.id, ties=ties, start=d.start)
    b = fit_cox(ds.stop, ds.event, Xs, cluster=ds.id, ties=ties, start=ds.start)
    assert len(ds) > len(d)
    close(b.coef, a.coef, 1e-9)
    close(b.loglik, a.loglik, 1e-12)
    close(b.naive_var, a.naive_var, 1e-8)
    close(b.var, a.var, 1e-8)


@pytest.mark.filterwarnings("ignore:fit_cox:RuntimeWarning")
def test_score_residuals_sum_to_the_score_with_delayed_entry():
    """Counting-process score residuals (agscore3) sum to U(beta) at any beta and keep
    the row order; rows spanning no event time have zero residuals (R's ``ignore``)."""
    d = _random_cp(4)
    extra = pd.DataFrame({"id": [999], "start": [1000.0], "stop": [1001.0], "event": [0.0],
                          "x1": [0.3], "x2": [-1.0], "s": [0]})
    d = pd.concat([d, extra], ignore_index=True)
    X = d[["x1", "x2"]].to_numpy()
    fit = fit_cox(d.stop, d.event, X, start=d.start, max_iter=1)
    res = score_residuals(fit)
    close(res.sum(axis=0), fit._final["U"], 1e-9, 1e-10)
    assert np.all(res[-1] == 0)
    with pytest.raises(NotImplementedError):
        cox_zph(fit)


def test_stop_not_after_start_is_refused():
    with pytest.raises(ValueError, match="stop time must be > start"):
        fit_cox([2.0, 3.0], [1, 0], [0.0, 1.0], start=[2.0, 1.0])
    with pytest.raises(ValueError, match="stop must be > start"):
        andersen_gill([0, 3], [2, 3], [1, 0], [[0.0], [1.0]], [1, 1])


def test_spell_number_counts_earlier_events_within_id():
    """Hand-made: rows out of order, two ids, censored last intervals."""
    id_ = [2, 1, 1, 2, 1, 2, 3]
    start = [10, 0, 5, 0, 12, 20, 0]
    event = [1, 1, 0, 1, 1, 0, 0]
    # id 1: (0,.]e -> 1, (5,.]c -> 2, (12,.]e -> 2 ; id 2: (0)e ->1, (10)e ->2, (20)c ->3
    assert list(spell_number(id_, start, event)) == [2, 1, 2, 1, 2, 3, 1]


# --------------------------------------------------------------------------- #
# Rates
# --------------------------------------------------------------------------- #
RATE_CASES = {"sim_rate": ("recurrent_sim", SIM, None), "sim_rate_tau120": ("recurrent_sim", SIM, 120),
              "bladder2_rate": ("recurrent_bladder2", BL, None)}


@pytest.mark.parametrize("model", list(RATE_CASES))
def test_spell_rates_match_R_glm_nb_and_poisson_vcovHC(model):
    """glm.nb with offset(log(person-time)): coef, SE, theta, SE.theta, logLik; Poisson
    coef, model SE and sandwich HC0 SE; n, events and person-time."""
    ds, cols, tau = RATE_CASES[model]
    d = data(ds)
    counts = person_time_counts(d.id, d.start, d.stop, d.event, tau=tau)
    X = d.groupby("id")[cols].first()
    r = spell_rates(counts, X)
    assert len(counts) == ref("recurrent_rates", model, "n")[0]
    assert counts.events.sum() == ref("recurrent_rates", model, "events")[0]
    close(counts.person_time.sum(), ref("recurrent_rates", model, "person_time"), 1e-12)
    terms = ["(Intercept)", *cols]
    nb = r.table[r.table.model == "negbin"].set_index("term").loc[terms]
    po = r.table[r.table.model == "poisson_hc0"].set_index("term").loc[terms]
    close(nb.coef, ref("recurrent_rates", model, "nb_coef"), 1e-7)
    close(nb.se, ref("recurrent_rates", model, "nb_se"), 1e-8)
    close(r.nb.theta, ref("recurrent_rates", model, "nb_theta"), 1e-7)
    close(r.nb.se_theta, ref("recurrent_rates", model, "nb_se_theta"), 1e-6)
    close(r.nb.loglik, ref("recurrent_rates", model, "nb_loglik"), 1e-9)
    close(po.coef, ref("recurrent_rates", model, "pois_coef"), 1e-8)
    close(np.sqrt(np.diag(r.poisson.cov)), ref("recurrent_rates", model, "pois_se"), 1e-7)
    close(po.se, ref("recurrent_rates", model, "pois_se_hc0"), 1e-7)
    close(po.rate_ratio, np.exp(po.coef), 1e-15)


# --------------------------------------------------------------------------- #
# Mean cumulative function
# --------------------------------------------------------------------------- #
MCF_CASES = {"sim_mcf": ("recurrent_sim", "arm", (60, 120, 182)),
             "bladder2_mcf": ("recurrent_bladder2", "rx", (12, 36))}


def _mcf(model, conf_level=0.95, conf_type="log"):
    ds, grp, _ = MCF_CASES[model]
    d = data(ds)
    return mean_cumulative_function(d.start, d.stop, d.event, d.id, d[grp],
                                    conf_level=conf_level, conf_type=conf_type)


@pytest.mark.parametrize("model", list(MCF_CASES))
def test_mcf_matches_R_survfit_cumhaz_and_robust_std_chaz(model):
    """survfit(Surv(start, stop, event) ~ group, id = id): every row's time, n.risk,
    n.event, n.censor (exact; R's n.censor from the fit without id, see recurrent.R),
    cumhaz and robust std.chaz (rel 1e-9)."""
    r = _mcf(model)
    e = _csv("recurrent_mcf")
    e = e[e.model == model]
    t = r.table
    assert list(t.group.astype(str)) == list(e.group.astype(str))
    close(t.time, e.time, 0)
    for c in ("n_risk", "n_event", "n_censor"):
        assert list(t[c]) == list(e[c]), c
    close(t.mcf, e.cumhaz.astype(float), 1e-9)
    close(t.se, e.std_chaz.astype(float), 1e-9)


@pytest.mark.parametrize("level", [0.95, 0.80])
@pytest.mark.parametrize("model", list(MCF_CASES))
def test_mcf_at_tau_ci_and_difference_match_R_summary_survfit(model, level):
    """summary(fit, times = tau): MCF, SE, log and plain CIs per group; the difference
    between groups (second minus first level) with SE, 95% CI and p."""
    _, _, taus = MCF_CASES[model]
    for ctype in ("log", "plain"):
        r = _mcf(model, level, ctype)
        for tau in taus:
            tag = f"{model}_tau{tau}"
            at = r.at(tau)
            for row in at.itertuples():
                g = str(row.group)
                close(row.mcf, ref("recurrent_mcf_tau", tag, "mcf", g)[0], 1e-9)
                close(row.se, ref("recurrent_mcf_tau", tag, "se", g)[0], 1e-9)
                close(row.lower, ref("recurrent_mcf_tau", tag, f"lower_{ctype}_{level:g}", g)[0], 1e-9)
                close(row.upper, ref("recurrent_mcf_tau", tag, f"upper_{ctype}_{level:g}", g)[0], 1e-9)
            diff = mcf_difference(r, tau, r.groups[1], r.groups[0], conf_level=0.95)
            close(diff["difference"], ref("recurrent_mcf_tau", tag, "estimate", "difference"), 1e-9, 1e-12)
            close(diff["se"], ref("recurrent_mcf_tau", tag, "se", "difference"), 1e-9)
            close(diff["lower"], ref("recurrent_mcf_tau", tag, "lower_0.95", "difference"), 1e-9)
            close(diff["upper"], ref("recurrent_mcf_tau", tag, "upper_0.95", "difference"), 1e-9)
            close(diff["p"], ref("recurrent_mcf_tau", tag, "p", "difference"), 1e-6)


def test_robust_mcf_variance_equals_the_dense_jackknife():
    """The difference-array variance equals the ids x times jackknife sum computed
    directly from the influence of each interval (random data with gaps and late entry)."""
    d = _random_cp(5, n_id=60)
    r = mean_cumulative_function(d.start, d.stop, d.event, d.id).table
    T = r.time.to_numpy()
    Y = r.n_risk.to_numpy(float)
    dN = r.n_event.to_numpy(float)
    ids = np.unique(d.id)
    infl = np.zeros((ids.size, T.size))
    for k, i in enumerate(ids):
        di = d[d.id == i]
        at_risk = ((di.start.to_numpy()[:, None] < T) & (T <= di.stop.to_numpy()[:, None])).sum(0)
        ev = ((di.stop.to_numpy()[:, None] == T) & (di.event.to_numpy()[:, None] == 1)).sum(0)
        infl[k] = np.cumsum((ev - at_risk * dN / Y) / Y)
    close(r.se, np.sqrt((infl ** 2).sum(0)), 1e-10, 1e-14)


# --------------------------------------------------------------------------- #
# Transition-specific Cox
# --------------------------------------------------------------------------- #
STATES = ["off_work", "at_work", "left_job"]


def _transitions(ties):
    m = data("multistate_sim")
    return transition_cox(m.id, m.start, m.stop, m.to, m[["arm"]].to_numpy(), ["arm"],
                          states=STATES, initial_state="off_work", ties=ties)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_transition_cox_matches_R_multistate_coxph(ties):
    """Multi-state coxph(Surv(start, stop, to) ~ arm, id = id, istate = from): per
    transition (R's order "2:1", "1:2", ...) coef, robust and naive SE, from/to states,
    events; the joint robust var (cross-transition covariances), loglik, score, robust
    Wald, n, nevent."""
    r = _transitions(ties)
    model = f"multistate_{ties}"
    t = r.table
    e = _csv("recurrent_transitions")
    e = e[(e.model == model) & (e.quantity == "coef")]
    assert list(t.transition) == list(e.term)
    for q in ("from", "to"):
        exp = _csv("recurrent_transitions")
        exp = exp[(exp.model == model) & (exp.quantity == q)]["value"].tolist()
        assert list(t[q]) == exp
    close(t.coef, ref("recurrent_transitions", model, "coef"), 1e-6)
    close(t.se, ref("recurrent_transitions", model, "se"), 1e-6)
    close(t.naive_se, ref("recurrent_transitions", model, "naive_se"), 1e-6)
    assert list(t.n_events) == list(ref("recurrent_transitions", model, "n_events"))
    close(r.var.ravel(order="F"), ref("recurrent_transitions", model, "var"), 1e-6, 1e-15)
    close(r.loglik, ref("recurrent_transitions", model, "loglik"), 1e-9)
    close(r.score_test[0], ref("recurrent_transitions", model, "score"), 1e-6)
    close(r.wald_test[0], ref("recurrent_transitions", model, "wald"), 1e-6)
    assert r.n == ref("recurrent_transitions", model, "n")[0]
    assert r.nevent == ref("recurrent_transitions", model, "nevent")[0]
    close(t.hr, np.exp(t.coef), 1e-15)


def test_current_state_follows_the_last_state_entered():
    """Hand-made: the initial state first, then each entered state; a censored split
    keeps the state; ids interleaved and unsorted."""
    id_ = [1, 2, 1, 1, 2, 1]
    start = [0, 0, 10, 20, 5, 30]
    to = ["at_work", "censored", "censored", "off_work", "left_job", "censored"]
    frm = current_state(id_, start, to, "off_work", "censored")
    # id 1: (0,10] off->at ; (10,20] at, censored split ; (20,30] at->off ; (30,.] off
    # id 2: (0,5] off, censored split ; (5,.] off->left_job
    assert list(frm) == ["off_work", "off_work", "at_work", "at_work", "off_work", "off_work"]
    m = data("multistate_sim")
    assert list(current_state(m.id, m.start, m.to, "off_work", "censored")) == list(m["from"])
    assert observed_transitions(frm, to, STATES, "censored") == [
        ("at_work", "off_work"), ("off_work", "at_work"), ("off_work", "left_job")]
