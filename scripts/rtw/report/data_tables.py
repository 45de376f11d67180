"""The data tables of the report as presentation tables: the data queries cleaning or the
import raised (``results/data/queries.csv``) and the CONSORT counts
(``results/data/consort.csv``), each a ``DataFrame`` of strings for
:func:`rtw.report.writers.write_table` (the report shows their HTML view; the CSVs are the
downloads)."""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from rtw.report import fmt
from rtw.report.consort import STAGE_TEXT, _reason_text
from rtw.report.style import arm_names

QUERY_COLUMNS = {"table": "Table", "row": "Row", "participant": "Participant",
                 "column": "Column", "value": "Value", "rule": "Rule broken",
                 "action": "Action taken"}


def queries_table(queries: pd.DataFrame) -> pd.DataFrame:
    """The data queries, one per row as logged, with readable headings (Row: as a
    spreadsheet shows it).  No queries: one row saying so."""
    q = queries.rename(columns=QUERY_COLUMNS)
    cols = [QUERY_COLUMNS.get(c, c) for c in queries.columns]
    if not len(q):
        return pd.DataFrame([{cols[0]: "No data queries were raised", **{c: "" for c in cols[1:]}}],
                            columns=cols)
    out = q[cols].astype(object).where(q[cols].notna(), "")
    return out.astype(str)


def consort_table(consort: pd.DataFrame, config: Mapping) -> pd.DataFrame:
    """The CONSORT counts, one row per stage (and reason) in flow order: Stage, Arm, Reason,
    n.  Stage words as the diagram's (:data:`rtw.report.consort.STAGE_TEXT`), arms by their
    names, reasons as the diagram shows them (config ``figures.consort_reason_labels``)."""
    names = arm_names(config)
    labels = config["figures"]["consort_reason_labels"]
    df = consort.copy()
    if "stage_order" in df.columns:
        df = df.sort_values("stage_order", kind="mergesort")
    rows = []
    for _, r in df.iterrows():
        arm = "" if pd.isna(r["arm"]) else str(r["arm"])
        arm_name = "All" if arm in ("", "all") else names.get(arm, arm)
        stage = STAGE_TEXT.get(str(r["stage"]), str(r["stage"])).format(arm=arm_name)
        reason = "" if pd.isna(r["reason"]) or str(r["reason"]) == "" else _reason_text(
            r["reason"], labels)
        rows.append({"Stage": stage, "Arm": arm_name, "Reason": reason,
                     "n": fmt.fmt_int(int(r["n"]))})
    return pd.DataFrame(rows, columns=["Stage", "Arm", "Reason", "n"])
