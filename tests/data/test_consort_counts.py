"""CONSORT 2010 counts (rtw.data.derivation.consort_counts) on hand-made exports: every screening
row falls in one enrolment box, reasons come from the data, the arms' boxes from the analysis
dataset, "analysed" from the primary outcome named in config, and the table reconciles
(rtw.report.consort.reconcile)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import sap
from rtw.data.derivation import consort_counts, primary_outcome_columns
from rtw.report.consort import reconcile

NA = None
ARMS = {"control": "ctl", "intervention": "trt"}


def _screening():
    rows = [  # responded, eligible, ineligible_reason, consented, randomised, participant_id
        ("no", NA, NA, NA, "no", NA), ("no", NA, NA, NA, "no", NA),
        ("yes", "no", "too old", NA, "no", NA), ("yes", "no", NA, NA, "no", NA),
        ("yes", "yes", NA, "no", "no", NA),                          # declined
        ("yes", NA, NA, NA, "no", NA),                               # eligibility not recorded
        ("yes", "yes", NA, "yes", "no", NA),                         # consented, not randomised
        ("yes", "yes", NA, NA, "no", NA),                            # consent not recorded
        ("yes", "yes", NA, "yes", "yes", "c1"), ("yes", "yes", NA, "yes", "yes", "c2"),
        ("yes", "yes", NA, "yes", "yes", "i1"), ("yes", "yes", NA, "yes", "yes", "i2"),
    ]
    return pd.DataFrame(rows, columns=["responded", "eligible", "ineligible_reason", "consented",
                                       "randomised", "participant_id"])


def _analysis():
    """c1 usual care; c2 had intervention contacts, withdrew fully, no outcome; i1 engaged, no
    outcome (lost); i2 withdrew from the intervention before any contact; i3 (not in the
    screening log) no contact."""
    return pd.DataFrame({
        "participant_id": ["c1", "c2", "i1", "i2", "i3"],
        "arm": ["ctl", "ctl", "trt", "trt", "trt"],
        "withdrawn": [False, True, False, True, False],
        "withdrawal_level": [NA, "full", NA, "intervention", NA],
        "engaged": [False, True, True, False, False],
        "y": [3.0, np.nan, np.nan, 1.0, 2.0],
        "t": [10.0, 5.0, 7.0, np.nan, 9.0],
        "e": [np.nan, 0.0, 1.0, 1.0, 0.0],
    })


def _config(outcomes):
    return sap({"trial": {"arms": ARMS}, "outcomes": outcomes})


COUNT = {"count": {"name": "y", "value": "y"},
         "time_to_event": [{"name": "t", "time": "t", "event": "e"}]}


def _rows(c):
    return {(r.stage, r.arm, r.reason): r.n for r in c.fillna({"reason": ""}).itertuples()}


def test_every_screening_row_falls_in_one_enrolment_box():
    c = consort_counts({"screening": _screening()}, _analysis(), _config(COUNT))
    got = _rows(c)
    assert {k: v for k, v in got.items() if k[1] == "all"} == {
        ("invited", "all", ""): 12, ("not_responded", "all", ""): 2,
        ("assessed", "all", ""): 10, ("excluded", "all", ""): 6,
        ("not_eligible", "all", ""): 2, ("not_eligible", "all", "not recorded"): 1,
        ("not_eligible", "all", "too old"): 1, ("declined", "all", ""): 1,
        ("other_excluded", "all", ""): 3,
        ("other_excluded", "all", "consent_not_recorded"): 1,
        ("other_excluded", "all", "consented_not_randomised"): 1,
        ("other_excluded", "all", "eligibility_not_recorded"): 1,
        ("randomised", "all", ""): 5, ("not_screened", "all", ""): 1}
    assert reconcile(c, ["ctl", "trt"])["ok"].all()
    assert list(c.columns) == ["stage_order", "stage", "arm", "n", "reason"]
    assert c["stage_order"].is_monotonic_increasing


def test_arm_boxes_received_follow_up_and_analysis():
    c = consort_counts({"screening": _screening()}, _analysis(), _config(COUNT))
    got = _rows(c)
    assert {k: v for k, v in got.items() if k[1] == "ctl"} == {
        ("allocated", "ctl", ""): 2, ("received", "ctl", ""): 1, ("not_received", "ctl", ""): 1,
        ("not_received", "ctl", "received_intervention_contacts"): 1,
        ("lost_to_follow_up", "ctl", ""): 0, ("discontinued", "ctl", ""): 1,
        ("discontinued", "ctl", "full"): 1, ("analysed", "ctl", ""): 1,
        ("excluded_from_analysis", "ctl", ""): 1,
        ("excluded_from_analysis", "ctl", "missing_outcome_withdrawn"): 1}
    assert {k: v for k, v in got.items() if k[1] == "trt"} == {
        ("allocated", "trt", ""): 3, ("received", "trt", ""): 1, ("not_received", "trt", ""): 2,
        ("not_received", "trt", "no_contact_recorded"): 1,
        ("not_received", "trt", "withdrew_intervention"): 1,
        ("lost_to_follow_up", "trt", ""): 1, ("discontinued", "trt", ""): 1,
        ("discontinued", "trt", "intervention"): 1, ("analysed", "trt", ""): 2,
        ("excluded_from_analysis", "trt", ""): 1,
        ("excluded_from_analysis", "trt", "missing_outcome_lost"): 1}


def test_analysed_counts_the_primary_outcome_named_in_config():
    """The count outcome's value; without one, the first time-to-event outcome's time and
    event (both observed); no column name is built in."""
    assert primary_outcome_columns(_config(COUNT)) == ["y"]
    tte_only = _config({"time_to_event": COUNT["time_to_event"]})
    assert primary_outcome_columns(tte_only) == ["t", "e"]
    c = _rows(consort_counts({"screening": _screening()}, _analysis(), tte_only))
    # t and e observed: c2, i1, i3 (c1 has no event status, i2 no time)
    assert (c[("analysed", "ctl", "")], c[("analysed", "trt", "")]) == (1, 2)
    assert c[("excluded_from_analysis", "ctl", "missing_outcome_lost")] == 1       # c1
    assert c[("excluded_from_analysis", "trt", "missing_outcome_withdrawn")] == 1  # i2
    assert c[("lost_to_follow_up", "ctl", "")] == 1 and c[("lost_to_follow_up", "trt", "")] == 0
    renamed = _analysis().rename(columns={"y": "events_12m"})
    own = _config({"count": {"name": "events", "value": "events_12m"}})
    c = _rows(consort_counts({"screening": _screening()}, renamed, own))
    assert (c[("analysed", "ctl", "")], c[("analysed", "trt", "")]) == (1, 2)


def test_a_log_without_invitations_or_optional_columns_starts_at_assessment():
    s = _screening()
    s = s[s["responded"] == "yes"].drop(columns=["eligible", "ineligible_reason", "consented"])
    c = consort_counts({"screening": s}, _analysis(), _config(COUNT))
    got = _rows(c)
    assert "invited" not in set(c["stage"]) and "not_responded" not in set(c["stage"])
    assert got[("assessed", "all", "")] == 10
    assert got[("not_eligible", "all", "")] == 0 and got[("declined", "all", "")] == 0
    assert got[("other_excluded", "all", "eligibility_not_recorded")] == 6
    assert reconcile(c, ["ctl", "trt"])["ok"].all()
    with_dates = _screening().assign(invitation_date="2021-01-01")
    with_dates = with_dates[with_dates["responded"] == "yes"]
    assert "invited" in set(consort_counts({"screening": with_dates}, _analysis(),
                                           _config(COUNT))["stage"])
