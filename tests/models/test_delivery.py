"""Delivery descriptives (rtw.models.delivery) against R mean/sd/median/min/max.  rel 1e-12."""
import pandas as pd
import pytest

from rtw.models.delivery import delivery_table
from _regression_ref import CONFIG, REF, data


def test_delivery_matches_R_summaries():
    """R: for each arm and column: c(mean(x), sd(x), median(x), min(x), max(x))."""
    d = data("trial_small.csv")
    out = delivery_table(d, CONFIG)
    for arm in ("usual_care", "vocational_advice"):
        for col in ("n_contacts", "contact_minutes"):
            exp = pd.read_csv(REF / "expected" / "delivery.csv")
            exp = exp[exp["term"] == f"{arm}:{col}"].set_index("quantity")["value"]
            for stat in ("mean", "sd", "median", "min", "max"):
                row = out[(out["outcome"] == col) & (out["term"] == f"arm={arm};stat={stat}")
                          & (out["population"] == "itt")]
                assert len(row) == 1
                assert row["estimate"].iloc[0] == pytest.approx(float(exp[stat]), rel=1e-12, abs=1e-12)
    eng = out[(out["outcome"] == "engaged")].set_index("term")
    vi = d[d["arm"] == "vocational_advice"]
    assert eng.loc["arm=vocational_advice;stat=proportion", "estimate"] == pytest.approx(vi["engaged"].mean())
    assert eng.loc["arm=vocational_advice;stat=proportion", "events"] == vi["engaged"].sum()
    assert eng.loc["arm=usual_care;stat=proportion", "estimate"] == 0
    pp = out[(out["population"] == "pp") & (out["outcome"] == "n_contacts")].set_index("term")
    got = vi.loc[vi["n_contacts"] > 0, "n_contacts"]
    assert pp.loc["arm=vocational_advice;stat=min", "estimate"] == got.min() >= 1
    assert pp.loc["arm=vocational_advice;stat=mean", "estimate"] == pytest.approx(got.mean())
    assert "arm=usual_care;stat=mean" not in pp.index


def test_delivery_without_columns_returns_only_what_exists():
    d = data("trial_small.csv")[["participant_id", "arm", "n_contacts"]]
    out = delivery_table(d, CONFIG)
    assert set(out["outcome"]) == {"n_contacts"}
    assert len(out) == 15   # 5 stats x 2 arms (itt) + 5 stats (pp, intervention)
