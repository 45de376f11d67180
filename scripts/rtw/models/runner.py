"""Runners for the regression analyses (SPEC §4 A3, A4, A12-A15).

Each runner takes ``(df, config)`` -- the analysis table (one row per
participant) and the config dict -- and returns a tidy estimates DataFrame
(:data:`rtw.core.estimates.COLUMNS`), one row per estimate and CI level in
``conf_levels``.  They work with whatever the config gives: any subset of
outcomes (a missing ``outcomes.count`` / ``continuous`` / ``binary`` block
gives an empty table), no covariates, no practice column (practice handling
is then skipped with a note), and a count outcome given as one mapping or a
list of them.

Model choices (documented for users in config/README.md)
--------------------------------------------------------
* Adjustment set of every model: ``stratification_factors`` + ``covariates``
  (+ the outcome's own ``baseline``), categorical columns as treatment dummies
  with the first sorted level as reference (R ``factor()``).
* ``practice_effect``: ``fixed`` adds practice dummies; ``cluster_robust``
  uses ``sandwich::vcovCL(fit, cluster = ~<cluster>)`` with its default for the
  model class (glm/negbin/ivreg: HC0 with G/(G-1); lm: HC1, i.e. also
  (n-1)/(n-k); zeroinfl/hurdle: HC0 with G/(G-1), theta not in the meat, as
  sandwich does for pscl objects); ``none`` neither.
* CIs: Wald (normal) for GLMs; t (residual df) for lm/ivreg; t with
  Barnard-Rubin df for MI; profile likelihood for the primary IRR when
  ``regression.nb_ci: profile`` and the SE is model-based.
* theta -> infinity in the primary NB: reported with a note; with
  ``regression.fallback.nb_boundary: poisson_robust`` the primary row is the
  Poisson fit with robust SE instead (note says so).
* A model that cannot be fitted (e.g. the arm effect is not estimable) gives a
  row with a NaN estimate and the reason in ``note`` (and an ERROR log line);
  separation, singular mixed models, non-convergence and boundaries are
  named in ``note``.  Arm labels outside ``trial.arms`` raise (structural).

Rows written (analysis -> population, terms)
--------------------------------------------
``nb_primary`` (itt): ``arm`` IRR, covariate IRRs (``condition_group[other]``,
``days_off_before``...), ``theta``; ``arm=<label>;stat=mean|sd|median``.
``nb_fixed_practice`` (itt), ``nb_per_protocol`` (pp): as nb_primary.
``zinb``, ``hurdle_nb`` (itt): count-part IRRs, ``theta``.
``poisson_robust`` (itt): IRRs.  ``mi_nb`` (mi): ``arm`` IRR (t CI, Barnard-Rubin df).
``tipping_point`` (mi): ``delta=<d>`` IRR per delta; ``tipping_delta;direction=increase|decrease``.
``cace`` (itt): ``arm`` difference in mean days (t CI).
``ancova`` (cc): ``arm`` and covariate coefficients per continuous outcome.
``lmm`` (itt): ``arm`` per timepoint outcome (e.g. ``eq5d_6w``), ``arm:time[6m]`` under
the family name (``eq5d_index``).
``logistic`` (cc): ORs; ``gcomp_rd`` (cc): ``arm`` risk difference and
``arm=<label>;stat=risk``; ``gcomp_rr`` (cc): ``arm`` risk ratio.
``subgroup_nb`` (itt): ``subgroup=<name>:<level>`` IRR; ``interaction=<name>``
(statistic = LR chi-square, p; estimate = ratio of IRRs when 1 df).
(``subgroup_cox``, the Cox analogue, comes from the survival runner: rtw.survival.subgroups.)
``delivery`` (itt / pp = with >= 1 contact): ``arm=<label>;stat=mean|sd|median|min|max``
for ``n_contacts``, ``contact_minutes``; ``arm=<label>;stat=proportion`` for ``engaged``.
"""
from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
from scipy import stats

from rtw.models import binary as bn
from rtw.models import causal, continuous, counts, missing
from rtw.core import modelframe as mf
from rtw.models import subgroups as sg
from rtw.models.delivery import delivery_table
from rtw.core.estimates import COLUMNS, make_rows, to_frame
from rtw.core.stats import p_two_sided

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- #
# config helpers
# --------------------------------------------------------------------------- #
def _levels(config) -> list[float]:
    return [float(x) for x in config["conf_levels"]]


def _reg(config) -> dict:
    return config["regression"]


# one definition each, shared with the survival runner's subgroup_cox (rtw.survival.subgroups)
_as_list = sg.as_list


def _count_outcomes(config) -> list[dict]:
    return _as_list(config["outcomes"]["count"])


_practice = mf.practice_handling
_join = sg.join_notes


def _as_bool(s: pd.Series) -> pd.Series:
    """True/False from bool, 0/1 or text ("True", "yes", "1"); missing stays missing."""
    def f(v):
        if pd.isna(v):
            return np.nan
        if isinstance(v, (bool, np.bool_)):
            return float(v)
        return float(str(v).strip().lower() in ("true", "1", "1.0", "yes", "y", "t"))
    return s.map(f)


def _offset(df: pd.DataFrame, spec: dict, index) -> np.ndarray | None:
    """log(exposure) offset when ``exposure_days`` names a column; a constant changes
    only the intercept and is not used."""
    e = spec["exposure_days"]
    if isinstance(e, str) and e in df.columns:
        return np.log(pd.to_numeric(df.loc[index, e], errors="coerce").to_numpy(float))
    return None


def _coef_rows(analysis, outcome, population, params, cov, levels, *, scale, n, note,
               exclude=("(Intercept)",), df=None, rename_arm=None):
    rows = []
    for term in params.index:
        if term in exclude or term.startswith("zero_") or term == "log(theta)":
            continue
        b = float(params[term])
        se = float(math.sqrt(cov.loc[term, term])) if np.isfinite(cov.loc[term, term]) else np.nan
        z = b / se if se and np.isfinite(se) else np.nan
        if df is None:
            p = p_two_sided(z) if np.isfinite(z) else np.nan
        else:
            p = 2 * stats.t.sf(abs(z), df) if np.isfinite(z) else np.nan
        est = math.exp(b) if scale == "log" else b
        rows += make_rows(analysis, outcome, rename_arm if (term == "arm" and rename_arm) else term,
                          est, population=population, std_error=se, conf_levels=levels,
                          scale=scale, statistic=z, p_value=p, n=n,
                          note=note if term == "arm" else "", df=df)
    return rows


# --------------------------------------------------------------------------- #
# the NB primary model (shared by primary, MI, PP, subgroups)
# --------------------------------------------------------------------------- #
def _nb_design(df, config, spec, fixed, cluster=None, practice_codes=False):
    """The count outcome's design; with ``practice_codes`` many practice fixed effects are
    kept as a factor (``Design.fixed``) for ``counts.fit_nb(fixed=...)``, which solves
    their dummies by the block structure of X'WX without building them (from
    ``counts.MIN_BLOCK`` dummies, where the dense design's solve also switches to it)."""
    adjust = mf.adjustment_columns(config, df, baseline=spec["baseline"])
    return mf.build_design(df, config, outcome=spec["value"], adjust=adjust, practice=fixed,
                           cluster=cluster,
                           practice_codes_from=counts.MIN_BLOCK if practice_codes else None)


def _nb_model(df, config, spec, *, population="itt", analysis="nb_primary",
              force_fixed=False, allow_fallback=True):
    """Fit the primary NB on ``df``; return (rows, fit, design)."""
    levels = _levels(config)
    fixed, cluster, pnote = _practice(df, config)
    if force_fixed:
        col = config["cluster"] or mf.PRACTICE
        if col not in df.columns:
            return [], None, None
        fixed, cluster, pnote = col, None, f"{col} as fixed effect"
    D = _nb_design(df, config, spec, fixed, cluster, practice_codes=True)
    if D.n == 0:
        return make_rows(analysis, spec["name"], "arm", np.nan, population=population,
                         conf_levels=levels, n=0,
                         note="not estimable: no complete observations"), None, D
    off = _offset(df, spec, D.index)
    fit = counts.fit_nb(D.X, D.y, offset=off, fixed=D.fixed, fixed_name=D.fixed_name)
    notes = list(D.notes) + list(fit.notes) + ([pnote] if pnote else [])
    reg = _reg(config)
    use, family_note = _nb_or_fallback(fit, D, off, reg, analysis, allow_fallback)
    cov, vnote = _nb_vcov(use, D, cluster)
    note = _join(family_note, vnote, notes)
    rows = _nb_term_rows(use, cov, D, spec["name"], analysis, population, levels, note,
                         str(reg["nb_ci"]), cluster)
    if use.family == "negbin" and np.isfinite(use.theta):
        rows += make_rows(analysis, spec["name"], "theta", use.theta, population=population,
                          std_error=use.se_theta, n=D.n, note="NB size (theta); SE as glm.nb SE.theta")
    return rows, (use, cov), D


def _nb_or_fallback(fit, D, off, reg, analysis, allow_fallback):
    """The fit to report and its family note: the NB ``fit``, or at theta -> infinity the
    Poisson fit with robust SE when ``regression.fallback.nb_boundary: poisson_robust``."""
    fallback = reg["fallback"]["nb_boundary"]
    use = fit
    family_note = f"negative binomial (glm.nb), theta = {fit.theta:.6g}"
    if fit.boundary:
        if allow_fallback and fallback == "poisson_robust":
            use = counts.fit_poisson(D.X, D.y, offset=off, fixed=D.fixed,
                                     fixed_name=D.fixed_name)
            family_note = ("theta -> infinity: pre-specified fallback to Poisson with robust SE "
                           "(regression.fallback.nb_boundary = poisson_robust)")
        else:
            family_note = "theta -> infinity: NB reported at the Poisson limit (no fallback configured)"
        log.warning("%s: %s", analysis, family_note)
    return use, family_note


def _nb_vcov(use, D, cluster):
    """Covariance of the reported fit and its note: vcovCL by ``cluster`` if given, else
    vcovHC HC0 for the Poisson fallback or the model-based covariance of the NB."""
    if use.family == "poisson":
        cov = use.vcov_cluster(D.cluster) if cluster else use.vcov_hc0()
        vnote = ("vcovCL HC0 G/(G-1)" if cluster else "vcovHC HC0")
    else:
        cov = use.vcov_cluster(D.cluster) if cluster else use.cov
        vnote = ""
    return cov, vnote


def _nb_term_rows(use, cov, D, name, analysis, population, levels, note, ci_method, cluster):
    """IRR rows of every non-intercept term (Wald z); for ``arm`` with ``ci_method`` profile
    and a model-based SE, profile-likelihood CIs (``counts.profile_ci``, theta fixed)."""
    rows = []
    for term in use.params.index:
        if term == "(Intercept)":
            continue
        b = float(use.params[term])
        se = math.sqrt(cov.loc[term, term])
        z = b / se
        p = float(p_two_sided(z))
        ci = None
        tnote = note if term == "arm" else ""
        if ci_method == "profile" and term == "arm":
            if cluster or use.family == "poisson":
                tnote = _join(tnote, "profile CI not available with a sandwich SE: Wald CI")
            else:
                ci = {}
                for lv in levels:
                    lo, hi = counts.profile_ci(use, term, lv)
                    ci[lv] = (math.exp(lo), math.exp(hi))
                tnote = _join(tnote, "profile-likelihood CI (theta fixed)")
        rows += make_rows(analysis, name, term, math.exp(b), population=population,
                          std_error=se, conf_levels=levels, ci=ci, scale="log", statistic=z,
                          p_value=p, n=D.n, note=tnote)
    return rows


def _arm_descriptives(df, config, spec, analysis, population="itt"):
    control, intervention = mf.arm_labels(config)
    rows = []
    for arm in (control, intervention):
        v = pd.to_numeric(df.loc[df["arm"].astype(str) == arm, spec["value"]], errors="coerce")
        nmiss = int(v.isna().sum())
        v = v.dropna()
        vals = {"mean": v.mean(), "sd": v.std(ddof=1) if len(v) > 1 else np.nan,
                "median": v.median()}
        for stat, val in vals.items():
            rows += make_rows(analysis, spec["name"], f"arm={arm};stat={stat}",
                              float(val) if len(v) else np.nan, population=population,
                              n=int(len(v)), note=f"{nmiss} missing" if nmiss else "")
    return rows


# --------------------------------------------------------------------------- #
# runners
# --------------------------------------------------------------------------- #
_FIT_ERRORS = sg.FIT_ERRORS


def _guarded(analysis, outcome, levels, population, fn, *args, **kw) -> list[dict]:
    """Run one analysis; a fit that cannot be done gives a NaN row with the reason in
    ``note`` (and an ERROR log line) instead of stopping the other analyses."""
    try:
        return fn(*args, **kw)
    except _FIT_ERRORS as exc:
        log.error("%s (%s) not estimated: %s: %s", analysis, outcome, type(exc).__name__, exc)
        return make_rows(analysis, outcome, "arm", np.nan, population=population,
                         conf_levels=levels, note=f"not estimable: {exc}")


def _check_arms(df: pd.DataFrame, config: dict) -> None:
    """Structural check (raises): every arm label is one of the configured arms; and
    ``min_per_arm`` (raises when an arm is below it and its action is ``stop``; with
    ``descriptive`` every model's row says not estimable, from :func:`mf.build_design`)."""
    mf.arm_indicator(df, config)
    mf.check_min_per_arm(df, config)


def run_primary(df: pd.DataFrame, config: dict) -> pd.DataFrame:
    """A3: NB regression of each count outcome (analysis ``nb_primary``), IRR for ``arm``
    and covariates, theta, and mean / SD / median by arm.  = ``MASS::glm.nb``."""
    _check_arms(df, config)
    levels = _levels(config)
    rows = []
    for spec in _count_outcomes(config):
        if spec["value"] not in df.columns:
            log.warning("count outcome column %s absent: skipped", spec["value"])
            continue
        rows += _guarded("nb_primary", spec["name"], levels, "itt",
                         lambda: _nb_model(df, config, spec)[0])
        rows += _arm_descriptives(df, config, spec, "nb_primary")
    return to_frame(rows) if rows else pd.DataFrame(columns=COLUMNS).pipe(to_frame)


def _pscl_rows(analysis, spec, fit, D, levels, note, cov=None):
    rows = []
    cov = fit.cov if cov is None else cov
    for term in D.X.columns:
        if term == "(Intercept)":
            continue
        w = counts.wald(fit.params, cov, term)
        rows += make_rows(analysis, spec["name"], term, math.exp(w["coef"]), std_error=w["se"],
                          conf_levels=levels, scale="log", statistic=w["z"], p_value=w["p"],
                          n=D.n, note=note if term == "arm" else "")
    rows += make_rows(analysis, spec["name"], "theta", fit.theta,
                      std_error=fit.theta * math.sqrt(fit.cov.loc["log(theta)", "log(theta)"]),
                      n=D.n, note="count-part NB size; SE by delta method from SE(log theta)")
    return rows


def run_sensitivity(df: pd.DataFrame, config: dict) -> pd.DataFrame:
    """A4 sensitivity analyses of each count outcome.

    ``zinb`` (pscl::zeroinfl), ``hurdle_nb`` (pscl::hurdle, count-part IRR), zero part
    ``| 1`` or, with ``regression.zero_part: same``, the count part's regressors (``| x``),
    ``poisson_robust`` (glm poisson + vcovHC HC0, or vcovCL when cluster-robust is
    configured), ``nb_fixed_practice`` (practice dummies, when practice is not already
    fixed), ``mi_nb`` (NB imputation, Rubin/Barnard-Rubin), ``nb_per_protocol``
    (``pop_pp``), ``cace`` (2SLS, HC0), ``tipping_point``.
    """
    _check_arms(df, config)
    levels = _levels(config)
    rows: list[dict] = []
    seed = int(config["seed"])
    for spec in _count_outcomes(config):
        name = spec["name"]
        if spec["value"] not in df.columns:
            log.warning("count outcome column %s absent: skipped", spec["value"])
            continue
        fixed, cluster, pnote = _practice(df, config)
        for analysis in ("zinb", "hurdle_nb", "poisson_robust"):
            rows += _guarded(analysis, name, levels, "itt", _count_sensitivity, analysis, df,
                             config, spec, fixed, cluster, pnote, levels)
        # practice as fixed effect (when the primary does not already)
        if str(config["practice_effect"]) != "fixed":
            rows += _guarded("nb_fixed_practice", name, levels, "itt",
                             lambda: _nb_model(df, config, spec, analysis="nb_fixed_practice",
                                               force_fixed=True)[0])
        # per protocol
        if "pop_pp" in df.columns:
            pp = df[_as_bool(df["pop_pp"]).fillna(0).astype(bool)]
        elif "engaged" in df.columns:
            control, _ = mf.arm_labels(config)
            pp = df[(df["arm"].astype(str) == control) |
                    _as_bool(df["engaged"]).fillna(0).astype(bool)]
        else:
            pp = None
        if pp is not None:
            rows += _guarded("nb_per_protocol", name, levels, "pp",
                             lambda: _nb_model(pp, config, spec, population="pp",
                                               analysis="nb_per_protocol")[0])
        rows += _guarded("mi_nb", name, levels, "mi", _mi_rows, df, config, spec, fixed,
                         cluster, pnote, seed)
        rows += _guarded("cace", name, levels, "itt", _cace_rows, df, config, spec, fixed,
                         cluster, pnote)
    return to_frame(rows) if rows else to_frame(pd.DataFrame(columns=COLUMNS))


def _count_sensitivity(analysis, df, config, spec, fixed, cluster, pnote, levels):
    """zinb / hurdle_nb / poisson_robust rows for one count outcome."""
    name = spec["name"]
    D = _nb_design(df, config, spec, fixed, cluster)
    if analysis in ("zinb", "hurdle_nb"):
        mnote = (f"sandwich::vcovCL(cluster = ~{cluster}) HC0 with G/(G-1)" if cluster
                 else _join("model-based SE (pscl)", pnote))
        fn = counts.fit_zinb if analysis == "zinb" else counts.fit_hurdle_nb
        same = _reg(config)["zero_part"] == "same"
        npar = D.X.shape[1] * (2 if same else 1) + (0 if same else 1) + 1
        if D.n <= npar:
            raise mf.NotEstimable(f"{D.n} complete observations for {npar} {analysis} "
                                  "parameters")
        f = fn(D.X, D.y, Z=D.X if same else None)
        V = f.vcov_cluster(D.cluster) if cluster else None
        se_arm = (V if V is not None else f.cov).loc["arm", "arm"] if "arm" in f.params else 0
        if not (np.isfinite(se_arm) and se_arm > 0):
            raise mf.NotEstimable(f"{analysis}: information matrix singular (no standard "
                                  "error for the arm effect)")
        znote = "zero part: the count part's regressors (y ~ x | x)" if same else ""
        return _pscl_rows(analysis, spec, f, D, levels,
                          _join(mnote, pnote if fixed else "", "count-part IRR", znote, f.notes),
                          cov=V)
    off = _offset(df, spec, D.index)
    pf = counts.fit_poisson(D.X, D.y, offset=off)
    if cluster:
        cov = pf.vcov_cluster(D.cluster)
        vnote = f"sandwich::vcovCL(cluster = ~{cluster}) HC0 with G/(G-1)"
    else:
        cov = pf.vcov_hc0()
        vnote = "sandwich::vcovHC(type = 'HC0')"
    return _coef_rows("poisson_robust", name, "itt", pf.params, cov, levels, scale="log",
                      n=D.n, note=_join(vnote, pnote if fixed else "", pf.notes))


def _mi_rows(df, config, spec, fixed, cluster, pnote, seed):
    """``mi_nb``: the primary NB after multiple imputation (Rubin's rules, Barnard-Rubin df),
    and the ``tipping_point`` rows over the outcome's deltas (:func:`tipping_point_deltas`)."""
    levels = _levels(config)
    reg = _reg(config)
    m, iters = int(reg["mi"]["m"]), int(reg["mi"]["iterations"])
    name = spec["name"]
    cap = spec["exposure_days"]
    cap = float(cap) if isinstance(cap, (int, float)) else None
    adjust = mf.adjustment_columns(config, df, baseline=spec["baseline"])
    Dx = mf.build_design(df, config, outcome=None, adjust=adjust, practice=fixed,
                         cluster=cluster)
    y = pd.to_numeric(df.loc[Dx.index, spec["value"]], errors="coerce")
    if y.isna().sum() == 0:
        note = "no missing outcomes: MI not needed"
        return make_rows("mi_nb", name, "arm", np.nan, population="mi", conf_levels=levels,
                         n=Dx.n, note=note)
    control, intervention = mf.arm_labels(config)
    arm_int = (df.loc[Dx.index, "arm"].astype(str) == intervention).to_numpy()
    clus = Dx.cluster
    off = _offset(df, spec, Dx.index)

    def analyse(X, yy):
        f = counts.fit_nb(X, yy, offset=off)
        V = f.vcov_cluster(clus) if clus is not None else f.cov
        notes = list(f.notes)
        return float(f.params["arm"]), float(V.loc["arm", "arm"]), f.df_resid, notes

    deltas = tipping_point_deltas(spec, y)
    grid = sorted(set([0.0] + deltas))
    res = missing.mi_analyse(Dx.X, y, analyse, m=m, seed=seed, cap=cap, deltas=grid,
                             delta_rows=arm_int, iterations=iters, offset=off)
    nmiss = int(y.isna().sum())
    rows = []
    pooled, notes = res[0.0]
    base_note = _join(f"m={m}, NB-model imputation of {nmiss} missing outcomes, seed={seed}; "
                      f"Rubin's rules, Barnard-Rubin df = {pooled.df:.4g}, fmi = {pooled.fmi:.3f}",
                      pnote, notes)
    ci = {lv: tuple(math.exp(v) for v in pooled.ci(lv)) for lv in levels}
    rows += make_rows("mi_nb", name, "arm", math.exp(pooled.qbar), population="mi",
                      std_error=pooled.se, ci=ci, scale="log",
                      statistic=pooled.qbar / pooled.se, p_value=pooled.p_value, n=Dx.n,
                      note=base_note)
    if deltas:
        rows += _tipping_point_rows(res, grid, deltas, name, intervention, levels, Dx.n,
                                    spec["unit"] or "events")
    return rows


def tipping_point_deltas(spec, y) -> list[float]:
    """The tipping-point deltas of a count outcome, on its own scale: config
    ``tipping_point_deltas``, else ``tipping_point_sd_multiples`` times the SD of the observed
    outcome ``y`` (both arms), each rounded to 3 significant digits."""
    if spec["tipping_point_deltas"] is not None:
        return [float(d) for d in spec["tipping_point_deltas"]]
    obs = pd.to_numeric(y, errors="coerce").dropna()
    sd = float(obs.std(ddof=1)) if len(obs) > 1 else 0.0
    if not np.isfinite(sd) or sd <= 0:
        return [0.0]
    return sorted({float(f"{k * sd:.3g}") for k in spec["tipping_point_sd_multiples"]})


def _tipping_point_rows(res, grid, deltas, name, intervention, levels, n, unit):
    """``tipping_point`` rows: the pooled IRR for each configured delta (``unit`` added to the
    imputed intervention outcomes), then the first delta in each direction at which the
    conclusion at the first CI level changes (``missing.tipping_delta``)."""
    rows = []
    for d in grid:
        if d not in deltas:
            continue
        pl, nts = res[d]
        ci = {lv: tuple(math.exp(v) for v in pl.ci(lv)) for lv in levels}
        dl = int(d) if float(d).is_integer() else d
        rows += make_rows("tipping_point", name, f"delta={dl}", math.exp(pl.qbar),
                          population="mi", std_error=pl.se, ci=ci, scale="log",
                          statistic=pl.qbar / pl.se, p_value=pl.p_value, n=n,
                          note=_join(f"delta = {dl} {unit} added to imputed {intervention} "
                                     f"outcomes; df = {pl.df:.4g}", nts))
    tp = missing.tipping_delta({d: res[d] for d in grid if d in deltas or d == 0.0},
                               levels[0])
    sig = "excludes" if tp["reference_significant"] else "includes"
    for direction in ("increase", "decrease"):
        d = tp[direction]
        note = (f"first delta ({direction} from {tp['reference']:g}) at which the "
                f"{levels[0]:.0%} CI no longer {sig} 1" if d is not None else
                f"conclusion ({levels[0]:.0%} CI {sig} 1) unchanged over the grid "
                f"in the {direction} direction")
        rows += make_rows("tipping_point", name, f"tipping_delta;direction={direction}",
                          np.nan if d is None else d, population="mi", n=n, note=note)
    return rows


def _cace_rows(df, config, spec, fixed, cluster, pnote):
    levels = _levels(config)
    name = spec["name"]
    if "engaged" not in df.columns:
        log.info("CACE skipped: no 'engaged' column")
        return []
    adjust = mf.adjustment_columns(config, df, baseline=spec["baseline"])
    eng = _as_bool(df["engaged"])
    control, _ = mf.arm_labels(config)
    # one-sided non-compliance: control participants cannot receive the intervention
    eng[(df["arm"].astype(str) == control) & eng.isna()] = 0.0
    Dx = mf.build_design(df.assign(_eng=eng), config, outcome=spec["value"],
                         adjust=adjust + ["_eng"], practice=fixed, cluster=cluster)
    X = Dx.X.drop(columns=["_eng"]).copy()
    Z = X.copy()
    X["arm"] = Dx.X["_eng"]            # treatment received replaces the arm column
    iv = causal.fit_iv(Dx.y, X, Z)
    if cluster:
        V = iv.vcov_cluster(Dx.cluster)
        vnote = f"vcovCL(cluster = ~{cluster}) HC0 with G/(G-1)"
    else:
        V = iv.cov_hc0
        vnote = "vcovHC(type = 'HC0')"
    b = float(iv.params["arm"])
    se = math.sqrt(V.loc["arm", "arm"])
    t = b / se
    p = float(2 * stats.t.sf(abs(t), iv.df_resid))
    comp = float(iv.first_stage.get("arm", np.nan))
    note = _join("CACE: difference in mean days (engaged vs not) among compliers; 2SLS "
                 "(AER::ivreg), instrument = randomised arm, treatment = engaged; " + vnote +
                 f"; t-based CI (df = {iv.df_resid})",
                 f"first-stage difference in engagement = {comp:.4g}, F = {iv.first_stage_F:.4g}",
                 pnote if fixed else "", iv.notes)
    return make_rows("cace", name, "arm", b, std_error=se, conf_levels=levels, statistic=t,
                     p_value=p, n=Dx.n, note=note, df=iv.df_resid)


def _timepoint_order(config) -> list[str]:
    tp = config["trial"]["timepoints"]
    return list(tp.keys())


def run_secondary_continuous(df: pd.DataFrame, config: dict) -> pd.DataFrame:
    """A12: ANCOVA per continuous outcome (``ancova``, = ``lm``) and, for each ``family``
    with two or more timepoints, a REML linear mixed model (``lmm``, = ``lme4::lmer``)
    with arm x time: the arm effect at each timepoint under that timepoint's outcome name
    (term ``arm``), and the interaction under the family name (term ``arm:time[<tp>]``)."""
    _check_arms(df, config)
    levels = _levels(config)
    rows: list[dict] = []
    specs = config["outcomes"]["continuous"]
    fixed, cluster, pnote = _practice(df, config)
    for spec in specs:
        if spec["value"] not in df.columns:
            log.warning("continuous outcome column %s absent: skipped", spec["value"])
            continue
        rows += _guarded("ancova", spec["name"], levels, "cc", _ancova_rows, df, config, spec,
                         fixed, cluster, pnote, levels)
    # mixed models by family
    fams: dict[str, list[dict]] = {}
    for spec in specs:
        if spec["family"] and spec["value"] in df.columns:
            fams.setdefault(spec["family"], []).append(spec)
    order = _timepoint_order(config)
    for fam, group in fams.items():
        tps = [s["timepoint"] for s in group]
        if len(set(tps)) < 2:
            continue
        group = sorted(group, key=lambda s: order.index(s["timepoint"])
                       if s["timepoint"] in order else len(order))
        rows += _guarded("lmm", fam, levels, "itt", _lmm_rows, df, config, fam, group, levels)
    return to_frame(rows) if rows else to_frame(pd.DataFrame(columns=COLUMNS))


def _ancova_rows(df, config, spec, fixed, cluster, pnote, levels):
    base = spec["baseline"]
    if base and base not in df.columns:
        log.warning("baseline %s of %s absent: not adjusted for", base, spec["name"])
        base = None
    adjust = mf.adjustment_columns(config, df, baseline=base)
    D = mf.build_design(df, config, outcome=spec["value"], adjust=adjust, practice=fixed,
                        cluster=cluster)
    if D.n <= D.X.shape[1]:
        return make_rows("ancova", spec["name"], "arm", np.nan, population="cc",
                         conf_levels=levels, n=D.n,
                         note="not estimable: too few complete observations")
    f = continuous.fit_ols(D.X, D.y)
    if cluster:
        V = f.vcov_cluster(D.cluster)
        vnote = f"vcovCL(cluster = ~{cluster}) HC1 (lm default)"
    else:
        V = f.cov
        vnote = ""
    note = _join("mean difference, ANCOVA (lm)" + (f" adjusted for baseline {base}" if base else ""),
                 vnote, pnote if fixed else "", D.notes)
    return _coef_rows("ancova", spec["name"], "cc", f.params, V, levels, scale="identity",
                      n=D.n, note=note, df=f.df_resid)


def _lmm_rows(df, config, fam, group, levels):
    base = next((s["baseline"] for s in group if s["baseline"]), None)
    if base and base not in df.columns:
        base = None
    adjust = mf.adjustment_columns(config, df, baseline=base)
    reg = _reg(config)
    pcol = config["cluster"] or mf.PRACTICE
    use_prac = bool(reg["mixed_model_practice_effect"]) and pcol in df.columns
    notes = []
    if reg["mixed_model_practice_effect"] and not use_prac:
        notes.append(f"mixed_model_practice_effect requested but no '{pcol}' column")
    pid = "participant_id" if "participant_id" in df.columns else None
    tlabels = [s["timepoint"] for s in group]
    long = []
    for s in group:
        part = df.copy()
        part["_y"] = pd.to_numeric(df[s["value"]], errors="coerce")
        part["_time"] = s["timepoint"]
        part["_pid"] = df[pid].astype(str) if pid else df.index.astype(str)
        long.append(part)
    L = pd.concat(long, ignore_index=True)
    arm = mf.arm_indicator(L, config)
    tdum = pd.DataFrame({f"time[{t}]": (L["_time"] == t).astype(float) for t in tlabels[1:]})
    inter = tdum.mul(arm, axis=0)
    inter.columns = [f"arm:{c}" for c in tdum.columns]
    D = mf.build_design(L, config, outcome="_y", adjust=adjust,
                        extra=pd.concat([tdum, inter], axis=1),
                        cluster=pcol if use_prac else None)
    rows = L.loc[D.index]
    fit = continuous.fit_lmm(D.X, D.y, rows["_pid"], rows[pcol] if use_prac else None)
    npart = rows["_pid"].nunique()
    note = _join("REML LMM (lmer): random intercept participant"
                 + (f" + {pcol}" if use_prac else "") + f"; {D.n} observations",
                 notes, fit.notes, D.notes)
    out = []
    for s_, t in zip(group, tlabels):
        w = {"arm": 1.0}
        if t != tlabels[0]:
            w[f"arm:time[{t}]"] = 1.0
        est, se = continuous.contrast(fit.params, fit.cov, w)
        z = est / se
        # the arm effect at each timepoint is reported under that timepoint's outcome name
        # (term ``arm``), next to its ANCOVA row
        out += make_rows("lmm", s_["name"], "arm", est, std_error=se, conf_levels=levels,
                         statistic=z, p_value=float(p_two_sided(z)), n=npart,
                         note=_join(f"mean difference at {t} from the mixed model of {fam} "
                                    f"over {', '.join(tlabels)}", note))
    for t in tlabels[1:]:
        c = f"arm:time[{t}]"
        est, se = float(fit.params[c]), math.sqrt(fit.cov.loc[c, c])
        z = est / se
        out += make_rows("lmm", fam, c, est, std_error=se, conf_levels=levels, statistic=z,
                         p_value=float(p_two_sided(z)), n=npart,
                         note=f"arm x time interaction for {fam} (Wald z); {fit.n_obs} observations")
    return out


def _logit_cluster(fit: bn.LogitFit, cluster) -> pd.DataFrame:
    """vcovCL for a binomial glm (HC0, G/(G-1))."""
    s = (fit.y - fit.p)[:, None] * fit.X
    codes, uniq = pd.factorize(pd.Series(np.asarray(cluster)).astype(str))
    G = len(uniq)
    S = np.zeros((G, s.shape[1]))
    np.add.at(S, codes, s)
    B = fit.cov.to_numpy()
    V = G / (G - 1) * B @ (S.T @ S) @ B
    return pd.DataFrame(V, index=fit.params.index, columns=fit.params.index)


def run_secondary_binary(df: pd.DataFrame, config: dict) -> pd.DataFrame:
    """A13: logistic OR (``logistic``, = ``glm(binomial)``) and marginal risk difference
    (``gcomp_rd``) and risk ratio (``gcomp_rr``) by standardisation, stacked-sandwich
    (stdReg-type) delta-method CIs; standardised risks per arm as ``arm=<label>;stat=risk``."""
    _check_arms(df, config)
    levels = _levels(config)
    rows: list[dict] = []
    fixed, cluster, pnote = _practice(df, config)
    for spec in config["outcomes"]["binary"]:
        if spec["value"] not in df.columns:
            log.warning("binary outcome column %s absent: skipped", spec["value"])
            continue
        rows += _guarded("logistic", spec["name"], levels, "cc", _binary_rows, df, config,
                         spec, fixed, cluster, pnote, levels)
    return to_frame(rows) if rows else to_frame(pd.DataFrame(columns=COLUMNS))


def _binary_rows(df, config, spec, fixed, cluster, pnote, levels):
    control, intervention = mf.arm_labels(config)
    rows: list[dict] = []
    name = spec["name"]
    adjust = mf.adjustment_columns(config, df, baseline=spec["baseline"])
    D = mf.build_design(df, config, outcome=spec["value"], adjust=adjust, practice=fixed,
                        cluster=cluster)
    events = int(D.y.sum()) if D.n else 0
    if D.n == 0 or events in (0, D.n):
        for a in ("logistic", "gcomp_rd", "gcomp_rr"):
            rows += make_rows(a, name, "arm", np.nan, population="cc", conf_levels=levels,
                              n=D.n, events=events,
                              note="not estimable: no variation in the outcome")
        return rows
    f = bn.fit_logistic(D.X, D.y)
    if f.separation or not f.converged:
        note = "not estimable: " + _join(f.notes)
        for a in ("logistic", "gcomp_rd", "gcomp_rr"):
            rows += make_rows(a, name, "arm", np.nan, population="cc", conf_levels=levels,
                              n=D.n, events=events, note=note)
        return rows
    V = _logit_cluster(f, D.cluster) if cluster else f.cov
    vnote = f"vcovCL(cluster = ~{cluster}) HC0 with G/(G-1)" if cluster else ""
    rows += _coef_rows("logistic", name, "cc", f.params, V, levels, scale="log", n=D.n,
                       note=_join("odds ratio (glm binomial)", vnote, pnote if fixed else "",
                                  f.notes, D.notes))
    for r in rows:
        if r["term"] == "arm":
            r["events"] = events
    st = bn.standardise(f)
    gnote = _join("g-computation over the analysed sample; stacked estimating-equation "
                  "sandwich (stdReg-type) delta-method CI",
                  "covariance not clustered" if cluster else "", f.notes)
    z = st.rd / st.se_rd
    rows += make_rows("gcomp_rd", name, "arm", st.rd, population="cc", std_error=st.se_rd,
                      conf_levels=levels, statistic=z, p_value=float(p_two_sided(z)),
                      n=D.n, events=events, note=gnote)
    z = math.log(st.rr) / st.se_log_rr
    rows += make_rows("gcomp_rr", name, "arm", st.rr, population="cc",
                      std_error=st.se_log_rr, conf_levels=levels, scale="log", statistic=z,
                      p_value=float(p_two_sided(z)), n=D.n, events=events,
                      note=gnote)
    for lab, p, v in ((control, st.p0, st.cov[1, 1]), (intervention, st.p1, st.cov[0, 0])):
        rows += make_rows("gcomp_rd", name, f"arm={lab};stat=risk", p, population="cc",
                          std_error=math.sqrt(v), conf_levels=levels, n=D.n,
                          note="standardised risk")
    return rows


def run_subgroups(df: pd.DataFrame, config: dict) -> pd.DataFrame:
    """A14: for each configured subgroup and count outcome, NB arm x subgroup interaction
    (likelihood-ratio test, = ``anova(glm.nb(m0), glm.nb(m1))``; row ``interaction=<name>``
    with the LR chi-square as ``statistic``) and IRR within each level
    (``subgroup=<name>:<level>``), analysis ``subgroup_nb``.

    Adjustment set: stratification factors + covariates + the count baseline, without
    the subgroup column; ``practice_effect``: fixed practice dummies, or cluster-robust
    SEs (``vcovCL``) with model-based LR tests.  Rows with a missing subgroup value are
    dropped (count in ``note``).  The Cox analogue (``subgroup_cox``) is written by the
    survival runner (:func:`rtw.survival.subgroups.subgroup_cox_rows`)."""
    _check_arms(df, config)
    levels = _levels(config)
    rows: list[dict] = []
    fixed, cluster, pnote = _practice(df, config)
    for spec in _count_outcomes(config):
        if spec["value"] not in df.columns:
            continue
        adjust = mf.adjustment_columns(config, df, baseline=spec["baseline"])
        if fixed:
            adjust = adjust + [fixed]
        fitter = sg.nb_fitter(spec["value"], cluster)
        for col, sname in sg.subgroup_specs(df, config):
            try:
                res = sg.subgroup_analysis(df, config, col, fitter, required=[spec["value"]],
                                           adjust=adjust,
                                           extra_columns=[cluster] if cluster else [])
            except _FIT_ERRORS as exc:
                log.warning("subgroup %s failed: %s", sname, exc)
                rows += make_rows("subgroup_nb", spec["name"], f"interaction={sname}", np.nan,
                                  note=f"not estimable: {exc}")
                continue
            rows += sg.subgroup_rows("subgroup_nb", spec["name"], sname, res, levels,
                                     _join(pnote, res.notes), ratio="IRRs",
                                     test="anova.negbin", cluster=cluster)
    return to_frame(rows) if rows else to_frame(pd.DataFrame(columns=COLUMNS))


def run_delivery(df: pd.DataFrame, config: dict) -> pd.DataFrame:
    """A15: VSW contacts and minutes (mean, SD, median, min, max) and engagement by arm."""
    return delivery_table(df, config)
