"""Provenance of a run (SPEC §5): what went in, what came out, with what.

``results/provenance.json``::

    {"inputs": {path: sha256}, "outputs": {path: sha256}, "config": {...},
     "packages": {name: version}, "python": "3.11.7", "platform": "...",
     "seeds": {...}, "git_commit": "...", "git_dirty": bool, "created": "ISO time"}

Paths are relative to the working directory.  ``created`` is the only field that
changes between identical runs; the reviewer's ``verify`` command checks the rest.
"""
from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

PACKAGES = ("snakemake", "pandas", "numpy", "scipy", "statsmodels", "lifelines", "matplotlib",
            "pyarrow", "openpyxl", "pyreadstat", "python-docx", "jsonschema", "PyYAML")


def sha256(path, chunk=1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def package_versions(names=PACKAGES) -> dict:
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = None
    return out


def git_commit(repo_dir) -> tuple[str | None, bool | None]:
    try:
        c = subprocess.run(["git", "-C", str(repo_dir), "rev-parse", "HEAD"], capture_output=True,
                           text=True, timeout=10)
        if c.returncode != 0:
            return None, None
        d = subprocess.run(["git", "-C", str(repo_dir), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=10)
        return c.stdout.strip(), bool(d.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


def _files(paths) -> list[str]:
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out += [str(f) for f in sorted(p.rglob("*")) if f.is_file()]
        elif p.exists():
            out.append(str(p))
    return sorted(set(out))


def build(inputs, outputs, config: dict, repo_dir, seeds: dict | None = None) -> dict:
    """Assemble the provenance record (checksums of every input and output file)."""
    commit, dirty = git_commit(repo_dir)
    return {
        "inputs": {f: sha256(f) for f in _files(inputs)},
        "outputs": {f: sha256(f) for f in _files(outputs)},
        "config": config,
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "seeds": seeds or {},
        "git_commit": commit,
        "git_dirty": dirty,
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }


def write(record: dict, path) -> None:
    from rtw.core.io import atomic_write_text
    atomic_write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n", path)
