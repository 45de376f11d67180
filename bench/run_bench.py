#!/usr/bin/env python3
"""Benchmark the project's survival and count engines against R on the same data.

    python bench/run_bench.py                       # n = 720, 1e4, 1e5, 1e6; writes bench/RESULTS.md
    python bench/run_bench.py --sizes 720 10000     # a quick run
    python bench/run_bench.py --power               # also replicates/s of the power loop vs R

For each n, one data set is generated once (``rtw.data.generator.simulate_primary``,
100 practices) and written to ``bench/out/data_<n>.csv`` (read by both sides;
Python reads the same values from a Parquet copy).  Every fit then runs in its
own process, Python (this script with ``--worker``) and R (``Rscript
bench/bench.R``), so that peak memory is the fit's own:

* time: best of ``--reps`` runs of the fit alone (data already loaded);
* memory: extra memory at the fit's peak over what was in use before it --
  Python: ``tracemalloc`` peak during one more run (numpy reports its buffers to
  tracemalloc); R: ``gc(reset = TRUE)`` before and the "max used" of ``gc()``
  after the fit, minus the memory in use before it (Ncells + Vcells, MB).
  Both processes' maximum RSS is recorded too.

Fits (the same model on both sides):

* ``km``: Kaplan-Meier by arm with log-log CIs = ``survfit(Surv(time, event) ~ arm)``;
* ``logrank``: ``survdiff(Surv(time, event) ~ arm)``;
* ``cox``: ``coxph(Surv(time, event) ~ arm + condition_group + days_off_before)``, Efron;
* ``cox_strat``: the same + ``strata(practice)`` (100 practices);
* ``nb``: ``glm.nb(days_off ~ arm + condition_group + days_off_before)``;
* ``trial``: all of the above in one go (the per-trial core analysis).

``--power``: replicates per second of the power-simulation loop (simulate a
trial of 2 x 200, fit the NB, test the arm IRR) in Python (``rtw.ops.power``) and
the same loop in R (``MASS::rnegbin`` data, ``glm.nb``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

FITS = ["km", "logrank", "cox", "cox_strat", "nb", "trial"]
LABELS = {"km": "Kaplan-Meier by arm (log-log CI)", "logrank": "log-rank test",
          "cox": "Cox PH, 4 terms (Efron)", "cox_strat": "Cox PH stratified by 100 practices",
          "nb": "negative binomial GLM (glm.nb)", "trial": "whole per-trial core analysis"}


# --------------------------------------------------------------------------- data
def make_data(n: int, out: Path, seed: int = 2024) -> Path:
    """One benchmark data set of n participants (CSV + Parquet), generated once."""
    import numpy as np
    import pandas as pd

    from rtw.core.validation import with_defaults
    from rtw.data.generator import CONDITION_GROUPS, simulate_primary
    csv = out / f"data_{n}.csv"
    pq = out / f"data_{n}.parquet"
    if csv.exists() and pq.exists():
        return csv
    trial = with_defaults("trial", {})
    d = simulate_primary(with_defaults("synthetic", {"n_practices": 100}), seed, n_per_arm=n // 2,
                         attrition=0.0, window_days=trial["followup_days"],
                         sms_period_days=trial["sms_period_days"])
    rng = np.random.default_rng(seed + 1)
    # RTW is seen at the fortnightly SMS; spread events over the days of the fortnight
    # so that the Cox fits see realistic (day-level) ties
    ev = (d["rtw_event"] == 1)
    time_ = d["rtw_time"] - np.where(ev, rng.integers(0, 14, ev.size), 0)
    df = pd.DataFrame({
        "time": np.maximum(time_, 1).astype(float),
        "event": ev.astype(int),
        "arm": d["arm"].astype(int),
        "condition_group": CONDITION_GROUPS[d["condition_group"]],
        "days_off_before": d["days_off_before"],
        "practice": [f"P{i + 1:03d}" for i in d["practice"]],
        "days_off": d["days_off_6m"].astype(int),
    })
    df.to_csv(csv, index=False)
    df.to_parquet(pq, index=False)
    return csv


# --------------------------------------------------------------------------- python fits
def _python_fits(df):
    import numpy as np

    from rtw.models import counts

    from rtw.survival import cox, km, logrank
    t = df["time"].to_numpy(float)
    e = df["event"].to_numpy(float)
    arm = df["arm"].to_numpy(float)
    cg = df["condition_group"].to_numpy()
    levels = sorted(set(cg.tolist()))
    dummies = np.column_stack([(cg == lv).astype(float) for lv in levels[1:]])
    X = np.column_stack([arm, dummies, df["days_off_before"].to_numpy(float)])
    names = ["arm"] + [f"condition_group[{lv}]" for lv in levels[1:]] + ["days_off_before"]
    practice = df["practice"].to_numpy()
    y = df["days_off"].to_numpy(float)
    Xnb = np.column_stack([np.ones(len(y)), X])

    def f_km():
        out = []
        for a in (0.0, 1.0):
            m = arm == a
            fit = km.kaplan_meier(t[m], e[m])
            out.append(km.km_confint(fit.surv, fit.std_err, 0.95, "log-log"))
        return out

    def f_logrank():
        return logrank.logrank_test(t, e, arm)

    def f_cox():
        return cox.fit_cox(t, e, X, names=names)

    def f_cox_strat():
        return cox.fit_cox(t, e, X, strata=practice, names=names)

    def f_nb():
        return counts.fit_nb(Xnb, y)

    def f_trial():
        return [f_km(), f_logrank(), f_cox(), f_cox_strat(), f_nb()]

    return {"km": f_km, "logrank": f_logrank, "cox": f_cox, "cox_strat": f_cox_strat,
            "nb": f_nb, "trial": f_trial}


def _summary(fit_name, res) -> dict:
    """A few numbers of the fit, to check both sides fitted the same model."""
    import numpy as np
    if fit_name == "logrank":
        return {"chisq": float(res.chisq)}
    if fit_name in ("cox", "cox_strat"):
        return {"coef_arm": float(res.coef[0]), "se_arm": float(np.sqrt(res.var[0, 0]))}
    if fit_name == "nb":
        return {"coef_arm": float(res.params.iloc[1]), "theta": float(res.theta)}
    if fit_name == "km":
        return {}
    return {}


def worker(fit_name: str, n: int, out: Path, reps: int) -> dict:
    import gc
    import tracemalloc

    import pandas as pd
    df = pd.read_parquet(out / f"data_{n}.parquet")
    fn = _python_fits(df)[fit_name]
    times = []
    res = None
    for _ in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t0)
    del res
    gc.collect()
    tracemalloc.start()
    res = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"time": min(times), "times": times, "peak_mb": peak / 2 ** 20,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            **_summary(fit_name, res)}


def run_python(fit_name, n, out, reps) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", fit_name, str(n),
           "--out", str(out), "--reps", str(reps)]
    env = dict(os.environ, PYTHONHASHSEED="0")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"}
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_r(fit_name, n, out, reps) -> dict:
    cmd = ["Rscript", str(HERE / "bench.R"), str(out / f"data_{n}.csv"), fit_name, str(reps)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": (r.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(r.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- power loop
def power_python(n_per_arm=200, reps=200) -> dict:
    code = f"""
import sys, time, json
import yaml
from rtw.ops import power
from rtw.core.config import load
cfg = load(yaml.safe_load(open({str(ROOT / 'config' / 'config.yaml')!r})))
cfg.update(covariates=[], stratification_factors=[], practice_effect="none")
cfg["outcomes"]["count"]["baseline"] = None
syn = dict(cfg["synthetic"], zero_inflation=0.0, practice_sd=0.0, condition_effects=[0, 0, 0],
           prior_absence_effect=0.0, leave_job_rate=0.0)
s = power.settings(cfg)
a = power.analysis_settings(cfg, s)
pt = {{"n_per_arm": {n_per_arm}, "true_irr": 0.8, "dispersion": 0.5, "attrition": 0.0}}
power.run_replicate(syn, pt, power.replicate_seed(1, pt, 0), a, cox=False, window_days=10**7,
                    sms_period_days=cfg["trial"]["sms_period_days"])
t0 = time.perf_counter(); rej = 0
for i in range({reps}):
    r = power.run_replicate(syn, pt, power.replicate_seed(1, pt, i), a, cox=False,
                            window_days=10**7, sms_period_days=cfg["trial"]["sms_period_days"])
    rej += r["p_value"] < 0.05
dt = time.perf_counter() - t0
print(json.dumps({{"reps_per_s": {reps} / dt, "power": rej / {reps}}}))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if r.returncode:
        return {"error": r.stderr[-300:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def power_r(n_per_arm=200, reps=200) -> dict:
    r = subprocess.run(["Rscript", str(HERE / "bench.R"), "--power", str(n_per_arm), str(reps)],
                       capture_output=True, text=True)
    if r.returncode:
        return {"error": r.stderr[-300:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- report
def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
        mem = f"{kb / 2 ** 20:.1f} GiB RAM"
    except (OSError, StopIteration):
        pass
    import numpy
    import scipy
    rv = subprocess.run(["Rscript", "-e", "cat(R.version.string, '| survival',"
                         " as.character(packageVersion('survival')), '| MASS',"
                         " as.character(packageVersion('MASS')))"],
                        capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores ({cpu}), {mem}; {platform.platform()}; "
            f"Python {platform.python_version()}, numpy {numpy.__version__}, "
            f"scipy {scipy.__version__}; {rv}")


def fmt_s(x):
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def report(results: dict, sizes, power: dict | None, extra_md: str, path: Path) -> None:
    lines = ["# Benchmarks: the project's engines against R", "",
             "Generated by `python bench/run_bench.py` (see the top of that file for what is "
             "measured and how); rerun it to refresh this file.", "",
             f"Machine: {machine()}.", "",
             "Time = best of the repeats, seconds, data already in memory. Memory = extra memory at "
             "the fit's peak over what was in use before it (Python `tracemalloc`, R `gc()` max "
             "used), MB. Ratio = project / R (< 1: the project is faster or smaller). Each fit's "
             "Python and R runs follow each other within seconds, but this 2-core machine was shared "
             "with other work, so absolute times can vary 2-3x between runs; the ratios are the "
             "figures to read. `check` shows both sides fitted the same model.", ""]
    for n in sizes:
        lines += [f"## n = {n:,}", "",
                  "| fit | project s | R s | ratio time | project MB | R MB | ratio memory | "
                  "check (project / R) |",
                  "|---|---|---|---|---|---|---|---|"]
        for f in FITS:
            p = results.get((f, n, "py"), {})
            r = results.get((f, n, "R"), {})
            pt, rt = p.get("time"), r.get("time")
            pm, rm = p.get("peak_mb"), r.get("peak_mb")
            ratio = f"{pt / rt:.2f}" if pt and rt else "—"
            mratio = f"{pm / rm:.2f}" if pm is not None and rm else "—"
            chk = ""
            if "coef_arm" in p and "coef_arm" in r:
                chk = f"arm coef {p['coef_arm']:.6f} / {r['coef_arm']:.6f}"
            elif "chisq" in p and "chisq" in r:
                chk = f"chisq {p['chisq']:.4f} / {r['chisq']:.4f}"
            err = p.get("error") or r.get("error")
            if err:
                chk = f"error: {err[:80]}"
            lines.append(f"| {LABELS[f]} | {fmt_s(pt)} | {fmt_s(rt)} | {ratio} | "
                         f"{'—' if pm is None else f'{pm:.1f}'} | "
                         f"{'—' if rm is None else f'{rm:.1f}'} | {mratio} | {chk} |")
        lines += [""]
        py_rss = max((results.get((f, n, 'py'), {}).get('maxrss_mb') or 0) for f in FITS)
        r_rss = max((results.get((f, n, 'R'), {}).get('maxrss_mb') or 0) for f in FITS)
        lines += [f"Largest process maximum RSS (data + runtime + fit): Python {py_rss:.0f} MB, "
                  f"R {r_rss:.0f} MB.", ""]
    if power:
        py, r = power.get("python", {}), power.get("R", {})
        lines += ["## Power-simulation loop", "",
                  "Replicates per second of one core: simulate a trial of 2 x 200, fit the NB "
                  "(glm.nb), Wald test of the arm IRR.",
                  "Python: `rtw.ops.power.run_replicate` (generator fast path + `rtw.models.counts.fit_nb`); "
                  "R: `MASS::rnegbin` + `MASS::glm.nb` (the same loop, without the generator's "
                  "extras).", "",
                  "| | replicates/s | power (true IRR 0.8, theta 0.5) |", "|---|---|---|",
                  f"| project | {py.get('reps_per_s', float('nan')):.1f} | {py.get('power', float('nan')):.3f} |",
                  f"| R | {r.get('reps_per_s', float('nan')):.1f} | {r.get('power', float('nan')):.3f} |",
                  ""]
    lines += [extra_md, "",
              "## How to rerun", "",
              "```bash",
              "apt-get install r-base-core r-cran-survival r-cran-mass   # R side",
              "python bench/run_bench.py --power                         # about 10 minutes on 2 cores",
              "python bench/run_bench.py --sizes 720 10000 --reps 5      # quick",
              "```", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[720, 10_000, 100_000, 1_000_000])
    ap.add_argument("--fits", nargs="+", default=FITS)
    ap.add_argument("--reps", type=int, default=0, help="repeats per fit (0: 5 below 1e5, else 2)")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    ap.add_argument("--extra", type=Path, default=HERE / "pipeline_timings.md",
                    help="Markdown appended to RESULTS.md (pipeline and scale timings)")
    ap.add_argument("--power", action="store_true")
    ap.add_argument("--update", action="store_true",
                    help="keep the other results of the last run (bench/out/results.json) and "
                         "redo only --sizes x --fits (and --power if given)")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite RESULTS.md from bench/out/results.json without running anything")
    ap.add_argument("--worker", nargs=2, metavar=("FIT", "N"))
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    if a.worker:
        res = worker(a.worker[0], int(a.worker[1]), a.out, max(a.reps, 1))
        print(json.dumps(res))
        return
    results, old_power = {}, None
    all_sizes = list(a.sizes)
    if a.report_only:
        a.update, a.sizes, a.power = True, [], False
    if a.update and (a.out / "results.json").exists():
        old = json.loads((a.out / "results.json").read_text())
        old_power = old.pop("power", None)
        for k, v in old.items():
            f, n, side = k.split("|")
            results[(f, int(n), side)] = v
        all_sizes = sorted({k[1] for k in results} | set(a.sizes))
    for n in a.sizes:
        t0 = time.time()
        make_data(n, a.out)
        print(f"data n={n}: {time.time() - t0:.1f} s", flush=True)
        reps = a.reps or (5 if n < 100_000 else 2)
        for f in a.fits:
            results[(f, n, "py")] = run_python(f, n, a.out, reps)
            results[(f, n, "R")] = run_r(f, n, a.out, reps)
            p, r = results[(f, n, "py")], results[(f, n, "R")]
            print(f"n={n:>8} {f:10s} py {p.get('time', float('nan')):8.3f}s "
                  f"{p.get('peak_mb', float('nan')):8.1f}MB | R {r.get('time', float('nan')):8.3f}s "
                  f"{r.get('peak_mb', float('nan')):8.1f}MB {p.get('error', '')} {r.get('error', '')}",
                  flush=True)
    power = old_power
    if a.power:
        power = {"python": power_python(), "R": power_r()}
        print("power loop", power, flush=True)
    (a.out / "results.json").write_text(json.dumps(
        {f"{k[0]}|{k[1]}|{k[2]}": v for k, v in results.items()} | {"power": power}, indent=1))
    extra = a.extra.read_text(encoding="utf-8") if a.extra.exists() else ""
    report(results, all_sizes, power, extra, a.results)
    print(f"wrote {a.results}")


if __name__ == "__main__":
    main()
