#!/usr/bin/env python3
"""Count models at registry scale: ZINB, hurdle NB and NB with fixed practice effects, Python vs R.

    PYTHONPATH=scripts nice -n 10 python bench/count_models_scale.py   # n = 1e4, 1e5, 1e6; writes bench/count_models_scale.md
    python bench/count_models_scale.py --sizes 10000           # a quick run

For each n one table is generated (two arms, 100 practices and a 1,000-practice
variant, age, sex, baseline days absent, days absent with 10% excess zeros,
capped at 182) and written to ``bench/out/counts_<n>.csv``; both sides read that
CSV.  Every fit runs in its own process -- Python (this script with
``--worker``) and R (``Rscript bench/count_models_scale.R``) -- so that the peak
RSS (``VmHWM`` of the process) is the fit's own (data + runtime + fit).  ``seconds`` is the
fit alone (the CSV is read before the clock starts); one run each.

Fits (the same model on both sides; x = arm + age + sex + days_off_before):

* ``zinb_1`` / ``hurdle_1``: ``pscl::zeroinfl`` / ``hurdle(days_off ~ x | 1, dist = "negbin")``
  = ``rtw.models.counts.fit_zinb`` / ``fit_hurdle_nb`` (the pipeline's default zero part);
* ``zinb_x`` / ``hurdle_x``: the same with ``| x`` (``regression.zero_part: same``);
* ``nb_fixed_<G>``: ``MASS::glm.nb(days_off ~ x + factor(practice))`` with G = 10, 100, 1000
  practices = ``counts.fit_nb``: with G = 10 and 100 on the dense design with the practice
  dummies, as the pipeline builds it (the dummies are found and solved by the block
  structure from 20 columns on); ``(codes)``: the practice codes given as ``fixed=``
  (no n x G dummies); ``(dense solve)``: the old dense X'WX (``min_block`` above k);
  ``(pipeline)``: ``rtw.models.runner``'s ``nb_fixed_practice`` from the table to its
  estimate rows (the design keeps 20+ practice dummies as a factor, ``Design.fixed``).

Convergence: Python -- the fit's flag (Newton decrement < 1e-12 for pscl-type fits, glm.nb's
alternation for NB) and max |gradient| of the log-likelihood at the estimates; R -- pscl's
``converged`` (optim code 0) or glm.nb's ``converged`` without a theta.ml warning, and for
the pscl fits max |gradient| of the same log-likelihood at R's estimates (evaluated by
rtw's analytic gradient).  R fits that would need more than ``--r-timeout`` seconds are
stopped and reported as such (and not retried at a larger n).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

X_COLS = ["arm", "age", "sex", "days_off_before"]
PY_FITS = ["zinb_1", "hurdle_1", "zinb_x", "hurdle_x", "nb_fixed_10", "nb_fixed_100",
           "nb_fixed_100_codes", "nb_fixed_1000_codes", "nb_fixed_10_runner",
           "nb_fixed_100_runner", "nb_fixed_1000_runner", "nb_fixed_100_dense_solve"]
R_FITS = ["zinb_1", "hurdle_1", "zinb_x", "hurdle_x", "nb_fixed_10", "nb_fixed_100",
          "nb_fixed_1000"]
#: R's glm.nb with a 1,000-level factor: 65 s at n = 10^4 and not finished after 600 s at
#: n = 10^5 (QR of the n x 1,005 model matrix at every IRLS step; 10^6 would need an 8 GB
#: model matrix), so it is run only up to this n.
R_MAX_N_1000 = 10_000
LABEL = {
    "zinb_1": "ZINB, `y ~ x \\| 1`", "hurdle_1": "hurdle NB, `y ~ x \\| 1`",
    "zinb_x": "ZINB, `y ~ x \\| x`", "hurdle_x": "hurdle NB, `y ~ x \\| x`",
    "nb_fixed_10": "NB + 10 practices (fixed)", "nb_fixed_100": "NB + 100 practices (fixed)",
    "nb_fixed_1000": "NB + 1,000 practices (fixed)",
}


def make_table(n: int, seed: int = 13) -> pd.DataFrame:
    """The generated registry table (deterministic in ``seed``)."""
    rng = np.random.default_rng(seed)
    arm = np.arange(n) % 2
    p100 = rng.integers(1, 101, n)
    age = np.round(rng.normal(44, 11, n))
    sex = rng.integers(0, 2, n)
    bl = np.round(rng.gamma(2.0, 25.0, n)).clip(15, 180)
    u = rng.normal(0, 0.25, 101)
    mu = np.exp(np.log(38) + np.log(0.85) * arm + 0.006 * (bl - 50) + 0.005 * (age - 44) + u[p100])
    y = np.minimum(rng.poisson(rng.gamma(0.8, mu / 0.8)), 182)
    y[rng.random(n) < 0.10] = 0
    return pd.DataFrame({
        "arm": arm, "practice": [f"P{p:03d}" for p in p100],
        "practice10": [f"T{p:02d}" for p in (p100 - 1) // 10 + 1],
        "practice1000": [f"Q{p:04d}" for p in rng.integers(1, 1001, n)],
        "age": age, "sex": sex, "days_off_before": bl, "days_off": y})


# --------------------------------------------------------------------------- #
# worker: one Python fit
# --------------------------------------------------------------------------- #
def _design(d):
    X = d[X_COLS].astype(float)
    X.insert(0, "(Intercept)", 1.0)
    return X, d["days_off"].astype(float)


def _dummies(s: pd.Series, name: str) -> pd.DataFrame:
    D = pd.get_dummies(s, dtype=float).iloc[:, 1:]
    D.columns = [f"{name}[{c}]" for c in D.columns]
    return D


def _runner_config(col: str) -> tuple[dict, dict]:
    """A config for rtw.models.runner on the generated table (arms 0/1, covariates
    x, practice column ``col``) and its count outcome."""
    import yaml
    from rtw.core.config import load
    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as fh:
        cfg = load(yaml.safe_load(fh))
    cfg["trial"]["arms"] = {**cfg["trial"]["arms"], "control": "0", "intervention": "1"}
    cfg.update(stratification_factors=[], covariates=["age", "sex"], cluster=col,
               practice_effect="none")
    spec = {**cfg["outcomes"]["count"], "name": "days_off", "value": "days_off",
            "baseline": "days_off_before", "exposure_days": 182}
    return cfg, spec


def _fit_nb(fit, d, X, y):
    from rtw.models import counts
    G = fit.split("_")[2]
    col = {"10": "practice10", "100": "practice", "1000": "practice1000"}[G]
    if fit.endswith("_runner"):
        from rtw.models import runner
        cfg, spec = _runner_config(col)
        t0 = time.perf_counter()
        rows, (f, _), D = runner._nb_model(d, cfg, spec, analysis="nb_fixed_practice",
                                           force_fixed=True)
        secs = time.perf_counter() - t0
        return secs, {"converged": f.converged, "theta": f.theta, "arm": float(f.params["arm"]),
                      "se_arm": float(np.sqrt(f.cov.loc["arm", "arm"])), "rows": len(rows),
                      "block": f.blocks is not None, "codes": D.fixed is not None,
                      "iterations": f.iterations, "notes": f.notes}
    if fit.endswith("_codes"):
        t0 = time.perf_counter()
        f = counts.fit_nb(X, y, fixed=d[col], fixed_name="practice")
    else:
        XD = pd.concat([X, _dummies(d[col], "practice")], axis=1)  # as the pipeline builds it
        kw = {"min_block": 10 ** 9} if fit.endswith("_dense_solve") else {}
        t0 = time.perf_counter()
        f = counts.fit_nb(XD, y, **kw)
    secs = time.perf_counter() - t0
    return secs, {"converged": f.converged, "theta": f.theta, "arm": float(f.params["arm"]),
                  "se_arm": float(np.sqrt(f.cov.loc["arm", "arm"])),
                  "block": f.blocks is not None, "iterations": f.iterations, "notes": f.notes}


def worker(fit: str, csv: str) -> None:
    """One Python fit; prints a JSON line."""
    from rtw.models import counts
    d = pd.read_csv(csv)
    X, y = _design(d)
    if fit.startswith("nb_fixed"):
        secs, out = _fit_nb(fit, d, X, y)
    else:
        fn = counts.fit_zinb if fit.startswith("zinb") else counts.fit_hurdle_nb
        t0 = time.perf_counter()
        f = fn(X, y, Z=X if fit.endswith("_x") else None)
        secs = time.perf_counter() - t0
        out = {"converged": f.converged, "theta": f.theta, "arm": float(f.params["arm"]),
               "se_arm": float(np.sqrt(f.cov.loc["arm", "arm"])),
               "max_abs_gradient": f.max_abs_gradient, "iterations": f.iterations,
               "notes": f.notes}
    print(json.dumps({"seconds": secs, **out, "hwm_mb": vm_hwm_mb()}))


def vm_hwm_mb() -> float:
    """This process's peak resident memory (``VmHWM`` of /proc/self/status), MB.  Unlike
    ``ru_maxrss`` it starts afresh at exec, so it does not include the parent's memory
    from before the fork."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --------------------------------------------------------------------------- #
# driver
# --------------------------------------------------------------------------- #
def run(cmd, timeout):
    """Run ``cmd``; (JSON output or None, wall seconds, peak RSS MB, status).  Peak RSS is the
    child's own ``VmHWM`` (reported in its JSON); ``ru_maxrss`` of ``os.wait4`` only when
    the child did not report it (it would include this process's size at the fork)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT / "scripts")})
        stopped = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                p.kill()
                _, status, ru = os.wait4(p.pid, 0)
                stopped = True
                break
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    rss = ru.ru_maxrss / 1024
    if stopped:
        return None, wall, rss, f"stopped after {timeout:.0f} s"
    lines = [ln for ln in out.splitlines() if ln.strip().startswith("{")]
    if p.returncode != 0 or not lines:
        tail = err.strip().splitlines()[-1] if err.strip() else ""
        return None, wall, rss, f"failed {tail}"
    res = json.loads(lines[-1])
    return res, wall, res.get("hwm_mb", rss), "ok"


def r_gradient(fit: str, d: pd.DataFrame, coef) -> float:
    """max |gradient| of the pscl-type log-likelihood at R's estimates (rtw's analytic gradient)."""
    from rtw.models import counts
    X, y = _design(d)
    Xa, ya = X.to_numpy(), y.to_numpy()
    Z = Xa if fit.endswith("_x") else np.ones((len(ya), 1))
    par = np.asarray(coef, float)
    kx, kz = Xa.shape[1], Z.shape[1]
    if fit.startswith("zinb"):
        return float(np.max(np.abs(counts._zinb_eval(par, counts._YTable(ya), Xa, Z)[1])))
    pos = ya > 0
    gc = counts._trunc_nb_eval(np.r_[par[:kx], par[-1]], counts._YTable(ya[pos]), Xa[pos])[1]
    gz = counts._logit_eval(par[kx:kx + kz], Z, pos.astype(float))[1]
    return float(max(np.max(np.abs(gc)), np.max(np.abs(gz))))


def bench_size(n: int, r_timeout: float, skip_r: set, py_fits, r_fits) -> list[dict]:
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    csv = out_dir / f"counts_{n}.csv"
    d = make_table(n)
    d.to_csv(csv, index=False)
    rows = []
    load = f"{os.getloadavg()[0]:.1f}"
    for fit in py_fits:
        if fit == "nb_fixed_100_dense_solve" and n > 100_000:
            continue                     # the old dense solve: minutes at 10^6 (n k^2 per step)
        res, wall, rss, status = run([sys.executable, __file__, "--worker", fit, "--csv", str(csv)],
                                     timeout=1800)
        rows.append({"n": n, "side": "Python", "fit": fit, "res": res, "wall": wall, "rss": rss,
                     "status": status, "load": load})
        print(f"n={n} Python {fit}: {status} {res and round(res['seconds'], 2)} s", flush=True)
    for fit in r_fits:
        if fit == "nb_fixed_1000" and n > R_MAX_N_1000:
            rows.append({"n": n, "side": "R", "fit": fit, "res": None, "wall": np.nan,
                         "rss": np.nan, "status": f"not run: n > {R_MAX_N_1000:,} (see above)"})
            continue
        if fit in skip_r:
            rows.append({"n": n, "side": "R", "fit": fit, "res": None, "wall": np.nan,
                         "rss": np.nan, "status": "not run (stopped at a smaller n)"})
            continue
        res, wall, rss, status = run(["Rscript", str(HERE / "count_models_scale.R"), fit, str(csv)],
                                     timeout=r_timeout)
        if res is None:
            skip_r.add(fit)
        elif not fit.startswith("nb_fixed"):
            res["max_abs_gradient"] = r_gradient(fit, d, res["coef"])
        rows.append({"n": n, "side": "R", "fit": fit, "res": res, "wall": wall, "rss": rss,
                     "status": status})
        print(f"n={n} R {fit}: {status} {res and round(res['seconds'], 2)} s", flush=True)
    return rows


def _fmt(x, spec=".2f"):
    return "" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, spec)


def _py_row(r, rfit):
    res = r["res"] or {}
    fit = r["fit"]
    how = (" (codes)" if fit.endswith("_codes") else " (dense solve, before)"
           if fit.endswith("_dense_solve") else " (pipeline: runner, design to rows)"
           if fit.endswith("_runner") else "")
    label = LABEL[rfit] + how
    conv = ("" if not res else ("yes" if res["converged"] else "NO")
            + (f", max abs gradient {res['max_abs_gradient']:.1e}" if "max_abs_gradient" in res else "")
            + (", block solve" if res.get("block") else "")
            + (", practice as codes" if res.get("codes") else ""))
    return label, res, conv


def write_md(rows, sizes, r_timeout, path):
    lines = ["# Count models at registry scale: Python (rtw) vs R", "",
             f"Generated by `PYTHONPATH=scripts nice -n 10 python bench/count_models_scale.py --sizes "
             f"{' '.join(str(s) for s in sizes)}` (see the top of that file for what is "
             "measured); rerun it to refresh this file.", "",
             f"Machine: {os.cpu_count()} cores, shared with other work; {platform.platform()}; "
             f"Python {platform.python_version()}, numpy {np.__version__}; "
             f"{subprocess.run(['Rscript', '-e', 'cat(R.version.string)'], capture_output=True, text=True).stdout}, "
             f"pscl {_rpkg('pscl')}, MASS {_rpkg('MASS')}.", "",
             "Each fit in its own process, one run.  `s` = the fit alone (data loaded), `RSS` = the "
             "process's peak resident memory (data + runtime + fit), MB.  Convergence: Python's "
             "flag and max |gradient| of the log-likelihood at the estimates; R's `converged` and, "
             "for pscl fits, max |gradient| of the same log-likelihood at R's estimates "
             "(evaluated by rtw's analytic gradient).  Iterations: Python -- Newton steps "
             "(pscl-type fits; the hurdle's count part) or IRLS steps summed over the theta "
             "alternations (NB); R -- optim's log-likelihood evaluations (pscl, BFGS; glm.nb "
             "does not return its count).  `(pipeline: runner, design to rows)`: "
             "`rtw.models.runner`'s nb_fixed_practice from the table to its estimate rows "
             "(design, fit, one row per term, 1,000+ rows with 1,000 practices).  R fits stopped after "
             f"{r_timeout:.0f} s are marked so and not retried at a larger n.  R's glm.nb with "
             f"1,000 practices is run only at n <= {R_MAX_N_1000:,}: it took 65 s at 10^4 and had "
             "not finished after 600 s at 10^5 in a trial run (a QR of the n x 1,005 model matrix "
             "at every IRLS step; at 10^6 the model matrix alone is 8 GB).", ""]
    for n in sizes:
        if not any(r["n"] == n for r in rows):
            continue
        load = next((r.get("load") for r in rows if r["n"] == n and r.get("load")), None)
        lines += [f"## n = {n:,}", ""] + ([f"Load average (1 min) when this n started: {load}.", ""]
                                           if load else []) + [
                  "| fit | Python s | R s | ratio | Python RSS MB | R RSS MB | Python converged | "
                  "R converged | iterations Python / R | arm coef Python / R |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        rr = {r["fit"]: r for r in rows if r["n"] == n and r["side"] == "R"}
        for r in (r for r in rows if r["n"] == n and r["side"] == "Python"):
            rfit = r["fit"].replace("_codes", "").replace("_dense_solve", "").replace("_runner", "")
            label, res, conv = _py_row(r, rfit)
            R = rr.get(rfit, {})
            rres = R.get("res") or {}
            rconv = ("" if not rres else ("yes" if rres["converged"] else "NO")
                     + (f", max abs gradient {rres['max_abs_gradient']:.1e}"
                        if "max_abs_gradient" in rres else ""))
            if R and not rres:
                rconv = R["status"]
            ps, rs = res.get("seconds"), rres.get("seconds")
            ratio = ps / rs if ps and rs else None
            lines.append(f"| {label} | {_fmt(ps)} | {_fmt(rs)} | {_fmt(ratio, '.3f')} | "
                         f"{_fmt(r['rss'], '.0f')} | {_fmt(R.get('rss'), '.0f')} | {conv or r['status']} | "
                         f"{rconv} | {_it(res)} / {_it(rres)} | "
                         f"{_fmt(res.get('arm'), '.6f')} / {_fmt(rres.get('arm'), '.6f')} |")
        lines += ["", _summary(rows, n), ""]
    path.write_text("\n".join(lines) + "\n")


def _it(res) -> str:
    v = (res or {}).get("iterations")
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else str(int(v))


def _summary(rows, n) -> str:
    """One sentence per n: total fit time of the fits both sides ran, and convergence."""
    py = {r["fit"]: r for r in rows if r["n"] == n and r["side"] == "Python" and r["res"]}
    rr = {r["fit"]: r for r in rows if r["n"] == n and r["side"] == "R" and r["res"]}
    pyname = {f: f if f in py else f + "_codes" for f in rr}     # 1,000 practices: codes only
    both = [f for f in rr if pyname[f] in py]
    tp = sum(py[pyname[f]]["res"]["seconds"] for f in both)
    tr = sum(rr[f]["res"]["seconds"] for f in both)
    conv = all(r["res"]["converged"] for r in py.values())
    worst = max((r["res"].get("max_abs_gradient", 0.0) for r in py.values()), default=np.nan)
    return (f"The {len(both)} fits run on both sides: Python {tp:.1f} s, R {tr:.1f} s "
            f"(ratio {tp / tr if tr else float('nan'):.3f}).  Every Python fit converged: {'yes' if conv else 'NO'} "
            f"(largest max |gradient| of a pscl-type fit {worst:.1e}).")


def _rpkg(p):
    return subprocess.run(["Rscript", "-e", f"cat(format(packageVersion('{p}')))"],
                          capture_output=True, text=True).stdout


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--r-timeout", type=float, default=400)
    ap.add_argument("--out", default=str(HERE / "count_models_scale.md"))
    ap.add_argument("--worker")
    ap.add_argument("--csv")
    ap.add_argument("--merge", action="store_true",
                    help="keep the rows of other sizes from bench/out/count_models_scale.json")
    ap.add_argument("--from-json", action="store_true",
                    help="rewrite the .md from bench/out/count_models_scale.json (no fits)")
    a = ap.parse_args(argv)
    if a.worker:
        return worker(a.worker, a.csv)
    if a.from_json:
        rows = json.loads((HERE / "out" / "count_models_scale.json").read_text())
        return write_md(rows, sorted({r["n"] for r in rows}), a.r_timeout, Path(a.out))
    rows, skip = [], set()
    js = HERE / "out" / "count_models_scale.json"
    if a.merge and js.exists():
        rows = [r for r in json.loads(js.read_text()) if r["n"] not in a.sizes]
        a.sizes = sorted(set(a.sizes) | {r["n"] for r in rows})
    for n in sorted(set(a.sizes) - {r["n"] for r in rows}):
        rows += bench_size(n, a.r_timeout, skip, PY_FITS, R_FITS)
        (HERE / "out").mkdir(exist_ok=True)
        (HERE / "out" / "count_models_scale.json").write_text(
            json.dumps(rows, default=lambda o: None if isinstance(o, float) and not np.isfinite(o) else str(o), indent=1))
        write_md(rows, a.sizes, a.r_timeout, Path(a.out))


if __name__ == "__main__":
    main()
