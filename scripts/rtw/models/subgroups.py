"""Subgroup analyses of the count outcome (``subgroup_nb``, SPEC §4 A14): the NB fitter
for the generic engine in :mod:`rtw.core.subgroups`, whose names are re-exported here."""
from __future__ import annotations

import pandas as pd

from rtw.core.subgroups import (FIT_ERRORS, Fitter, ModelFit, SubgroupResult,  # noqa: F401
                                as_list, join_notes, subgroup_analysis, subgroup_rows,
                                subgroup_specs)


def nb_fitter(outcome: str, cluster: str | None = None) -> Fitter:
    """Fitter for the primary NB model; cluster-robust covariance (vcovCL) if ``cluster``."""
    from rtw.models.counts import fit_nb

    def fit(rows: pd.DataFrame, X: pd.DataFrame) -> ModelFit:
        f = fit_nb(X, rows[outcome])
        cov = f.vcov_cluster(rows[cluster]) if cluster else f.cov
        notes = list(f.notes)
        return ModelFit(f.params, cov, f.loglik, f.converged and not f.boundary, notes)

    fit.intercept = True
    return fit
