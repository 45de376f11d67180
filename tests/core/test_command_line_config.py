"""`snakemake --config KEY=VALUE` overrides are typed as in a config file (rtw.core.validation)."""
from rtw.core.validation import typed_command_line


def test_nested_command_line_values_are_typed_as_yaml_types_them():
    config = {"seed": 5, "simulation": {"replicates": "20", "cox": "true", "alpha": 0.05,
                                        "true_irr": ["1.0", "0.7"]},
              "trial": {"name": "WAVE"}}
    overrides = {"seed": 5, "simulation": {"replicates": "20", "cox": "true",
                                           "true_irr": ["1.0", "0.7"]}}
    typed = typed_command_line(config, overrides)
    assert typed["simulation"] == {"replicates": 20, "cox": True, "alpha": 0.05,
                                   "true_irr": [1.0, 0.7]}
    assert typed["seed"] == 5 and typed["trial"] == {"name": "WAVE"}
    assert config["simulation"]["replicates"] == "20"          # the input is not changed


def test_values_from_config_files_are_left_alone():
    config = {"trial": {"timepoints": {"6w": 42}, "name": "20"}}
    assert typed_command_line(config, {}) == config
