"""Publication figures drawn from tidy data frames.

Every function takes tidy data (as written by the analysis rules) and the
config, draws with the project style (:mod:`rtw.report.style`), and returns
``(fig, drawn)``: the matplotlib Figure and a dict of data frames holding
exactly what was drawn (for tests, and for a reader who wants the numbers
behind a figure).  Every function draws inside :func:`rtw.report.style.context`, so
callers need not set the style.  Save with :func:`rtw.report.style.save_figure`.  Nothing here
estimates anything: curves, estimates and tests come from the survival and
regression modules; only descriptive binning (days-off histogram) and a
lowess smooth of residuals (Schoenfeld plot, as R's ``plot.cox.zph`` smooths)
are computed for display.

Arms are drawn in config order (``trial.arms``) with config names and
colours and, for greyscale, a distinct line style, marker and hatch each.

The figures live one family to a module, and this module gathers them so
that callers import one name space:

* :mod:`rtw.report.consort`: CONSORT flow diagram, as a layout in mm
  (:func:`~rtw.report.consort.consort_layout`, no drawing) and its drawing
  (:func:`~rtw.report.consort.draw_consort`);
* :mod:`rtw.report.survival_curves`: Kaplan-Meier (:func:`km_plot`) and
  cumulative incidence (:func:`cif_plot`);
* :mod:`rtw.report.forest`: forest rows and :func:`forest_plot`;
* :mod:`rtw.report.days_off`: :func:`days_off_distribution`;
* :mod:`rtw.report.schoenfeld`: :func:`schoenfeld_plot`;
* :mod:`rtw.report.power_plot`: :func:`power_curve`;
* :mod:`rtw.report.figure_common` (helpers they share) and
  :mod:`rtw.report.measure` (text widths in the project font).
"""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from rtw.report.consort import REASON_LABELS, consort_layout, draw_consort
from rtw.report.days_off import days_off_distribution
from rtw.report.figure_common import styled
from rtw.report.forest import (favours_labels, forest_plot, forest_rows_primary,
                               forest_rows_subgroups)
from rtw.report.power_plot import power_curve
from rtw.report.schoenfeld import schoenfeld_plot
from rtw.report.survival_curves import cif_plot, km_plot

__all__ = ["REASON_LABELS", "cif_plot", "consort_diagram", "days_off_distribution",
           "favours_labels", "forest_plot", "forest_rows_primary", "forest_rows_subgroups",
           "km_plot", "power_curve", "schoenfeld_plot"]


@styled
def consort_diagram(consort_df: pd.DataFrame, config: Mapping):
    """CONSORT 2010 flow diagram drawn from ``consort.csv``.

    :func:`rtw.report.consort.draw_consort` of
    :func:`rtw.report.consort.consort_layout`: the counts are checked to
    reconcile box by box (:func:`rtw.report.consort.reconcile`), the layout
    (boxes, counts and arrows in mm) is computed, then drawn.

    Parameters
    ----------
    consort_df, config
        As :func:`rtw.report.consort.consort_layout` (the consort table's columns and
        stages; arm order and names, reason labels).

    Returns
    -------
    fig : matplotlib.figure.Figure
        Double-column width; the Enrolment stage (invited, assessed,
        randomised, with the did-not-respond and excluded boxes beside), then
        one column per arm for Allocation, Follow-up and Analysis; every stage
        label a banner of the same style.
    drawn : dict
        ``boxes``: one row per box (``box``, ``stage``, ``arm``, ``text``);
        ``counts``: one row per number drawn (``stage, arm, reason, n,
        box``), equal to the rows of ``consort_df`` that are drawn.
    """
    return draw_consort(consort_layout(consort_df, config))
