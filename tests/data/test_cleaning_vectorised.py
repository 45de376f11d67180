"""The vectorised cleaning paths (registry scale, issue 6) give row-by-row answers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import SCHEMAS, default_config, write_synthetic
from rtw.data.cleaning import Queries, clean_tables, parse_days_off


def test_parse_days_off_maps_each_distinct_value_back_to_its_rows():
    vals = pd.Series(["3", "3 days", None, "none", "not sure", "3", "three", np.nan, "2.5",
                      "3 days", "14"], index=range(10, 21))
    num, interp, bad = parse_days_off(vals, ["none"])
    exp = [3, 3, np.nan, 0, np.nan, 3, 3, np.nan, np.nan, 3, 14]
    assert np.allclose(num.to_numpy(), exp, equal_nan=True)
    assert list(num.index) == list(vals.index)
    assert interp.tolist() == [False, True, False, True, False, False, True, False, False, True, False]
    assert bad.tolist() == [False, False, False, False, True, False, False, False, True, False, False]


def test_queries_accept_per_row_actions_and_keep_a_stable_order():
    q = Queries()
    q.add("sms", [5, 3], ["W1", "W2"], "days_off", ["3 days", None], "free text reply",
          np.array(["interpreted as 3", "x"], dtype=object))
    q.add("baseline", 2, "W1", "age", 1.5, "rule", "kept")
    f = q.frame()
    assert f["table"].tolist() == ["baseline", "sms", "sms"]
    assert f["row"].tolist() == [2, 3, 5]
    assert f["value"].tolist() == ["1.5", "", "3 days"]
    assert f["action"].tolist() == ["kept", "x", "interpreted as 3"]


def test_duplicated_sms_queries_name_the_row_used(tmp_path):
    cfg = default_config()
    write_synthetic(tmp_path, seed=4, n_randomised=300, n_invited=2000, allocation=None,
                    n_primary_missing=3,
                    mess={"sms_duplicated": 0.1, "sms_late": 0.0, "sms_free_text": 0.0,
                          "sms_uninterpretable": 0.0, "score_out_of_range": 0.0,
                          "inconsistent_date": 0.0})
    sms = pd.read_csv(tmp_path / "sms.csv", dtype=str)
    tables, q = clean_tables(tmp_path, cfg, SCHEMAS)
    d = q[q["rule"] == "duplicated SMS for participant and week"]
    assert len(d) > 0
    # one query per extra row of a (participant, week) pair
    extra = sms.duplicated(["participant_id", "week"]).sum()
    assert len(d) == extra
    for r in d.itertuples():
        used = int(r.action.split("duplicate of row ")[1].split(";")[0])
        a, b = sms.iloc[r.row - 2], sms.iloc[used - 2]
        assert (a["participant_id"], a["week"]) == (b["participant_id"], b["week"])
        same = all((a[c] == b[c]) or (pd.isna(a[c]) and pd.isna(b[c])) for c in ("days_off", "at_work"))
        assert r.action.startswith("identical" if same else "conflicting")
    used_flags = tables["sms"]["use"].to_numpy()
    assert (~used_flags).sum() >= len(d)
