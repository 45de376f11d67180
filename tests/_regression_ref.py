"""Shared helpers for the regression reference tests (values from make_reference.R)."""
from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd
from helpers import sap

REF = Path(__file__).resolve().parent / "models" / "reference"
CONFIG = sap({
    "trial": {"arms": {"control": "usual_care", "intervention": "vocational_advice"},
              "timepoints": {"6w": 42, "6m": 182}},
    "conf_levels": [0.95, 0.80],
})


@functools.lru_cache(maxsize=None)
def data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / "data" / name)


@functools.lru_cache(maxsize=None)
def _expected(file) -> pd.DataFrame:
    """A stored R output of this folder (a file name), or at a path given as a ``Path``
    (the same long format kept by another room's reference folder)."""
    path = file if isinstance(file, Path) else REF / "expected" / file
    return pd.read_csv(path, dtype={"value": str})


def ref(file: str, model: str, quantity: str, term: str | None = None) -> np.ndarray:
    """Stored R values (float array) for one model/quantity (and term)."""
    d = _expected(file)
    d = d[(d["model"] == model) & (d["quantity"] == quantity)]
    if term is not None:
        d = d[d["term"] == term]
    if d.empty:
        raise KeyError(f"no reference {file}:{model}:{quantity}:{term}")
    return d["value"].astype(float).to_numpy()


def ref_series(file: str, model: str, quantity: str) -> pd.Series:
    d = _expected(file)
    d = d[(d["model"] == model) & (d["quantity"] == quantity)]
    return pd.Series(d["value"].astype(float).to_numpy(), index=d["term"].to_numpy())


def rname(term: str) -> str:
    """Python design name -> R coefficient name (``col[level]`` -> ``collevel``;
    practice dummies as ``factor(practice)level``)."""
    m = re.fullmatch(r"(.+)\[(.+)\]", term)
    if not m:
        return term
    col, lv = m.groups()
    if col == "practice":
        return f"factor(practice){lv}"
    return f"{col}{lv}"
