#!/usr/bin/env python3
"""Replicates per second of the power simulation: batched vs single (Python) vs R, one run.

    nice -n 10 python bench/power_rate.py                 # about 5 minutes; writes bench/power_rate.md
    nice -n 10 python bench/power_rate.py --quick         # about 1 minute (fewer replicates)

Loops (2 x 200 participants, true IRR 0.8, NB theta 0.5, two-sided Wald test at 5%):

* ``plain`` -- the loop of ``bench/run_bench.py --power``: arm-only ``glm.nb``.  R:
  ``MASS::rnegbin`` + ``glm.nb`` (``bench/power_rate.R plain``).  Python: the power
  simulation's generator with zero inflation, practices, prognostic effects and leaving
  employment switched off and days not capped (as rnegbin), practice effect none.
* ``cox`` -- the same plus a Cox model of time to first return on arm (Efron).  R: + ``coxph``
  on exponential times rounded up to fortnights (``power_rate.R cox``); Python
  ``simulation.cox: true``.
* ``sap`` -- the default config's replicate model (WAVE's SAP: condition group and baseline
  days off, cluster-robust SE over 30 practices, days capped at 182, 5% missing, the whole
  generator).  R: the same model on rnegbin data with ``sandwich::vcovCL``
  (``power_rate.R sap``).

Python methods, each in its own process (``--worker``), one core (BLAS threads 1):
``single`` = :func:`rtw.ops.power.run_replicate` per replicate (the path before the batch);
``batched`` = :func:`rtw.ops.power.run_batch` (what the pipeline runs; the generator's NB
quantile is :func:`rtw.data.quantiles.nbinom_ppf`, scipy's values from one CDF table per
distinct mean).

Each method runs ``--rounds`` times, rounds interleaved (R, then each Python method), and
the best rate is reported (the machine is shared: the load average is recorded).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
N_PER_ARM = 200
METHODS = ("single", "batched")


# --------------------------------------------------------------------------- Python worker
def _config(loop: str):
    import yaml

    from rtw.core.config import load
    from rtw.ops import power
    cfg = load(yaml.safe_load(open(ROOT / "config" / "config.yaml", encoding="utf-8")))
    syn = dict(cfg["synthetic"])
    window = int(cfg["trial"]["followup_days"])
    attrition = 0.05
    if loop in ("plain", "cox"):
        cfg.update(covariates=[], stratification_factors=[], practice_effect="none")
        cfg["outcomes"]["count"]["baseline"] = None
        syn.update(zero_inflation=0.0, practice_sd=0.0, condition_effects=[0.0, 0.0, 0.0],
                   prior_absence_effect=0.0, leave_job_rate=0.0)
        window, attrition = 10 ** 7, 0.0
    cfg["trial"]["followup_days"] = window
    sim = power.settings(cfg)
    sim["cox"] = loop == "cox"
    pt = {"n_per_arm": N_PER_ARM, "true_irr": 0.8, "dispersion": 0.5, "attrition": attrition}
    return cfg, syn, sim, pt


def worker(loop: str, method: str, reps: int) -> dict:
    """Replicates per second of one loop and method (in this process)."""
    import warnings

    import numpy as np

    from rtw.ops import power
    warnings.simplefilter("ignore")
    cfg, syn, sim, pt = _config(loop)
    a = power.analysis_settings(cfg, sim)
    block = power.replicate_block(syn, sim)
    window, period = cfg["trial"]["followup_days"], cfg["trial"]["sms_period_days"]

    def run(start, stop):
        if method == "single":
            rows = [power.run_replicate(block, pt, power.replicate_seed(sim["seed"], pt, i), a,
                                        sim["cox"], window, period) for i in range(start, stop)]
            return {k: np.array([r[k] for r in rows]) for k in rows[0]}
        df = power.run_batch(sim, syn, cfg, pt, start, stop)
        return {k: df[k].to_numpy() for k in df.columns}
    run(0, 20)                                                   # warm-up
    t0 = time.perf_counter()
    res = run(100, 100 + reps)
    dt = time.perf_counter() - t0
    out = {"reps_per_s": reps / dt, "power": float(np.mean(res["p_value"] < 0.05)),
           "reps": reps}
    if sim["cox"]:
        out["cox_power"] = float(np.mean(res["cox_p_value"] < 0.05))
    return out


# --------------------------------------------------------------------------- driver
def _python(loop, method, reps) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    r = subprocess.run([sys.executable, __file__, "--worker", loop, method, str(reps)],
                       capture_output=True, text=True, env=env)
    if r.returncode:
        return {"error": r.stderr.strip().splitlines()[-1:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def _r(loop, reps) -> dict:
    r = subprocess.run(["Rscript", str(HERE / "power_rate.R"), loop, str(N_PER_ARM), str(reps)],
                       capture_output=True, text=True)
    if r.returncode:
        return {"error": r.stderr.strip().splitlines()[-1:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def measure(rounds: int, reps: dict) -> dict:
    """``{loop: {method: [result per round]}}``, rounds interleaved."""
    res: dict = {}
    for rnd in range(rounds):
        for loop in ("plain", "cox", "sap"):
            got = res.setdefault(loop, {})
            got.setdefault("R", []).append(_r(loop, reps["R"]))
            for m in METHODS:
                got.setdefault(m, []).append(_python(loop, m, reps[m]))
            print(f"round {rnd + 1} {loop}:",
                  {m: round(v[-1].get("reps_per_s", float("nan")), 1) for m, v in got.items()},
                  flush=True)
    return res


def _best(runs: list) -> dict:
    ok = [r for r in runs if "reps_per_s" in r]
    return max(ok, key=lambda r: r["reps_per_s"]) if ok else {"reps_per_s": float("nan")}


def _machine() -> str:
    import numpy
    import scipy
    rv = subprocess.run(["Rscript", "-e", "cat(R.version.string, '| MASS',"
                         " as.character(packageVersion('MASS')), '| survival',"
                         " as.character(packageVersion('survival')))"],
                        capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores; {platform.platform()}; Python {platform.python_version()}, "
            f"numpy {numpy.__version__}, scipy {scipy.__version__}; {rv}")


LOOPS = {"plain": "arm-only glm.nb (the like-for-like loop of R's rnegbin + glm.nb)",
         "cox": "arm-only glm.nb + Cox model on arm (Efron)",
         "sap": "the SAP's primary model: glm.nb(y ~ arm + condition group + baseline days "
                "off), vcovCL over 30 practices"}


def _reading(res: dict) -> list[str]:
    """Goal (>= 5 x R) per loop, and where the plain loop's time goes."""
    def rate(loop, m):
        return _best(res[loop][m])["reps_per_s"]
    out = ["## Reading", "", "Goal: the power simulation at >= 5 x R's replicates per second.", ""]
    for loop in LOOPS:
        b, r = rate(loop, "batched"), rate(loop, "R")
        out.append(f"* {loop}: batched (what the pipeline runs) {b / r:.1f} x R "
                   f"({'met' if b >= 5 * r else 'not met'}).")
    out += ["", "The generator's NB quantile is `rtw.data.quantiles.nbinom_ppf` (scipy's values "
            "from one CDF table per distinct mean; tests/data/test_quantiles.py compares 300,000 "
            "values with scipy on each run, and the default pipeline's outputs are byte-identical "
            "with it).  It speeds up the plain and cox loops (arm-only means: two tables); the "
            "sap loop, where every participant has their own mean, uses scipy throughout.", ""]
    return out


def report(res: dict, load: tuple, seconds: float, path: Path, cmd: str) -> None:
    lines = ["# Power simulation: replicates per second, batched vs single vs R", "",
             f"Generated by `{cmd}` ({seconds:.0f} s; see the top of `bench/power_rate.py` for "
             "what each loop and method is).", "",
             f"Machine: {_machine()}.  Load average (1 min) {load[0]:.2f} before, "
             f"{load[1]:.2f} after (the machine is shared; best of the interleaved rounds).", "",
             "2 x 200 participants, true IRR 0.8, NB theta 0.5; one core per process.  "
             "Ratio = replicates/s over R's in the same run.", ""]
    for loop, title in LOOPS.items():
        got = res[loop]
        r_rate = _best(got["R"])["reps_per_s"]
        lines += [f"## {loop}: {title}", "",
                  "| method | replicates/s | x R | power (NB) | power (Cox) | replicates timed |",
                  "|---|---|---|---|---|---|"]
        for m in ("R",) + METHODS:
            b = _best(got[m])
            cox = b.get("cox_power")
            lines.append(f"| {m} | {b['reps_per_s']:.0f} | {b['reps_per_s'] / r_rate:.2f} | "
                         f"{b.get('power', float('nan')):.3f} | "
                         f"{'' if cox is None else f'{cox:.3f}'} | {b.get('reps', '')} |")
        lines.append("")
    lines += _reading(res)
    lines += ["Power values are a sanity check only: R's data are rnegbin draws (and R's Cox "
              "times exponential), the project's the generator's (copula, SMS-rounded first "
              "return); the batched rows equal the single rows replicate by replicate "
              "(tests/ops/test_power_batched.py).", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", nargs=3, metavar=("LOOP", "METHOD", "REPS"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "power_rate.md")
    ap.add_argument("--render", action="store_true",
                    help="rewrite the .md from bench/out/power_rate.json (no measuring)")
    a = ap.parse_args(argv)
    if a.worker:
        loop, method, reps = a.worker
        print(json.dumps(worker(loop, method, int(reps))))
        return
    if a.render:
        saved = json.loads((HERE / "out" / "power_rate.json").read_text(encoding="utf-8"))
        report(saved["results"], tuple(saved["load"]), saved["seconds"], a.out, saved["cmd"])
        return
    scale = 0.25 if a.quick else 1.0
    reps = {k: max(20, int(v * scale)) for k, v in
            {"R": 400, "single": 400, "batched": 4000}.items()}
    t0 = time.time()
    load0 = os.getloadavg()[0]
    res = measure(1 if a.quick else a.rounds, reps)
    cmd = "nice -n 10 python bench/power_rate.py" + (" --quick" if a.quick else "")
    saved = {"results": res, "load": [load0, os.getloadavg()[0]], "seconds": time.time() - t0,
             "cmd": cmd}
    report(res, tuple(saved["load"]), saved["seconds"], a.out, cmd)
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "power_rate.json").write_text(json.dumps(saved, indent=1), encoding="utf-8")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
