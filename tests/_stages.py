"""The library's stage entry points run in sequence on one analysis table, as the pipeline
runs them (fit_regression, fit_survival, make_figures*, make_tables): used by the awkward-
trial tests and the fuzz test.  Returns what each stage made so that tests can check it."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot
import pandas as pd

from rtw.core.estimates import read_estimates, to_frame, write_estimates
from rtw.core.io import atomic_write_csv
from rtw.models import runner as regression
from rtw.report import figures, style, tables, writers
from rtw.survival.runner import run_time_to_event

RUNNERS = ("run_primary", "run_sensitivity", "run_secondary_continuous",
           "run_secondary_binary", "run_subgroups", "run_delivery")


def run_stages(df: pd.DataFrame, cfg: dict, out: Path, figures_too: bool = True) -> dict:
    """Every analysis, figure and table of ``df`` written under ``out``; returns
    ``{"estimates": DataFrame, "files": [paths]}``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parts = [getattr(regression, name)(df, cfg) for name in RUNNERS]
    files = []
    surv = {}
    for o in cfg["outcomes"]["time_to_event"]:
        res = run_time_to_event(df, cfg, dict(o))
        surv[o["name"]] = res
        parts.append(res["estimates"])
        for key in ("km_curves", "km_at_risk", "cif_curves", "zph_residuals", "summary"):
            p = out / f"{o['name']}_{key}.csv"
            atomic_write_csv(res[key], p)
            files.append(p)
    est_path = out / "estimates.csv"
    write_estimates(to_frame(pd.concat(parts, ignore_index=True)), est_path)
    files.append(est_path)
    est = read_estimates(est_path)
    if figures_too:
        files += _figures(df, cfg, est, surv, out)
    files += _tables(df, cfg, est, out)
    return {"estimates": est, "files": files}


def _save(fig, path: Path) -> list[Path]:
    style.save_figure(fig, path)
    matplotlib.pyplot.close(fig)
    return [path.with_suffix(".png")]


def _figures(df, cfg, est, surv, out) -> list[Path]:
    files = []
    for name, res in surv.items():
        # as make_figures_survival.py: from the files written
        curves = pd.read_csv(out / f"{name}_km_curves.csv", dtype={"arm": str})
        at_risk = pd.read_csv(out / f"{name}_km_at_risk.csv", dtype={"arm": str})
        files += _save(figures.km_plot(curves, at_risk, cfg, name)[0], out / f"km_{name}")
        resid = pd.read_csv(out / f"{name}_zph_residuals.csv", dtype={"term": str, "model": str})
        files += _save(figures.schoenfeld_plot(resid, est, cfg, name)[0],
                       out / f"schoenfeld_{name}")
        if len(res["cif_curves"]):
            cif = pd.read_csv(out / f"{name}_cif_curves.csv", dtype={"arm": str})
            files += _save(figures.cif_plot(cif, cfg, name)[0], out / f"cif_{name}")
    if cfg["outcomes"]["count"]:
        files += _save(figures.forest_plot(figures.forest_rows_primary(est, cfg), cfg,
                                           measure="IRR")[0], out / "forest_primary")
        files += _save(figures.days_off_distribution(df, cfg)[0], out / "days_off")
    return files


def _tables(df, cfg, est, out) -> list[Path]:
    files = []
    build = {"table1": lambda: tables.table1(df, cfg)}
    if cfg["outcomes"]["count"]:
        build["primary"] = lambda: tables.primary_table(est, df, cfg)
    build["secondary"] = lambda: tables.secondary_table(est, cfg, df)
    if cfg["outcomes"]["time_to_event"]:
        build["survival"] = lambda: tables.survival_table(est, cfg)
    for key, fn in build.items():
        stem = out / f"table_{key}"
        writers.write_table(fn(), stem, title=key, footnote="")
        files.append(stem.with_suffix(".csv"))
    return files
