"""The CONSORT layout is checked as data, without drawing: the numbers in the boxes are the
consort table's, boxes do not overlap, arrows join box edges and the arm columns mirror each
other about the enrolment column."""

import io
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import fixtures_outputs as F
import rtw
from rtw.report.consort import ConsortLayout, consort_layout

#: results/data/consort.csv of a run of the default pipeline (simulated trial).
PIPELINE_CONSORT = """stage_order,stage,arm,n,reason
1,invited,all,7955,
2,responded,all,576,
3,assessed_eligible,all,369,
4,not_eligible,all,207,
4,not_eligible,all,58,not employed
4,not_eligible,all,53,off work less than 2 weeks
4,not_eligible,all,43,off work more than 6 months
4,not_eligible,all,53,other reason
5,declined,all,239,
6,randomised,all,130,
7,allocated,usual_care,64,
7,allocated,vocational_advice,66,
8,received_intervention,vocational_advice,61,
9,withdrawn,usual_care,4,
9,withdrawn,usual_care,2,followup
9,withdrawn,usual_care,2,full
9,withdrawn,vocational_advice,0,
10,analysed_primary,usual_care,59,
11,missing_primary,usual_care,5,
10,analysed_primary,vocational_advice,66,
11,missing_primary,vocational_advice,0,
"""

EPS = 1e-9


def _frames():
    return {"fixture": F.consort_df(), "pipeline": pd.read_csv(io.StringIO(PIPELINE_CONSORT))}


@pytest.fixture(params=["fixture", "pipeline"])
def case(request):
    cons = _frames()[request.param]
    return cons, consort_layout(cons, F.config())


def _consort_rows(cons: pd.DataFrame) -> list:
    rows = cons.fillna({"reason": ""})
    return sorted(zip(rows["stage"], rows["arm"], rows["reason"].astype(str),
                      rows["n"].astype(int)))


def _numbers_shown(text: str) -> list:
    return [int(m.replace(",", "")) for m in re.findall(r"\(n=([\d,]+)\)", text)]


def _on_edge(box, x, y) -> bool:
    """(x, y) lies on the outline of ``box``."""
    on_horizontal = (abs(y - box.top) < EPS or abs(y - box.bottom) < EPS) and \
        box.left - EPS <= x <= box.right + EPS
    on_vertical = (abs(x - box.left) < EPS or abs(x - box.right) < EPS) and \
        box.top - EPS <= y <= box.bottom + EPS
    return on_horizontal or on_vertical


def _boxes_at(layout: ConsortLayout, x, y) -> list:
    return [b.key for b in layout.boxes if _on_edge(b, x, y)]


def _on_segment(arrow, x, y) -> bool:
    """(x, y) lies on a vertical or horizontal connector."""
    if abs(arrow.x0 - arrow.x1) < EPS:
        return abs(x - arrow.x0) < EPS and min(arrow.y0, arrow.y1) < y < max(arrow.y0, arrow.y1)
    return abs(y - arrow.y0) < EPS and min(arrow.x0, arrow.x1) < x < max(arrow.x0, arrow.x1)


# ------------------------------------------------------------- counts --
def test_every_count_in_a_box_is_the_consort_tables(case):
    cons, layout = case
    # every row of the table is shown once, with its number
    shown = sorted((c.stage, c.arm, c.reason, c.n) for c in layout.counts)
    assert shown == _consort_rows(cons)
    table = {(s, a, r): n for s, a, r, n in _consort_rows(cons)}
    for box in layout.boxes:
        counts = [c for c in layout.counts if c.box == box.key]
        # the numbers printed in the box, in order, are its counts, each the table's
        assert _numbers_shown(box.text) == [c.n for c in counts], box.key
        for c in counts:
            assert table[(c.stage, c.arm, c.reason)] == c.n
            assert c.arm == box.arm or box.arm == "all"
    assert {c.box for c in layout.counts} == {b.key for b in layout.boxes}


def test_box_texts_name_the_stage_arm_and_reason():
    layout = consort_layout(F.consort_df(), F.config())
    assert layout.box("invited").lines == ("Invited (n=7,955)",)
    assert layout.box("allocation:usual_care").lines == ("Allocated to Usual care (n=64)",)
    assert layout.box("follow-up:usual_care").lines == (
        "Withdrawn (n=3)", "  \u2022 From follow-up (n=2)", "  \u2022 Full withdrawal (n=1)")
    assert "  \u2022 Off work < 2 weeks (n=180)" in layout.box("excluded").lines
    cfg = F.config()
    cfg["figures"] = {"consort_reason_labels": {"full": "Withdrew fully"}}
    relabelled = consort_layout(F.consort_df(), cfg)
    assert "  \u2022 Withdrew fully (n=1)" in relabelled.box("follow-up:usual_care").lines


def test_frames_are_the_boxes_and_counts():
    layout = consort_layout(F.consort_df(), F.config())
    frames = layout.frames()
    assert list(frames["boxes"]["box"]) == [b.key for b in layout.boxes]
    assert list(frames["boxes"]["text"]) == [b.text for b in layout.boxes]
    assert list(frames["counts"].columns) == ["stage", "arm", "reason", "n", "box"]
    assert len(frames["counts"]) == len(layout.counts)


# ----------------------------------------------------------- geometry --
def test_boxes_lie_on_the_page_and_do_not_overlap(case):
    _, layout = case
    for b in layout.boxes:
        assert 0 <= b.left < b.right <= layout.width and 0 <= b.top < b.bottom <= layout.height
    for b0, b1 in itertools.combinations(layout.boxes, 2):
        apart = (b0.right <= b1.left or b1.right <= b0.left
                 or b0.bottom <= b1.top or b1.bottom <= b0.top)
        assert apart, (b0.key, b1.key)
    # section banners (with their 0.3 mm rounding pad) sit between the rows of boxes
    for banner, b in itertools.product(layout.banners, layout.boxes):
        pad = 0.3
        apart = (banner.x + banner.w + pad <= b.left or b.right <= banner.x - pad
                 or banner.y + banner.h + pad <= b.top or b.bottom <= banner.y - pad)
        assert apart, (banner.title, b.key)
    assert [banner.title for banner in layout.banners] == ["Allocation", "Follow-up", "Analysis"]


def test_arrows_start_and_end_on_box_edges(case):
    _, layout = case
    chain = [layout.box(k) for k in ("invited", "responded", "assessed_eligible", "randomised")]
    down_chain = [a for a in layout.enrolment_arrows if abs(a.x0 - a.x1) < EPS]
    # down the enrolment column: bottom edge of one box to the top edge of the next
    assert [(_boxes_at(layout, a.x0, a.y0), _boxes_at(layout, a.x1, a.y1)) for a in down_chain] \
        == [([b0.key], [b1.key]) for b0, b1 in zip(chain, chain[1:])]
    for a, (b0, b1) in zip(down_chain, zip(chain, chain[1:])):
        assert a.y0 == pytest.approx(b0.bottom) and a.y1 == pytest.approx(b1.top)
    # the exclusion arrow leaves the column's connector and ends on the exclusion box's left edge
    (side,) = [a for a in layout.enrolment_arrows if abs(a.y0 - a.y1) < EPS]
    excluded = layout.box("excluded")
    assert _boxes_at(layout, side.x1, side.y1) == ["excluded"]
    assert side.x1 == pytest.approx(excluded.left)
    assert any(_on_segment(a, side.x0, side.y0) for a in down_chain)
    # down each arm column: every arrow joins two boxes of the same arm
    for a in layout.arm_arrows:
        starts, ends = _boxes_at(layout, a.x0, a.y0), _boxes_at(layout, a.x1, a.y1)
        assert len(starts) == 1 and len(ends) == 1, a
        start, end = starts[0], ends[0]
        assert layout.box(start).arm == layout.box(end).arm
        assert a.y0 == pytest.approx(layout.box(start).bottom)
        assert a.y1 == pytest.approx(layout.box(end).top)
    assert len(layout.arm_arrows) == 2 * 2   # allocation -> follow-up -> analysis, two arms
    assert all(a.head for a in layout.enrolment_arrows + layout.arm_arrows)


def test_randomised_forks_to_each_allocation_box(case):
    _, layout = case
    fork = layout.fork
    assert _boxes_at(layout, fork.stem.x0, fork.stem.y0) == ["randomised"]
    assert not fork.stem.head and fork.stem.y1 == pytest.approx(fork.bar_y)
    assert fork.bar_x0 <= fork.stem.x1 <= fork.bar_x1
    ends = []
    for branch in fork.branches:
        assert branch.y0 == pytest.approx(fork.bar_y)
        assert fork.bar_x0 - EPS <= branch.x0 <= fork.bar_x1 + EPS
        found = _boxes_at(layout, branch.x1, branch.y1)
        assert len(found) == 1, branch
        end = found[0]
        assert branch.y1 == pytest.approx(layout.box(end).top)
        ends.append(end)
    assert ends == ["allocation:usual_care", "allocation:vocational_advice"]


def test_arm_columns_are_symmetric(case):
    _, layout = case
    for stage in ("allocation", "follow-up", "analysis"):
        left, right = [b for b in layout.boxes if b.stage == stage]
        assert (left.arm, right.arm) == (F.CONTROL, F.INTERVENTION)   # config order
        assert left.cx + right.cx == pytest.approx(2 * layout.centre_x)
        assert left.cx < layout.centre_x < right.cx
        assert (left.top, left.h, left.w) == (right.top, right.h, right.w)
    for a0, a1 in zip(layout.arm_arrows[::2], layout.arm_arrows[1::2]):
        assert a0.x0 + a1.x0 == pytest.approx(2 * layout.centre_x)
        assert (a0.y0, a0.y1) == (a1.y0, a1.y1)
    b0, b1 = layout.fork.branches
    assert b0.x0 + b1.x0 == pytest.approx(2 * layout.centre_x)
    assert layout.fork.stem.x0 == pytest.approx(layout.centre_x)
    for key in ("invited", "responded", "assessed_eligible", "randomised"):
        assert layout.box(key).cx == pytest.approx(layout.centre_x)


def test_absent_stages_are_left_out():
    cons = F.consort_df()
    cons = cons[~cons["stage"].isin(["randomised", "not_eligible", "declined"])]
    layout = consort_layout(cons, F.config())
    keys = [b.key for b in layout.boxes]
    assert "randomised" not in keys and "excluded" not in keys
    assert layout.fork is None
    assert len(layout.enrolment_arrows) == 2          # invited -> responded -> assessed
    assert sorted((c.stage, c.arm, c.reason, c.n) for c in layout.counts) == _consort_rows(cons)


def test_unknown_arm_is_rejected():
    cons = F.consort_df()
    cons.loc[cons["stage"] == "allocated", "arm"] = ["usual_care", "other"]
    with pytest.raises(ValueError, match="other"):
        consort_layout(cons, F.config())


# ---------------------------------------------------- no matplotlib --
def _run(code: str) -> subprocess.CompletedProcess:
    lib = str(Path(rtw.__file__).resolve().parents[1])
    tests = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([lib, tests])}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)


def test_importing_the_layout_module_does_not_import_matplotlib():
    out = _run("import sys, rtw.report.consort\n"
               "loaded = sorted(m for m in sys.modules if 'matplotlib' in m)\n"
               "assert not loaded, loaded")
    assert out.returncode == 0, out.stderr


def test_building_a_layout_makes_no_figure():
    """Text is measured in the project font, but no pyplot and no Figure are involved."""
    out = _run("import sys, fixtures_outputs as F\n"
               "from rtw.report.consort import consort_layout\n"
               "layout = consort_layout(F.consort_df(), F.config())\n"
               "assert layout.boxes\n"
               "assert 'matplotlib.pyplot' not in sys.modules\n"
               "assert 'matplotlib.figure' not in sys.modules\n")
    assert out.returncode == 0, out.stderr
