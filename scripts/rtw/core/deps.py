"""Which library files a rule's entry script runs: its code dependencies.

A rule lists the library modules its script imports (directly or through other
modules) as inputs, so that editing one module reruns exactly the rules whose
results come from it, and no others.  The imports are read with :mod:`ast`, not
run and not matched by regular expression, so every form counts:

* ``import rtw.survival.km``, ``import rtw.survival.km as km``;
* ``from rtw.survival import km``, ``from rtw.survival import km as k``,
  ``from rtw.survival.km import kaplan_meier``;
* relative imports, ``from . import competing as cmp``, ``from .km import x``,
  ``from ..core import io``;
* imports inside functions (the entry scripts import lazily) and under
  ``if``/``try``;
* the ``__init__.py`` of every package on the way (importing ``rtw.core.io``
  runs ``rtw/__init__.py`` and ``rtw/core/__init__.py`` first).

A name imported *from* a package counts as a submodule when a file of that
name exists (``from rtw.models import runner``), else as an attribute of the
package's ``__init__``.  Imports of other packages (numpy, pandas) are ignored.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import tempfile
from pathlib import Path

PACKAGE = "rtw"


def module_file(lib_root: Path, module: str) -> Path | None:
    """File of dotted ``module`` (``rtw.core.io``) under ``lib_root`` (the folder holding
    ``rtw/``): ``rtw/core/io.py`` or ``rtw/core/__init__.py``; None when there is none."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = Path(lib_root).joinpath(*parts)
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _module_name(lib_root: Path, path: Path) -> tuple[str, bool]:
    """Dotted name of a library file and whether it is a package ``__init__``."""
    rel = Path(path).resolve().relative_to(Path(lib_root).resolve()).with_suffix("")
    parts = list(rel.parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join(parts), is_pkg


def _resolve_from(node: ast.ImportFrom, current: str | None, is_pkg: bool) -> str | None:
    """The absolute module a ``from ... import`` statement names (None if not resolvable)."""
    if not node.level:
        return node.module
    if current is None:  # a relative import outside the library: not ours
        return None
    package = current.split(".") if is_pkg else current.split(".")[:-1]
    up = node.level - 1
    if up > len(package) - 1:
        return None
    base = package[: len(package) - up]
    return ".".join(base + ([node.module] if node.module else []))


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def imported_modules(source: str, lib_root: Path, current: str | None = None,
                     is_pkg: bool = False) -> set[str]:
    """Library modules (dotted, parents included) that ``source`` imports anywhere.

    ``current`` is the dotted name of the module the source belongs to (for
    relative imports); None for a script outside the library.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(node, current, is_pkg)
            if base is None:
                continue
            names = [base]
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if alias.name != "*" and module_file(lib_root, sub) is not None:
                    names.append(sub)
        else:
            continue
        for name in names:
            if name.split(".")[0] == PACKAGE:
                found.update(m for m in _with_parents(name) if module_file(lib_root, m))
    return found


class ImportCache:
    """The imports of each library file, kept on disk between Snakemake runs.

    Parsing the library costs ~0.1 s on every ``snakemake`` call (a no-op too); the
    cache keeps each file's imports under the SHA-256 of its content, so an edited
    file is parsed again and an unchanged one is not.  Written atomically (SLURM jobs
    parse the workflow concurrently); an unreadable cache is ignored.  Without a
    ``path`` it lives in memory only (what a call without a cache uses).
    """

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else None
        self.dirty = False
        self.entries: dict = {}
        if self.path and self.path.is_file():
            try:
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}

    def imports(self, lib_root: Path, path: Path) -> list[str]:
        data = Path(path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        key = str(Path(path).resolve())
        hit = self.entries.get(key)
        if isinstance(hit, list) and len(hit) == 2 and hit[0] == digest:
            return list(hit[1])
        current, is_pkg = _module_name(Path(lib_root), Path(path))
        mods = sorted(imported_modules(data.decode("utf-8"), Path(lib_root), current, is_pkg))
        self.entries[key] = [digest, mods]
        self.dirty = True
        return mods

    def save(self) -> None:
        if not (self.path and self.dirty):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".rtw-deps.")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.entries, fh, sort_keys=True)
            os.replace(tmp, self.path)
            self.dirty = False
        except OSError:
            pass


_IN_MEMORY = ImportCache()


def module_closure(modules, lib_root: Path, cache: ImportCache | None = None) -> set[str]:
    """Every library module reachable by imports from ``modules`` (themselves included)."""
    seen: set[str] = set()
    todo = list(modules)
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        f = module_file(lib_root, m)
        if f is None:
            continue
        seen.add(m)
        todo += (cache if cache is not None else _IN_MEMORY).imports(lib_root, f)
    return seen


def script_modules(script: Path, lib_root: Path, cache: ImportCache | None = None) -> set[str]:
    """Library modules an entry script runs: the closure of its imports."""
    start = imported_modules(Path(script).read_text(encoding="utf-8"), lib_root)
    return module_closure(start, lib_root, cache)


def _display(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path(os.getcwd()).resolve()))
    except ValueError:
        return str(path)


def script_library_files(script: Path, lib_root: Path,
                         cache: ImportCache | None = None) -> list[str]:
    """Sorted files of the library modules an entry script runs (for a rule's ``input``);
    with a ``cache``, each file's imports are read from it when its content is unchanged
    (call ``cache.save()`` once all rules are wired)."""
    files = {module_file(lib_root, m) for m in script_modules(script, lib_root, cache)}
    return sorted(_display(f) for f in files if f is not None)
