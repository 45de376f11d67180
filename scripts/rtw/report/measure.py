"""Measured text widths in the project font, for layouts computed in millimetres.

The CONSORT layout wraps box text by measured width and the Kaplan-Meier figure
sizes its left margin to the longest arm name.  Widths come from the glyph
outlines of matplotlib's ``TextPath`` in :data:`rtw.report.style.FONT_FAMILY`;
matplotlib is imported at the first measurement, not with this module.
"""
from __future__ import annotations

_WIDTH_CACHE: dict = {}


def text_width_mm(text: str, size: float | None = None) -> float:
    """Width of ``text`` in the project font at ``size`` pt, in mm (exact glyph layout).

    Parameters
    ----------
    text : str
    size : float, optional
        Font size in points; default :data:`rtw.report.style.BASE_PT`.

    Returns
    -------
    float
        Right edge of the glyph outlines in millimetres; 0 for blank text.
    """
    from rtw.report import style

    if size is None:
        size = style.BASE_PT
    key = (text, size)
    if key not in _WIDTH_CACHE:
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextPath
        if not text.strip():
            _WIDTH_CACHE[key] = 0.0
        else:
            tp = TextPath((0, 0), text, size=size, prop=FontProperties(family=style.FONT_FAMILY))
            _WIDTH_CACHE[key] = float(tp.get_extents().x1) * 25.4 / 72
    return _WIDTH_CACHE[key]
