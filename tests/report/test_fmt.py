"""Rounding and formatting rules of rtw.report.fmt (one rule for every table and figure)."""

import numpy as np
import pandas as pd
import pytest

from rtw.core.validation import block_defaults, with_defaults
from rtw.report import fmt


@pytest.mark.parametrize("x, dp, expected", [
    (2.5, 0, "3"), (-2.5, 0, "\u22123"), (0.5, 0, "1"), (1.5, 0, "2"), (3.5, 0, "4"),
    (0.125, 2, "0.13"), (-0.125, 2, "\u22120.13"), (0.375, 2, "0.38"),
    (2.675, 2, "2.68"),     # binary double is 2.67499999..., rounded as printed
    (1.005, 2, "1.01"), (0.0005, 3, "0.001"), (12.25, 1, "12.3"), (12.35, 1, "12.4"),
    (0.9125, 3, "0.913"), (1.2755, 3, "1.276"),
    (1.0, 2, "1.00"), (0, 2, "0.00"), (123456.0, 0, "123456"),
])
def test_round_half_away_from_zero(x, dp, expected):
    assert fmt.fmt_num(x, dp) == expected


def test_not_bankers_rounding():
    # Python's round() is banker's rounding; ours is not
    assert round(2.5) == 2 and fmt.fmt_num(2.5, 0) == "3"
    assert round(0.125, 2) == 0.12 and fmt.fmt_num(0.125, 2) == "0.13"
    assert f"{np.float64(4.5):.0f}" == "4" and fmt.fmt_num(np.float64(4.5), 0) == "5"


def test_no_negative_zero():
    assert fmt.fmt_num(-0.001, 2) == "0.00"
    assert fmt.fmt_num(-0.0049, 2) == "0.00"
    assert fmt.fmt_num(-0.005, 2) == "\u22120.01"
    assert fmt.fmt_num(-0.0, 1) == "0.0"


def test_missing_and_infinite():
    for v in (None, np.nan, float("nan"), pd.NA, ""):
        assert fmt.fmt_num(v, 2) == ""
        assert fmt.fmt_num(v, 2, na="-") == "-"
    assert fmt.fmt_num(np.inf, 2) == "inf"


def test_thousands_and_counts():
    assert fmt.fmt_int(7955) == "7,955"
    assert fmt.fmt_int(7955, thousands=False) == "7955"
    assert fmt.fmt_int(np.int64(130)) == "130"
    assert fmt.fmt_num(1234567.891, 1, thousands=True) == "1,234,567.9"


@pytest.mark.parametrize("p, expected", [
    (0.0, "<0.001"), (1e-12, "<0.001"), (0.0005, "<0.001"), (0.000999999, "<0.001"),
    (0.001, "0.001"), (0.0014999, "0.001"), (0.0015, "0.002"), (0.0449, "0.045"),
    (0.04951, "0.050"), (0.0495, "0.050"), (0.05, "0.050"), (0.0999, "0.100"),
    (0.1, "0.100"), (0.2345, "0.235"), (0.724, "0.724"), (0.9995, "1.000"), (1.0, "1.000"),
])
def test_fmt_p_rule(p, expected):
    assert fmt.fmt_p(p) == expected


def test_fmt_p_never_zero_and_validates():
    for p in np.linspace(0, 0.002, 201):
        assert fmt.fmt_p(p) != "0.000"
    assert fmt.fmt_p(None) == "" and fmt.fmt_p(np.nan, na="NA") == "NA"
    with pytest.raises(ValueError):
        fmt.fmt_p(1.5)
    with pytest.raises(ValueError):
        fmt.fmt_p(-0.1)
    assert fmt.fmt_p(1 + 1e-12) == "1.000"  # numerical noise tolerated
    assert fmt.fmt_p_label(0.0004) == "p < 0.001"
    assert fmt.fmt_p_label(0.0431) == "p = 0.043"


def test_estimates_ratios_and_cis():
    assert fmt.fmt_est(37.857, 2) == "37.86"
    assert fmt.fmt_ratio(0.9125) == "0.91"
    assert fmt.fmt_ratio(0.915) == "0.92"
    assert fmt.fmt_ci(0.653, 1.2755) == "0.65 to 1.28"
    assert fmt.fmt_ci(-1.25, 2.5, 1) == "\u22121.3 to 2.5"
    assert fmt.fmt_ratio_ci(0.913, 0.653, 1.276) == "0.91 (0.65 to 1.28)"
    assert fmt.fmt_est_ci(1.0, np.nan, np.nan) == "1.00"
    assert fmt.fmt_ci(np.nan, np.nan) == ""
    assert fmt.fmt_ci(1.0, np.nan) == ""
    assert fmt.fmt_ci(1.0, np.nan, na_bound="NR") == "1.00 to NR"


def test_descriptive_formats():
    assert fmt.fmt_mean_sd(37.86, 48.76) == "37.9 (48.8)"
    assert fmt.fmt_mean_sd(42.66, 57.67) == "42.7 (57.7)"
    assert fmt.fmt_mean_sd(5.0, None) == "5.0"
    assert fmt.fmt_median_iqr(30, 10.25, 60.75, 1) == "30.0 (10.3 to 60.8)"
    assert fmt.fmt_n_pct(12, 64) == "12 (18.8%)"
    assert fmt.fmt_n_pct(1, 8) == "1 (12.5%)"      # .5 edge: 12.5 stays
    assert fmt.fmt_n_pct(1, 16) == "1 (6.3%)"      # 6.25 -> 6.3 (half away)
    assert fmt.fmt_n_pct(0, 10) == "0 (0.0%)"
    assert fmt.fmt_n_pct(0, 0) == "0"
    assert fmt.fmt_pct(0.1875) == "18.8%"


def test_median_not_reached_with_flag():
    assert fmt.fmt_median_time(56, 42, 84) == "56 (42 to 84)"
    assert fmt.fmt_median_time(84, 56, np.nan) == "84 (56 to NR)"
    assert fmt.fmt_median_time(np.nan, 112, np.nan) == "not reached (112 to NR)"
    assert fmt.fmt_median_time(np.nan) == "not reached"
    assert fmt.fmt_median_time(np.inf, np.nan, np.nan) == "not reached"
    assert fmt.fmt_median_time(np.nan, with_flag=True) == ("not reached", False)
    assert fmt.fmt_median_time(70.5, 60, 80, with_flag=True) == ("71 (60 to 80)", True)


def test_conf_level_and_digits_from_config():
    assert fmt.fmt_conf_level(0.95) == "95%"
    assert fmt.fmt_conf_level(0.8) == "80%"
    assert fmt.fmt_conf_level(0.975) == "97.5%"
    d = fmt.digits({"tables": with_defaults("tables", {"digits": {"ratio": 3}})})
    assert d["ratio"] == 3 and d["mean"] == 1
    assert fmt.digits(None) == block_defaults("tables.digits")


def test_negative_numbers_carry_the_unicode_minus_sign():
    """Issue 11 item 4: U+2212, never the ASCII hyphen-minus, in every formatted number."""
    assert fmt.MINUS == "\u2212"
    for s in (fmt.fmt_num(-1.5, 1), fmt.fmt_est_ci(-0.5, -1.25, 0.25, 2), fmt.fmt_num(-1e9, 0, thousands=True),
              fmt.fmt_num(-np.inf), fmt.fmt_mean_sd(-2.0, 1.0), fmt.fmt_pct(-0.1)):
        assert "-" not in s and "\u2212" in s, s
    assert fmt.fmt_est_ci(-0.5, -1.25, 0.25, 2) == "\u22120.50 (\u22121.25 to 0.25)"
    assert fmt.fmt_num(-1234.5, 1, thousands=True) == "\u22121,234.5"
    assert fmt.fmt_num(-0.004, 2) == "0.00"      # rounds to zero: no sign at all


@pytest.mark.parametrize("values, dp", [
    ((-7.503, -25.71, 10.70), 1),     # largest 25.7: 3 significant digits -> 1 dp
    ((0.37, -28.4, 29.14), 1),        # a small estimate with a wide CI: the CI sets it
    ((0.0645, -0.006, 0.135), 2),     # never more than 2 dp
    ((123.4, 10.2, 236.6), 0),        # never fewer than 0 dp
    ((5.0, 1.0, 9.99), 2),
    ((5.0, 1.0, 9.996), 1),           # 9.996 prints as 10.00: one dp fewer
    ((float("nan"), None), 2),        # nothing to measure: the upper bound
])
def test_difference_precision_rule_by_magnitude(values, dp):
    assert fmt.diff_dp(*values) == dp
