"""Survival job at scale (issue 13, item 3): the pipeline's survival job before and after a change,
and R's same survival analyses, on one generated table per n, in the same run.

    PYTHONPATH=scripts python bench/survival_scale.py [--n 100000 1000000] [--before REV] [--no-r]

For each n: the table of ``bench/whole_plan.py`` (``make_table``) and its plan config, the data step
(``snakemake results/data/analysis.parquet``), then, each under ``/usr/bin/time`` (wall, user + system
CPU, peak RSS): the survival job of the working tree's library (what ``scripts/fit_survival.py`` does:
read the analysis table, ``run_time_to_event``, write the estimates and the five tables), the same job
with the library of git revision ``--before`` (``git archive``), and ``bench/survival_scale.R``.
The job's outputs of both libraries are compared byte for byte.  Writes ``bench/survival_scale.md``.
The machine is shared: CPU seconds are the steadier measure of work; wall seconds depend on the load.
"""
from __future__ import annotations

import argparse
import filecmp
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "survival_scale.md"
_spec = importlib.util.spec_from_file_location("whole_plan", HERE / "whole_plan.py")
wp = importlib.util.module_from_spec(_spec)   # the table and plan config of bench/whole_plan.py
_spec.loader.exec_module(wp)

JOB = """
import sys, pandas as pd, yaml
from rtw.core.config import load, analysis_config
from rtw.survival.runner import run_time_to_event
from rtw.core.estimates import write_estimates
from rtw.core.io import atomic_write_csv
work, out = sys.argv[1], sys.argv[2]
cfg = analysis_config(load(yaml.safe_load(open(work + "/plan.yaml"))))
res = run_time_to_event(pd.read_parquet(work + "/results/data/analysis.parquet"), cfg,
                        cfg["outcomes"]["time_to_event"][0])
write_estimates(res["estimates"], out + "/estimates.csv")
for key in ("km_curves", "km_at_risk", "cif_curves", "zph_residuals", "summary"):
    atomic_write_csv(res[key], out + "/" + key + ".csv")
"""


def timed(cmd: list[str], log: Path, env=None) -> dict:
    """Wall s, CPU s (user + system) and peak RSS MB of ``cmd`` (``/usr/bin/time``)."""
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        r = subprocess.run(["/usr/bin/time", "-f", "TIME %U %S %M"] + cmd, stdout=fh,
                           stderr=subprocess.STDOUT, env=env)
    wall = time.perf_counter() - t0
    last = [ln for ln in log.read_text(errors="replace").splitlines() if ln.startswith("TIME ")][-1]
    u, s, m = last.split()[1:]
    if r.returncode:
        raise SystemExit(f"{cmd[:3]} failed: see {log}")
    return {"wall": wall, "cpu": float(u) + float(s), "rss": int(m) / 1024}


def job(lib: Path, work: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(lib), "PYTHONHASHSEED": "0"}
    return timed([sys.executable, "-c", JOB, str(work), str(out)], out / "time.log", env)


def same_outputs(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.glob("*.csv"))
    return names == sorted(p.name for p in b.glob("*.csv")) and all(
        filecmp.cmp(a / f, b / f, shallow=False) for f in names)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--before", default=None, help="git revision whose library is timed too")
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    base = Path(args.work or tempfile.mkdtemp(prefix="survival_scale_"))
    before = None
    if args.before:
        before = base / "before_lib"
        before.mkdir(parents=True, exist_ok=True)
        subprocess.run(f"git -C {ROOT} archive {args.before} scripts workflow | tar -x -C {before}",
                       shell=True, check=True)
        before = before / "scripts"
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    rows = []
    for n in args.n:
        work = base / f"n{n}"
        work.mkdir(parents=True, exist_ok=True)
        table = work / "table.csv"
        wp.make_table(n).to_csv(table, index=False)
        (work / "plan.yaml").write_text(yaml.safe_dump(wp.plan_config(table), sort_keys=False))
        env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts")}
        subprocess.run([snakemake, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(work),
                        "--configfile", str(work / "plan.yaml"), "--cores", "1",
                        "results/data/analysis.parquet"], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        load = os.getloadavg()[0]
        rec = {"n": n, "load": load, "after": job(ROOT / "scripts", work, work / "after")}
        if before is not None:
            rec["before"] = job(before, work, work / "before")
            rec["identical"] = same_outputs(work / "after", work / "before")
        if not args.no_r:
            rec["r"] = timed(["Rscript", str(HERE / "survival_scale.R"), str(table), str(work / "r.json")],
                             work / "r.log")
            rec["r_fits"] = json.loads((work / "r.json").read_text())
        rec["zph_rows"] = sum(1 for _ in open(work / "after" / "zph_residuals.csv")) - 1
        rows.append(rec)
        print(json.dumps({k: v for k, v in rec.items() if k != "r_fits"}), flush=True)
    write(rows, args.before)


def write(rows: list[dict], before: str | None) -> None:
    f = lambda d, k: f"{d[k]:,.1f}" if d else "—"  # noqa: E731
    lines = ["# Survival job at scale: pipeline against R (issue 13, item 3)", "",
             f"Generated by `bench/survival_scale.py` (see its docstring) on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores shared with "
             f"other sessions, {platform.platform()}, Python {platform.python_version()}.", "",
             "| n | load | job | wall s | CPU s | peak RSS MB | zph residual rows | outputs identical |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        jobs = [("pipeline survival job (this tree)", r["after"])]
        if "before" in r:
            jobs.append((f"pipeline survival job ({before})", r["before"]))
        if "r" in r:
            jobs.append(("R survival analyses (survival_scale.R)", r["r"]))
        for name, d in jobs:
            py = not name.startswith("R ")
            zph = f"{r['zph_rows']:,}" if py else "—"
            same = r.get("identical", "—") if py else "—"
            lines.append(f"| {r['n']:,} | {r['load']:.1f} | {name} | {f(d, 'wall')} | {f(d, 'cpu')} | "
                         f"{f(d, 'rss')} | {zph} | {same} |")
    for r in rows:
        if "r_fits" in r:
            lines += ["", f"R steps at n = {r['n']:,} ({r['r_fits']['version']}), elapsed s:", "",
                      "| step | s |", "|---|---|"]
            lines += [f"| {x['fit']} | {x['seconds']:.2f} |" for x in r["r_fits"]["fits"]]
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
