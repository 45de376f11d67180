#!/usr/bin/env python3
"""Andersen–Gill counting-process Cox with robust SE: the project's engine against R.

    nice -n 10 python bench/recurrent_bench.py                 # n = 10^6 ids (~5x10^6 intervals)
    nice -n 10 python bench/recurrent_bench.py --n 100000 1000000
    python bench/recurrent_bench.py --n 10000 --no-write       # a quick check

For each n one long table is generated once (numpy, seeded) and written to
``bench/out/recurrent_<n>.csv``: ``id, arm, start, stop, event`` on a whole-day grid over
182 days (heavy ties), about 5 at-risk intervals per id with gaps off work between them
(delayed entry).  Both sides read that CSV in their own process and fit

    coxph(Surv(start, stop, event) ~ arm, cluster = id)        # Efron ties, robust SE by id

(Python: ``rtw.survival.recurrent.andersen_gill`` = ``rtw.survival.cox.fit_cox`` with
``start`` and ``cluster``; R: survival's ``coxph``, reading with ``data.table::fread``).

Measured per side, in the same run, one after the other:

* ``fit s``: wall time of the fit alone, data already in memory (best of ``--reps``);
* ``read s``: reading the CSV (Python: pandas' pyarrow engine; R: ``fread``);
* ``peak RSS``: the process's maximum resident set size (``/usr/bin/time -v``), i.e. the
  interpreter + data + fit;
* ``fit MB``: extra memory at the fit's peak over what was in use before it (Python
  ``tracemalloc`` in one more run; R ``gc(reset = TRUE)`` then ``gc()`` "max used").

Writes ``bench/recurrent_bench.md`` (unless ``--no-write``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"

R_WORKER = r"""
suppressPackageStartupMessages({library(survival); library(data.table)})
args <- commandArgs(trailingOnly = TRUE)
reps <- as.integer(args[2])
t0 <- proc.time()[["elapsed"]]
d <- fread(args[1], data.table = FALSE)
read_s <- proc.time()[["elapsed"]] - t0
best <- Inf
for (r in seq_len(reps)) {
  gc()
  t0 <- proc.time()[["elapsed"]]
  f <- coxph(Surv(start, stop, event) ~ arm, data = d, cluster = id)
  best <- min(best, proc.time()[["elapsed"]] - t0)
  if (r < reps) rm(f)
}
rm(f); invisible(gc())
before <- sum(gc(reset = TRUE)[, 2])
f <- coxph(Surv(start, stop, event) ~ arm, data = d, cluster = id)
g <- gc()
fit_mb <- sum(g[, ncol(g)]) - before
cat(jsonlite::toJSON(list(read_s = read_s, fit_s = best, fit_mb = fit_mb,
    coef = unname(coef(f)), se = unname(sqrt(diag(f$var))),
    naive_se = unname(sqrt(diag(f$naive.var))), loglik = f$loglik[2], iter = f$iter,
    n = f$n, nevent = f$nevent), digits = NA, auto_unbox = TRUE), "\n")
"""


# --------------------------------------------------------------------------- data
def make_data(n: int, seed: int = 20240901) -> Path:
    """``n`` ids, ~5 (start, stop] intervals each on a day grid, written once as CSV."""
    import numpy as np
    import pandas as pd

    path = OUT / f"recurrent_{n}.csv"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    arm = (rng.random(n) < 0.5).astype(np.int8)
    rate = 0.035 * rng.gamma(2.0, 0.5, n) * np.exp(-0.2 * arm)
    end = np.where(rng.random(n) < 0.85, 182, rng.integers(30, 182, n))
    t = np.where(rng.random(n) < 0.05, rng.integers(0, 14, n), 0)
    active = np.arange(n)
    parts = []
    while active.size:
        ta, ea = t[active], end[active]
        gap = np.maximum(1, np.ceil(rng.exponential(1 / rate[active]))).astype(np.int64)
        stop = np.minimum(ta + gap, ea)
        ev = (ta + gap <= ea).astype(np.int8)
        parts.append(pd.DataFrame({"id": active + 1, "arm": arm[active], "start": ta,
                                   "stop": stop, "event": ev}))
        nxt = stop + rng.integers(1, 15, active.size)        # days off work, not at risk
        keep = (ev == 1) & (nxt < ea)
        t[active[keep]] = nxt[keep]
        active = active[keep]
    d = pd.concat(parts, ignore_index=True).sort_values(["id", "start"], kind="stable")
    OUT.mkdir(exist_ok=True)
    d.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- workers
def py_worker(csv: str, reps: int) -> dict:
    """Read the CSV, fit the AG model ``reps`` times (best time), then once under
    tracemalloc (fit memory); print JSON."""
    import gc
    import tracemalloc

    import numpy as np
    import pandas as pd

    from rtw.survival.recurrent import andersen_gill

    t0 = time.perf_counter()
    d = pd.read_csv(csv, engine="pyarrow")
    read_s = time.perf_counter() - t0
    cols = [d[c].to_numpy() for c in ("start", "stop", "event", "arm", "id")]
    del d
    best = np.inf
    for _ in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        fit = andersen_gill(cols[0], cols[1], cols[2], cols[3].astype(float), cols[4])
        best = min(best, time.perf_counter() - t0)
        del fit
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fit = andersen_gill(cols[0], cols[1], cols[2], cols[3].astype(float), cols[4])
    fit_mb = (tracemalloc.get_traced_memory()[1] - base) / 2 ** 20
    tracemalloc.stop()
    return {"read_s": read_s, "fit_s": best, "fit_mb": fit_mb, "coef": float(fit.coef[0]),
            "se": float(fit.se[0]), "naive_se": float(np.sqrt(fit.naive_var[0, 0])),
            "loglik": fit.loglik[1], "iter": fit.iter, "n": fit.n, "nevent": fit.nevent}


def _timed(cmd: list[str], env=None) -> tuple[dict, float, float]:
    """Run a worker under /usr/bin/time -v: its JSON, wall seconds and max RSS (MB)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env,
                       cwd=ROOT)
    wall = time.perf_counter() - t0
    if p.returncode:
        raise RuntimeError(f"{cmd[0]} failed:\n{p.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line), wall, rss


def run_size(n: int, reps: int) -> dict:
    t0 = time.perf_counter()
    csv = make_data(n)
    gen_s = time.perf_counter() - t0
    env = dict(os.environ, PYTHONHASHSEED="0")      # the installed (or PYTHONPATH) rtw
    py, py_wall, py_rss = _timed([sys.executable, __file__, "--worker", str(csv), str(reps)], env)
    rscript = OUT / "recurrent_worker.R"
    rscript.write_text(R_WORKER)
    r, r_wall, r_rss = _timed(["Rscript", str(rscript), str(csv), str(reps)])
    rows = sum(1 for _ in open(csv)) - 1
    return {"n": n, "rows": rows, "gen_s": gen_s, "py": py, "r": r, "py_wall": py_wall,
            "r_wall": r_wall, "py_rss": py_rss, "r_rss": r_rss}


# --------------------------------------------------------------------------- report
def _versions() -> str:
    import numpy
    import pandas
    rv = subprocess.run(["Rscript", "-e", 'cat(R.version.string, "| survival",'
                         ' format(packageVersion("survival")), "| data.table",'
                         ' format(packageVersion("data.table")))'],
                        capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores; {platform.platform()}; Python {platform.python_version()}, "
            f"numpy {numpy.__version__}, pandas {pandas.__version__}; {rv}")


def report(results: list[dict]) -> str:
    lines = ["# Recurrent events: Andersen–Gill Cox with robust SE, project vs R", "",
             "Generated by `nice -n 10 python bench/recurrent_bench.py` (see the top of that file "
             "for what is measured and how).", "",
             f"Machine: {_versions()}.", "",
             "Model: `coxph(Surv(start, stop, event) ~ arm, cluster = id)` (Efron ties, robust SE by "
             "id) on the same CSV; day grid over 182 days (heavy ties), gaps between intervals "
             "(delayed entry). Fit s = best of the repeats, data in memory; peak RSS = the "
             "process's maximum resident set (`/usr/bin/time -v`: interpreter + data + fit); "
             "fit MB = extra memory at the fit's peak (Python `tracemalloc`, R `gc()` max used). "
             "The 2-core machine is shared with other sessions; the ratios are the figures to read.",
             "", "| ids | intervals | events | project fit s | R fit s | ratio time | project peak RSS MB "
             "| R peak RSS MB | ratio RSS | project fit MB | R fit MB | read s (project / R) "
             "| check: coef, robust SE (project / R) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for x in results:
        p, r = x["py"], x["r"]
        lines.append(
            f"| {x['n']:,} | {x['rows']:,} | {p['nevent']:,} | {p['fit_s']:.2f} | {r['fit_s']:.2f} | "
            f"{p['fit_s'] / r['fit_s']:.2f} | {x['py_rss']:.0f} | {x['r_rss']:.0f} | "
            f"{x['py_rss'] / x['r_rss']:.2f} | {p['fit_mb']:.0f} | {r['fit_mb']:.0f} | "
            f"{p['read_s']:.1f} / {r['read_s']:.1f} | {p['coef']:.8f}, {p['se']:.8f} / "
            f"{r['coef']:.8f}, {r['se']:.8f} |")
    lines += ["", "Agreement: " + "; ".join(
        f"n = {x['n']:,}: |coef diff| {abs(x['py']['coef'] - x['r']['coef']):.1e}, robust SE rel diff "
        f"{abs(x['py']['se'] / x['r']['se'] - 1):.1e}, loglik rel diff "
        f"{abs(x['py']['loglik'] / x['r']['loglik'] - 1):.1e}, iterations {x['py']['iter']} / {x['r']['iter']}"
        for x in results) + ".", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1_000_000], help="numbers of ids")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--no-write", action="store_true", help="print, do not write the .md")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(py_worker(a.worker[0], int(a.worker[1]))))
        return
    results = []
    for n in a.n:
        res = run_size(n, a.reps)
        print(json.dumps(res), flush=True)
        results.append(res)
    md = report(results)
    print(md)
    if not a.no_write:
        (HERE / "recurrent_bench.md").write_text(md)


if __name__ == "__main__":
    main()
