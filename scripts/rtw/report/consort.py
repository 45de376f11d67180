"""CONSORT 2010 flow diagram: a layout in millimetres (plain data), then a drawing.

The flow is the CONSORT 2010 template's (Schulz et al., BMJ 2010;340:c332, figure 1):
*Enrolment* -- invited (when the exports list invitations), did not respond,
assessed for eligibility, excluded (not meeting inclusion criteria with reasons,
declined to participate, other reasons), randomised; then per arm *Allocation*
(allocated; received / did not receive the allocated intervention, with reasons),
*Follow-up* (lost to follow-up; discontinued intervention or withdrew, with
reasons) and *Analysis* (analysed for the primary outcome; excluded from
analysis, with reasons).  Every stage label is a banner of the same style.

:func:`reconcile` checks that every box equals the sum of its parts;
:func:`consort_layout` (which calls it and raises when the counts do not add up)
turns ``consort.csv`` and the config into a :class:`ConsortLayout`: the boxes
with their wrapped text lines, positions and sizes, the count each number in a
box comes from, and the connectors between boxes, all in millimetres from the
top-left corner of a double-column page (y grows downwards).
:func:`draw_consort` draws a layout with matplotlib;
:func:`rtw.report.figures.consort_diagram` is the two in a row.

This module imports no matplotlib when it is imported.  Building a layout
measures text in the project font (:mod:`rtw.report.measure`) and reads arm
order, arm names and the page width from :mod:`rtw.report.style` (which
imports matplotlib), but makes no figure: a layout can be checked without
drawing.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from rtw.report import fmt
from rtw.report.measure import text_width_mm

#: Height of one 7-pt text line (with leading 1.25) in mm, and the padding inside a box.
LINE_MM = 7 * 1.25 * 25.4 / 72
PAD_MM = 1.6
#: Page geometry in mm: side margins, top margin, width of the enrolment column, widest
#: arm box, vertical gap between boxes, gap between the enrolment column and its side boxes.
MARGIN_MM = 2.0
TOP_MM = 3.0
MAIN_W_MM = 56.0
MAX_ARM_W_MM = 72.0
GAP_MM = 6.0
SIDE_GAP_MM = 5.0
#: Least horizontal gap between two arm boxes (a banner, 30 mm, sits between them).
ARM_GAP_MM = 34.0
#: Room above a section's first box for its banner, and the banner's size.
BANNER_ROOM_MM = 5.0
BANNER_W_MM = 30.0
BANNER_H_MM = 3.6

#: Stage labels (CONSORT 2010 wording), top to bottom; each is a banner of the same style.
SECTION_TITLES = ("Enrolment", "Allocation", "Follow-up", "Analysis")

#: Text of each stage of ``consort.csv`` (``{arm}``: the arm's name).
STAGE_TEXT = {
    "invited": "Invited", "not_responded": "Did not respond",
    "assessed": "Assessed for eligibility", "excluded": "Excluded",
    "not_eligible": "Not meeting inclusion criteria", "declined": "Declined to participate",
    "other_excluded": "Other reasons", "randomised": "Randomised",
    "not_screened": "Not found in the screening log",
    "allocated": "Allocated to {arm}", "received": "Received allocated intervention",
    "not_received": "Did not receive allocated intervention",
    "lost_to_follow_up": "Lost to follow-up",
    "discontinued": "Discontinued intervention or withdrew",
    "analysed": "Analysed for the primary outcome",
    "excluded_from_analysis": "Excluded from analysis",
}

#: Enrolment boxes top to bottom: (box key, side box?, lines as (stage, level)).
ENROLMENT_BOXES = (
    ("invited", False, (("invited", 0),)),
    ("not_responded", True, (("not_responded", 0),)),
    ("assessed", False, (("assessed", 0),)),
    ("excluded", True, (("excluded", 0), ("not_eligible", 1), ("declined", 1),
                        ("other_excluded", 1))),
    ("randomised", False, (("randomised", 0), ("not_screened", 1))),
)
#: Per-arm boxes of each section: lines as (stage, level); a stage's reasons one level deeper.
ARM_BOXES = {
    "Allocation": (("allocated", 0), ("received", 1), ("not_received", 1)),
    "Follow-up": (("lost_to_follow_up", 0), ("discontinued", 0)),
    "Analysis": (("analysed", 0), ("excluded_from_analysis", 0)),
}
#: Line prefix by level: a stage, its parts (bullets), their reasons (dashes).
LEVEL_PREFIX = ("", "  \u2022 ", "      \u2013 ")

#: Box sums (left = right) that :func:`reconcile` checks, at arm ``all`` for enrolment
#: stages and per arm for the others; optional stages count 0 when absent.
SUMS = (
    (("invited",), ("not_responded", "assessed")),
    (("excluded",), ("not_eligible", "declined", "other_excluded")),
    (("assessed", "not_screened"), ("excluded", "randomised")),
    (("allocated",), ("received", "not_received")),
    (("allocated",), ("analysed", "excluded_from_analysis")),
)
OPTIONAL_STAGES = frozenset({"not_screened"})
ENROLMENT_STAGES = frozenset({"invited", "not_responded", "assessed", "excluded", "not_eligible",
                              "declined", "other_excluded", "randomised", "not_screened"})

#: Display text of the reason codes ``consort.csv`` carries (withdrawal levels of the
#: withdrawals export, codes of :func:`rtw.data.derivation.consort_counts`); others are
#: prettified, and config ``figures.consort_reason_labels`` overrides any.
REASON_LABELS = {
    "intervention": "From intervention", "from_intervention": "From intervention",
    "followup": "From follow-up", "follow_up": "From follow-up",
    "from_follow_up": "From follow-up", "from_followup": "From follow-up",
    "full": "Full withdrawal", "full_data_kept": "Full, data kept",
    "full_data_removed": "Full, data removed",
    "eligibility_not_recorded": "Eligibility not recorded",
    "consent_not_recorded": "Consent not recorded",
    "consented_not_randomised": "Consented, not randomised",
    "no_contact_recorded": "No intervention contact recorded",
    "withdrew_intervention": "Withdrew from intervention",
    "withdrew_followup": "Withdrew from follow-up", "withdrew_full": "Withdrew fully",
    "received_intervention_contacts": "Had intervention contacts",
    "missing_outcome_lost": "Primary outcome missing (lost to follow-up)",
    "missing_outcome_withdrawn": "Primary outcome missing (withdrew)",
}


# ------------------------------------------------------------- layout data --
@dataclass(frozen=True)
class Box:
    """One box of the diagram, in mm from the top-left corner of the page.

    Attributes
    ----------
    key : str
        Enrolment: ``invited``, ``assessed``, ``randomised`` (the column),
        ``not_responded``, ``excluded`` (its side boxes); per arm
        ``<section>:<arm>`` (``allocation:<arm>``, ``follow-up:<arm>``,
        ``analysis:<arm>``).
    stage : str
        The key without the arm.
    arm : str
        Arm label, ``all`` for the enrolment column.
    cx, top, w, h : float
        Horizontal centre, top edge, width and height.
    lines : tuple of str
        Text lines, wrapped to the box width.
    centred : bool
        Text centred in the box (one-line boxes of the enrolment column) or from its
        top-left corner.
    """

    key: str
    stage: str
    arm: str
    cx: float
    top: float
    w: float
    h: float
    lines: tuple
    centred: bool = True

    @property
    def left(self) -> float:
        return self.cx - self.w / 2

    @property
    def right(self) -> float:
        return self.cx + self.w / 2

    @property
    def bottom(self) -> float:
        return self.top + self.h

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def text_anchor(self) -> tuple:
        """``(x, y, ha, va)`` of the text: the centre, or the top-left corner inside the padding."""
        if self.centred:
            return self.cx, self.top + self.h / 2, "center", "center"
        return self.left + PAD_MM, self.top + PAD_MM, "left", "top"


@dataclass(frozen=True)
class Arrow:
    """A connector from ``(x0, y0)`` to ``(x1, y1)``; a plain line when ``head`` is False."""

    x0: float
    y0: float
    x1: float
    y1: float
    head: bool = True


@dataclass(frozen=True)
class Fork:
    """Randomised box to the allocation boxes: a stem down to a bar, then an arrow down to each."""

    stem: Arrow
    bar_x0: float
    bar_x1: float
    bar_y: float
    branches: tuple


@dataclass(frozen=True)
class Banner:
    """Stage label (Enrolment, Allocation, Follow-up, Analysis): a grey rounded box at x, y,
    w, h, centred above the stage's first row of boxes."""

    title: str
    x: float
    y: float
    w: float
    h: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Count:
    """A number shown in a box: the consort row (stage, arm, reason) it comes from."""

    stage: str
    arm: str
    reason: str
    n: int
    box: str


@dataclass(frozen=True)
class ConsortLayout:
    """Everything :func:`draw_consort` draws, in mm (page ``width`` x ``height``).

    Attributes
    ----------
    width, height : float
    centre_x : float
        Centre line of the enrolment column (midway between the arm columns).
    boxes : tuple of Box
        In drawing order: the enrolment boxes top to bottom (column and side
        boxes), then the arm rows of each section.
    counts : tuple of Count
        One per number drawn, in the order the boxes show them.
    enrolment_arrows : tuple of Arrow
        Down the enrolment column, then from it to each side box.
    fork : Fork or None
        Randomised to the allocation boxes.
    arm_arrows : tuple of Arrow
        Down each arm column, section to section.
    banners : tuple of Banner
        One per stage shown, in :data:`SECTION_TITLES` order.
    checks : pandas.DataFrame
        :func:`reconcile` of the table drawn (every row ``ok``).
    """

    width: float
    height: float
    centre_x: float
    boxes: tuple
    counts: tuple
    enrolment_arrows: tuple
    fork: Fork | None
    arm_arrows: tuple
    banners: tuple
    checks: pd.DataFrame

    def box(self, key: str) -> Box:
        """The box called ``key`` (KeyError when there is none)."""
        for b in self.boxes:
            if b.key == key:
                return b
        raise KeyError(key)

    def frames(self) -> dict:
        """What is drawn as data frames: ``boxes`` (box, stage, arm, text) and ``counts``
        (stage, arm, reason, n, box)."""
        return {
            "boxes": pd.DataFrame([{"box": b.key, "stage": b.stage, "arm": b.arm, "text": b.text}
                                   for b in self.boxes]),
            "counts": pd.DataFrame([asdict(c) for c in self.counts],
                                   columns=["stage", "arm", "reason", "n", "box"]),
        }



# ---------------------------------------------------------- text helpers --
def _wrap(lines: Sequence[str], width_mm: float) -> list:
    """Greedy word wrap by measured width; continuation lines indented 2 spaces past the
    line's own indent and bullet (a hanging indent)."""
    avail = width_mm - 2 * PAD_MM - 0.5
    out = []
    for ln in lines:
        indent = len(ln) - len(ln.lstrip(" "))
        body = ln.strip()
        if body[:1] in ("\u2022", "\u2013"):
            indent += 2
        words = body.split(" ")
        cur = " " * (len(ln) - len(ln.lstrip(" ")))
        for word in words:
            trial = cur + ("" if cur.strip() == "" else " ") + word
            if cur.strip() and text_width_mm(trial) > avail:
                out.append(cur)
                cur = " " * (indent + 2) + word
            else:
                cur = trial
        out.append(cur)
    return out


def _box_height(n_lines: int) -> float:
    return n_lines * LINE_MM + 2 * PAD_MM


def _n_text(n) -> str:
    return f"(n={fmt.fmt_int(n)})"


def _reason_text(reason, labels: Mapping | None = None) -> str:
    r = str(reason).strip()
    table = {**REASON_LABELS, **(labels or {})}
    if r in table:
        return str(table[r])
    s = r.replace("_", " ")
    return s[:1].upper() + s[1:]


# ---------------------------------------------------------------- table --
class _ConsortTable:
    """``consort.csv`` with arm ``all`` and reason ``""`` for blanks, in stage order."""

    def __init__(self, consort_df: pd.DataFrame):
        df = consort_df.copy()
        df["arm"] = df["arm"].fillna("all").astype(str)
        df["reason"] = df["reason"].fillna("").astype(str)
        df["n"] = pd.to_numeric(df["n"], errors="raise").astype(int)
        if "stage_order" in df.columns:
            df = df.sort_values(["stage_order"], kind="mergesort")
        unknown = sorted(set(df["stage"].astype(str)) - set(STAGE_TEXT))
        if unknown:
            raise ValueError(f"consort table: unknown stage(s) {unknown}; the CONSORT 2010 stages "
                             f"are {list(STAGE_TEXT)} (rtw.data.derivation.consort_counts)")
        self.df = df

    def arm_rows(self) -> pd.DataFrame:
        return self.df[~self.df["arm"].isin(["all"])]

    def total(self, stage: str, arm: str = "all") -> int | None:
        """The stage's total (row with no reason), None when absent."""
        df = self.df
        r = df[(df["stage"] == stage) & (df["arm"] == arm) & (df["reason"] == "")]
        if not len(r):
            return None
        return int(r["n"].iloc[0])

    def reasons(self, stage: str, arm: str = "all") -> list:
        """``[(reason, n), ...]`` of the stage, in table order."""
        df = self.df
        r = df[(df["stage"] == stage) & (df["arm"] == arm) & (df["reason"] != "")]
        return list(zip(r["reason"], r["n"].astype(int)))


# ------------------------------------------------------------ reconcile --
def _sum_check(table: _ConsortTable, left, right, arm: str) -> dict | None:
    """One box sum at ``arm``: None when a (non-optional) stage of it is absent."""
    values = {}
    for stage in (*left, *right):
        n = table.total(stage, arm)
        if n is None and stage not in OPTIONAL_STAGES:
            return None
        values[stage] = 0 if n is None else n
    lhs, rhs = sum(values[s] for s in left), sum(values[s] for s in right)
    shown = [s for s in left if s not in OPTIONAL_STAGES or table.total(s, arm) is not None]
    return {"check": f"{' + '.join(shown)} = {' + '.join(right)}", "arm": arm,
            "left": lhs, "right": rhs, "left_terms": [values[s] for s in shown],
            "right_terms": [values[s] for s in right]}


def reconcile(consort_df: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """Check that every box of the flow equals the sum of its parts (CONSORT 2010).

    The sums :data:`SUMS` (at arm ``all`` for enrolment stages, per arm for the
    others), randomised = the sum of the arms' allocated, and every stage total
    with reasons = the sum of its reasons.  A sum is checked when the table has
    all its stages (:data:`OPTIONAL_STAGES` count 0 when absent).

    Parameters
    ----------
    consort_df : pandas.DataFrame
        ``consort.csv`` (columns ``stage, arm, n, reason``).
    arms : sequence of str
        Arm labels in config order.

    Returns
    -------
    pandas.DataFrame
        One row per check: ``check`` (e.g. ``allocated = received + not_received``),
        ``arm``, ``left``, ``right`` (the sums), ``left_terms``, ``right_terms``
        (the counts summed, lists), ``ok``.
    """
    return _reconcile(_ConsortTable(consort_df), arms)


def _reconcile(table: _ConsortTable, arms: Sequence[str]) -> pd.DataFrame:
    """:func:`reconcile` of a parsed table."""
    rows = []
    for left, right in SUMS:
        scopes = ["all"] if set(left) <= ENROLMENT_STAGES else list(arms)
        rows += [r for arm in scopes if (r := _sum_check(table, left, right, arm)) is not None]
    allocated = [table.total("allocated", a) for a in arms]
    if table.total("randomised") is not None and None not in allocated and allocated:
        rows.append({"check": "randomised = " + " + ".join(f"allocated[{a}]" for a in arms),
                     "arm": "all", "left": table.total("randomised"), "right": sum(allocated),
                     "left_terms": [table.total("randomised")], "right_terms": allocated})
    df = table.df
    for (stage, arm), g in df[df["reason"] != ""].groupby(["stage", "arm"], sort=False):
        total = table.total(stage, arm)
        if total is not None:
            rows.append({"check": f"{stage} = sum of its reasons", "arm": arm, "left": total,
                         "right": int(g["n"].sum()), "left_terms": [total],
                         "right_terms": [int(n) for n in g["n"]]})
    out = pd.DataFrame(rows, columns=["check", "arm", "left", "right", "left_terms",
                                      "right_terms"])
    out["ok"] = out["left"] == out["right"]
    return out


def check_reconciles(consort_df: pd.DataFrame, arms: Sequence[str]) -> pd.DataFrame:
    """:func:`reconcile`, raising ValueError that lists every box not equal to the sum of
    its parts; returns the checks when all hold."""
    return _check(_ConsortTable(consort_df), arms)


def _terms(values: list) -> str:
    """``"300 + 50 + 32 = 382"``, or the one count."""
    if len(values) == 1:
        return str(values[0])
    return f"{' + '.join(str(v) for v in values)} = {sum(values)}"


def _check(table: _ConsortTable, arms: Sequence[str]) -> pd.DataFrame:
    checks = _reconcile(table, arms)
    bad = checks[~checks["ok"]]
    if len(bad):
        lines = [f"  {r.check} [{r.arm}]: {_terms(r.left_terms)} != {_terms(r.right_terms)}"
                 for r in bad.itertuples()]
        raise ValueError("CONSORT counts do not reconcile (a box is not the sum of its parts):\n"
                         + "\n".join(lines))
    return checks


# ---------------------------------------------------------------- layout --
@dataclass(frozen=True)
class _Columns:
    """Horizontal geometry: arm columns, the enrolment column between them, the side column."""

    page_w: float
    arms: list
    arm_cx: dict
    arm_w: float
    main_cx: float
    side_cx: float
    side_w: float


def _columns(arms: list, page_w: float) -> _Columns:
    """Arm boxes ``arm_w`` wide with the outer ones on the page margins (one arm: centred),
    at least :data:`ARM_GAP_MM` apart (room for a banner between them); the enrolment column
    midway; its side boxes from right of it to the right margin (aligned with the last arm)."""
    inner = page_w - 2 * MARGIN_MM
    k = max(len(arms), 1)
    arm_w = min(MAX_ARM_W_MM, (inner - (k - 1) * ARM_GAP_MM) / k)
    centres = (np.linspace(MARGIN_MM + arm_w / 2, page_w - MARGIN_MM - arm_w / 2, len(arms))
               if len(arms) > 1 else [page_w / 2] * len(arms))
    arm_cx = {a: float(c) for a, c in zip(arms, centres)}
    main_cx = float(np.mean(list(arm_cx.values()))) if arm_cx else page_w / 2
    side_left = main_cx + MAIN_W_MM / 2 + SIDE_GAP_MM
    side_w = page_w - MARGIN_MM - side_left
    return _Columns(page_w=page_w, arms=list(arms), arm_cx=arm_cx, arm_w=arm_w, main_cx=main_cx,
                    side_cx=side_left + side_w / 2, side_w=side_w)


class _LayoutBuilder:
    """Stacks boxes from the top of the page down (``y``), recording the counts they show."""

    def __init__(self, table: _ConsortTable, columns: _Columns, names: Mapping,
                 reason_labels: Mapping):
        self.table, self.columns = table, columns
        self.names, self.reason_labels = names, reason_labels
        self.y = TOP_MM
        self.boxes: list = []
        self.counts: list = []
        self.banners: list = []

    def count(self, stage, arm, reason, n, box) -> None:
        self.counts.append(Count(stage=stage, arm=arm, reason=reason, n=int(n), box=box))

    def lines(self, specs, arm: str, box: str) -> list:
        """Text lines of a box: per ``(stage, level)``, ``"<text> (n=..)"`` at the level's
        prefix, then its reasons one level deeper; a stage with reasons but no total shows
        its text alone; an absent stage no line."""
        out = []
        for stage, level in specs:
            text = STAGE_TEXT[stage].format(arm=self.names[arm] if arm in self.names else arm)
            n = self.table.total(stage, arm)
            found = self.table.reasons(stage, arm)
            if n is not None:
                out.append(f"{LEVEL_PREFIX[level]}{text} {_n_text(n)}")
                self.count(stage, arm, "", n, box)
            elif found:
                out.append(f"{LEVEL_PREFIX[level]}{text}")
            for reason, k in found:
                label = _reason_text(reason, self.reason_labels)
                out.append(f"{LEVEL_PREFIX[level + 1]}{label} {_n_text(k)}")
                self.count(stage, arm, reason, k, box)
        return out

    def banner(self, title: str) -> None:
        """The stage's banner, centred on the enrolment column; ``y`` moves below its room."""
        cx = self.columns.main_cx
        self.banners.append(Banner(title=title, x=cx - BANNER_W_MM / 2, y=self.y + 0.6,
                                   w=BANNER_W_MM, h=BANNER_H_MM, text_x=cx,
                                   text_y=self.y + 0.6 + BANNER_H_MM / 2))
        self.y += BANNER_ROOM_MM

    def stack(self, key, cx, w, lines, centred=True) -> Box:
        """Add a box at ``y`` with ``lines`` wrapped to ``w``; ``y`` moves below it."""
        wrapped = _wrap(lines, w)
        box = Box(key=key, stage=key, arm="all", cx=cx, top=self.y, w=w,
                  h=_box_height(len(wrapped)), lines=tuple(wrapped), centred=centred)
        self.boxes.append(box)
        self.y = box.top + box.h + GAP_MM
        return box

    def enrolment(self) -> tuple:
        """The enrolment column and its side boxes under the Enrolment banner:
        ``(chain, sides, randomised)``."""
        cols = self.columns
        texts = [(key, side, self.lines(specs, "all", key))
                 for key, side, specs in ENROLMENT_BOXES]
        texts = [t for t in texts if t[2]]
        chain, sides, randomised = [], [], None
        if texts:
            self.banner(SECTION_TITLES[0])
        for key, side, lines in texts:
            if side:
                sides.append(self.stack(key, cols.side_cx, cols.side_w, lines, centred=False))
            else:
                box = self.stack(key, cols.main_cx, MAIN_W_MM, lines, centred=len(lines) == 1)
                chain.append(box)
                randomised = box if key == "randomised" else randomised
        if randomised is not None:
            self.y += 4
        return chain, sides, randomised

    def arm_row(self, section: str) -> dict | None:
        """One box per arm with lines, all as high as the highest, under the section's banner."""
        cols = self.columns
        stage = section.lower()
        per_arm = {a: lines for a in cols.arms
                   if (lines := self.lines(ARM_BOXES[section], a, f"{stage}:{a}"))}
        if not per_arm:
            return None
        self.banner(section)
        wrapped = {a: _wrap(ls, cols.arm_w) for a, ls in per_arm.items()}
        h = _box_height(max(len(ls) for ls in wrapped.values()))
        row = {a: Box(key=f"{stage}:{a}", stage=stage, arm=a, cx=float(cols.arm_cx[a]),
                      top=self.y, w=cols.arm_w, h=h, lines=tuple(ls), centred=False)
               for a, ls in wrapped.items()}
        self.boxes.extend(row.values())
        self.y += h + GAP_MM
        return row


def _enrolment_arrows(chain: list, sides: list, main_cx: float) -> list:
    """Down the enrolment column, then across from it to the middle of each side box (from
    the column's connector; below the last column box, a plain line down to it first)."""
    arrows = [Arrow(b0.cx, b0.bottom, b1.cx, b1.top) for b0, b1 in zip(chain, chain[1:])]
    for side in sides:
        above = [b for b in chain if b.bottom <= side.top]
        if not above:
            continue
        ymid = side.top + side.h / 2
        if not any(b.top >= side.bottom for b in chain):
            arrows.append(Arrow(main_cx, above[-1].bottom, main_cx, ymid, head=False))
        arrows.append(Arrow(main_cx, ymid, side.left, ymid))
    return arrows


def _fork(randomised: Box | None, allocation: dict | None, main_cx: float) -> Fork | None:
    if randomised is None or allocation is None:
        return None
    bar_y = randomised.bottom + 3
    xs = [b.cx for b in allocation.values()]
    return Fork(stem=Arrow(main_cx, randomised.bottom, main_cx, bar_y, head=False),
                bar_x0=min(xs + [main_cx]), bar_x1=max(xs + [main_cx]), bar_y=bar_y,
                branches=tuple(Arrow(b.cx, bar_y, b.cx, b.top) for b in allocation.values()))


def _arm_arrows(rows: dict, arms: list) -> list:
    """Down each arm column from one section's box to the next one's."""
    order = [t for t in SECTION_TITLES if t in rows]
    return [Arrow(rows[t0][a].cx, rows[t0][a].bottom, rows[t1][a].cx, rows[t1][a].top)
            for t0, t1 in zip(order, order[1:]) for a in arms if a in rows[t0] and a in rows[t1]]


def consort_layout(consort_df: pd.DataFrame, config: Mapping) -> ConsortLayout:
    """Layout of the CONSORT 2010 flow diagram from ``consort.csv``, in mm (no drawing).

    Parameters
    ----------
    consort_df : pandas.DataFrame
        Columns ``stage_order, stage, arm, n, reason`` with the stages of
        :data:`STAGE_TEXT` (:func:`rtw.data.derivation.consort_counts`): a
        total per stage (empty reason) and, for some, reason rows.  Absent
        stages are left out of the diagram.
    config : mapping
        Arm order and names (``trial``); display text of reasons
        (``figures.consort_reason_labels``, over :data:`REASON_LABELS`).

    Returns
    -------
    ConsortLayout
        Double-column page: the Enrolment stage (column and side boxes), then
        one column per arm for Allocation, Follow-up and Analysis, each stage
        under a banner of the same style.

    Raises
    ------
    ValueError
        When a count is not a number, a stage or arm is unknown, or the counts do
        not reconcile (:func:`check_reconciles`).
    """
    from rtw.report import style  # arm order, names, page width (imports matplotlib, no figure)
    from rtw.report.figure_common import check_arms

    table = _ConsortTable(consort_df)
    arms = style.arm_order(config)
    reason_labels = config["figures"]["consort_reason_labels"]
    check_arms(table.arm_rows(), config, "consort_diagram")
    checks = _check(table, arms)
    columns = _columns(arms, style.DOUBLE_COLUMN_MM)
    builder = _LayoutBuilder(table, columns, style.arm_names(config), reason_labels)
    chain, sides, randomised = builder.enrolment()
    rows = {}
    for section in SECTION_TITLES[1:]:
        row = builder.arm_row(section)
        if row:
            rows[section] = row
    return ConsortLayout(
        width=columns.page_w, height=builder.y - GAP_MM + 2.0, centre_x=columns.main_cx,
        boxes=tuple(builder.boxes), counts=tuple(builder.counts),
        enrolment_arrows=tuple(_enrolment_arrows(chain, sides, columns.main_cx)),
        fork=_fork(randomised, rows.get("Allocation"), columns.main_cx),
        arm_arrows=tuple(_arm_arrows(rows, arms)), banners=tuple(builder.banners),
        checks=checks)


# --------------------------------------------------------------- drawing --
def _draw_box(ax, box: Box) -> None:
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((box.left, box.top), box.w, box.h, facecolor="white",
                           edgecolor="black", linewidth=0.6, zorder=2))
    x, y, ha, va = box.text_anchor
    ax.text(x, y, box.text, ha=ha, va=va, zorder=3, linespacing=1.25)


def _draw_arrow(ax, arrow: Arrow) -> None:
    ax.annotate("", xy=(arrow.x1, arrow.y1), xytext=(arrow.x0, arrow.y0),
                arrowprops=dict(arrowstyle="-|>" if arrow.head else "-", lw=0.6, color="black",
                                shrinkA=0, shrinkB=0, mutation_scale=6), zorder=1)


def _draw_fork(ax, fork: Fork) -> None:
    _draw_arrow(ax, fork.stem)
    ax.plot([fork.bar_x0, fork.bar_x1], [fork.bar_y, fork.bar_y], color="black", lw=0.6,
            solid_capstyle="projecting")   # square corners where the branches leave the bar
    for branch in fork.branches:
        _draw_arrow(ax, branch)


def _draw_banner(ax, banner: Banner) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((banner.x, banner.y), banner.w, banner.h,
                                boxstyle="round,pad=0.3", facecolor="#e6e6e6", edgecolor="black",
                                linewidth=0.5))
    ax.text(banner.text_x, banner.text_y, banner.title, ha="center", va="center",
            fontweight="bold")


def draw_consort(layout: ConsortLayout):
    """Draw a CONSORT layout (matplotlib, project style), one mm of layout per mm of page.

    Parameters
    ----------
    layout : ConsortLayout
        From :func:`consort_layout`.

    Returns
    -------
    fig : matplotlib.figure.Figure
    drawn : dict
        :meth:`ConsortLayout.frames`: ``boxes`` (box, stage, arm, text) and
        ``counts`` (stage, arm, reason, n, box).
    """
    import matplotlib.pyplot as plt

    from rtw.report import style

    with style.context():
        fig = plt.figure(figsize=(style.mm(layout.width), style.mm(layout.height)))
        ax = fig.add_axes([0, 0, 1, 1])
        ax.set_xlim(0, layout.width)
        ax.set_ylim(layout.height, 0)
        ax.axis("off")
        for box in layout.boxes:
            _draw_box(ax, box)
        for arrow in layout.enrolment_arrows:
            _draw_arrow(ax, arrow)
        if layout.fork is not None:
            _draw_fork(ax, layout.fork)
        for arrow in layout.arm_arrows:
            _draw_arrow(ax, arrow)
        for banner in layout.banners:
            _draw_banner(ax, banner)
    return fig, layout.frames()
