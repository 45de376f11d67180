"""Time units and round time grids of time-to-event outcomes (config ``time_unit``).

A trial's times may be days, weeks, months or years; the grids of the survival summaries (times
of the number-at-risk table, proportions with the event, cumulative incidences) default to round
times up to the outcome's horizon, never to a fixed list of days.
"""
from __future__ import annotations

import math

UNITS = ("days", "weeks", "months", "years")
_SINGULAR = {"days": "day", "weeks": "week", "months": "month", "years": "year"}
#: decimals of a time (median survival) by unit when config tables.digits.time is null
TIME_DIGITS = {"days": 0, "weeks": 1, "months": 1, "years": 2}


def singular(unit: str) -> str:
    """``"months"`` -> ``"month"``."""
    return _SINGULAR[unit]


def axis_label(unit: str) -> str:
    """The time axis: ``"Months since randomisation"``."""
    return f"{unit.capitalize()} since randomisation"


def time_digits(unit: str, configured) -> int:
    """Decimals of a time: config ``tables.digits.time`` when set, else by unit."""
    return int(TIME_DIGITS[unit] if configured is None else configured)


#: candidate steps of a time grid by unit (calendar-like: weeks of days, quarters of years...)
STEPS = {
    "days": (1, 2, 7, 14, 28, 56, 91, 182, 365, 730, 1826),
    "weeks": (1, 2, 4, 8, 13, 26, 52, 104, 260),
    "months": (1, 2, 3, 6, 12, 24, 60, 120),
    "years": (0.25, 0.5, 1, 2, 5, 10, 20, 50),
}


def round_step(horizon: float, unit: str = "days", most: int = 8) -> float:
    """The smallest of the unit's round steps (:data:`STEPS`) giving at most ``most``
    intervals from 0 to ``horizon`` (beyond the largest, a power of ten)."""
    for step in STEPS[unit]:
        if horizon / step <= most + 1e-9:
            return float(step)
    return 10.0 ** math.ceil(math.log10(horizon / most))


def round_times(horizon: float, unit: str = "days") -> list[float]:
    """0, s, 2s, ... up to ``horizon`` with a round step ``s`` (:func:`round_step`), and
    ``horizon`` itself when it lies at least half a step beyond the last; ``[0]`` for no
    positive horizon."""
    if not horizon or not math.isfinite(horizon) or horizon <= 0:
        return [0.0]
    step = round_step(horizon, unit)
    n = int(math.floor(horizon / step + 1e-9))
    times = [round(i * step, 10) for i in range(n + 1)]
    if horizon - times[-1] >= 0.5 * step:
        times.append(float(horizon))
    return times


def summary_times(horizon: float, unit: str = "days") -> list[float]:
    """Three times of :func:`round_times` for the proportions with the event: those nearest a
    quarter and a half of ``horizon``, and the last."""
    grid = [t for t in round_times(horizon, unit) if t > 0]
    if not grid:
        return []
    picks = [min(grid, key=lambda t: (abs(t - horizon * f), t)) for f in (0.25, 0.5)] + [grid[-1]]
    return sorted(set(picks))
