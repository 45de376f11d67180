"""requirements.txt (pip) and environment.yml (conda) name the same packages and versions."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _norm(name):
    return name.lower().replace("_", "-")


def test_requirements_and_environment_agree():
    req = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line == "-e .":             # the project's own library, not a third-party pin
            continue
        if line:
            name, ver = line.split("==")
            req[_norm(name)] = ver
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
    assert req == conda
    assert all(v.count(".") >= 1 for v in req.values()), "every requirement is pinned to a version"


def test_requirements_install_the_project_library():
    lines = [ln.split("#")[0].strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()]
    assert "-e ." in lines, "requirements.txt installs the rtw package (pyproject.toml) in editable mode"
