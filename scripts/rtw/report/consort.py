"""CONSORT 2010 flow diagram: a layout in millimetres (plain data), then a drawing.

:func:`consort_layout` turns ``consort.csv`` and the config into a
:class:`ConsortLayout`: the boxes with their wrapped text lines, positions and
sizes, the count each number in a box comes from, and the connectors between
boxes, all in millimetres from the top-left corner of a double-column page
(y grows downwards).  :func:`draw_consort` draws a layout with matplotlib;
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
#: Page geometry in mm: left margin for the "Enrolment" label, top margin, width of the
#: enrolment column, widest arm box, vertical gap between boxes.
LEFT_LABEL_MM = 9.0
TOP_MM = 3.0
MAIN_W_MM = 56.0
MAX_ARM_W_MM = 72.0
GAP_MM = 6.0
#: Room above a row of arm boxes for its section banner, and the banner's size.
BANNER_ROOM_MM = 5.0
BANNER_W_MM = 30.0
BANNER_H_MM = 3.6

#: Enrolment boxes of the single column, top to bottom (stage, text).
ENROLMENT_STAGES = [("invited", "Invited"), ("responded", "Responded"),
                    ("assessed_eligible", "Assessed for eligibility")]
#: Sections of per-arm boxes, top to bottom (CONSORT template banners).
SECTION_TITLES = ("Allocation", "Follow-up", "Analysis")

#: Display text of known CONSORT reasons (withdrawal levels); others are prettified.
REASON_LABELS = {
    "intervention": "From intervention", "from_intervention": "From intervention",
    "followup": "From follow-up", "follow_up": "From follow-up",
    "from_follow_up": "From follow-up", "from_followup": "From follow-up",
    "full": "Full withdrawal", "full_data_kept": "Full, data kept",
    "full_data_removed": "Full, data removed",
}


# ------------------------------------------------------------- layout data --
@dataclass(frozen=True)
class Box:
    """One box of the diagram, in mm from the top-left corner of the page.

    Attributes
    ----------
    key : str
        ``invited`` ... ``randomised``, ``excluded``, or ``<section>:<arm>``
        (``allocation:<arm>``, ``follow-up:<arm>``, ``analysis:<arm>``).
    stage : str
        The key without the arm.
    arm : str
        Arm label, ``all`` for the enrolment column.
    cx, top, w, h : float
        Horizontal centre, top edge, width and height.
    lines : tuple of str
        Text lines, wrapped to the box width.
    centred : bool
        Text centred in the box (enrolment column) or from its top-left corner.
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
    """Section label (Allocation, Follow-up, Analysis): a grey rounded box at x, y, w, h."""

    title: str
    x: float
    y: float
    w: float
    h: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Label:
    """Free text on the page (the vertical "Enrolment" label)."""

    text: str
    x: float
    y: float


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
        In drawing order: enrolment column, exclusion box, randomised, then the
        arm rows of each section.
    counts : tuple of Count
        One per number drawn, in the order the boxes show them.
    enrolment_arrows : tuple of Arrow
        Down the enrolment column, and from it to the exclusion box.
    fork : Fork or None
        Randomised to the allocation boxes.
    arm_arrows : tuple of Arrow
        Down each arm column, section to section.
    banners : tuple of Banner
    enrolment_label : Label or None
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
    enrolment_label: Label | None

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
    """Greedy word wrap by measured width; continuation lines indented 2 spaces more."""
    avail = width_mm - 2 * PAD_MM - 0.5
    out = []
    for ln in lines:
        indent = len(ln) - len(ln.lstrip(" "))
        words = ln.strip().split(" ")
        cur = " " * indent
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


# ---------------------------------------------------------------- layout --
class _ConsortTable:
    """``consort.csv`` with arm ``all`` and reason ``""`` for blanks, in stage order."""

    def __init__(self, consort_df: pd.DataFrame):
        df = consort_df.copy()
        df["arm"] = df["arm"].fillna("all").astype(str)
        df["reason"] = df["reason"].fillna("").astype(str)
        df["n"] = pd.to_numeric(df["n"], errors="raise").astype(int)
        if "stage_order" in df.columns:
            df = df.sort_values(["stage_order"], kind="mergesort")
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
    """Arm columns at 24% and 76% of the width right of the label margin (one arm: centred);
    the enrolment column midway; the exclusion box from right of it to the page edge."""
    fractions = np.linspace(0.24, 0.76, len(arms)) if len(arms) > 1 else [0.5]
    arm_cx = {a: LEFT_LABEL_MM + (page_w - LEFT_LABEL_MM) * f for a, f in zip(arms, fractions)}
    main_cx = float(np.mean(list(arm_cx.values()))) if arm_cx else page_w / 2
    arm_w = min(MAX_ARM_W_MM, (page_w - LEFT_LABEL_MM) / max(len(arms), 1) - 10)
    side_left = main_cx + MAIN_W_MM / 2 + 5
    side_w = page_w - 2 - side_left
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

    def stack(self, key, cx, w, lines, centred=True) -> Box:
        """Add a box at ``y`` with ``lines`` wrapped to ``w``; ``y`` moves below it."""
        wrapped = _wrap(lines, w)
        box = Box(key=key, stage=key, arm="all", cx=cx, top=self.y, w=w,
                  h=_box_height(len(wrapped)), lines=tuple(wrapped), centred=centred)
        self.boxes.append(box)
        self.y = box.top + box.h + GAP_MM
        return box

    def total_lines(self, arm, stage_titles, box) -> list:
        """``"<title> (n=..)"`` for each stage with a total."""
        lines = []
        for stage, title in stage_titles:
            n = self.table.total(stage, arm)
            if n is not None:
                lines.append(f"{title} {_n_text(n)}")
                self.count(stage, arm, "", n, box)
        return lines

    def reason_lines(self, stage, arm, title, box, bare_title=False) -> list:
        """``"<title> (n=..)"`` then a bullet per reason; the title alone, when the stage has
        reasons but no total, only if ``bare_title``."""
        lines = []
        n = self.table.total(stage, arm)
        found = self.table.reasons(stage, arm)
        if n is not None:
            lines.append(f"{title} {_n_text(n)}")
            self.count(stage, arm, "", n, box)
        elif found and bare_title:
            lines.append(title)
        for reason, k in found:
            lines.append(f"  \u2022 {_reason_text(reason, self.reason_labels)} {_n_text(k)}")
            self.count(stage, arm, reason, k, box)
        return lines

    def enrolment(self) -> tuple:
        """The enrolment column and the exclusion box: ``(chain, excluded, randomised)``."""
        cols = self.columns
        chain = []
        for stage, text in ENROLMENT_STAGES:
            lines = self.total_lines("all", [(stage, text)], stage)
            if lines:
                chain.append(self.stack(stage, cols.main_cx, MAIN_W_MM, lines))
        excl_lines = (self.reason_lines("not_eligible", "all", "Not eligible", "excluded")
                      + self.reason_lines("declined", "all", "Declined to participate", "excluded"))
        excluded = (self.stack("excluded", cols.side_cx, cols.side_w, excl_lines, centred=False)
                    if excl_lines else None)
        randomised = None
        lines = self.total_lines("all", [("randomised", "Randomised")], "randomised")
        if lines:
            randomised = self.stack("randomised", cols.main_cx, MAIN_W_MM, lines)
            self.y += 4
            chain.append(randomised)
        return chain, excluded, randomised

    def arm_lines(self, section: str, arm: str) -> list:
        """Text lines of ``arm``'s box in ``section`` (empty when the table has none)."""
        box = f"{section.lower()}:{arm}"
        if section == "Allocation":
            return self.total_lines(arm, [("allocated", f"Allocated to {self.names[arm]}"),
                                          ("received_intervention",
                                           "  Received allocated intervention")], box)
        if section == "Follow-up":
            return self.reason_lines("withdrawn", arm, "Withdrawn", box, bare_title=True)
        return self.total_lines(arm, [("analysed_primary", "Analysed for primary outcome"),
                                      ("missing_primary", "Missing primary outcome")], box)

    def arm_row(self, section: str) -> dict | None:
        """One box per arm with lines, all as high as the highest, under a banner."""
        cols = self.columns
        per_arm = {a: lines for a in cols.arms if (lines := self.arm_lines(section, a))}
        if not per_arm:
            return None
        top = self.y + BANNER_ROOM_MM
        wrapped = {a: _wrap(ls, cols.arm_w) for a, ls in per_arm.items()}
        h = _box_height(max(len(ls) for ls in wrapped.values()))
        stage = section.lower()
        row = {a: Box(key=f"{stage}:{a}", stage=stage, arm=a, cx=float(cols.arm_cx[a]), top=top,
                      w=cols.arm_w, h=h, lines=tuple(ls), centred=False)
               for a, ls in wrapped.items()}
        self.boxes.extend(row.values())
        self.banners.append(Banner(title=section, x=cols.main_cx - BANNER_W_MM / 2,
                                   y=self.y + 0.6, w=BANNER_W_MM, h=BANNER_H_MM,
                                   text_x=cols.main_cx, text_y=self.y + 2.4))
        self.y = top + h + GAP_MM
        return row


def _enrolment_arrows(chain: list, excluded: Box | None, main_cx: float) -> list:
    """Down the enrolment column, and across from it to the middle of the exclusion box."""
    arrows = [Arrow(b0.cx, b0.bottom, b1.cx, b1.top) for b0, b1 in zip(chain, chain[1:])]
    if excluded is not None and any(b.top < excluded.top for b in chain):
        ymid = excluded.top + excluded.h / 2
        arrows.append(Arrow(main_cx, ymid, excluded.left, ymid))
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
        Columns ``stage_order, stage, arm, n, reason``; stages ``invited``,
        ``responded``, ``assessed_eligible``, ``not_eligible`` (reason rows
        plus a total with empty reason), ``declined``, ``randomised``,
        ``allocated``, ``received_intervention``, ``withdrawn`` (reason rows
        plus total), ``analysed_primary``, ``missing_primary``.  Absent
        stages are left out of the diagram.
    config : mapping
        Arm order and names (``trial``); display text of reasons
        (``figures.consort_reason_labels``).

    Returns
    -------
    ConsortLayout
        Double-column page; boxes for enrolment, then one column per arm for
        allocation, follow-up and analysis.

    Raises
    ------
    ValueError
        When a count is not a number or an arm is not a config arm.
    """
    from rtw.report import style  # arm order, names, page width (imports matplotlib, no figure)
    from rtw.report.figure_common import check_arms

    table = _ConsortTable(consort_df)
    arms = style.arm_order(config)
    reason_labels = config["figures"]["consort_reason_labels"]
    check_arms(table.arm_rows(), config, "consort_diagram")
    columns = _columns(arms, style.DOUBLE_COLUMN_MM)
    builder = _LayoutBuilder(table, columns, style.arm_names(config), reason_labels)
    chain, excluded, randomised = builder.enrolment()
    rows = {}
    for section in SECTION_TITLES:
        row = builder.arm_row(section)
        if row:
            rows[section] = row
    label = Label("Enrolment", 2.0, chain[0].top + 2) if chain else None
    return ConsortLayout(
        width=columns.page_w, height=builder.y + 1.0, centre_x=columns.main_cx,
        boxes=tuple(builder.boxes), counts=tuple(builder.counts),
        enrolment_arrows=tuple(_enrolment_arrows(chain, excluded, columns.main_cx)),
        fork=_fork(randomised, rows.get("Allocation"), columns.main_cx),
        arm_arrows=tuple(_arm_arrows(rows, arms)), banners=tuple(builder.banners),
        enrolment_label=label)


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
    ax.plot([fork.bar_x0, fork.bar_x1], [fork.bar_y, fork.bar_y], color="black", lw=0.6)
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
        if layout.enrolment_label is not None:
            label = layout.enrolment_label
            ax.text(label.x, label.y, label.text, ha="left", va="top", fontweight="bold",
                    rotation=90)
    return fig, layout.frames()
