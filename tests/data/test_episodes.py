"""Work status over time (SPEC §9; rtw.data.episodes): each rule on a hand-made SMS sequence,
hypothesis properties of the episodes (they never overlap, tile follow-up from 0, states
alternate, left job is absorbing, spells count the relapses; equal to a plain per-participant
reference of the rules), and the WAVE synthetic trial's derived tables."""
from __future__ import annotations

import copy
import math
import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from helpers import ROOT, SCHEMAS, Params, default_config, write_synthetic
from rtw.core.io import InputError
from rtw.core.validation import with_defaults
from rtw.data.cleaning import clean_tables
from rtw.data.derivation import derive_analysis
from rtw.data.episodes import Rules, absence_spells, derive_work_status, work_status_episodes
from rtw.data.longtables import load_long_schema, validate_derived

DAYS = np.arange(2, 27, 2) * 7.0   # SMS days 14 ... 182
INF = np.inf
N = np.nan                         # no answer


def _eps(row, censor=INF, leave=INF, bridge=1, relapse=1, midpoint=False, window=182.0):
    """The episodes of one participant as (start, stop, state, to) tuples."""
    row = list(row) + [N] * (len(DAYS) - len(row))
    e = work_status_episodes(np.array([row], float), DAYS, np.array([censor]), np.array([leave]),
                             window, Rules(bridge, relapse, midpoint))
    return [(r.start, r.stop, r.state, r.to) for r in e.itertuples()]


OFF, AT, LEFT, CENS = "off_work", "at_work", "left_job", "censored"


# ---------------------------------------------------------------- start, returns, censoring
def test_everyone_starts_off_work_and_returns_at_the_first_at_work_report():
    assert _eps([0, 0, 1] + [1] * 10) == [(0, 42, OFF, AT), (42, 182, AT, CENS)]


def test_never_at_work_is_off_work_until_the_last_contact():
    assert _eps([0] * 13) == [(0, 182, OFF, CENS)]


def test_censored_at_the_last_answered_report():
    assert _eps([0, 1, 1, 1]) == [(0, 28, OFF, AT), (28, 56, AT, CENS)]


def test_reports_after_withdrawal_from_follow_up_are_not_used():
    assert _eps([0, 0, 0, 1, 1, 1], censor=50) == [(0, 42, OFF, CENS)]


def test_reports_after_the_window_end_are_not_used():
    assert _eps([0, 0, 1, 1, 1, 1, 1], window=60) == [(0, 42, OFF, AT), (42, 56, AT, CENS)]


def test_no_rows_without_follow_up_time():
    assert _eps([N] * 13) == []
    assert _eps([0, 1, 1], leave=0) == []


def test_return_on_the_last_report_ends_follow_up_without_an_empty_interval():
    assert _eps([0] * 12 + [1]) == [(0, 182, OFF, AT)]


# ---------------------------------------------------------------- gaps (bridge_missing_reports)
def test_one_missing_report_between_reports_of_the_same_state_is_bridged():
    assert _eps([0, N, 0, 1]) == [(0, 56, OFF, AT)]


def test_a_gap_longer_than_the_bridge_ends_follow_up_at_the_report_before_it():
    assert _eps([0, N, N, 1, 1]) == [(0, 14, OFF, CENS)]
    assert _eps([0, 1, N, N, 1, 1]) == [(0, 28, OFF, AT)]


def test_day_0_counts_as_an_off_work_report_for_the_gap_rule():
    assert _eps([N, N, 1, 1]) == []
    assert _eps([N, 0, 1, 1]) == [(0, 42, OFF, AT), (42, 56, AT, CENS)]


def test_the_bridge_comes_from_config():
    assert _eps([0, N, 0, 0], bridge=0) == [(0, 14, OFF, CENS)]
    assert _eps([0, N, N, 0, 1], bridge=2) == [(0, 70, OFF, AT)]


def test_bridge_null_bridges_every_gap():
    assert _eps([0, N, N, N, N, 1, 1], bridge=None) == [(0, 84, OFF, AT), (84, 98, AT, CENS)]


def test_a_change_inside_a_bridged_gap_happens_at_the_report_day_or_the_midpoint():
    assert _eps([0, N, 1, 1]) == [(0, 42, OFF, AT), (42, 56, AT, CENS)]
    assert _eps([0, N, 1, 1], midpoint=True) == [(0, 28, OFF, AT), (28, 56, AT, CENS)]


# ---------------------------------------------------------------- relapses (relapse_reports)
def test_an_off_work_report_after_a_return_is_a_new_spell():
    assert _eps([0, 1, 1, 0, 0, 1, 1]) == [(0, 28, OFF, AT), (28, 56, AT, OFF),
                                           (56, 84, OFF, AT), (84, 98, AT, CENS)]


def test_a_single_off_work_report_is_read_as_at_work_when_a_relapse_needs_two():
    assert _eps([1, 0, 1, 1], relapse=2) == [(0, 14, OFF, AT), (14, 56, AT, CENS)]


def test_two_off_work_reports_make_a_relapse_dated_at_the_first():
    assert _eps([1, 1, 0, 0, 1], relapse=2) == [(0, 14, OFF, AT), (14, 42, AT, OFF),
                                                (42, 70, OFF, AT)]


def test_a_bridged_gap_does_not_break_a_relapse_run():
    assert _eps([1, 0, N, 0, 0], relapse=2) == [(0, 14, OFF, AT), (14, 28, AT, OFF),
                                                (28, 70, OFF, CENS)]


def test_an_unconfirmed_relapse_at_the_end_censors_at_the_last_at_work_report():
    assert _eps([1, 1, 0], relapse=2) == [(0, 14, OFF, AT), (14, 28, AT, CENS)]


def test_an_unconfirmed_relapse_then_leaving_the_job_is_a_relapse():
    assert _eps([1, 1, 0, 0, 0], leave=50, relapse=3) == [(0, 14, OFF, AT), (14, 42, AT, OFF),
                                                          (42, 50, OFF, LEFT)]


def test_relapse_at_the_midpoint_between_the_last_at_work_and_first_off_work_report():
    assert _eps([1, 1, N, 0, 0], midpoint=True) == [(0, 7, OFF, AT), (7, 42, AT, OFF),
                                                    (42, 70, OFF, CENS)]


# ---------------------------------------------------------------- leaving the job
def test_left_job_is_absorbing_and_later_reports_are_not_used():
    assert _eps([0, 1, 1, 1, 1, 1], leave=50) == [(0, 28, OFF, AT), (28, 50, AT, LEFT)]


def test_leaving_the_job_after_the_last_contact_is_not_known():
    assert _eps([0, 0, 1], leave=60) == [(0, 42, OFF, AT)]
    assert _eps([0, 0, 0], leave=60) == [(0, 42, OFF, CENS)]


def test_leaving_the_job_on_the_day_of_an_at_work_report_wins():
    assert _eps([0, 0, 1, 1], leave=42) == [(0, 42, OFF, LEFT)]


def test_leaving_the_job_keeps_its_date_under_the_midpoint_rule():
    assert _eps([0, 1, 1, 1], leave=30, midpoint=True) == [(0, 21, OFF, AT), (21, 30, AT, LEFT)]


# ---------------------------------------------------------------- absence spells
def test_absence_spells_are_the_at_work_intervals_numbered_by_the_spell_at_risk():
    e = work_status_episodes(np.array([[0, 1, 1, 0, 1, 0, 1, 1, N, N, N, N, N],
                                       [0] * 13, [1] * 13], float), DAYS,
                             np.full(3, INF), np.array([INF, INF, 100.0]), 182.0,
                             Rules(1, 1, False), ids=["a", "b", "c"])
    s = absence_spells(e)
    assert s.to_dict("list") == {"participant_id": ["a", "a", "a", "c"], "spell": [1, 2, 3, 1],
                                 "start": [28.0, 70.0, 98.0, 14.0],
                                 "stop": [56.0, 84.0, 112.0, 100.0], "event": [1, 1, 0, 0]}


def test_rules_come_from_the_config_block():
    r = Rules.from_config(with_defaults("derivation.work_status", {"change_time": "midpoint"}))
    assert r == Rules(bridge=1, relapse=1, midpoint=True)
    assert Rules.from_config(with_defaults("derivation.work_status",
                                           {"bridge_missing_reports": None})).bridge is None


# ---------------------------------------------------------------- properties
def _reference(row, censor, leave, window, rules: Rules):
    """The rules of the module docstring, written out plainly for one participant."""
    limit = min(censor, window)
    reps = [(j, d, int(s)) for j, (d, s) in enumerate(zip(DAYS, row)) if s == s and d <= limit]
    prev = -1
    for k, (j, d, s) in enumerate(reps):
        if rules.bridge is not None and j - prev - 1 > rules.bridge:
            reps = reps[:k]
            break
        prev = j
    last_contact = reps[-1][1] if reps else 0.0
    left = math.isfinite(leave) and leave <= last_contact
    if left:
        reps = [r for r in reps if r[1] < leave]
    end = leave if left else last_contact
    mid = (lambda a, b: (a + b) / 2) if rules.midpoint else (lambda a, b: b)
    changes, state, last_same, i = [], OFF, 0.0, 0
    while i < len(reps):
        d, s = reps[i][1], reps[i][2]
        if state == OFF or s == 1:
            if state == OFF and s == 1:
                changes.append((mid(last_same, d), AT))
                state = AT
            last_same, i = d, i + 1
            continue
        k = i
        while k < len(reps) and reps[k][2] == 0:
            k += 1
        if k - i >= rules.relapse or (k == len(reps) and left):
            changes.append((mid(last_same, d), OFF))
            state, last_same, i = OFF, reps[min(i + rules.relapse, k) - 1][1], min(i + rules.relapse, k)
        elif k == len(reps):
            end = last_same
            break
        else:
            i = k
    rows, t0, s0 = [], 0.0, OFF
    for t, s in changes:
        rows.append((t0, t, s0, s))
        t0, s0 = t, s
    if end > t0:
        rows.append((t0, end, s0, LEFT if left else CENS))
    return rows


_work = arrays(float, (12, 13), elements=st.sampled_from([0.0, 1.0, np.nan]))
_days = st.one_of(st.just(INF), st.integers(0, 200).map(float))


@settings(max_examples=150, deadline=None)
@given(_work, st.lists(_days, min_size=12, max_size=12), st.lists(_days, min_size=12, max_size=12),
       st.sampled_from([None, 0, 1, 2, 3]), st.integers(1, 3), st.booleans())
def test_episodes_follow_the_rules_and_tile_follow_up(work, censor, leave, bridge, relapse, mid):
    rules = Rules(bridge, relapse, mid)
    e = work_status_episodes(work, DAYS, np.array(censor), np.array(leave), 182.0, rules)
    s = absence_spells(e)
    for i in range(len(work)):
        rows = e[e["participant_id"] == i]
        got = [(r.start, r.stop, r.state, r.to) for r in rows.itertuples()]
        assert got == _reference(work[i], censor[i], leave[i], 182.0, rules), i
        if not got:
            continue
        start, stop = rows["start"].to_numpy(), rows["stop"].to_numpy()
        # intervals never overlap and tile follow-up from 0 to censoring or absorption
        assert start[0] == 0 and (start < stop).all() and (start[1:] == stop[:-1]).all()
        # states alternate: each interval is in the state the one before entered
        assert (rows["state"].to_numpy()[1:] == rows["to"].to_numpy()[:-1]).all()
        assert (rows["state"] != rows["to"]).all()
        # left job is absorbing: only ever entered last, and nothing after it
        assert (rows["to"].to_numpy()[:-1] != LEFT).all()
        assert (rows["to"].to_numpy()[:-1] != CENS).all()
        # the spells count the relapses
        sp = s[s["participant_id"] == i]
        relapses = int(((rows["state"] == AT) & (rows["to"] == OFF)).sum())
        assert sp["event"].sum() == relapses
        assert list(sp["spell"]) == list(range(1, len(sp) + 1))


@settings(max_examples=100, deadline=None)
@given(_work, st.lists(_days, min_size=12, max_size=12))
def test_with_r1_and_every_gap_bridged_relapses_are_the_off_reports_after_at_work(work, censor):
    """An independent count: with relapse_reports 1 and bridge null, the new spells are the
    at-work -> off-work changes in the sequence of used reports."""
    e = work_status_episodes(work, DAYS, np.array(censor), np.full(12, INF), 182.0,
                             Rules(None, 1, False))
    spells = absence_spells(e).groupby("participant_id")["event"].sum()
    for i in range(len(work)):
        seq = [s for d, s in zip(DAYS, work[i]) if s == s and d <= min(censor[i], 182.0)]
        changes = sum(1 for a, b in zip(seq, seq[1:]) if a == 1 and b == 0)
        assert spells.get(i, 0) == changes


# ---------------------------------------------------------------- WAVE synthetic trial
@pytest.fixture(scope="module")
def wave(tmp_path_factory):
    d = tmp_path_factory.mktemp("raw")
    write_synthetic(d)
    cfg = default_config()
    tables, _ = clean_tables(d, cfg, SCHEMAS)
    return d, tables, cfg


def test_wave_derived_tables_validate(wave):
    _, tables, cfg = wave
    episodes, spells = derive_work_status(tables, cfg)
    for name, df in (("work_status", episodes), ("absence_spells", spells)):
        validate_derived(df, load_long_schema(name), cfg, table=name, schema_name=name)
        assert list(df.columns) == list(load_long_schema(name)["properties"])
    assert episodes["participant_id"].nunique() > 100 and spells["event"].sum() > 0


def test_first_return_is_the_derived_time_to_first_rtw_when_every_gap_is_bridged(wave):
    _, tables, cfg = wave
    cfg = copy.deepcopy(cfg)
    cfg["derivation"]["work_status"]["bridge_missing_reports"] = None
    episodes, _ = derive_work_status(tables, cfg)
    a = derive_analysis(tables, cfg).set_index("participant_id")
    first = episodes[episodes["to"] == AT].groupby("participant_id")["stop"].first()
    rtw = a.loc[a["rtw_event"] == 1, "rtw_time"]
    assert len(rtw) > 50 and first.reindex(rtw.index).tolist() == rtw.tolist()
    left = episodes.loc[episodes["to"] == LEFT, "participant_id"]
    assert set(left) >= set(a.index[a["rtw_event"] == 2])


def test_a_corrupt_derived_table_names_participant_column_and_schema(wave):
    _, tables, cfg = wave
    episodes, _ = derive_work_status(tables, cfg)
    bad = episodes.copy()
    bad.loc[1, "start"] = 3.0
    with pytest.raises(InputError) as ei:
        validate_derived(bad, load_long_schema("work_status"), cfg,
                         table="results/data/work_status.parquet",
                         schema_name="workflow/schemas/work_status.schema.yaml")
    msg = str(ei.value)
    assert msg.startswith("results/data/work_status.parquet, participant ")
    assert "column 'start'" in msg and "bug in derivation" in msg and "work_status.schema" in msg
    bad = episodes.assign(to=episodes["to"].replace({"censored": "lost"}))
    with pytest.raises(InputError, match="column 'to': value not allowed"):
        validate_derived(bad, load_long_schema("work_status"), cfg, table="t", schema_name="s")


def _smk(raw, out: Path, cfg):
    outputs = {"analysis": "analysis.parquet", "analysis_csv": "analysis.csv",
               "queries": "queries.csv", "consort": "consort.csv", "clean": "clean",
               "work_status": "work_status.parquet", "work_status_csv": "work_status.csv",
               "absence_spells": "absence_spells.parquet",
               "absence_spells_csv": "absence_spells.csv"}
    schemas = {f"{k}_schema": str(SCHEMAS / f"{k}.schema.yaml")
               for k in ("analysis", "work_status", "absence_spells")}
    return SimpleNamespace(input=SimpleNamespace(**schemas),
                           params=Params(raw_dir=str(raw), schemas=str(SCHEMAS), **cfg),
                           output=SimpleNamespace(**{k: str(out / v) for k, v in outputs.items()}),
                           log=[])


def test_clean_derive_writes_the_long_tables(wave, tmp_path, monkeypatch):
    import rtw.core.entry
    monkeypatch.setattr(rtw.core.entry, "setup_logging", lambda *a, **k: None)
    raw, tables, cfg = wave
    out = tmp_path / "results"
    runpy.run_path(str(ROOT / "scripts" / "clean_derive.py"),
                   init_globals={"snakemake": _smk(raw, out, cfg)})
    episodes, spells = derive_work_status(tables, cfg)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "work_status.parquet"), episodes)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "absence_spells.parquet"), spells)
    assert pd.read_csv(out / "absence_spells.csv").shape == spells.shape


def test_clean_derive_writes_nothing_when_a_long_table_fails(wave, tmp_path, monkeypatch, capsys):
    import rtw.core.entry
    import rtw.data.episodes as episodes
    real = episodes.derive_work_status
    monkeypatch.setattr(rtw.core.entry, "setup_logging", lambda *a, **k: None)

    def broken(tables, cfg):
        e, s = real(tables, cfg)
        return e, s.assign(event=np.int64(2))
    monkeypatch.setattr(episodes, "derive_work_status", broken)
    raw, _, cfg = wave
    out = tmp_path / "results"
    with pytest.raises(SystemExit) as ei:
        runpy.run_path(str(ROOT / "scripts" / "clean_derive.py"),
                       init_globals={"snakemake": _smk(raw, out, cfg)})
    assert ei.value.code == 1
    err = capsys.readouterr().err
    assert "absence_spells.parquet" in err and "column 'event'" in err
    assert not out.exists() or list(out.rglob("*")) == []
