"""Figures at scale (issue 13, item 4): the survival runner's tables for n generated participants,
then the Kaplan-Meier, cumulative incidence (KM when no competing event), Schoenfeld and count
histogram figures drawn and saved (PNG + PDF) from the CSV round trip the jobs make.
Usage: PYTHONPATH=scripts MPLBACKEND=Agg python bench/figures_scale.py N  (results: figures_scale.md)"""
import sys, time, tempfile
from pathlib import Path
import numpy as np, pandas as pd
import matplotlib; matplotlib.use("Agg")
from rtw.core.config import load
from rtw.survival.runner import run_time_to_event
from rtw.report import figures, style

n = int(sys.argv[1])
rng = np.random.default_rng(3)
arm = np.where(rng.random(n) < 0.5, "usual_care", "vocational_advice")
grp = rng.choice(["a", "b", "c"], n)
base = rng.poisson(20, n).astype(float)
rate = 0.02 * np.exp(0.15 * (arm == "vocational_advice") + 0.2 * (grp == "b") - 0.01 * (base - 20))
t = np.minimum(np.ceil(rng.exponential(1 / rate) / 14) * 14, 182)
ev = (t < 182).astype(int)
df = pd.DataFrame({"arm": arm, "grp": grp, "base": base, "time": t, "ev": ev,
                   "days": np.minimum(rng.negative_binomial(0.5, 0.5 / 40.5, n), 182).astype(float)})
cfg = load({"trial": {"arms": {"control": "usual_care", "intervention": "vocational_advice"}},
            "covariates": ["grp", "base"],
            "outcomes": {"time_to_event": [{"name": "rtw", "time": "time", "event": "ev", "tau": 182}],
                         "count": {"name": "days_off", "value": "days"}}}, source="bench")
o = cfg["outcomes"]["time_to_event"][0]
t0 = time.perf_counter()
out = run_time_to_event(df, cfg, o)
t_surv = time.perf_counter() - t0
tmp = Path(tempfile.mkdtemp())
times = {}
def timed(name, f):
    t0 = time.perf_counter()
    fig, _ = f()
    style.save_figure(fig, tmp / name)
    times[name] = time.perf_counter() - t0
# the CSV round trip the jobs make
for k in ("km_curves", "km_at_risk", "cif_curves", "zph_residuals", "zph_smooth"):
    out[k].to_csv(tmp / f"{k}.csv", index=False)
t0 = time.perf_counter()
r = {k: pd.read_csv(tmp / f"{k}.csv", dtype={"arm": str, "term": str, "model": str})
     for k in ("km_curves", "km_at_risk", "cif_curves", "zph_residuals", "zph_smooth")}
t_read = time.perf_counter() - t0
est = out["estimates"]
timed("km", lambda: figures.km_plot(r["km_curves"], r["km_at_risk"], cfg, "rtw", estimates=est))
timed("cif", lambda: figures.cif_plot(r["cif_curves"], cfg, "rtw", at_risk=r["km_at_risk"]) if len(r["cif_curves"]) else figures.km_plot(r["km_curves"], r["km_at_risk"], cfg, "rtw"))
timed("schoenfeld", lambda: figures.schoenfeld_plot(r["zph_residuals"], est, cfg, "rtw", model="cox_adjusted", zph_smooth=r["zph_smooth"]))
timed("histogram", lambda: figures.days_off_distribution(df, cfg))
print(f"n={n} survival runner {t_surv:.1f}s; read tables {t_read:.2f}s; rows zph_residuals {len(r['zph_residuals'])}; "
      + "; ".join(f"{k} {v:.2f}s" for k, v in times.items()))
