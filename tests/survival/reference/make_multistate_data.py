"""Write data/multistate_work.csv: a simulated two-arm work-status data set for the
multi-state references (multistate.R, tests/survival/test_multistate.py).

States off_work -> at_work <-> off_work, left_job absorbing from either; 300 ids per arm;
integer days (many ties, transitions and censorings on the same day); 10% start at work;
15% enter late (day 7 or 14: left truncation); 25% drop out at a random day, the others are
censored at day 182; 8% have an interval split at day 91 without a transition (an interior or a
first censored interval, which R's survfitCI treats differently in n.censor).
Columns: id, arm (0/1), start, stop, to (state entered at stop or "censored"), from (state
at start, R's istate).  Run from the repository root:
``/work/main/.venv/bin/python tests/survival/reference/make_multistate_data.py``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data" / "multistate_work.csv"
# daily hazards: (off -> at, off -> left, at -> off, at -> left); arm 1 returns sooner
RATES = {0: (1 / 60, 1 / 700, 1 / 110, 1 / 900), 1: (1 / 42, 1 / 700, 1 / 130, 1 / 900)}
END = 182


def _one_id(rng, arm):
    state = "at_work" if rng.random() < 0.10 else "off_work"
    t = float(rng.choice([7, 14])) if rng.random() < 0.15 else 0.0
    stop_at = float(rng.integers(20, END)) if rng.random() < 0.25 else float(END)
    r = RATES[arm]
    rows = []
    while True:
        h = (r[0], r[1]) if state == "off_work" else (r[2], r[3])
        dt = float(np.ceil(rng.exponential(1 / sum(h))))
        if t + dt >= stop_at:
            rows.append((t, stop_at, "censored", state))
            return rows
        nxt = ("at_work" if state == "off_work" else "off_work") \
            if rng.random() < h[0] / sum(h) else "left_job"
        rows.append((t, t + dt, nxt, state))
        if nxt == "left_job":
            return rows
        t, state = t + dt, nxt


def _split(rows, day=91.0):
    out = []
    for s, e, to, fr in rows:
        if s < day < e:
            out += [(s, day, "censored", fr), (day, e, to, fr)]
        else:
            out.append((s, e, to, fr))
    return out


def simulate(seed=20240612, n_per_arm=300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    recs = []
    for i in range(2 * n_per_arm):
        arm = i % 2
        rows = _one_id(rng, arm)
        if rng.random() < 0.08:
            rows = _split(rows)
        recs += [(i + 1, arm, s, e, to, fr) for s, e, to, fr in rows]
    return pd.DataFrame(recs, columns=["id", "arm", "start", "stop", "to", "from"])


if __name__ == "__main__":
    d = simulate()
    d.to_csv(OUT, index=False, float_format="%.17g")
    print(OUT, len(d), "rows", d["id"].nunique(), "ids")
    print(d["to"].value_counts().to_dict())
