"""Entry script (rule presentation_tables): Table 1, primary outcome, secondary outcomes and
survival summary tables, each as CSV, Markdown, HTML, Word (.docx) and LaTeX."""
from rtw.entry import run


def _with_baseline(cfg, df, tables):
    """Config for Table 1: without ``tables.baseline`` and none of the default variables in the
    data (a bring-your-own table), the config's covariates, stratification factors and outcome
    baselines, numeric columns summarised as continuous, others as categorical."""
    if tables.baseline_spec(cfg, df):
        return cfg
    outcomes = cfg.get("outcomes") or {}
    cols = list(cfg.get("stratification_factors") or []) + list(cfg.get("covariates") or [])
    cols += [o.get("baseline") for o in [outcomes.get("count") or {}]
             + list(outcomes.get("continuous") or [])]
    cols = [c for c in dict.fromkeys(cols) if c and c in df.columns]
    spec = []
    for c in cols:
        if df[c].dtype.kind in "fiu":   # scores within [-1, 1] (EQ-5D) with 2 decimals
            small = df[c].notna().any() and float(df[c].abs().max()) <= 1
            spec.append({"column": c, "label": c, "type": "continuous", **({"dp": 2} if small else {})})
        else:
            spec.append({"column": c, "label": c, "type": "categorical"})
    return {**cfg, "tables": {**(cfg.get("tables") or {}), "baseline": spec}}


def main(smk):
    from pathlib import Path

    import pandas as pd

    from rtw import tables
    from rtw.estimates import read_estimates

    cfg = smk.params.config
    out = dict(smk.output.items())
    est = read_estimates(smk.input.estimates)
    df = pd.read_parquet(smk.input.analysis)
    build = {
        "table1": lambda: tables.table1(df, _with_baseline(cfg, df, tables)),
        "primary": lambda: tables.primary_table(est, df, cfg),
        "secondary": lambda: tables.secondary_table(est, cfg, df),
        "survival": lambda: tables.survival_table(est, cfg),
    }
    for key, spec in smk.params.tables.items():
        tables.write_table(build[key](), Path(out[f"{key}_csv"]).with_suffix(""),
                           title=spec["title"], footnote=spec["footnote"])


run(main, snakemake)  # noqa: F821
