"""Number formatting for every presentation table and figure label.

One module, one set of rules, so that a number reads the same in Table 1,
the primary outcome table, a forest plot and the report.

Rounding rule
-------------
Numbers are rounded **half away from zero** (0.125 -> "0.13", -0.125 ->
"−0.13", 2.5 -> "3"), the rule journals and most readers expect, not
Python's/NumPy's round-half-to-even ("banker's rounding": ``round(2.5) == 2``).
Rounding is applied to the *shortest decimal representation* of the float
(``repr``), i.e. to the number as it is printed in ``estimates.csv``; so
``2.675`` rounds to ``2.68`` although the binary double nearest to 2.675 is
slightly below it.  A result that rounds to zero is printed without a sign
("0.00", never "−0.00").

p-value rule
------------
* ``p < 0.001``           -> ``"<0.001"``
* ``0.001 <= p <= 1``     -> 3 decimal places, rounded half away from zero
  (so 0.0015 -> "0.002", 0.04951 -> "0.050", 1 -> "1.000").
* Never ``"0.000"``: anything that would print as 0.000 is ``"<0.001"``.
* Missing (``None``/NaN) -> ``na`` (default ``""``).
* Values outside [0, 1] (beyond a 1e-9 tolerance) raise ``ValueError``.

Other conventions
-----------------
Precision rule by magnitude
---------------------------
* Ratios (HR, IRR, OR, risk ratio, rate ratio): a fixed number of decimal places,
  ``tables.digits.ratio`` (2 by default; :data:`RATIO_DP`).
* Differences (mean difference, CACE, RMST difference, risk difference in
  percentage points, difference in expected time): **3 significant digits of the
  largest absolute number of the row** (the estimate and every CI limit), bounded to
  0-2 decimal places (:func:`diff_dp`): ``-7.503 (-25.71 to 10.70)`` has largest
  25.71, so 1 dp: ``"−7.5 (−25.7 to 10.7)"``; ``0.0645 (-0.006 to 0.135)`` 2 dp
  (never more); ``123.4 (10.2 to 236.6)`` 0 dp.  A fixed ``tables.digits.estimate``
  or an outcome's ``estimate_dp`` replaces the rule.  The whole row (estimate and
  every CI) uses one number of decimals, so limits line up.
* Descriptive means, SDs, medians: ``tables.digits.mean`` (1); percentages
  ``tables.digits.percent`` (1); p-values as above; times by unit
  (:func:`rtw.core.timescale.time_digits`).

Other conventions
-----------------
* Confidence intervals and other ranges as ``"low to high"`` everywhere (the "to"
  avoids confusion with minus signs; no hyphen or en-dash ranges);
  :func:`fmt_est_ci` gives ``"0.91 (0.65 to 1.28)"``.
* Negative numbers carry the Unicode minus sign U+2212 (:data:`MINUS`, "−"), not
  the ASCII hyphen-minus, in every format (CSV, Markdown, HTML, Word; LaTeX writes
  ``$-$``): a hyphen is narrower than a digit and breaks lines in Word.
* Medians of time to event that are not reached (NaN/inf) print as
  ``"not reached"`` (:data:`NOT_REACHED`); an upper confidence limit that is
  not reached prints as ``"NR"`` (:data:`NOT_REACHED_SHORT`).
* Counts get a thousands separator (``7,955``) when ``thousands=True``.

Digits are configurable through the config key ``tables.digits``
(see :func:`digits`); defaults are in the config schema (``tables.digits``).
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Mapping

#: Text for a median (or other quantile) of time to event that is not reached.
NOT_REACHED = "not reached"
#: Short form used inside a confidence interval.
NOT_REACHED_SHORT = "NR"
#: Decimal places for ratios (HR, IRR, OR).
RATIO_DP = 2
#: Threshold below which p is printed as "<0.001".
P_THRESHOLD = 0.001
#: The minus sign of every negative number (U+2212), not the hyphen-minus.
MINUS = "\u2212"
#: Significant digits of the largest number of a difference row, and the bounds of its
#: decimal places (the precision rule by magnitude, :func:`diff_dp`).
DIFF_SIG_DIGITS = 3
DIFF_DP_BOUNDS = (0, 2)


def digits(config: Mapping | None = None) -> dict:
    """Digits by kind: config ``tables.digits`` (the schema's defaults without a config).

    Parameters
    ----------
    config : mapping, optional
        The validated pipeline config.

    Returns
    -------
    dict
        ``{estimate, ratio, mean, percent, p, time, proportion}``.
    """
    if config is None:
        from rtw.core.validation import block_defaults
        return block_defaults("tables.digits")
    return dict(config["tables"]["digits"])


def is_missing(x) -> bool:
    """True for ``None``, NaN, ``pd.NA`` and empty strings."""
    if x is None:
        return True
    if isinstance(x, str):
        return x.strip() == ""
    try:
        return bool(x != x)  # NaN and pd.NA-like
    except TypeError:
        return True


def round_half_away(x: float, dp: int = 0) -> Decimal:
    """Round ``x`` to ``dp`` decimal places, halves away from zero.

    Parameters
    ----------
    x : float
        A finite number.
    dp : int
        Decimal places (>= 0).

    Returns
    -------
    decimal.Decimal
        The rounded value (exact decimal, ready to print).

    Examples
    --------
    >>> str(round_half_away(2.5)), str(round_half_away(-2.5)), str(round_half_away(0.125, 2))
    ('3', '-3', '0.13')
    """
    if dp < 0:
        raise ValueError("dp must be >= 0")
    try:
        d = Decimal(repr(float(x)))
    except (InvalidOperation, ValueError) as e:  # pragma: no cover - guarded by callers
        raise ValueError(f"cannot round {x!r}") from e
    if not d.is_finite():
        raise ValueError(f"cannot round non-finite value {x!r}")
    q = Decimal(1).scaleb(-dp)  # 10 ** -dp
    return d.quantize(q, rounding=ROUND_HALF_UP)  # ROUND_HALF_UP is half away from zero


def fmt_num(x, dp: int = 2, *, na: str = "", thousands: bool = False) -> str:
    """Format a number with ``dp`` decimals, half away from zero.

    Parameters
    ----------
    x : float or None
    dp : int
        Decimal places.
    na : str
        Text for a missing value.
    thousands : bool
        Group thousands with commas.

    Returns
    -------
    str
    """
    if is_missing(x):
        return na
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else MINUS + "inf"
    r = round_half_away(x, dp)
    if r == 0:
        r = abs(r)  # no "-0.00"
    s = f"{abs(r):,.{dp}f}" if thousands else f"{abs(r):.{dp}f}"
    return (MINUS + s) if r < 0 else s


def diff_dp(*values, sig: int = DIFF_SIG_DIGITS, bounds: tuple = DIFF_DP_BOUNDS) -> int:
    """Decimal places of a difference row by magnitude: ``sig`` significant digits of the
    largest absolute finite value among ``values`` (estimate and CI limits), within
    ``bounds`` (0 to 2 by default).

    >>> diff_dp(-7.503, -25.71, 10.70), diff_dp(0.0645, -0.006, 0.135), diff_dp(123.4, 236.6)
    (1, 2, 0)
    """
    finite = [abs(float(v)) for v in values
              if not is_missing(v) and math.isfinite(float(v)) and float(v) != 0]
    lo, hi = bounds
    if not finite:
        return hi
    m = float(round_half_away(max(finite), hi))  # 99.96 prints as 100.0: one dp fewer
    if m == 0:
        return hi
    return int(min(max(sig - 1 - math.floor(math.log10(m)), lo), hi))


def fmt_int(n, *, na: str = "", thousands: bool = True) -> str:
    """Format a count (integer), with a thousands separator by default."""
    if is_missing(n):
        return na
    return fmt_num(float(n), 0, thousands=thousands)


def fmt_est(x, dp: int = 2, *, na: str = "") -> str:
    """Format an estimate on its own scale (difference, mean, proportion...)."""
    return fmt_num(x, dp, na=na)


def fmt_ratio(x, dp: int = RATIO_DP, *, na: str = "") -> str:
    """Format a ratio (HR, IRR, OR): 2 decimal places by default."""
    return fmt_num(x, dp, na=na)


def fmt_ci(low, high, dp: int = 2, *, sep: str = " to ", na: str = "",
           na_bound: str | None = None) -> str:
    """Format a confidence interval as ``"low to high"``.

    Parameters
    ----------
    low, high : float
    dp : int
    sep : str
        Separator between the limits.
    na : str
        Text when both limits are missing.
    na_bound : str, optional
        Text for one missing (or infinite) limit, e.g. ``"NR"`` for an upper
        limit of a median that is not reached.  Default: ``na`` for the whole
        interval when either limit is missing.

    Returns
    -------
    str
    """
    lo_m, hi_m = _missing_or_inf(low), _missing_or_inf(high)
    if lo_m and hi_m:
        return na
    if (lo_m or hi_m) and na_bound is None:
        return na
    lo = na_bound if lo_m else fmt_num(low, dp)
    hi = na_bound if hi_m else fmt_num(high, dp)
    return f"{lo}{sep}{hi}"


def fmt_est_ci(est, low, high, dp: int = 2, *, na: str = "", na_bound: str | None = None) -> str:
    """``"est (low to high)"``; the CI part is dropped when it is missing."""
    if is_missing(est):
        return na
    ci = fmt_ci(low, high, dp, na="", na_bound=na_bound)
    e = fmt_num(est, dp)
    return f"{e} ({ci})" if ci else e


def fmt_ratio_ci(est, low, high, dp: int = RATIO_DP, *, na: str = "") -> str:
    """``"0.91 (0.65 to 1.28)"`` for a ratio and its CI."""
    return fmt_est_ci(est, low, high, dp, na=na)


def fmt_p(p, *, na: str = "", dp: int = 3) -> str:
    """Format a p-value: ``"<0.001"`` below 0.001, else 3 dp (never "0.000").

    Parameters
    ----------
    p : float or None
    na : str
        Text for a missing p-value.
    dp : int
        Decimal places for p >= 0.001 (3 by default; must be >= 3).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``p`` is outside [0, 1].
    """
    if is_missing(p):
        return na
    p = float(p)
    if p < -1e-9 or p > 1 + 1e-9:
        raise ValueError(f"p-value outside [0, 1]: {p!r}")
    if dp < 3:
        raise ValueError("p-values need at least 3 decimal places")
    p = min(max(p, 0.0), 1.0)
    if p < P_THRESHOLD:
        return "<" + fmt_num(P_THRESHOLD, 3)
    s = fmt_num(p, dp)
    if float(s) == 0:  # cannot happen for p >= 0.001, kept as a guard
        return "<" + fmt_num(P_THRESHOLD, 3)
    return s


def fmt_p_label(p, *, prefix: str = "p") -> str:
    """``"p = 0.043"`` or ``"p < 0.001"`` for figure annotations."""
    s = fmt_p(p)
    if not s:
        return ""
    if s.startswith("<"):
        return f"{prefix} < {s[1:]}"
    return f"{prefix} = {s}"


def fmt_pct(x, dp: int = 1, *, na: str = "", sign: bool = True) -> str:
    """A proportion (0-1) as a percentage: ``0.1875 -> "18.8%"``."""
    if is_missing(x):
        return na
    return fmt_num(100.0 * float(x), dp) + ("%" if sign else "")


def fmt_n_pct(n, denom, dp: int = 1, *, na: str = "") -> str:
    """``"12 (18.8%)"``; ``"0 (0.0%)"`` for zero; just ``"0"`` when ``denom`` is 0."""
    if is_missing(n):
        return na
    n = int(n)
    if is_missing(denom) or int(denom) == 0:
        return fmt_int(n)
    return f"{fmt_int(n)} ({fmt_num(100.0 * n / int(denom), dp)}%)"


def fmt_mean_sd(mean, sd, dp: int = 1, *, na: str = "") -> str:
    """``"37.9 (48.8)"``; the SD part is dropped when missing (n = 1)."""
    if is_missing(mean):
        return na
    if is_missing(sd):
        return fmt_num(mean, dp)
    return f"{fmt_num(mean, dp)} ({fmt_num(sd, dp)})"


def fmt_median_iqr(median, q1, q3, dp: int = 1, *, na: str = "") -> str:
    """``"30.0 (10.0 to 60.0)"``: median (lower quartile to upper quartile)."""
    if is_missing(median):
        return na
    return f"{fmt_num(median, dp)} ({fmt_ci(q1, q3, dp)})"


def _missing_or_inf(x) -> bool:
    if is_missing(x):
        return True
    try:
        return math.isinf(float(x))
    except (TypeError, ValueError):
        return True


def fmt_median_time(median, low=None, high=None, dp: int = 0, *,
                    not_reached: str = NOT_REACHED, with_flag: bool = False):
    """Median time to event, with CI, or ``"not reached"``.

    Parameters
    ----------
    median, low, high : float
        Median and CI limits; NaN/inf means not reached.
    dp : int
        Decimal places (days: 0).
    not_reached : str
        Text for a median not reached.
    with_flag : bool
        Also return a flag telling whether the median was reached.

    Returns
    -------
    str or (str, bool)
        ``"56 (42 to 84)"``, ``"84 (56 to NR)"``, ``"not reached (112 to NR)"``
        or ``"not reached"``; with ``with_flag`` a tuple ``(text, reached)``.
    """
    reached = not _missing_or_inf(median)
    head = fmt_num(median, dp) if reached else not_reached
    ci = ""
    if low is not None or high is not None:
        ci = fmt_ci(low, high, dp, na="", na_bound=NOT_REACHED_SHORT)
        if _missing_or_inf(low) and _missing_or_inf(high):
            ci = ""
    text = f"{head} ({ci})" if ci else head
    return (text, reached) if with_flag else text


def fmt_conf_level(level) -> str:
    """``0.95 -> "95%"``, ``0.8 -> "80%"``, ``0.975 -> "97.5%"``."""
    v = round_half_away(100.0 * float(level), 6).normalize()
    s = format(v, "f")
    return f"{s}%"
