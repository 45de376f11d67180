"""requirements.txt (pip) and environment.yml (conda) name the same packages and versions;
requirements-cluster.txt adds only the SLURM executor plugin, on the same snakemake."""
import importlib.metadata
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "snakemake-executor-plugin-slurm"


def _norm(name):
    return name.lower().replace("_", "-")


def _pins(path):
    """``{package: version}`` of a pip requirements file, and its other lines (``-r``, ``-e``)."""
    pins, other = {}, []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        if line.startswith("-"):
            other.append(line)
            continue
        name, ver = line.split("==")
        pins[_norm(name)] = ver
    return pins, other


def _resolved(path):
    """The pins of a requirements file with its ``-r`` includes followed."""
    pins, other = _pins(path)
    for line in other:
        if line.startswith("-r "):
            pins = {**_resolved(path.parent / line[3:].strip()), **pins}
    return pins


def _conda_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):          # a pip: section
            for p in dep.get("pip", []):
                name, ver = p.split("==")
                conda[_norm(name)] = ver
        elif not dep.startswith("python="):
            name, ver = dep.split("==")
            conda[_norm(name)] = ver
    return conda


def test_requirements_and_environment_agree():
    req, _ = _pins(ROOT / "requirements.txt")
    assert req == _conda_pins()
    assert all(v.count(".") >= 1 for v in req.values()), "every requirement is pinned to a version"


def test_requirements_install_the_project_library():
    _, other = _pins(ROOT / "requirements.txt")
    assert "-e ." in other, "requirements.txt installs the rtw package (pyproject.toml) in editable mode"


def test_slurm_plugin_only_in_the_cluster_requirements():
    """Snakemake imports every installed executor plugin on each start (the SLURM plugin
    imports pandas): local users do not install it."""
    req, _ = _pins(ROOT / "requirements.txt")
    assert not any(name.startswith("snakemake-executor-plugin") for name in req)
    assert not any(name.startswith("snakemake-executor-plugin") for name in _conda_pins())
    cluster, other = _pins(ROOT / "requirements-cluster.txt")
    assert other == ["-r requirements.txt"], "requirements-cluster.txt = requirements.txt + the plugin"
    assert set(cluster) == {PLUGIN}
    assert cluster[PLUGIN].count(".") >= 1, "the plugin is pinned to a version"


def test_cluster_requirements_pin_the_same_snakemake_and_everything_else():
    req, _ = _pins(ROOT / "requirements.txt")
    cluster = _resolved(ROOT / "requirements-cluster.txt")
    assert cluster["snakemake"] == req["snakemake"]
    assert {k: v for k, v in cluster.items() if k != PLUGIN} == req


def test_installed_plugin_is_the_pinned_one():
    try:
        installed = importlib.metadata.version(PLUGIN)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{PLUGIN} not installed (requirements.txt only)")
    assert installed == _pins(ROOT / "requirements-cluster.txt")[0][PLUGIN]


def test_environment_yml_says_how_to_add_the_plugin():
    """The conda environment leaves the plugin out; its header names the same pin."""
    cluster, _ = _pins(ROOT / "requirements-cluster.txt")
    header = (ROOT / "environment.yml").read_text()
    assert f"{PLUGIN}=={cluster[PLUGIN]}" in header
    assert "requirements-cluster.txt" in header


def test_cluster_users_are_told_how_to_install():
    cluster, _ = _pins(ROOT / "requirements-cluster.txt")
    for doc in ("README.md", "profiles/slurm/config.yaml"):
        text = (ROOT / doc).read_text()
        assert re.search(r"pip install -r requirements-cluster\.txt", text), doc
    assert f"plugin-slurm {cluster[PLUGIN]}" in (ROOT / "profiles/slurm/config.yaml").read_text()
