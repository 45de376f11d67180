"""Static checks of the SLURM profile and the CI cluster scripts (the real run is
.ci/slurm_test.sh, run by .ci/run; see ../shared/examples/slurm/README.md for the pitfalls)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from helpers import ROOT

PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
CI = ROOT / ".ci"


@pytest.fixture(scope="module")
def profile():
    with open(PROFILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_profile_uses_the_slurm_executor(profile):
    assert profile["executor"] == "slurm"
    assert int(profile["jobs"]) >= 1
    res = profile["default-resources"]
    for key in ("slurm_partition", "runtime", "mem_mb"):
        assert key in res, key
    assert int(res["mem_mb"]) >= 500      # numpy/scipy/pandas jobs need a few hundred MB


def test_profile_polls_with_squeue_and_a_short_first_wait(profile):
    # without slurmdbd, sacct fails and the plugin polls forever
    assert profile["slurm-status-command"] == "squeue"
    assert int(profile["slurm-init-seconds-before-status-checks"]) <= 10


def test_profile_keys_are_known_to_the_installed_plugin(profile):
    """Every key is a snakemake option or a slurm executor setting (a typo would be ignored)."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    from snakemake_executor_plugin_slurm import ExecutorSettings
    plugin = {f.replace("_", "-") for f in ExecutorSettings.__dataclass_fields__}
    general = {"executor", "jobs", "latency-wait", "printshellcmds", "rerun-incomplete",
               "default-resources"}
    for key in profile:
        if key.startswith("slurm-"):
            assert key[len("slurm-"):] in plugin, key
        else:
            assert key in general, key


def test_slurm_conf_fits_the_plugin(profile):
    start = (CI / "slurm_start.sh").read_text()
    assert "ProctrackType=proctrack/linuxproc" in start
    assert "TaskPlugin=task/none" in start
    assert "SelectType=select/cons_tres" in start
    m = re.search(r"MinJobAge=(\d+)", start)
    # the plugin falls back to sacct if MinJobAge < 3 x the initial wait
    assert m and int(m.group(1)) >= 3 * int(profile["slurm-init-seconds-before-status-checks"])
    assert "slurmd -C" in start          # node line from the hardware (else the node drains)


@pytest.mark.parametrize("name", ["slurm_start.sh", "slurm_stop.sh", "slurm_test.sh"])
def test_ci_scripts_are_executable_bash(name):
    path = CI / name
    assert path.exists() and os.access(path, os.X_OK), name
    bash = shutil.which("bash")
    if bash:
        r = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    code = "\n".join(l for l in path.read_text().splitlines() if not l.lstrip().startswith("#"))
    # processes are stopped by their recorded PIDs only
    assert not re.search(r"\b(pkill|killall)\b", code), name


def test_slurm_test_runs_the_profile_with_a_timeout_and_cleans_up():
    text = (CI / "slurm_test.sh").read_text()
    assert "--profile profiles/slurm" in text
    assert "timeout -s INT" in text
    assert re.search(r"trap \w+ EXIT", text)
    assert "slurm_stop.sh" in text and "slurm_start.sh" in text
    assert "cmp" in text and "power.csv" in text


def test_ci_run_calls_the_slurm_test():
    text = (CI / "run").read_text()
    assert ".ci/slurm_test.sh" in text


def test_plugin_is_pinned_for_cluster_users_only():
    cluster = (ROOT / "requirements-cluster.txt").read_text()
    assert re.search(r"^snakemake-executor-plugin-slurm==", cluster, re.M)
    assert re.search(r"^-r requirements\.txt$", cluster, re.M)
    req = (ROOT / "requirements.txt").read_text()
    assert not re.search(r"^snakemake-executor-plugin-slurm", req, re.M)


def test_slurm_test_installs_the_plugin_before_using_the_profile():
    text = "\n".join(l for l in (CI / "slurm_test.sh").read_text().splitlines()
                     if not l.lstrip().startswith("#"))
    install = text.find("requirements-cluster.txt")
    assert install >= 0, "slurm_test.sh installs requirements-cluster.txt"
    assert install < text.find("--profile profiles/slurm")


def test_stop_moves_the_ci_slurm_conf_aside():
    """With slurm-client installed and no controller, a slurm.conf makes the slurm plugin's
    import-time `scontrol show config` wait ~9 s in every snakemake run: the stop script
    moves its own generated slurm.conf aside."""
    stop = (CI / "slurm_stop.sh").read_text()
    start = (CI / "slurm_start.sh").read_text()
    assert "slurm.conf.stopped" in stop
    marker = "single-node CI cluster written by"
    assert marker in stop and marker in start
