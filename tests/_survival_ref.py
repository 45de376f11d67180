"""Shared loaders for the survival reference tests (values stored by
tests/survival/reference/make_reference.R; CI has no R)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

REF = Path(__file__).resolve().parent / "survival" / "reference"


@lru_cache(maxsize=None)
def expected(name: str) -> dict:
    return json.loads((REF / "expected" / f"{name}.json").read_text())


@lru_cache(maxsize=None)
def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / "data" / f"{name}.csv")


def data(name: str) -> pd.DataFrame:
    d = _data(name).copy()
    if name == "rossi":
        d["arm"] = np.where(d["fin"] == 1, "aid", "none")
    if name == "trial_ties":
        d["rtw"] = (d["rtw_event"] == 1).astype(int)
    return d


def arr(x) -> np.ndarray:
    """JSON list (None = R's NA) -> float array with NaN."""
    return np.array([np.nan if v is None else v for v in np.ravel(np.array(x, dtype=object))],
                    dtype=float).reshape(np.shape(np.array(x, dtype=object)))


def assert_close_R(ours, theirs, rtol=1e-6, atol=1e-12, nan_ok_where=None):
    """Compare with R at ``rtol``; R's NA must be NaN/inf here (or allowed by mask)."""
    ours = np.asarray(ours, float)
    theirs = arr(theirs) if not isinstance(theirs, np.ndarray) else theirs.astype(float)
    ours, theirs = np.broadcast_arrays(ours, theirs)
    r_na = ~np.isfinite(theirs)
    assert np.array_equal(r_na, ~np.isfinite(ours)), (
        f"NA pattern differs: R NA at {np.flatnonzero(r_na)}, ours at {np.flatnonzero(~np.isfinite(ours))}")
    np.testing.assert_allclose(ours[~r_na], theirs[~r_na], rtol=rtol, atol=atol)


# data set -> (time, event, group, tau, times) as in make_reference.R km_ref()
KM_SPECS = {
    "rossi": ("week", "arrest", "arm", 52, [10, 26, 52, 60]),
    "trial_ties": ("rtw_time", "rtw", "arm", 182, [42, 84, 182]),
    "heavy_cens": ("time", "event", "arm", 150, [50, 100, 150]),
    "tiny": ("time", "event", "arm", 10, [3, 5, 7, 12]),
}
