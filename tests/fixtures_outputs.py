"""Small deterministic fixtures for the output tests (figures, tables, verify).

Shapes follow the contracts other modules produce (consort.csv, km curves,
estimates.csv, ...), built by hand so the output tests do not depend on the
data layer or the estimators.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from helpers import sap

CONTROL, INTERVENTION = "usual_care", "vocational_advice"
# WAVE's Table 1 variables, as config/config.yaml lists them, those analysis_df has
WAVE_TABLE1 = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml")
                             .read_text(encoding="utf-8"))["table1"]
WAVE_TABLE1["variables"] = [v for v in WAVE_TABLE1["variables"] if v["column"] in (
    "age", "sex", "job_type", "condition_group", "days_off_before", "eq5d_index_bl")]

CONFIG = sap({
    "trial": {
        "name": "WAVE",
        "arms": {"control": CONTROL, "intervention": INTERVENTION},
        "arm_names": {CONTROL: "Usual care", INTERVENTION: "Vocational advice"},
        "arm_colours": {CONTROL: "#1b1b1b", INTERVENTION: "#8c8c8c"},
        "followup_days": 182,
    },
    "blinded": False,
    "blind_seed": 20201001,
    "seed": 1,
    "conf_levels": [0.95, 0.80],
    "outcomes": {
        "time_to_event": [
            {"name": "first_rtw", "label": "Time to first return to work", "time": "rtw_time",
             "event": "rtw_event", "event_value": 1, "competing_value": 2, "tau": 182,
             "event_label": "Returned to work", "better": "higher"},
            {"name": "sustained_rtw", "label": "Time to sustained return to work",
             "time": "srtw_time", "event": "srtw_event", "event_value": 1, "tau": 182},
        ],
        "count": {"name": "days_off", "label": "Days off work over 6 months",
                  "value": "days_off_6m", "baseline": "days_off_before", "exposure_days": 182,
                  "unit": "days off work", "better": "lower"},
        "continuous": [
            {"name": "eq5d_6m", "label": "EQ-5D-5L index, 6 months", "value": "eq5d_index_6m",
             "baseline": "eq5d_index_bl"},
        ],
        "binary": [{"name": "at_work_6m", "label": "At work at 6 months", "value": "at_work_6m"}],
    },
    "subgroups": [
        {"name": "condition_group", "label": "Health condition group", "column": "condition_group"},
        {"name": "sex", "label": "Sex", "column": "sex"},
    ],
    "table1": WAVE_TABLE1,
    "survival": {"proportions_at_days": [42, 84, 182],
                 "at_risk_days": [0, 28, 56, 84, 112, 140, 168, 182]},
})


def config():
    return copy.deepcopy(CONFIG)


def analysis_df(n_per_arm=(20, 22), seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    pid = 0
    for arm, n in zip((CONTROL, INTERVENTION), n_per_arm):
        for _ in range(n):
            pid += 1
            days = float(min(182, rng.negative_binomial(0.6, 0.6 / (0.6 + 40))))
            rows.append({
                "participant_id": f"P{pid:03d}", "arm": arm, "practice": f"GP{pid % 4}",
                "age": float(round(rng.normal(45, 11))),
                "sex": rng.choice(["female", "male"]),
                "job_type": rng.choice(["manual", "non_manual"]),
                "condition_group": rng.choice(["musculoskeletal", "mental_health", "other"]),
                "days_off_before": float(rng.integers(14, 180)),
                "eq5d_index_bl": float(rng.uniform(0.2, 0.9)),
                "days_off_6m": days,
                "eq5d_index_6m": float(rng.uniform(0.3, 1.0)),
                "at_work_6m": float(rng.integers(0, 2)),
            })
    df = pd.DataFrame(rows)
    # missing values to exercise "Missing, n"
    df.loc[[1, 25], "age"] = np.nan
    df.loc[[2], "sex"] = np.nan
    df.loc[[3, 4, 30], "days_off_6m"] = np.nan
    return df


def consort_df():
    """A CONSORT 2010 flow that reconciles (rtw.report.consort.reconcile), with every kind of
    box: reasons for exclusion, for not receiving the intervention, for withdrawal and for
    exclusion from analysis."""
    rows = [
        (1, "invited", "all", 7955, ""),
        (2, "not_responded", "all", 7443, ""),
        (3, "assessed", "all", 512, ""),
        (4, "excluded", "all", 382, ""),
        (5, "not_eligible", "all", 300, ""),
        (5, "not_eligible", "all", 180, "off work < 2 weeks"),
        (5, "not_eligible", "all", 120, "not_employed"),
        (6, "declined", "all", 50, ""),
        (7, "other_excluded", "all", 32, ""),
        (7, "other_excluded", "all", 32, "eligibility_not_recorded"),
        (8, "randomised", "all", 130, ""),
        (10, "allocated", CONTROL, 64, ""),
        (10, "allocated", INTERVENTION, 66, ""),
        (11, "received", CONTROL, 64, ""),
        (11, "received", INTERVENTION, 61, ""),
        (12, "not_received", CONTROL, 0, ""),
        (12, "not_received", INTERVENTION, 5, ""),
        (12, "not_received", INTERVENTION, 3, "no_contact_recorded"),
        (12, "not_received", INTERVENTION, 2, "withdrew_intervention"),
        (13, "lost_to_follow_up", CONTROL, 2, ""),
        (13, "lost_to_follow_up", INTERVENTION, 1, ""),
        (14, "discontinued", CONTROL, 3, ""),
        (14, "discontinued", CONTROL, 2, "from_follow_up"),
        (14, "discontinued", CONTROL, 1, "full"),
        (14, "discontinued", INTERVENTION, 2, ""),
        (14, "discontinued", INTERVENTION, 2, "from_intervention"),
        (15, "analysed", CONTROL, 61, ""),
        (15, "analysed", INTERVENTION, 64, ""),
        (16, "excluded_from_analysis", CONTROL, 3, ""),
        (16, "excluded_from_analysis", CONTROL, 2, "missing_outcome_lost"),
        (16, "excluded_from_analysis", CONTROL, 1, "missing_outcome_withdrawn"),
        (16, "excluded_from_analysis", INTERVENTION, 2, ""),
        (16, "excluded_from_analysis", INTERVENTION, 1, "missing_outcome_lost"),
        (16, "excluded_from_analysis", INTERVENTION, 1, "missing_outcome_withdrawn"),
    ]
    return pd.DataFrame(rows, columns=["stage_order", "stage", "arm", "n", "reason"])


def _km(times, events):
    """Product-limit estimate (fixture only) with time-0 row."""
    times, events = np.asarray(times, float), np.asarray(events, int)
    out = [{"time": 0.0, "n_risk": len(times), "n_event": 0, "n_censor": 0, "surv": 1.0}]
    s = 1.0
    for t in np.unique(times):
        at = times >= t
        d = int(((times == t) & (events == 1)).sum())
        c = int(((times == t) & (events != 1)).sum())
        n = int(at.sum())
        s *= 1 - d / n
        out.append({"time": float(t), "n_risk": n, "n_event": d, "n_censor": c, "surv": s})
    return pd.DataFrame(out)


def km_tables(outcome="first_rtw", seed=5):
    rng = np.random.default_rng(seed)
    curves, risk = [], []
    for arm, rate in ((CONTROL, 1 / 70), (INTERVENTION, 1 / 55)):
        t = np.minimum(np.ceil(rng.exponential(1 / rate, 30) / 14) * 14, 182)
        e = (t < 182).astype(int)
        e[rng.random(30) < 0.1] = 0
        k = _km(t, e)
        for lv in (0.95, 0.80):
            kk = k.copy()
            kk["std_err"] = 0.05
            kk["conf_level"] = lv
            width = 0.12 if lv == 0.95 else 0.08
            kk["lower"] = np.clip(kk["surv"] - width, 0, 1)
            kk["upper"] = np.clip(kk["surv"] + width, 0, 1)
            kk.loc[kk["time"] == 0, ["lower", "upper"]] = 1.0
            kk["outcome"], kk["arm"] = outcome, arm
            curves.append(kk)
        for day in CONFIG["survival"]["at_risk_days"]:
            risk.append({"outcome": outcome, "arm": arm, "time": day,
                         "n_risk": int((t >= day).sum()) if day > 0 else 30})
    cols = ["outcome", "arm", "time", "n_risk", "n_event", "n_censor", "surv", "std_err",
            "conf_level", "lower", "upper"]
    return pd.concat(curves, ignore_index=True)[cols], pd.DataFrame(risk)


def cif_curves(outcome="first_rtw"):
    rows = []
    for arm, scale in ((CONTROL, 1.0), (INTERVENTION, 1.2)):
        for cause, top in (("event", 0.7), ("competing", 0.06)):
            for t in [0, 14, 28, 42, 56, 84, 112, 140, 182]:
                c = min(top * scale * (1 - np.exp(-t / 60)), 0.95)
                rows.append({"outcome": outcome, "arm": arm, "cause": cause, "time": t, "cif": c,
                             "std_err": 0.03, "conf_level": 0.95, "lower": max(c - 0.06, 0),
                             "upper": min(c + 0.06, 1)})
    return pd.DataFrame(rows)


def _row(analysis, outcome, term, est, lo, hi, level, p=None, n=None, events=None, note="",
         population="itt"):
    return {"analysis": analysis, "outcome": outcome, "population": population, "term": term,
            "estimate": est, "std_error": np.nan, "conf_level": level, "conf_low": lo,
            "conf_high": hi, "statistic": np.nan, "p_value": p, "n": n, "events": events,
            "note": note}


def estimates():
    rows = []
    ratio = {"nb_primary": (0.913, 0.551, 1.512, 0.653, 1.276, 0.724),
             "zinb": (0.88, 0.50, 1.55, 0.62, 1.25, 0.66),
             "poisson_robust": (0.92, 0.56, 1.51, 0.66, 1.28, 0.74),
             "mi_nb": (0.90, 0.55, 1.48, 0.64, 1.27, 0.68),
             "nb_per_protocol": (0.85, 0.50, 1.45, 0.60, 1.21, 0.55),
             "cace": (0.86, 0.48, 1.55, 0.60, 1.24, 0.61)}
    for a, (e, l95, h95, l80, h80, p) in ratio.items():
        rows.append(_row(a, "days_off", "arm", e, l95, h95, 0.95, p, 125))
        rows.append(_row(a, "days_off", "arm", e, l80, h80, 0.80, p, 125))
    for sg, levels, pint in (("condition_group", ["musculoskeletal", "mental_health", "other"], 0.43),
                             ("sex", ["female", "male"], 0.0004)):
        rows.append(_row("subgroup_nb", "days_off", f"interaction={sg}", np.nan, np.nan, np.nan,
                         np.nan, pint))
        for i, lev in enumerate(levels):
            e = 0.7 + 0.2 * i
            rows.append(_row("subgroup_nb", "days_off", f"subgroup={sg}:{lev}", e, e / 2.2, e * 2.6,
                             0.95, 0.5, 40 + i))
            rows.append(_row("subgroup_nb", "days_off", f"subgroup={sg}:{lev}", e, e / 1.6, e * 1.7,
                             0.80, 0.5, 40 + i))
    for arm, med, lo, hi in ((CONTROL, 70.0, 56.0, 98.0), (INTERVENTION, np.nan, 84.0, np.nan)):
        for lv in (0.95, 0.80):
            rows.append(_row("km_median", "first_rtw", f"arm={arm}", med, lo, hi, lv, n=64, events=40))
            for t, pr in ((42, 0.25), (84, 0.5), (182, 0.7)):
                rows.append(_row("km_proportion", "first_rtw", f"arm={arm};t={t}", pr, pr - 0.1,
                                 pr + 0.1, lv))
            rows.append(_row("rmst", "first_rtw", f"arm={arm}", 95.2, 80.1, 110.3, lv))
    for lv in (0.95, 0.80):
        rows.append(_row("rmst_difference", "first_rtw", "arm", -5.5, -20.0, 9.0, lv, 0.45))
        rows.append(_row("cox_unadjusted", "first_rtw", "arm", 1.15, 0.8, 1.6, lv, 0.41, 130, 80))
        rows.append(_row("cox_adjusted", "first_rtw", "arm", 1.18, 0.82, 1.7, lv, 0.37, 130, 80))
        rows.append(_row("ancova", "eq5d_6m", "arm", 0.031, -0.02, 0.08, lv, 0.21, 100))
        rows.append(_row("logistic", "at_work_6m", "arm", 1.4, 0.7, 2.8, lv, 0.33, 100))
    rows.append(_row("logrank", "first_rtw", "arm", np.nan, np.nan, np.nan, np.nan, 0.39))
    rows.append(_row("cox_zph", "first_rtw", "arm", np.nan, np.nan, np.nan, np.nan, 0.52,
                     note="cox_adjusted"))
    rows.append(_row("cox_zph", "first_rtw", "days_off_before", np.nan, np.nan, np.nan, np.nan,
                     0.031, note="cox_adjusted"))
    rows.append(_row("cox_zph", "first_rtw", "global", np.nan, np.nan, np.nan, np.nan, 0.09,
                     note="cox_adjusted"))
    df = pd.DataFrame(rows)
    df.loc[df["analysis"] == "cox_zph", "statistic"] = [0.41, 4.65, 4.8]
    return df


def zph_residuals(outcome="first_rtw", seed=7):
    rng = np.random.default_rng(seed)
    rows = []
    for term in ("arm", "days_off_before"):
        t = np.sort(rng.uniform(5, 180, 60))
        for ti, r in zip(t, rng.normal(0, 1, 60)):
            rows.append({"outcome": outcome, "model": "cox_adjusted", "term": term, "time": ti,
                         "transformed_time": ti / 182, "residual": r})
    return pd.DataFrame(rows)


def power_df():
    rows = []
    for irr in (1.0, 0.7, 0.8):
        for n in (100, 200, 300, 400):
            if irr == 1.0:
                pw = 0.05
            else:
                pw = 1 - np.exp(-n * (1 - irr) ** 2 / 8)
            se = float(np.sqrt(pw * (1 - pw) / 1000))
            rows.append({"n_per_arm": n, "true_irr": irr, "dispersion": 0.55, "attrition": 0.1,
                         "power": pw, "mc_se": se, "type1": 0.05 if irr == 1 else np.nan,
                         "replicates": 1000})
    return pd.DataFrame(rows)
