"""Presentation tables: counts and formatting (the writers are tested in test_writers.py)."""
import pytest
from helpers import sap
from rtw.core.validation import with_defaults

import fixtures_outputs as F
from rtw.report import tables


def _row(t, label):
    hits = t[t.iloc[:, 0] == label]
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
    assert list(t.columns) == ["Outcome / analysis", "Usual care", "Vocational advice", "IRR",
                               "95% CI", "80% CI", "p", "n"]
    r = _row(t, "  Primary: negative binomial, ITT")
    assert (r["IRR"], r["95% CI"], r["80% CI"], r["p"]) == ("0.91", "0.55 to 1.51",
                                                           "0.65 to 1.28", "0.724")
    x = df.loc[df["arm"] == F.INTERVENTION, "days_off_6m"]
    assert _row(t, "  Mean (SD)")["Vocational advice"] == f"{x.mean():.1f} ({x.std():.1f})"
    assert _row(t, "  With outcome, n")["Vocational advice"] == str(x.notna().sum())
    labels = t["Outcome / analysis"].tolist()
    assert "  Hurdle negative binomial" not in labels          # absent analysis left out
    # CACE is a difference in mean days: listed under its own heading (with the outcome's
    # unit from config), after the IRRs
    assert labels.index("  Zero-inflated negative binomial") < labels.index(
        "Difference in mean days off work, intervention vs control") < labels.index(
        "  Complier average causal effect (IV), days")


def test_secondary_table():
    cfg = F.config()
    t = tables.secondary_table(F.estimates(), cfg, F.analysis_df())
    r = _row(t, "")
    assert r["Analysis"] == "ANCOVA: mean difference"
    assert (r["Estimate"], r["95% CI"], r["p"]) == ("0.03", "-0.02 to 0.08", "0.210")
    lg = t[t["Analysis"] == "Logistic regression: odds ratio"].iloc[0]
    assert lg["Estimate"] == "1.40"
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
    assert (hr["Contrast"], hr["Estimate"], hr["95% CI"], hr["p"]) == (
        "Hazard ratio", "1.18", "0.82 to 1.70", "0.370")
    assert _row(t, "  Log-rank test")["p"] == "0.390"
    rm = _row(t, "  Restricted mean time to day 182, days")
    assert rm["Estimate"] == "-5.5" and rm["Usual care"] == "95.2 (80.1 to 110.3)"
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
    t = tables.table1(df, cfg)
    assert t["Characteristic"].tolist()[0] == "Recruiting site, n (%)"
    assert not any(c.startswith(("age", "Age", "sex", "Sex")) for c in t["Characteristic"])


def test_no_wave_variable_list_in_the_library():
    """Issue 11, item 2: WAVE's Table 1 list lives in config/config.yaml, nowhere else."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    for p in [*(root / "scripts").rglob("*.py"), *(root / "workflow" / "schemas").glob("*.yaml")]:
        text = p.read_text(encoding="utf-8")
        assert "x-table1" not in text and "Usual weekly working hours" not in text, p
