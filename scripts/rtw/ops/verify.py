"""Reviewer verification: recompute checksums and compare with provenance.

``rtw verify results/`` (the installed command; ``python -m rtw verify results/``
is the same) reads
``results/provenance.json`` and checks, against the files and environment
found now:

* the SHA-256 of every file under ``inputs`` and ``outputs`` (paths
  relative to the working directory, or to ``--root``);
* the config: the current config file(s) (default ``config/config.yaml``),
  resolved as the run resolves it (schema defaults, ``rtw.core.config.normalise``),
  against the resolved ``config`` recorded (key by key);
* the version of every package under ``packages``, and the Python version.

It prints every difference and exits with status 1 when there is any (2 when
the provenance file cannot be read), 0 when everything matches.  ``seeds``,
``git_commit`` and ``created`` are printed for information and not compared
(``--check-git`` compares the commit with ``git rev-parse HEAD``).

Provenance format (written by ``rtw.ops.provenance``)::

    {"inputs": {"<path>": "<sha256>", ...},
     "outputs": {"<path>": "<sha256>", ...},
     "config": {...resolved config...},
     "packages": {"pandas": "2.3.3", ...},
     "python": "3.11.7",
     "seeds": {...}, "git_commit": "...", "created": "<ISO time>"}
"""
from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Mapping, Sequence

PROVENANCE_NAME = "provenance.json"
DEFAULT_CONFIG = "config/config.yaml"


def sha256_file(path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _resolve(path: str, root: Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else root / p


def _check_files(section: str, recorded: Mapping, root: Path, skip: set) -> list:
    diffs = []
    for rel in sorted(recorded):
        if rel in skip:
            continue
        expected = str(recorded[rel]).lower()
        p = _resolve(rel, root)
        if not p.is_file():
            diffs.append(f"{section}: {rel}: missing (expected sha256 {expected})")
            continue
        found = sha256_file(p)
        if found != expected:
            diffs.append(f"{section}: {rel}: sha256 differs (recorded {expected}, found {found})")
    return diffs


def _normalise(obj):
    """JSON round trip: tuples -> lists, non-string keys -> strings, as recorded."""
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def diff_config(recorded, current, path: str = "") -> list:
    """Differences between two configs, one line per differing key path.

    Parameters
    ----------
    recorded, current : object
        JSON-like values (dicts, lists, scalars).
    path : str
        Key path prefix (internal).

    Returns
    -------
    list of str
    """
    where = path or "<root>"
    if isinstance(recorded, dict) and isinstance(current, dict):
        out = []
        for k in sorted(set(recorded) | set(current), key=str):
            sub = f"{path}.{k}" if path else str(k)
            if k not in current:
                out.append(f"config: {sub}: recorded {json.dumps(recorded[k], sort_keys=True)}, "
                           f"absent now")
            elif k not in recorded:
                out.append(f"config: {sub}: not recorded, now {json.dumps(current[k], sort_keys=True)}")
            else:
                out.extend(diff_config(recorded[k], current[k], sub))
        return out
    if isinstance(recorded, (int, float)) and isinstance(current, (int, float)) \
            and not isinstance(recorded, bool) and not isinstance(current, bool):
        if float(recorded) == float(current):
            return []
    if recorded != current:
        return [f"config: {where}: recorded {json.dumps(recorded, sort_keys=True)}, "
                f"now {json.dumps(current, sort_keys=True)}"]
    return []


SCHEMA = "workflow/schemas/config.schema.yaml"


def load_config(paths: Sequence, root: Path, *, resolve: bool = True) -> dict:
    """Load, merge and resolve the current config as the run did.

    The files are read and merged in order as ``snakemake --configfile`` merges them
    (:func:`rtw.core.validation.read_config`: later keys override earlier ones).  With
    ``resolve``, the config is then validated, with every schema default filled in, by
    :func:`rtw.core.validation.validate` against ``workflow/schemas/config.schema.yaml``
    when that schema exists under ``root``, and passed through
    :func:`rtw.core.config.analysis_config`, so that it compares with the resolved config
    recorded in provenance.

    Raises
    ------
    rtw.core.config.ConfigError
        The config cannot be read (file, line) or breaks the schema (key, expected, given).
    """
    from rtw.core.config import analysis_config, config_source
    from rtw.core.validation import read_config, validate

    merged = read_config([_resolve(str(p), root) for p in paths])
    if not resolve:
        return merged
    schema = root / SCHEMA
    if schema.is_file():
        merged = validate(merged, schema_path=str(schema), source=config_source(paths))
    return analysis_config(merged)


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or ``None`` if it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def verify(provenance_path, root=".", *, config_files: Sequence | None = (DEFAULT_CONFIG,),
           check_packages: bool = True, check_python: bool = True,
           check_git: bool = False) -> list:
    """Recompute checksums and compare everything recorded in a provenance file.

    Parameters
    ----------
    provenance_path : path-like
        ``results/provenance.json`` (or the folder holding it).
    root : path-like
        Folder the recorded relative paths are relative to (the working
        directory of the run, normally the repository root).
    config_files : sequence of path-like or None
        Current config file(s) to compare with the recorded ``config``;
        ``None`` or empty skips the config check.  A missing file is a
        difference.
    check_packages, check_python, check_git : bool
        Compare package versions, the Python version, the git commit.

    Returns
    -------
    list of str
        One line per difference; empty when everything matches.

    Raises
    ------
    FileNotFoundError, ValueError
        If the provenance file is missing or is not valid provenance JSON.
    """
    root = Path(root)
    prov_path, prov = _read_provenance(provenance_path)
    skip = _self_entries(prov, prov_path, root)

    diffs = []
    diffs += _check_files("input", prov.get("inputs") or {}, root, skip)
    diffs += _check_files("output", prov.get("outputs") or {}, root, skip)
    if config_files:
        diffs += _check_config(prov, config_files, root)
    if check_packages:
        diffs += _check_packages(prov.get("packages") or {})
    if check_python and prov.get("python"):
        found = platform.python_version()
        if str(prov["python"]) != found:
            diffs.append(f"python: recorded {prov['python']}, running {found}")
    if check_git and prov.get("git_commit"):
        diffs += _check_git(prov["git_commit"], root)
    return diffs


def _read_provenance(provenance_path) -> tuple[Path, dict]:
    """The provenance file's path (``provenance.json`` in a folder) and its content.

    Raises ValueError when it is not JSON or lacks ``inputs``/``outputs``.
    """
    prov_path = Path(provenance_path)
    if prov_path.is_dir():
        prov_path = prov_path / PROVENANCE_NAME
    with open(prov_path, encoding="utf-8") as fh:
        try:
            prov = json.load(fh)
        except json.JSONDecodeError as e:
            raise ValueError(f"{prov_path}: not valid JSON: {e}") from None
    if not isinstance(prov, dict) or "inputs" not in prov or "outputs" not in prov:
        raise ValueError(f"{prov_path}: not a provenance file (needs 'inputs' and 'outputs')")
    return prov_path, prov


def _self_entries(prov: Mapping, prov_path: Path, root: Path) -> set:
    """Recorded paths that are the provenance file itself (it cannot contain its own checksum)."""
    skip = set()
    for rel in list(prov.get("outputs", {})) + list(prov.get("inputs", {})):
        try:
            if _resolve(rel, root).resolve() == prov_path.resolve():
                skip.add(rel)
        except OSError:
            pass
    return skip


def _check_config(prov: Mapping, config_files: Sequence, root: Path) -> list:
    """Differences between the recorded resolved config and the current config file(s)."""
    if "config" not in prov:
        return ["config: not recorded in provenance"]
    missing = [c for c in config_files if not _resolve(str(c), root).is_file()]
    if missing:
        return [f"config: file {c} missing" for c in missing]
    try:
        current = _normalise(load_config(config_files, root))
    except Exception as e:  # invalid config now: that is a difference
        return [f"config: current config cannot be loaded: {type(e).__name__}: {e}"]
    return diff_config(_normalise(prov["config"]), current)


def _check_packages(packages: Mapping) -> list:
    """Differences between recorded package versions (None: not installed) and installed ones."""
    diffs = []
    for name in sorted(packages):
        rec_raw = packages[name]
        found = package_version(name)
        if rec_raw is None:
            if found is not None:
                diffs.append(f"package: {name}: recorded not installed, installed {found}")
            continue
        recorded = str(rec_raw)
        if found is None:
            diffs.append(f"package: {name}: recorded {recorded}, not installed")
        elif found != recorded:
            diffs.append(f"package: {name}: recorded {recorded}, installed {found}")
    return diffs


def _check_git(commit: str, root: Path) -> list:
    """A difference when ``git rev-parse HEAD`` in ``root`` is not the recorded commit."""
    import subprocess
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head = None
    if head != commit:
        return [f"git: recorded commit {commit}, checkout {head}"]
    return []


def main(argv: Sequence | None = None) -> int:
    """Command line: ``verify [results/] [--root .] [--config FILE ...]``."""
    ap = argparse.ArgumentParser(
        prog="rtw verify",
        description="Recompute SHA-256 checksums of the inputs and outputs recorded in "
                    "provenance.json and compare them, the config and the package versions.")
    ap.add_argument("results", nargs="?", default="results",
                    help="results folder holding provenance.json, or the provenance file")
    ap.add_argument("--root", default=".", help="folder recorded paths are relative to")
    ap.add_argument("--config", action="append", dest="config_files", metavar="FILE",
                    help=f"current config file(s) to compare (default {DEFAULT_CONFIG})")
    ap.add_argument("--no-config", action="store_true", help="skip the config comparison")
    ap.add_argument("--no-packages", action="store_true", help="skip package versions")
    ap.add_argument("--no-python", action="store_true", help="skip the Python version")
    ap.add_argument("--check-git", action="store_true", help="compare the git commit too")
    args = ap.parse_args(argv)

    config_files = None if args.no_config else (args.config_files or [DEFAULT_CONFIG])
    try:
        diffs = verify(args.results, args.root, config_files=config_files,
                       check_packages=not args.no_packages, check_python=not args.no_python,
                       check_git=args.check_git)
    except (OSError, ValueError) as e:
        print(f"verify: cannot read provenance: {e}", file=sys.stderr)
        return 2
    prov_path = Path(args.results)
    if prov_path.is_dir():
        prov_path = prov_path / PROVENANCE_NAME
    prov = json.loads(prov_path.read_text(encoding="utf-8"))
    n_in, n_out = len(prov.get("inputs") or {}), len(prov.get("outputs") or {})
    for key in ("git_commit", "created"):
        if prov.get(key):
            print(f"{key}: {prov[key]}")
    if prov.get("seeds"):
        print("seeds: " + json.dumps(prov["seeds"], sort_keys=True))
    if diffs:
        for d in diffs:
            print("DIFFERS " + d)
        print(f"verify: {len(diffs)} difference(s) against {prov_path}")
        return 1
    print(f"verify: OK: {n_in} inputs, {n_out} outputs, "
          f"{'config, ' if config_files else ''}{len(prov.get('packages') or {})} packages "
          f"match {prov_path}")
    return 0
