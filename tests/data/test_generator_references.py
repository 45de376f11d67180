"""The runners on the project's own synthetic trials agree with R.

Data: ``tests/{survival,models}/reference/data/generator_{wave,720}.csv``, written by
``tests/data/generator_data.py`` through the real pipeline (``simulate_trial`` ->
``clean_tables`` -> ``derive_analysis``): the WAVE-size trial (seed 20200904, n = 130,
10 practices) and a 720-participant trial (seed 7).  They carry what the hand-made
reference sets do not all have at once: 14-day SMS ties, censoring at day 0, rows with
no interval information (lower 0, upper NA), a competing event (status 2), missing
``days_off_6m`` / EQ-5D / ``at_work_6m``.

R values: ``tests/survival/reference/expected/generator_*.json`` and
``tests/models/reference/expected/generator.csv`` (``make_reference.R`` in each
folder; CI has no R).  The runners are called as the pipeline calls them, with
``config/config.yaml`` (stratification_factors [condition_group], covariates
[days_off_before], strata practice, cluster practice, practice_effect cluster_robust,
survival ties efron, km_conf_type log-log, conf_levels [0.95, 0.80]).

Each comparison is written once and registered for both data sets as
``test_<what>_generator_wave`` and ``test_<what>_generator_720``.

Tolerances: rel 1e-6 (the same algorithm as R), except
* Turnbull NPMLE: abs 1e-4 on 1 - S(t): R's ``survfit(interval2)`` stops its EM at a
  5e-5 change in S, ours at 1e-10 (rtw.survival.interval docstring); observed <= 1.4e-5;
* Fine-Gray against ``crr`` with its default ``gtol = 1e-6`` (stops early): rel 1e-4
  on the HR; against the converged ``crr(gtol = 1e-12)`` rel 1e-6.
Observed differences are far smaller (Cox, log-rank, KM, RMST, CIF, Gray, ANCOVA:
~1e-12; Weibull ~1e-9; glm.nb ~1e-8, the two IRLS/theta alternations stopping at
slightly different points; logistic vcovCL SE ~1e-7, because R's ``vcov(glm)`` uses
the working weights of the last IRLS iteration, i.e. one step before the final
coefficients, while ours uses the information at the final coefficients).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

import _regression_ref as rr
import _survival_ref as sr
from helpers import default_config
from rtw.models import runner as R
from rtw.survival.runner import run_time_to_event

DATASETS = ("generator_wave", "generator_720")
OUTCOMES = ("first_rtw", "sustained_rtw")
ARMS = ("usual_care", "vocational_advice")
LEVELS = (0.95, 0.80)
RTOL = 1e-6
REG = "generator.csv"


def per_dataset(fn):
    """Register ``fn(ds)`` as ``test_<fn name>_<ds>`` for each generator data set."""
    for ds in DATASETS:
        def test(ds=ds):
            fn(ds)
        test.__name__ = test.__qualname__ = f"test_{fn.__name__}_{ds}"
        test.__doc__ = fn.__doc__
        globals()[test.__name__] = test
    return None


# --------------------------------------------------------------------------- runs
@lru_cache(maxsize=None)
def config() -> dict:
    return default_config()


@lru_cache(maxsize=None)
def surv(ds: str, outcome: str) -> pd.DataFrame:
    spec = next(o for o in config()["outcomes"]["time_to_event"] if o["name"] == outcome)
    return run_time_to_event(sr.data(ds), config(), spec)["estimates"]


@lru_cache(maxsize=None)
def reg(ds: str, runner: str) -> pd.DataFrame:
    return getattr(R, runner)(rr.data(f"{ds}.csv"), config())


def row(est, analysis, term, level=0.95, outcome=None):
    r = est[(est.analysis == analysis) & (est.term == term)]
    if outcome is not None:
        r = r[r.outcome == outcome]
    if level is not None and r.conf_level.notna().any():
        r = r[np.isclose(r.conf_level, level)]
    assert len(r) == 1, (analysis, term, level, len(r))
    return r.iloc[0]


def close(ours, theirs, rtol=RTOL, what=""):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(theirs, float), rtol=rtol,
                               atol=0, err_msg=what)


def rs(ds, outcome):
    """R's stored survival values for one data set and outcome."""
    return sr.expected(ds)[outcome]


def z_p(b, se):
    return 2 * stats.norm.sf(abs(b / se))


# --------------------------------------------------------------------------- data
@per_dataset
def generator_data_has_the_features_the_references_need(ds):
    """The stored data sets carry the real analysis dataset's features, and R's
    references were computed on exactly these rows (n, events as in the JSON)."""
    d = sr.data(ds)
    assert d.practice.nunique() == 10 and set(d.arm) == set(ARMS)
    assert set(d.rtw_time[d.rtw_event == 1] % 14) == {0}          # SMS grid: heavy ties
    assert (d.rtw_event == 2).any() and (d.srtw_event == 2).any()  # competing event
    assert ((d.rtw_lower == 0) & d.rtw_upper.isna()).any()         # no interval information
    for oc, (t, e) in zip(OUTCOMES, (("rtw_time", "rtw_event"), ("srtw_time", "srtw_event"))):
        x = rs(ds, oc)
        assert (x["n"], x["events"], x["competing"]) == (len(d), (d[e] == 1).sum(), (d[e] == 2).sum())
    n_info = int((~((d.rtw_lower <= 0) & d.rtw_upper.isna())).sum())
    assert rs(ds, "first_rtw")["weibull_arm"]["n_used"] == n_info
    g = rr.data(f"{ds}.csv")
    assert len(g) == len(d) and g.days_off_6m.isna().any() and g.eq5d_index_6m.isna().any()
    assert rr.ref(REG, f"nb_{ds}", "nobs", "model")[0] == g.days_off_6m.notna().sum()


# --------------------------------------------------------------------------- KM (A5)
@per_dataset
def km_median_and_ci_match_R_survfit(ds):
    """R: summary(survfit(Surv(time, event == 1) ~ arm, conf.type = "log-log",
    conf.int = 0.95 / 0.80))$table[, c("median", "0.95LCL", "0.95UCL")], for first
    (rtw_time, rtw_event) and sustained (srtw_time, srtw_event) RTW."""
    for oc in OUTCOMES:
        for lv in LEVELS:
            tb = rs(ds, oc)["km"][f"log-log {lv:g}"]["table"]
            for i, arm in enumerate(ARMS):
                assert tb["strata"][i] == arm
                r = row(surv(ds, oc), "km_median", f"arm={arm}", lv)
                sr.assert_close_R([r.estimate, r.conf_low, r.conf_high],
                                  [tb["median"][i], tb["lcl"][i], tb["ucl"][i]], rtol=RTOL)


@per_dataset
def km_proportion_returned_matches_R_summary_survfit(ds):
    """R: summary(survfit(Surv(time, event == 1) ~ arm, conf.type = "log-log"),
    times = c(42, 84, 182)): 1 - surv, std.err, 1 - upper / 1 - lower (95% and 80%)."""
    for oc in OUTCOMES:
        for lv in LEVELS:
            a = rs(ds, oc)["km"][f"log-log {lv:g}"]["at_times"]
            for s, t, surv_, se, lo, hi in zip(a["strata"], a["time"], a["surv"], a["std_err"],
                                              a["lower"], a["upper"]):
                r = row(surv(ds, oc), "km_proportion", f"arm={s};t={t:g}", lv)
                close([r.estimate, r.std_error, r.conf_low, r.conf_high],
                      [1 - surv_, se, 1 - hi, 1 - lo], what=f"{oc} {s} t={t}")


# --------------------------------------------------------------------------- log-rank (A6)
@per_dataset
def logrank_chisq_matches_R_survdiff(ds):
    """R: survdiff(Surv(time, event == 1) ~ arm)$chisq and its chi-square(1) p-value."""
    for oc in OUTCOMES:
        x = rs(ds, oc)["logrank"]
        r = row(surv(ds, oc), "logrank", "arm", None)
        close([r.statistic, r.p_value], [x["chisq"], x["p"]], what=oc)


@per_dataset
def logrank_stratified_chisq_matches_R_survdiff_strata_practice(ds):
    """R: survdiff(Surv(time, event == 1) ~ arm + strata(practice))$chisq and p."""
    for oc in OUTCOMES:
        x = rs(ds, oc)["logrank_strat"]
        r = row(surv(ds, oc), "logrank_stratified", "arm", None)
        close([r.statistic, r.p_value], [x["chisq"], x["p"]], what=oc)


# --------------------------------------------------------------------------- Cox (A7)
def _cox_terms(est, analysis, x, what):
    names = {"armvocational_advice": "arm", "condition_groupmusculoskeletal":
             "condition_group[musculoskeletal]", "condition_groupother": "condition_group[other]",
             "days_off_before": "days_off_before"}
    rnames = [str(v) for v in np.atleast_1d(x["names"])]
    coef = np.atleast_1d(np.asarray(x["coef"], float))
    V = np.asarray(x["var"], float).reshape(coef.size, coef.size)
    for j, rname in enumerate(rnames):
        r = row(est, analysis, names[rname])
        b, se = coef[j], math.sqrt(V[j, j])
        close([r.estimate, r.std_error, r.p_value], [math.exp(b), se, z_p(b, se)],
              what=f"{what} {rname}")
        for lv in LEVELS:
            q = stats.norm.ppf(0.5 + lv / 2)
            r = row(est, analysis, names[rname], lv)
            close([r.conf_low, r.conf_high], [math.exp(b - q * se), math.exp(b + q * se)],
                  what=f"{what} {rname} {lv}")
    for test, key in (("lr", "lr_test"), ("wald", "wald_test"), ("score", "score_test")):
        r = row(est, analysis, f"global;test={test}", None)
        close(r.statistic, np.ravel(x[key])[0], what=f"{what} global {test}")
    assert row(est, analysis, "arm").n == x["n"] and row(est, analysis, "arm").events == x["nevent"]


@per_dataset
def cox_unadjusted_hr_matches_R_coxph(ds):
    """R: coxph(Surv(time, event == 1) ~ arm) (Efron): HR = exp(coef), SE, Wald p and
    CIs, summary()$logtest / $waldtest / $sctest."""
    for oc in OUTCOMES:
        _cox_terms(surv(ds, oc), "cox_unadjusted", rs(ds, oc)["cox_arm_efron"], oc)


@per_dataset
def cox_adjusted_hr_matches_R_coxph(ds):
    """R: coxph(Surv(time, event == 1) ~ arm + condition_group + days_off_before,
    cluster = practice) (Efron): HR of every term with the robust (clustered) SE, p and
    CIs from it; LR and score tests (model-based) and the robust Wald test."""
    for oc in OUTCOMES:
        _cox_terms(surv(ds, oc), "cox_adjusted", rs(ds, oc)["cox_adj_cluster"], oc)
        # the point estimates are those of the unclustered fit
        x0 = rs(ds, oc)["cox_adj_efron"]
        close(math.log(row(surv(ds, oc), "cox_adjusted", "arm").estimate), x0["coef"][0], what=oc)


@per_dataset
def cox_stratified_hr_matches_R_coxph_strata_practice(ds):
    """R: coxph(Surv(time, event == 1) ~ arm + condition_group + days_off_before +
    strata(practice)) (Efron; model-based SE, as the cluster is the strata variable)."""
    for oc in OUTCOMES:
        _cox_terms(surv(ds, oc), "cox_stratified", rs(ds, oc)["cox_adj_strat"], oc)


@per_dataset
def cox_zph_chisq_matches_R_cox_zph(ds):
    """R: cox.zph(fit, transform = "km")$table[, c("chisq", "p")] for the unadjusted,
    adjusted (cluster = practice) and strata(practice) fits above."""
    for oc in OUTCOMES:
        est = surv(ds, oc)
        for model, key in (("cox_unadjusted", "cox_arm_efron"), ("cox_adjusted", "cox_adj_cluster"),
                           ("cox_stratified", "cox_adj_strat")):
            z = est[(est.analysis == "cox_zph") & est.note.str.startswith(f"model={model};")]
            x = rs(ds, oc)[key]["zph"]
            want = ["global" if t == "GLOBAL" else t for t in np.atleast_1d(x["terms"])]
            assert list(z.term) == want, (oc, model)
            close(z.statistic, x["chisq"], what=f"{oc} {model}")
            close(z.p_value, x["p"], what=f"{oc} {model}")


# --------------------------------------------------------------------------- RMST (A8)
@per_dataset
def rmst_matches_R_survfit_rmean_tau_182(ds):
    """R: summary(survfit(Surv(time, event == 1) ~ arm), rmean = 182)$table[,
    c("rmean", "se(rmean)")]; difference = vocational_advice - usual_care with
    SE sqrt(se0^2 + se1^2)."""
    for oc in OUTCOMES:
        tb = rs(ds, oc)["km"]["log-log 0.95"]["table"]
        est = surv(ds, oc)
        for i, arm in enumerate(ARMS):
            r = row(est, "rmst", f"arm={arm}")
            close([r.estimate, r.std_error], [tb["rmean"][i], tb["se_rmean"][i]], what=f"{oc} {arm}")
        r = row(est, "rmst_difference", "arm")
        close([r.estimate, r.std_error], [tb["rmean"][1] - tb["rmean"][0],
                                          math.hypot(tb["se_rmean"][0], tb["se_rmean"][1])], what=oc)


# --------------------------------------------------------------------------- competing risks (A10)
@per_dataset
def cif_matches_R_cuminc_timepoints(ds):
    """R: timepoints(cuminc(time, status, arm), c(42, 84, 182)): est and sqrt(var) for
    cause 1 (RTW) and 2 (left employment) in each arm."""
    for oc in OUTCOMES:
        ci = rs(ds, oc)["cuminc"]
        est, var = sr.arr(ci["est"]), sr.arr(ci["var"])
        for k, name in enumerate(ci["names"]):
            arm, code = name.rsplit(" ", 1)
            cause = "event" if code == "1" else "competing"
            for j, t in enumerate(ci["times"]):
                r = row(surv(ds, oc), "cif", f"arm={arm};cause={cause};t={t:g}")
                close([r.estimate, r.std_error], [est[k, j], math.sqrt(var[k, j])],
                      what=f"{oc} {name} t={t}")


@per_dataset
def gray_test_matches_R_cuminc_tests(ds):
    """R: cuminc(time, status, arm)$Tests[, c("stat", "pv")] for cause 1 and cause 2."""
    for oc in OUTCOMES:
        ci = rs(ds, oc)["cuminc"]
        for k, term in enumerate(("arm", "arm;cause=competing")):
            assert ci["causes"][k] == str(k + 1)
            r = row(surv(ds, oc), "gray_test", term, None)
            close([r.statistic, r.p_value], [ci["stat"][k], ci["pv"][k]], what=f"{oc} {term}")


@per_dataset
def fine_gray_shr_matches_R_crr(ds):
    """R: crr(time, status, cov1 = cbind(armvoc = arm == "vocational_advice"),
    gtol = 1e-12, maxiter = 50): sHR = exp(coef), SE = sqrt(var), p; and, at rel 1e-4 on
    the sHR, crr with its default gtol = 1e-6 (which stops before full convergence)."""
    for oc in OUTCOMES:
        x = rs(ds, oc)["crr_arm"]
        b, se = float(np.ravel(x["tight"]["coef"])[0]), math.sqrt(np.ravel(x["tight"]["var"])[0])
        r = row(surv(ds, oc), "fine_gray", "arm")
        close([r.estimate, r.std_error, r.p_value], [math.exp(b), se, z_p(b, se)], what=oc)
        assert x["default"]["converged"]
        close(r.estimate, math.exp(float(np.ravel(x["default"]["coef"])[0])), rtol=1e-4, what=oc)
        assert r.n == x["tight"]["n"]


# --------------------------------------------------------------------------- interval censoring (A9)
@per_dataset
def weibull_interval_hr_matches_R_survreg(ds):
    """R: survreg(Surv(ifelse(rtw_lower <= 0, NA, rtw_lower), rtw_upper, type = "interval2")
    ~ arm, dist = "weibull") (rows with lower 0 and upper NA omitted): HR = exp(-b / scale)
    with delta-method SE from vcov (b, Log(scale)), time ratio exp(b) with SE(b), n used."""
    w = rs(ds, "first_rtw")["weibull_arm"]
    b, s = w["coef"][1], w["scale"]
    V = np.array(w["var"], float)
    g = np.array([0.0, -1.0 / s, b / s])
    est = surv(ds, "first_rtw")
    r = row(est, "weibull_ic", "arm")
    se_hr = math.sqrt(g @ V @ g)
    close([r.estimate, r.std_error, r.p_value], [math.exp(-b / s), se_hr, z_p(b / s, se_hr)])
    t = row(est, "weibull_ic", "arm;measure=time_ratio")
    close([t.estimate, t.std_error], [math.exp(b), math.sqrt(V[1, 1])])
    assert r.n == w["n_used"] and w["n_omitted"] > 0


@per_dataset
def turnbull_matches_R_survfit_interval2(ds):
    """R: summary(survfit(Surv(rtw_lower, rtw_upper, type = "interval2") ~ arm),
    times = c(42, 84, 182)): 1 - surv, abs 1e-4 (R's EM stops at a 5e-5 change in S)."""
    tb = rs(ds, "first_rtw")["turnbull"]
    est = surv(ds, "first_rtw")
    n = 0
    for s, t, sv in zip(tb["strata"], tb["time"], tb["surv"]):
        if t in config()["survival"]["proportions_at_days"]:
            r = row(est, "turnbull", f"arm={s};t={t:g}", None)
            np.testing.assert_allclose(r.estimate, 1 - sv, atol=1e-4, rtol=0, err_msg=f"{s} {t}")
            n += 1
    assert n == 6


# --------------------------------------------------------------------------- regression (A3, A12, A13)
_TERMS = ("arm", "condition_group[musculoskeletal]", "condition_group[other]", "days_off_before")


@per_dataset
def nb_primary_irr_and_vcovCL_se_match_R_glm_nb(ds):
    """R: fit <- glm.nb(days_off_6m ~ arm + condition_group + days_off_before,
    control = glm.control(epsilon = 1e-13)); IRR = exp(coef(fit)),
    SE = sqrt(diag(sandwich::vcovCL(fit, cluster = ~practice))), p from
    coeftest(fit, vcov. = vcovCL), Wald CI exp(b -/+ z SE) (95% and 80%), n = nobs."""
    out = reg(ds, "run_primary")
    m = f"nb_{ds}"
    for term in _TERMS:
        r = row(out, "nb_primary", term)
        b = rr.ref(REG, m, "coef", rr.rname(term))[0]
        close([r.estimate, r.std_error], [math.exp(b), rr.ref(REG, m, "se_vcovCL", rr.rname(term))[0]],
              what=term)
    r = row(out, "nb_primary", "arm")
    close(r.p_value, rr.ref(REG, m, "p_vcovCL", "arm"), what="p")
    for lv in LEVELS:
        r = row(out, "nb_primary", "arm", lv)
        close([r.conf_low, r.conf_high], rr.ref(REG, m, f"irr_ci_vcovCL_{lv:g}", "arm"), what=f"{lv}")
    assert r.n == rr.ref(REG, m, "nobs", "model")[0] and "vcovCL" in r.note


@per_dataset
def nb_primary_theta_matches_R_glm_nb(ds):
    """R: glm.nb(days_off_6m ~ arm + condition_group + days_off_before)$theta and $SE.theta."""
    r = row(reg(ds, "run_primary"), "nb_primary", "theta", None)
    m = f"nb_{ds}"
    close([r.estimate, r.std_error], [rr.ref(REG, m, "theta", "theta")[0],
                                      rr.ref(REG, m, "se_theta", "theta")[0]])


@per_dataset
def ancova_eq5d_6m_difference_and_vcovCL_se_match_R_lm(ds):
    """R: a <- lm(eq5d_index_6m ~ arm + condition_group + days_off_before + eq5d_index_bl)
    (the runner's adjustment set: stratification factor, covariate, baseline); coef(a),
    sqrt(diag(vcovCL(a, cluster = ~practice))) (lm default HC1), t-based p
    (coeftest(a, vcov. = vcovCL, df = a$df.residual)) and CIs, nobs."""
    out = reg(ds, "run_secondary_continuous")
    m = f"ancova_{ds}"
    for term in _TERMS[1:] + ("arm", "eq5d_index_bl"):
        r = row(out, "ancova", term, outcome="eq5d_6m")
        close([r.estimate, r.std_error], [rr.ref(REG, m, "coef", rr.rname(term))[0],
                                          rr.ref(REG, m, "se_vcovCL", rr.rname(term))[0]], what=term)
    r = row(out, "ancova", "arm", outcome="eq5d_6m")
    close(r.p_value, rr.ref(REG, m, "p_vcovCL", "arm"))
    for lv in LEVELS:
        r = row(out, "ancova", "arm", lv, outcome="eq5d_6m")
        close([r.conf_low, r.conf_high], rr.ref(REG, m, f"ci_vcovCL_{lv:g}", "arm"), what=f"{lv}")
    assert r.n == rr.ref(REG, m, "nobs", "model")[0]


@per_dataset
def logistic_at_work_6m_or_and_vcovCL_se_match_R_glm_binomial(ds):
    """R: g <- glm(at_work_6m ~ arm + condition_group + days_off_before, family = binomial,
    control = glm.control(epsilon = 1e-14)); OR = exp(coef(g)),
    SE = sqrt(diag(vcovCL(g, cluster = ~practice))), p from coeftest(g, vcov. = vcovCL),
    nobs and events."""
    out = reg(ds, "run_secondary_binary")
    m = f"logistic_at_work_6m_{ds}"
    for term in _TERMS:
        r = row(out, "logistic", term, outcome="at_work_6m")
        b = rr.ref(REG, m, "coef", rr.rname(term))[0]
        close([r.estimate, r.std_error], [math.exp(b), rr.ref(REG, m, "se_vcovCL", rr.rname(term))[0]],
              what=term)
    r = row(out, "logistic", "arm", outcome="at_work_6m")
    close(r.p_value, rr.ref(REG, m, "p_vcovCL", "arm"))
    assert (r.n, r.events) == tuple(rr.ref(REG, m, q, "model")[0] for q in ("nobs", "events"))


@per_dataset
def gcomp_at_work_6m_rd_and_rr_match_R_standardisation(ds):
    """R: p1/p0 = mean(predict(g, newdata with arm = 1 / 0, type = "response")) for the
    logistic g above; SEs from the stacked estimating-equation sandwich written out in
    make_reference.R (stdReg-type): rd = p1 - p0, se_rd; rr = p1 / p0, se of log rr."""
    out = reg(ds, "run_secondary_binary")
    m = f"logistic_at_work_6m_{ds}"
    r = row(out, "gcomp_rd", "arm", outcome="at_work_6m")
    close([r.estimate, r.std_error], [rr.ref(REG, m, "rd", "gcomp")[0], rr.ref(REG, m, "se_rd", "gcomp")[0]])
    r = row(out, "gcomp_rr", "arm", outcome="at_work_6m")
    close([r.estimate, r.std_error], [rr.ref(REG, m, "rr", "gcomp")[0],
                                      rr.ref(REG, m, "se_log_rr", "gcomp")[0]])
    for arm, q in zip(ARMS, ("p0", "p1")):
        r = row(out, "gcomp_rd", f"arm={arm};stat=risk", outcome="at_work_6m")
        close(r.estimate, rr.ref(REG, m, q, "gcomp")[0], what=arm)
