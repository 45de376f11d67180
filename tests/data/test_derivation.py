"""Derivation rules (SPEC §3), each on a hand-made case, plus property-based tests on SMS sequences."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from helpers import SCHEMAS, default_config, write_synthetic
from rtw.data.cleaning import clean_tables, parse_days_off
from rtw.data.derivation import consort_counts, days_off_6m, derive_analysis, time_to_rtw

DAYS = np.arange(2, 27, 2) * 7.0   # SMS days 14 ... 182
INF = np.inf


def _one(work_row, censor=INF, leave=INF, k=1):
    r = time_to_rtw(np.array([work_row], float), DAYS, np.array([censor]), np.array([leave]), 182.0, k)
    return {key: v[0] for key, v in r.items()}


# ---------------------------------------------------------------- days off
def test_days_off_complete_sms_is_the_sum():
    d = np.full((1, 13), 2.0)
    v, s = days_off_6m(d, np.array([np.nan]), "prorate_then_questionnaire", 0.5, 182)
    assert v[0] == 26 and s[0] == "sms_complete"


def test_days_off_prorated_when_enough_answered():
    d = np.full((1, 13), np.nan)
    d[0, :7] = 3.0                           # 7 of 13 answered, 21 days -> 21 * 13/7 = 39
    v, s = days_off_6m(d, np.array([100.0]), "prorate_then_questionnaire", 0.5, 182)
    assert v[0] == 39 and s[0] == "sms_prorated"


def test_days_off_prorating_rounds_half_up():
    d = np.full((1, 13), np.nan)
    d[0, :8] = [4, 0, 0, 0, 0, 0, 0, 0]      # 4 * 13 / 8 = 6.5 -> 7 (not banker's 6)
    assert days_off_6m(d, np.array([np.nan]), "prorate_then_questionnaire", 0.5, 182)[0][0] == 7
    d[0, :8] = [1, 0, 0, 0, 0, 0, 0, 0]      # 1.625 -> 2
    assert days_off_6m(d, np.array([np.nan]), "prorate_then_questionnaire", 0.5, 182)[0][0] == 2


def test_days_off_questionnaire_when_too_few_sms():
    d = np.full((1, 13), np.nan)
    d[0, :6] = 14.0                         # 6/13 < 0.5
    v, s = days_off_6m(d, np.array([120.0]), "prorate_then_questionnaire", 0.5, 182)
    assert v[0] == 120 and s[0] == "questionnaire"
    v, s = days_off_6m(d, np.array([np.nan]), "prorate_then_questionnaire", 0.5, 182)
    assert np.isnan(v[0]) and s[0] == "missing"


def test_days_off_capped():
    d = np.full((1, 13), np.nan)
    v, _ = days_off_6m(d, np.array([400.0]), "questionnaire_only", 0.5, 182)
    assert v[0] == 182


def test_days_off_threshold_comes_from_config():
    d = np.full((1, 13), np.nan)
    d[0, :7] = 1.0
    assert days_off_6m(d, np.array([np.nan]), "prorate_then_questionnaire", 0.6, 182)[1][0] == "missing"


# ---------------------------------------------------------------- RTW
def test_first_rtw_at_first_at_work_report_with_interval():
    w = [0, np.nan, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1]
    r = _one(w)
    assert (r["time"], r["event"], r["lower"], r["upper"]) == (56, 1, 42, 56)


def test_first_rtw_lower_bound_zero_when_no_earlier_report():
    r = _one([np.nan, 1] + [1] * 11)
    assert (r["time"], r["event"], r["lower"], r["upper"]) == (28, 1, 0, 28)


def test_censored_at_last_answered_sms():
    r = _one([0, 0, 0, np.nan, 0] + [np.nan] * 8)
    assert (r["time"], r["event"], r["lower"]) == (70, 0, 70) and np.isnan(r["upper"])


def test_censored_at_withdrawal():
    r = _one([0] * 13, censor=50)
    assert (r["time"], r["event"]) == (42, 0)          # last answered SMS before withdrawal
    r = _one([0] * 2 + [1] * 11, censor=30)            # RTW report after withdrawal is not used
    assert (r["time"], r["event"]) == (28, 0)


def test_never_answered_is_censored_at_zero():
    r = _one([np.nan] * 13)
    assert (r["time"], r["event"]) == (0, 0)


def test_competing_event_before_rtw():
    r = _one([0, 0, 0, 1] + [1] * 9, leave=40)
    assert (r["time"], r["event"]) == (40, 2)
    r = _one([0, 1] + [1] * 11, leave=100)             # RTW first: leaving later is not competing
    assert (r["time"], r["event"]) == (28, 1)


def test_sustained_rtw_needs_consecutive_reports():
    w = [0, 1, 0, 1, np.nan, 1, 1, 0, 0, 0, 0, 0, 0]
    first = _one(w)
    sust = _one(w, k=2)
    assert first["time"] == 28 and sust["time"] == 84 and sust["event"] == 1


def test_sustained_rtw_not_confirmed_at_last_report():
    w = [0] * 12 + [1]
    assert _one(w, k=2)["event"] == 0
    assert _one(w, k=1)["event"] == 1


def test_sustained_report_count_from_config():
    w = [0, 1, 1, 0, 1, 1, 1] + [0] * 6
    assert _one(w, k=2)["time"] == 28
    assert _one(w, k=3)["time"] == 70


# ---------------------------------------------------------------- free text
@pytest.mark.parametrize("text,value", [("none", 0), ("3 days", 3), ("1 day", 1), ("14", 14),
                                        ("three days", 3), ("5d", 5), ("Nil", 0)])
def test_free_text_days_off(text, value):
    num, interp, bad = parse_days_off(pd.Series([text]), ["none", "nil", "zero", "no"])
    assert num[0] == value and not bad[0]
    assert interp[0] == (text not in ("14",))


@pytest.mark.parametrize("text", ["not sure", "2.5", "a week or so"])
def test_uninterpretable_days_off(text):
    num, interp, bad = parse_days_off(pd.Series([text]), ["none"])
    assert np.isnan(num[0]) and bad[0]


# ---------------------------------------------------------------- properties
sms_row = arrays(np.float64, 13, elements=st.sampled_from([0.0, 1.0, np.nan]))


@settings(max_examples=300, deadline=None)
@given(w=sms_row, censor=st.one_of(st.just(INF), st.integers(1, 200).map(float)),
       leave=st.one_of(st.just(INF), st.integers(1, 200).map(float)), k=st.integers(1, 3))
def test_rtw_properties(w, censor, leave, k):
    first = _one(w, censor, leave, 1)
    sust = _one(w, censor, leave, k)
    answered_days = DAYS[~np.isnan(w) & (DAYS <= min(censor, 182))]
    last_contact = answered_days.max() if len(answered_days) else 0.0
    for r in (first, sust):
        assert 0 <= r["time"] <= 182
        if r["event"] == 1:
            # the event time is inside its interval (lower, upper]
            assert r["lower"] < r["time"] <= r["upper"]
            assert r["time"] <= last_contact
        if r["event"] == 0:
            # censoring never after the last contact
            assert r["time"] <= last_contact
    # sustained RTW never before first RTW
    if sust["event"] == 1:
        assert first["event"] == 1 and sust["time"] >= first["time"]


@settings(max_examples=200, deadline=None)
@given(d=arrays(np.float64, 13, elements=st.one_of(st.integers(0, 14).map(float), st.just(np.nan))),
       q=st.one_of(st.just(np.nan), st.integers(0, 300).map(float)),
       share=st.floats(0.1, 1.0))
def test_days_off_within_window(d, q, share):
    v, s = days_off_6m(d[None, :], np.array([q]), "prorate_then_questionnaire", share, 182)
    assert np.isnan(v[0]) or 0 <= v[0] <= 182
    assert (s[0] == "missing") == np.isnan(v[0])


# ---------------------------------------------------------------- whole dataset
@pytest.fixture(scope="module")
def wave(tmp_path_factory):
    d = tmp_path_factory.mktemp("wave")
    write_synthetic(d)
    cfg = default_config()
    tables, q = clean_tables(d, cfg, SCHEMAS)
    return tables, q, derive_analysis(tables, cfg), cfg


def test_default_trial_has_wave_shape(wave):
    tables, q, a, cfg = wave
    assert len(a) == 130 and a["participant_id"].is_unique
    assert a["arm"].value_counts().to_dict() == {"usual_care": 64, "vocational_advice": 66}
    assert a["practice"].nunique() == 10
    assert a["days_off_6m"].notna().sum() == 125
    assert len(tables["screening"]) == 7955


def test_populations(wave):
    _, _, a, cfg = wave
    assert a["pop_itt"].all()
    ctrl = a["arm"] == cfg["trial"]["arms"]["control"]
    assert a.loc[ctrl, "pop_pp"].all()
    assert (a.loc[~ctrl, "pop_pp"] == (a.loc[~ctrl, "n_contacts"] >= 1)).all()


def test_engagement_matches_intervention_table(wave):
    tables, _, a, _ = wave
    n = tables["intervention"].groupby("participant_id").size()
    got = a.set_index("participant_id")["n_contacts"]
    assert (got.reindex(n.index) == n).all() and got.drop(n.index).eq(0).all()


def test_consort_adds_up(wave):
    """The default trial's CONSORT 2010 counts reconcile box by box (issue 11; before it, the
    stages were assessed_eligible ... analysed_primary / missing_primary: the same sums are
    asserted under the CONSORT 2010 names, and rtw.report.consort.reconcile checks them all)."""
    from rtw.report.consort import reconcile
    tables, _, a, cfg = wave
    c = consort_counts(tables, a, cfg)
    tot = c[c["reason"] == ""].set_index(["stage", "arm"])["n"]
    assert tot[("randomised", "all")] == tot[("allocated", "usual_care")] + tot[("allocated", "vocational_advice")]
    for arm in ("usual_care", "vocational_advice"):
        assert tot[("analysed", arm)] + tot[("excluded_from_analysis", arm)] == tot[("allocated", arm)]
        assert tot[("received", arm)] + tot[("not_received", arm)] == tot[("allocated", arm)]
    ne = c[(c["stage"] == "not_eligible") & (c["reason"] != "")]["n"].sum()
    assert ne == tot[("not_eligible", "all")]
    # assessed for eligibility is everyone who responded (576), not those found eligible (369)
    s = tables["screening"]
    assert tot[("assessed", "all")] == (s["responded"] == "yes").sum() == 576
    assert tot[("excluded", "all")] == tot[("not_eligible", "all")] + tot[("declined", "all")] \
        + tot[("other_excluded", "all")] == 576 - 130
    checks = reconcile(c, ["usual_care", "vocational_advice"])
    assert checks["ok"].all() and len(checks) >= 10, checks
    # analysed = the primary (count) outcome observed: 125 of 130 (WAVE)
    assert tot[("analysed", "usual_care")] + tot[("analysed", "vocational_advice")] == 125


def test_every_query_names_a_real_row(wave):
    tables, q, _, _ = wave
    assert len(q) > 0
    for t, g in q.groupby("table"):
        assert g["row"].between(2, len(tables[t]) + 1).all()


def test_days_off_cap_defaults_to_the_follow_up_window_of_365_days():
    """Issue 10: a trial with followup_days: 365 caps days off at 365, not at 182 (the cap's
    default is the follow-up window, set in one place: the schema's null, resolved by
    rtw.core.config.normalise)."""
    from helpers import sap
    cfg = sap({"trial": {"arms": {"control": "c", "intervention": "i"}, "followup_days": 365,
                         "sms_weeks": [2, 4]}})
    rule = cfg["derivation"]["days_off"]
    assert rule["cap_days"] == 365
    sms = np.full((2, 2), np.nan)                               # no SMS answered
    questionnaire = np.array([300.0, 400.0])
    value, source = days_off_6m(sms, questionnaire, rule["rule"], rule["min_share_answered"],
                                rule["cap_days"])
    assert value.tolist() == [300.0, 365.0]
    explicit = sap({"trial": {"arms": {"control": "c", "intervention": "i"}, "followup_days": 365},
                    "derivation": {"days_off": {"cap_days": 200}}})
    assert explicit["derivation"]["days_off"]["cap_days"] == 200
