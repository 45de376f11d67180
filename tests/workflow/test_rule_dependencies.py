"""Exact code dependencies on real runs (issue 9, item 4).

* Every job of the default run logs the library modules its entry script really ran
  (``sys.modules``, by rtw.core.entry.run); each must be a ``lib`` input of that rule
  (the files ``rtw.core.deps`` lists for the rule's script).
* In a temporary clone with a finished run, editing one library module makes ``snakemake -n``
  schedule exactly the rules whose scripts import it (directly or not) and their downstream
  jobs, nothing else; undoing the edit leaves nothing to do.  ``snakemake -n`` shows
  relative paths.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from _pipeline import ROOT, SNAKEMAKE, env, pipeline_run
from rtw.core import deps
from rtw.core.entry import MODULES_LOGGED

pytestmark = pytest.mark.e2e

SCRIPTS = ROOT / "scripts"


def test_every_job_ran_only_modules_listed_as_its_inputs():
    run = pipeline_run("default")
    logs = sorted((run / "results" / "logs").rglob("*.log"))
    seen = 0
    for log in logs:
        for line in log.read_text(encoding="utf-8").splitlines():
            if MODULES_LOGGED not in line:
                continue
            script, used = line.split(MODULES_LOGGED, 1)[1].strip().split(":", 1)
            used = set(used.split())
            listed = deps.script_modules(SCRIPTS / f"{script}.py", SCRIPTS)
            assert used <= listed, (f"{log.name}: {script}.py ran {sorted(used - listed)}, "
                                    f"which its rule does not list as inputs")
            assert "rtw.core.entry" in used
            seen += 1
    assert seen >= 10, f"only {seen} job logs name their modules: {[p.name for p in logs]}"


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A copy of the repository's tracked files with a complete default run in it."""
    dst = tmp_path_factory.mktemp("clone") / "repo"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f)
    _snakemake(dst, "--cores", "2", "--quiet")
    return dst


def _snakemake(wd: Path, *args) -> str:
    r = subprocess.run(SNAKEMAKE + ["--snakefile", str(wd / "Snakefile"), "--directory", str(wd),
                                    *args], cwd=wd, capture_output=True, text=True, timeout=900,
                       env=env(PYTHONPATH=str(wd / "scripts")))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout + r.stderr


def _dry_run_jobs(wd: Path) -> tuple[dict, str]:
    """{rule: [reason, ...]} of the jobs ``snakemake -n`` schedules, and its output."""
    out = _snakemake(wd, "-n")
    jobs: dict = {}
    for block in re.split(r"\n(?=rule \w+:)", out)[1:]:
        rule = re.match(r"rule (\w+):", block).group(1)
        reason = re.search(r"reason: (.*)", block)
        jobs.setdefault(rule, []).append(reason.group(1) if reason else "")
    return jobs, out


# module edited -> rules that must rerun *because of it* (reason names the file), and rules
# that must not run at all
CASES = {
    "scripts/rtw/survival/competing.py": ({"survival"},
                                          {"clean_derive", "regression", "describe_outcomes"}),
    "scripts/rtw/models/binary.py": ({"regression"},
                                     {"clean_derive", "survival", "describe_outcomes"}),
    "scripts/rtw/report/figures.py": ({"survival_figures_first_rtw", "survival_figures_sustained_rtw",
                                       "trial_figures"},
                                      {"clean_derive", "survival", "regression", "combine_estimates",
                                       "presentation_tables", "describe_outcomes"}),
    "scripts/rtw/data/generator.py": ({"simulate_trial"}, set()),
}


@pytest.mark.parametrize("module", sorted(CASES))
def test_editing_one_module_reruns_exactly_the_rules_that_import_it(clone, module):
    expected_direct, never = CASES[module]
    path = clone / module
    original = path.read_bytes()
    jobs0, _ = _dry_run_jobs(clone)
    assert jobs0 == {}, f"the clone's run is not complete: {jobs0}"
    try:
        path.write_bytes(original + b"\n# an edit\n")
        jobs, out = _dry_run_jobs(clone)
    finally:
        path.write_bytes(original)
    direct = {rule for rule, reasons in jobs.items()
              if any("Updated input files" in r and module in r for r in reasons)}
    assert direct == expected_direct, f"{module}: rules rerun because of it {direct}"
    assert not (set(jobs) & never), f"{module}: unrelated rules scheduled {set(jobs) & never}"
    inputs = [ln for ln in out.splitlines() if ln.strip().startswith("input:")]
    assert inputs and not any(str(clone) in ln for ln in inputs), "snakemake -n shows absolute paths"
    jobs_after, _ = _dry_run_jobs(clone)
    assert jobs_after == {}, f"undoing the edit still schedules {jobs_after}"


# config key changed (path, new value) -> rules that must rerun because their params changed,
# and rules that must not run (issue 10: each rule receives only the config slice it reads).
# provenance records the whole config, so it reruns on any change.
_DATA = {"simulate_trial", "clean_derive"}
_FITS = {"survival", "regression", "describe_outcomes", "combine_estimates"}
CONFIG_CASES = {
    "derivation.late_reply_days": (8, {"clean_derive"}, {"simulate_trial"}),
    "survival.ties": ("breslow", {"survival"},
                      _DATA | {"regression", "describe_outcomes"}),
    "regression.nb_ci": ("profile", {"regression"},
                         _DATA | {"survival", "describe_outcomes", "survival_figures_first_rtw"}),
    "tables.digits.ratio": (3, {"presentation_tables", "trial_figures"},
                            _DATA | _FITS | {"survival_figures_first_rtw"}),
    "figures.schoenfeld_model": ("cox_unadjusted",
                                 {"survival_figures_first_rtw", "survival_figures_sustained_rtw"},
                                 _DATA | _FITS | {"presentation_tables", "trial_figures"}),
    "synthetic.sms_reply_rate": (0.7, {"simulate_trial"}, set()),
    "simulation.replicates": (10, set(), _DATA | _FITS | {"presentation_tables", "trial_figures",
                                                          "survival_figures_first_rtw"}),
}


@pytest.mark.parametrize("key", sorted(CONFIG_CASES))
def test_changing_one_config_key_reruns_exactly_the_rules_that_read_it(clone, key):
    import yaml
    value, must, must_not = CONFIG_CASES[key]
    path = clone / "config" / "config.yaml"
    original = path.read_text(encoding="utf-8")
    cfg = yaml.safe_load(original)
    *parents, leaf = key.split(".")
    block = cfg
    for part in parents:
        block = block.setdefault(part, {})
    assert block.get(leaf) != value, f"{key} is already {value!r} in config.yaml"
    block[leaf] = value
    try:
        path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
        jobs, out = _dry_run_jobs(clone)
    finally:
        path.write_text(original, encoding="utf-8")
    for rule in must:
        assert rule in jobs and any("Params have changed" in r for r in jobs[rule]), \
            f"{key}: {rule} not rerun for its params\n{out[-3000:]}"
    assert not (set(jobs) & must_not), f"{key}: {sorted(set(jobs) & must_not)} rerun\n{out[-3000:]}"
    assert set(jobs) <= must | {"all", "provenance"} | _downstream(must), f"{key}: {sorted(jobs)}"
    assert _dry_run_jobs(clone)[0] == {}, "restoring the config leaves nothing to do"


def _downstream(rules: set) -> set:
    """Rules downstream of ``rules`` in the default workflow (for the scope assertion)."""
    after = {"simulate_trial": {"clean_derive"},
             "clean_derive": {"survival", "regression", "describe_outcomes", "presentation_tables",
                              "trial_figures", "combine_estimates", "survival_figures_first_rtw",
                              "survival_figures_sustained_rtw", "recurrent_absence_spells",
                              "multistate_work_status", "data_tables"},
             "recurrent_absence_spells": {"recurrent_figures_absence_spells", "combine_estimates"},
             "multistate_work_status": {"multistate_figures_work_status", "combine_estimates"},
             "survival": {"combine_estimates", "survival_figures_first_rtw",
                          "survival_figures_sustained_rtw", "presentation_tables", "trial_figures"},
             "regression": {"combine_estimates", "presentation_tables", "trial_figures"},
             "combine_estimates": {"presentation_tables", "trial_figures", "longitudinal_table",
                                   "estimands_table"}}
    out, todo = set(), list(rules)
    while todo:
        for nxt in after.get(todo.pop(), set()):
            if nxt not in out:
                out.add(nxt)
                todo.append(nxt)
    return out
