"""One matplotlib style for every figure of the project, and deterministic saving.

* Sizes fit a journal page: single column 89 mm, double column 183 mm
  (:func:`figsize`).
* Font: DejaVu Sans (ships with matplotlib, so it exists offline and on every
  machine), 7 pt text, 8 pt titles; TrueType (Type 42) fonts embedded in PDF.
* Greyscale-safe: arms differ by line style and marker as well as colour
  (:func:`arm_styles`); arm labels, display names, colours and order come
  from config ``trial.arms``, ``trial.arm_names``, ``trial.arm_colours``.
* Deterministic files: :func:`save_figure` writes PDF without a creation date
  and with a fixed Producer, PNG (300 dpi) without the Software key, and SVG
  with a fixed ``svg.hashsalt`` and no date, so reruns give identical bytes.

Usage::

    from rtw.report import style
    with style.context():
        fig, ax = plt.subplots(figsize=style.figsize("single", 70))
        ...
    style.save_figure(fig, "results/figures/km_first_rtw")
"""
from __future__ import annotations

import contextlib
import io as _io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import matplotlib

MM_PER_INCH = 25.4
#: Journal column widths in millimetres.
SINGLE_COLUMN_MM = 89.0
DOUBLE_COLUMN_MM = 183.0
#: Raster resolution.
DPI = 300
#: Fixed metadata written into files (no dates, no versions).
PRODUCER = "rtw trial pipeline (matplotlib)"
PDF_METADATA = {"Creator": PRODUCER, "Producer": PRODUCER, "CreationDate": None,
                "ModDate": None}
PNG_METADATA = {"Software": None}
SVG_METADATA = {"Creator": PRODUCER, "Date": None}
SVG_HASHSALT = "rtw-trial-pipeline"

FONT_FAMILY = "DejaVu Sans"
BASE_PT = 7
TITLE_PT = 8

#: Line styles, markers and hatches by arm position (config order).
LINESTYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P"]
HATCHES = ["", "////", "....", "xxxx"]
#: Greys used when config gives no colours (dark to light).
GREYS = ["#1b1b1b", "#8c8c8c", "#555555", "#bdbdbd"]

RC = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": BASE_PT,
    "axes.titlesize": TITLE_PT,
    "axes.labelsize": BASE_PT,
    "xtick.labelsize": BASE_PT,
    "ytick.labelsize": BASE_PT,
    "legend.fontsize": BASE_PT,
    "figure.titlesize": TITLE_PT,
    "axes.linewidth": 0.6,
    "axes.edgecolor": "black",
    "axes.labelcolor": "black",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "xtick.color": "black",
    "ytick.color": "black",
    "lines.linewidth": 1.0,
    "lines.markersize": 3.0,
    "patch.linewidth": 0.6,
    "legend.frameon": False,
    "legend.handlelength": 2.5,
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "pdf.compression": 6,
    "svg.fonttype": "path",
    "svg.hashsalt": SVG_HASHSALT,
    "text.usetex": False,
    "mathtext.default": "regular",
    "axes.unicode_minus": True,
    "path.simplify": False,
}


def apply() -> None:
    """Apply the project style globally (``matplotlib.rcParams``)."""
    matplotlib.rcParams.update(RC)


@contextlib.contextmanager
def context():
    """Context manager applying the project style temporarily."""
    with matplotlib.rc_context(RC):
        yield


def mm(x: float) -> float:
    """Millimetres to inches."""
    return float(x) / MM_PER_INCH


def figsize(width="single", height_mm: float | None = None, aspect: float = 0.75) -> tuple:
    """Figure size in inches for a journal column.

    Parameters
    ----------
    width : {"single", "double"} or float
        Column width, or a width in millimetres.
    height_mm : float, optional
        Height in millimetres; default ``width * aspect``.
    aspect : float
        Height/width when ``height_mm`` is not given.

    Returns
    -------
    (float, float)
        Width and height in inches.
    """
    if width == "single":
        w = SINGLE_COLUMN_MM
    elif width == "double":
        w = DOUBLE_COLUMN_MM
    else:
        w = float(width)
    h = w * aspect if height_mm is None else float(height_mm)
    return (mm(w), mm(h))


# ---------------------------------------------------------------- arms --
@dataclass(frozen=True)
class ArmStyle:
    """How one arm is drawn.

    Attributes
    ----------
    label : str
        Arm label as in the data (config ``trial.arms`` values).
    name : str
        Display name (config ``trial.arm_names``).
    colour : str
    linestyle : str
    marker : str
    hatch : str
    role : str
        Role key in config ``trial.arms`` (``control``/``intervention``).
    """

    label: str
    name: str
    colour: str
    linestyle: str
    marker: str
    hatch: str
    role: str = ""

    def line_kw(self) -> dict:
        """Keyword arguments for ``ax.plot``/``ax.step``."""
        return {"color": self.colour, "linestyle": self.linestyle, "label": self.name}


def arm_roles(config: Mapping) -> dict:
    """``{role: label}`` from config ``trial.arms`` (a mapping, or a list of labels)."""
    arms = config["trial"]["arms"]
    if isinstance(arms, Mapping):
        return {str(k): str(v) for k, v in arms.items()}
    return {f"arm{i + 1}": str(v) for i, v in enumerate(arms)}


def arm_order(config: Mapping) -> list:
    """Arm labels in config order (control first, as written in ``trial.arms``)."""
    return list(arm_roles(config).values())


def arm_names(config: Mapping) -> dict:
    """``{label: display name}``; the label itself when config gives no name."""
    names = config["trial"]["arm_names"]
    return {a: str(names.get(a, a)) for a in arm_order(config)}


def arm_styles(config: Mapping) -> dict:
    """``{label: ArmStyle}`` in config order.

    Colours from ``trial.arm_colours`` (greys if absent); line styles,
    markers and hatches by position so arms differ without colour.
    """
    colours = config["trial"]["arm_colours"]
    names = arm_names(config)
    out = {}
    for i, (role, label) in enumerate(arm_roles(config).items()):
        out[label] = ArmStyle(
            label=label, name=names[label],
            colour=str(colours.get(label, GREYS[i % len(GREYS)])),
            linestyle=LINESTYLES[i % len(LINESTYLES)],
            marker=MARKERS[i % len(MARKERS)],
            hatch=HATCHES[i % len(HATCHES)],
            role=role,
        )
    return out


def series_styles(n: int) -> list:
    """Styles for ``n`` non-arm series (e.g. IRRs in a power curve).

    Returns a list of dicts with ``color``, ``linestyle``, ``marker``: greys
    from dark to mid-light plus distinct line styles and markers.
    """
    import numpy as np
    greys = np.linspace(0.0, 0.6, max(n, 1))
    out = []
    for i in range(n):
        g = f"{greys[i]:.3f}"
        out.append({"color": g, "linestyle": LINESTYLES[i % len(LINESTYLES)],
                    "marker": MARKERS[i % len(MARKERS)]})
    return out


# --------------------------------------------------------------- saving --
def _atomic_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def figure_bytes(fig, fmt: str) -> bytes:
    """The figure rendered to ``fmt`` (``pdf``, ``png``, ``svg``) deterministically."""
    buf = _io.BytesIO()
    if fmt == "pdf":
        kw = {"metadata": PDF_METADATA}
    elif fmt == "png":
        kw = {"metadata": PNG_METADATA, "dpi": DPI}
    elif fmt == "svg":
        kw = {"metadata": SVG_METADATA}
    else:
        raise ValueError(f"unsupported figure format {fmt!r}")
    # the project style also at save time: ticks created lazily while drawing take
    # their font and sizes from rcParams then (and svg.hashsalt / pdf.fonttype apply)
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format=fmt, facecolor="white", **kw)
    return buf.getvalue()


def save_figure(fig, stem, formats: Sequence[str] = ("pdf", "png"), *, svg: bool = False,
                close: bool = True) -> list:
    """Save a figure as vector PDF and 300-dpi PNG (and optionally SVG).

    Identical bytes on reruns: PDF has no CreationDate/ModDate and a fixed
    Producer/Creator, PNG has no Software key (matplotlib writes no date),
    SVG has no date and a fixed ``svg.hashsalt``.  Files are written
    atomically (temporary file, then rename).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    stem : path-like
        Output path without extension (an extension, if given, is replaced).
    formats : sequence of str
        Formats to write (default PDF and PNG).
    svg : bool
        Also write SVG.
    close : bool
        Close the figure afterwards (frees memory in long runs).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    stem = Path(stem)
    if stem.suffix.lower() in (".pdf", ".png", ".svg"):
        stem = stem.with_suffix("")
    fmts = list(formats) + (["svg"] if svg and "svg" not in formats else [])
    written = []
    for fmt in fmts:
        path = stem.with_name(stem.name + "." + fmt)
        _atomic_bytes(path, figure_bytes(fig, fmt))
        written.append(path)
    if close:
        import matplotlib.pyplot as plt
        plt.close(fig)
    return written


def font_file() -> str:
    """The font file matplotlib resolves for the project font (for provenance/checks)."""
    from matplotlib import font_manager
    return font_manager.findfont(font_manager.FontProperties(family=FONT_FAMILY),
                                 fallback_to_default=False)


def grey_levels(colours: Iterable[str]) -> list:
    """Luminance (0 black - 1 white) of colours, to check greyscale separation."""
    from matplotlib.colors import to_rgb
    out = []
    for c in colours:
        r, g, b = to_rgb(c)
        out.append(0.299 * r + 0.587 * g + 0.114 * b)
    return out
