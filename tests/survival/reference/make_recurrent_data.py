"""Write the input CSVs for the recurrent-event and transition-Cox reference tests.

Run from the repository root:  /work/main/.venv/bin/python tests/survival/reference/make_recurrent_data.py
then regenerate R's outputs:   Rscript tests/survival/reference/recurrent.R
(``recurrent.R`` also writes ``data/recurrent_bladder2.csv`` from ``survival::bladder2``.)

Datasets (numpy ``default_rng``, fixed seeds):

* ``recurrent_sim.csv``  300 participants, two arms (0/1), 12 practices (a cluster), age;
  follow-up 60-182 days on a whole-day grid (tied event times).  Each participant is at
  risk of a new absence spell while at work; a spell (event) is followed by a period off
  work during which they are *not* at risk, so the next interval starts later (delayed
  entry, gaps between intervals).  0-6 events each (at most 6); gamma frailty.  Columns:
  ``id, arm, age, practice, start, stop, event, enum`` (``enum`` = spell number, 1 +
  the number of earlier events of that participant).
* ``multistate_sim.csv`` 200 participants, two arms, states ``off_work`` (initial),
  ``at_work``, ``left_job`` (absorbing); whole-day grid (ties); one row per sojourn:
  ``id, arm, start, stop, from, to`` with ``to`` the state entered at ``stop`` or
  ``censored``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"


def recurrent_sim(seed: int = 20240712, n: int = 300) -> pd.DataFrame:
    """Recurrent absence spells with gaps off work between at-risk intervals."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(1, n + 1):
        arm = int(rng.random() < 0.5)
        age = int(rng.integers(22, 64))
        practice = f"P{int(rng.integers(1, 13)):02d}"
        frail = rng.gamma(2.0, 0.5)
        rate = 0.018 * frail * np.exp(-0.35 * arm + 0.01 * (age - 42))
        end = 182 if rng.random() < 0.8 else int(rng.integers(60, 182))
        t = int(rng.integers(0, 15)) if rng.random() < 0.1 else 0      # late entry for some
        k = 0
        while t < end:
            gap = max(1, int(np.ceil(rng.exponential(1 / rate))))
            stop = min(t + gap, end)
            ev = int(t + gap <= end and k < 6)
            rows.append((i, arm, age, practice, t, stop, ev, k + 1))
            if not ev:
                break
            k += 1
            t = stop + int(rng.integers(3, 30))                            # off work: not at risk
    return pd.DataFrame(rows, columns=["id", "arm", "age", "practice", "start", "stop", "event", "enum"])


def multistate_sim(seed: int = 20240713, n: int = 200) -> pd.DataFrame:
    """Off work <-> at work with left job absorbing; censored at 182 or earlier."""
    rng = np.random.default_rng(seed)
    rows = []
    haz = {"off_work": {"at_work": 1 / 40, "left_job": 1 / 400},
           "at_work": {"off_work": 1 / 120, "left_job": 1 / 600}}
    for i in range(1, n + 1):
        arm = int(rng.random() < 0.5)
        end = 182 if rng.random() < 0.85 else int(rng.integers(30, 182))
        state, t = "off_work", 0
        while True:
            mult = {"at_work": np.exp(0.4 * arm), "off_work": np.exp(-0.3 * arm), "left_job": 1.0}
            h = {to: r * mult[to] for to, r in haz[state].items()}
            waits = {to: max(1, int(np.ceil(rng.exponential(1 / r)))) for to, r in h.items()}
            to = min(waits, key=waits.get)
            stop = t + waits[to]
            if stop > end:
                rows.append((i, arm, t, end, state, "censored"))
                break
            rows.append((i, arm, t, stop, state, to))
            if to == "left_job" or stop >= end:
                break
            state, t = to, stop
    return pd.DataFrame(rows, columns=["id", "arm", "start", "stop", "from", "to"])


def main() -> None:
    OUT.mkdir(exist_ok=True)
    recurrent_sim().to_csv(OUT / "recurrent_sim.csv", index=False)
    multistate_sim().to_csv(OUT / "multistate_sim.csv", index=False)


if __name__ == "__main__":
    main()
