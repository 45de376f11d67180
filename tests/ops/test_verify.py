"""Reviewer verification: checksums, config and packages against provenance.json."""
import hashlib
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from rtw.ops import verify

REPO = Path(__file__).resolve().parents[2]


def _sha(p):
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


@pytest.fixture
def run_dir(tmp_path):
    """A fake finished run: inputs, outputs, config and provenance.json (paths relative)."""
    (tmp_path / "data/raw").mkdir(parents=True)
    (tmp_path / "results/tables").mkdir(parents=True)
    (tmp_path / "config").mkdir()
    (tmp_path / "data/raw/baseline.csv").write_text("participant_id,arm\nP1,usual_care\n")
    (tmp_path / "data/raw/sms.csv").write_bytes(b"participant_id,week\nP1,2\n")
    (tmp_path / "results/tables/estimates.csv").write_text("analysis,estimate\nnb_primary,0.9\n")
    config = {"seed": 1, "trial": {"arms": {"control": "a", "intervention": "b"}},
              "conf_levels": [0.95, 0.8], "timepoints": {"6w": 42}}
    (tmp_path / "config/config.yaml").write_text(yaml.safe_dump(config))
    # the run records the *resolved* config (schema defaults, rtw.core.config.normalise)
    config = verify.load_config(["config/config.yaml"], tmp_path)
    prov = {
        "inputs": {p: _sha(tmp_path / p) for p in ("data/raw/baseline.csv", "data/raw/sms.csv",
                                                   "config/config.yaml")},
        "outputs": {"results/tables/estimates.csv": _sha(tmp_path / "results/tables/estimates.csv")},
        "config": config,
        "packages": {"pandas": metadata.version("pandas"), "numpy": metadata.version("numpy")},
        "python": platform.python_version(),
        "seeds": {"seed": 1},
        "git_commit": "0" * 40,
        "created": "2026-01-01T00:00:00Z",
    }
    (tmp_path / "results/provenance.json").write_text(json.dumps(prov, indent=1))
    return tmp_path


def test_fresh_run_verifies(run_dir):
    assert verify.verify(run_dir / "results/provenance.json", run_dir) == []
    assert verify.verify(run_dir / "results", run_dir) == []          # folder accepted


def test_one_changed_input_byte_is_reported(run_dir):
    p = run_dir / "data/raw/sms.csv"
    b = bytearray(p.read_bytes())
    b[-2] ^= 1
    p.write_bytes(bytes(b))
    diffs = verify.verify(run_dir / "results", run_dir)
    assert len(diffs) == 1
    assert diffs[0].startswith("input: data/raw/sms.csv: sha256 differs")


def test_missing_output_and_changed_output(run_dir):
    (run_dir / "results/tables/estimates.csv").write_text("analysis,estimate\nnb_primary,0.8\n")
    diffs = verify.verify(run_dir / "results", run_dir)
    assert any(d.startswith("output: results/tables/estimates.csv: sha256 differs") for d in diffs)
    (run_dir / "results/tables/estimates.csv").unlink()
    diffs = verify.verify(run_dir / "results", run_dir)
    assert any("estimates.csv: missing" in d for d in diffs)


def test_config_package_python_differences(run_dir):
    prov_p = run_dir / "results/provenance.json"
    prov = json.loads(prov_p.read_text())
    prov["config"]["conf_levels"] = [0.95]
    prov["config"]["extra"] = {"k": 1}
    prov["packages"]["pandas"] = "0.0.1"
    prov["packages"]["surely-not-installed-pkg"] = "1.0"
    prov["packages"]["another-absent-pkg"] = None          # recorded as not installed: fine
    prov["python"] = "2.7.18"
    prov_p.write_text(json.dumps(prov))
    diffs = verify.verify(prov_p, run_dir)
    joined = "\n".join(diffs)
    assert "config: conf_levels: recorded [0.95], now [0.95, 0.8]" in joined
    assert "config: extra: recorded" in joined and "absent now" in joined
    assert f"package: pandas: recorded 0.0.1, installed {metadata.version('pandas')}" in joined
    assert "package: surely-not-installed-pkg: recorded 1.0, not installed" in joined
    assert "python: recorded 2.7.18" in joined
    # the checks can be switched off
    assert verify.verify(prov_p, run_dir, config_files=None, check_packages=False,
                         check_python=False) == []


def test_int_float_equal_config_values(run_dir):
    prov_p = run_dir / "results/provenance.json"
    prov = json.loads(prov_p.read_text())
    prov["config"]["seed"] = 1.0
    prov_p.write_text(json.dumps(prov))
    assert verify.verify(prov_p, run_dir) == []


def test_bad_provenance(tmp_path):
    (tmp_path / "provenance.json").write_text("{not json")
    with pytest.raises(ValueError):
        verify.verify(tmp_path, tmp_path)
    (tmp_path / "provenance.json").write_text("{}")
    with pytest.raises(ValueError, match="inputs"):
        verify.verify(tmp_path, tmp_path)


RTW = Path(sys.executable).with_name("rtw")   # the console command installed by `pip install -e .`


def _cli(args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}   # the installed package
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_cli_module_and_script_forms(run_dir):
    r = _cli(["-m", "rtw", "verify", "results/"], run_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verify: OK: 3 inputs, 1 outputs" in r.stdout
    # the installed console command, without PYTHONPATH
    r = subprocess.run([str(RTW), "verify", "results"],
                       cwd=run_dir, capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert r.returncode == 0, r.stdout + r.stderr
    v = subprocess.run([str(RTW), "--version"], capture_output=True, text=True)
    import rtw
    assert v.returncode == 0 and v.stdout.strip() == f"rtw {rtw.__version__}"
    # one changed input byte -> non-zero exit and the file named
    p = run_dir / "data/raw/baseline.csv"
    p.write_bytes(p.read_bytes().replace(b"P1", b"P2"))
    r = _cli(["-m", "rtw", "verify", "results/"], run_dir)
    assert r.returncode == 1
    assert "DIFFERS input: data/raw/baseline.csv: sha256 differs" in r.stdout
    # missing provenance -> 2
    r = _cli(["-m", "rtw", "verify", "nowhere/"], run_dir)
    assert r.returncode == 2
    r = _cli(["-m", "rtw"], run_dir)
    assert r.returncode == 2 and "usage" in r.stderr


def test_repository_config_resolves_like_the_run():
    """The repo's config resolves (schema defaults + normalise) without error."""
    if not (REPO / "config/config.yaml").is_file():
        pytest.skip("no repository config")
    a = verify.load_config(["config/config.yaml"], REPO)
    b = verify.load_config(["config/config.yaml"], REPO)
    assert a == b and "trial" in a
    assert verify.diff_config(json.loads(json.dumps(a)), json.loads(json.dumps(b))) == []
