"""The CONSORT layout is checked as data, without drawing: the flow is CONSORT 2010's, every box
is the sum of its parts (a table that does not add up is refused), the numbers in the boxes are
the consort table's, the stage labels are alike, boxes do not overlap, arrows join box edges and
the arm columns mirror each other about the enrolment column."""

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
from rtw.report.consort import ConsortLayout, consort_layout, reconcile

#: results/data/consort.csv of a run of the default pipeline (simulated trial), CONSORT 2010 flow.
PIPELINE_CONSORT = """stage_order,stage,arm,n,reason
1,invited,all,7955,
2,not_responded,all,7379,
3,assessed,all,576,
4,excluded,all,446,
5,not_eligible,all,207,
5,not_eligible,all,58,not employed
5,not_eligible,all,53,off work less than 2 weeks
5,not_eligible,all,43,off work more than 6 months
5,not_eligible,all,53,other reason
6,declined,all,239,
7,other_excluded,all,0,
8,randomised,all,130,
10,allocated,usual_care,64,
10,allocated,vocational_advice,66,
11,received,usual_care,64,
11,received,vocational_advice,61,
12,not_received,usual_care,0,
12,not_received,vocational_advice,5,
12,not_received,vocational_advice,5,no_contact_recorded
13,lost_to_follow_up,usual_care,5,
13,lost_to_follow_up,vocational_advice,0,
14,discontinued,usual_care,4,
14,discontinued,usual_care,2,followup
14,discontinued,usual_care,2,full
14,discontinued,vocational_advice,0,
15,analysed,usual_care,59,
15,analysed,vocational_advice,66,
16,excluded_from_analysis,usual_care,5,
16,excluded_from_analysis,usual_care,5,missing_outcome_lost
16,excluded_from_analysis,vocational_advice,0,
"""

#: The same run's consort.csv before issue 11: "assessed_eligible" was the number found
#: eligible (576 responded - 207 not eligible), no excluded total, no lost to follow-up.
OLD_FLOW_CONSORT = """stage_order,stage,arm,n,reason
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
    """The CONSORT 2010 template's boxes: a stage's parts as bullets, their reasons as dashes.
    (Before issue 11 the allocation box had no received / did not receive lines, the
    follow-up box only "Withdrawn", and the not-eligible reasons were bullets of a
    "Not eligible" line with no "Excluded" total: those assertions are replaced.)"""
    layout = consort_layout(F.consort_df(), F.config())
    assert layout.box("invited").lines == ("Invited (n=7,955)",)
    assert layout.box("not_responded").lines == ("Did not respond (n=7,443)",)
    assert layout.box("assessed").lines == ("Assessed for eligibility (n=512)",)
    assert layout.box("excluded").lines == (
        "Excluded (n=382)", "  \u2022 Not meeting inclusion criteria (n=300)",
        "      \u2013 Off work < 2 weeks (n=180)", "      \u2013 Not employed (n=120)",
        "  \u2022 Declined to participate (n=50)", "  \u2022 Other reasons (n=32)",
        "      \u2013 Eligibility not recorded (n=32)")
    assert layout.box("randomised").lines == ("Randomised (n=130)",)
    assert layout.box("allocation:usual_care").lines == (
        "Allocated to Usual care (n=64)", "  \u2022 Received allocated intervention (n=64)",
        "  \u2022 Did not receive allocated intervention (n=0)")
    assert layout.box("allocation:vocational_advice").lines == (
        "Allocated to Vocational advice (n=66)",
        "  \u2022 Received allocated intervention (n=61)",
        "  \u2022 Did not receive allocated intervention (n=5)",
        "      \u2013 No intervention contact recorded (n=3)",
        "      \u2013 Withdrew from intervention (n=2)")
    assert layout.box("follow-up:usual_care").lines == (
        "Lost to follow-up (n=2)", "Discontinued intervention or withdrew (n=3)",
        "  \u2022 From follow-up (n=2)", "  \u2022 Full withdrawal (n=1)")
    assert layout.box("analysis:usual_care").lines == (
        "Analysed for the primary outcome (n=61)", "Excluded from analysis (n=3)",
        "  \u2022 Primary outcome missing (lost to follow-up) (n=2)",
        "  \u2022 Primary outcome missing (withdrew) (n=1)")
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


# ---------------------------------------------------------- reconcile --
ARMS = [F.CONTROL, F.INTERVENTION]


def test_every_box_is_the_sum_of_its_parts(case):
    """On the default trial's consort.csv and the fixture: each CONSORT 2010 sum holds."""
    cons, layout = case
    checks = reconcile(cons, ARMS)
    assert checks["ok"].all(), checks[~checks["ok"]]
    assert layout.checks.equals(checks)
    by_name = checks.groupby("check")["arm"].apply(list).to_dict()
    assert by_name["invited = not_responded + assessed"] == ["all"]
    assert by_name["excluded = not_eligible + declined + other_excluded"] == ["all"]
    assert by_name["assessed = excluded + randomised"] == ["all"]
    assert by_name["randomised = allocated[usual_care] + allocated[vocational_advice]"] == ["all"]
    assert by_name["allocated = received + not_received"] == ARMS
    assert by_name["allocated = analysed + excluded_from_analysis"] == ARMS
    # every stage with reasons: its total is the sum of its reasons
    with_reasons = cons[cons["reason"].fillna("") != ""][["stage", "arm"]].drop_duplicates()
    reason_checks = checks[checks["check"].str.endswith("sum of its reasons")]
    assert sorted(zip(reason_checks["check"].str.split(" ").str[0], reason_checks["arm"])) == \
        sorted(zip(with_reasons["stage"], with_reasons["arm"]))
    t = {(r.stage, r.arm): r.n for r in cons[cons["reason"].fillna("") == ""].itertuples()}
    assert t[("assessed", "all")] == t[("excluded", "all")] + t[("randomised", "all")]
    for arm in ARMS:
        assert t[("allocated", arm)] == t[("analysed", arm)] + t[("excluded_from_analysis", arm)]


def _broken(stage, arm, reason, delta):
    cons = F.consort_df()
    hit = (cons["stage"] == stage) & (cons["arm"] == arm) & (cons["reason"] == reason)
    assert hit.sum() == 1
    cons.loc[hit, "n"] += delta
    return cons


@pytest.mark.parametrize("stage, arm, reason, message", [
    ("excluded", "all", "", r"excluded = not_eligible \+ declined \+ other_excluded \[all\]: "
                            r"383 != 300 \+ 50 \+ 32 = 382"),
    ("not_responded", "all", "", r"invited = not_responded \+ assessed \[all\]: "
                                 r"7955 != 7444 \+ 512 = 7956"),
    ("declined", "all", "", r"assessed = excluded \+ randomised|excluded = not_eligible"),
    ("received", F.INTERVENTION, "", r"allocated = received \+ not_received "
                                     r"\[vocational_advice\]: 66 != 62 \+ 5 = 67"),
    ("analysed", F.CONTROL, "", r"allocated = analysed \+ excluded_from_analysis "
                                r"\[usual_care\]: 64 != 62 \+ 3 = 65"),
    ("not_eligible", "all", "not_employed", r"not_eligible = sum of its reasons \[all\]: "
                                            r"300 != 180 \+ 121 = 301"),
    ("discontinued", F.CONTROL, "full", r"discontinued = sum of its reasons \[usual_care\]"),
])
def test_counts_that_do_not_add_up_are_refused(stage, arm, reason, message):
    cons = _broken(stage, arm, reason, 1)
    checks = reconcile(cons, ARMS)
    assert not checks["ok"].all()
    with pytest.raises(ValueError, match="CONSORT counts do not reconcile") as err:
        consort_layout(cons, F.config())
    assert re.search(message, str(err.value)), str(err.value)


def test_randomised_must_be_the_sum_of_the_arms():
    cons = _broken("allocated", F.CONTROL, "", 1)
    with pytest.raises(ValueError) as err:
        consort_layout(cons, F.config())
    text = str(err.value)
    assert "randomised = allocated[usual_care] + allocated[vocational_advice] [all]: " \
           "130 != 65 + 66 = 131" in text
    assert "allocated = received + not_received [usual_care]: 65 != 64 + 0 = 64" in text


def test_the_old_flow_is_refused():
    """consort.csv of the pre-2010 flow (issue 11: "assessed" was the number found eligible)
    is not drawn: its stages are named in the error."""
    with pytest.raises(ValueError, match="unknown stage.*assessed_eligible"):
        consort_layout(pd.read_csv(io.StringIO(OLD_FLOW_CONSORT)), F.config())


def test_stage_labels_are_alike(case):
    """Enrolment, Allocation, Follow-up and Analysis are each a banner of the same size,
    centred on the enrolment column just above the stage's first box."""
    _, layout = case
    banners = {b.title: b for b in layout.banners}
    assert len({(b.w, b.h) for b in layout.banners}) == 1
    first = {"Enrolment": layout.box("invited"), "Allocation": layout.box("allocation:usual_care"),
             "Follow-up": layout.box("follow-up:usual_care"),
             "Analysis": layout.box("analysis:usual_care")}
    for title, box in first.items():
        b = banners[title]
        assert b.x + b.w / 2 == pytest.approx(layout.centre_x) == pytest.approx(b.text_x)
        assert b.text_y == pytest.approx(b.y + b.h / 2)
        assert 0 < box.top - (b.y + b.h) < 2.0
    assert not hasattr(layout, "enrolment_label")


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
    # every stage has a banner (before issue 11 Enrolment was a rotated side label)
    assert [banner.title for banner in layout.banners] == ["Enrolment", "Allocation", "Follow-up",
                                                           "Analysis"]


def test_arrows_start_and_end_on_box_edges(case):
    _, layout = case
    chain = [layout.box(k) for k in ("invited", "assessed", "randomised")]
    down_chain = [a for a in layout.enrolment_arrows if abs(a.x0 - a.x1) < EPS]
    # down the enrolment column: bottom edge of one box to the top edge of the next
    assert [(_boxes_at(layout, a.x0, a.y0), _boxes_at(layout, a.x1, a.y1)) for a in down_chain] \
        == [([b0.key], [b1.key]) for b0, b1 in zip(chain, chain[1:])]
    for a, (b0, b1) in zip(down_chain, zip(chain, chain[1:])):
        assert a.y0 == pytest.approx(b0.bottom) and a.y1 == pytest.approx(b1.top)
    # each side arrow leaves the column's connector between the boxes the side box sits
    # between and ends on the middle of the side box's left edge: invited -> did not respond,
    # assessed -> excluded
    sides = [a for a in layout.enrolment_arrows if abs(a.y0 - a.y1) < EPS]
    assert [_boxes_at(layout, a.x1, a.y1) for a in sides] == [["not_responded"], ["excluded"]]
    for side, (key, connector) in zip(sides, [("not_responded", 0), ("excluded", 1)]):
        box = layout.box(key)
        assert side.x1 == pytest.approx(box.left)
        assert side.y1 == pytest.approx(box.top + box.h / 2)
        assert _on_segment(down_chain[connector], side.x0, side.y0)
        assert chain[connector].bottom < box.top and box.bottom < chain[connector + 1].top
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
    for key in ("invited", "assessed", "randomised"):
        assert layout.box(key).cx == pytest.approx(layout.centre_x)
    # the side boxes end on the right margin, as the last arm's boxes do
    for key in ("not_responded", "excluded"):
        assert layout.box(key).right == pytest.approx(right.right)


def test_absent_stages_are_left_out():
    cons = F.consort_df()
    cons = cons[~cons["stage"].isin(["randomised", "excluded", "not_eligible", "declined",
                                     "other_excluded"])]
    layout = consort_layout(cons, F.config())
    keys = [b.key for b in layout.boxes]
    assert "randomised" not in keys and "excluded" not in keys
    assert layout.fork is None
    assert len(layout.enrolment_arrows) == 2          # invited -> assessed, -> did not respond
    assert sorted((c.stage, c.arm, c.reason, c.n) for c in layout.counts) == _consort_rows(cons)
    # a screening log without invitations starts at "Assessed for eligibility"
    no_invitations = F.consort_df()
    no_invitations = no_invitations[~no_invitations["stage"].isin(["invited", "not_responded"])]
    layout = consort_layout(no_invitations, F.config())
    assert layout.boxes[0].key == "assessed"
    assert [_boxes_at(layout, a.x1, a.y1) for a in layout.enrolment_arrows] == [
        ["randomised"], ["excluded"]]


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
