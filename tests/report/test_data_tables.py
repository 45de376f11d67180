"""The data tables of the report (issue 11, item 7): the data queries and the CONSORT counts
as presentation tables, and the forest plots' "favours" labels from each outcome's
direction of benefit (item 2)."""
import pandas as pd
import pytest

import fixtures_outputs as F
from rtw.report import data_tables, figures


def test_queries_table_keeps_every_query_with_readable_headings():
    q = pd.DataFrame({"table": ["followup", "sms"], "row": ["12", "7"], "participant": ["W1", "W2"],
                      "column": ["work_ability", "days_off"], "value": ["11", "three"],
                      "rule": ["outside range [0, 10]", "free text"],
                      "action": ["set to missing", "read as 3"]})
    t = data_tables.queries_table(q)
    assert list(t.columns) == ["Table", "Row", "Participant", "Column", "Value", "Rule broken",
                               "Action taken"]
    assert t.values.tolist() == q.values.tolist()
    empty = data_tables.queries_table(q.iloc[0:0])
    assert empty.iloc[0, 0] == "No data queries were raised" and len(empty) == 1


def test_consort_table_lists_every_stage_in_flow_order_with_arm_names():
    cfg = F.config()
    c = F.consort_df()
    t = data_tables.consort_table(c, cfg)
    assert len(t) == len(c)
    assert t["n"].tolist() == [f"{int(n):,}" for n in c.sort_values("stage_order", kind="mergesort")["n"]]
    assert "Allocated to Usual care" in t["Stage"].tolist()
    assert set(t["Arm"]) <= {"All", "Usual care", "Vocational advice"}


@pytest.mark.parametrize("better,left", [("lower", "Favours Vocational advice"),
                                         ("higher", "Favours Usual care")])
def test_favours_labels_follow_the_outcomes_direction_of_benefit(better, left):
    labels = figures.favours_labels(F.config(), better)
    assert labels[0] == left and labels[1] != left and labels[1].startswith("Favours ")


def test_no_favours_labels_when_the_direction_is_not_stated():
    assert figures.favours_labels(F.config(), None) is None
    with pytest.raises(ValueError, match="better"):
        figures.favours_labels(F.config(), "smaller")
