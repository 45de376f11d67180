"""Intervention delivery descriptives by arm (SPEC §4 A15).

VSW contacts and minutes per participant (mean, SD with n-1 denominator as R
``sd``, median as R ``median``, min, max) and the engagement proportion
(engaged = at least one VSW contact), by arm over all randomised participants
of the arm (``population = itt``), and the same among participants with at
least one contact (``population = pp``; the intervention arm only, in
practice).  Missing values are left out and counted
in the note.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from rtw.core import modelframe as mf
from rtw.core.estimates import make_rows, to_frame

log = logging.getLogger(__name__)

STATS = ("mean", "sd", "median", "min", "max")


def describe(x: pd.Series) -> dict:
    """mean, sd (ddof 1), median, min, max of the non-missing values, and n."""
    v = pd.to_numeric(x, errors="coerce").dropna().astype(float)
    if v.empty:
        return {s: np.nan for s in STATS} | {"n": 0}
    return {"mean": v.mean(), "sd": v.std(ddof=1) if len(v) > 1 else np.nan,
            "median": v.median(), "min": v.min(), "max": v.max(), "n": int(len(v))}


def delivery_table(df: pd.DataFrame, config: dict,
                   contacts: str = "n_contacts", minutes: str = "contact_minutes",
                   engaged: str = "engaged") -> pd.DataFrame:
    """Tidy delivery rows (analysis ``delivery``); absent columns are skipped with a log line."""
    control, intervention = mf.arm_labels(config)
    mf.arm_indicator(df, config)  # validates labels
    rows = []
    for arm in (control, intervention):
        d = df[df["arm"].astype(str) == arm]
        for col in (contacts, minutes):
            if col not in df.columns:
                log.info("delivery: column %s absent; skipped", col)
                continue
            s = describe(d[col])
            nmiss = int(d[col].isna().sum())
            note = f"{nmiss} missing" if nmiss else ""
            for stat in STATS:
                rows += make_rows("delivery", col, f"arm={arm};stat={stat}", s[stat],
                                  n=s["n"], note=note)
        # among participants with at least one contact (the published "per participant"
        # figures, e.g. WAVE mean 4.8, range 1 to 12): population pp
        if contacts in df.columns:
            c = pd.to_numeric(d[contacts], errors="coerce")
            dd = d[c > 0]
            if len(dd):
                for col in (contacts, minutes):
                    if col not in df.columns:
                        continue
                    s = describe(dd[col])
                    for stat in STATS:
                        rows += make_rows("delivery", col, f"arm={arm};stat={stat}", s[stat],
                                          population="pp", n=s["n"],
                                          note="participants with >= 1 VSW contact")
        if engaged in df.columns:
            e = d[engaged].map(lambda v: np.nan if pd.isna(v) else float(bool(v) and v not in ("False", "false", "0")))
            e = e.dropna()
            prop = e.mean() if len(e) else np.nan
            rows += make_rows("delivery", engaged, f"arm={arm};stat=proportion", prop,
                              n=int(len(e)), events=int(e.sum()) if len(e) else 0)
    return to_frame(rows)
