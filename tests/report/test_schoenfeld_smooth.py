"""The Schoenfeld panels' smooth and +-2 SE band equal what R's plot.cox.zph draws
(reference: tests/report/reference/schoenfeld_smooth.R on a generated trial with a 3-level
factor, cox.zph(fit, terms = FALSE))."""
import json
from pathlib import Path

import numpy as np
import pandas as pd

from rtw.survival.cox import cox_zph, fit_cox, zph_smooth

REF = Path(__file__).parent / "reference"
NAMES = ["arm", "grp[b]", "grp[c]", "age"]          # R: arm, grpb, grpc, age


def _zph():
    d = pd.read_csv(REF / "schoenfeld_data.csv")
    X = np.c_[d.arm, d.grp == "b", d.grp == "c", d.age].astype(float)
    fit = fit_cox(d.time.to_numpy(float), d.status.to_numpy(), X, names=NAMES,
                  terms={"arm": [0], "grp": [1, 2], "age": [3]})
    return cox_zph(fit, terms=True, residual_terms=False)


def test_schoenfeld_smooth_matches_R_plot_cox_zph():
    ref = json.loads((REF / "schoenfeld_smooth.json").read_text())
    z = _zph()
    # one residual column per coefficient: the 3-level factor gives two
    assert list(z.residuals.columns[2:]) == NAMES
    np.testing.assert_allclose(z.residuals["transformed_time"], ref["residuals"]["x"], rtol=1e-9)
    for name, rname in zip(NAMES, ref["terms"]):
        r = ref["terms"][rname]
        np.testing.assert_allclose(z.residuals[name], ref["residuals"]["y"][rname], rtol=1e-6)
        assert np.isclose(z.var.loc[name, name], r["var"], rtol=1e-6)
        s = zph_smooth(z.residuals["transformed_time"], z.residuals[name], z.var.loc[name, name],
                       time=z.residuals["time"])
        assert len(s) == 40
        np.testing.assert_allclose(s["x"], r["x"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(s["fit"], r["yhat"], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(s["lower"], r["lower"], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(s["upper"], r["upper"], rtol=1e-6, atol=1e-9)
    # the grid's times: R's axis maps transformed time back to time by linear interpolation
    at = np.asarray(ref["axis"]["at"])
    s = zph_smooth(z.residuals["transformed_time"], z.residuals["arm"], 1.0,
                   time=z.residuals["time"])
    back = np.interp(at, s["x"], s["time"])
    np.testing.assert_allclose(back, ref["axis"]["labels"], rtol=0.08)


def test_zph_table_by_term_is_unchanged_by_per_coefficient_residuals():
    z = _zph()
    assert list(z.table["term"]) == ["arm", "grp", "age", "GLOBAL"]
    assert list(z.table["df"]) == [1, 2, 1, 4]


def test_schoenfeld_smooth_with_repeated_knots_matches_R_plot_cox_zph():
    """Many events at one time make both ns knots equal (R's splineDesign copes; so must we)."""
    ref = json.loads((REF / "schoenfeld_smooth_tied.json").read_text())
    assert ref["knots"][0] == ref["knots"][1]
    d = pd.read_csv(REF / "schoenfeld_data.csv")
    d["time"] = np.where((d.time > 3) & (d.time < 20), 10.0, d.time)
    X = np.c_[d.arm, d.grp == "b", d.grp == "c", d.age].astype(float)
    fit = fit_cox(d.time.to_numpy(float), d.status.to_numpy(), X, names=NAMES,
                  terms={"arm": [0], "grp": [1, 2], "age": [3]})
    z = cox_zph(fit, residual_terms=False)
    for name, rname in zip(NAMES, ref["terms"]):
        r = ref["terms"][rname]
        s = zph_smooth(z.residuals["transformed_time"], z.residuals[name], z.var.loc[name, name])
        np.testing.assert_allclose(s["fit"], r["yhat"], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(s["upper"], r["upper"], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(s["lower"], r["lower"], rtol=1e-6, atol=1e-9)
