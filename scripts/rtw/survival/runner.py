"""Time-to-event analyses of one outcome by arm (SPEC §4 A5–A11): the runner.

:func:`run_time_to_event` is what the Snakemake entry script calls.  It reads
everything trial-specific from the config (arm labels, control arm, covariates,
stratification factors, ``strata``, ``cluster``, the ``survival:`` block, CI
levels) and the outcome dict (``outcomes.time_to_event[i]``), and calls one
function per method (``rtw.survival.km``, ``rtw.survival.logrank``, ``rtw.survival.cox``, ``rtw.survival.rmst``,
``rtw.survival.competing``, ``rtw.survival.interval``), so an engine can be swapped without
touching rules or tables.

Rows in ``estimates`` (see ``rtw.core.estimates``; every CI level in ``conf_levels``):

=====================  =====================================  ===========================
analysis               term                                   estimate
=====================  =====================================  ===========================
km_median              ``arm=<label>``                        median (NaN + note "not reached")
km_proportion          ``arm=<label>;t=<day>``                1 - S(t), KM CI (conf type)
logrank                ``arm``                                chi-square in ``statistic``
logrank_stratified     ``arm``                                (when ``strata`` is set)
cox_unadjusted         ``arm``                                HR, SE of log HR
cox_adjusted           ``arm`` + covariate terms              HR (robust SE when ``cluster``)
cox_stratified         ``arm`` + covariate terms              HR, baseline hazard by ``strata``
cox_* (tests)          ``global;test=lr|wald|score``          chi-square
cox_zph                term or ``global`` (note names model)  chi-square
rmst                   ``arm=<label>``                        RMST to tau (note gives tau)
rmst_difference        ``arm``                                intervention - control
cif                    ``arm=<label>;cause=<c>;t=<day>``      cumulative incidence
gray_test              ``arm`` (``arm;cause=competing``)      chi-square
fine_gray              ``arm``                                subdistribution HR
turnbull               ``arm=<label>;t=<day>``                NPMLE 1 - S(t) (no SE)
weibull_ic             ``arm`` (HR); ``arm;measure=time_ratio``
=====================  =====================================  ===========================

Rows with a missing time or event are left out (complete case); ``n`` and
``events`` give what each estimate used.  An analysis that cannot be estimated
(e.g. no events in an arm) gives a row with NaN estimate and the reason in
``note`` instead of stopping the run.
"""
from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from rtw.survival import competing as cmp
from rtw.survival import interval as icens
from rtw.survival.cox import cox_zph, fit_cox
from rtw.core.estimates import make_rows, to_frame
from rtw.survival.km import kaplan_meier, km_curve_table, km_median, number_at_risk, proportion_returned
from rtw.survival.logrank import logrank_test
from rtw.core.modelframe import adjustment_columns, arm_labels, build_design
from rtw.survival.rmst import default_tau, rmst_difference, rmst_from_fit
from rtw.core.stats import p_two_sided, wald_cis

log = logging.getLogger(__name__)

KM_CURVE_COLUMNS = ["outcome", "arm", "time", "n_risk", "n_event", "n_censor", "surv",
                    "std_err", "conf_level", "lower", "upper"]
AT_RISK_COLUMNS = ["outcome", "arm", "time", "n_risk"]
CIF_COLUMNS = ["outcome", "arm", "cause", "time", "cif", "std_err", "conf_level", "lower", "upper"]
ZPH_COLUMNS = ["outcome", "model", "term", "time", "transformed_time", "residual"]
SUMMARY_COLUMNS = ["outcome", "label", "measure", "group", "n", "events", "estimate",
                   "std_error", "conf_level", "conf_low", "conf_high", "p_value", "note"]


def _day(d) -> str:
    return f"{float(d):g}"


def _survival_settings(config: dict) -> dict:
    s = dict(config.get("survival") or {})
    ties = s.get("ties", "efron")
    ct = s.get("km_conf_type", "log-log")
    rule = str(s.get("median_rule", "R"))
    if ties not in ("efron", "breslow"):
        raise ValueError(f"config survival.ties must be efron or breslow, got {ties!r}")
    if ct not in ("log-log", "log", "plain"):
        raise ValueError(f"config survival.km_conf_type must be log-log, log or plain, got {ct!r}")
    if rule.upper() != "R":
        raise ValueError(f"config survival.median_rule: only 'R' is implemented, got {rule!r}")
    return {"ties": ties, "conf_type": ct,
            "days": list(s.get("proportions_at_days") or []),
            "at_risk_days": list(s.get("at_risk_days") or []),
            "cif_days": list(s.get("cif_days") or s.get("proportions_at_days") or [])}


def _column_or_none(df, name):
    if not name:
        return None
    if isinstance(name, (list, tuple)):
        if not all(c in df.columns for c in name):
            return None
        return df[list(name)].astype(str).agg("|".join, axis=1).where(df[list(name)].notna().all(axis=1))
    return df[name] if name in df.columns else None


def _terms_of(columns) -> dict:
    terms: dict = {}
    for j, c in enumerate(columns):
        base = c.split("[", 1)[0] if "[" in c and c.endswith("]") else c
        terms.setdefault(base, []).append(j)
    return terms


def run_time_to_event(df: pd.DataFrame, config: dict, outcome: dict,
                      population: str = "itt") -> dict:
    """All time-to-event analyses of one outcome, by arm.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per participant; ``arm`` holds the labels of config ``trial.arms``.
    config : dict
        The pipeline config (``trial.arms``, ``conf_levels``, ``covariates``,
        ``stratification_factors``, ``strata``, ``cluster``, ``survival``).
    outcome : dict
        One entry of ``outcomes.time_to_event``: ``name``, ``time``, ``event``,
        ``event_value`` and optionally ``label``, ``competing_value``, ``lower``,
        ``upper``, ``tau``.
    population : str
        Written to the ``population`` column.

    Returns
    -------
    dict of DataFrames: ``estimates``, ``km_curves``, ``km_at_risk``,
    ``cif_curves`` (empty without a competing value), ``zph_residuals``, ``summary``.
    """
    control, intervention = arm_labels(config)
    arms = [control, intervention]
    name = outcome["name"]
    label = outcome.get("label", name)
    levels = [float(x) for x in (config.get("conf_levels") or [0.95])]
    st = _survival_settings(config)
    tcol, ecol = outcome["time"], outcome["event"]
    for c in (tcol, ecol, "arm"):
        if c not in df.columns:
            raise ValueError(f"outcome {name!r}: column {c!r} not in the analysis table")
    a = df["arm"].astype("string")
    bad = a.notna() & ~a.isin(arms)
    if bad.any():
        raise ValueError(f"arm label(s) {sorted(a[bad].unique().tolist())} not in config "
                         f"trial.arms ({control!r}, {intervention!r})")
    tt = pd.to_numeric(df[tcol], errors="coerce")
    ee = pd.to_numeric(df[ecol], errors="coerce")
    ok = tt.notna() & ee.notna() & a.notna()
    d = df.loc[ok].copy()
    d["_time"] = tt[ok].astype(float)
    ev_value = outcome.get("event_value", 1)
    comp_value = outcome.get("competing_value")
    d["_event"] = (ee[ok] == ev_value).astype(int)
    is_comp = (ee[ok] == comp_value) if comp_value is not None else pd.Series(False, index=d.index)
    d["_status"] = np.where(d["_event"] == 1, 1, np.where(is_comp, 2, 0))
    d["_arm"] = d["arm"].astype(str)
    n_all, events_all = len(d), int(d["_event"].sum())
    ev_by_arm = {arm: int(d.loc[d["_arm"] == arm, "_event"].sum()) for arm in arms}
    no_events = [arm for arm in arms if ev_by_arm[arm] == 0]
    why_not = (f"not estimable: no events in arm {', '.join(no_events)}" if no_events else "")
    rows: list[dict] = []
    summ: list[dict] = []

    def add(analysis, term, estimate, **kw):
        kw.setdefault("population", population)
        if "ci" not in kw:
            kw.setdefault("conf_levels", levels)
        try:
            rows.extend(make_rows(analysis, name, term, estimate, **kw))
        except (OverflowError, ValueError) as exc:
            kw.pop("ci", None)
            kw["conf_levels"] = levels
            kw["note"] = f"not estimable ({exc}); " + kw.get("note", "")
            for k in ("std_error", "statistic", "p_value"):
                kw.pop(k, None)
            rows.extend(make_rows(analysis, name, term, np.nan, **kw))

    def ssum(measure, group, est, *, n=None, events=None, se=None, ci=None, p=None, note=""):
        for lv in (ci.keys() if ci else [np.nan]):
            lo, hi = ci[lv] if ci else (np.nan, np.nan)
            summ.append(dict(outcome=name, label=label, measure=measure, group=group, n=n,
                             events=events, estimate=est, std_error=se, conf_level=lv,
                             conf_low=lo, conf_high=hi, p_value=p, note=note))

    def wald_ci(est, se, log=False):
        return wald_cis(est, se, levels, log=log)

    # ------------------------------------------------------------ KM (A5)
    km_rows, risk_rows, fits = [], [], {}
    for arm in arms:
        m = d["_arm"] == arm
        if not m.any():
            continue
        f = kaplan_meier(d.loc[m, "_time"], d.loc[m, "_event"])
        fits[arm] = f
        n_a, e_a = int(m.sum()), f.events
        for lv in levels:
            cols = km_curve_table(f, lv, st["conf_type"])
            km_rows.append(pd.DataFrame({"outcome": name, "arm": arm, **cols, "conf_level": lv}))
        days_r = st["at_risk_days"]
        if days_r:
            risk_rows.append(pd.DataFrame({"outcome": name, "arm": arm, "time": np.asarray(days_r, float),
                                           "n_risk": number_at_risk(d.loc[m, "_time"], days_r)}))
        ci, med = {}, None
        for lv in levels:
            med = km_median(f, lv, st["conf_type"])
            ci[lv] = (med["lower"], med["upper"])
        note = f"KM median (first time S(t) <= 0.5, as R survfit); CI {st['conf_type']}"
        if not med["reached"]:
            note = "not reached; " + note
        elif any(not np.isfinite(v[1]) for v in ci.values()):
            note = "upper confidence limit not reached; " + note
        add("km_median", f"arm={arm}", med["median"], ci=ci, n=n_a, events=e_a, note=note)
        ssum("median", arm, med["median"], n=n_a, events=e_a, ci=ci, note=note)
        for day in st["days"]:
            ci, pr = {}, None
            for lv in levels:
                pr = proportion_returned(f, [day], lv, st["conf_type"])
                ci[lv] = (float(pr["lower"][0]), float(pr["upper"][0]))
            est = float(pr["estimate"][0])
            note = (f"1 - KM S(t); CI {st['conf_type']}" if np.isfinite(est)
                    else "not estimable: beyond last follow-up")
            add("km_proportion", f"arm={arm};t={_day(day)}", est, std_error=float(pr["std_err"][0]),
                ci=ci, n=n_a, events=e_a, note=note)
            ssum(f"proportion_t{_day(day)}", arm, est, n=n_a, events=e_a,
                 se=float(pr["std_err"][0]), ci=ci, note=note)
    km_curves = (pd.concat(km_rows, ignore_index=True) if km_rows
                 else pd.DataFrame(columns=KM_CURVE_COLUMNS))[KM_CURVE_COLUMNS]
    km_at_risk = (pd.concat(risk_rows, ignore_index=True) if risk_rows
                  else pd.DataFrame(columns=AT_RISK_COLUMNS))[AT_RISK_COLUMNS]
    two_arms = all(arm in fits for arm in arms)

    # ------------------------------------------------------------ log-rank (A6)
    strata_col = config.get("strata")
    if two_arms:
        lr = logrank_test(d["_time"], d["_event"], d["_arm"])
        oe = "; ".join(f"{g}: O={o:g}, E={e:.4g}" for g, o, e in zip(lr.groups, lr.observed, lr.expected))
        add("logrank", "arm", np.nan, statistic=lr.chisq, p_value=lr.p_value, n=n_all,
            events=events_all, conf_levels=[np.nan], note=f"chi-square, df={lr.df}; {oe}")
        ssum("logrank", "arm", np.nan, n=n_all, events=events_all, p=lr.p_value,
             note=f"chi-square {lr.chisq:.4g}, df={lr.df}")
        s = _column_or_none(d, strata_col)
        if s is not None:
            ms = s.notna()
            lr = logrank_test(d.loc[ms, "_time"], d.loc[ms, "_event"], d.loc[ms, "_arm"],
                              strata=s[ms])
            add("logrank_stratified", "arm", np.nan, statistic=lr.chisq, p_value=lr.p_value,
                n=int(ms.sum()), events=int(d.loc[ms, "_event"].sum()), conf_levels=[np.nan],
                note=f"chi-square, df={lr.df}; stratified by {strata_col}")
            ssum("logrank_stratified", "arm", np.nan, n=int(ms.sum()), p=lr.p_value,
                 note=f"chi-square {lr.chisq:.4g}, df={lr.df}")

    # ------------------------------------------------------------ Cox (A7)
    zph_frames = []
    cluster_col = config.get("cluster")
    if cluster_col and cluster_col not in d.columns:
        log.warning("cluster column %r not in the table: no robust SEs", cluster_col)
        cluster_col = None
    if strata_col and _column_or_none(d, strata_col) is None:
        log.warning("strata column %r not in the table: no stratified analyses", strata_col)
        strata_col = None
    adjust = adjustment_columns(config, d)
    models = [("cox_unadjusted", [], None, None)]
    if adjust or cluster_col:
        models.append(("cox_adjusted", adjust, None, cluster_col))
    if strata_col:
        sc = [strata_col] if isinstance(strata_col, str) else list(strata_col)
        # stratified baseline hazard *or* robust SE (SPEC A7): when the cluster is the
        # strata variable itself the stratified model keeps model-based SEs
        models.append(("cox_stratified", [c for c in adjust if c not in sc], strata_col,
                       cluster_col if cluster_col not in sc else None))
    if two_arms and no_events:
        for model, *_ in models:
            add(model, "arm", np.nan, n=n_all, events=events_all, conf_levels=[np.nan], note=why_not)
    elif two_arms:
        for model, adj, scol, ccol in models:
            try:
                dd = d
                s = _column_or_none(d, scol)
                if s is not None:
                    dd = d.loc[s.notna()]
                des = build_design(dd, config, outcome=None, adjust=adj, arm=True,
                                   intercept=False, cluster=ccol)
                dd = dd.loc[des.index]
                X = des.X
                terms = _terms_of(list(X.columns))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    fit = fit_cox(dd["_time"].to_numpy(), dd["_event"].to_numpy(), X.to_numpy(float),
                                  strata=None if s is None else s.loc[dd.index].to_numpy(),
                                  cluster=None if ccol is None else dd[ccol].to_numpy(),
                                  ties=st["ties"], names=list(X.columns), terms=terms)
            except Exception as exc:  # noqa: BLE001 - reported, not fatal
                add(model, "arm", np.nan, note=f"not estimable: {exc}", conf_levels=[np.nan])
                continue
            parts = [f"{st['ties']} ties"]
            if scol:
                parts.append(f"baseline hazard stratified by {scol}")
            if ccol:
                parts.append(f"robust SE clustered by {ccol} ({fit.n_clusters} clusters)")
            if adj:
                parts.append("adjusted for " + ", ".join(adj))
            if not fit.converged:
                parts.append("did not converge")
            note = "; ".join(parts)
            se = fit.se
            for j, cname in enumerate(fit.names):
                if fit.infinite[j]:
                    add(model, cname, np.nan, n=fit.n, events=fit.nevent,
                        note="not estimable: coefficient may be infinite (monotone likelihood, "
                        "e.g. no events in a group); " + note)
                    continue
                z = fit.coef[j] / se[j]
                add(model, cname, float(np.exp(fit.coef[j])), std_error=float(se[j]), scale="log",
                    statistic=float(z), p_value=float(p_two_sided(z)), n=fit.n,
                    events=fit.nevent, note=note)
            for tname, tst in (("lr", fit.lr_test), ("wald", fit.wald_test), ("score", fit.score_test)):
                add(model, f"global;test={tname}", np.nan, statistic=tst[0], p_value=tst[2],
                    n=fit.n, events=fit.nevent, conf_levels=[np.nan],
                    note=f"chi-square, df={tst[1]}" + ("; robust variance" if tname == "wald" and ccol else ""))
            j = fit.names.index("arm")
            if fit.infinite[j]:
                continue
            hr = float(np.exp(fit.coef[j]))
            ssum(model, "arm", hr, n=fit.n, events=fit.nevent, se=float(se[j]),
                 ci=wald_ci(hr, float(se[j]), log=True),
                 p=float(p_two_sided(fit.coef[j] / se[j])), note=note)
            try:
                z = cox_zph(fit, transform="km")
            except Exception as exc:  # noqa: BLE001
                add("cox_zph", "global", np.nan, note=f"model={model}; not estimable: {exc}",
                    conf_levels=[np.nan])
                continue
            for r in z.table.itertuples(index=False):
                term = "global" if r.term == "GLOBAL" else r.term
                add("cox_zph", term, np.nan, statistic=float(r.chisq), p_value=float(r.p),
                    n=fit.n, events=fit.nevent, conf_levels=[np.nan],
                    note=f"model={model}; chi-square, df={int(r.df)}; transform=km (R cox.zph)")
            res = z.residuals
            tcols = list(fit.terms.keys())
            long = res.melt(id_vars=["time", "transformed_time"], value_vars=tcols,
                            var_name="term", value_name="residual")
            long["_k"] = np.tile(np.arange(len(res)), len(tcols))
            long["_m"] = len(zph_frames)
            long.insert(0, "model", model)
            long.insert(0, "outcome", name)
            zph_frames.append(long)
    if zph_frames:
        zph = pd.concat(zph_frames, ignore_index=True)
        zph["_t"] = zph["term"].map({t: i for i, t in enumerate(dict.fromkeys(zph["term"]))})
        zph = zph.sort_values(["_m", "_t", "_k"], kind="mergesort")[ZPH_COLUMNS].reset_index(drop=True)
    else:
        zph = pd.DataFrame(columns=ZPH_COLUMNS)

    # ------------------------------------------------------------ RMST (A8)
    if fits:
        tau = outcome.get("tau")
        tau = float(tau) if tau is not None else default_tau([f.time for f in fits.values()])
        rm = {}
        for arm, f in fits.items():
            rm[arm] = rmst_from_fit(f, tau)
            add("rmst", f"arm={arm}", rm[arm]["rmst"], std_error=rm[arm]["se"], n=f.n,
                events=f.events, note=f"tau={_day(tau)}; SE as R print(survfit, rmean=tau)")
            ssum("rmst", arm, rm[arm]["rmst"], n=f.n, events=f.events, se=rm[arm]["se"],
                 ci=wald_ci(rm[arm]["rmst"], rm[arm]["se"]), note=f"tau={_day(tau)}")
        if two_arms:
            dif = rmst_difference(rm[intervention], rm[control], levels)
            add("rmst_difference", "arm", dif["estimate"], std_error=dif["se"], ci=dif["ci"],
                statistic=dif["z"], p_value=dif["p_value"], n=n_all, events=events_all,
                note=f"{intervention} - {control}; tau={_day(tau)}")
            ssum("rmst_difference", "arm", dif["estimate"], n=n_all, events=events_all,
                 se=dif["se"], ci=dif["ci"], p=dif["p_value"], note=f"tau={_day(tau)}")

    # ------------------------------------------------------------ competing risks (A10)
    cif_rows = []
    if comp_value is not None and fits:
        for arm in arms:
            m = d["_arm"] == arm
            if not m.any():
                continue
            for code, cause in ((1, "event"), (2, "competing")):
                cur = cmp.cuminc_curve(d.loc[m, "_time"], d.loc[m, "_status"], cause=code)
                t = np.r_[0.0, cur.time]
                est = np.r_[0.0, cur.est]
                var = np.r_[0.0, cur.var]
                if cur.max_time > t[-1]:
                    t, est, var = np.r_[t, cur.max_time], np.r_[est, est[-1]], np.r_[var, var[-1]]
                for lv in levels:
                    lo, hi = cmp.cif_confint(est, var, lv)
                    cif_rows.append(pd.DataFrame({"outcome": name, "arm": arm, "cause": cause,
                                                  "time": t, "cif": est, "std_err": np.sqrt(var),
                                                  "conf_level": lv, "lower": lo, "upper": hi}))
                for day in st["cif_days"]:
                    e1, v1 = cur.at([day])
                    ci = {}
                    for lv in levels:
                        lo, hi = cmp.cif_confint(e1, v1, lv)
                        ci[lv] = (float(lo[0]), float(hi[0]))
                    add("cif", f"arm={arm};cause={cause};t={_day(day)}", float(e1[0]),
                        std_error=float(np.sqrt(v1[0])), ci=ci, n=int(m.sum()),
                        events=int((d.loc[m, "_status"] == code).sum()),
                        note="Aalen-Johansen (cmprsk::cuminc); CI log(-log)")
                    if cause == "event":
                        ssum(f"cif_t{_day(day)}", arm, float(e1[0]), n=int(m.sum()),
                             se=float(np.sqrt(v1[0])), ci=ci)
        if two_arms:
            for code, cause in ((1, "event"), (2, "competing")):
                try:
                    g = cmp.gray_test(d["_time"], d["_status"], d["_arm"], cause=code)
                except Exception as exc:  # noqa: BLE001
                    add("gray_test", "arm" if code == 1 else "arm;cause=competing", np.nan,
                        conf_levels=[np.nan], note=f"not estimable: {exc}")
                    continue
                add("gray_test", "arm" if code == 1 else "arm;cause=competing", np.nan,
                    statistic=g.stat, p_value=g.p_value, n=n_all,
                    events=int((d["_status"] == code).sum()), conf_levels=[np.nan],
                    note=f"chi-square, df={g.df}; Gray (1988), rho=0 (cmprsk::cuminc)")
                if code == 1:
                    ssum("gray_test", "arm", np.nan, n=n_all, p=g.p_value,
                         note=f"chi-square {g.stat:.4g}")
            try:
                if no_events:
                    raise ValueError(why_not.replace("not estimable: ", ""))
                xa = (d["_arm"] == intervention).astype(float).to_numpy()[:, None]
                fg = cmp.fine_gray(d["_time"].to_numpy(), d["_status"].to_numpy(), xa, names=["arm"])
                b, se = float(fg.coef[0]), float(fg.se[0])
                add("fine_gray", "arm", float(np.exp(b)), std_error=se, scale="log",
                    statistic=b / se, p_value=float(p_two_sided(b / se)), n=fg.n,
                    events=fg.nevent, note="subdistribution HR (cmprsk::crr), competing value "
                    f"{comp_value}")
                ssum("fine_gray", "arm", float(np.exp(b)), n=fg.n, events=fg.nevent, se=se,
                     ci=wald_ci(float(np.exp(b)), se, log=True),
                     p=float(p_two_sided(b / se)))
            except Exception as exc:  # noqa: BLE001
                add("fine_gray", "arm", np.nan, conf_levels=[np.nan], note=f"not estimable: {exc}")
    cif_curves = (pd.concat(cif_rows, ignore_index=True) if cif_rows
                  else pd.DataFrame(columns=CIF_COLUMNS))[CIF_COLUMNS]

    # ------------------------------------------------------------ interval censoring (A9)
    lc, uc = outcome.get("lower"), outcome.get("upper")
    if lc and uc and lc in d.columns and uc in d.columns:
        lo = pd.to_numeric(d[lc], errors="coerce")
        up = pd.to_numeric(d[uc], errors="coerce")
        mi = lo.notna() | up.notna()
        di = d.loc[mi]
        for arm in arms:
            m = di["_arm"] == arm
            if not m.any():
                continue
            tb = icens.turnbull(lo[mi][m], up[mi][m])
            for day in st["days"]:
                est = float(tb.cdf_at([day])[0])
                add("turnbull", f"arm={arm};t={_day(day)}", est, n=int(m.sum()),
                    events=int(np.isfinite(up[mi][m]).sum()), conf_levels=[np.nan],
                    note="Turnbull NPMLE 1 - S(t) (survfit interval2); no SE")
        if two_arms:
            try:
                no_iv = [arm for arm in arms if not np.isfinite(up[mi][di["_arm"] == arm]).any()]
                if no_iv:
                    raise ValueError(f"no events (finite upper bound) in arm {', '.join(no_iv)}")
                xa = (di["_arm"] == intervention).astype(float).to_numpy()[:, None]
                w = icens.weibull_ic(lo[mi].to_numpy(), up[mi].to_numpy(), xa, names=["arm"])
                hr, se_hr = w.hazard_ratio("arm")
                tr, se_tr = w.time_ratio("arm")
                zz = np.log(hr) / se_hr if se_hr > 0 else np.nan
                ev_i = int(np.isfinite(up[mi]).sum())
                add("weibull_ic", "arm", hr, std_error=se_hr, scale="log",
                    statistic=float(zz), p_value=float(p_two_sided(zz)), n=w.n,
                    events=ev_i, note=f"HR = exp(-b/scale), scale={w.scale:.6g} "
                    "(survreg interval2, weibull)")
                add("weibull_ic", "arm;measure=time_ratio", tr, std_error=se_tr, scale="log",
                    statistic=float(np.log(tr) / se_tr),
                    p_value=float(p_two_sided(np.log(tr) / se_tr)), n=w.n,
                    events=ev_i, note="time ratio exp(b) (survreg interval2, weibull)")
                ssum("weibull_ic", "arm", hr, n=w.n, events=ev_i, se=se_hr,
                     ci=wald_ci(hr, se_hr, log=True), p=float(p_two_sided(zz)))
            except Exception as exc:  # noqa: BLE001
                add("weibull_ic", "arm", np.nan, conf_levels=[np.nan], note=f"not estimable: {exc}")

    summary = pd.DataFrame(summ, columns=SUMMARY_COLUMNS)
    order = {"arm": {a: i for i, a in enumerate(arms)},
             "conf_level": {lv: i for i, lv in enumerate(levels)}}
    km_curves = km_curves.sort_values(
        ["arm", "conf_level", "time"], kind="mergesort",
        key=lambda s: s.map(order[s.name]) if s.name in order else s).reset_index(drop=True)
    if len(cif_curves):
        order["cause"] = {"event": 0, "competing": 1}
        cif_curves = cif_curves.sort_values(
            ["arm", "cause", "conf_level", "time"], kind="mergesort",
            key=lambda s: s.map(order[s.name]) if s.name in order else s).reset_index(drop=True)
    return {"estimates": to_frame(rows), "km_curves": km_curves, "km_at_risk": km_at_risk,
            "cif_curves": cif_curves, "zph_residuals": zph, "summary": summary}
