"""rtw.report.text: which tables and figures a config calls for, and their titles/footnotes
(the rules only map these keys to files and captions)."""
from helpers import default_config, sap

from rtw.report.text import survival_figure_keys, table_keys, table_texts, trial_figure_keys


def _cfg(**outcomes):
    base = {"conf_levels": [0.95, 0.8], "subgroups": [], "data": {"source": "table"},
            "trial": {"arms": {"control": "c", "intervention": "i"}},
            "outcomes": {"count": None, "continuous": [], "binary": [], "time_to_event": []}}
    base["outcomes"].update(outcomes)
    return sap(base)


def test_default_wave_config_makes_every_table_and_figure():
    cfg = default_config()
    assert table_keys(cfg) == ["table1", "primary", "secondary", "survival"]
    assert trial_figure_keys(cfg) == ["consort", "forest_primary", "forest_subgroups",
                                      "forest_subgroups_tte", "count_distribution"]
    tte = cfg["outcomes"]["time_to_event"][0]
    assert survival_figure_keys(tte) == ["km", "cif", "schoenfeld"]


def test_time_to_event_only_trial():
    cfg = _cfg(time_to_event=[{"name": "death", "time": "t", "event": "e"}])
    assert table_keys(cfg) == ["table1", "survival"]
    assert trial_figure_keys(cfg) == []                       # own table: no CONSORT, no count
    assert survival_figure_keys(cfg["outcomes"]["time_to_event"][0]) == ["km", "schoenfeld"]
    assert set(table_texts(cfg)) == {"table1", "survival"}


def test_count_and_binary_trial_from_raw_exports():
    cfg = _cfg(count={"name": "visits", "label": "GP visits", "value": "visits"},
               binary=[{"name": "cured", "value": "cured"}])
    cfg["data"]["source"] = "raw"
    cfg["subgroups"] = [{"name": "sex", "label": "Sex", "column": "sex"}]
    assert table_keys(cfg) == ["table1", "primary", "secondary"]
    assert trial_figure_keys(cfg) == ["consort", "forest_primary", "forest_subgroups", "count_distribution"]
    texts = table_texts(cfg)
    assert texts["primary"]["title"] == "Primary outcome: GP visits"
    assert texts["primary"]["footnote"].endswith("confidence levels 95%, 80%.")
    assert texts["secondary"]["footnote"].endswith("confidence levels 95%, 80%.")


def test_time_to_event_only_trial_with_subgroups_gets_the_hazard_ratio_forest_plot():
    """Subgroups without a count outcome: the subgroup_cox forest plot, not the NB one."""
    cfg = _cfg(time_to_event=[{"name": "death", "time": "t", "event": "e"}])
    cfg["subgroups"] = [{"name": "sex", "label": "Sex", "column": "sex"}]
    assert trial_figure_keys(cfg) == ["forest_subgroups_tte"]
