"""Blinded mode: seeded relabelling to A/B, and no true label left anywhere."""
import json

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import fixtures_outputs as F  # noqa: E402
from rtw.data import blinding  # noqa: E402
from rtw.report import figures, style, tables  # noqa: E402


def test_blind_labels_seeded_permutation():
    cfg = F.config()
    m = blinding.blind_labels(cfg)
    assert set(m) == {F.CONTROL, F.INTERVENTION}
    assert sorted(m.values()) == ["A", "B"]
    assert blinding.blind_labels(F.config()) == m              # reproducible
    # the permutation depends on the seed: both assignments occur across seeds
    seen = set()
    for seed in range(40):
        c = F.config()
        c["blind_seed"] = seed
        seen.add(blinding.blind_labels(c)[F.CONTROL])
    assert seen == {"A", "B"}
    c = F.config()
    del c["blind_seed"]
    with pytest.raises(KeyError):
        blinding.blind_labels(c)


def test_blind_config_hides_names_colours_and_direction():
    cfg = F.config()
    cfg["subgroups"].append({"name": "x", "label": "Usual care users", "column": "usual_care"})
    b = blinding.blind_config(cfg)
    assert b["trial"]["arms"] == {"control": "A", "intervention": "B"}     # A is the reference
    assert b["trial"]["arm_names"] == {"A": "Arm A", "B": "Arm B"}
    assert list(b["trial"]["arm_colours"]) == ["A", "B"]
    assert b["trial"]["arm_colours"]["A"] == cfg["trial"]["arm_colours"][F.CONTROL]  # by position
    assert b["blinded"] is True
    text = json.dumps(b)
    for s in ("usual_care", "vocational_advice", "Usual care", "Vocational advice"):
        assert s not in text.replace("Usual care users", "")
    assert b["subgroups"][-1]["column"] == blinding.blind_labels(cfg)[F.CONTROL]
    assert cfg["trial"]["arms"]["control"] == F.CONTROL                     # input untouched


def test_blind_frame_maps_and_refuses_unknown():
    cfg = F.config()
    m = blinding.blind_labels(cfg)
    df = F.analysis_df()
    df.loc[0, "arm"] = None
    out = blinding.blind_frame(df, m)
    assert set(out["arm"].dropna()) == {"A", "B"}
    assert out["arm"].isna().sum() == 1
    assert (out.loc[df["arm"] == F.CONTROL, "arm"] == m[F.CONTROL]).all()
    assert df.loc[1, "arm"] == F.CONTROL                                  # copy
    bad = F.consort_df()   # arm "all" is not an arm label
    with pytest.raises(ValueError, match="all"):
        blinding.blind_frame(bad, m)
    ok = blinding.blind_frame(bad, {**m, "all": "all"})
    assert set(ok["arm"]) == {"all", "A", "B"}


def test_blind_text():
    cfg = F.config()
    m = blinding.blind_labels(cfg)
    s = blinding.blind_text("arm=usual_care;t=42 vs Vocational advice", cfg)
    assert s == f"arm={m[F.CONTROL]};t=42 vs Arm {m[F.INTERVENTION]}"


def test_blinded_outputs_leak_no_label(tmp_path):
    """Outputs drawn from blinded data and config contain no true label or name."""
    cfg = F.config()
    m = blinding.blind_labels(cfg)
    bcfg = blinding.blind_config(cfg)
    df = blinding.blind_frame(F.analysis_df(), m)
    cons = blinding.blind_frame(F.consort_df(), {**m, "all": "all"})
    curves, at_risk = F.km_tables()
    curves, at_risk = blinding.blind_frame(curves, m), blinding.blind_frame(at_risk, m)
    est = F.estimates()
    est["term"] = est["term"].map(lambda t: blinding.blind_text(t, cfg, m))
    with style.context():
        style.save_figure(figures.consort_diagram(cons, bcfg)[0], tmp_path / "consort", svg=True)
        style.save_figure(figures.km_plot(curves, at_risk, bcfg, "first_rtw")[0], tmp_path / "km",
                          svg=True)
        style.save_figure(figures.forest_plot(figures.forest_rows_primary(est, bcfg), bcfg,
                                              favours=figures.favours_labels(bcfg, "lower"))[0],
                          tmp_path / "forest", svg=True)
        style.save_figure(figures.days_off_distribution(df, bcfg)[0], tmp_path / "days", svg=True)
    tables.write_table(tables.table1(df, bcfg), tmp_path / "table1")
    tables.write_table(tables.survival_table(est, bcfg), tmp_path / "survival")
    tables.write_table(tables.primary_table(est, df, bcfg), tmp_path / "primary")
    # SVG keeps glyphs as paths; check the text drawn via the svg text fonttype too
    assert blinding.find_label_leaks([tmp_path], cfg) == []
    # and the check itself finds a planted leak
    (tmp_path / "leak.md").write_text("Vocational Advice")
    assert blinding.find_label_leaks([tmp_path], cfg) == [f"{tmp_path / 'leak.md'}: vocational advice"]
    t1 = (tmp_path / "table1.csv").read_text()
    assert "Arm A (n=" in t1 and "Arm B (n=" in t1


def test_blinded_figure_text_has_no_label():
    """Text drawn in figures (not only file bytes) uses blinded names."""
    cfg = F.config()
    m = blinding.blind_labels(cfg)
    bcfg = blinding.blind_config(cfg)
    cons = blinding.blind_frame(F.consort_df(), {**m, "all": "all"})
    fig, drawn = figures.consort_diagram(cons, bcfg)
    texts = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    assert "Allocated to Arm A" in texts and "Allocated to Arm B" in texts
    assert "Usual care" not in texts and "Vocational advice" not in texts
