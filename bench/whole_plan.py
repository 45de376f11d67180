#!/usr/bin/env python3
"""The whole plan, pipeline against R, on one generated bring-your-own table (issue 13, item 5).

    PYTHONPATH=scripts nice python bench/whole_plan.py                      # n = 1e4, 1e5, 1e6
    PYTHONPATH=scripts python bench/whole_plan.py --sizes 10000             # a quick run

For each n one table is generated (deterministic; two arms 0/1, 100 practices, age, sex,
baseline days absent, a time to return to work in whole days 1-182 censored at 182, days
absent with 10% excess zeros and no missing values) and written to
``bench/out/whole_plan_<n>.csv``.  Then, in the same run, one after the other:

* **pipeline, cold**: ``snakemake --configfile <cfg> --cores <cores>`` in a fresh folder on that
  CSV (``data.source: table``, ``strata: practice``, covariates age, sex, baseline; one
  time-to-event and one count outcome; every other key at its default), so every job of the
  plan runs: import, survival, regression (primary, sensitivity, subgroups), figures, tables,
  provenance.  Wall time and peak RSS of the whole tree (``/usr/bin/time``), each job's time and
  peak RSS (Snakemake's ``benchmark:`` files), and whether any fit reported non-convergence
  (``results/warnings.csv`` and the estimates' notes).
* **R, the same plan** (``bench/whole_plan.R``): KM; log-rank plain and stratified by practice;
  Cox unadjusted, adjusted and stratified, with ``cox.zph``; RMST; ``MASS::glm.nb``;
  ``pscl::zeroinfl`` and ``hurdle`` (``dist = "negbin"``, zero part ``| 1`` as the pipeline's
  default); Poisson with ``sandwich::vcovHC(type = "HC0")``.  R reads the CSV inside the timed
  run (as the pipeline does).  Wall time and peak RSS (``/usr/bin/time``), each fit's time and its
  convergence flag.

Results go to ``bench/whole_plan.md`` (a section per n, rewritten on each run of that n), and
the summary table between the markers in ``bench/RESULTS.md``.  The R side prints nothing of
the pipeline's figures and tables: the pipeline does more than R here (every figure, five table
formats, provenance), which is counted against it.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "whole_plan.md"
RESULTS = HERE / "RESULTS.md"
BEGIN, END = "<!-- whole-plan:begin -->", "<!-- whole-plan:end -->"


def make_table(n: int, seed: int = 29) -> pd.DataFrame:
    """The generated registry table (deterministic in ``seed``)."""
    rng = np.random.default_rng(seed)
    arm = np.arange(n) % 2
    practice = rng.integers(1, 101, n)
    age = np.round(rng.normal(44, 11, n))
    sex = rng.integers(0, 2, n)
    prior = np.round(rng.gamma(2.0, 25.0, n)).clip(15, 180)
    u = rng.normal(0, 0.25, 101)
    lp = 0.2 * arm - 0.004 * (prior - 50) - 0.01 * (age - 44) + u[practice]
    t = np.ceil(rng.weibull(1.2, n) * 90 * np.exp(-lp / 1.2))
    event = (t <= 182).astype(int)
    t = np.clip(t, 1, 182)
    mu = np.exp(np.log(38) + np.log(0.85) * arm + 0.006 * (prior - 50) + 0.005 * (age - 44) + u[practice])
    y = np.minimum(rng.poisson(rng.gamma(0.8, mu / 0.8)), 182)
    y[rng.random(n) < 0.10] = 0
    return pd.DataFrame({"pid": np.arange(1, n + 1), "arm": arm, "practice": [f"P{p:03d}" for p in practice],
                         "age": age, "sex": sex, "prior_days": prior, "rtw_days": t.astype(int),
                         "rtw": event, "days_absent": y})


def plan_config(table: Path) -> dict:
    """The bring-your-own config of the plan (every key not given is the schema's default)."""
    return {
        "data": {"source": "table", "table": str(table),
                 "columns": {"participant_id": "pid", "arm": "arm", "practice": "practice"}},
        "trial": {"name": "Registry", "arms": {"control": 0, "intervention": 1},
                  "arm_names": {0: "Control", 1: "Intervention"}},
        "covariates": ["age", "sex", "prior_days"], "stratification_factors": [],
        "strata": "practice",
        "outcomes": {"time_to_event": {"name": "rtw", "time": "rtw_days", "event": "rtw", "tau": 182,
                                       "event_label": "Returned to work", "better": "higher"},
                     "count": {"name": "days_absent", "value": "days_absent", "baseline": "prior_days"}},
    }


def _timed(cmd: list[str], log: Path, env=None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB, largest process of the tree) and exit code of ``cmd``."""
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        r = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, stdout=fh, stderr=subprocess.STDOUT,
                           env=env)
    wall = time.perf_counter() - t0
    m = re.findall(r"MAXRSS (\d+)", log.read_text(errors="replace"))
    return wall, (int(m[-1]) / 1024 if m else float("nan")), r.returncode


def _jobs(results: Path) -> list[dict]:
    """Each job's seconds and peak RSS from Snakemake's benchmark files."""
    rows = []
    for f in sorted((results / "benchmarks").glob("*.tsv")):
        with open(f) as fh:
            rec = list(csv.DictReader(fh, delimiter="\t"))[-1]
        rows.append({"job": f.stem, "s": float(rec["s"]), "max_rss_mb": float(rec["max_rss"])})
    return rows


def _pipeline_convergence(results: Path) -> str:
    """'all converged', or the fits whose warnings or notes say otherwise."""
    bad = set()
    warn = results / "warnings.csv"
    if warn.exists() and warn.stat().st_size:
        w = pd.read_csv(warn, dtype=str).fillna("")
        if len(w):
            text = w.agg(" ".join, axis=1)
            bad |= set(text[text.str.contains("converge|boundary|singular", case=False)])
    est = pd.read_csv(results / "tables" / "estimates.csv")
    notes = est["notes"].fillna("").astype(str) if "notes" in est.columns else pd.Series("", index=est.index)
    hit = est[notes.str.contains("not converge|did not converge|non-converg", case=False)]
    bad |= {f"{a} ({o})" for a, o in zip(hit["analysis"], hit["outcome"])}
    return "all converged" if not bad else "; ".join(sorted(bad))[:400]


def run_pipeline(table: Path, work: Path, cores: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "plan.yaml"
    cfg.write_text(yaml.safe_dump(plan_config(table), sort_keys=False))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts")}
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    wall, rss, rc = _timed([snakemake, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(work),
                            "--configfile", str(cfg), "--cores", str(cores), "-q"], work / "snakemake.log", env)
    if rc:
        raise SystemExit(f"pipeline failed at {table}: see {work / 'snakemake.log'}")
    res = work / "results"
    return {"wall": wall, "rss": rss, "jobs": _jobs(res), "converged": _pipeline_convergence(res)}


def run_r(table: Path, work: Path) -> dict:
    out = work / "r.json"
    wall, rss, rc = _timed(["Rscript", str(HERE / "whole_plan.R"), str(table), str(out)], work / "r.log")
    if rc:
        raise SystemExit(f"R failed at {table}: see {work / 'r.log'}")
    rec = json.loads(out.read_text())
    return {"wall": wall, "rss": rss, "fits": rec["fits"], "version": rec["version"]}


def section(n: int, p: dict, r: dict, cores: int, load: str) -> str:
    fmt = lambda x: f"{x:,.1f}"
    lines = [f"## n = {n:,}", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `--cores {cores}`, load average "
             f"before the run {load}.", "",
             "| | wall s | peak RSS MB (largest process) | convergence |", "|---|---|---|---|",
             f"| pipeline, cold (every job) | {fmt(p['wall'])} | {fmt(p['rss'])} | {p['converged']} |",
             f"| R, the same plan | {fmt(r['wall'])} | {fmt(r['rss'])} | "
             f"{'all converged' if all(f['converged'] for f in r['fits']) else 'NOT all converged'} |",
             f"| **ratio pipeline / R** | **{p['wall'] / r['wall']:.2f}** | {p['rss'] / r['rss']:.2f} | |", "",
             "Pipeline jobs (Snakemake `benchmark:`; jobs run two at a time on the cores):", "",
             "| job | s | peak RSS MB |", "|---|---|---|"]
    lines += [f"| {j['job']} | {j['s']:.1f} | {j['max_rss_mb']:.0f} |" for j in p["jobs"]]
    lines += ["", f"R fits ({r['version']}; seconds of each call, reading included in `read.csv`):", "",
              "| fit | s | converged |", "|---|---|---|"]
    lines += [f"| {f['fit']} | {f['seconds']:.2f} | {f['converged']} |" for f in r["fits"]]
    return "\n".join(lines) + "\n"


def _replace_section(text: str, n: int, body: str) -> str:
    pattern = re.compile(rf"^## n = {n:,}\n.*?(?=^## n = |\Z)", re.S | re.M)
    if pattern.search(text):
        return pattern.sub(lambda _: body + "\n", text)
    return text.rstrip("\n") + "\n\n" + body


def _summary(text: str) -> str:
    rows = re.findall(r"^## n = ([\d,]+)\n.*?pipeline, cold \(every job\) \| ([\d,.]+) \| ([\d,.]+) \| ([^|]*)\|"
                      r".*?R, the same plan \| ([\d,.]+) \| ([\d,.]+) \|.*?ratio pipeline / R\*\* \| \*\*([\d.]+)",
                      text, re.S | re.M)
    out = ["| n | pipeline s | R s | ratio | pipeline peak RSS MB | R peak RSS MB | pipeline convergence |",
           "|---|---|---|---|---|---|---|"]
    out += [f"| {n} | {ps} | {rs} | {ratio} | {pm} | {rm} | {conv.strip()} |"
            for n, ps, pm, conv, rs, rm, ratio in sorted(rows, key=lambda r: int(r[0].replace(",", "")))]
    return "\n".join(out)


def write(n: int, body: str) -> None:
    head = (f"# The whole plan: pipeline against R\n\nGenerated by `bench/whole_plan.py` (see its docstring); "
            f"machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}.\n")
    text = OUT.read_text() if OUT.exists() else head
    text = _replace_section(text, n, body)
    OUT.write_text(text)
    res = RESULTS.read_text()
    if BEGIN in res:
        res = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), BEGIN + "\n" + _summary(text) + "\n" + END,
                     res, flags=re.S)
        RESULTS.write_text(res)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the working folders")
    a = ap.parse_args(argv)
    (HERE / "out").mkdir(exist_ok=True)
    for n in a.sizes:
        table = HERE / "out" / f"whole_plan_{n}.csv"
        if not table.exists():
            make_table(n).to_csv(table, index=False)
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        with tempfile.TemporaryDirectory(prefix=f"whole-plan-{n}-") as tmp:
            work = Path(tmp)
            p = run_pipeline(table, work / "pipeline", a.cores)
            r = run_r(table, work)
            body = section(n, p, r, a.cores, load)
            if a.keep:
                subprocess.run(["cp", "-r", tmp, f"/tmp/whole-plan-{n}"], check=False)
        write(n, body)
        print(body, flush=True)


if __name__ == "__main__":
    main()
