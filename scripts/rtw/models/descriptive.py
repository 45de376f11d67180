"""Descriptive summaries by arm for the tidy estimates table (analysis ``descriptive``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rtw.core.config import normalise
from rtw.core.estimates import make_rows, to_frame


def _stats(x: pd.Series) -> dict:
    x = pd.to_numeric(x, errors="coerce").dropna()
    if len(x) == 0:
        return {"n": 0, "mean": np.nan, "sd": np.nan, "median": np.nan,
                "q1": np.nan, "q3": np.nan, "min": np.nan, "max": np.nan}
    # quantiles as R's default type 7 (numpy 'linear')
    return {"n": int(len(x)), "mean": float(x.mean()), "sd": float(x.std(ddof=1)) if len(x) > 1 else np.nan,
            "median": float(np.quantile(x, 0.5)), "q1": float(np.quantile(x, 0.25)),
            "q3": float(np.quantile(x, 0.75)), "min": float(x.min()), "max": float(x.max())}


def describe_outcomes(df: pd.DataFrame, config: dict, population: str = "itt") -> pd.DataFrame:
    """n, mean, SD, median, quartiles, min and max of each configured outcome by arm.

    Rows: ``analysis='descriptive'``, ``term='arm=<label>;stat=<mean|sd|median|...>'``
    with ``n`` = participants with the outcome.  SD with denominator n - 1, and
    quartiles as R's ``quantile(type = 7)``.  Binary outcomes give the number and
    proportion of 1s (``stat=events``, ``stat=proportion``); time-to-event outcomes
    give the number of events and of competing events.
    """
    cfg = normalise(config)
    arms = [cfg["trial"]["arms"]["control"], cfg["trial"]["arms"]["intervention"]]
    oc = cfg["outcomes"]
    rows = []
    cont = []
    if oc["count"]:
        cont.append((oc["count"]["name"], oc["count"]["value"]))
    cont += [(o["name"], o["value"]) for o in oc["continuous"]]
    for name, col in cont:
        for arm in arms + ["overall"]:
            x = df[col] if arm == "overall" else df.loc[df["arm"] == arm, col]
            st = _stats(x)
            for k in ("mean", "sd", "median", "q1", "q3", "min", "max"):
                rows += make_rows("descriptive", name, f"arm={arm};stat={k}", st[k],
                                  population=population, n=st["n"])
    for o in oc["binary"]:
        for arm in arms + ["overall"]:
            x = df[o["value"]] if arm == "overall" else df.loc[df["arm"] == arm, o["value"]]
            x = pd.to_numeric(x, errors="coerce").dropna()
            ev = int((x == 1).sum())
            rows += make_rows("descriptive", o["name"], f"arm={arm};stat=proportion",
                              ev / len(x) if len(x) else np.nan, population=population,
                              n=len(x), events=ev)
    for o in oc["time_to_event"]:
        for arm in arms + ["overall"]:
            sub = df if arm == "overall" else df[df["arm"] == arm]
            e = sub[o["event"]]
            ev = int((e == o["event_value"]).sum())
            rows += make_rows("descriptive", o["name"], f"arm={arm};stat=events", ev,
                              population=population, n=len(sub), events=ev)
            if o["competing_value"] is not None:
                cv = int((e == o["competing_value"]).sum())
                rows += make_rows("descriptive", o["name"], f"arm={arm};stat=competing_events", cv,
                                  population=population, n=len(sub), events=cv)
    return to_frame(rows)
