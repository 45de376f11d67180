"""Pipeline runs shared by the end-to-end output tests (report, reruns, verify, blinded mode).

Each default run costs 20-40 s, so a run is made once per test session and reused
(:func:`pipeline_run`); tests that change files work on a copy (:func:`copy_run`).
"""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
_RUNS: dict = {}
_TMP = None


def _tmp_root() -> Path:
    global _TMP
    if _TMP is None:
        _TMP = Path(tempfile.mkdtemp(prefix="rtw-e2e-"))
        atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
    return _TMP


def env(**extra) -> dict:
    e = {**os.environ, "MPLBACKEND": "Agg"}
    e.setdefault("PYTHONHASHSEED", "0")
    e.update(extra)
    return e


def snakemake(workdir, *args, check=True, timeout=900, extra_env=None):
    """``snakemake --directory workdir --cores 2 *args`` with this repository's Snakefile."""
    cmd = SNAKEMAKE + ["--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
                       "--cores", "2", "--quiet", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=env(**(extra_env or {})))
    if check and r.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({r.returncode}):\n"
                             f"{r.stdout[-3000:]}\n{r.stderr[-6000:]}")
    return r


def fresh_run(workdir, *args, extra_env=None) -> Path:
    """A cold run of the whole pipeline in ``workdir`` (created)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    snakemake(workdir, *args, extra_env=extra_env)
    return workdir


def pipeline_run(name: str = "default", *args) -> Path:
    """The run ``name`` (extra snakemake ``args``, e.g. ``--config blinded=True``), made once."""
    key = (name, args)
    if key not in _RUNS:
        _RUNS[key] = fresh_run(_tmp_root() / name, *args)
    return _RUNS[key]


def build_report(workdir, *args) -> Path:
    """``snakemake --report results/report.html`` after a run; returns the report's path."""
    out = Path(workdir) / "results" / "report.html"
    if not out.exists():
        snakemake(workdir, *args, "--report", "results/report.html")
    return out


def copy_run(workdir, dest) -> Path:
    """Copy a finished run (results and raw data; not .snakemake) to ``dest``."""
    dest = Path(dest)
    for sub in ("results", "data"):
        if (Path(workdir) / sub).exists():
            shutil.copytree(Path(workdir) / sub, dest / sub)
    return dest


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def checksums(workdir, subdirs) -> dict:
    """``{relative path: sha256}`` of every file under ``workdir/<subdir>`` for each subdir."""
    workdir = Path(workdir)
    out = {}
    for sub in subdirs:
        for p in sorted((workdir / sub).rglob("*")):
            if p.is_file():
                out[p.relative_to(workdir).as_posix()] = sha256(p)
    return out
