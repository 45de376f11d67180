"""A catalogue of config mistakes, each stopped with one clear line (issue 10).

Every case is a variant of config/config.yaml (the WAVE SAP) with one mistake; the
message is what ``rtw.core.config.load`` (schema validation, then the semantic checks)
raises, or for a YAML syntax error what ``rtw.core.validation.read_config`` raises.
The last cases run ``snakemake -n --configfile`` and check what a user sees on stderr.
"""
from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rtw.core.config import ConfigError, load
from rtw.core.validation import load_schema, problems, read_config

ROOT = Path(__file__).resolve().parents[2]
WAVE = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
SOURCE = "config my.yaml"
SNAKEMAKE = [str(Path(sys.executable).with_name("snakemake"))]


def _tte(c, i=0):
    return c["outcomes"]["time_to_event"][i]


def _single_tte(c):
    """The first time-to-event outcome given alone (a mapping, not a list)."""
    c["outcomes"]["time_to_event"] = _tte(c)
    return c["outcomes"]["time_to_event"]


def _rename(block: dict, old: str, new: str) -> None:
    """Rename a key in place, where it stands (as a typo in the file would be)."""
    items = [(new if k == old else k, v) for k, v in block.items()]
    block.clear()
    block.update(items)


MISTAKES = {
    "typo in a top-level key": (
        lambda c: _rename(c, "covariates", "covariats"),
        "unknown key 'covariats' (top level); did you mean 'covariates'?"),
    "typo in an outcome's key": (
        lambda c: _rename(_tte(c), "tau", "tua"),
        "unknown key 'tua' (in outcomes.time_to_event[0]); did you mean 'tau'?"),
    "typo in the key of a single outcome (not a list)": (
        lambda c: _rename(_single_tte(c), "tau", "tua"),
        "unknown key 'tua' (in outcomes.time_to_event); did you mean 'tau'?"),
    "missing required key in an outcome": (
        lambda c: _tte(c, 1).pop("event"),
        "outcomes.time_to_event[1]: 'event' is required (column holding the event indicator)"),
    "wrong type of a number": (
        lambda c: c["trial"].__setitem__("followup_days", "six months"),
        "trial.followup_days: expected a number > 0; got 'six months'"),
    "typo in an enum value": (
        lambda c: c["survival"].__setitem__("ties", "efrom"),
        "survival.ties: expected one of efron, breslow; got 'efrom' (did you mean 'efron'?)"),
    "missing arms": (
        lambda c: c["trial"].pop("arms"),
        "trial: 'arms' is required (the two arm labels as the data hold them)"),
    "missing one arm": (
        lambda c: c["trial"]["arms"].pop("intervention"),
        "trial.arms: 'intervention' is required (label of the intervention arm in the data)"),
    "true/false as an arm label": (
        lambda c: c["trial"]["arms"].__setitem__("control", True),
        "trial.arms.control: expected a non-empty string or an integer; got true"),
    "typo in derivation.days_off": (
        lambda c: _rename(c["derivation"]["days_off"], "cap_days", "cap_day"),
        "unknown key 'cap_day' (in derivation.days_off); did you mean 'cap_days'?"),
    "unknown key in derivation.days_off, nothing near": (
        lambda c: c["derivation"]["days_off"].__setitem__("maximum", 90),
        "unknown key 'maximum' (in derivation.days_off); "
        "valid keys: rule, min_share_answered, cap_days"),
    "wrong type inside a list": (
        lambda c: c.__setitem__("conf_levels", ["95%"]),
        "conf_levels[0]: expected a number > 0 and < 1; got '95%'"),
    "confidence level out of range": (
        lambda c: c.__setitem__("conf_levels", [95]),
        "conf_levels[0]: expected a number > 0 and < 1; got 95"),
    "a number where a list is expected": (
        lambda c: c.__setitem__("conf_levels", 0.95),
        "conf_levels: expected a non-empty list of numbers > 0 and < 1; got 0.95"),
    "time_to_event as a string": (
        lambda c: c["outcomes"].__setitem__("time_to_event", "first_rtw"),
        "outcomes.time_to_event: expected a mapping, a list of mappings or null; got 'first_rtw'"),
    "subgroup without column": (
        lambda c: c["subgroups"][1].pop("column"),
        "subgroups[1]: 'column' is required (column of the analysis table holding the subgroup)"),
    "unknown data.source": (
        lambda c: c["data"].__setitem__("source", "excel"),
        "data.source: expected one of synthetic, raw, table; got 'excel'"),
    "a formula as a covariate": (
        lambda c: c.__setitem__("covariates", ["age + sex"]),
        "covariates[0]: expected a column name (letters, digits, '_' and '.', not starting "
        "with a digit); got 'age + sex'"),
    "count outcome without its column": (
        lambda c: c["outcomes"]["count"].pop("value"),
        "outcomes.count: 'value' is required (column holding the count)"),
    "score range of one number": (
        lambda c: c["derivation"]["score_ranges"].__setitem__("work_ability", [10]),
        "derivation.score_ranges.work_ability: expected a list of 2 numbers; got [10]"),
    "typo in a nullable enum": (
        lambda c: c["regression"]["fallback"].__setitem__("nb_boundary", "poisson"),
        "regression.fallback.nb_boundary: expected one of poisson_robust, null; got 'poisson' "
        "(did you mean 'poisson_robust'?)"),
    "timepoint day as text": (
        lambda c: c["trial"]["timepoints"].__setitem__("6w", "42 days"),
        "trial.timepoints.6w: expected a number; got '42 days'"),
}

def _variant(mutate) -> dict:
    cfg = copy.deepcopy(WAVE)
    mutate(cfg)
    return cfg


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_config_mistake_stops_with_its_one_line_message(mistake):
    mutate, message = MISTAKES[mistake]
    with pytest.raises(ConfigError) as info:
        load(_variant(mutate), source=SOURCE)
    assert str(info.value) == f"{SOURCE}: {message}"
    assert "\n" not in str(info.value)


def test_identical_arm_labels_are_refused():
    cfg = _variant(lambda c: c["trial"]["arms"].__setitem__("intervention", "usual_care"))
    with pytest.raises(ConfigError, match=r"trial\.arms: control and intervention are both "
                                          r"'usual_care'; expected two different arm labels"):
        load(cfg, source=SOURCE)


@pytest.mark.parametrize("arms", [(0, 1), (1, 2), ("UC", "VA")])
def test_arm_labels_as_numbers_or_text_pass_validation(arms):
    def mutate(c):
        c["trial"]["arms"] = {"control": arms[0], "intervention": arms[1]}
        c["trial"]["arm_names"] = {arms[0]: "Usual care", arms[1]: "Vocational advice"}
        c["trial"]["arm_colours"] = {arms[0]: "#1b1b1b", arms[1]: "#8c8c8c"}
    assert problems(_variant(mutate)) == []


def test_several_mistakes_the_first_in_the_config_order_is_raised_and_all_are_listed():
    def mutate(c):
        c["survival"]["ties"] = "efrom"
        _rename(c, "covariates", "covariats")
        _rename(_tte(c), "tau", "tua")
    with pytest.raises(ConfigError) as info:
        load(_variant(mutate), source=SOURCE)
    # covariats is where covariates was, before outcomes and survival in the file
    assert info.value.problems == [
        f"{SOURCE}: unknown key 'covariats' (top level); did you mean 'covariates'?",
        f"{SOURCE}: unknown key 'tua' (in outcomes.time_to_event[0]); did you mean 'tau'?",
        f"{SOURCE}: survival.ties: expected one of efron, breslow; got 'efrom' (did you mean 'efron'?)",
    ]
    assert str(info.value) == info.value.problems[0]


@pytest.mark.parametrize("config", ["config.yaml", "scale.yaml"])
def test_the_bundled_configs_have_no_problem(config):
    assert problems(read_config([ROOT / "config" / config])) == []


def _broken_yaml(tmp_path, how):
    """config.yaml with the ``survival.ties`` line broken; (path, its 1-based line number)."""
    lines = (ROOT / "config" / "config.yaml").read_text(encoding="utf-8").splitlines()
    n = next(i for i, ln in enumerate(lines) if ln.startswith("  ties:"))
    lines[n] = "  ties: [efron" if how == "bracket" else "\tties: efron"
    path = tmp_path / "my.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, n + 1, lines[n + 1]


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path):
    path, line, following = _broken_yaml(tmp_path, "bracket")
    with pytest.raises(ConfigError) as info:
        read_config([path])
    col = following.index(":") + 1
    assert str(info.value) == (f"config {path} line {line + 1}, column {col}: expected ',' or ']', "
                               f"but got ':' (while parsing a flow sequence started at line {line})")


def test_a_tab_in_the_indentation_is_named(tmp_path):
    path, line, _ = _broken_yaml(tmp_path, "tab")
    with pytest.raises(ConfigError) as info:
        read_config([path])
    assert str(info.value) == (f"config {path} line {line}, column 1: found character '\\t' that "
                               "cannot start any token; indent with spaces, not tabs")


def test_a_config_that_is_not_a_mapping_is_named(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- data\n- trial\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"list\.yaml: expected a mapping of keys at the top "
                                          r"level; got \['data', 'trial'\]"):
        read_config([path])


def test_later_config_files_override_earlier_ones_key_by_key(tmp_path):
    (tmp_path / "a.yaml").write_text("survival: {ties: breslow, cif_days: [1]}\nseed: 3\n")
    (tmp_path / "b.yaml").write_text("survival: {ties: efron}\n")
    assert read_config([tmp_path / "a.yaml", tmp_path / "b.yaml"]) == {
        "survival": {"ties": "efron", "cif_days": [1]}, "seed": 3}


def test_rtw_check_config_lists_every_problem_or_says_ok(tmp_path, capsys):
    from rtw.ops.cli import main
    good = ROOT / "config" / "config.yaml"
    assert main(["check-config", str(good)]) == 0
    assert capsys.readouterr().out == f"config {good}: OK\n"
    bad = tmp_path / "bad.yaml"
    cfg = _variant(lambda c: (_rename(c, "covariates", "covariats"),
                              c["survival"].__setitem__("ties", "efrom")))
    bad.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    assert main(["check-config", str(bad)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"config {bad}: unknown key 'covariats' (top level); did you mean 'covariates'?",
        f"config {bad}: survival.ties: expected one of efron, breslow; got 'efrom' (did you mean 'efron'?)"]
    broken, line, _ = _broken_yaml(tmp_path, "tab")
    assert main(["check-config", str(broken)]) == 1
    assert capsys.readouterr().err.startswith(f"config {broken} line {line}, column 1: ")
    assert main(["check-config"]) == 2


def _objects(node, path=""):
    """(path, node) of every object schema in the config schema."""
    if "$ref" in node:
        return
    if "object" in ([node["type"]] if isinstance(node.get("type"), str) else node.get("type", [])):
        yield path, node
    for key, sub in (node.get("properties") or {}).items():
        yield from _objects(sub, f"{path}.{key}".lstrip("."))
    for sub in node.get("oneOf", []):
        yield from _objects(sub, path)
    if isinstance(node.get("items"), dict):
        yield from _objects(node["items"], f"{path}[]")
    for key, sub in (node.get("$defs") or {}).items():
        yield from _objects(sub, f"$defs.{key}")


def test_every_object_of_the_schema_is_closed():
    schema = load_schema()
    open_ = [p or "top level" for p, node in _objects(schema)
             if node.get("additionalProperties") is not False
             and not isinstance(node.get("additionalProperties"), dict)]
    assert open_ == []


def _properties(node, path=""):
    for key, sub in (node.get("properties") or {}).items():
        yield f"{path}.{key}".lstrip("."), sub
        yield from _properties(sub, f"{path}.{key}".lstrip("."))
    for sub in node.get("oneOf", []):
        yield from _properties(sub, path)
    if isinstance(node.get("items"), dict):
        yield from _properties(node["items"], f"{path}[]")
    for key, sub in (node.get("$defs") or {}).items():
        yield from _properties(sub, f"$defs.{key}")


def test_every_key_of_the_schema_says_what_it_means():
    undocumented = [p for p, node in _properties(load_schema()) if not node.get("description")]
    assert undocumented == []


# ------------------------------------------------ what a user of snakemake sees --
def _snakemake(workdir, *args, snakefile=ROOT / "Snakefile"):
    return subprocess.run(SNAKEMAKE + ["-n", "--snakefile", str(snakefile), "--directory",
                                       str(workdir), *args],
                          capture_output=True, text=True, timeout=120)


def _assert_one_clean_line(r, message):
    assert r.returncode != 0
    assert message in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) < 5, r.stderr
    assert "properties" not in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize("mistake", ["typo in a top-level key", "missing required key in an outcome"])
def test_snakemake_dry_run_stops_with_the_one_line(tmp_path, mistake):
    mutate, message = MISTAKES[mistake]
    path = tmp_path / "my.yaml"
    path.write_text(yaml.safe_dump(_variant(mutate), sort_keys=False), encoding="utf-8")
    r = _snakemake(tmp_path, "--configfile", str(path))
    _assert_one_clean_line(r, f"config {path}: {message}")
    assert not (tmp_path / "results").exists()


def test_snakemake_dry_run_names_the_line_of_a_broken_bundled_config(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    for part in ("Snakefile", "workflow", "scripts", "config"):
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, tree / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, tree / part)
    broken, line, _ = _broken_yaml(tmp_path, "bracket")
    shutil.copy(broken, tree / "config" / "config.yaml")
    r = _snakemake(tmp_path, snakefile=tree / "Snakefile")
    _assert_one_clean_line(r, f"config {tree / 'config' / 'config.yaml'} line {line + 1}, column ")
