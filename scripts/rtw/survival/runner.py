"""Time-to-event analyses of one outcome by arm (SPEC §4 A5–A11): the runner.

:func:`run_time_to_event` is what the Snakemake entry script calls.  It reads
everything trial-specific from the config (arm labels, control arm, covariates,
stratification factors, ``strata``, ``cluster``, the ``survival:`` block, CI
levels) and the outcome dict (``outcomes.time_to_event[i]``).

Structure: :func:`prepare` builds, once, a frozen :class:`SurvivalData` -- the
analysed rows (``_time``, ``_event``, ``_status``, ``_arm``), arm labels, CI
levels, ``survival:`` settings, the Kaplan-Meier fit per arm, tau, the strata,
cluster and adjustment columns present in the table and the interval bounds.
One function per analysis then takes it and returns a :class:`Part` (its
estimates rows, its summary rows and its tables): :func:`km_analysis` (A5,
tables ``km_curves``, ``km_at_risk``), :func:`logrank_analysis` (A6),
:func:`cox_analyses` (A7 + cox.zph, table ``zph_residuals``),
:func:`rmst_analysis` (A8), :func:`competing_analysis` (A10, table
``cif_curves``) and :func:`interval_analysis` (A9).  :func:`run_time_to_event`
calls them in that order and joins their rows.  Each analysis calls one engine
module (``rtw.survival.km``, ``rtw.survival.logrank``, ``rtw.survival.cox``,
``rtw.survival.rmst``, ``rtw.survival.competing``, ``rtw.survival.interval``),
so an engine can be swapped without touching rules or tables.  For the first
configured time-to-event outcome, when ``subgroups`` are configured, the runner
then adds the ``subgroup_cox`` rows of
:func:`rtw.survival.subgroups.subgroup_cox_rows` (A14; on the whole table, with
its own complete cases).

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
subgroup_cox           ``subgroup=<name>:<level>`` (HR);      first outcome only; LR test
                       ``interaction=<name>``                 in ``statistic``
=====================  =====================================  ===========================

Rows with a missing time or event are left out (complete case); ``n`` and
``events`` give what each estimate used.  An analysis that cannot be estimated
(e.g. no events in an arm) gives a row with NaN estimate and the reason in
``note`` instead of stopping the run.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtw.survival import competing as cmp
from rtw.survival import interval as icens
from rtw.survival.cox import cox_zph, fit_cox
from rtw.core.estimates import make_rows, to_frame
from rtw.survival.km import kaplan_meier, km_curve_table, km_median, number_at_risk, proportion_returned
from rtw.survival.logrank import logrank_test
from rtw.core.modelframe import adjustment_columns, arm_labels, build_design
from rtw.core.timescale import round_times, summary_times
from rtw.survival.rmst import default_tau, rmst_difference, rmst_from_fit
from rtw.survival.subgroups import subgroup_cox_rows
from rtw.core.stats import p_two_sided, wald_cis

log = logging.getLogger(__name__)

KM_CURVE_COLUMNS = ["outcome", "arm", "time", "n_risk", "n_event", "n_censor", "surv",
                    "std_err", "conf_level", "lower", "upper"]
AT_RISK_COLUMNS = ["outcome", "arm", "time", "n_risk"]
CIF_COLUMNS = ["outcome", "arm", "cause", "time", "cif", "std_err", "conf_level", "lower", "upper"]
ZPH_COLUMNS = ["outcome", "model", "term", "time", "transformed_time", "residual"]
SUMMARY_COLUMNS = ["outcome", "label", "measure", "group", "n", "events", "estimate",
                   "std_error", "conf_level", "conf_low", "conf_high", "p_value", "note"]
CAUSES = ((1, "event"), (2, "competing"))      # _status code -> cause label


def _day(d) -> str:
    return f"{float(d):g}"


def _survival_settings(config: dict) -> dict:
    s = config["survival"]
    ties, ct, rule = s["ties"], s["km_conf_type"], str(s["median_rule"])
    if ties not in ("efron", "breslow"):
        raise ValueError(f"config survival.ties must be efron or breslow, got {ties!r}")
    if ct not in ("log-log", "log", "plain"):
        raise ValueError(f"config survival.km_conf_type must be log-log, log or plain, got {ct!r}")
    if rule.upper() != "R":
        raise ValueError(f"config survival.median_rule: only 'R' is implemented, got {rule!r}")
    return {"ties": ties, "conf_type": ct,
            "days": list(s["proportions_at_days"]),
            "at_risk_days": list(s["at_risk_days"]),
            "cif_days": list(s["proportions_at_days"] if s["cif_days"] is None else s["cif_days"])}


def _time_grids(settings: dict, block: dict, horizon: float, unit: str) -> dict:
    """``settings`` with the grids the config leaves empty set to round times of the outcome's
    unit up to ``horizon`` (its tau, else its last follow-up time): at-risk times
    (:func:`rtw.core.timescale.round_times`), proportions with the event and cumulative
    incidences (:func:`rtw.core.timescale.summary_times`)."""
    out = dict(settings)
    if not block["at_risk_days"]:
        out["at_risk_days"] = round_times(horizon, unit)
    if not block["proportions_at_days"]:
        out["days"] = summary_times(horizon, unit)
        if block["cif_days"] is None:
            out["cif_days"] = list(out["days"])
    return out


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


# --------------------------------------------------------------------------- #
# the prepared data shared by every analysis
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class SurvivalData:
    """One outcome's analysed rows and what every analysis of it shares (:func:`prepare`)."""

    name: str                       # outcome name (``outcome`` column of every table)
    label: str                      # outcome label (summary table)
    population: str                 # ``population`` column of the estimates
    config: dict                    # the pipeline config (designs read it)
    rows: pd.DataFrame              # complete cases + _time, _event (0/1), _status (0/1/2), _arm
    control: str                    # control arm label
    intervention: str               # intervention arm label
    levels: list                    # CI levels (config ``conf_levels``)
    settings: dict                  # ties, conf_type, days, at_risk_days, cif_days
    competing_value: object         # event value of the competing event (None: none)
    n: int                          # rows analysed
    events: int                     # events analysed
    no_events: list                 # arms without an event
    km_fits: dict                   # arm -> KMFit, for the arms with rows (arm order)
    tau: float | None               # RMST horizon (None without a KM fit)
    strata_col: object              # ``strata`` column(s) in the table, else falsy
    cluster_col: str | None         # ``cluster`` column in the table, else falsy
    adjust: list                    # adjustment columns (stratification factors + covariates)
    lower: pd.Series | None         # interval-censoring lower bound on ``rows`` (None: not set)
    upper: pd.Series | None         # interval-censoring upper bound on ``rows``

    @property
    def arms(self) -> list[str]:
        return [self.control, self.intervention]

    @property
    def two_arms(self) -> bool:
        """Whether both arms have analysed rows (comparisons possible)."""
        return all(arm in self.km_fits for arm in self.arms)

    @property
    def why_not(self) -> str:
        """The note of a comparison that needs events in both arms ("" if it has them)."""
        return (f"not estimable: no events in arm {', '.join(self.no_events)}"
                if self.no_events else "")


def _check_columns(df: pd.DataFrame, outcome: dict, arms: list[str]) -> pd.Series:
    """The arm labels as strings; raises if a column is absent or a label unknown."""
    for c in (outcome["time"], outcome["event"], "arm"):
        if c not in df.columns:
            raise ValueError(f"outcome {outcome['name']!r}: column {c!r} not in the analysis table")
    arm = df["arm"].astype("string")
    bad = arm.notna() & ~arm.isin(arms)
    if bad.any():
        raise ValueError(f"arm label(s) {sorted(arm[bad].unique().tolist())} not in config "
                         f"trial.arms ({arms[0]!r}, {arms[1]!r})")
    return arm


def _analysed_rows(df: pd.DataFrame, outcome: dict, arm: pd.Series) -> pd.DataFrame:
    """Complete cases (time, event, arm) with ``_time``, ``_event`` (1 = the event),
    ``_status`` (1 event, 2 competing event, 0 censored) and ``_arm`` (str)."""
    time = pd.to_numeric(df[outcome["time"]], errors="coerce")
    event = pd.to_numeric(df[outcome["event"]], errors="coerce")
    complete = time.notna() & event.notna() & arm.notna()
    rows = df.loc[complete].copy()
    rows["_time"] = time[complete].astype(float)
    comp_value = outcome["competing_value"]
    rows["_event"] = (event[complete] == outcome["event_value"]).astype(int)
    is_comp = (event[complete] == comp_value if comp_value is not None
               else pd.Series(False, index=rows.index))
    rows["_status"] = np.where(rows["_event"] == 1, 1, np.where(is_comp, 2, 0))
    rows["_arm"] = rows["arm"].astype(str)
    return rows


def _km_fits(rows: pd.DataFrame, arms: list[str]) -> dict:
    """arm -> Kaplan-Meier fit, for the arms that have rows."""
    fits = {}
    for arm in arms:
        in_arm = rows["_arm"] == arm
        if in_arm.any():
            fits[arm] = kaplan_meier(rows.loc[in_arm, "_time"], rows.loc[in_arm, "_event"])
    return fits


def _strata_and_cluster(rows: pd.DataFrame, config: dict) -> tuple:
    """Config ``strata`` and ``cluster`` when their columns are in the table, else None
    (with a warning)."""
    cluster_col = config["cluster"]
    if cluster_col and cluster_col not in rows.columns:
        log.warning("cluster column %r not in the table: no robust SEs", cluster_col)
        cluster_col = None
    strata_col = config["strata"]
    if strata_col and _column_or_none(rows, strata_col) is None:
        log.warning("strata column %r not in the table: no stratified analyses", strata_col)
        strata_col = None
    return strata_col, cluster_col


def _interval_bounds(rows: pd.DataFrame, outcome: dict) -> tuple:
    """Numeric ``lower`` / ``upper`` bound columns of the outcome (None, None if not set)."""
    lower_col, upper_col = outcome["lower"], outcome["upper"]
    if lower_col and upper_col and lower_col in rows.columns and upper_col in rows.columns:
        return (pd.to_numeric(rows[lower_col], errors="coerce"),
                pd.to_numeric(rows[upper_col], errors="coerce"))
    return None, None


def prepare(df: pd.DataFrame, config: dict, outcome: dict,
            population: str = "itt") -> SurvivalData:
    """The analysed rows and shared settings of one outcome (see :class:`SurvivalData`).

    Raises ``ValueError`` for an invalid ``survival:`` block, an absent column or an arm
    label outside ``trial.arms``.
    """
    control, intervention = arm_labels(config)
    arms = [control, intervention]
    levels = [float(x) for x in config["conf_levels"]]
    settings = _survival_settings(config)
    rows = _analysed_rows(df, outcome, _check_columns(df, outcome, arms))
    ev_by_arm = {arm: int(rows.loc[rows["_arm"] == arm, "_event"].sum()) for arm in arms}
    fits = _km_fits(rows, arms)
    tau = outcome["tau"]
    horizon = float(tau) if tau is not None else float(rows["_time"].max()) if len(rows) else 0.0
    settings = _time_grids(settings, config["survival"], horizon, outcome["time_unit"])
    if fits:
        tau = float(tau) if tau is not None else default_tau([f.time for f in fits.values()])
    strata_col, cluster_col = _strata_and_cluster(rows, config)
    lower, upper = _interval_bounds(rows, outcome)
    return SurvivalData(
        name=outcome["name"], label=outcome["label"],
        population=population, config=config, rows=rows, control=control,
        intervention=intervention, levels=levels, settings=settings,
        competing_value=outcome["competing_value"], n=len(rows),
        events=int(rows["_event"].sum()),
        no_events=[arm for arm in arms if ev_by_arm[arm] == 0], km_fits=fits,
        tau=tau if fits else None, strata_col=strata_col, cluster_col=cluster_col,
        adjust=adjustment_columns(config, rows), lower=lower, upper=upper)


class Part:
    """What one analysis gives: its estimates rows, its summary rows and its tables."""

    def __init__(self, prep: SurvivalData):
        self.prep = prep
        self.estimates: list[dict] = []
        self.summary: list[dict] = []
        self.tables: dict[str, pd.DataFrame] = {}

    def add(self, analysis, term, estimate, **kw) -> None:
        """Estimates rows (:func:`rtw.core.estimates.make_rows`) at every CI level; a
        value that cannot be written gives a NaN row with the reason in ``note``."""
        prep = self.prep
        kw.setdefault("population", prep.population)
        if "ci" not in kw:
            kw.setdefault("conf_levels", prep.levels)
        try:
            self.estimates.extend(make_rows(analysis, prep.name, term, estimate, **kw))
        except (OverflowError, ValueError) as exc:
            kw.pop("ci", None)
            kw["conf_levels"] = prep.levels
            kw["note"] = f"not estimable ({exc}); " + kw.get("note", "")
            for k in ("std_error", "statistic", "p_value"):
                kw.pop(k, None)
            self.estimates.extend(make_rows(analysis, prep.name, term, np.nan, **kw))

    def summarise(self, measure, group, est, *, n=None, events=None, se=None, ci=None, p=None,
                  note="") -> None:
        """Summary-table rows, one per CI level of ``ci`` (one row without a CI)."""
        prep = self.prep
        for lv in (ci.keys() if ci else [np.nan]):
            lo, hi = ci[lv] if ci else (np.nan, np.nan)
            self.summary.append(dict(outcome=prep.name, label=prep.label, measure=measure,
                                     group=group, n=n, events=events, estimate=est,
                                     std_error=se, conf_level=lv, conf_low=lo, conf_high=hi,
                                     p_value=p, note=note))


def _frame(pieces: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    return (pd.concat(pieces, ignore_index=True) if pieces
            else pd.DataFrame(columns=columns))[columns]


def _sort_curves(curves: pd.DataFrame, keys: list[str], prep: SurvivalData) -> pd.DataFrame:
    """Curve rows in arm order (control first), cause order, CI level order, then by time."""
    order = {"arm": {a: i for i, a in enumerate(prep.arms)},
             "conf_level": {lv: i for i, lv in enumerate(prep.levels)},
             "cause": {"event": 0, "competing": 1}}
    return curves.sort_values(
        keys, kind="mergesort",
        key=lambda s: s.map(order[s.name]) if s.name in order else s).reset_index(drop=True)


# --------------------------------------------------------------------------- #
# KM (A5)
# --------------------------------------------------------------------------- #
def _km_median_rows(part: Part, arm: str, fit, n_arm: int) -> None:
    conf_type = part.prep.settings["conf_type"]
    ci, med = {}, None
    for lv in part.prep.levels:
        med = km_median(fit, lv, conf_type)
        ci[lv] = (med["lower"], med["upper"])
    note = f"KM median (first time S(t) <= 0.5, as R survfit); CI {conf_type}"
    if not med["reached"]:
        note = "not reached; " + note
    elif any(not np.isfinite(v[1]) for v in ci.values()):
        note = "upper confidence limit not reached; " + note
    part.add("km_median", f"arm={arm}", med["median"], ci=ci, n=n_arm, events=fit.events,
             note=note)
    part.summarise("median", arm, med["median"], n=n_arm, events=fit.events, ci=ci, note=note)


def _km_proportion_rows(part: Part, arm: str, fit, n_arm: int) -> None:
    conf_type = part.prep.settings["conf_type"]
    for day in part.prep.settings["days"]:
        ci, pr = {}, None
        for lv in part.prep.levels:
            pr = proportion_returned(fit, [day], lv, conf_type)
            ci[lv] = (float(pr["lower"][0]), float(pr["upper"][0]))
        est = float(pr["estimate"][0])
        note = (f"1 - KM S(t); CI {conf_type}" if np.isfinite(est)
                else "not estimable: beyond last follow-up")
        part.add("km_proportion", f"arm={arm};t={_day(day)}", est,
                 std_error=float(pr["std_err"][0]), ci=ci, n=n_arm, events=fit.events, note=note)
        part.summarise(f"proportion_t{_day(day)}", arm, est, n=n_arm, events=fit.events,
                       se=float(pr["std_err"][0]), ci=ci, note=note)


def km_analysis(prep: SurvivalData) -> Part:
    """A5: per arm the KM median and 1 - S(t) at ``survival.proportions_at_days``; tables
    ``km_curves`` (every CI level) and ``km_at_risk`` (at ``survival.at_risk_days``)."""
    part = Part(prep)
    settings, curves, at_risk = prep.settings, [], []
    for arm, fit in prep.km_fits.items():
        in_arm = prep.rows["_arm"] == arm
        for lv in prep.levels:
            cols = km_curve_table(fit, lv, settings["conf_type"])
            curves.append(pd.DataFrame({"outcome": prep.name, "arm": arm, **cols, "conf_level": lv}))
        days_r = settings["at_risk_days"]
        if days_r:
            at_risk.append(pd.DataFrame({"outcome": prep.name, "arm": arm,
                                         "time": np.asarray(days_r, float),
                                         "n_risk": number_at_risk(prep.rows.loc[in_arm, "_time"],
                                                                  days_r)}))
        _km_median_rows(part, arm, fit, int(in_arm.sum()))
        _km_proportion_rows(part, arm, fit, int(in_arm.sum()))
    part.tables["km_curves"] = _sort_curves(_frame(curves, KM_CURVE_COLUMNS),
                                            ["arm", "conf_level", "time"], prep)
    part.tables["km_at_risk"] = _frame(at_risk, AT_RISK_COLUMNS)
    return part


# --------------------------------------------------------------------------- #
# log-rank (A6)
# --------------------------------------------------------------------------- #
def logrank_analysis(prep: SurvivalData) -> Part:
    """A6: log-rank test by arm, and stratified by ``strata`` when set (both arms needed)."""
    part = Part(prep)
    if not prep.two_arms:
        return part
    rows = prep.rows
    lr = logrank_test(rows["_time"], rows["_event"], rows["_arm"])
    oe = "; ".join(f"{g}: O={o:g}, E={e:.4g}" for g, o, e in zip(lr.groups, lr.observed, lr.expected))
    part.add("logrank", "arm", np.nan, statistic=lr.chisq, p_value=lr.p_value, n=prep.n,
             events=prep.events, conf_levels=[np.nan], note=f"chi-square, df={lr.df}; {oe}")
    part.summarise("logrank", "arm", np.nan, n=prep.n, events=prep.events, p=lr.p_value,
                   note=f"chi-square {lr.chisq:.4g}, df={lr.df}")
    strata = _column_or_none(rows, prep.strata_col)
    if strata is not None:
        has_stratum = strata.notna()
        lr = logrank_test(rows.loc[has_stratum, "_time"], rows.loc[has_stratum, "_event"],
                          rows.loc[has_stratum, "_arm"], strata=strata[has_stratum])
        part.add("logrank_stratified", "arm", np.nan, statistic=lr.chisq, p_value=lr.p_value,
                 n=int(has_stratum.sum()), events=int(rows.loc[has_stratum, "_event"].sum()),
                 conf_levels=[np.nan], note=f"chi-square, df={lr.df}; stratified by {prep.strata_col}")
        part.summarise("logrank_stratified", "arm", np.nan, n=int(has_stratum.sum()),
                       p=lr.p_value, note=f"chi-square {lr.chisq:.4g}, df={lr.df}")
    return part


# --------------------------------------------------------------------------- #
# Cox (A7)
# --------------------------------------------------------------------------- #
def _cox_models(prep: SurvivalData) -> list[tuple]:
    """(analysis, adjustment columns, strata column, cluster column) of each Cox model."""
    adjust, strata_col, cluster_col = prep.adjust, prep.strata_col, prep.cluster_col
    models = [("cox_unadjusted", [], None, None)]
    if adjust or cluster_col:
        models.append(("cox_adjusted", adjust, None, cluster_col))
    if strata_col:
        sc = [strata_col] if isinstance(strata_col, str) else list(strata_col)
        # stratified baseline hazard *or* robust SE (SPEC A7): when the cluster is the
        # strata variable itself the stratified model keeps model-based SEs
        models.append(("cox_stratified", [c for c in adjust if c not in sc], strata_col,
                       cluster_col if cluster_col not in sc else None))
    return models


def _fit_cox_model(prep: SurvivalData, adjust, strata_col, cluster_col):
    """:func:`rtw.survival.cox.fit_cox` of arm + ``adjust`` on the complete cases of the
    design (and of the strata), baseline hazard by ``strata_col``, robust SE by
    ``cluster_col``."""
    rows = prep.rows
    strata = _column_or_none(prep.rows, strata_col)
    if strata is not None:
        rows = prep.rows.loc[strata.notna()]
    design = build_design(rows, prep.config, outcome=None, adjust=adjust, arm=True,
                          intercept=False, cluster=cluster_col)
    rows = rows.loc[design.index]
    X = design.X
    terms = _terms_of(list(X.columns))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fit_cox(rows["_time"].to_numpy(), rows["_event"].to_numpy(), X.to_numpy(float),
                       strata=None if strata is None else strata.loc[rows.index].to_numpy(),
                       cluster=None if cluster_col is None else rows[cluster_col].to_numpy(),
                       ties=prep.settings["ties"], names=list(X.columns), terms=terms)


def _cox_note(prep: SurvivalData, fit, adjust, strata_col, cluster_col) -> str:
    parts = [f"{prep.settings['ties']} ties"]
    if strata_col:
        parts.append(f"baseline hazard stratified by {strata_col}")
    if cluster_col:
        parts.append(f"robust SE clustered by {cluster_col} ({fit.n_clusters} clusters)")
    if adjust:
        parts.append("adjusted for " + ", ".join(adjust))
    if not fit.converged:
        parts.append("did not converge")
    return "; ".join(parts)


def _cox_rows(part: Part, model: str, fit, note: str, robust: bool) -> None:
    """HR rows per coefficient and the global LR, Wald and score tests of one model."""
    se = fit.se
    for j, cname in enumerate(fit.names):
        if fit.infinite[j]:
            part.add(model, cname, np.nan, n=fit.n, events=fit.nevent,
                     note="not estimable: coefficient may be infinite (monotone likelihood, "
                     "e.g. no events in a group); " + note)
            continue
        z = fit.coef[j] / se[j]
        part.add(model, cname, float(np.exp(fit.coef[j])), std_error=float(se[j]), scale="log",
                 statistic=float(z), p_value=float(p_two_sided(z)), n=fit.n,
                 events=fit.nevent, note=note)
    for tname, tst in (("lr", fit.lr_test), ("wald", fit.wald_test), ("score", fit.score_test)):
        part.add(model, f"global;test={tname}", np.nan, statistic=tst[0], p_value=tst[2],
                 n=fit.n, events=fit.nevent, conf_levels=[np.nan],
                 note=f"chi-square, df={tst[1]}"
                 + ("; robust variance" if tname == "wald" and robust else ""))


def _cox_arm_summary(part: Part, model: str, fit, note: str) -> None:
    j = fit.names.index("arm")
    se = fit.se
    hr = float(np.exp(fit.coef[j]))
    part.summarise(model, "arm", hr, n=fit.n, events=fit.nevent, se=float(se[j]),
                   ci=wald_cis(hr, float(se[j]), part.prep.levels, log=True),
                   p=float(p_two_sided(fit.coef[j] / se[j])), note=note)


def _cox_zph_rows(part: Part, model: str, fit, model_index: int) -> dict | None:
    """cox.zph rows of one model; its scaled Schoenfeld residuals (``model``, ``terms``,
    ``time``, ``transformed_time`` and the events x terms ``residual`` matrix) for the long
    table (None when the test cannot be done)."""
    try:
        zph = cox_zph(fit, transform="km")
    except Exception as exc:  # noqa: BLE001
        part.add("cox_zph", "global", np.nan, note=f"model={model}; not estimable: {exc}",
                 conf_levels=[np.nan])
        return None
    for r in zph.table.itertuples(index=False):
        term = "global" if r.term == "GLOBAL" else r.term
        part.add("cox_zph", term, np.nan, statistic=float(r.chisq), p_value=float(r.p),
                 n=fit.n, events=fit.nevent, conf_levels=[np.nan],
                 note=f"model={model}; chi-square, df={int(r.df)}; transform=km (R cox.zph)")
    res = zph.residuals
    tcols = list(fit.terms.keys())
    return {"model": model, "terms": tcols, "time": res["time"].to_numpy(float),
            "transformed_time": res["transformed_time"].to_numpy(float),
            "residual": res[tcols].to_numpy(float)}


def _zph_table(outcome: str, models: list[dict]) -> pd.DataFrame:
    """Residuals of every model in long form: by model, then term (first-seen order over
    the models), then event.  Built column by column from the per-model arrays (no melt,
    no sort of the long frame); ``outcome``, ``model`` and ``term`` are categorical (the
    CSV text is the same, the frame holds codes instead of ~n x terms x models strings)."""
    if not models:
        return pd.DataFrame(columns=ZPH_COLUMNS)
    rank = {t: i for i, t in enumerate(dict.fromkeys(t for m in models for t in m["terms"]))}
    model_names = list(dict.fromkeys(m["model"] for m in models))
    mcode, tcode, times, ttimes, resid = [], [], [], [], []
    for m in models:
        k = len(m["time"])
        cols = sorted(range(len(m["terms"])), key=lambda j: rank[m["terms"][j]])
        mcode.append(np.full(k * len(cols), model_names.index(m["model"]), dtype=np.int16))
        tcode.append(np.repeat(np.array([rank[m["terms"][j]] for j in cols], dtype=np.int16), k))
        times.append(np.tile(m["time"], len(cols)))
        ttimes.append(np.tile(m["transformed_time"], len(cols)))
        resid.append(m["residual"][:, cols].T.ravel())
    mcode, tcode = np.concatenate(mcode), np.concatenate(tcode)
    return pd.DataFrame({
        "outcome": pd.Categorical.from_codes(np.zeros(mcode.size, dtype=np.int8), [outcome]),
        "model": pd.Categorical.from_codes(mcode, model_names),
        "term": pd.Categorical.from_codes(tcode, list(rank)),
        "time": np.concatenate(times), "transformed_time": np.concatenate(ttimes),
        "residual": np.concatenate(resid)})


def cox_analyses(prep: SurvivalData) -> Part:
    """A7: ``cox_unadjusted``, ``cox_adjusted`` (robust SE by ``cluster``) and
    ``cox_stratified`` (baseline hazard by ``strata``) with their global tests and
    cox.zph; table ``zph_residuals``."""
    part = Part(prep)
    frames: list[dict] = []
    models = _cox_models(prep)
    if prep.two_arms and prep.no_events:
        for model, *_ in models:
            part.add(model, "arm", np.nan, n=prep.n, events=prep.events, conf_levels=[np.nan],
                     note=prep.why_not)
    elif prep.two_arms:
        for model, adjust, strata_col, cluster_col in models:
            try:
                fit = _fit_cox_model(prep, adjust, strata_col, cluster_col)
            except Exception as exc:  # noqa: BLE001 - reported, not fatal
                part.add(model, "arm", np.nan, note=f"not estimable: {exc}", conf_levels=[np.nan])
                continue
            note = _cox_note(prep, fit, adjust, strata_col, cluster_col)
            _cox_rows(part, model, fit, note, robust=bool(cluster_col))
            if fit.infinite[fit.names.index("arm")]:
                continue
            _cox_arm_summary(part, model, fit, note)
            residuals = _cox_zph_rows(part, model, fit, len(frames))
            if residuals is not None:
                frames.append(residuals)
    part.tables["zph_residuals"] = _zph_table(prep.name, frames)
    return part


# --------------------------------------------------------------------------- #
# RMST (A8)
# --------------------------------------------------------------------------- #
def rmst_analysis(prep: SurvivalData) -> Part:
    """A8: RMST to tau per arm and the intervention - control difference."""
    part = Part(prep)
    if not prep.km_fits:
        return part
    tau = prep.tau
    rmst = {}
    for arm, fit in prep.km_fits.items():
        rmst[arm] = rmst_from_fit(fit, tau)
        part.add("rmst", f"arm={arm}", rmst[arm]["rmst"], std_error=rmst[arm]["se"], n=fit.n,
                 events=fit.events, note=f"tau={_day(tau)}; SE as R print(survfit, rmean=tau)")
        part.summarise("rmst", arm, rmst[arm]["rmst"], n=fit.n, events=fit.events,
                       se=rmst[arm]["se"], ci=wald_cis(rmst[arm]["rmst"], rmst[arm]["se"], prep.levels),
                       note=f"tau={_day(tau)}")
    if prep.two_arms:
        dif = rmst_difference(rmst[prep.intervention], rmst[prep.control], prep.levels)
        part.add("rmst_difference", "arm", dif["estimate"], std_error=dif["se"], ci=dif["ci"],
                 statistic=dif["z"], p_value=dif["p_value"], n=prep.n, events=prep.events,
                 note=f"{prep.intervention} - {prep.control}; tau={_day(tau)}")
        part.summarise("rmst_difference", "arm", dif["estimate"], n=prep.n, events=prep.events,
                       se=dif["se"], ci=dif["ci"], p=dif["p_value"], note=f"tau={_day(tau)}")
    return part


# --------------------------------------------------------------------------- #
# competing risks (A10)
# --------------------------------------------------------------------------- #
def _cif_curve(prep: SurvivalData, arm: str, cause: str, cur) -> list[pd.DataFrame]:
    """The cumulative incidence curve of one arm and cause from time 0 to the last
    follow-up, at every CI level."""
    t = np.r_[0.0, cur.time]
    est = np.r_[0.0, cur.est]
    var = np.r_[0.0, cur.var]
    if cur.max_time > t[-1]:
        t, est, var = np.r_[t, cur.max_time], np.r_[est, est[-1]], np.r_[var, var[-1]]
    frames = []
    for lv in prep.levels:
        lo, hi = cmp.cif_confint(est, var, lv)
        frames.append(pd.DataFrame({"outcome": prep.name, "arm": arm, "cause": cause,
                                    "time": t, "cif": est, "std_err": np.sqrt(var),
                                    "conf_level": lv, "lower": lo, "upper": hi}))
    return frames


def _cif_arm(part: Part, arm: str) -> list[pd.DataFrame]:
    """``cif`` rows (both causes, at ``survival.cif_days``) and curves of one arm."""
    prep = part.prep
    in_arm = prep.rows["_arm"] == arm
    frames = []
    for code, cause in CAUSES:
        cur = cmp.cuminc_curve(prep.rows.loc[in_arm, "_time"], prep.rows.loc[in_arm, "_status"],
                               cause=code)
        frames += _cif_curve(prep, arm, cause, cur)
        for day in prep.settings["cif_days"]:
            est, var = cur.at([day])
            ci = {}
            for lv in prep.levels:
                lo, hi = cmp.cif_confint(est, var, lv)
                ci[lv] = (float(lo[0]), float(hi[0]))
            part.add("cif", f"arm={arm};cause={cause};t={_day(day)}", float(est[0]),
                     std_error=float(np.sqrt(var[0])), ci=ci, n=int(in_arm.sum()),
                     events=int((prep.rows.loc[in_arm, "_status"] == code).sum()),
                     note="Aalen-Johansen (cmprsk::cuminc); CI log(-log)")
            if cause == "event":
                part.summarise(f"cif_t{_day(day)}", arm, float(est[0]), n=int(in_arm.sum()),
                               se=float(np.sqrt(var[0])), ci=ci)
    return frames


def _gray_rows(part: Part) -> None:
    """Gray's test of each cause by arm."""
    prep = part.prep
    rows = prep.rows
    for code, _cause in CAUSES:
        term = "arm" if code == 1 else "arm;cause=competing"
        try:
            g = cmp.gray_test(rows["_time"], rows["_status"], rows["_arm"], cause=code)
        except Exception as exc:  # noqa: BLE001
            part.add("gray_test", term, np.nan, conf_levels=[np.nan], note=f"not estimable: {exc}")
            continue
        part.add("gray_test", term, np.nan, statistic=g.stat, p_value=g.p_value, n=prep.n,
                 events=int((rows["_status"] == code).sum()), conf_levels=[np.nan],
                 note=f"chi-square, df={g.df}; Gray (1988), rho=0 (cmprsk::cuminc)")
        if code == 1:
            part.summarise("gray_test", "arm", np.nan, n=prep.n, p=g.p_value,
                           note=f"chi-square {g.stat:.4g}")


def _fine_gray_rows(part: Part) -> None:
    """Fine-Gray subdistribution HR of the arm."""
    prep = part.prep
    try:
        if prep.no_events:
            raise ValueError(prep.why_not.replace("not estimable: ", ""))
        xa = (prep.rows["_arm"] == prep.intervention).astype(float).to_numpy()[:, None]
        fg = cmp.fine_gray(prep.rows["_time"].to_numpy(), prep.rows["_status"].to_numpy(), xa,
                           names=["arm"])
        b, se = float(fg.coef[0]), float(fg.se[0])
        part.add("fine_gray", "arm", float(np.exp(b)), std_error=se, scale="log",
                 statistic=b / se, p_value=float(p_two_sided(b / se)), n=fg.n,
                 events=fg.nevent, note="subdistribution HR (cmprsk::crr), competing value "
                 f"{prep.competing_value}")
        part.summarise("fine_gray", "arm", float(np.exp(b)), n=fg.n, events=fg.nevent, se=se,
                       ci=wald_cis(float(np.exp(b)), se, prep.levels, log=True),
                       p=float(p_two_sided(b / se)))
    except Exception as exc:  # noqa: BLE001
        part.add("fine_gray", "arm", np.nan, conf_levels=[np.nan], note=f"not estimable: {exc}")


def competing_analysis(prep: SurvivalData) -> Part:
    """A10 (with a ``competing_value``): cumulative incidence by arm and cause, Gray's
    test and the Fine-Gray model; table ``cif_curves``."""
    part = Part(prep)
    frames: list[pd.DataFrame] = []
    if prep.competing_value is not None and prep.km_fits:
        for arm in prep.km_fits:
            frames += _cif_arm(part, arm)
        if prep.two_arms:
            _gray_rows(part)
            _fine_gray_rows(part)
    cif_curves = _frame(frames, CIF_COLUMNS)
    if len(cif_curves):
        cif_curves = _sort_curves(cif_curves, ["arm", "cause", "conf_level", "time"], prep)
    part.tables["cif_curves"] = cif_curves
    return part


# --------------------------------------------------------------------------- #
# interval censoring (A9)
# --------------------------------------------------------------------------- #
def _weibull_rows(part: Part, bounded: pd.DataFrame, lower: pd.Series, upper: pd.Series) -> None:
    """Weibull interval-censored model of the arm: HR and time ratio."""
    prep = part.prep
    try:
        no_iv = [arm for arm in prep.arms if not np.isfinite(upper[bounded["_arm"] == arm]).any()]
        if no_iv:
            raise ValueError(f"no events (finite upper bound) in arm {', '.join(no_iv)}")
        xa = (bounded["_arm"] == prep.intervention).astype(float).to_numpy()[:, None]
        w = icens.weibull_ic(lower.to_numpy(), upper.to_numpy(), xa, names=["arm"])
        hr, se_hr = w.hazard_ratio("arm")
        tr, se_tr = w.time_ratio("arm")
        z_hr = np.log(hr) / se_hr if se_hr > 0 else np.nan
        events = int(np.isfinite(upper).sum())
        part.add("weibull_ic", "arm", hr, std_error=se_hr, scale="log",
                 statistic=float(z_hr), p_value=float(p_two_sided(z_hr)), n=w.n,
                 events=events, note=f"HR = exp(-b/scale), scale={w.scale:.6g} "
                 "(survreg interval2, weibull)")
        part.add("weibull_ic", "arm;measure=time_ratio", tr, std_error=se_tr, scale="log",
                 statistic=float(np.log(tr) / se_tr),
                 p_value=float(p_two_sided(np.log(tr) / se_tr)), n=w.n,
                 events=events, note="time ratio exp(b) (survreg interval2, weibull)")
        part.summarise("weibull_ic", "arm", hr, n=w.n, events=events, se=se_hr,
                       ci=wald_cis(hr, se_hr, prep.levels, log=True), p=float(p_two_sided(z_hr)))
    except Exception as exc:  # noqa: BLE001
        part.add("weibull_ic", "arm", np.nan, conf_levels=[np.nan], note=f"not estimable: {exc}")


def interval_analysis(prep: SurvivalData) -> Part:
    """A9 (with ``lower`` and ``upper`` columns): Turnbull NPMLE 1 - S(t) per arm at
    ``survival.proportions_at_days`` and the Weibull interval-censored model."""
    part = Part(prep)
    if prep.lower is None:
        return part
    has_bound = prep.lower.notna() | prep.upper.notna()
    bounded = prep.rows.loc[has_bound]
    lower, upper = prep.lower[has_bound], prep.upper[has_bound]
    for arm in prep.arms:
        in_arm = bounded["_arm"] == arm
        if not in_arm.any():
            continue
        tb = icens.turnbull(lower[in_arm], upper[in_arm])
        for day in prep.settings["days"]:
            est = float(tb.cdf_at([day])[0])
            part.add("turnbull", f"arm={arm};t={_day(day)}", est, n=int(in_arm.sum()),
                     events=int(np.isfinite(upper[in_arm]).sum()), conf_levels=[np.nan],
                     note="Turnbull NPMLE 1 - S(t) (survfit interval2); no SE")
    if prep.two_arms:
        _weibull_rows(part, bounded, lower, upper)
    return part


# --------------------------------------------------------------------------- #
# the runner
# --------------------------------------------------------------------------- #
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
    For the first ``outcomes.time_to_event`` entry, when ``subgroups`` are configured,
    ``estimates`` ends with the ``subgroup_cox`` rows (:mod:`rtw.survival.subgroups`).
    """
    prep = prepare(df, config, outcome, population)
    parts = [analysis(prep) for analysis in (km_analysis, logrank_analysis, cox_analyses,
                                             rmst_analysis, competing_analysis,
                                             interval_analysis)]
    tables = {key: table for part in parts for key, table in part.tables.items()}
    estimates = [row for part in parts for row in part.estimates]
    estimates += subgroup_cox_rows(df, config, outcome)
    return {"estimates": to_frame(estimates),
            "km_curves": tables["km_curves"], "km_at_risk": tables["km_at_risk"],
            "cif_curves": tables["cif_curves"], "zph_residuals": tables["zph_residuals"],
            "summary": pd.DataFrame([row for part in parts for row in part.summary],
                                    columns=SUMMARY_COLUMNS)}
