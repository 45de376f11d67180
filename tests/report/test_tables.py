"""Presentation tables: counts and formatting (the writers are tested in test_writers.py)."""
import pytest
from helpers import sap
from rtw.core.validation import with_defaults

import fixtures_outputs as F
from rtw.report import tables


def _row(t, label):
    """The first row labelled ``label`` (footnote symbols at the end of labels ignored)."""
    from rtw.report.writers import split_mark
    hits = t[t.iloc[:, 0].map(lambda v: split_mark(v)[0]) == label]
    assert len(hits) >= 1, f"row {label!r} not in table:\n{t.iloc[:, 0].tolist()}"
    return hits.iloc[0]


# ------------------------------------------------------------ Table 1 --
def test_table1_counts_and_formatting():
    cfg = F.config()
    df = F.analysis_df()
    t = tables.table1(df, cfg)
    n_c, n_i = (df["arm"] == F.CONTROL).sum(), (df["arm"] == F.INTERVENTION).sum()
    assert list(t.columns) == ["Characteristic", f"Usual care (n={n_c})",
                               f"Vocational advice (n={n_i})", f"Overall (n={len(df)})"]
    # categorical: n (%) of those with data; missing counted separately
    for arm, col in ((F.CONTROL, t.columns[1]), (F.INTERVENTION, t.columns[2])):
        s = df.loc[df["arm"] == arm, "sex"]
        k, d = int((s == "female").sum()), int(s.notna().sum())
        pct = 100 * k / d
        assert _row(t, "  Female")[col] == f"{k} ({tables.fmt.fmt_num(pct, 1)}%)"
    sex_rows = t.index[t["Characteristic"] == "Sex, n (%)"][0]
    assert t.loc[sex_rows + 3, "Characteristic"] == "  Missing, n"
    assert t.loc[sex_rows + 3, t.columns[1]] == "1"
    assert t.loc[sex_rows + 3, t.columns[3]] == "1"
    # continuous: mean (SD), median (IQR), missing
    age = df.loc[df["arm"] == F.CONTROL, "age"]
    i = t.index[t["Characteristic"] == "Age, years"][0]
    assert t.loc[i + 1, t.columns[1]] == f"{age.mean():.1f} ({age.std():.1f})"
    assert t.loc[i + 2, "Characteristic"] == "  Median (IQR)"
    assert t.loc[i + 3, "Characteristic"] == "  Missing, n"
    assert t.loc[i + 3, t.columns[3]] == "2"
    # no p-values anywhere (CONSORT)
    assert not any("p" == c.lower() or "p value" in c.lower() for c in t.columns)
    # variables without missing values have no Missing row
    j = t.index[t["Characteristic"] == "Job type, n (%)"][0]
    assert t.loc[j + 3, "Characteristic"] != "  Missing, n"


def test_table1_config_list_levels_and_errors():
    cfg = F.config()
    cfg["table1"] = with_defaults("table1", {"variables": [
        {"column": "sex", "label": "Sex", "type": "categorical",
         "levels": {"male": "Men", "female": "Women"}},
        {"column": "days_off_before", "label": "Prior days off", "type": "continuous",
         "summary": "median_iqr", "dp": 0},
    ]})
    cfg["tables"] = with_defaults("tables", {"show_missing": "always"})
    df = F.analysis_df()
    t = tables.table1(df, cfg)
    assert t["Characteristic"].tolist() == ["Sex, n (%)", "  Men", "  Women", "  Missing, n",
                                            "Prior days off", "  Median (IQR)", "  Missing, n"]
    bad = F.analysis_df()
    bad.loc[0, "arm"] = "placebo"
    with pytest.raises(ValueError, match="placebo"):
        tables.table1(bad, cfg)
    cfg["table1"]["variables"][0]["levels"] = ["male"]
    with pytest.raises(ValueError, match="female"):
        tables.table1(df, cfg)


# --------------------------------------------------- estimate tables --
def test_primary_table():
    cfg = F.config()
    df = F.analysis_df()
    t = tables.primary_table(F.estimates(), df, cfg)
    # issue 11 item 4: differences (the CACE) get their own column, not the IRR column, headed
    # with the outcome's unit (config outcomes.count.unit)
    assert cfg["outcomes"]["count"]["unit"] == "days off work"
    assert list(t.columns) == ["Outcome / analysis", "Usual care", "Vocational advice", "IRR",
                               "Difference, days off work", "95% CI", "80% CI", "p", "n"]
    r = _row(t, "  Primary: negative binomial, ITT")
    assert (r["IRR"], r["95% CI"], r["80% CI"], r["p"]) == ("0.91", "0.55 to 1.51",
                                                           "0.65 to 1.28", "0.724")
    assert r["Difference, days off work"] == ""
    x = df.loc[df["arm"] == F.INTERVENTION, "days_off_6m"]
    assert _row(t, "  Mean (SD)")["Vocational advice"] == f"{x.mean():.1f} ({x.std():.1f})"
    assert _row(t, "  With outcome, n")["Vocational advice"] == str(x.notna().sum())
    from rtw.report.writers import split_mark
    labels = [split_mark(v)[0] for v in t["Outcome / analysis"]]
    assert "  Hurdle negative binomial" not in labels          # absent analysis left out
    # CACE is a difference in means: listed under its own heading, after the IRRs
    assert labels.index("  Zero-inflated negative binomial") < labels.index(
        "Difference in means, intervention vs control") < labels.index(
        "  Complier average causal effect (IV)")
    cace = _row(t, "  Complier average causal effect (IV)")
    assert cace["IRR"] == "" and cace["Difference, days off work"] == "0.86"


def test_secondary_table():
    cfg = F.config()
    t = tables.secondary_table(F.estimates(), cfg, F.analysis_df())
    r = _row(t, "")
    from rtw.report.writers import split_mark
    assert split_mark(r["Analysis"])[0] == "ANCOVA: mean difference"
    # a difference in its own column, with the Unicode minus sign (issue 11 item 4)
    assert (r["Difference"], r["95% CI"], r["p"]) == ("0.03", "\u22120.02 to 0.08", "0.210")
    assert r["Ratio"] == ""
    lg = t[t["Analysis"].map(lambda v: split_mark(v)[0]) == "Logistic regression: odds ratio"].iloc[0]
    assert lg["Ratio"] == "1.40" and lg["Difference"] == ""
    assert _row(t, "At work at 6 months")["Usual care"].endswith("n=20")
    # eq5d needs 2 decimals (configured per outcome via dp, default by scale)
    assert _row(t, "EQ-5D-5L index, 6 months")["Usual care"].count(".") == 2


def test_survival_table():
    cfg = F.config()
    t = tables.survival_table(F.estimates(), cfg)
    assert t["Measure"].iloc[0] == "Time to first return to work"
    med = _row(t, "  Median time, days (95% CI)")
    assert med["Usual care"] == "70 (56 to 98)"
    assert med["Vocational advice"] == "not reached (84 to NR)"
    p42 = _row(t, "  Returned to work by day 42, % (95% CI)")   # event_label from config
    assert p42["Usual care"] == "25.0 (15.0 to 35.0)"
    hr = _row(t, "  Cox, adjusted")
    assert (hr["HR"], hr["95% CI"], hr["p"]) == ("1.18", "0.82 to 1.70", "0.370")
    assert _row(t, "  Log-rank test")["p"] == "0.390"
    rm = _row(t, "  Restricted mean time to day 182, days")
    # the RMST difference in its own column, headed with the outcome's unit
    assert rm["Difference, days"] == "\u22125.5" and rm["Usual care"] == "95.2 (80.1 to 110.3)"
    assert rm["HR"] == ""
    # no rows for an outcome without estimates
    assert "Time to sustained return to work" not in t["Measure"].tolist()


def test_table1_variables_default_to_the_trials_factors_covariates_and_baselines():
    """Issue 11, item 2: without config table1.variables, Table 1 lists the stratification
    factors, covariates and outcome baselines (whatever other columns the data hold, e.g. a
    column named like one of WAVE's), labelled by a subgroup's label where one exists."""
    import pandas as pd
    df = pd.DataFrame({"arm": ["x", "y", "x", "y"], "site": ["a", "b", "a", "b"],
                       "prior": [10.0, 20.0, 30.0, 40.0], "score0": [0.1, 0.5, 0.9, 0.3],
                       "age": [30, 40, 50, 60], "sex": ["f", "m", "f", "m"],
                       "s6": [0.2, 0.4, 0.6, 0.8]})
    cfg = sap({"trial": {"arms": {"control": "x", "intervention": "y"}},
               "stratification_factors": ["site"], "covariates": ["prior"],
               "subgroups": [{"name": "site", "label": "Recruiting site", "column": "site"}],
               "outcomes": {"continuous": [{"name": "s", "value": "s6", "baseline": "score0"}]}})
    assert cfg["table1"]["variables"] is None
    spec = tables.baseline_spec(cfg, df)
    assert [(d["column"], d["label"], d["type"]) for d in spec] == [
        ("site", "Recruiting site", "categorical"), ("prior", "prior", "continuous"),
        ("score0", "score0", "continuous")]
    assert spec[2]["dp"] == 2


# ------------------------------------------- journal standard (issue 11 item 4) --
def _wave_like_estimates():
    """The fixture estimates with the notes and terms the runners write: covariate terms and
    a cluster-robust note on the NB rows, a count-part ZINB, a not-estimable hurdle model,
    the Cox notes and cox_zph rows as rtw.survival.runner writes them."""
    import numpy as np
    import pandas as pd
    est = F.estimates()
    est = est[est["analysis"] != "cox_zph"].copy()
    cl = "cluster-robust SE by practice (sandwich::vcovCL)"
    est.loc[est["analysis"] == "nb_primary", "note"] = "negative binomial (glm.nb); " + cl
    est.loc[est["analysis"] == "zinb", "note"] = (
        "sandwich::vcovCL(cluster = ~practice) HC0 with G/(G-1); count-part IRR")
    est.loc[est["analysis"] == "cox_adjusted", "note"] = (
        "efron ties; robust SE clustered by practice (10 clusters); adjusted for "
        "condition_group, days_off_before")
    est.loc[est["analysis"] == "cox_unadjusted", "note"] = "efron ties"
    extra = []
    for term in ("condition_group[other]", "days_off_before", "theta"):
        extra.append(F._row("nb_primary", "days_off", term, 1.1, 0.9, 1.3, 0.95, 0.5, 125))
    extra.append(F._row("hurdle_nb", "days_off", "arm", np.nan, np.nan, np.nan, np.nan,
                        note="not estimable: no zero counts in arm usual_care; hurdle_nb"))
    for term, stat, p, df in (("arm", 4.69, 0.0303, 1), ("global", 4.69, 0.0303, 1)):
        extra.append({**F._row("cox_zph", "first_rtw", term, np.nan, np.nan, np.nan, np.nan, p,
                               note=f"model=cox_unadjusted; chi-square, df={df}; "
                                    "transform=km (R cox.zph)"), "statistic": stat})
    for term, stat, p, df in (("arm", 3.76, 0.0526, 1), ("condition_group", 0.44, 0.80, 2),
                              ("days_off_before", 15.4, 0.0001, 1), ("global", 19.48, 0.0006, 4)):
        extra.append({**F._row("cox_zph", "first_rtw", term, np.nan, np.nan, np.nan, np.nan, p,
                               note=f"model=cox_adjusted; chi-square, df={df}; "
                                    "transform=km (R cox.zph)"), "statistic": stat})
    extra.append({**F._row("logrank", "first_rtw", "arm", np.nan, np.nan, np.nan, np.nan, 0.39,
                           note="chi-square, df=1"), "statistic": 0.738})
    est = est[est["analysis"] != "logrank"]
    return pd.concat([est, pd.DataFrame(extra)], ignore_index=True)


def _wave_like_config():
    cfg = F.config()
    cfg["stratification_factors"] = ["condition_group"]
    cfg["covariates"] = ["days_off_before"]
    cfg["cluster"] = "practice"
    cfg["tables"]["primary_analyses"].append({"analysis": "hurdle_nb", "label": "Hurdle NB",
                                              "population": None})
    return cfg


def _marks(label):
    from rtw.report.writers import split_mark
    return split_mark(label)[1]


def test_footnotes_state_adjustment_set_se_type_and_count_part_irrs():
    cfg = _wave_like_config()
    t = tables.primary_table(_wave_like_estimates(), F.analysis_df(), cfg)
    notes = dict(t.attrs["footnotes"])
    nb = _row(t, "  Primary: negative binomial, ITT")["Outcome / analysis"]
    zi = _row(t, "  Zero-inflated negative binomial")["Outcome / analysis"]
    # the adjustment set with Table 1's labels (the covariate terms of the NB model), the SE
    adj = notes[_marks(nb)]
    assert adj == ("Adjusted for Health condition group and Days off work before "
                   "randomisation; cluster-robust SE (clusters: practice).")
    # ZINB: the same adjustment footnote, plus a count-part symbol of its own
    assert _marks(zi).startswith(_marks(nb)) and len(_marks(zi)) > len(_marks(nb))
    cp = notes[_marks(zi)[len(_marks(nb)):]]
    assert "count part" in cp and "not a ratio of overall means" in cp
    assert "count part" not in " ".join(v for k, v in notes.items() if k == _marks(nb))
    # symbols in order of first use: *, then the dagger
    assert [m for m, _ in t.attrs["footnotes"]][:2] == ["*", "\u2020"]


def test_not_estimable_reason_in_the_estimate_cell():
    t = tables.primary_table(_wave_like_estimates(), F.analysis_df(), _wave_like_config())
    r = _row(t, "  Hurdle NB")
    assert r["IRR"] == "not estimable: no zero counts in arm usual_care"
    assert r["95% CI"] == "" and r["p"] == ""


def test_survival_table_has_the_proportional_hazards_tests():
    """cox_zph rows (R cox.zph) under each Cox model: the arm term and the global test; with
    one term the arm test is the global test (one row, labelled so)."""
    cfg = _wave_like_config()
    t = tables.survival_table(_wave_like_estimates(), cfg)
    labels = [v for v in t["Measure"]]
    i_un = labels.index(_row(t, "  Cox, unadjusted")["Measure"])
    i_adj = labels.index(_row(t, "  Cox, adjusted")["Measure"])
    un = t.iloc[i_un + 1]
    assert un["Measure"].startswith("    Proportional hazards, arm (= global)")
    assert (un["Test statistic"], un["p"]) == ("\u03c7\u00b2(1) = 4.69", "0.030")
    arm, glob = t.iloc[i_adj + 1], t.iloc[i_adj + 2]
    assert arm["Measure"].startswith("    Proportional hazards, arm")
    assert (arm["Test statistic"], arm["p"]) == ("\u03c7\u00b2(1) = 3.76", "0.053")
    assert glob["Measure"].startswith("    Proportional hazards, global")
    assert (glob["Test statistic"], glob["p"]) == ("\u03c7\u00b2(4) = 19.48", "<0.001")
    assert glob["HR"] == "" and glob["95% CI"] == ""
    notes = dict(t.attrs["footnotes"])
    ph = notes[_marks(glob["Measure"])]
    assert "scaled Schoenfeld residuals" in ph and "Kaplan\u2013Meier" in ph
    assert notes[_marks(t.iloc[i_adj]["Measure"])].startswith(
        "Adjusted for Health condition group and Days off work before randomisation; "
        "cluster-robust SE")
    assert notes[_marks(t.iloc[i_un]["Measure"])] == "Unadjusted."
    assert _row(t, "  Log-rank test")["Test statistic"] == "\u03c7\u00b2(1) = 0.74"


def test_differences_in_own_column_with_unit_and_precision_by_magnitude():
    import pandas as pd
    est = _wave_like_estimates()
    # a CACE of 0.37 days with a CI of -28.40 to 29.14 (WAVE's): 3 significant digits of 29.1
    est.loc[est["analysis"] == "cace", ["estimate", "conf_low", "conf_high"]] = [0.370148, -28.4, 29.14]
    cfg = _wave_like_config()
    cfg["outcomes"]["count"]["unit"] = "days"          # the unit key of issue 11 item 2
    t = tables.primary_table(est, F.analysis_df(), cfg)
    r = _row(t, "  Complier average causal effect (IV)")
    assert "Difference, days" in t.columns
    assert (r["IRR"], r["Difference, days"], r["95% CI"]) == ("", "0.4", "\u221228.4 to 29.1")
    # a fixed tables.digits.estimate replaces the rule
    cfg["tables"]["digits"]["estimate"] = 2
    r2 = _row(tables.primary_table(est, F.analysis_df(), cfg),
              "  Complier average causal effect (IV)")
    assert r2["Difference, days"] == "0.37"
    # a risk difference in percentage points, in the Difference column (rule by magnitude)
    cfg["tables"]["digits"]["estimate"] = None
    rd = pd.DataFrame([F._row("gcomp_rd", "at_work_6m", "arm", 0.030048, -0.0671, 0.1272, lv, 0.54)
                       for lv in (0.95, 0.80)])
    s = tables.secondary_table(pd.concat([est, rd], ignore_index=True), cfg)
    row = s[s["Analysis"].str.contains("risk difference")].iloc[0]
    assert row["Analysis"].startswith("Standardisation (g-computation): risk difference, "
                                      "percentage points")
    assert (row["Difference"], row["95% CI"], row["Ratio"]) == ("3.0", "\u22126.7 to 12.7", "")


def test_no_hyphen_minus_for_negative_numbers_in_any_table():
    """Every negative number in every presentation table carries U+2212."""
    import re
    est = _wave_like_estimates()
    cfg = _wave_like_config()
    for t in (tables.primary_table(est, F.analysis_df(), cfg), tables.secondary_table(est, cfg),
              tables.survival_table(est, cfg), tables.table1(F.analysis_df(), cfg)):
        for v in t.to_numpy().ravel():
            assert not re.search(r"(^|[\s(])-\d", str(v)), v


def test_difference_column_carries_the_time_unit_of_the_outcomes():
    """RMST differences are headed with the outcomes' own unit (months here); outcomes in
    different units get a plain "Difference" heading (the unit is in each row's label)."""
    cfg = F.config()
    for o in cfg["outcomes"]["time_to_event"]:
        o["time_unit"] = "months"
    t = tables.survival_table(F.estimates(), cfg)
    assert "Difference, months" in t.columns
    assert _row(t, "  Restricted mean time to month 182, months")["Difference, months"] == "\u22125.5"
    cfg["outcomes"]["time_to_event"][1]["time_unit"] = "weeks"
    t = tables.survival_table(F.estimates(), cfg)
    assert "Difference" in t.columns and not any(c.startswith("Difference,") for c in t.columns)
